"""What ``BatchGenerator`` and ``AugmentedStream`` share: iterations that can be stopped.

Each ``iter()`` starts a new run (a generator that owns its workers); ``next()`` continues
one default run; ``close()``, ``with`` and garbage collection stop every run still going.
"""

from __future__ import annotations

import weakref
from collections.abc import Generator, Iterator
from typing import Any, TypeVar, cast

_Runs = TypeVar("_Runs", bound="ClosableRuns")


class ClosableRuns:
    """Base class: subclasses implement :meth:`_start` and call ``super().__init__()``."""

    def __init__(self) -> None:
        self._running: weakref.WeakSet[Generator[Any, None, None]] = weakref.WeakSet()
        self._stream: Iterator[Any] | None = None

    def _start(self) -> Generator[Any, None, None]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        run = self._start()
        self._running.add(run)
        return run

    def __next__(self) -> Any:
        """The next batch of one continuing run (``next(obj)`` as with a generator)."""
        if self._stream is None:
            # The default run reaches its owner through a weak proxy. A run holding the owner
            # (its frame's ``self``) while the owner holds the run is a cycle that only the
            # cyclic collector frees: every array the run holds (the source's, the last
            # batch) would outlive the owner until then. The seed's snippet builds a flow()
            # per batch, so that was a heap of dead batches and fresh pages on every call.
            owner = cast(Any, weakref.proxy(self))
            self._stream = run = type(self)._start(owner)
            self._running.add(run)
        return next(self._stream)

    def close(self) -> None:
        """Stop every running iteration and its workers."""
        self._stream = None
        for run in list(self.__dict__.get("_running", ())):  # also when __init__ failed
            run.close()

    def __enter__(self: _Runs) -> _Runs:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
