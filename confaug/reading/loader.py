"""From a path, ``preset:NAME`` or a mapping to one merged document: ``extends`` and overrides.

``extends`` names a parent config relative to the file (or ``preset:NAME``); the parent is
merged under the child (mappings key by key, the child wins; lists replace whole). Parents
must lie inside the entry file's directory tree, the shipped presets, or a root the caller
allows; cycles are reported with their chain.
"""

from __future__ import annotations

import copy
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from confaug import resources
from confaug.errors import ConfigError, Problem
from confaug.reading.albu_format import from_albumentations, is_albumentations_file
from confaug.reading.document import Document, Mark, SourceMap, dotted
from confaug.reading.merge import merge_documents, split_key
from confaug.reading.yaml_io import DEFAULT_LIMITS, Limits, decode_text, parse_yaml

Source = str | os.PathLike[str] | Mapping[str, Any]
Overrides = Mapping[str, Any] | Sequence[str] | None

MAX_EXTENDS_DEPTH = 16
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def display_path(path: Path) -> str:
    """A path as errors show it: relative to the working directory when inside it."""
    cwd = Path.cwd().resolve()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)


def _resolve_preset(name: str, *, at: Mark | None = None, field: str = "") -> Path:
    path = resources.preset_path(name)
    if path is None:
        from confaug.errors import did_you_mean

        raise ConfigError(
            [
                Problem(
                    at.file if at else f"preset:{name}",
                    at.line if at else None,
                    at.column if at else None,
                    field,
                    f"no preset named '{name}'",
                    did_you_mean(name, resources.preset_names()),
                )
            ]
        )
    return path


def _read_bytes(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file; never blocks on a FIFO or a device."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError if stat.S_ISDIR(os.fstat(fd).st_mode) else _NotRegular
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


class _NotRegular(OSError):
    pass


def _read_file(path: Path, shown: str, limits: Limits) -> Document:
    try:
        raw = _read_bytes(path, limits.max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError.single("file not found", file=shown) from None
    except IsADirectoryError:
        raise ConfigError.single("is a directory, not a config file", file=shown) from None
    except _NotRegular:
        raise ConfigError.single(
            "is not a regular file (a pipe, a socket or a device)", file=shown
        ) from None
    except (OSError, ValueError) as err:  # ValueError: a NUL character in the path
        reason = getattr(err, "strerror", None) or str(err)
        raise ConfigError.single(f"cannot read: {reason}", file=shown) from None
    document = parse_yaml(decode_text(raw, shown, limits), shown, limits=limits)
    if document.data is None:  # "---" or "~" alone
        raise ConfigError.single("the file is empty", file=shown, line=1, column=1)
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        raise ConfigError.single(
            f"the top level of a config must be a mapping of keys, not {kind}",
            file=shown,
            line=1,
            column=1,
        )
    if is_albumentations_file(document.data):
        document = from_albumentations(document)
    return document


class _Resolver:
    """Follows ``extends`` chains for one load."""

    def __init__(self, roots: list[Path], limits: Limits) -> None:
        self.roots = roots
        self.limits = limits

    def allowed(self, path: Path) -> bool:
        return any(path.is_relative_to(root) for root in self.roots)

    def load(self, path: Path, stack: tuple[Path, ...]) -> Document:
        document = _read_file(path, display_path(path), self.limits)
        document.chain = (display_path(path),)
        return self.with_parents(document, path.parent, (*stack, path))

    def with_parents(self, document: Document, base: Path, stack: tuple[Path, ...]) -> Document:
        data = document.data
        if not isinstance(data, dict) or "extends" not in data:
            return document
        parents = data.pop("extends")
        parent_marks = [document.source_map.values.get(("extends",))]
        document.source_map.values.pop(("extends",), None)
        document.source_map.keys.pop(("extends",), None)
        if isinstance(parents, str):
            parents = [parents]
        elif isinstance(parents, list) and all(isinstance(p, str) for p in parents):
            parent_marks = [
                document.source_map.values.get(("extends", i)) for i in range(len(parents))
            ]
        else:
            at = parent_marks[0]
            raise ConfigError(
                [
                    Problem(
                        document.file,
                        at.line if at else None,
                        at.column if at else None,
                        "extends",
                        "must be a path (or preset:NAME), or a list of them",
                    )
                ]
            )
        merged: Document | None = None
        for target, at in zip(parents, parent_marks, strict=True):
            parent = self.load_parent(target, base, stack, at, document.file)
            merged = parent if merged is None else merge_documents(merged, parent)
        assert merged is not None
        result = merge_documents(merged, document)
        result.chain = document.chain + merged.chain
        return result

    def load_parent(
        self, target: str, base: Path, stack: tuple[Path, ...], at: Mark | None, file: str | None
    ) -> Document:
        def problem(message: str) -> ConfigError:
            return ConfigError(
                [
                    Problem(
                        file, at.line if at else None, at.column if at else None, "extends", message
                    )
                ]
            )

        if target.startswith("preset:"):
            path = _resolve_preset(target.removeprefix("preset:"), at=at, field="extends")
        elif not target.strip():
            raise problem("is empty")
        else:
            path = base / target
        try:
            path = path.resolve()
            if not target.startswith("preset:") and not self.allowed(path):
                raise problem(
                    f"'{target}' is outside the allowed roots (the config's own directory "
                    "tree and the shipped presets); pass allowed_roots to permit it"
                )
            if path in stack:
                chain = " → ".join(display_path(p) for p in (*stack, path))
                raise problem(f"extends cycle: {chain}")
            if len(stack) >= MAX_EXTENDS_DEPTH:
                raise problem(f"extends chain longer than {MAX_EXTENDS_DEPTH} files")
            if not path.is_file():
                raise problem(f"'{target}' not found (looked for {display_path(path)})")
        except ConfigError:
            raise
        except (OSError, ValueError, RuntimeError) as err:  # NUL, too long, a symlink loop
            raise problem(f"'{target}' cannot be used as a path: {err}") from None
        return self.load(path, stack)


def parse_overrides(overrides: Overrides) -> list[tuple[tuple[str | int, ...], Any, Mark | None]]:
    """Dotted ``key=value`` strings (values parsed as YAML) or a mapping, as (path, value, mark)."""
    if overrides is None:
        return []
    parsed: list[tuple[tuple[str | int, ...], Any, Mark | None]] = []
    if isinstance(overrides, Mapping):
        for key, value in overrides.items():
            if not isinstance(key, str) or not _KEY.match(key):
                raise ConfigError.single(
                    f"override key {key!r} is not a dotted name",
                    file="<overrides>",
                    line=1,
                    column=1,
                )
            if split_key(key)[0] == "extends":
                raise ConfigError.single(
                    "extends cannot be overridden", field=key, file="<overrides>", line=1, column=1
                )
            # Problems with an override's value point at the override, not at the file.
            at = Mark(f"<override '{key}'>", 1, len(key) + 2)
            parsed.append((split_key(key), copy.deepcopy(value), at))
        return parsed
    if isinstance(overrides, str):
        overrides = [overrides]
    problems: list[Problem] = []
    for item in overrides:
        where = f"<override '{item}'>"
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            problems.append(
                Problem(
                    where, 1, 1, key, "an override is written key=value, e.g. rotation_range=20"
                )
            )
            continue
        if split_key(key)[0] == "extends":
            problems.append(Problem(where, 1, 1, key, "extends cannot be overridden"))
            continue
        column = len(item) - len(text) + 1
        if text.strip():
            try:
                value = parse_yaml(text, where).data
            except ConfigError as err:
                problems.extend(
                    # A problem past the value's only line is at its end.
                    Problem(
                        where,
                        1,
                        column + (p.column or 1) - 1 if p.line in (None, 1) else len(item) + 1,
                        key,
                        p.message,
                    )
                    for p in err.problems
                )
                continue
        else:
            value = None
        parsed.append((split_key(key), value, Mark(where, 1, column)))
    if problems:
        raise ConfigError(problems)
    return parsed


def apply_overrides(document: Document, overrides: Overrides) -> Document:
    """Set each dotted key; intermediate mappings are created, list indices must exist."""
    problems: list[Problem] = []
    for path, value, mark in parse_overrides(overrides):
        node: Any = document.data
        created: list[tuple[str | int, ...]] = []
        for depth, part in enumerate(path[:-1]):
            nxt = path[depth + 1]
            if isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            elif isinstance(node, dict) and not isinstance(part, int):
                if not isinstance(node.get(part), (dict, list)):
                    node[part] = [] if isinstance(nxt, int) else {}
                    created.append(path[: depth + 1])
                node = node[part]
            else:
                node = None
                break
        last = path[-1]
        if (isinstance(node, list) and isinstance(last, int) and last < len(node)) or (
            isinstance(node, dict) and not isinstance(last, int)
        ):
            node[last] = value
        else:
            problems.append(
                Problem(
                    mark.file if mark else "<overrides>",
                    mark.line if mark else None,
                    mark.column if mark else None,
                    dotted(path),
                    "does not name a key or an existing list item of the config",
                )
            )
            continue
        document.source_map = document.source_map.restricted_to(document.data)
        for made in created:  # a value the override replaced by a mapping is the override's
            _forget(document.source_map, made)
            if mark is not None:
                document.source_map.values[made] = mark
        _forget(document.source_map, path)
        if mark is not None:
            document.source_map.values[path] = mark
    if problems:
        raise ConfigError(problems)
    return document


def _forget(source_map: SourceMap, path: tuple[str | int, ...]) -> None:
    n = len(path)
    for table in (source_map.values, source_map.keys):
        for key in [k for k in table if k[:n] == path and len(k) > n]:
            del table[key]
        table.pop(path, None)


def load_document(
    source: Source | Document,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Document:
    """Read ``source`` and its ``extends`` chain, merge them and apply ``overrides``."""
    roots = [Path(r).resolve() for r in allowed_roots] + [resources.presets_dir().resolve()]
    if isinstance(source, Document):
        document = Document(
            copy.deepcopy(source.data), copy.deepcopy(source.source_map), source.file
        )
        base = Path.cwd()
    elif isinstance(source, Mapping):
        document = Document(copy.deepcopy(dict(source)), SourceMap(), None)
        base = Path.cwd()
        roots.append(base.resolve())
    else:
        text = os.fspath(source)
        if text.startswith("preset:"):
            path = _resolve_preset(text.removeprefix("preset:"))
        else:
            path = Path(text)
        try:
            resolved = path.resolve()
        except (OSError, ValueError, RuntimeError) as err:  # NUL, too long, a symlink loop
            raise ConfigError.single(f"cannot be used as a path: {err}", file=text) from None
        roots.append(resolved.parent)
        resolver = _Resolver(roots, limits)
        document = _read_file(
            resolved, text if not text.startswith("preset:") else display_path(resolved), limits
        )
        document.chain = (document.file or text,)
        document = resolver.with_parents(document, resolved.parent, (resolved,))
        return apply_overrides(document, overrides)
    resolver = _Resolver(roots, limits)
    if isinstance(document.data, dict):
        document = resolver.with_parents(document, base, ())
    return apply_overrides(document, overrides)
