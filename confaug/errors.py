"""Errors raised for bad configs: every problem of a file at once, each with its position."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in a config.

    ``line`` and ``column`` are 1-based and point at the offending value (or key, for an
    unknown key); they are ``None`` when the config did not come from a file.
    """

    file: str | None
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = one_line(self.file or "<config>")
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: {one_line(self.field) or '<root>'}: {one_line(self.message, join=True)}"
        if self.hint:
            text += f" ({one_line(self.hint, join=True)})"
        return text

    def to_dict(self) -> dict[str, object]:
        """The problem as a JSON-ready mapping (for ``confaug validate --format json``)."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }


def one_line(text: str, *, join: bool = False) -> str:
    """``text`` on one line: a problem renders as exactly one line whatever a config holds.

    Names (files, fields) are escaped; messages (``join``) have their lines joined first.
    Every character that is not printable (line breaks, NEL, U+2028/9, controls, U+FEFF) is
    written as its escape, so the result also cannot end a YAML comment it is written into
    (``confaug resolve``'s header).
    """
    if text.isprintable():
        return text
    if join:
        text = " ".join(line.strip() for line in text.splitlines() if line.strip())
        if text.isprintable():
            return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


#: Problems a ConfigError's message shows, at most; the rest are counted. ``problems`` keeps
#: them all: reading's limits bound how many a config can have (a 1 MiB file of 60,000
#: unknown keys has 60,000, a 2.7 MB message when all were shown).
MAX_SHOWN_PROBLEMS = 50


def shown_problem_lines(problems: Sequence[Problem], where_all: str) -> list[str]:
    """``problems`` as lines, at most ``MAX_SHOWN_PROBLEMS`` of them and then one counting the
    rest, which says ``where_all`` every one is (``ConfigError``'s message and the CLI's)."""
    lines = [str(problem) for problem in problems[:MAX_SHOWN_PROBLEMS]]
    more = len(problems) - len(lines)
    if more:
        lines.append(f"… and {more:,} more problems ({len(problems):,} in all; {where_all})")
    return lines


class ConfigError(ValueError):
    """A config is invalid; ``problems`` lists every problem found, in file order.

    The message shows the first ``MAX_SHOWN_PROBLEMS`` and how many more there are.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        unique: dict[tuple[object, ...], Problem] = {}
        for problem in problems:
            key = (problem.file, problem.line, problem.column, problem.field, problem.message)
            unique.setdefault(key, problem)
        self.problems: list[Problem] = sorted(
            unique.values(),
            key=lambda p: (p.file or "", p.line or 0, p.column or 0, p.field),
        )
        lines = shown_problem_lines(self.problems, "every one is in ConfigError.problems")
        super().__init__("\n".join(lines) or "invalid config")

    @classmethod
    def single(
        cls,
        message: str,
        *,
        field: str = "",
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> ConfigError:
        """A ConfigError holding one problem."""
        return cls([Problem(file, line, column, field, message, hint)])


#: Did-you-mean hints one check computes at most. Each compares a word with every choice
#: (difflib: ~0.7 ms for a transform name), so a file of 40,000 misspelt names would spend
#: half a minute on hints; past the cap its problems are reported without one.
MAX_HINTS = 100
_hints_left: ContextVar[list[int] | None] = ContextVar("confaug_hints_left", default=None)


@contextmanager
def hint_budget(count: int = MAX_HINTS) -> Iterator[None]:
    """Inside the block, :func:`did_you_mean` gives at most ``count`` hints in all.

    A block inside another shares the outer one's budget.
    """
    if _hints_left.get() is not None:
        yield
        return
    token = _hints_left.set([count])
    try:
        yield
    finally:
        _hints_left.reset(token)


def did_you_mean(word: object, choices: Iterable[object]) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None when nothing is close.

    Case is ignored, and among close names a longer shared beginning wins: people misspell
    the middle of a name more often than its start (``GausBlur`` → ``GaussianBlur``, not
    ``GlassBlur``). Inside :func:`hint_budget`, None once the budget is spent.
    """
    import difflib
    from itertools import takewhile

    left = _hints_left.get()
    if left is not None and left[0] <= 0:
        return None
    # Names come from data (a key computed in Python may be an int or an enum): they are
    # compared as text, so a hint never fails on the very problem it explains.
    lowered: dict[str, str] = {}
    for choice in choices:
        lowered.setdefault(str(choice).lower(), str(choice))
    target = str(word).lower()
    # difflib's ratio is 2 * matches / (len(a) + len(b)): a word over three times as long as
    # every choice stays under the 0.6 cutoff, so it is not compared (that costs len(word)²).
    if not lowered or len(target) > 3 * max(map(len, lowered)):
        return None
    if left is not None:
        left[0] -= 1
    close = difflib.get_close_matches(target, list(lowered), n=5, cutoff=0.6)
    if not close:
        return None

    def score(candidate: str) -> float:
        ratio = difflib.SequenceMatcher(None, target, candidate).ratio()
        shared = sum(
            1
            for _ in takewhile(
                lambda pair: pair[0] == pair[1], zip(target, candidate, strict=False)
            )
        )
        return ratio + 0.05 * min(shared, 6)

    return f"did you mean '{lowered[max(close, key=score)]}'?"


class DataError(ValueError):
    """Bad input data (a corrupt file, a wrong shape, NaN in float input); names file or index."""


class ValueRangeWarning(UserWarning):
    """``value_range: auto`` chose a range the data only just falls into (floats a little
    above 1, read as 0–255): the config should say which range the data is in."""
