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

#: The folders ``extends`` may also reach: one folder, or several (see ``allowed_roots_of``).
AllowedRoots = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def load_document(
    source: ConfigSource | Document,
    *,
    overrides: Overrides = None,
    allowed_roots: AllowedRoots = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Document:
    """Read ``source`` and its ``extends`` chain, merge them and apply ``overrides``.

    A file's parents may lie in its own directory tree, the shipped presets and
    ``allowed_roots``. A mapping (or a Document) has no directory of its own: its relative
    parents are found from the working directory, and only presets and files under
    ``allowed_roots`` may be named (``allowed_roots=["."]`` for the working directory).
    """
    with collector_paused():  # reading builds many small objects and no cycles to free
        return _load(source, overrides, allowed_roots, limits)


def allowed_roots_of(value: Any) -> tuple[Path, ...]:
    """``allowed_roots`` as resolved folders: one path (a str or os.PathLike), or an iterable
    of paths. Anything else is a TypeError.

    Checked here, once, because a str is itself an iterable: ``allowed_roots="/srv/cfg"``
    read item by item gave the roots '/', 's', 'r', ..., and '/' lets ``extends`` reach every
    file on the machine, the trust boundary SECURITY.md describes.
    """
    single = isinstance(value, (str, os.PathLike))
    if single:
        items: list[Any] = [value]
    elif isinstance(value, (bytes, bytearray)):
        raise TypeError("allowed_roots: give folders as str or pathlib.Path, not bytes")
    elif isinstance(value, Iterable) and not isinstance(value, Mapping):
        items = list(value)
    else:
        raise TypeError(
            "allowed_roots takes a folder or a list of folders (str or pathlib.Path), "
            f"got {type(value).__name__}"
        )
    roots: list[Path] = []
    for index, item in enumerate(items):
        where = "allowed_roots" if single else f"allowed_roots[{index}]"
        text = os.fspath(item) if isinstance(item, (str, os.PathLike)) else None
        if not isinstance(text, str):  # an int, None, bytes, a PathLike of bytes, a list, ...
            raise TypeError(
                f"{where} must be a folder (str or pathlib.Path), got {type(item).__name__}"
            )
        if not text:  # Path('') is the working directory: never a root by accident
            raise ValueError(f"{where} is an empty path; name the folder (e.g. '.')")
        try:
            roots.append(Path(text).resolve())
        except (OSError, ValueError, RuntimeError) as err:  # NUL, too long, a symlink loop
            raise ValueError(f"{where} cannot be used as a folder: {err}") from None
    return tuple(roots)


def _config_path(source: Any) -> str:
    """``source`` as the path (or ``preset:NAME``) of a config; a TypeError in confaug's
    words for anything else (os.fspath's would name str and bytes, and bytes are not
    taken), and a hint for YAML text passed where a path goes."""
    if not isinstance(source, (str, os.PathLike)) or isinstance(source, bytes):
        raise TypeError(
            "a config is a path, 'preset:NAME', a mapping, a Spec or a Document; got "
            f"{type(source).__name__}"
            + (" (decode it, or pass a mapping)" if isinstance(source, (bytes, bytearray)) else "")
        )
    text = os.fspath(source)
    if not isinstance(text, str):
        raise TypeError(f"a config path must be text, got {type(text).__name__}")
    if "\n" in text and not text.startswith("preset:") and not os.path.lexists(text):
        raise TypeError(
            "this looks like YAML text, not a path: pass a path, or the parsed mapping "
            "(confaug.load_pipeline(yaml.safe_load(text)))"
        )
    return text


def _load(
    source: ConfigSource | Document,
    overrides: Overrides,
    allowed_roots: AllowedRoots,
    limits: Limits,
) -> Document:
    roots = [*allowed_roots_of(allowed_roots), resources.presets_dir().resolve()]
    # Data from Python has no directory tree of its own: its relative parents are found from
    # the working directory, but only inside the roots the caller allows (never the working
    # directory by default: from cwd '/' that was the whole disk) and the shipped presets.
    if isinstance(source, Document):
        # Data from Python is held to a file's limits here (nesting, values, integers).
        base: Path | None = Path.cwd()
        data = plain_copy(source.data, file=source.file, limits=limits)
        positions = SourceMap(dict(source.source_map.values), dict(source.source_map.keys))
        document = Document(data, positions, source.file, problems=list(source.problems))
    elif isinstance(source, Mapping):
        document = Document(plain_copy(dict(source), limits=limits), SourceMap(), None)
        base = Path.cwd()
    else:
        text = _config_path(source)
        if text.startswith("preset:"):
            path = resolve_preset(text.removeprefix("preset:"), file=text)
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
        document = Resolver(roots, limits, from_data=True).resolve(document, base)
    try:
        return apply_overrides(document, overrides, limits)
    except ConfigError as err:  # with what reading the files found, not instead of it
        raise ConfigError([*document.problems, *err.problems]) from None
