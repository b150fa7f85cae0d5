"""``confaug presets``: the shipped presets with their one-line descriptions; ``show NAME``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from confaug.cli.common import add_command
from confaug.errors import did_you_mean

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


def _find(name: str) -> Path | None:
    """The file of preset ``name``; None (after saying so on stderr) when there is none."""
    name = name.removeprefix("preset:")
    known = presets()
    if name not in known:
        hint = did_you_mean(name, known)
        suffix = f" ({hint})" if hint else "; see 'confaug presets'"
        print(f"confaug presets: error: no preset named '{name}'{suffix}", file=sys.stderr)
        return None
    return known[name]


def run(args: argparse.Namespace) -> int:
    """List the presets, or print one."""
    action = getattr(args, "action", None) or "list"
    if action in ("show", "path"):
        path = _find(args.name)
        if path is None:
            return 1
        print(
            path.read_text(encoding="utf-8") if action == "show" else path,
            end="" if action == "show" else "\n",
        )
        return 0
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
