"""Dotted ``key=value`` overrides, applied after ``extends`` with their own positions.

An override is held to a file's limits: its key and its value nest at most
``Limits.max_depth`` levels together, its value holds at most ``Limits.max_nodes`` values,
and a list index has at most ``MAX_INDEX_DIGITS`` digits. Applying one costs the length of
its key plus the size of what it replaces, whatever the size of the config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.document import Document, KeyPath, Mark, SourceMap, dotted, problem_at
from confaug.reading.plain import plain_copy
from confaug.reading.yaml_io import DEFAULT_LIMITS, Limits, parse_yaml

Overrides = Mapping[str, Any] | Sequence[str] | None

#: A list in a config holds at most ``Limits.max_nodes`` (100,000) items.
MAX_INDEX_DIGITS = 6
_NAME = re.compile(r"[A-Za-z0-9_]+")
_FORM = "an override is written key=value, e.g. rotation_range=20 or transforms.0.p=0.5"
_SHOWN = 200  # characters of a key that a problem repeats


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def key_parts(key: str, limits: Limits = DEFAULT_LIMITS) -> KeyPath | str:
    """The path a dotted key names, or (a string) why it names none."""
    if not key:
        return f"the key before '=' is empty; {_FORM}"
    parts = key.split(".")
    if len(parts) > limits.max_depth:
        return (
            f"the key has {len(parts):,} parts: nesting deeper than {limits.max_depth} levels, "
            "the limit of a config"
        )
    path: list[str | int] = []
    for index, part in enumerate(parts):
        if not part:
            return f"the key has an empty part (two dots in a row, or a dot at an end); {_FORM}"
        if part.isascii() and part.isdigit():
            if index == 0:
                return f"the key must start with a name, not the number '{_shown(part)}'; {_FORM}"
            if len(part) > MAX_INDEX_DIGITS:
                return (
                    f"list index of {len(part):,} digits: no list of a config is that long "
                    f"(at most {limits.max_nodes:,} items)"
                )
            path.append(int(part))
        elif part.startswith("-") and part[1:].isascii() and part[1:].isdigit():
            return (
                f"'{_shown(part)}' is not a list index: indices count from 0, and negative ones "
                f"are not supported; {_FORM}"
            )
        elif not _NAME.fullmatch(part) or (index == 0 and part[0].isdigit()):
            return (
                f"'{_shown(part)}' is not a key: keys are made of letters, digits and _ "
                f"(and start with a letter or _); {_FORM}"
            )
        else:
            path.append(part)
    return tuple(path)


def parse_overrides(
    overrides: Overrides, limits: Limits = DEFAULT_LIMITS
) -> list[tuple[KeyPath, Any, Mark | None]]:
    """Dotted ``key=value`` strings (values parsed as YAML) or a mapping, as (path, value, mark)."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return _parse_mapping(overrides, limits)
    if isinstance(overrides, str):
        overrides = [overrides]
    if isinstance(overrides, (bytes, bytearray)) or not isinstance(overrides, Iterable):
        raise TypeError(  # bytes would be read one number at a time
            "overrides are 'key=value' strings (one, or a list) or a mapping; got "
            f"{type(overrides).__name__}"
        )
    parsed: list[tuple[KeyPath, Any, Mark | None]] = []
    problems: list[Problem] = []
    for item in overrides:
        if not isinstance(item, str):
            raise TypeError(f"an override is a 'key=value' string; got {type(item).__name__}")
        where = f"<override '{_shown(str(item))}'>"
        key, sep, text = str(item).partition("=")
        key = key.strip()
        path = key_parts(key, limits) if sep else f"no '=' in it; {_FORM}"
        if isinstance(path, str):
            problems.append(Problem(where, 1, 1, _shown(key), path))
            continue
        if path[0] == "extends":
            problems.append(Problem(where, 1, 1, key, "extends cannot be overridden"))
            continue
        column = len(str(item)) - len(text) + 1
        try:
            value = parse_yaml(text, where, limits=limits).data if text.strip() else None
            # The key's levels and the value's together: the limits of one config.
            value = plain_copy(value, file=where, base=path, limits=limits, depth=len(path))
        except ConfigError as err:
            problems.extend(
                # A problem past the value's only line is at its end.
                Problem(
                    where,
                    1,
                    column + (p.column or 1) - 1 if p.line in (None, 1) else len(item) + 1,
                    key if p.line is not None else p.field,
                    p.message,
                )
                for p in err.problems
            )
            continue
        parsed.append((path, value, Mark(where, 1, column)))
    if problems:
        raise ConfigError(problems)
    return parsed


def _parse_mapping(
    overrides: Mapping[Any, Any], limits: Limits
) -> list[tuple[KeyPath, Any, Mark | None]]:
    parsed: list[tuple[KeyPath, Any, Mark | None]] = []
    for key, value in overrides.items():
        path = key_parts(key, limits) if isinstance(key, str) else f"{key!r} is not a string"
        if isinstance(path, str):
            message = f"override key {_shown(repr(key))} is not a dotted name: {path}"
            raise ConfigError.single(message, file="<overrides>", line=1, column=1)
        if path[0] == "extends":
            raise ConfigError.single(
                "extends cannot be overridden", field=key, file="<overrides>", line=1, column=1
            )
        # Problems with an override's value point at the override, not at the file.
        where = f"<override '{_shown(key)}'>"
        at = Mark(where, 1, len(key) + 2)
        try:
            value = plain_copy(value, file=where, base=path, limits=limits, depth=len(path))
        except ConfigError as err:
            raise ConfigError(
                Problem(where, 1, at.column, p.field, p.message) for p in err.problems
            ) from None
        parsed.append((path, value, at))
    return parsed


def apply_overrides(
    document: Document, overrides: Overrides, limits: Limits = DEFAULT_LIMITS
) -> Document:
    """Set each dotted key; intermediate mappings are created, list indices must exist."""
    problems: list[Problem] = []
    source_map = document.source_map
    for path, value, mark in parse_overrides(overrides, limits):
        node: Any = document.data
        created: list[KeyPath] = []
        misplaced: str | None = None
        for depth, part in enumerate(path[:-1]):
            nxt = path[depth + 1]
            misplaced = _into_a_step(path, depth, node)
            if misplaced is not None:
                break
            if isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            elif isinstance(node, dict) and not isinstance(part, int):
                old = node.get(part)
                if not isinstance(old, (dict, list)):
                    # A value the override replaces by a mapping: its positions are the
                    # override's now.
                    _forget(source_map, path[: depth + 1], old)
                    node[part] = [] if isinstance(nxt, int) else {}
                    created.append(path[: depth + 1])
                node = node[part]
            else:
                node = None
                break
        else:  # the walk reached the last key's mapping: is that a step?
            misplaced = _into_a_step(path, len(path) - 1, node)
        if misplaced is not None:
            problems.append(problem_at(mark, dotted(path), misplaced, file="<overrides>"))
            continue
        replaced = _assign(node, path[-1], value)
        if replaced is _NOTHING:
            message = "does not name a key or an existing list item of the config"
            problems.append(problem_at(mark, dotted(path), message, file="<overrides>"))
            continue
        _forget(source_map, path, replaced)
        if mark is not None:
            for made in created:
                source_map.values[made] = mark
            source_map.values[path] = mark
    if problems:
        raise ConfigError(problems)
    return document


def _into_a_step(path: KeyPath, depth: int, node: Any) -> str | None:
    """What is wrong when ``path[depth]`` goes into a step of a ``transforms`` list (``node``)
    by another name than its transform's: it would add a second key to the step (a typo of
    the name), or reach into a step written as a bare name. None when nothing is."""
    if depth < 2 or path[depth - 2] != "transforms" or not isinstance(path[depth - 1], int):
        return None
    step, part = dotted(path[:depth]), path[depth]
    if isinstance(node, str):
        named = part == node and depth + 1 < len(path)  # transforms.1.HorizontalFlip.p
        parameter = path[depth + 1] if named else part
        return (
            f"{step} is written as the bare name {node}; set the whole step instead, e.g. "
            f"{step}={{{node}: {{{parameter}: ...}}}}"
        )
    if not isinstance(node, dict) or len(node) != 1 or part in node:
        return None
    (name,) = node
    hint = did_you_mean(str(part), [str(name)])
    return f"{step} is the step {name}: its parameters are set as {step}.{name}.<parameter>" + (
        f" ({hint})" if hint else ""
    )


_NOTHING = object()  # what _assign returns when the key names no place


def _assign(node: Any, key: str | int, value: Any) -> Any:
    """Set ``node[key]``, returning what was there (None if nothing), or ``_NOTHING`` when
    ``key`` names no key or existing list item of ``node``."""
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        old = node[key]
        node[key] = value
        return old
    if isinstance(node, dict) and isinstance(key, str):
        old = node.get(key)
        node[key] = value
        return old
    return _NOTHING


def _forget(source_map: SourceMap, path: KeyPath, old: Any) -> None:
    """Drop the positions of ``old``, the value that was at ``path``, and of all it held.

    Walking the value (not the whole map) keeps an override's cost that of what it replaces.
    """
    todo: list[tuple[KeyPath, Any]] = [(path, old)]
    while todo:
        where, value = todo.pop()
        source_map.values.pop(where, None)
        source_map.keys.pop(where, None)
        if isinstance(value, dict):
            todo.extend(((*where, key), item) for key, item in value.items())
        elif isinstance(value, list):
            todo.extend(((*where, index), item) for index, item in enumerate(value))
