"""OpenCV's internal thread count: the one process-wide, reference-counted pin to one thread.

confaug holds OpenCV at one thread for two reasons, through the same pin:

- **Its own threads are the parallelism.** A generator's worker threads (``batching.workers``)
  and Keras' threads each warp whole images; OpenCV's pool on top only oversubscribes.
- **Bits.** From OpenCV 5.1 on, a float32 bilinear ``cv2.warpAffine`` with a constant or
  replicated border gives results that depend on how ``parallel_for_`` splits the output rows
  into stripes (1 ulp at a few pixels: each stripe's rows are computed from the stripe's
  first row), so on ``cv2.getNumThreads()``; and a ``parallel_for_`` that starts while
  another thread's runs is done as one stripe, so with two threads warping at once the bits
  depend on which got OpenCV's pool first. 4.x and 5.0 compute every row alone. Held at one
  thread, such a warp is always one stripe: the result a worker (pinned) or a call that
  loses the race gets anyway, so it is the one confaug gives everywhere
  (:func:`striped_warp` says which warps; the batch path supplies the parallelism with its
  own two halves).

The pin is reference-counted: the first holder saves the count and sets 1, the last one
gives the saved count back, so overlapping holders in any threads never unpin one another
mid-warp. While it is held, other OpenCV work in the process runs on one thread too (speed
only); a ``cv2.setNumThreads`` the caller makes meanwhile is undone when the last holder
leaves, and one with a count above 1 would let striped warps run in stripes again.

Forks: a child forked while OpenCV's pool has threads inherits the pool without its threads,
and its first ``cv2.setNumThreads`` may block for ever. :func:`keep_usable_across_fork` makes
every later fork safe; a child forked before that is noted, and no pin changes OpenCV's
count there (:func:`pinned_if_safe`).
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType

import cv2
import numpy as np

_lock = threading.Lock()
_users = 0
_saved_threads = 0
_fork_saved_threads = 0
_fork_hooks = False
#: A child forked without the hooks of keep_usable_across_fork: OpenCV's thread count is
#: left alone in it (see pinned_if_safe).
_forked_unsafely = False


def _striped_version(version: str) -> bool:
    """Whether an OpenCV of this ``cv2.__version__`` may warp in thread-dependent stripes:
    5.1 and later (and a version that cannot be read, to be safe). 4.14 and 5.0 measured
    thread-independent; a later release is assumed not to be until measured
    (``tests/test_opencv_threads.py`` checks the installed one)."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return found is None or (int(found[1]), int(found[2])) >= (5, 1)


#: The installed OpenCV's float32 bilinear warps depend on its thread count (see above).
STRIPED_WARPS = _striped_version(cv2.__version__)
_STRIPED_BORDERS = (cv2.BORDER_CONSTANT, cv2.BORDER_REPLICATE)


def striped_warp(dtype: np.dtype, interpolation: int, border: int) -> bool:
    """Whether a ``cv2.warpAffine`` of ``dtype`` images with this interpolation and OpenCV
    border mode gives bits that depend on OpenCV's threads here (float32, ``INTER_LINEAR``,
    ``BORDER_CONSTANT`` or ``BORDER_REPLICATE`` under OpenCV 5.1; measured over every
    border, interpolation and dtype confaug warps with: nothing else does)."""
    return (
        STRIPED_WARPS
        and interpolation == cv2.INTER_LINEAR
        and border in _STRIPED_BORDERS
        and dtype == np.float32
    )


class _OneThread:
    """The pin itself: a re-usable, re-entrant context manager (a class, not a generator:
    a per-warp pin costs a lock and a counter when another holder has set the count)."""

    def __enter__(self) -> None:
        global _users, _saved_threads
        with _lock:
            if _users == 0:
                _saved_threads = cv2.getNumThreads()
                if _saved_threads != 1:
                    cv2.setNumThreads(1)
            _users += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        global _users
        with _lock:
            _users -= 1
            if _users == 0 and _saved_threads != 1:
                cv2.setNumThreads(_saved_threads)


_ONE_THREAD = _OneThread()
_NOTHING: AbstractContextManager[None] = nullcontext()


def one_thread() -> AbstractContextManager[None]:
    """Hold OpenCV at one internal thread until the block ends (reference-counted: the
    count saved by the first holder comes back when the last one leaves)."""
    return _ONE_THREAD


def pinned_if_safe() -> AbstractContextManager[None]:
    """:func:`one_thread`, or nothing in a child forked while this process was not keeping
    OpenCV usable across forks (see :func:`keep_usable_across_fork`), whose first
    ``cv2.setNumThreads`` may block for ever."""
    return _NOTHING if _forked_unsafely else _ONE_THREAD


def for_warp(dtype: np.dtype, interpolation: int, border: int) -> AbstractContextManager[None]:
    """What to hold around such a ``cv2.warpAffine``: the pin when its bits depend on
    OpenCV's threads (:func:`striped_warp`), else nothing (OpenCV keeps its threads)."""
    return pinned_if_safe() if striped_warp(dtype, interpolation, border) else _NOTHING


def holders() -> int:
    """How many holders the pin has now (0: OpenCV has the caller's count)."""
    return _users


def one_thread_for_good() -> None:
    """Hold OpenCV at one thread for the rest of this process (a worker process): the
    pin's holders then give 1 back, not the count saved before."""
    global _saved_threads
    with _lock:
        if cv2.getNumThreads() != 1:  # a forked child inherits 1: leave its copied pool alone
            cv2.setNumThreads(1)
        _saved_threads = 1


def _note_fork_in_child() -> None:
    global _forked_unsafely, _lock
    if not _fork_hooks:  # the hooks below leave the child's OpenCV pool safe to change
        _forked_unsafely = True
        # Another thread may have held the lock at the fork: the child has no such thread.
        _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_note_fork_in_child)


def keep_usable_across_fork() -> None:
    """Make every later ``os.fork`` of this process safe for OpenCV (hooks registered once).

    A child forked while OpenCV's thread pool has workers inherits the pool without its
    threads, and its first ``cv2.setNumThreads(1)`` blocks for ever. Around each fork OpenCV
    is held at one thread (which joins the workers), then both processes get their thread
    count back, so a child may change it safely (PyTorch's DataLoader workers fork).
    """
    global _fork_hooks
    with _lock:
        if _fork_hooks or not hasattr(os, "register_at_fork"):
            return
        _fork_hooks = True
    os.register_at_fork(
        before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork
    )


def _before_fork() -> None:
    global _fork_saved_threads
    _lock.acquire()  # released after the fork, in the parent and in the child
    _fork_saved_threads = cv2.getNumThreads()
    if _fork_saved_threads != 1:
        cv2.setNumThreads(1)


def _after_fork() -> None:
    try:
        if _fork_saved_threads != 1:
            cv2.setNumThreads(_fork_saved_threads)
    finally:
        _lock.release()
