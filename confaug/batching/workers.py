"""Run a loader over a stream of tasks in worker threads or processes, results in task order.

Prefetch is bounded: at most ``max(max_queue_size, workers)`` tasks are submitted ahead of
the consumer (both at most :data:`MAX_WORKERS` / :data:`MAX_QUEUE_SIZE`), and the queue
grows to that depth one task per result, so the first batch is not held back behind a deep
queue. Closing the generator (``break``, ``close()``, garbage collection, an exception such
as KeyboardInterrupt) stops every worker before it returns: threads finish the sample they
are on (or the standardization stage, with its ``preprocessing_function``, if the batch is
in it), processes are terminated.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, ExitStack, nullcontext
from multiprocessing.reduction import ForkingPickler
from typing import Any, Literal, TypeVar

import cv2
import numpy as np

from confaug.opencv_threads import (
    one_thread,
    one_thread_for_good,
    pinned_if_safe,
)

WorkerMode = Literal["thread", "process"]
TaskT = TypeVar("TaskT")
Loader = Callable[..., Any]

_JOIN_TIMEOUT = 1.0
_process_loader: Loader | None = None


#: Bounds on what a caller can make the generator hold: each queued task is a batch in
#: memory, and each worker a thread or a process.
MAX_QUEUE_SIZE = 1024
MAX_WORKERS = 1024


class WorkerProcessDied(RuntimeError):
    """A worker process ended without returning its batch (``__cause__`` is the pool's error)."""


def check_worker_options(
    workers: int, mode: str, max_queue_size: int, start_method: str = "spawn"
) -> None:
    """Raise ValueError for an unusable worker count, mode, queue size or start method."""
    if not isinstance(workers, (int, np.integer)) or isinstance(workers, bool) or workers < 0:
        raise ValueError(f"workers={workers!r}; expected an int >= 0")
    if workers > MAX_WORKERS:
        raise ValueError(f"workers={workers!r}; at most {MAX_WORKERS} (threads or processes)")
    if mode not in ("thread", "process"):
        raise ValueError(f"worker_mode={mode!r}; expected 'thread' or 'process'")
    if not isinstance(max_queue_size, int) or max_queue_size < 1:
        raise ValueError(f"max_queue_size={max_queue_size!r}; expected an int >= 1")
    if max_queue_size > MAX_QUEUE_SIZE:
        raise ValueError(
            f"max_queue_size={max_queue_size!r}; at most {MAX_QUEUE_SIZE} (every queued batch "
            "is held in memory)"
        )
    methods = multiprocessing.get_all_start_methods()
    if start_method not in methods:
        raise ValueError(f"start_method={start_method!r}; expected one of {methods}")


def ordered_map(
    loader: Loader,
    tasks: Iterable[TaskT],
    *,
    workers: int = 0,
    mode: WorkerMode = "thread",
    max_queue_size: int = 10,
    start_method: str = "spawn",
) -> Generator[tuple[TaskT, Any], None, None]:
    """Yield ``(task, loader(task, should_stop))`` in task order.

    ``workers=0`` runs in the caller's thread; threads share ``loader``; processes receive
    it once, pickled, at start-up (so an array source is copied into every process, and
    each iteration pays the processes' start-up). Exceptions raised by ``loader`` reach the
    caller with their traceback (for processes, as the ``__cause__`` text).
    """
    if workers == 0:
        for task in tasks:
            yield task, loader(task, None)
        return
    depth = max(min(max_queue_size, MAX_QUEUE_SIZE), workers)
    if mode == "thread":
        yield from _threaded(loader, iter(tasks), workers, depth)
    else:
        yield from _in_processes(loader, iter(tasks), workers, depth, start_method)


def _threaded(
    loader: Loader, tasks: Iterator[Any], workers: int, depth: int
) -> Generator[tuple[Any, Any], None, None]:
    stop = threading.Event()
    executor = ThreadPoolExecutor(workers, thread_name_prefix="confaug-worker")
    with one_thread():
        try:
            submit = lambda task: executor.submit(loader, task, stop.is_set)  # noqa: E731
            yield from _in_order(submit, tasks, depth, workers)
        finally:
            stop.set()
            executor.shutdown(wait=True, cancel_futures=True)


def _in_processes(
    loader: Loader, tasks: Iterator[Any], workers: int, depth: int, start_method: str
) -> Generator[tuple[Any, Any], None, None]:
    # A forked child inherits OpenCV's thread pool (its condition variables still counting the
    # parent's idle workers as waiters) but none of its threads, and cv2.setNumThreads(1) in
    # the child then blocks for ever in pthread_cond_destroy. One OpenCV thread in the parent
    # joins the pool's workers before the processes fork. A fork-started pool forks all of
    # them at its first submit, so the parent gets its OpenCV threads back right after.
    with ExitStack() as pin:
        if start_method == "fork":
            pin.enter_context(one_thread())
        # A spawned process unpickles what it is sent before it runs any of our code: an
        # error there (a memory-mapped file gone, see sources.arrays) killed it, and was
        # told as a dead worker with a hint about `__main__`. Sent as bytes, the loader is
        # unpickled in _start_process, which keeps the error for the first batch: the
        # caller gets it as it was raised. A forked process inherits the loader as it is.
        sent: Loader | _Shipped = loader if start_method == "fork" else _Shipped(loader)
        executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(start_method),
            initializer=_start_process,  # type: ignore[arg-type]  # (typeshed: no arguments)
            initargs=(sent,),  # type: ignore[arg-type]
        )

        def submit(task: Any) -> Future[Any]:
            try:  # a spawned process is sent the loader, pickled, when it starts
                future = executor.submit(_run_in_process, task)
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise TypeError(
                    f"worker_mode='process' with start_method={start_method!r} sends the "
                    f"pipeline and its source to each worker pickled, and they cannot be "
                    f"pickled ({exc}): a registered function must be defined at module level "
                    "(not a lambda or a nested function); or use worker_mode='thread'"
                    + (", or start_method='fork'" if "fork" in _START_METHODS else "")
                ) from exc
            pin.close()  # every process exists now; later calls find the stack empty
            return future

        waiting: list[Any] = []
        try:
            yield from _in_order(submit, tasks, depth, workers, waiting)
        except BrokenProcessPool as exc:
            raise WorkerProcessDied(
                f"a worker process ended without returning {_described(waiting)} ({exc}). With "
                f"start_method={start_method!r} "
                + (
                    "the script that creates the generator must guard its entry point with "
                    "`if __name__ == '__main__':`, or the workers re-run it and fail; "
                    if start_method != "fork"
                    else ""
                )
                + "other causes are running out of memory or a crash in native code. "
                "The worker's own error, if it printed one, is above."
            ) from exc
        finally:
            _terminate(executor)


def _in_order(
    submit: Callable[[Any], Future[Any]],
    tasks: Iterator[Any],
    depth: int,
    workers: int,
    waiting: list[Any] | None = None,
) -> Generator[tuple[Any, Any], None, None]:
    """Results in task order, with up to ``depth`` tasks submitted ahead: first one per
    worker, then one more per result, so that the first batch is not held back while a deep
    queue fills (an iterable's tasks are its batches, read as they are submitted).
    ``waiting`` holds the task whose result is awaited (for an error that names it).

    An exception from ``tasks`` itself (a user's iterable failing while it is read ahead)
    stops the reading and is raised where it stands in the order: after the results of the
    tasks read before it, and only when the consumer asks past them, as ``workers=0``
    raises it. Raised at once, it dropped finished batches, and surfaced while the
    consumer was still on earlier ones (or had stopped before the failing one)."""
    pending: deque[tuple[Any, Future[Any]]] = deque()
    limit = min(depth, max(workers, 1))
    failed: list[Exception] = []  # the exception ``tasks`` raised, held for its turn

    def fill() -> None:
        while len(pending) < limit and not failed:
            try:
                task = next(tasks, _END)
            except Exception as exc:  # not BaseException: Ctrl-C stops the consumer at once
                failed.append(exc)
                return
            if task is _END:
                return
            pending.append((task, submit(task)))

    fill()
    while pending:
        task, future = pending.popleft()
        limit = min(depth, limit + 1)
        fill()  # keep the workers busy while this result is consumed
        if waiting is not None:
            waiting[:] = [task]
        yield task, future.result()
    if failed:
        raise failed.pop()


_END = object()


def _described(waiting: list[Any]) -> str:
    """The awaited task, as an error names it: a generator's batch by its number, epoch and
    samples; any other task as "its batch"."""
    task = waiting[0] if waiting else None
    number, epoch = getattr(task, "number", None), getattr(task, "epoch", None)
    if number is None or epoch is None:
        return "its batch"
    indices = [int(i) for i in getattr(task, "indices", ())]
    shown = ", ".join(map(str, indices[:8])) + (", ..." if len(indices) > 8 else "")
    return f"batch {number} of epoch {epoch} (samples {shown})"


_START_METHODS = multiprocessing.get_all_start_methods()


class _Shipped:
    """A loader on its way to a spawned worker process: pickled, into bytes, as the process
    is started (by multiprocessing's pickler, so whatever it can send, this can), and
    unpickled there by :func:`_start_process`, which keeps what that raises."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def __reduce__(self) -> tuple[Any, ...]:
        return _Packed, (bytes(ForkingPickler.dumps(self.loader)),)


class _Packed:
    """A loader's bytes in the worker process, unpickled by :func:`_start_process`."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


def _start_process(sent: Loader | _Packed) -> None:
    global _process_loader
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    one_thread_for_good()
    loader: Loader
    if isinstance(sent, _Packed):
        try:
            loader = pickle.loads(sent.payload)
        except Exception as exc:  # raised for every batch: the caller gets it at the first
            loader = _Failed(exc)
    else:
        loader = sent
    _process_loader = loader


class _Failed:
    """The loader of a worker process that could not unpickle its own: raises that error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __call__(self, task: Any, should_stop: Any) -> Any:
        raise self.error


def _run_in_process(task: Any) -> Any:
    assert _process_loader is not None
    return _process_loader(task, None)


def _terminate(executor: Executor) -> None:
    """Shut a process pool down now: cancel queued work, terminate the workers, join."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + _JOIN_TIMEOUT
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    if manager is not None:
        manager.join(max(0.0, deadline - time.monotonic()))


def opencv_pinned_for_small_work() -> AbstractContextManager[None]:
    """The OpenCV pin around a short piece of work (a batch of small images), or nothing
    where it is needless (OpenCV at one thread already) or unsafe: in a child forked while
    this process was not keeping OpenCV usable across forks
    (:func:`confaug.opencv_threads.keep_usable_across_fork`), whose first
    ``cv2.setNumThreads`` may block for ever. (A warp whose bits need the pin takes it
    itself: this one is for speed.)"""
    if cv2.getNumThreads() == 1:
        return nullcontext()
    return pinned_if_safe()
