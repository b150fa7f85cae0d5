"""``confaug schema``: the JSON Schema of configs, for editors and CI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from confaug.cli.common import add_command, add_output_option, write_output
from confaug.cli.presets import DEFAULT_SCHEMA


def run(args: argparse.Namespace) -> int:
    """Print, write or check the schema."""
    from confaug.spec.schema import schema_text

    text = schema_text()
    if args.check:
        path = Path(args.check)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            print(f"{path}: stale or missing; regenerate with: confaug schema -o {path}")
            return 1
        print(f"{path}: up to date")
        return 0
    write_output(text, args.output)
    return 0


def register(subparsers: Any) -> None:
    """Add the ``schema`` command."""
    parser = add_command(
        subparsers,
        "schema",
        help="print or write the JSON Schema of configs",
        description="The JSON Schema of confaug configs, every albumentations transform and its "
        "parameters included, each with albumentations' description and default. Point an "
        "editor at it with a first line '# yaml-language-server: $schema=PATH' for completion, "
        "hover and checking as you type (rules across fields, such as low <= high, are left "
        "to 'confaug validate'); PATH "
        "is relative to the config file. A config from 'confaug presets show' points at "
        f"{DEFAULT_SCHEMA} next to it.",
        example=f"confaug schema -o {DEFAULT_SCHEMA}   # next to aug.yaml from 'presets show'\n"
        "confaug schema -o schemas/confaug.schema.json\n"
        "confaug schema --check schemas/confaug.schema.json   # in CI",
        run=run,
    )
    target = parser.add_mutually_exclusive_group()
    add_output_option(target)
    target.add_argument(
        "--check", metavar="PATH", help="exit 1 when PATH differs from the current schema"
    )
