"""What ``BatchGenerator`` and ``AugmentedStream`` share: iterations that can be stopped.

Each ``iter()`` starts a new run (a generator that owns its workers) unless a subclass says
otherwise (an endless ``BatchGenerator``'s ``iter()`` continues its default run, as Keras'
iterators do); ``next()`` continues one default run; ``close()``, ``with`` and garbage
collection stop every run still going.

Closing from another thread: a run that is inside ``next()`` in another thread (a watchdog
or a signal handler closing a training loop's generator) cannot be closed from here, as
Python refuses ``close()`` on a generator that is executing ("generator already
executing"). So every run is started with a ``threading.Event`` and wrapped in
:func:`_guarded`, which ends the run as soon as the batch it is making is done: ``close()``
sets the event of every run, closes those it can, and leaves the executing ones to end
themselves in their own thread (their ``next()`` then raises ``StopIteration``, and their
workers are stopped there). A subclass whose run can also stop inside a batch overrides
:meth:`ClosableRuns._start_stoppable`, which is handed the event.

Lifetimes (ARCHITECTURE.md, "Lifetimes"): the owner keeps its default run, so that run must
not keep the owner, or the two are a cycle that only the cyclic collector frees (with the
source's arrays and the last batch). ``next()`` therefore starts it with ``self`` a
``weakref.proxy`` of the owner. A proxy's ``self.method`` is bound to the owner itself, so
a run never keeps one: what it keeps while it runs (another generator, a callable handed to
workers) is a function of what it reads, or a method called through the class
(``Cls.method(self, ...)``), which keeps the proxy. ``tests/test_release.py`` checks this
with the cyclic collector off.

A bad batch does not end a run: a run yields :class:`Raised` in its place, and ``next()``
raises its error, so the next ``next()`` gives the batch after it, as Keras' iterators go on
after a batch that raised (a Python generator that raises is over). A run started by
``iter()`` raises it there, and ends, as a generator does.

Pickling (and ``copy``) keeps the owner's own state and none of its runs: the copy has fresh
locks and no live run or workers, and its first ``next()`` starts a run of its own.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Generator, Iterator
from typing import Any, ClassVar, TypeVar, cast

_Runs = TypeVar("_Runs", bound="ClosableRuns")

#: The attributes :class:`ClosableRuns` keeps about its runs: never pickled or copied.
_RUN_STATE = ("_running", "_stream", "_next_lock", "_runs_lock")


class ClosableRuns:
    """Base class: subclasses implement :meth:`_start` (or :meth:`_start_stoppable`) and
    call ``super().__init__()``.

    ``_start``'s ``self`` may be a weak proxy of the owner (see the module docstring)."""

    #: Whether ``next()`` starts a new default run after the current one ended with an
    #: error (one it could not hand on as :class:`Raised`: none is expected), rather than
    #: raising ``StopIteration`` from then on.
    _restart_after_error: ClassVar[bool] = False

    def __init__(self) -> None:
        # Each running iteration (a _guarded generator) and the event that stops it.
        self._running: weakref.WeakKeyDictionary[Generator[Any, None, None], threading.Event]
        self._running = weakref.WeakKeyDictionary()
        self._runs_lock = threading.Lock()  # runs are started and closed from any thread
        self._stream: Iterator[Any] | None = None
        # next() from several threads (as Keras' own iterators allow): a Python generator
        # raises "already executing" in the second, and that thread's batch is lost.
        self._next_lock = threading.Lock()

    def _start(self) -> Generator[Any, None, None]:
        raise NotImplementedError

    def _start_stoppable(self, stop: threading.Event) -> Generator[Any, None, None]:
        """A new run; it may watch ``stop`` to end inside a batch when it is set. By
        default ``_start()``, which :func:`_guarded` then ends between batches."""
        # Through the class (``self`` may be a weak proxy, see the module docstring).
        return self.__class__._start(self)

    def _register(
        self, run: Generator[Any, None, None], stop: threading.Event, *, raising: bool = True
    ) -> Any:
        """``run`` guarded by ``stop``, known to :meth:`close`; with ``raising``, the error
        of a :class:`Raised` item is raised there (which ends it), else the item is passed
        on (to ``__next__``, which raises it and keeps the run)."""
        guarded = _guarded(run, stop, raising)
        with self._runs_lock:
            self._running[guarded] = stop
        return guarded

    def __iter__(self) -> Iterator[Any]:
        stop = threading.Event()
        return cast(Iterator[Any], self._register(self._start_stoppable(stop), stop))

    def __next__(self) -> Any:
        """The next batch of one continuing run (``next(obj)`` as with a generator); safe
        from several threads, which then take turns."""
        with self._next_lock:
            if self._stream is None:
                # The default run reaches its owner through a weak proxy (see the module
                # docstring): a flow() made per batch then frees its arrays when it is
                # dropped, not at the next collection.
                owner = cast(Any, weakref.proxy(self))
                stop = threading.Event()
                run = type(self)._start_stoppable(owner, stop)
                self._stream = ClosableRuns._register(self, run, stop, raising=False)
            stream = self._stream
            try:
                item = next(stream)
            except StopIteration:
                raise
            except BaseException:
                if self._restart_after_error and self._stream is stream:
                    self._stream = None  # it has ended: the next next() starts again
                raise
        if type(item) is Raised:
            # That batch is consumed by the raise; the run goes on with the next one.
            raise item.error
        return item

    def close(self) -> None:
        """Stop every running iteration and its workers, from any thread: a run that is
        making a batch in another thread ends when that batch is done (its ``next()``
        raises ``StopIteration``) and stops its workers there."""
        self._stream = None
        lock = self.__dict__.get("_runs_lock")
        if lock is None:  # __init__ failed (or never ran): no run was started
            return
        with lock:
            runs = list(self._running.items())
        for run, stop in runs:
            stop.set()
            try:
                run.close()
            except ValueError as exc:
                # Executing in another thread: it sees `stop` when its batch is done.
                if "already executing" not in str(exc):
                    raise

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in _RUN_STATE:  # no run, lock or worker goes into a copy
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        ClosableRuns.__init__(self)

    def __enter__(self: _Runs) -> _Runs:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class Raised:
    """What a run yields in place of a batch that raised ``error`` (see the module
    docstring): the run itself goes on."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _guarded(
    run: Generator[Any, None, None], stop: threading.Event, raising: bool = True
) -> Generator[Any, None, None]:
    """``run``'s items until ``stop`` is set; closing this closes ``run`` (its workers).
    With ``raising``, a :class:`Raised` item's error is raised here.

    A function of what it reads, not a method: it keeps no owner (see the module
    docstring)."""
    try:
        for item in run:
            if stop.is_set():  # closed from another thread while this item was made
                return
            if raising and type(item) is Raised:
                raise item.error
            yield item
    finally:
        run.close()
