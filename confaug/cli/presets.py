"""``confaug presets``: the shipped presets with their one-line descriptions; ``show NAME``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from confaug.cli.common import add_command
from confaug.errors import DataError, did_you_mean

MODELINE_PREFIX = "# yaml-language-server:"


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
    """The file of preset ``name`` (``preset:`` prefix allowed); ``DataError`` when there is none."""
    name = name.removeprefix("preset:")
    known = presets()
    if name not in known:
        hint = did_you_mean(name, known)
        raise DataError(
            f"no preset named '{name}'" + (f" ({hint})" if hint else "; see 'confaug presets'")
        )
    return known[name]


def run(args: argparse.Namespace) -> int:
    """List the presets, or print one preset's YAML (``show``) or file (``path``)."""
    if args.action == "show":
        print(_find(args.name).read_text(encoding="utf-8"), end="")
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
        "confaug preview preset:aerial --sample aerial",
        run=run,
    )
    actions = parser.add_subparsers(dest="action", metavar="{list,show,path}")
    actions.add_parser("list", help="names and one-line descriptions (the default)")
    show = actions.add_parser("show", help="print a preset's YAML, comments included")
    show.add_argument("name", metavar="NAME")
    path = actions.add_parser("path", help="print the file of a preset")
    path.add_argument("name", metavar="NAME")
