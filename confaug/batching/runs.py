"""What ``BatchGenerator`` and ``AugmentedStream`` share: iterations that can be stopped.

Each ``iter()`` starts a new run (a generator that owns its workers); ``next()`` continues
one default run; ``close()``, ``with`` and garbage collection stop every run still going.

Lifetimes (ARCHITECTURE.md, "Lifetimes"): the owner keeps its default run, so that run must
not keep the owner, or the two are a cycle that only the cyclic collector frees (with the
source's arrays and the last batch). ``next()`` therefore starts it with ``self`` a
``weakref.proxy`` of the owner. A proxy's ``self.method`` is bound to the owner itself, so
a run never keeps one: what it keeps while it runs (another generator, a callable handed to
workers) is a function of what it reads, or a method called through the class
(``Cls.method(self, ...)``), which keeps the proxy. ``tests/test_release.py`` checks this
with the cyclic collector off.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Generator, Iterator
from typing import Any, TypeVar, cast

_Runs = TypeVar("_Runs", bound="ClosableRuns")


class ClosableRuns:
    """Base class: subclasses implement :meth:`_start` and call ``super().__init__()``.

    ``_start``'s ``self`` may be a weak proxy of the owner (see the module docstring)."""

    def __init__(self) -> None:
        self._running: weakref.WeakSet[Generator[Any, None, None]] = weakref.WeakSet()
        self._stream: Iterator[Any] | None = None
        # next() from several threads (as Keras' own iterators allow): a Python generator
        # raises "already executing" in the second, and that thread's batch is lost.
        self._next_lock = threading.Lock()

    def _start(self) -> Generator[Any, None, None]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        run = self._start()
        self._running.add(run)
        return run

    def __next__(self) -> Any:
        """The next batch of one continuing run (``next(obj)`` as with a generator); safe
        from several threads, which then take turns."""
        with self._next_lock:
            if self._stream is None:
                # The default run reaches its owner through a weak proxy (see the module
                # docstring): a flow() made per batch then frees its arrays when it is
                # dropped, not at the next collection.
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
