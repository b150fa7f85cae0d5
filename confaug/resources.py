"""Where shipped files live: in the wheel under ``confaug/_data``, in a checkout at the top."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

#: Where a project keeps the schema by default: next to its config (``confaug schema -o``).
SCHEMA_FILE = "confaug.schema.json"
_MODELINE_PREFIX = "# yaml-language-server:"

_PACKAGE = Path(__file__).resolve().parent
_PRESET_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def _shipped(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


@cache
def presets_dir() -> Path:
    """The directory holding the shipped presets."""
    return _shipped("presets")


@cache
def schemas_dir() -> Path:
    """The directory holding the shipped JSON Schema."""
    return _shipped("schemas")


def schema_modeline(schema: str = SCHEMA_FILE) -> str:
    """The comment that points the YAML language server at ``schema`` (relative to the config)."""
    return f"{_MODELINE_PREFIX} $schema={schema}"


def preset_names() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(p.stem for p in presets_dir().glob("*.yaml"))


def preset_path(name: str) -> Path | None:
    """The file of preset ``name``, or None when there is no such preset.

    The name is looked up among the shipped ones, never used as a path first: it comes from
    a config, and stat-ing ``presets/<300 characters>.yaml`` raised OSError (File name too
    long) through ``Path.is_file`` instead of answering "no such preset".
    """
    if not _PRESET_NAME.match(name) or name not in preset_names():
        return None
    path = presets_dir() / f"{name}.yaml"
    return path if path.is_file() else None
