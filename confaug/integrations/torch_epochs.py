"""Which epoch each pass over a PyTorch dataset serves, the same in every DataLoader worker.

Every pass over ``DataLoader(dataset, ...)`` should be the next epoch — a new order and new
augmentation — without the user calling ``set_epoch``, the same for any ``num_workers``,
and with ``persistent_workers=True``. The main process cannot see a pass start (the
DataLoader never calls the dataset there), and each worker process holds its own copy of
the dataset, so the count lives in a small cell of shared memory (a torch tensor in shared
memory: a forked worker inherits it, a spawned one receives a handle to it):

- ``NEXT``: the epoch the next pass serves;
- ``CHOSEN`` and ``VERSION``: the epoch last chosen in the main process (``set_epoch``, or
  a pass the main process ran itself) and how many times one was chosen. Only the main
  process writes them.

A copy of the dataset made for a worker (pickled for ``spawn``/``forkserver``, or at
``os.fork``) records ``NEXT`` and ``VERSION`` as they are then, in the main process. A
DataLoader starts all the workers of an iterator before it sends any of them work, so all of
them record the same values. Then:

- a fresh copy (every pass of non-persistent workers; the first pass of persistent ones)
  serves the recorded ``NEXT``;
- a persistent worker's later passes (PyTorch calls ``iter`` on its copy again) serve the
  epoch after its previous one, or ``CHOSEN`` when ``VERSION`` has changed since;
- worker 0, before it makes its first batch of a pass serving ``e``, sets ``NEXT = e + 1``:
  the main process receives that batch only after the write, so the copies made for the
  next pass record it. A pass counts once it has given a batch (an iterator dropped before
  its first batch may or may not count);
- a pass in the main process (``num_workers=0``, or iterating the dataset) serves ``NEXT``
  and, before its first batch, chooses ``e + 1``.

Nothing is decided by timing between workers, so the epochs — and the pixels — are the same
for any number of workers, fork or spawn, persistent or not. One dataset shared by two
DataLoaders that are alive at once counts the passes of a persistent one separately; call
``set_epoch`` there.
"""

from __future__ import annotations

import operator
import os
import threading
import weakref
from typing import Any

from confaug.integrations.frameworks import import_torch

_NEXT, _CHOSEN, _VERSION = 0, 1, 2
_live: weakref.WeakSet[EpochClock] = weakref.WeakSet()
_hook_lock = threading.Lock()
_hooked = False


class EpochClock:
    """The epoch of each pass over one dataset (see the module docstring)."""

    def __init__(self, start: int) -> None:
        torch = import_torch()
        self._cell = torch.tensor([start, start, 0], dtype=torch.int64).share_memory_()
        self._view = self._cell.numpy()
        self._recorded = (int(start), 0)  # (NEXT, VERSION) when this copy was made
        self._pid: int | None = os.getpid()
        self._version = 0
        self._last = int(start)
        _watch(self)

    # ---- pickling: a copy records the cell as it is now ---------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_view"]
        state["_recorded"] = self._read()
        state["_pid"] = None  # a fresh copy wherever it is unpickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if not self._cell.is_shared():  # a plain pickle copied the numbers: share them again
            self._cell.share_memory_()
        self._view = self._cell.numpy()
        _watch(self)

    def _read(self) -> tuple[int, int]:
        return int(self._view[_NEXT]), int(self._view[_VERSION])

    def _record(self) -> None:
        """Called before ``os.fork`` in the main process: what the child's copy records."""
        self._recorded = self._read()

    # ---- the main process -----------------------------------------------------------------
    @property
    def next_epoch(self) -> int:
        """The epoch the next pass serves (and that items read by index come from)."""
        return int(self._view[_NEXT])

    @property
    def chosen(self) -> bool:
        """Whether an epoch was ever chosen (``set_epoch`` or a pass in the main process)."""
        return int(self._view[_VERSION]) > 0

    def choose(self, epoch: int) -> None:
        """Make ``epoch`` the next pass's epoch, in every worker (``set_epoch``)."""
        self._view[_CHOSEN] = epoch
        self._view[_VERSION] += 1
        self._view[_NEXT] = epoch

    def claim(self) -> int:
        """In the main process: the epoch of a pass starting now, counted at once."""
        epoch = self.next_epoch
        self.choose(epoch + 1)
        return epoch

    # ---- a pass -------------------------------------------------------------------------
    def begin(self, worker: Any) -> int:
        """The epoch of a pass starting in this process; ``worker`` is
        ``torch.utils.data.get_worker_info()`` (None in the main process)."""
        if worker is None:
            return self.next_epoch
        if self._pid != os.getpid():  # the first pass of this copy
            self._pid = os.getpid()
            epoch, self._version = self._recorded
        else:
            version = int(self._view[_VERSION])
            if version != self._version:
                self._version = version
                epoch = int(self._view[_CHOSEN])
            else:
                epoch = self._last + 1
        self._last = epoch
        return epoch

    def started(self, epoch: int, worker: Any) -> None:
        """Called before the first batch of a pass serving ``epoch``: the pass counts."""
        if worker is None:
            self.choose(epoch + 1)
        elif worker.id == 0:
            self._view[_NEXT] = epoch + 1


def _watch(clock: EpochClock) -> None:
    """Keep ``clock`` recorded at every ``os.fork`` of this process (one hook for all)."""
    global _hooked
    _live.add(clock)
    with _hook_lock:
        if _hooked or not hasattr(os, "register_at_fork"):
            return
        _hooked = True
    os.register_at_fork(before=_record_all)


def _record_all() -> None:
    for clock in list(_live):
        clock._record()


def as_index(key: Any) -> tuple[int | None, int]:
    """``(epoch, index)`` of an item key: an int (epoch None) or ``(epoch, index)`` as
    :class:`EpochSampler`-style samplers yield; the index is range-checked by the caller.

    Integers are read through ``__index__`` (a NumPy integer, a one-element integer tensor
    from ``torch.randperm``), never ``int()``: a float or a string is not a key."""
    if isinstance(key, tuple) and len(key) == 2:
        epoch, index = _integer(key[0]), _integer(key[1])
        if epoch is None or index is None:
            raise TypeError(f"an item key (epoch, index) holds two ints; got {key!r}")
        return checked_epoch(epoch, f"the epoch of item key {key!r}"), index
    index = _integer(key)
    if index is None:
        raise TypeError(f"an item key is an int or (epoch, index); got {key!r}")
    return None, index


def checked_epoch(epoch: Any, what: str = "epoch") -> int:
    """``epoch`` as an int, refused in our words unless an int in ``0 .. 2**63 - 2`` (the
    shared cell is int64, and a pass writes ``epoch + 1``): NumPy's seeding would refuse a
    negative epoch with "expected non-negative integer", far from the call."""
    value = _integer(epoch)
    if value is None or not 0 <= value <= _MAX_EPOCH:
        raise ValueError(f"{what} is {epoch!r}; expected an int from 0 to 2**63 - 2")
    return value


_MAX_EPOCH = 2**63 - 2


def _integer(value: Any) -> int | None:
    """``value`` as an int when it is an integer (not a bool); else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


__all__ = ["EpochClock", "as_index", "checked_epoch"]
