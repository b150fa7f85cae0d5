"""The one-sample pipeline interface that batching depends on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class SamplePipeline(Protocol):
    """Augments one sample; ``confaug.compiler.Pipeline`` implements it.

    ``__call__`` takes albumentations-style keyword data (``image`` in the pipeline's
    ``data_format``, optional ``mask``, ``bboxes``, …) and returns a dict with the same keys;
    the image keeps its dtype and value range, unless a step sets them (``Normalize``,
    ``ToFloat``, ``FromFloat``: ``Pipeline.output_set_by``). ``seed=None`` uses the
    pipeline's own RNG, an int fully determines the result. It must be thread-safe, and
    picklable for process workers. ``standardize`` is the batch-level post stage (identity
    when there is none); it must treat samples independently, since batches may be re-cut
    after skipped samples.

    A pipeline may also offer ``augment_sample`` (``Pipeline`` does): ``__call__`` without
    the checks a caller's own images get, which the loader calls instead
    (:func:`augment_sample_of`).
    """

    @property
    def data_format(self) -> str:
        """``channels_last`` or ``channels_first``: the layout of ``image`` in and out."""
        ...

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]: ...

    def standardize(self, batch: np.ndarray) -> np.ndarray: ...


def data_format_of(pipeline: SamplePipeline) -> str:
    """The pipeline's ``data_format``, or a TypeError saying the protocol needs it."""
    data_format = getattr(pipeline, "data_format", None)
    if data_format is None:
        raise TypeError(
            f"{type(pipeline).__name__} has no data_format attribute; a SamplePipeline must "
            "give 'channels_last' or 'channels_first'"
        )
    return str(data_format)


def augment_sample_of(pipeline: SamplePipeline) -> Callable[..., dict[str, Any]]:
    """What the loader calls for one sample: the pipeline's ``augment_sample`` when it has
    one, else the pipeline itself. ``Pipeline.__call__`` refuses an image in the other
    layout than its data_format (a C×H×W ``(3, 32, 32)`` on ``channels_last``), for a
    caller's ``pipe(image=...)``; a source has checked its samples by its own rule already,
    and the Keras drop-in's flows take any channel count (Keras warns and goes on), so the
    loader must not apply ``__call__``'s."""
    augment = getattr(pipeline, "augment_sample", None)
    return augment if callable(augment) else pipeline


def spec_seed_of(pipeline: SamplePipeline) -> int | None:
    """The seed of the pipeline's spec (``seed:``, "every run of the pipeline identical"),
    or None: what a generator or stream given ``seed=None`` takes, as the row adapters,
    Ray and the CLI take it; only without one is a fresh seed drawn."""
    return getattr(getattr(pipeline, "spec", None), "seed", None)
