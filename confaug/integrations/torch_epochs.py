"""Which epoch each pass over a PyTorch dataset serves, the same in every DataLoader worker.

Every pass over ``DataLoader(dataset, ...)`` should be the next epoch — a new order and new
augmentation — without the user calling ``set_epoch``, the same for any ``num_workers``,
and with ``persistent_workers=True``. Each worker process holds its own copy of the dataset,
so the count lives in a small cell of shared memory (a torch tensor in shared memory: a
forked worker inherits it, a spawned one receives a handle to it):

- ``NEXT``: the epoch the next pass serves;
- ``CHOSEN`` and ``VERSION``: the epoch last chosen in the main process (``set_epoch``, or
  a pass the main process counted) and how many times one was chosen. Only the main
  process writes them.

A pass counts when it starts, in the main process, so that which epoch it serves never
depends on timing between processes:

- a pass in the main process (``num_workers=0``, or iterating the dataset) serves ``NEXT``
  and chooses ``NEXT + 1`` when ``iter()`` is called;
- a DataLoader iterator with workers makes a copy of the dataset for each worker, in the
  main process, one worker after another (at ``os.fork``, or pickled for
  ``spawn``/``forkserver``). At the first copy made for a new iterator over this dataset
  (found on the call stack: torch's ``_MultiProcessingDataLoaderIter.__init__``) the main
  process counts the pass as above, and every copy for that iterator records the same
  epoch. Two iterators alive at once (``zip(dl, dl)``) so serve two whole epochs, one each,
  as with ``num_workers=0``;
- a persistent worker's later passes (PyTorch calls ``iter`` on its copy again; the main
  process sees nothing) serve the epoch after its previous one, or ``CHOSEN`` when
  ``VERSION`` has changed since; worker 0 sets ``NEXT = e + 1`` before its first batch of
  such a pass serving ``e``;
- a copy made otherwise (the dataset inside a ``ChainDataset``, a plain pickle) records
  ``NEXT`` and ``VERSION`` as they are, and its worker 0 counts its pass as just said.

So the epochs — and the pixels — are the same for any number of workers, fork or spawn,
persistent or not. One dataset shared by two DataLoaders that are alive at once counts the
later passes of a persistent one separately; call ``set_epoch`` there.
"""

from __future__ import annotations

import operator
import os
import sys
import threading
import warnings
import weakref
from typing import Any

from confaug.integrations.frameworks import import_torch

_NEXT, _CHOSEN, _VERSION = 0, 1, 2
_live: weakref.WeakSet[EpochClock] = weakref.WeakSet()
_hook_lock = threading.Lock()
_hooked = False


class EpochClock:
    """The epoch of each pass over one dataset (see the module docstring)."""

    def __init__(self, start: int, *, worker_passes: bool = False) -> None:
        torch = import_torch()
        self._cell = torch.tensor([start, start, 0], dtype=torch.int64).share_memory_()
        self._view = self._cell.numpy()
        #: Whether a pass of DataLoader workers over this clock's dataset is counted when
        #: the workers are made (the batch view); the sample view's sampler counts its own.
        self._worker_passes = worker_passes
        # (epoch, VERSION, counted) when this copy was made; counted: the main process
        # counted the pass this copy serves first.
        self._recorded = (int(start), 0, False)
        self._counted_for: weakref.ref[Any] | None = None  # the iterator last counted
        self._pid: int | None = os.getpid()
        self._version = 0
        self._last = int(start)
        _watch(self)

    # ---- pickling: a copy records the cell as it is now ---------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_view"]
        self._record(_loader_iterator())
        state["_recorded"] = self._recorded
        state["_counted_for"] = None
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

    def _record(self, iterator: Any) -> None:
        """In the main process, before a copy is made (``os.fork``, pickling): what the
        copy records. ``iterator`` is the DataLoader iterator making its workers now, if
        any; the first copy for an iterator over this clock's dataset counts its pass, and
        all its copies record that epoch."""
        dataset = getattr(iterator, "_dataset", None)
        if not self._worker_passes or getattr(dataset, "clock", None) is not self:
            self._recorded = (*self._read(), False)
            return
        counted = self._counted_for() if self._counted_for is not None else None
        if counted is not iterator:
            epoch = self.claim()
            self._counted_for = weakref.ref(iterator)
            self._recorded = (epoch, int(self._view[_VERSION]), True)

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
    def begin(self, worker: Any) -> tuple[int, bool]:
        """``(epoch, counted)`` of a pass starting in this process; ``worker`` is
        ``torch.utils.data.get_worker_info()`` (None in the main process). Unless
        ``counted``, worker 0 calls :meth:`started` before its first batch."""
        if worker is None:
            return self.claim(), True
        if self._pid != os.getpid():  # the first pass of this copy
            self._pid = os.getpid()
            epoch, self._version, counted = self._recorded
        else:  # a persistent worker's later pass: the main process did not see it start
            counted = False
            version = int(self._view[_VERSION])
            if version != self._version:
                self._version = version
                epoch = int(self._view[_CHOSEN])
            else:
                epoch = self._last + 1
        self._last = epoch
        return epoch, counted

    def started(self, epoch: int) -> None:
        """In worker 0, before the first batch of an uncounted pass serving ``epoch``: the
        main process receives that batch only after the write, so later copies record it."""
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
    iterator = _loader_iterator()
    for clock in list(_live):
        clock._record(iterator)


def _loader_iterator() -> Any:
    """The DataLoader iterator making its worker processes now (torch's
    ``_MultiProcessingDataLoaderIter.__init__`` on the call stack), or None.

    The main process runs no dataset code when an iterator starts its workers; the copies
    it makes of the dataset for them, one after another inside that ``__init__``, are the
    only moment the start of the pass is visible there, in order with ``iter()`` calls."""
    module = sys.modules.get("torch.utils.data.dataloader")
    init = getattr(getattr(module, "_MultiProcessingDataLoaderIter", None), "__init__", None)
    code = getattr(init, "__code__", None)
    if code is None:
        if module is not None:
            _warn_iterator_not_found(module)
        return None
    frame: Any = sys._getframe(1)
    for _ in range(64):  # fork/pickle -> Process.start -> Popen -> ... -> the iterator
        if frame is None:
            return None
        if frame.f_code is code:
            return frame.f_locals.get("self")
        frame = frame.f_back
    return None


_warned_not_found = False


def _warn_iterator_not_found(module: Any) -> None:
    """Say once per process that torch's multi-process iterator is not where it was: the
    passes of workers are then counted by the workers themselves, which ``zip(dl, dl)``
    (two iterators alive at once) can mix, so the user knows to call ``set_epoch``."""
    global _warned_not_found
    if _warned_not_found:
        return
    _warned_not_found = True
    version = getattr(sys.modules.get("torch"), "__version__", "?")
    warnings.warn(
        f"confaug cannot find torch.utils.data.dataloader._MultiProcessingDataLoaderIter "
        f"in torch {version} (module {getattr(module, '__name__', module)!r}), where it "
        "counts each DataLoader pass with workers as it starts: passes are now counted by "
        "the workers, and two iterators of one DataLoader alive at once (zip(dl, dl)) may "
        "serve mixed epochs. Call ds.set_epoch(epoch) before each pass to choose them",
        RuntimeWarning,
        stacklevel=3,
    )


_KEY_ONLY_FOR_ITS_DATASET = (
    "an item key of TorchSamples.sampler() is (epoch, index) and fits only that dataset, "
    "not a torch Subset or ConcatDataset around it: wrap the indices in the sampler "
    "instead (ds.sampler(SubsetRandomSampler(indices))), or give the wrapper an ordinary "
    "sampler and call ds.set_epoch(e) on each part"
)


class EpochKey(tuple[int, int]):
    """``(epoch, index)`` as :class:`EpochSampler` yields it. Used as a plain index — by a
    ``Subset`` (``indices[key]``) or ``ConcatDataset`` (``key < 0``) that the sampler's
    dataset was wrapped in — it says so, where torch said "list indices must be integers
    or slices, not tuple"."""

    __slots__ = ()

    def __index__(self) -> int:
        raise TypeError(_KEY_ONLY_FOR_ITS_DATASET)

    def __lt__(self, other: Any) -> bool:
        if isinstance(other, tuple):
            return tuple.__lt__(self, other)
        raise TypeError(_KEY_ONLY_FOR_ITS_DATASET)

    def __reduce__(self) -> Any:  # pickled to the workers as the class and two ints
        return (EpochKey, (tuple(self),))


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


__all__ = ["EpochClock", "EpochKey", "as_index", "checked_epoch"]
