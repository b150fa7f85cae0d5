"""From a path, ``preset:NAME`` or a mapping to one merged document: ``extends`` and overrides.

Composing is its own step (as in Hydra): the result is plain data with positions, which
``confaug resolve`` can print before anything is validated or built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from confaug import resources
from confaug.errors import ConfigError, Problem
from confaug.reading.document import Document, SourceMap, clipped
from confaug.reading.extends import Resolver, config_document, display_path, resolve_preset
from confaug.reading.overrides import Overrides, apply_overrides
from confaug.reading.path_hints import preset_spelling_hint, written_form_hint
from confaug.reading.plain import plain_copy
from confaug.reading.yaml_io import (
    DEFAULT_LIMITS,
    Limits,
    collector_paused,
    parse_yaml,
)

#: Where a config comes from: a file path, ``preset:NAME``, or the data itself.
ConfigSource = str | os.PathLike[str] | Mapping[str, Any]

#: The folders ``extends`` may also reach: one folder, or several (see ``allowed_roots_of``).
AllowedRoots = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


#: What the public functions take as a config, as their TypeError for anything else says.
_SOURCE_KINDS = (
    "a config is a path, 'preset:NAME', a mapping, a Spec or a Document, or its text as text=..."
)

#: How problems name a config given as text (``load_pipeline(text=...)``): it has no file.
TEXT_NAME = "<text>"


def load_document(
    source: ConfigSource | Document | None = None,
    *,
    text: str | bytes | None = None,
    overrides: Overrides = None,
    allowed_roots: AllowedRoots = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Document:
    """Read ``source`` (or ``text``) and its ``extends`` chain, merge them, apply ``overrides``.

    A file's parents may lie in its own directory tree, the shipped presets and
    ``allowed_roots``. A mapping, a Document or ``text`` has no directory of its own: its
    relative parents are found from the working directory, and only presets and files under
    ``allowed_roots`` may be named (``allowed_roots=["."]`` for the working directory).

    ``text`` is a config's YAML (or JSON) text, read as a file is read (see
    :func:`read_text`); give either it or ``source``. Bytes are decoded as a file's are.
    """
    if text is not None and source is not None:
        raise TypeError("give a config as source or as text=, not both")
    with collector_paused():  # reading builds many small objects and no cycles to free
        if text is not None:
            source = read_text(text, limits=limits)
        elif source is None:
            raise TypeError(f"{_SOURCE_KINDS}; got NoneType")
        return _load(source, overrides, allowed_roots, limits)


def read_text(
    text: str | bytes, name: str = TEXT_NAME, *, limits: Limits = DEFAULT_LIMITS
) -> Document:
    """A config's YAML (or JSON) text, read as a file is read, named ``name`` in problems.

    The same reader and checks as a file (YAML 1.2 scalars, YAML 1.1 booleans and
    leading-zero integers refused, duplicate keys refused, the size and alias limits), with
    every problem's line and column in the text; an ``A.save`` JSON text is converted as
    its file would be. ``yaml.safe_load(text)`` and a mapping skip all of that: PyYAML reads
    ``no`` as False, ``010`` as 8 and keeps the last of two equal keys, without a word.
    The document has no directory: its ``extends`` are resolved as a mapping's are.
    """
    if not isinstance(text, (str, bytes)):
        raise TypeError(
            f"text= takes a config's YAML or JSON text (str, or UTF-8 bytes), got "
            f"{type(text).__name__}"
        )
    document = parse_yaml(text, name, limits=limits, collect=True)
    return config_document(document, name, "the text is empty")


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
            f"{_SOURCE_KINDS}; got {type(source).__name__}"
            + (" (decode it, or pass a mapping)" if isinstance(source, (bytes, bytearray)) else "")
            + (
                " (pass its path, or what its read() returns as text=)"
                if hasattr(source, "read")
                else ""
            )
        )
    text = os.fspath(source)
    if not isinstance(text, str):
        raise TypeError(f"a config path must be text, got {type(text).__name__}")
    if text.startswith("preset:") or os.path.lexists(text):
        return text
    preset = preset_spelling_hint(text)  # first: 'Preset: detection' is a YAML mapping too
    if preset is not None:
        raise ConfigError.single("file not found", file=text, hint=preset)
    if _looks_like_text(text):
        raise TextForPathError(
            [
                Problem(
                    clipped(text, 40),
                    None,
                    None,
                    "",
                    "this looks like YAML text, not a path",
                    # Not yaml.safe_load: it reads YAML 1.1 (no is False, 010 is 8) and
                    # keeps the last of two equal keys, silently.
                    "give it as confaug.load_pipeline(text=...) (or load_spec, resolve): "
                    "YAML or JSON text is then read as a file is, with the same checks and "
                    "line numbers",
                )
            ]
        )
    hint = written_form_hint(text)
    if hint is not None:
        raise ConfigError.single("file not found", file=text, hint=hint)
    return text


class TextForPathError(ConfigError, TypeError):
    """Config text passed where a path goes: a wrong argument to Python code (TypeError, as
    the public functions say of other wrong kinds of source), and a config that cannot be
    read to the CLI, which hands its argument on and reports ConfigErrors as problems."""


#: One line of YAML or JSON that is a mapping: ``{...}``, or ``name: value`` / ``name:``
#: (a path has no ': '; ``preset:x``, ``C:\x`` and ``s3://x`` have no space or end after
#: the colon).
_ONE_LINE_MAPPING = re.compile(r"\{.*|[A-Za-z_][\w.-]*\s*:(?:\s.*)?", re.S)


def _looks_like_text(text: str) -> bool:
    """Whether ``text``, which names no file, is a config's text rather than a path: it
    has lines (a path read whole from a file, ``'aug.yaml\\n'``, is one line), or it is
    one line of a YAML or JSON mapping (from an environment variable or argv)."""
    written = text.strip()
    return "\n" in written or bool(_ONE_LINE_MAPPING.fullmatch(written))


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
        document = Document(
            data, positions, source.file, chain=source.chain, problems=list(source.problems)
        )
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
