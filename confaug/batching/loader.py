"""Turn a list of sample indices into one augmented, standardized batch.

This is the only work a worker does, whatever kind of worker it is, so results cannot depend
on the worker: each sample's seed comes from :func:`~confaug.batching.seeding.derive_seed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from confaug.batching.collate import Batch, PerSample, stack
from confaug.batching.protocol import SamplePipeline
from confaug.batching.seeding import SAMPLE_STREAM, derive_seed
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


def load_batch(
    source: Source,
    pipeline: SamplePipeline,
    indices: np.ndarray,
    *,
    seed: int,
    key: tuple[int, ...],
    on_error: OnError = "raise",
    should_stop: StopCheck | None = None,
) -> LoadResult:
    """Load, augment (seed from ``(seed, *key, index)``), stack and standardize samples.

    A :class:`DataError` (from the source or the pipeline) skips the sample with
    ``on_error="skip"`` and otherwise propagates naming it; any other exception becomes a
    :class:`SampleError` naming the sample, with the original as ``__cause__``.
    """
    outputs, kept, skipped = [], [], []
    for index in (int(i) for i in indices):
        if should_stop is not None and should_stop():
            raise Cancelled
        name = source.describe(index)
        try:
            outputs.append(pipeline(seed=derive_seed(seed, *key, index), **source.load(index)))
        except DataError as exc:  # bad data, from the source or the pipeline's own checks
            if on_error == "skip":
                skipped.append((name, _reason(exc, name)))
                continue
            if name in str(exc):
                raise
            raise DataError(f"{name}: {exc}") from exc
        except Exception as exc:
            raise SampleError(f"{name}: {type(exc).__name__}: {exc}") from exc
        kept.append(index)
    if not kept:
        return LoadResult(None, skipped)
    return LoadResult(_collate(source, pipeline, outputs, np.asarray(kept)), skipped)


class SkipLog:
    """``(file, reason)`` of every skipped sample, each file listed and logged once.

    Not thread-safe: a caller sharing one across threads serializes :meth:`add`.
    """

    def __init__(self) -> None:
        #: ``(path, reason)`` in the order first seen.
        self.entries: list[tuple[str, str]] = []
        self._paths: set[str] = set()

    def add(self, skipped: Iterable[tuple[str, str]]) -> None:
        """Record and log (logger ``"confaug"``) the files not seen before."""
        for path, reason in skipped:
            if path not in self._paths:
                self._paths.add(path)
                self.entries.append((path, reason))
                logger.warning("skipping %s: %s", path, reason)


class BatchLoader:
    """:func:`load_batch` bound to one source and pipeline; picklable for process workers."""

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
            key=(SAMPLE_STREAM, task.epoch),
            on_error=self.on_error,
            should_stop=should_stop,
        )


def _collate(
    source: Source, pipeline: SamplePipeline, outputs: list[dict[str, Any]], kept: np.ndarray
) -> Batch:
    names = [source.describe(int(index)) for index in kept]
    x = pipeline.standardize(stack([out["image"] for out in outputs], names))
    kind = source.target_kind
    if kind == "labels":
        y = source.labels_for(kept)
    elif kind == "input":
        y = x.copy()
    elif kind == "mask":
        y = stack([out["mask"] for out in outputs], names, what="masks")
    elif kind == "targets":
        y = {key: PerSample(out[key] for out in outputs) for key in source.target_keys}
    else:
        y = None
    return Batch(x, y, source.weights_for(kept), kept)


def _reason(error: DataError, name: str) -> str:
    message = str(error)
    return message[len(name) + 2 :] if message.startswith(f"{name}: ") else message
