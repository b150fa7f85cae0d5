"""From a path, ``preset:NAME`` or a mapping to one merged document: ``extends`` and overrides.

Composing is its own step (as in Hydra): the result is plain data with positions, which
``confaug resolve`` can print before anything is validated or built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from confaug import resources
from confaug.errors import ConfigError
from confaug.reading.document import Document, SourceMap
from confaug.reading.extends import Resolver, display_path, resolve_preset
from confaug.reading.overrides import Overrides, apply_overrides
from confaug.reading.plain import plain_copy
from confaug.reading.yaml_io import DEFAULT_LIMITS, Limits, collector_paused

#: Where a config comes from: a file path, ``preset:NAME``, or the data itself.
ConfigSource = str | os.PathLike[str] | Mapping[str, Any]


def load_document(
    source: ConfigSource | Document,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Document:
    """Read ``source`` and its ``extends`` chain, merge them and apply ``overrides``."""
    with collector_paused():  # reading builds many small objects and no cycles to free
        return _load(source, overrides, allowed_roots, limits)


def _load(
    source: ConfigSource | Document,
    overrides: Overrides,
    allowed_roots: Iterable[str | os.PathLike[str]],
    limits: Limits,
) -> Document:
    roots = [Path(r).resolve() for r in allowed_roots] + [resources.presets_dir().resolve()]
    if isinstance(source, Document):
        # Data from Python is held to a file's limits here (nesting, values, integers).
        base: Path | None = Path.cwd()
        data = plain_copy(source.data, file=source.file, limits=limits)
        positions = SourceMap(dict(source.source_map.values), dict(source.source_map.keys))
        document = Document(data, positions, source.file, problems=list(source.problems))
    elif isinstance(source, Mapping):
        document = Document(plain_copy(dict(source), limits=limits), SourceMap(), None)
        base = Path.cwd()
        roots.append(base.resolve())
    else:
        text = os.fspath(source)
        if text.startswith("preset:"):
            path = resolve_preset(text.removeprefix("preset:"))
        else:
            path = Path(text)
        try:
            resolved = path.resolve()
        except (OSError, ValueError, RuntimeError) as err:  # NUL, too long, a symlink loop
            raise ConfigError.single(f"cannot be used as a path: {err}", file=text) from None
        roots.append(resolved.parent)
        shown = text if not text.startswith("preset:") else display_path(resolved)
        document = Resolver(roots, limits).load_entry(resolved, shown)
        base = None  # resolved: a file's parents are relative to the file
    if base is not None and isinstance(document.data, dict):
        document = Resolver(roots, limits).resolve(document, base)
    try:
        return apply_overrides(document, overrides, limits)
    except ConfigError as err:  # with what reading the files found, not instead of it
        raise ConfigError([*document.problems, *err.problems]) from None
