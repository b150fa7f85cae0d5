"""``confaug presets``: the shipped presets with their one-line descriptions; ``show NAME``.

A shipped preset's first line points editors at the schema inside the confaug repository
(``../schemas/confaug.schema.json``); ``show`` rewrites it to a path that makes sense in the
user's project, by default ``confaug.schema.json`` next to the config.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from confaug.cli.common import Formatter, UsageError, add_command
from confaug.errors import did_you_mean
from confaug.resources import SCHEMA_FILE, schema_modeline

MODELINE_PREFIX = "# yaml-language-server:"
DEFAULT_SCHEMA = SCHEMA_FILE


def header_lines(path: Path) -> list[str]:
    """The text of the comment block at the top of a preset, modeline left out."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("#"):
            break
        if raw.startswith(MODELINE_PREFIX):
            continue
        lines.append(raw[1:].strip())
    return lines


def description(path: Path) -> str:
    """The preset's one-line description: the first non-empty line of its header comment."""
    return next((line for line in header_lines(path) if line), "")


def presets() -> dict[str, Path]:
    """Every shipped preset by name."""
    from confaug.resources import preset_names, preset_path

    found = {}
    for name in preset_names():
        path = preset_path(name)
        if path is not None:
            found[name] = path
    return found


def _find(name: str) -> Path:
    """The file of preset ``name`` (``preset:`` prefix allowed); a ``UsageError`` (exit code
    2) if there is none: NAME is picked from the list 'confaug presets' prints, as argparse
    refuses a value outside its choices (``--sample nope``), not input that is invalid."""
    name = name.removeprefix("preset:")
    known = presets()
    if name not in known:
        hint = did_you_mean(name, known)
        raise UsageError(
            f"no preset named '{name}'" + (f" ({hint})" if hint else "; see 'confaug presets'")
        )
    return known[name]


def modeline(schema: str) -> str:
    """The first line that points the YAML language server at ``schema``."""
    return schema_modeline(schema)


def with_modeline(text: str, schema: str | None) -> str:
    """``text`` with its leading modeline replaced by one for ``schema`` (dropped when None)."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith(MODELINE_PREFIX):
        lines.pop(0)
    if schema is not None:
        lines.insert(0, modeline(schema) + "\n")
    return "".join(lines)


def schema_location(text: str) -> str:
    """argparse type of ``--schema``: one modeline word (editors stop reading at a space)."""
    if not text or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(
            f"must be a path or URL without spaces (the modeline ends at one), got {text!r}"
        )
    return text


def run(args: argparse.Namespace) -> int:
    """List the presets, or print one preset's YAML (``show``) or file (``path``)."""
    if args.action == "show":
        text = _find(args.name).read_text(encoding="utf-8")
        print(with_modeline(text, args.schema), end="")
    elif args.action == "path":
        print(_find(args.name))
    else:
        known = presets()
        width = max((len(name) for name in known), default=0)
        for name, path in known.items():
            print(f"{name:<{width}}  {description(path)}")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``presets`` command with ``list`` (default), ``show NAME`` and ``path NAME``."""
    parser = add_command(
        subparsers,
        "presets",
        help="list the shipped presets; 'presets show NAME' prints one",
        description="The presets shipped with confaug, each usable as preset:NAME wherever a "
        "config is read, and as 'extends: preset:NAME' in your own configs.",
        example="confaug presets\n"
        "confaug presets show segmentation > aug.yaml\n"
        f"confaug schema -o {DEFAULT_SCHEMA}   # the schema aug.yaml's first line points at\n"
        "confaug preview preset:aerial --sample aerial",
        run=run,
    )
    actions = parser.add_subparsers(dest="action", metavar="{list,show,path}")
    actions.add_parser("list", help="names and one-line descriptions (the default)")
    show = actions.add_parser(
        "show",
        help="print a preset's YAML, comments included, to start a config from",
        description="Print a preset's YAML, comments included. Its first line, "
        f"'{modeline(DEFAULT_SCHEMA)}', points editors with the YAML language server at the "
        "JSON Schema for completion and checking as you type. Editors read that path relative "
        "to the config file, so write the schema next to it with "
        f"'confaug schema -o {DEFAULT_SCHEMA}', or choose another path with --schema.",
        epilog="example:\n"
        "  confaug presets show segmentation > aug.yaml\n"
        f"  confaug schema -o {DEFAULT_SCHEMA}\n"
        "  confaug presets show aerial --schema ../schemas/confaug.schema.json > configs/aug.yaml\n"
        "  confaug schema -o schemas/confaug.schema.json",
        formatter_class=Formatter,
    )
    show.add_argument("name", metavar="NAME", help="a preset, as listed by 'confaug presets'")
    schema = show.add_mutually_exclusive_group()
    schema.add_argument(
        "--schema",
        type=schema_location,
        default=DEFAULT_SCHEMA,
        metavar="PATH",
        help="the schema the first line points at, relative to the config file (or a URL); "
        f"default: {DEFAULT_SCHEMA}",
    )
    schema.add_argument(
        "--no-modeline",
        dest="schema",
        action="store_const",
        const=None,
        help="leave the schema line out",
    )
    path = actions.add_parser("path", help="print the file of a preset")
    path.add_argument("name", metavar="NAME", help="a preset, as listed by 'confaug presets'")
