"""The one-sample pipeline interface that batching depends on."""

from __future__ import annotations

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
