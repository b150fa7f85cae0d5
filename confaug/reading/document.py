"""Plain config data together with where each piece of it was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confaug.errors import Problem

#: Where a value sits in nested config data: ``('transforms', 1, 'GaussNoise', 'p')``.
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    """A position in a file: 1-based line and column."""

    file: str | None
    line: int
    column: int


@dataclass
class SourceMap:
    """Positions of every key and value of a document, by path from the root."""

    values: dict[KeyPath, Mark] = field(default_factory=dict)
    keys: dict[KeyPath, Mark] = field(default_factory=dict)

    def locate(self, path: KeyPath, *, prefer_key: bool = False) -> Mark | None:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            sub = path[:end]
            first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            mark = first.get(sub) or second.get(sub)
            if mark is not None:
                return mark
        return None

    def update(self, other: SourceMap) -> None:
        self.values.update(other.values)
        self.keys.update(other.keys)

    def forget(self, under: set[KeyPath], at: set[KeyPath]) -> None:
        """Drop the entries at or under each path of ``under``, and those at each of ``at``,
        in one pass over the map (a path has at most ``Limits.max_depth`` prefixes)."""
        if not under and not at:
            return

        def gone(path: KeyPath) -> bool:
            return path in at or any(path[:end] in under for end in range(len(path) + 1))

        for table in (self.values, self.keys):
            for path in [path for path in table if gone(path)]:
                del table[path]

    def restricted_to(self, data: Any) -> SourceMap:
        """Only the entries whose path still exists in ``data``."""
        return SourceMap(
            {p: m for p, m in self.values.items() if path_exists(data, p)},
            {p: m for p, m in self.keys.items() if path_exists(data, p)},
        )

    def rerooted(self, moves: dict[KeyPath, KeyPath]) -> SourceMap:
        """The entries under each old path of ``moves`` re-rooted at its new path (others
        dropped), in one pass over the map: moving subtrees one at a time rescans the whole
        map per move, quadratic in a file's steps. The old paths do not nest.
        """
        new_of: dict[KeyPath, KeyPath | None] = {(): moves.get(())}

        def new_path(path: KeyPath) -> KeyPath | None:  # each prefix worked out once
            if path in new_of:
                return new_of[path]
            found = moves.get(path)
            if found is None:
                parent = new_path(path[:-1])
                found = None if parent is None else (*parent, path[-1])
            new_of[path] = found
            return found

        def rerooted(table: dict[KeyPath, Mark]) -> dict[KeyPath, Mark]:
            return {
                new: mark for path, mark in table.items() if (new := new_path(path)) is not None
            }

        return SourceMap(rerooted(self.values), rerooted(self.keys))


@dataclass
class Document:
    """Config data as plain Python values, with its source map and origin."""

    data: Any
    source_map: SourceMap = field(default_factory=SourceMap)
    file: str | None = None
    chain: tuple[str, ...] = ()
    #: Problems found while reading that left the data usable (a YAML 1.1 boolean, a
    #: duplicate key): validation reports them with its own, so one error lists them all.
    problems: list[Problem] = field(default_factory=list)


def path_exists(data: Any, path: KeyPath) -> bool:
    node = data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            continue
        return False
    return True


def dotted(path: KeyPath) -> str:
    """``('transforms', 1, 'GaussNoise')`` → ``'transforms.1.GaussNoise'``."""
    return ".".join(str(p) for p in path)


def dotted_short(path: KeyPath, keep: int = 3) -> str:
    """``dotted(path)``, with only the first and last ``keep`` parts of a long path.

    For limits met deep inside a file: the full path of a value 64 levels down is hundreds
    of characters on one line; its start says where it is, its end what it was.
    """
    if len(path) <= 2 * keep + 1:
        return dotted(path)
    return dotted((*path[:keep], "…", *path[-keep:]))


def key_path(dotted_key: str) -> KeyPath:
    """``'transforms.0.GaussNoise.p'`` → ``('transforms', 0, 'GaussNoise', 'p')``.

    Only short runs of ASCII digits are indices (``int`` refuses 4,300 digits, and ``'²'``
    is a digit to ``str.isdigit``); anything else stays a key.
    """
    return tuple(
        int(part) if part.isascii() and part.isdigit() and len(part) <= 18 else part
        for part in dotted_key.split(".")
    )


#: How many characters of a value a message quotes: a 900 KB tag or string quoted whole
#: makes a 900 KB message, and the start of it is enough to find the value.
QUOTE_LIMIT = 80


def clipped(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` itself, or its first ``limit`` characters and how long it is."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def line_column(text: str | bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of position ``offset`` in ``text`` (characters or bytes)."""
    newline: Any = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, offset) + 1
    return line, offset - (text.rfind(newline, 0, offset) + 1) + 1


def problem_at(
    mark: Mark | None, field: str, message: str, hint: str | None = None, *, file: str | None = None
) -> Problem:
    """A problem placed at ``mark``; without one, in ``file`` with no line."""
    if mark is None:
        return Problem(file, None, None, field, message, hint)
    return Problem(mark.file, mark.line, mark.column, field, message, hint)
