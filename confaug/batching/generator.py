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

import copy
import functools
import itertools
import math
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import Any, cast, get_args

import numpy as np

from confaug.batching.collate import Batch, concat, take
from confaug.batching.loader import (
    BatchLoader,
    Cancelled,
    LoadResult,
    OnError,
    SkipLog,
    StopCheck,
    Task,
    require_batch,
    stand_in,
)
from confaug.batching.order import RankOrder
from confaug.batching.protocol import SamplePipeline, spec_seed_of
from confaug.batching.runs import ClosableRuns, Raised
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
    ``drop_last``). ``next(gen)`` continues one run, from ``epoch`` on: endless with
    ``epochs=None`` (the default), else ``epochs`` epochs, then ``StopIteration``. With
    ``epochs=None`` a ``for`` loop (``iter(gen)``) continues that same run too, as Keras'
    iterators do, so a loop that breaks after ``steps_per_epoch`` batches gets the next
    batches in its next pass, not the first ones again; with ``epochs`` given, each
    ``iter(gen)`` is a run of its own of ``epochs`` epochs from ``epoch`` on. A run moves
    ``epoch`` on as it completes an epoch. A batch that raises (a corrupt file with
    ``on_error="raise"``) is consumed by the raise, as in Keras' iterators: the next
    ``next()`` (or ``for``) gives the batch after it, the same as if nothing had failed,
    and ``gen[i]`` of that batch raises again each time. ``__getitem__`` and
    ``on_epoch_end`` give Keras ``PyDataset`` access. ``seed=None`` takes the pipeline's
    spec ``seed:`` when it has one, else a fresh seed.
    ``workers`` > 0 runs that many threads (or processes with ``worker_mode="process"``,
    started with ``start_method``; the pipeline and source must pickle), keeping at most
    ``max_queue_size`` batches ahead. Folder and table sources also expose Keras' attributes
    (``class_indices``, ``filenames``, ``classes``, ``filepaths``, ``labels``,
    ``invalid_filenames``).

    ``close()`` (from any thread) stops every run and its workers. A generator pickles (and
    copies) as its configuration, source, pipeline, ``epoch`` and ``skipped``: the copy has
    fresh locks and no running workers, so ``DataLoader(gen, batch_size=None,
    num_workers=2)`` works with ``spawn`` as with ``fork`` (it then indexes ``gen[i]`` of
    the epoch the generator was at; ``gen.as_torch()`` moves to the next epoch each pass).
    """

    #: A bad batch is handed on as ``Raised`` and the run goes on (see runs.py); a default
    #: run that still ended with an error (none is expected) is dropped, so that the next
    #: ``next()`` or ``for`` starts again at the first batch of ``epoch`` rather than end.
    _restart_after_error = True

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
        spec_seed = spec_seed_of(pipeline)
        if world_size > 1 and shuffle and seed is None and spec_seed is None:
            raise ValueError("world_size > 1 with shuffle needs a seed shared by every rank")
        self.source = source
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = resolve_seed(seed if seed is not None else spec_seed)
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
        self.epoch = 0
        self._skips = SkipLog()
        self._loader = BatchLoader(source, pipeline, self.seed, on_error)
        self._lock = threading.Lock()
        #: The task feed of each run (by its stop event), for _pause.
        self._feeds: weakref.WeakKeyDictionary[threading.Event, _Feed]
        self._feeds = weakref.WeakKeyDictionary()
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
    def epoch(self) -> int:
        """The epoch that ``__getitem__`` serves and the next run starts with; settable (an
        int >= 0), as Keras code resets iterators by hand."""
        return self._epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self._epoch = _checked_epoch(value)

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

    def __iter__(self) -> Iterator[Any]:
        """With ``epochs=None``: the run ``next()`` continues, as Keras' iterators (whose
        ``__iter__`` returns the iterator itself); else a new run of ``epochs`` epochs."""
        if self.epochs is not None:
            return super().__iter__()
        # A generator of its own (what model.fit(iter(gen)) takes, and what close() can
        # stop), over the shared run: a ``break`` pauses that run where it is.
        return cast(Iterator[Any], self._register(_continuing(self), threading.Event()))

    def _pause(self) -> None:
        """Stop the default run's workers, keeping its place: the next batch it is asked
        for starts them again at the first task whose batch was not yet handed on (batches
        read ahead are made again, with the same bits). Called when a ``for`` loop over an
        endless generator ends (a ``break``), so that its workers stop as a loop's do.
        Skipped while another thread is inside ``next()``, which goes on with them."""
        lock = self.__dict__.get("_next_lock")
        if lock is None or not lock.acquire(blocking=False):
            return
        try:
            stream = self._stream
            stop = None if stream is None else self._running.get(cast(Any, stream))
            feed = None if stop is None else self._feeds.get(stop)
            if feed is not None:
                feed.pause()
        finally:
            lock.release()

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # Rebuilt through ``__new__`` from the class pickle finds by its name: the subclass
        # that is also Keras' PyDataset (keras_fit) is made again where it is unpickled.
        return (_revived, (plain_class(type(self)),), self.__getstate__())

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()  # without runs or their locks
        del state["_lock"], state["_feeds"]
        state["_skips"] = copy.deepcopy(self._skips)  # a copy's skips are its own
        for name in _DATASET_OPTIONS:  # PyDataset keeps them as _workers, _max_queue_size
            state.pop(f"_{name}", None)
            state[name] = getattr(self, name)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        options = {name: state.pop(name) for name in _DATASET_OPTIONS if name in state}
        super().__setstate__(state)
        for name, value in options.items():  # through PyDataset's setters when it is one
            setattr(self, name, value)
        self._lock = threading.Lock()
        self._feeds = weakref.WeakKeyDictionary()

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

    def _start_stoppable(self, stop: threading.Event) -> Generator[Any, None, None]:
        first = self.epoch
        epochs = (
            itertools.count(first) if self.epochs is None else range(first, first + self.epochs)
        )
        # close() from another thread sets ``stop``: the samples of the batch being made
        # see it as they see the workers' own stop (processes are sent the loader pickled,
        # without it: they end with their batch).
        loader = self._loader if self.worker_mode == "process" else _Watching(self._loader, stop)
        start = functools.partial(
            ordered_map,
            loader,
            workers=self.workers,
            mode=self.worker_mode,
            max_queue_size=self.max_queue_size,
            start_method=self.start_method,
        )
        results = _Feed(start, self._tasks(epochs))
        self._feeds[stop] = results  # so that a for loop's break can pause it (_pause)
        refill = _Refill(self.batch_size, self.source.describe)
        made = 0  # this epoch's batches handed on, one that raised included (a step)
        readable: list[np.ndarray] = []  # this epoch's samples read, in order (for padding)
        failed: tuple[int, int] | None = None  # (epoch, number) of the last batch that raised
        sharded = self.world_size > 1
        try:
            for task, result, error in results:
                if isinstance(error, Cancelled) and stop.is_set():
                    return  # closed from another thread, inside a batch
                # Made first, then handed on: an error is handed on as Raised, in its
                # place (see runs.py), and the run goes on with the next batch, as Keras'
                # iterators do: the batch that raised is consumed by the raise.
                items: list[Any] = []
                if result is not None and (task.epoch, task.number) != failed:
                    try:
                        self._record(result.skipped)
                        if sharded and result.batch is not None:
                            readable.append(result.batch.indices)
                        for batch in refill.add(result.batch):
                            items.append(batch.output())
                    except BaseException as exc:  # handed on, not lost: raised by next()
                        error = exc
                if error is not None:
                    # The batch being made is left out: its samples gathered so far (with
                    # on_error="raise", only pieces of this one batch), and the pieces of
                    # it still to come (the run's last batch is split between workers).
                    failed = (task.epoch, task.number)
                    refill.drop()
                    items.append(Raised(error))
                made += len(items)
                if task.last:
                    try:
                        # Through the class: the generator then holds this run's ``self``
                        # (see ClosableRuns.__next__), not a bound method's.
                        end = BatchGenerator._epoch_end(self, task.epoch, refill, made, readable)
                        items.extend(end)
                    except BaseException as exc:  # the epoch ends all the same
                        items.append(Raised(exc))
                    made, readable = 0, []
                yield from items
                if task.last:
                    self.epoch = task.epoch + 1
        finally:
            results.close()

    def _epoch_end(
        self, epoch: int, refill: _Refill, made: int, readable: list[np.ndarray]
    ) -> list[Any]:
        """The last batches of ``epoch`` once its tasks are done (``made`` batches handed
        on): the refill's short tail, or on shards the padded batches."""
        tail = refill.flush()
        if self.world_size > 1:
            batches = list(self._padded(epoch, tail, made, readable))
        else:
            batches = [] if tail is None or self.drop_last else [tail]
        if made + len(batches) == 0:
            raise DataError(
                f"epoch {epoch} gave no batch: every sample was skipped, or "
                "fewer than batch_size were readable with drop_last"
            )
        return [batch.output() for batch in batches]

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


class _Watching:
    """A run's loader that also stops inside a batch once ``stop`` is set. Holds the
    loader and the event, not the generator (see ClosableRuns.__next__)."""

    def __init__(self, loader: BatchLoader, stop: threading.Event) -> None:
        self.loader = loader
        self.stop = stop

    def __call__(self, task: Task, should_stop: StopCheck | None = None) -> LoadResult:
        stop = self.stop
        if should_stop is None:
            return self.loader(task, stop.is_set)
        return self.loader(task, lambda: stop.is_set() or should_stop())


def _continuing(owner: BatchGenerator) -> Generator[Any, None, None]:
    """The batches of ``owner``'s default run (``next(owner)``), until it ends; when this
    loop ends first (a ``break``), the run's workers are paused (``_pause``)."""
    try:
        while True:
            try:
                batch = next(owner)
            except StopIteration:
                return
            yield batch
    finally:
        BatchGenerator._pause(owner)


class _Feed:
    """A run's ``(task, result)`` pairs, from ``start(tasks)`` (``ordered_map``'s workers),
    which :meth:`pause` can stop and the next pair then starts again, at the first task
    whose result was not taken. Holds the tasks and the loader, not the generator."""

    def __init__(self, start: Callable[[Iterator[Task]], Iterator[Any]], tasks: Iterator[Task]):
        self._start = start
        self._tasks = tasks
        self._results: Iterator[Any] | None = None
        self._taken: deque[Task] = deque()  # handed to the workers, result not yet taken
        self._again: deque[Task] = deque()  # taken back by a pause, to hand out first

    def _handed_out(self) -> Iterator[Task]:
        while True:
            task = self._again.popleft() if self._again else next(self._tasks, None)
            if task is None:
                return
            self._taken.append(task)
            yield task

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> tuple[Task, LoadResult | None, BaseException | None]:
        """``(task, result, None)``, or ``(task, None, error)`` for a task that raised."""
        if self._results is None:
            self._results = self._start(self._handed_out())
        try:
            task, result = next(self._results)
        except StopIteration:
            raise
        except BaseException as exc:
            if not self._taken:  # the tasks themselves failed, not a batch
                raise
            # Results come in task order, so the oldest task handed out raised, and the
            # map ended with it (its workers stopped): it is consumed, and the next pair
            # starts the map again at the task after it (those the workers had begun are
            # made again, with the same bits).
            task = self._taken.popleft()
            self.pause()
            return task, None, exc
        self._taken.popleft()  # results come in task order: the oldest handed out
        return task, result, None

    def pause(self) -> None:
        """Stop the workers; the tasks they had are handed out again first."""
        self.close()
        self._again = deque([*self._taken, *self._again])
        self._taken.clear()

    def close(self) -> None:
        results, self._results = self._results, None
        close = getattr(results, "close", None)
        if close is not None:
            close()


_DATASET_OPTIONS = ("workers", "max_queue_size")


def plain_class(cls: type) -> type:
    """``cls`` without the Keras base that ``keras_fit`` adds (that subclass has the name
    of the class it extends, so pickle cannot find it by its name)."""
    while any(base.__module__.partition(".")[0] == "keras" for base in cls.__bases__):
        cls = cls.__bases__[0]
    return cls


def _revived(cls: type[BatchGenerator]) -> BatchGenerator:
    """An empty generator of ``cls`` for pickle to fill (``BatchGenerator.__setstate__``);
    ``__new__`` makes it Keras' PyDataset too when Keras is imported here."""
    return cls.__new__(cls)


def _checked_epoch(value: Any) -> int:
    """``value`` as an epoch; refused in confaug's words (NumPy's seeding would refuse a
    negative or fractional epoch at the next batch, far from where it was set)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"epoch must be an int >= 0, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"epoch must be an int >= 0, got {value!r}")
    return int(value)


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

    def drop(self) -> None:
        """Leave out the samples gathered for the batch being made (it raised)."""
        self.pieces = []

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
