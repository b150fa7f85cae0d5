"""``AugmentedStream``: augment the batches of any iterable (the seed's ``create_aug_gen``).

Each incoming ``x``, ``(x, y)`` or ``(x, y, w)`` batch comes out with the same structure,
``x`` augmented sample by sample and passed through ``pipeline.standardize``. The pipeline
keeps dtype and value range (uint8 stays uint8, floats in [0, 1] or [0, 255] keep their
range), so no ×255/÷255 round trip is needed. Sample ``i`` of batch ``b`` in pass ``p`` is
seeded from ``(seed, p, b, i)``, so results do not depend on the workers.

With workers, upstream batches are read ahead of the ones being augmented, so the arrays of
each batch are copied as it is read (:func:`_snapshot`): a source that fills one buffer and
yields it again (``cv2.VideoCapture.read(frame)``, ring-buffer loaders) would otherwise have
its earlier batches overwritten while they wait. ``workers=0`` reads the next batch only after
the last one was augmented and handed on, as iterating the source directly does: no copies.

A re-iterable input (a list, a dataset object) gives a new pass per ``iter()``; a generator
gives one pass, as iterating it directly would. Upstream batches are read in the consumer's
thread, up to ``max_queue_size`` ahead of it. Reading ahead loses nothing: when a pass over
an iterator that is its own iterator (``iter(it) is it``: a generator, a file reader) is
closed early (``break``), the batches it read but did not deliver are kept, and the next
pass gives them first, numbered and seeded as ``workers=0`` (which reads nothing ahead)
numbers and seeds the same upstream batches. An exception from the iterable comes after
every batch read before it, and only when the caller asks for the batch it failed to give,
with a note naming that batch, as ``workers=0`` raises it. A batch that fails to augment
(a ``DataError``, the user's ``preprocessing_function`` raising) is used up by its error:
``next()`` raises it and the next ``next()`` gives the batch after it, as a flow and Keras'
iterators go on; a ``for`` loop (a pass of its own) ends there, as a generator does.

Float batches are ranged one by one with ``value_range: auto`` (each batch is a source of
its own): a stream whose batches are read some as [0, 1] and some as 0-255 gets one
:class:`~confaug.errors.ValueRangeWarning` naming a batch of each, since within one stream
that is almost always a dark frame of 0-255 data taken for [0, 1] data.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
import sys
import warnings
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import numpy as np

from confaug.batching.loader import load_batch
from confaug.batching.protocol import SamplePipeline, data_format_of, spec_seed_of
from confaug.batching.runs import ClosableRuns, Raised
from confaug.batching.workers import WorkerMode, check_worker_options, ordered_map
from confaug.compiler.range_bits import largest_bits, range_of_bits, reads_bits
from confaug.errors import ValueRangeWarning
from confaug.seeding import ITERABLE_STREAM, resolve_seed
from confaug.sources.arrays import ArraySource
from confaug.sources.errors import DataError
from confaug.sources.iterable import unpack_batch


@dataclass(frozen=True)
class _StreamTask:
    pass_number: int
    number: int
    batch: Any


class _StreamLoader:
    """Augments one upstream batch; picklable for process workers."""

    def __init__(self, pipeline: SamplePipeline, seed: int, masks_in_y: bool) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.masks_in_y = masks_in_y
        self.data_format = data_format_of(pipeline)
        spec = getattr(pipeline, "spec", None)
        #: Whether the pipeline decides a float batch's range from its values.
        self.auto_range = getattr(spec, "value_range", None) == "auto" and hasattr(
            pipeline, "for_value_bounds"
        )

    def __call__(self, task: _StreamTask, should_stop: Any = None) -> tuple[Any, str | None]:
        """The augmented batch, and the range its float images were read in
        (:func:`_range_verdict`; None for other images, or a fixed ``value_range``); a
        batch that raises is :class:`~confaug.batching.runs.Raised` in its place, so that
        the pass goes on after it, as Keras' iterators do (its workers keep running)."""
        try:
            return self._augmented(task, should_stop)
        except Exception as exc:  # the batch's own: not Ctrl-C, which stops the pass
            return Raised(exc), None

    def _augmented(self, task: _StreamTask, should_stop: Any) -> tuple[Any, str | None]:
        source, rest = unpack_batch(
            task.batch,
            task.number,
            masks_in_y=self.masks_in_y,
            data_format=self.data_format,
        )
        try:
            result = load_batch(
                source,
                self.pipeline,
                np.arange(len(source)),
                seed=self.seed,
                stream=(ITERABLE_STREAM, task.pass_number, task.number),
                should_stop=should_stop,
            )
        except DataError as exc:
            # The range check names the array "x" (Pipeline.for_value_bounds), the stream's
            # other errors "batch N x": say which batch, as they do.
            if str(exc).startswith("x: "):
                raise DataError(f"batch {task.number} {exc}") from None
            raise
        assert result.batch is not None  # on_error="raise": nothing is skipped
        verdict = _range_verdict(source) if self.auto_range else None
        if not rest:  # x alone, or (x,): the structure it came in
            x = result.batch.x
            return ((x,) if isinstance(task.batch, (tuple, list)) else x), verdict
        if self.masks_in_y:
            rest = (result.batch.y, *rest[1:])
        return (result.batch.x, *rest), verdict


#: What a float batch's range was found to be (``_StreamLoader`` returns one per batch).
_UNIT = "[0, 1]"
_BYTE = "0-255"
_MAYBE_UNIT = "maybe [0, 1]"  # no value above 1 among those looked at: unproven


def _range_verdict(source: ArraySource) -> str | None:
    """The range ``value_range: auto`` read ``source``'s float images in, as far as it is
    known for nothing: the source's bounds when the loader asked for them, else (a batch
    that found its own range while it was augmented, whose bounds are not kept) a look at
    a few hundred values per image: one above 1 proves 0-255, none is only
    :data:`_MAYBE_UNIT` (the consumer proves it when it matters, :func:`_proven_range`).
    A full look at every batch would cost the pass the batch path saves. None for other
    images."""
    x = source.x
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or not x.size:
        return None  # a list of images (sizes differ): not looked at
    if source.range_known:
        bounds = source.range_bounds()
        return None if bounds is None else _UNIT if bounds[1] <= 1.0 else _BYTE
    every_image = (slice(None), *(slice(None, None, max(1, size // 8)) for size in x.shape[1:]))
    few = x[every_image]
    return _BYTE if float(np.max(few)) > 1.0 else _MAYBE_UNIT


def _proven_range(batch: Any) -> str | None:
    """:data:`_UNIT` or :data:`_BYTE` for the float images of ``batch`` (as it came from the
    iterable), from their largest bit pattern (one pass); None when that cannot say."""
    x = batch[0] if isinstance(batch, (tuple, list)) else batch
    if not isinstance(x, np.ndarray) or not x.size or not reads_bits(x.dtype):
        return None
    found = range_of_bits(largest_bits(x), x.dtype)
    return None if found is None else _UNIT if found[1] <= 1.0 else _BYTE


def _not_sent(exc: BaseException) -> bool:
    """Whether ``exc`` is pickle's, raised sending a task to a process or its result back
    (the remote traceback the executor attaches ends in pickle's ``dumps``), not the
    loader's or the upstream iterable's own error."""
    if isinstance(exc, pickle.PicklingError):
        return True
    cause = exc.__cause__
    return (
        isinstance(exc, (TypeError, AttributeError))
        and type(cause).__name__ == "_RemoteTraceback"
        and "reduction.py" in str(cause)
        and "dumps" in str(cause)
    )


def _snapshot(value: Any) -> Any:
    """``value`` (a batch, or a part of one) with its arrays copied: NumPy arrays and
    memoryviews as new arrays, tensors by their ``clone()``, inside tuples, lists and dicts
    (rebuilt, so a list the source refills is not shared either). Anything else is kept as
    it is (numbers and strings cannot be refilled)."""
    if isinstance(value, (np.ndarray, memoryview)):
        return np.array(value)  # a memmap too: a plain array, read now
    if type(value) in (tuple, list):
        return type(value)(_snapshot(part) for part in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return type(value)(*(_snapshot(part) for part in value))
    if isinstance(value, dict):
        copied = copy.copy(value)  # its own class (an OrderedDict, a defaultdict)
        for key, part in value.items():
            copied[key] = _snapshot(part)
        return copied
    clone = getattr(value, "clone", None)
    if callable(clone) and hasattr(value, "__array__"):  # a torch tensor
        return clone()
    return value


def _as_it_is(batch: Any) -> Any:
    return batch


class _Reading:
    """What one pass read from its iterable: the tasks read and not yet delivered, in
    order, and the exception the iterable raised instead of batch ``failed_at``."""

    def __init__(self, pass_number: int) -> None:
        self.pass_number = pass_number
        self.delivered = 0
        self.undelivered: deque[_StreamTask] = deque()
        self.error: Exception | None = None
        self.failed_at = 0
        self.raised = False  # the error reached the caller


def _read(
    batches: Iterator[Any],
    carried: list[Any],
    carried_error: Exception | None,
    pass_number: int,
    sendable: Any,
    reading: _Reading,
) -> Generator[_StreamTask, None, None]:
    """The tasks of one pass: first the batches an earlier pass read and did not deliver
    (copies already) and the error it read after them, then the iterable's own."""
    number = 0
    for batch in carried:
        task = _StreamTask(pass_number, number, batch)
        reading.undelivered.append(task)
        yield task
        number += 1
    if carried_error is not None:
        reading.error, reading.failed_at = carried_error, number
        raise carried_error
    while True:
        try:
            batch = next(batches, _END)
        except Exception as exc:
            reading.error, reading.failed_at = exc, number
            raise
        if batch is _END:
            return
        task = _StreamTask(pass_number, number, sendable(batch))
        reading.undelivered.append(task)
        yield task
        number += 1


_END = object()


def _check_iterable(iterable: Any) -> None:
    """A TypeError (ValueError for an array of images) for what ``wrap`` cannot take, at
    the call: not iterable, it failed only at the first batch, in Python's words."""
    if isinstance(iterable, np.ndarray) and 1 <= iterable.ndim <= 4:
        raise ValueError(
            f"wrap() iterates its input and takes each item as a batch: an array of shape "
            f"{iterable.shape} gives items of shape {iterable.shape[1:]}, which are not "
            "batches of images. For an array of images use pipe.flow(x, y, batch_size=...); "
            "to augment it as one batch, wrap([x]) or wrap([(x, y)])"
        )
    if _one_batch_pair(iterable):
        x, y = iterable
        raise ValueError(
            f"wrap() iterates its input and takes each item as a batch: this tuple is one "
            f"(x, y) batch (x {x.shape}, y {y.shape}), whose x and y would each be taken as "
            "a batch. Wrap a list of batches: wrap([(x, y)]), or a generator of them"
        )
    kind = type(iterable)
    if (
        not (hasattr(kind, "__iter__") or hasattr(kind, "__getitem__"))
        or isinstance(iterable, (str, bytes, np.generic))
        or (isinstance(iterable, np.ndarray) and iterable.ndim == 0)
    ):
        raise TypeError(
            f"wrap() takes an iterable of batches (a generator, a list of x or (x, y) "
            f"batches, a DataLoader); got {kind.__name__} {iterable!r:.60}"
        )


def _one_batch_pair(iterable: Any) -> bool:
    """Whether ``iterable`` is a single ``(x, y)`` batch where an iterable of batches goes:
    a tuple of two arrays, an image batch (rank 3 or 4) and labels of a lower rank with as
    many rows. Two batches of images (``(x0, x1)``, the same rank) are left alone."""
    if not (isinstance(iterable, tuple) and len(iterable) == 2):
        return False
    x, y = iterable
    return (
        isinstance(x, np.ndarray)
        and isinstance(y, np.ndarray)
        and x.ndim in (3, 4)
        and y.ndim < x.ndim
        and y.ndim >= 1
        and len(x) == len(y)
    )


class AugmentedStream(ClosableRuns):
    """Augmented batches of ``iterable``; see the module docstring for the guarantees.

    ``iter()`` starts a pass, ``next()`` continues one; ``close()`` (or ``with``) stops every
    running pass and its workers, leaving the upstream iterable open. ``seed=None`` takes
    the pipeline's spec ``seed`` when it has one, else a fresh one. ``len()`` is the
    iterable's, when it has one (batches per pass: Keras' steps, progress bars).

    Keras 3's ``model.fit`` takes Python generators but no other iterator: give it
    ``iter(stream)`` (a generator, one pass), as ``model.fit(iter(pipe.wrap(batches)),
    steps_per_epoch=..., epochs=...)``.
    """

    def __init__(
        self,
        pipeline: SamplePipeline,
        iterable: Iterable[Any],
        *,
        seed: int | None = None,
        masks_in_y: bool = False,
        workers: int = 0,
        worker_mode: WorkerMode = "thread",
        start_method: str = "spawn",
        max_queue_size: int = 10,
    ) -> None:
        check_worker_options(workers, worker_mode, max_queue_size, start_method)
        _check_iterable(iterable)
        self.pipeline = pipeline
        self.iterable = iterable
        self.seed = resolve_seed(seed if seed is not None else spec_seed_of(pipeline))
        self.workers = workers
        self.worker_mode: WorkerMode = worker_mode
        self.start_method = start_method
        self.max_queue_size = max_queue_size
        #: Passes started so far; pass ``p`` draws its augmentation from ``(seed, p, …)``.
        self.passes = 0
        self._loader = _StreamLoader(pipeline, self.seed, masks_in_y)
        #: Batches a closed pass over a one-shot iterator read and did not deliver, and
        #: the error the iterable raised after them: the next pass gives them first.
        self._carried: list[Any] = []
        self._carried_error: Exception | None = None
        #: Where a float batch was first read as [0, 1] / as 0-255: ``{range: (pass, number)}``.
        #: Both ranges in it: warned (once).
        self._ranges_seen: dict[str, tuple[int, int]] = {}
        super().__init__()

    def __len__(self) -> int:
        if not hasattr(type(self.iterable), "__len__"):
            raise TypeError(
                f"this stream has no len(): its iterable ({type(self.iterable).__name__}) has none"
            )
        return len(self.iterable)  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return True  # not len() == 0, nor len()'s TypeError for a generator

    def _start(self) -> Generator[Any, None, None]:
        pass_number, self.passes = self.passes, self.passes + 1
        # Called through the class: the run then holds the ``self`` it was started with (a
        # weak proxy for ``next()``'s run, see ClosableRuns.__next__), not a bound method's.
        return AugmentedStream._run(self, pass_number)

    def _run(self, pass_number: int) -> Generator[Any, None, None]:
        # With workers, read ahead: copied now, while the batch is the one the source
        # yielded (see the module docstring); a process worker is sent the copy, pickled
        # later. Without, each batch is augmented before the next is read: as it is.
        sendable = _snapshot if self.workers else _as_it_is
        carried, self._carried = self._carried, []
        carried_error, self._carried_error = self._carried_error, None
        batches = iter(self.iterable)
        # A one-shot iterator continues in the next pass, so what this one read ahead and
        # did not deliver is handed on to it (a re-iterable one starts over anyway).
        one_shot = batches is self.iterable
        reading = _Reading(pass_number)
        tasks = _read(batches, carried, carried_error, pass_number, sendable, reading)
        results = ordered_map(
            self._loader,
            tasks,
            workers=self.workers,
            mode=self.worker_mode,
            max_queue_size=self.max_queue_size,
            start_method=self.start_method,
        )
        try:
            while True:
                try:
                    task, (output, verdict) = next(results)
                except StopIteration:
                    return
                except BaseException as exc:
                    AugmentedStream._failed(self, exc, reading)
                    raise
                reading.undelivered.popleft()  # delivered (the caller may stop at it)
                reading.delivered += 1
                if type(output) is Raised:  # that batch is used up by its error
                    yield output
                    continue
                if verdict is not None:
                    AugmentedStream._check_range(self, verdict, task)
                yield output
        finally:
            results.close()
            if one_shot:
                with contextlib.suppress(ReferenceError):  # the owner already gone
                    self._carried.extend(task.batch for task in reading.undelivered)
                    if reading.error is not None and not reading.raised:
                        self._carried_error = reading.error

    def _failed(self, exc: BaseException, reading: _Reading) -> None:
        """Make ``exc``, raised by a pass, say where it happened."""
        if exc is reading.error:  # the iterable's own: raised as it is, with a note
            reading.raised = True
            number = reading.failed_at
            before = (
                "no batch was"
                if number == 0
                else "batch 0 was delivered"
                if number == 1
                else f"batches 0-{number - 1} were delivered"
            )
            if hasattr(exc, "add_note"):  # Python 3.11+
                exc.add_note(
                    f"raised by the iterable given to wrap() when asked for batch {number} of "
                    f"pass {reading.pass_number}; {before} before it"
                )
            return
        if reading.undelivered:
            # The batch that failed is gone, as with workers=0; the others read after it
            # are handed on (for a one-shot iterator).
            reading.undelivered.popleft()
        if isinstance(exc, Exception) and self.worker_mode == "process" and _not_sent(exc):
            raise DataError(
                f"batch {reading.delivered} cannot be sent to a worker process or back ({exc}); "
                "use worker_mode='thread', or batches of arrays and plain labels"
            ) from exc

    def _check_range(self, verdict: str, task: _StreamTask) -> None:
        """Warn once when float batches of this stream are read in both ranges. Called
        before the batch is handed on: its upstream batch is still as it was read."""
        seen = self._ranges_seen
        if len(seen) == 2:  # warned already
            return
        if verdict == _MAYBE_UNIT:
            # Proven (one pass) only where it counts: the first such batch, and a dark one
            # after a 0-255 batch; a stream of [0, 1] batches pays once.
            if _UNIT in seen and _BYTE not in seen:
                return
            proven = _proven_range(task.batch)
            if proven is None:
                return
            verdict = proven
        seen.setdefault(verdict, (task.pass_number, task.number))
        if len(seen) < 2:
            return
        unit, other = seen[_UNIT], seen[_BYTE]
        warnings.warn(
            f"value_range: auto read {_named(*unit)} of this stream as [0, 1] data (no value "
            f"above 1) and {_named(*other)} as 0-255 data: the range is decided per batch, "
            "and within one stream a switch is almost always a dark frame of 0-255 data (or "
            "an overshoot of [0, 1] data) taken for the other range, whose noise, fills and "
            "clips are then scaled for it. Set value_range: [0, 255] (or [0, 1]) in the "
            "config to read every batch in one range",
            ValueRangeWarning,
            stacklevel=_outside_confaug(),
        )


def _outside_confaug() -> int:
    """The ``stacklevel`` of the first caller outside confaug (a warning then points at
    the caller's loop, however many of confaug's frames lie between)."""
    level, frame = 1, sys._getframe(1)  # the function that warns: stacklevel 1
    caller: FrameType | None = frame
    while caller is not None and caller.f_globals.get("__name__", "").startswith("confaug."):
        level, caller = level + 1, caller.f_back
    return level


def _named(pass_number: int, number: int) -> str:
    return f"batch {number}" + (f" of pass {pass_number}" if pass_number else "")
