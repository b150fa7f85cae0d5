"""Dotted ``key=value`` overrides, applied after ``extends`` with their own positions."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from confaug.errors import ConfigError, Problem
from confaug.reading.document import (
    Document,
    KeyPath,
    Mark,
    SourceMap,
    dotted,
    key_path,
    problem_at,
)
from confaug.reading.yaml_io import parse_yaml

Overrides = Mapping[str, Any] | Sequence[str] | None

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def parse_overrides(overrides: Overrides) -> list[tuple[KeyPath, Any, Mark | None]]:
    """Dotted ``key=value`` strings (values parsed as YAML) or a mapping, as (path, value, mark)."""
    if overrides is None:
        return []
    parsed: list[tuple[KeyPath, Any, Mark | None]] = []
    if isinstance(overrides, Mapping):
        for key, value in overrides.items():
            if not isinstance(key, str) or not _KEY.match(key):
                raise ConfigError.single(
                    f"override key {key!r} is not a dotted name",
                    file="<overrides>",
                    line=1,
                    column=1,
                )
            if key_path(key)[0] == "extends":
                raise ConfigError.single(
                    "extends cannot be overridden", field=key, file="<overrides>", line=1, column=1
                )
            # Problems with an override's value point at the override, not at the file.
            at = Mark(f"<override '{key}'>", 1, len(key) + 2)
            parsed.append((key_path(key), copy.deepcopy(value), at))
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
        if key_path(key)[0] == "extends":
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
        parsed.append((key_path(key), value, Mark(where, 1, column)))
    if problems:
        raise ConfigError(problems)
    return parsed


def apply_overrides(document: Document, overrides: Overrides) -> Document:
    """Set each dotted key; intermediate mappings are created, list indices must exist."""
    problems: list[Problem] = []
    for path, value, mark in parse_overrides(overrides):
        node: Any = document.data
        created: list[KeyPath] = []
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
        if not _assign(node, path[-1], value):
            message = "does not name a key or an existing list item of the config"
            problems.append(problem_at(mark, dotted(path), message, file="<overrides>"))
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


def _assign(node: Any, key: str | int, value: Any) -> bool:
    """Set ``node[key]``; False when ``key`` names no key or existing list item of ``node``."""
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        node[key] = value
        return True
    if isinstance(node, dict) and isinstance(key, str):
        node[key] = value
        return True
    return False


def _forget(source_map: SourceMap, path: KeyPath) -> None:
    n = len(path)
    for table in (source_map.values, source_map.keys):
        for key in [k for k in table if k[:n] == path and len(k) > n]:
            del table[key]
        table.pop(path, None)
