"""Augment samples of a source: the one per-sample loop, and batches built from it.

Everything that augments samples of a source goes through :func:`augment_samples` — the
generators and their workers, the PyTorch datasets, Ray rows, ``confaug augment`` copies —
so all of them share one seed derivation, one decoder (the source's) and one error policy:

- sample ``i`` is augmented with ``sample_seed(seed, *stream, source.sample_key(i))``; epoch
  ``e`` of an indexed source is the stream ``(SAMPLE_STREAM, e)`` (see ``confaug.seeding``);
- a :class:`DataError` (bad data, from the source or the pipeline's own checks) skips the
  sample with ``on_error="skip"`` and otherwise propagates, naming the sample;
- any other exception is the pipeline's fault, never the data's: a :class:`SampleError`
  naming the sample, with the original as ``__cause__``, whatever ``on_error`` says.

Nothing depends on which worker does the work, so results cannot depend on the workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from confaug.batching.collate import Batch, PerSample, stack
from confaug.batching.protocol import SamplePipeline
from confaug.seeding import SAMPLE_STREAM, sample_seed
from confaug.sources.base import Source
from confaug.sources.errors import DataError

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
) -> Augmented:
    """Load and augment each sample of ``indices`` (see the module docstring).

    ``standardize`` also runs each output image through ``pipeline.standardize`` (as a batch
    of one), under the same error policy, for callers that hand samples on one at a time;
    :func:`load_batch` standardizes the stacked batch instead.
    """
    outputs, kept, skipped = [], [], []
    for index in (int(i) for i in indices):
        if should_stop is not None and should_stop():
            raise Cancelled
        name = source.describe(index)
        try:
            data = source.load(index)
            key = source.sample_key(index)
            out = pipeline(seed=sample_seed(seed, *stream, key), **data)
            if standardize:
                out = {**out, "image": pipeline.standardize(out["image"][None])[0]}
            outputs.append(out)
        except DataError as exc:  # bad data, from the source or the pipeline's own checks
            if on_error == "skip":
                skipped.append((name, _reason(exc, name)))
                continue
            if name in str(exc):
                raise
            raise DataError(f"{name}: {exc}") from exc
        except Exception as exc:
            raise SampleError(f"{name}: pipeline failed: {type(exc).__name__}: {exc}") from exc
        kept.append(index)
    return Augmented(outputs, np.asarray(kept, dtype=np.int64), skipped)


def load_batch(
    source: Source,
    pipeline: SamplePipeline,
    indices: np.ndarray,
    *,
    seed: int,
    stream: tuple[int, ...],
    on_error: OnError = "raise",
    should_stop: StopCheck | None = None,
) -> LoadResult:
    """:func:`augment_samples`, then the kept samples stacked, standardized and given their
    ``y`` (per the source's ``y_mode``) and weights."""
    done = augment_samples(
        source,
        pipeline,
        indices,
        seed=seed,
        stream=stream,
        on_error=on_error,
        should_stop=should_stop,
    )
    if not len(done.kept):
        return LoadResult(None, done.skipped)
    return LoadResult(_collate(source, pipeline, done), done.skipped)


def require_batch(result: LoadResult, number: int) -> Batch:
    """The batch of ``result``; a DataError when every sample of batch ``number`` was skipped."""
    if result.batch is None:
        raise DataError(f"every sample of batch {number} was skipped: {result.skipped}")
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
                    logger.warning("skipping %s: %s", path, reason)


class BatchLoader:
    """:func:`load_batch` of one source's epochs; picklable for process workers."""

    def __init__(
        self, source: Source, pipeline: SamplePipeline, seed: int, on_error: OnError
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        self.seed = seed
        self.on_error = on_error

    def __call__(self, task: Task, should_stop: StopCheck | None = None) -> LoadResult:
        """Load one task's batch."""
        return load_batch(
            self.source,
            self.pipeline,
            task.indices,
            seed=self.seed,
            stream=(SAMPLE_STREAM, task.epoch),
            on_error=self.on_error,
            should_stop=should_stop,
        )


def _collate(source: Source, pipeline: SamplePipeline, done: Augmented) -> Batch:
    outputs, kept = done.outputs, done.kept
    names = [source.describe(int(index)) for index in kept]
    x = pipeline.standardize(stack([out["image"] for out in outputs], names))
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
    return Batch(x, y, source.weights_for(kept), kept)


def _reason(error: DataError, name: str) -> str:
    message = str(error)
    return message[len(name) + 2 :] if message.startswith(f"{name}: ") else message
