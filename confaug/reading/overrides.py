"""Dotted ``key=value`` overrides, applied after ``extends`` with their own positions.

An override is held to a file's limits: its key and its value nest at most
``Limits.max_depth`` levels together, its value holds at most ``Limits.max_nodes`` values,
and a list index has at most ``MAX_INDEX_DIGITS`` digits. Applying one costs the length of
its key plus the size of what it replaces, whatever the size of the config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.document import Document, KeyPath, Mark, SourceMap, dotted, problem_at
from confaug.reading.merge import merge_into
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
            if len(part) > 1 and part.startswith("0"):
                # As an integer with a leading zero is refused in a value (YAML 1.1 reads
                # 010 as octal 8): one spelling of each number, and no guessing.
                return f"list index '{part}' has a leading zero; write {int(part)}"
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


@dataclass(frozen=True)
class Override:
    """One parsed override: the path it sets, its value, where it was written, and where
    each part of its value was written (paths relative to the value)."""

    path: KeyPath
    value: Any
    mark: Mark | None
    marks: SourceMap = field(default_factory=SourceMap)


def parse_overrides(overrides: Overrides, limits: Limits = DEFAULT_LIMITS) -> list[Override]:
    """Dotted ``key=value`` strings (values parsed as YAML) or a mapping, parsed."""
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
    parsed: list[Override] = []
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
            document = parse_yaml(text, where, limits=limits) if text.strip() else None
            # The key's levels and the value's together: the limits of one config.
            value = plain_copy(
                document.data if document else None,
                file=where,
                base=path,
                limits=limits,
                depth=len(path),
            )
        except ConfigError as err:
            for p in err.problems:
                if p.line is None:  # a limit of plain_copy: its field is the full path
                    problems.append(Problem(where, 1, column, p.field or key, p.message))
                else:  # read in the value: its field is the path inside the value
                    name = f"{key}.{p.field}" if p.field else key
                    line, at = _placed(p.line, p.column or 1, column)
                    lines = item.split("\n")
                    if line > len(lines):  # the end of the text (an unclosed [): its end
                        line, at = len(lines), len(lines[-1]) + 1
                    problems.append(Problem(where, line, at, name, p.message))
            continue
        marks = SourceMap()
        if document is not None:
            for table, own in (
                (marks.values, document.source_map.values),
                (marks.keys, document.source_map.keys),
            ):
                for sub, mark in own.items():
                    table[sub] = Mark(where, *_placed(mark.line, mark.column, column))
        parsed.append(Override(path, value, Mark(where, 1, column), marks))
    if problems:
        raise ConfigError(problems)
    return parsed


def _placed(line: int, column: int, start: int) -> tuple[int, int]:
    """A position in an override's value (parsed alone) as a position in the override as
    written: the value's first line starts at column ``start``, after ``key=``; its other
    lines are lines of the override, at their own columns. Each problem inside a flow or
    multi-line value is placed where it was written, as in a file."""
    return line, column + start - 1 if line == 1 else column


def _parse_mapping(overrides: Mapping[Any, Any], limits: Limits) -> list[Override]:
    parsed: list[Override] = []
    # Each key's path, and the paths that hold one: to find a key inside another's value.
    seen: dict[KeyPath, str] = {}
    inside: dict[KeyPath, str] = {}
    for key, value in overrides.items():
        path = key_parts(key, limits) if isinstance(key, str) else f"{key!r} is not a string"
        if isinstance(path, str):
            message = f"override key {_shown(repr(key))} is not a dotted name: {path}"
            raise ConfigError.single(message, file="<overrides>", line=1, column=1)
        if path[0] == "extends":
            raise ConfigError.single(
                "extends cannot be overridden", field=key, file="<overrides>", line=1, column=1
            )
        _refuse_nested(path, key, seen, inside)
        # Problems with an override's value point at the override, not at the file.
        where = f"<override '{_shown(key)}'>"
        at = Mark(where, 1, len(key) + 2)
        try:
            value = plain_copy(value, file=where, base=path, limits=limits, depth=len(path))
        except ConfigError as err:
            raise ConfigError(
                Problem(where, 1, at.column, p.field, p.message) for p in err.problems
            ) from None
        parsed.append(Override(path, value, at))
    return parsed


def _refuse_nested(
    path: KeyPath, key: str, seen: dict[KeyPath, str], inside: dict[KeyPath, str]
) -> None:
    """A ConfigError when one key of a mapping of overrides lies inside another's value
    (``{"bbox_params": {...}, "bbox_params.format": "yolo"}``): which one wins depended on
    the order of the mapping's keys, silently. A list of overrides applies in the order the
    user wrote, so only a mapping is refused. Records ``path`` in ``seen`` (the keys'
    paths) and its prefixes in ``inside``, so a check costs the length of a key, not the
    number of keys.
    """
    outer = next((seen[path[:end]] for end in range(1, len(path)) if path[:end] in seen), None)
    inner = key
    if outer is None and path in inside:
        outer, inner = key, inside[path]
    if outer is not None:
        raise ConfigError.single(
            f"overrides '{_shown(outer)}' and '{_shown(inner)}' both set {_shown(inner)}: "
            "a mapping of overrides has no order to apply them in",
            field=inner,
            file="<overrides>",
            line=1,
            column=1,
            hint=f"set it in the value of '{_shown(outer)}', or give the overrides as a list "
            "of 'key=value' strings, applied in order",
        )
    seen[path] = key
    for end in range(1, len(path)):
        inside.setdefault(path[:end], key)


def apply_overrides(
    document: Document, overrides: Overrides, limits: Limits = DEFAULT_LIMITS
) -> Document:
    """Set each dotted key; intermediate mappings are created, list indices must exist."""
    problems: list[Problem] = []
    source_map = document.source_map
    for override in parse_overrides(overrides, limits):
        path, value, mark = override.path, override.value, override.mark
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
        old = node.get(path[-1]) if isinstance(node, dict) else None
        if isinstance(old, dict) and isinstance(value, dict):
            # A mapping set at a key merges into the mapping there, as the same text in a
            # child file merges over its parent (``bbox_params={format: coco}`` keeps the
            # preset's min_visibility). A list item (a step) is replaced whole, as lists are.
            _forget_merged(source_map, path, old, value)
            merge_into(old, value)
        else:
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
        # Where each part of the value was written: a problem inside it is placed there.
        for sub, at in override.marks.values.items():
            source_map.values[path + sub] = at
        for sub, at in override.marks.keys.items():
            source_map.keys[path + sub] = at
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
        more = depth + 1 < len(path)
        if part == node or not (more or str(part)[:1].isupper()):
            # transforms.1.HorizontalFlip.p, or transforms.1.p: a parameter of the step.
            # transforms.1.HorizontalFlip=5 sets the name itself, not a parameter: the
            # example is a parameter mapping (it repeated the name as a parameter).
            if part == node:
                example = f"{path[depth + 1]}: ..." if more else "p: 0.5"
            else:
                example = f"{part}: ..."
            return (
                f"{step} is written as the bare name {node}; set the whole step instead, "
                f"e.g. {step}={{{node}: {{{example}}}}}"
            )
        # transforms.1.GaussNoise.p where step 1 is HorizontalFlip: another transform's
        # name (transform names are CamelCase, parameters snake_case), or a typo of this one.
        hint = did_you_mean(str(part), [node])
        parameter = path[depth + 1] if more else "p"
        if hint:
            return (
                f"{step} is {node}, not {part} ({hint}); it is written as a bare name, so "
                f"set the whole step, e.g. {step}={{{node}: {{{parameter}: ...}}}}"
            )
        return (
            f"{step} is {node}, not {part}; to replace the step, set the whole step, e.g. "
            f"{step}={{{part}: {{{parameter}: ...}}}}"
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


def _forget_merged(source_map: SourceMap, path: KeyPath, old: dict[str, Any], new: Any) -> None:
    """Drop the positions of what merging ``new`` into ``old`` (at ``path``) replaces: the
    values under keys ``new`` sets, except mappings merged in turn, whose other keys stay
    where they were written."""
    todo: list[tuple[KeyPath, dict[str, Any], dict[str, Any]]] = [(path, old, new)]
    while todo:
        where, into, source = todo.pop()
        for key, value in source.items():
            if key not in into:
                continue
            if isinstance(into[key], dict) and isinstance(value, dict):
                todo.append(((*where, key), into[key], value))
            else:
                _forget(source_map, (*where, key), into[key])


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
