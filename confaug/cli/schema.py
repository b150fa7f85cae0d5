"""``confaug schema``: the JSON Schema of configs, for editors and CI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from confaug.cli.common import add_command, add_output_option, refuse_dash, write_output
from confaug.cli.presets import DEFAULT_SCHEMA

#: ``--check`` reads at most this many times the current schema's size: any confaug schema,
#: old or new, is well within it, and a large file given by mistake is not read whole.
CHECK_SIZE_FACTOR = 4


def check(path: Path, text: str) -> int:
    """``--check PATH``: 0 when PATH holds ``text``; else 1 and a line saying what to do. A
    file that is not a confaug schema (a config given by mistake) is never offered for
    overwriting."""
    from confaug.sources.file_bytes import read_data_file

    if not path.exists():
        print(f"{path}: missing; write it with: confaug schema -o {path}")
        return 1
    expected = text.encode("utf-8")
    limit = CHECK_SIZE_FACTOR * len(expected)
    size = path.stat().st_size
    if path.is_file() and size > limit:  # told from its size: not read at all
        print(
            f"{path}: not confaug's JSON Schema ({size:,} bytes; a schema is about "
            f"{len(expected):,}); check the path, e.g. {DEFAULT_SCHEMA}"
        )
        return 1
    # Regular files only, and at most the limit, as the sources read a data file.
    current = read_data_file(path, max_bytes=limit, option="--check's limit")
    if current == expected:
        print(f"{path}: up to date")
        return 0
    if not _is_schema(current):
        print(
            f"{path}: not confaug's JSON Schema (is it a config?); check the path, e.g. "
            f"{DEFAULT_SCHEMA}"
        )
        return 1
    print(f"{path}: stale; regenerate with: confaug schema -o {path}")
    return 1


def _is_schema(data: bytes) -> bool:
    """Whether ``data`` is a JSON Schema written by ``confaug schema`` (any version)."""
    from confaug.spec.schema import SCHEMA_ID

    try:
        found = json.loads(data)
    except ValueError:  # also not UTF-8
        return False
    return isinstance(found, dict) and found.get("$id") == SCHEMA_ID


def run(args: argparse.Namespace) -> int:
    """Print, write or check the schema."""
    from confaug.spec.schema import schema_text

    text = schema_text()
    if args.check:
        # Not stdin: a schema is checked where editors read it, a file (see common.STDIO).
        refuse_dash(
            args.check, "--check", instead="stdin is not read; name the schema file to compare"
        )
        return check(Path(args.check), text)
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
