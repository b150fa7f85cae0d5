"""Augment samples of a source: the one per-sample loop, and batches built from it.

Everything that augments samples of a source goes through :func:`augment_samples` — the
generators and their workers, the PyTorch datasets, Ray rows, ``confaug augment`` copies —
so all of them share one seed derivation, one decoder (the source's) and one error policy:

- sample ``i`` is augmented with ``sample_seed(seed, *stream, source.sample_key(i))``; epoch
  ``e`` of an indexed source is the stream ``(SAMPLE_STREAM, e)`` (see ``confaug.seeding``);
- float samples of one source share one value range (``ArraySource.value_bounds`` through
  ``Pipeline.for_value_bounds``), never one range per sample; a batch that is all of its
  source (``wrap``'s) has the batch path find that range as it augments the batch
  (``batch_load.finds_own_range``), with the same outcome;
- a :class:`DataError` (bad data: from the source, from the pipeline's own checks, from what
  albumentations cannot do with this sample, from a ``preprocessing_function``), and running
  out of memory or failing to read while loading one sample, skip the sample with
  ``on_error="skip"`` and otherwise propagate as a DataError naming the sample; this holds
  for the batch-level ``standardize`` stage too, which is retried one sample at a time to
  find the sample it fails on;
- any other exception is the pipeline's fault, never the data's: a :class:`SampleError`
  naming the sample, with the original as ``__cause__``, whatever ``on_error`` says.

Names in messages and log lines are escaped (``confaug.sources.errors.shown``); the paths in
the ``skipped`` lists are kept as they are. Nothing depends on which worker does the work, so
results cannot depend on the workers.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np

from confaug.batching.batch_load import EpochSeeds, augment_as_batch, finds_own_range
from confaug.batching.collate import Batch, PerSample, stack
from confaug.batching.protocol import SamplePipeline, augment_sample_of
from confaug.idg.many_seeds import SeedTable
from confaug.idg.standardize import NotFittedError
from confaug.seeding import SAMPLE_STREAM, sample_seed
from confaug.sources.base import Source
from confaug.sources.errors import DataError, one_line, shown

logger = logging.getLogger("confaug")

OnError = Literal["raise", "skip"]
StopCheck = Callable[[], bool]


class SampleError(RuntimeError):
    """Augmenting one sample failed; the message names the sample, ``__cause__`` is the error."""


class Cancelled(Exception):
    """A worker noticed that its consumer has gone away."""


@dataclass(frozen=True)
class Augmented:
    """The pipeline outputs of the ``kept`` samples, in order, and ``(name, reason)`` of
    every sample skipped."""

    outputs: list[dict[str, Any]]
    kept: np.ndarray
    skipped: list[tuple[str, str]]
    #: The output images as one array, when the pipeline made them as one (batch_load.py);
    #: ``outputs`` is then empty inside :func:`load_batch`, which reads this alone.
    stacked: np.ndarray | None = None
    #: The shape of each kept sample's image as it was loaded (sample by sample only).
    input_shapes: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class LoadResult:
    """A batch (None when every sample was skipped) and the ``(file, reason)`` pairs skipped."""

    batch: Batch | None
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Task:
    """Load ``indices`` (a slice of ``epoch``'s order); ``last`` marks the epoch's last task."""

    epoch: int
    number: int
    last: bool
    indices: np.ndarray


def augment_samples(
    source: Source,
    pipeline: SamplePipeline,
    indices: Iterable[int] | np.ndarray,
    *,
    seed: int,
    stream: tuple[int, ...],
    on_error: OnError = "raise",
    should_stop: StopCheck | None = None,
    standardize: bool = False,
    seed_table: SeedTable | None = None,
) -> Augmented:
    """Load and augment each sample of ``indices`` (see the module docstring).

    ``standardize`` also runs each output image through ``pipeline.standardize`` (as a batch
    of one), under the same error policy, for callers that hand samples on one at a time;
    :func:`load_batch` standardizes the stacked batch instead. ``seed_table``: the seeds
    of ``(seed, stream)`` made for every key at once (``batch_load.EpochSeeds``).
    """
    return _augment(
        source,
        pipeline,
        indices,
        seed=seed,
        stream=stream,
        on_error=on_error,
        should_stop=should_stop,
        standardize=standardize,
        seed_table=seed_table,
        outputs_of_whole=True,
    )


def _augment(
    source: Source,
    pipeline: SamplePipeline,
    indices: Iterable[int] | np.ndarray,
    *,
    seed: int,
    stream: tuple[int, ...],
    on_error: OnError,
    should_stop: StopCheck | None,
    standardize: bool,
    seed_table: SeedTable | None,
    outputs_of_whole: bool,
) -> Augmented:
    """:func:`augment_samples`; a batch augmented whole gets its ``outputs`` dicts only
    with ``outputs_of_whole`` (:func:`load_batch` reads ``stacked`` alone)."""
    whole = None
    if not standardize and finds_own_range(source, pipeline, indices):
        # The whole batch at once, its range found as it is augmented (see batch_load.py).
        whole = augment_as_batch(
            source, pipeline, indices, seed, stream, should_stop, seed_table, own_range=True
        )
    if whole is None:
        pipeline = in_one_range(pipeline, source)
        if not standardize:  # the whole batch at once, the same pixels (see batch_load.py)
            whole = augment_as_batch(
                source, pipeline, indices, seed, stream, should_stop, table=seed_table
            )
    if whole is not None:
        outputs = [{"image": x} for x in whole] if outputs_of_whole else []
        return Augmented(outputs, np.asarray(indices, "i8"), [], whole)
    outputs, kept, skipped, shapes = [], [], [], []
    for index in (int(i) for i in indices):
        if should_stop is not None and should_stop():
            raise Cancelled
        name = source.describe(index)
        try:
            out, shape = _one_sample(source, pipeline, index, name, seed, stream, standardize)
        except DataError as exc:  # bad data, from the source or the pipeline's own checks
            if on_error == "skip":
                skipped.append((name, _reason(exc, name)))
                continue
            raise _naming(exc, name)  # noqa: B904 (the cause is kept)
        outputs.append(out)
        shapes.append(shape)
        kept.append(index)
    return Augmented(outputs, np.asarray(kept, dtype=np.int64), skipped, None, tuple(shapes))


def in_one_range(pipeline: SamplePipeline, source: Source) -> SamplePipeline:
    """``pipeline`` working in the one value range of ``source``'s float samples, when the
    source knows their bounds (:func:`_bounds_of`) and the pipeline takes them
    (``for_value_bounds``, as ``confaug.Pipeline``); else ``pipeline`` itself."""
    bounds_of = _bounds_of(source)
    narrow = getattr(pipeline, "for_value_bounds", None)
    if bounds_of is None or narrow is None:
        return pipeline
    bounds = bounds_of()
    return pipeline if bounds is None else narrow(*bounds)


def _bounds_of(source: Source) -> Callable[[], tuple[float, float] | None] | None:
    """The method giving the bounds ``source``'s one range is decided from: the quick
    ``range_bounds`` (``ArraySource``) when it has one, else ``value_bounds``; None when
    it has neither."""
    return getattr(source, "range_bounds", None) or getattr(source, "value_bounds", None)


def _one_sample(
    source: Source,
    pipeline: SamplePipeline,
    index: int,
    name: str,
    seed: int,
    stream: tuple[int, ...],
    standardize: bool,
) -> tuple[dict[str, Any], tuple[int, ...]]:
    """One sample loaded and augmented, and the shape of its image as loaded: a DataError
    when the data is at fault, else a SampleError naming the sample."""
    try:
        data = source.load(index)
        key = source.sample_key(index)
    except DataError:
        raise
    except (MemoryError, OSError) as exc:  # reading this sample failed: the data's problem
        raise DataError(f"{shown(name)}: cannot load it ({_why(exc)})") from exc
    except Exception as exc:
        raise SampleError(f"{shown(name)}: loading failed: {_why(exc)}") from exc
    # Not pipeline(...): __call__ checks a caller's own images, by rules the sources'
    # differ from (augment_sample_of).
    augment = augment_sample_of(pipeline)
    out = _guarded(name, augment, seed=sample_seed(seed, *stream, key), **data)
    if standardize:
        image = _guarded(name, pipeline.standardize, out["image"][None])[0]
        out = {**out, "image": image}
    image = data.get("image")
    return out, () if image is None else tuple(np.shape(image))


def _guarded(name: str, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; its DataError as it is, MemoryError as a DataError,
    anything else as a SampleError — each naming the sample ``name``."""
    try:
        return function(*args, **kwargs)
    except DataError:
        raise
    except MemoryError as exc:  # this sample is too large to augment
        raise DataError(f"{shown(name)}: not enough memory to augment it") from exc
    except SystemExit as exc:  # from a worker it would end the caller's program silently
        raise SampleError(
            f"{shown(name)}: the pipeline called sys.exit({exc.code!r}) (a "
            "preprocessing_function should raise an exception instead)"
        ) from exc
    except Exception as exc:
        raise SampleError(f"{shown(name)}: pipeline failed: {_why(exc)}") from exc


def load_batch(
    source: Source,
    pipeline: SamplePipeline,
    indices: np.ndarray,
    *,
    seed: int,
    stream: tuple[int, ...],
    on_error: OnError = "raise",
    should_stop: StopCheck | None = None,
    seed_table: SeedTable | None = None,
) -> LoadResult:
    """:func:`augment_samples`, then the kept samples stacked, standardized and given their
    ``y`` (per the source's ``y_mode``) and weights."""
    done = _augment(
        source,
        pipeline,
        indices,
        seed=seed,
        stream=stream,
        on_error=on_error,
        should_stop=should_stop,
        standardize=False,
        seed_table=seed_table,
        outputs_of_whole=False,
    )
    if not len(done.kept):
        return LoadResult(None, done.skipped)
    if should_stop is not None and should_stop():
        raise Cancelled  # the standardization stage (a preprocessing_function) is not started
    batch, skipped = _collate(source, pipeline, done, on_error)
    return LoadResult(batch, done.skipped + skipped)


def stand_in(
    load: Callable[[Task], LoadResult],
    indices_of: Callable[[int], np.ndarray],
    count: int,
    epoch: int,
    number: int,
    record: Callable[[list[tuple[str, str]]], None],
) -> LoadResult:
    """For batch ``number`` of ``count``, all of whose samples were skipped: the next batch
    of the epoch with a readable sample (wrapping round), at most one epoch's reading; the
    empty result when there is none, which :func:`require_batch` then reports. ``load``
    loads a task, ``indices_of(n)`` gives batch n's sample indices, ``record`` gets each
    try's skips. The one rule for the generator's ``[n]`` and for its plan (PyTorch, Keras'
    process workers), so every reader stands in the same batch."""
    result = LoadResult(None)
    for step in range(1, count):
        other = (number + step) % count
        result = load(Task(epoch, other, False, indices_of(other)))
        record(result.skipped)
        if result.batch is not None:
            break
    return result


def require_batch(result: LoadResult, number: int) -> Batch:
    """The batch of ``result``; a DataError when every sample of batch ``number`` was skipped."""
    if result.batch is None:
        reasons = "; ".join(f"{shown(name)}: {reason}" for name, reason in result.skipped)
        raise DataError(f"every sample of batch {number} was skipped: {reasons}")
    return result.batch


class SkipLog:
    """``(file, reason)`` of every skipped sample, each file listed (and logged) once.

    ``log=False`` lists without logging, for callers that report skips themselves. Not
    thread-safe: a caller sharing one across threads serializes :meth:`add`.
    """

    def __init__(self, *, log: bool = True) -> None:
        #: ``(path, reason)`` in the order first seen.
        self.entries: list[tuple[str, str]] = []
        self.log = log
        self._paths: set[str] = set()

    def add(self, skipped: Iterable[tuple[str, str]]) -> None:
        """Record (and log, logger ``"confaug"``) the files not seen before."""
        for path, reason in skipped:
            if path not in self._paths:
                self._paths.add(path)
                self.entries.append((path, reason))
                if self.log:
                    logger.warning("skipping %s: %s", shown(path), one_line(reason))


class BatchLoader:
    """:func:`load_batch` of one source's epochs; picklable for process workers."""

    def __init__(
        self, source: Source, pipeline: SamplePipeline, seed: int, on_error: OnError
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        self.seed = seed
        self.on_error = on_error
        self._tables = EpochSeeds(source, pipeline, seed)
        self._in_range: SamplePipeline | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The source's range is found once, before the loader is sent to its worker
        # processes (not once in each); in this process it is found when a batch first
        # needs it, or read by a batch that is the whole source as it is augmented.
        bounds_of = _bounds_of(self.source)
        if bounds_of is not None:
            bounds_of()
        return {**self.__dict__, "_in_range": None}  # found again where it is sent

    def __call__(self, task: Task, should_stop: StopCheck | None = None) -> LoadResult:
        """Load one task's batch."""
        stream = (SAMPLE_STREAM, task.epoch)
        pipeline = self._in_range
        if pipeline is None:
            if finds_own_range(self.source, self.pipeline, task.indices):
                pipeline = self.pipeline  # the batch reads its range as it is augmented
            else:  # the source's one range: the same for every batch
                pipeline = self._in_range = in_one_range(self.pipeline, self.source)
        return load_batch(
            self.source,
            pipeline,
            task.indices,
            seed=self.seed,
            stream=stream,
            on_error=self.on_error,
            should_stop=should_stop,
            seed_table=self._tables(stream),
        )


def _collate(
    source: Source, pipeline: SamplePipeline, done: Augmented, on_error: OnError
) -> tuple[Batch | None, list[tuple[str, str]]]:
    """The batch of ``done`` (None when standardizing failed on every sample), and the
    samples that standardizing skipped."""
    outputs, kept = done.outputs, done.kept
    odd: list[tuple[str, str]] = []
    if done.stacked is None and on_error == "skip":
        outputs, kept, odd = _without_odd_sizes(source, done)
    names = SampleNames(source, kept)
    stacked = done.stacked
    images = stack([out["image"] for out in outputs], names) if stacked is None else stacked
    x, keep, skipped = _standardize(pipeline, images, names, on_error)
    skipped = odd + skipped
    if x is None:
        return None, skipped
    if keep is not None:
        if outputs:  # (none are made for a batch augmented whole: its y needs no output)
            outputs = [out for out, kept_one in zip(outputs, keep, strict=True) if kept_one]
        kept = kept[keep]
        names = SampleNames(source, kept)
    mode = source.y_mode
    if mode == "labels":
        y = source.labels_for(kept)
    elif mode == "input":
        y = x.copy()
    elif mode == "mask":
        y = stack([out["mask"] for out in outputs], names, what="masks")
    elif mode == "targets":
        y = {key: PerSample(out[key] for out in outputs) for key in source.target_keys}
    else:
        y = None
    return Batch(x, y, source.weights_for(kept), kept), skipped


def _without_odd_sizes(
    source: Source, done: Augmented
) -> tuple[list[dict[str, Any]], np.ndarray, list[tuple[str, str]]]:
    """``done``'s outputs and kept indices without the samples whose image was read at
    another size than most of its batch's (a file of another size, ``target_size=None``),
    and those samples as skipped: bad data, as an undecodable file. A batch whose images
    came in at one size but differ after augmenting is left whole: that is the pipeline's
    doing (a step changing the size on some samples), and ``stack`` says so."""
    outputs, kept, loaded = done.outputs, done.kept, done.input_shapes
    made = [np.shape(out["image"]) for out in outputs]
    if len(set(made)) < 2 or len(loaded) != len(made):
        return outputs, kept, []
    usual_made = Counter(made).most_common(1)[0][0]  # the first seen among equally common
    usual_loaded = Counter(loaded).most_common(1)[0][0]
    odd = [
        position
        for position, (shape, read) in enumerate(zip(made, loaded, strict=True))
        if shape != usual_made and read != usual_loaded
    ]
    if not odd:
        return outputs, kept, []
    skipped = [
        (
            source.describe(int(kept[position])),
            f"its image is {loaded[position]}, most images of its batch are {usual_loaded}: "
            "give the images one size (target_size= resizes files as they are read)",
        )
        for position in odd
    ]
    keep = np.ones(len(outputs), dtype=bool)
    keep[odd] = False
    rest = [out for out, kept_one in zip(outputs, keep, strict=True) if kept_one]
    return rest, kept[keep], skipped


class SampleNames(Sequence[str]):
    """The names of a batch's samples, made when one is read: a batch needs them only
    when something fails, and 32 ``describe`` calls are a few percent of a small batch."""

    def __init__(self, source: Source, indices: np.ndarray) -> None:
        self._source, self._indices = source, indices

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, position: int) -> str: ...
    @overload
    def __getitem__(self, position: slice) -> list[str]: ...
    def __getitem__(self, position: int | slice) -> str | list[str]:
        if isinstance(position, slice):
            return [self._source.describe(int(i)) for i in self._indices[position]]
        return self._source.describe(int(self._indices[position]))


def _standardize(
    pipeline: SamplePipeline, images: np.ndarray, names: Sequence[str], on_error: OnError
) -> tuple[np.ndarray | None, np.ndarray | None, list[tuple[str, str]]]:
    """``pipeline.standardize(images)``, the mask of the samples kept (None: all), and the
    samples skipped. When the batch fails, each sample is standardized alone to find the
    ones it fails on, which follow the error policy like any sample (the protocol has
    standardize treat samples independently)."""
    try:
        return pipeline.standardize(images), None, []
    except NotFittedError:
        raise  # the stage is not ready, whatever the samples: as it is
    except (Exception, SystemExit) as exc:  # SystemExit: named per sample below
        failure = exc
    keep = np.ones(len(images), dtype=bool)
    skipped: list[tuple[str, str]] = []
    for position, name in enumerate(names):
        try:
            _guarded(name, pipeline.standardize, images[position : position + 1])
        except DataError as exc:
            if on_error != "skip":
                raise _naming(exc, name)  # noqa: B904 (the cause is kept)
            skipped.append((name, _reason(exc, name)))
            keep[position] = False
    if keep.all():  # it fails on the batch only, not on any one sample
        first = shown(names[0])
        raise SampleError(
            f"standardizing the batch of {first} and {len(names) - 1} more failed: {_why(failure)}"
        ) from failure
    if not keep.any():
        return None, keep, skipped
    rest = names[int(np.flatnonzero(keep)[0])]
    return _guarded(rest, pipeline.standardize, images[keep]), keep, skipped


def _naming(error: DataError, name: str) -> DataError:
    """``error`` if its message names the sample, else a DataError that does."""
    if str(error).startswith(shown(name)):
        return error
    renamed = DataError(f"{shown(name)}: {one_line(error)}")
    renamed.__cause__ = error.__cause__ or error
    return renamed


def _reason(error: DataError, name: str) -> str:
    message = one_line(error)
    prefix = f"{shown(name)}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _why(exc: BaseException) -> str:
    """``Type: message`` of an exception, on one line."""
    return f"{type(exc).__name__}: {one_line(exc)}"
