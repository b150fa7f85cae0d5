"""``BatchGenerator``: augmented batches from an indexed source, as Keras' iterators give them.

Order, seeds and sharding
    Epoch ``e`` visits samples in ``epoch_order(seed, e)`` (a seeded permutation when
    shuffling); rank ``r`` of ``world_size`` takes every ``world_size``-th sample of it. By
    default (``even_shards=True``) the order is first padded cyclically so that every rank
    gets the same number of samples, as PyTorch's ``DistributedSampler`` does (at most
    ``world_size - 1`` samples then appear twice); ``even_shards=False`` gives disjoint shards
    that cover the epoch exactly once, their sizes differing by at most one. Sample ``i`` of
    epoch ``e`` is augmented with a seed derived from ``(seed, e, i)`` only, so batches are
    bitwise identical for any number or kind of workers, and for iteration versus
    ``__getitem__``.

Skipped files (``on_error="skip"``)
    A file that cannot be decoded is logged once (logger ``"confaug"``), recorded once in
    ``skipped`` as ``(path, reason)``, and left out. Iteration refills: later samples move
    forward, so every batch is full except the epoch's last, and each readable sample still
    appears exactly once per epoch; an epoch may then yield fewer batches than ``len()``.
    ``__getitem__(i)`` cannot know about files it has not read yet, so the batch it returns
    is shorter by the samples skipped in it; when every one of them is skipped, it returns
    the next batch of the epoch that has a readable sample (in the epoch's order, wrapping
    round) rather than failing, so ``model.fit`` and the adapters, which index, go on.

Skipped files on shards (``world_size > 1``)
    Distributed training needs every rank to take the same number of steps, and no rank can
    know what another skips. So a sharded iteration yields exactly ``len()`` batches per
    epoch, each of the size it has without skips (full, the last one short unless
    ``drop_last``): after refilling from its later samples, a rank that still lacks samples
    pads with its own readable samples of the epoch, taken again from the start of its shard
    in epoch order (and augmented as before: the same seed, the same pixels). Every readable
    sample still appears at least once per epoch; a rank repeats at most as many samples as
    it skipped, as ``even_shards`` repeats up to ``world_size - 1``. ``len()`` is then the
    same on every rank (with ``even_shards``), and so is the number of steps. A rank none of
    whose samples of an epoch is readable raises a DataError.
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
from collections.abc import Generator, Iterator
from typing import Any, get_args

import numpy as np

from confaug.batching.collate import Batch, concat, take
from confaug.batching.loader import (
    BatchLoader,
    LoadResult,
    OnError,
    SkipLog,
    Task,
    require_batch,
    stand_in,
)
from confaug.batching.order import RankOrder
from confaug.batching.protocol import SamplePipeline
from confaug.batching.runs import ClosableRuns
from confaug.batching.workers import WorkerMode, check_worker_options, ordered_map
from confaug.seeding import resolve_seed
from confaug.sources.base import Source
from confaug.sources.errors import DataError

_SOURCE_ATTRIBUTES = frozenset(
    {
        "class_indices",
        "filenames",
        "classes",
        "filepaths",
        "labels",
        "num_classes",
        "samples",
        "invalid_filenames",
    }
)


def batch_number(index: Any) -> int:
    """``index`` as a batch number; a TypeError unless it is an integer (a float or a
    string would fail deep inside, or pick a batch by accident)."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"a batch index must be an integer, got {type(index).__name__} {index!r}")
    return int(index)


class BatchGenerator(ClosableRuns):
    """Batches ``x``, ``(x, y)`` or ``(x, y, w)`` from ``source``, augmented by ``pipeline``.

    ``len()`` is the number of batches per epoch of this rank (ceil, or floor with
    ``drop_last``). Iterating runs ``epochs`` epochs from ``epoch`` on (None: forever, like
    Keras' ``next()``); ``__getitem__`` and ``on_epoch_end`` give Keras ``PyDataset`` access.
    ``workers`` > 0 runs that many threads (or processes with ``worker_mode="process"``,
    started with ``start_method``; the pipeline and source must pickle), keeping at most
    ``max_queue_size`` batches ahead. Folder and table sources also expose Keras' attributes
    (``class_indices``, ``filenames``, ``classes``, ``filepaths``, ``labels``,
    ``invalid_filenames``).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> BatchGenerator:
        if "keras" in sys.modules:  # then it is a keras.utils.PyDataset too, for model.fit
            # A façade, as as_keras: the adapter sits a layer above, imported on use, upward.
            from confaug.integrations.keras_fit import fit_ready_class

            cls = fit_ready_class(cls)
        return super().__new__(cls)

    def __init__(
        self,
        source: Source,
        pipeline: SamplePipeline,
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
        epochs: int | None = None,
        workers: int = 0,
        worker_mode: WorkerMode = "thread",
        start_method: str = "spawn",
        max_queue_size: int = 10,
        rank: int = 0,
        world_size: int = 1,
        even_shards: bool = True,
        on_error: OnError = "raise",
    ) -> None:
        _check_options(batch_size, epochs, on_error)
        check_worker_options(workers, worker_mode, max_queue_size, start_method)
        if not 0 <= rank < world_size:
            raise ValueError(f"rank={rank!r} must satisfy 0 <= rank < world_size={world_size!r}")
        if world_size > 1 and shuffle and seed is None:
            raise ValueError("world_size > 1 with shuffle needs a seed shared by every rank")
        self.source = source
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = resolve_seed(seed)
        self.drop_last = drop_last
        self.epochs = epochs
        self.workers = workers
        self.worker_mode: WorkerMode = worker_mode
        self.start_method = start_method
        self.max_queue_size = max_queue_size
        self.rank = rank
        self.world_size = world_size
        #: Shards padded to equal size (see ``order.shard``); False gives an exact cover.
        self.even_shards = even_shards
        self.on_error: OnError = on_error
        #: The epoch that ``__getitem__`` serves and the next iteration starts with.
        self.epoch = 0
        self._skips = SkipLog()
        self._loader = BatchLoader(source, pipeline, self.seed, on_error)
        self._lock = threading.Lock()
        self._order = RankOrder(len(source), self.seed, shuffle, rank, world_size, even=even_shards)
        super().__init__()
        if len(self) == 0:
            raise ValueError(
                f"no batches: {self._order.size} sample(s) for rank "
                f"{rank}, batch_size={batch_size}, drop_last={drop_last}"
            )

    def __repr__(self) -> str:
        workers = f"{self.workers} {self.worker_mode} workers" if self.workers else "no workers"
        shard = f", rank {self.rank} of {self.world_size}" if self.world_size > 1 else ""
        return (
            f"<BatchGenerator: {self._order.size} samples from {type(self.source).__name__}, "
            f"{len(self)} batches of {self.batch_size}, "
            f"{'shuffled' if self.shuffle else 'in order'}, seed {self.seed}, {workers}{shard}; "
            "model.fit(gen.as_keras()), DataLoader(gen.as_torch(), batch_size=None)>"
        )

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """``(path, reason)`` of every file skipped so far, each file once."""
        return self._skips.entries

    def __len__(self) -> int:
        count = self._order.size
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        """Batch ``index`` of the current ``epoch`` (Keras ``PyDataset`` access)."""
        index = batch_number(index)
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range; this generator has {len(self)}")
        epoch = self.epoch
        with self._lock:
            indices = self._order.batch(epoch, index, self.batch_size)
        result = self._loader(Task(epoch, index, False, indices))
        self._record(result.skipped)
        if result.batch is None and self.on_error == "skip":
            result = self._stand_in(epoch, index)
        return require_batch(result, index).output()

    def _stand_in(self, epoch: int, index: int) -> LoadResult:
        """For batch ``index``, all of whose samples were skipped: the next batch of the
        epoch with a readable sample (wrapping round), at most one epoch's reading; the
        empty result when there is none, which ``require_batch`` then reports."""

        def indices_of(number: int) -> np.ndarray:
            with self._lock:
                return self._order.batch(epoch, number, self.batch_size)

        return stand_in(self._loader, indices_of, len(self), epoch, index, self._record)

    def on_epoch_end(self) -> None:
        """Move to the next epoch: new order, new augmentation (Keras calls this)."""
        self.epoch += 1

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """This rank's sample indices for ``epoch``, in order."""
        with self._lock:
            return self._order(epoch)

    def __next__(self) -> Any:
        """The next batch of one endless (or ``epochs``-long) stream, as Keras' ``next()``."""
        return super().__next__()

    def __getattr__(self, name: str) -> Any:
        if name in _SOURCE_ATTRIBUTES and "source" in self.__dict__:
            return getattr(self.source, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def as_keras(self, **options: Any) -> Any:
        """A Keras ``PyDataset`` over this generator (``confaug.integrations.keras``)."""
        # A façade method: the adapter sits a layer above, so it is imported on use, upward.
        from confaug.integrations.keras import to_keras

        return to_keras(self, **options)

    def as_torch(self, **options: Any) -> Any:
        """A PyTorch dataset over this generator (``confaug.integrations.torch``)."""
        # A façade method: the adapter sits a layer above, so it is imported on use, upward.
        from confaug.integrations.torch import to_torch

        return to_torch(self, **options)

    def as_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` over this generator (``confaug.integrations.tf``)."""
        # A façade method: the adapter sits a layer above, so it is imported on use, upward.
        from confaug.integrations.tf import to_tf

        return to_tf(self, **options)

    def _start(self) -> Generator[Any, None, None]:
        first = self.epoch
        epochs = (
            itertools.count(first) if self.epochs is None else range(first, first + self.epochs)
        )
        results = ordered_map(
            self._loader,
            self._tasks(epochs),
            workers=self.workers,
            mode=self.worker_mode,
            max_queue_size=self.max_queue_size,
            start_method=self.start_method,
        )
        refill = _Refill(self.batch_size, self.source.describe)
        yielded = 0
        readable: list[np.ndarray] = []  # this epoch's samples read, in order (for padding)
        sharded = self.world_size > 1
        try:
            for task, result in results:
                self._record(result.skipped)
                if sharded and result.batch is not None:
                    readable.append(result.batch.indices)
                for batch in refill.add(result.batch):
                    yielded += 1
                    yield batch.output()
                if task.last:
                    tail = refill.flush()
                    if sharded:
                        # Called through the class: the generator then holds this run's
                        # ``self`` (see ClosableRuns.__next__), not a bound method's.
                        padded = BatchGenerator._padded(self, task.epoch, tail, yielded, readable)
                        for batch in padded:
                            yielded += 1
                            yield batch.output()
                        readable = []
                    elif tail is not None and not self.drop_last:
                        yielded += 1
                        yield tail.output()
                    if yielded == 0:
                        raise DataError(
                            f"epoch {task.epoch} gave no batch: every sample was skipped, or "
                            "fewer than batch_size were readable with drop_last"
                        )
                    yielded = 0
                    self.epoch = task.epoch + 1
        finally:
            results.close()

    def _batch_sizes(self) -> list[int]:
        """The size of each of the ``len()`` batches of an epoch without skips."""
        count, size = self._order.size, self.batch_size
        sizes = [size] * (count // size)
        if count % size and not self.drop_last:
            sizes.append(count % size)
        return sizes

    def _padded(
        self, epoch: int, tail: Batch | None, yielded: int, readable: list[np.ndarray]
    ) -> Iterator[Batch]:
        """The batches that bring a sharded epoch to ``len()`` (see the module docstring):
        ``tail`` (the refill's short remainder) topped up with this epoch's ``readable``
        samples, taken again in order, cyclically."""
        missing = self._batch_sizes()[yielded:]
        need = sum(missing) - (0 if tail is None else len(tail))
        pieces = [] if tail is None else [tail]
        pool = np.concatenate(readable) if readable else np.zeros(0, dtype=np.int64)
        taken = 0
        while need > 0:
            if not len(pool):
                raise DataError(
                    f"rank {self.rank}: no sample of its shard of epoch {epoch} could be read, "
                    "so it cannot take its len() steps; see gen.skipped"
                )
            chunk = np.resize(np.roll(pool, -(taken % len(pool))), min(need, len(pool)))
            result = self._loader(Task(epoch, len(self) + taken, False, chunk))
            self._record(result.skipped)
            taken += len(chunk)
            if result.skipped:  # readable before, unreadable now (changed on disk): not again
                failed = np.setdiff1d(chunk, _kept(result))
                pool = pool[~np.isin(pool, failed)]
            if result.batch is not None:
                pieces.append(result.batch)
                need -= len(result.batch)
        if not missing:
            return
        joined = concat(pieces, self.source.describe)
        start = 0
        for size in missing:
            yield take(joined, start, start + size)
            start += size

    def _tasks(self, epochs: Iterator[int] | range) -> Iterator[Task]:
        # A dropped tail can only refill a batch when samples may be skipped.
        planned = len(self) * self.batch_size if self.on_error == "raise" else None
        return _epoch_tasks(epochs, self._order, self._lock, self.batch_size, planned, self.workers)

    def _record(self, skipped: list[tuple[str, str]]) -> None:
        if skipped:
            with self._lock:
                self._skips.add(skipped)


class _Refill:
    """Re-cuts batches after skips so that only an epoch's last batch is short."""

    def __init__(self, batch_size: int, describe: Any) -> None:
        self.batch_size = batch_size
        self.describe = describe
        self.pieces: list[Batch] = []

    def add(self, batch: Batch | None) -> Iterator[Batch]:
        """Full batches that are ready once ``batch`` is added."""
        if batch is None or len(batch) == 0:
            return
        if not self.pieces and len(batch) == self.batch_size:
            yield batch
            return
        self.pieces.append(batch)
        while sum(len(piece) for piece in self.pieces) >= self.batch_size:
            joined = concat(self.pieces, self.describe)
            rest = take(joined, self.batch_size)
            self.pieces = [rest] if len(rest) else []
            yield take(joined, 0, self.batch_size)

    def flush(self) -> Batch | None:
        """The short remainder of an epoch, if any."""
        pieces, self.pieces = self.pieces, []
        return concat(pieces, self.describe) if pieces else None


def _epoch_tasks(
    epochs: Iterator[int] | range,
    order: RankOrder,
    lock: threading.Lock,
    batch_size: int,
    planned: int | None,
    workers: int,
) -> Iterator[Task]:
    """The loading tasks of ``epochs``: the first ``planned`` samples of each epoch's order
    (all of them when None), a task per batch. A function of what it reads, not a method:
    the generator then holds no reference to its BatchGenerator (see ClosableRuns.__next__).
    """
    final_epoch = epochs[-1] if isinstance(epochs, range) else None
    for epoch in epochs:
        with lock:
            indices = order(epoch)[:planned]
        starts = range(0, len(indices), batch_size)
        for number, start in enumerate(starts):
            last = number == len(starts) - 1
            batch = indices[start : start + batch_size]
            if last and epoch == final_epoch and workers > 1:
                # The run's last batch alone would leave the other workers idle for a
                # whole batch; its pieces are joined again before they are yielded.
                pieces = [p for p in np.array_split(batch, workers) if len(p)]
                for piece in pieces[:-1]:
                    yield Task(epoch, number, False, piece)
                batch = pieces[-1]
            yield Task(epoch, number, last, batch)


def _kept(result: LoadResult) -> np.ndarray:
    return np.zeros(0, dtype=np.int64) if result.batch is None else result.batch.indices


def _check_options(batch_size: int, epochs: int | None, on_error: str) -> None:
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected a positive int")
    if epochs is not None and (not isinstance(epochs, (int, np.integer)) or epochs < 1):
        raise ValueError(f"epochs={epochs!r}; expected a positive int or None (endless)")
    if on_error not in get_args(OnError):
        raise ValueError(f"on_error={on_error!r}; expected 'raise' or 'skip'")
