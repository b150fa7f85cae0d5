"""A batch as the batching layer holds it, and the few operations on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confaug.sources.errors import DataError, shown


class PerSample(list[Any]):
    """One entry per sample, for targets whose size varies (bboxes, keypoints)."""


@dataclass(frozen=True)
class Batch:
    """``x`` with its ``y`` (array, list of arrays, dict of :class:`PerSample`, or None),
    weights ``w``, and the sample ``indices`` it holds."""

    x: np.ndarray
    y: Any
    w: np.ndarray | None
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)

    def output(self) -> Any:
        """Keras' shape of a batch: ``x``, ``(x, y)`` or ``(x, y, w)``."""
        if self.y is None:
            return self.x
        return (self.x, self.y) if self.w is None else (self.x, self.y, self.w)


def stack(arrays: Sequence[np.ndarray], names: Sequence[str], what: str = "images") -> np.ndarray:
    """``np.stack`` that names the files when their shapes differ."""
    first = arrays[0].shape
    for position, array in enumerate(arrays):
        if array.shape != first and array.shape[:2] == first[:2] and what == "masks":
            # One size, other channels (a grey mask saved as RGB): no size hint applies.
            raise DataError(
                f"masks in one batch differ in channels: the mask of {shown(names[0])} is "
                f"{first}, the mask of {shown(names[position])} is {array.shape}: give every "
                "mask the same channels (a grey mask saved as RGB or RGBA has 3 or 4)"
            )
        if array.shape != first:  # names are looked up only here: they may be made lazily
            raise DataError(
                f"{what} in one batch differ in shape: {shown(names[0])} is {first}, "
                f"{shown(names[position])} is {array.shape}: give the images one size "
                "(target_size= resizes files as they are read), and when a step changes the "
                "size on some samples only (p < 1, a random scale), end the pipeline with a "
                "fixed-size step such as Resize or RandomCrop with p: 1"
            )
    return np.stack(arrays)


def take(batch: Batch, start: int, stop: int | None = None) -> Batch:
    """Samples ``start:stop`` of ``batch``."""
    part = slice(start, stop)
    return Batch(
        batch.x[part],
        _map(lambda v: v[part], batch.y),
        _map(lambda v: v[part], batch.w),
        batch.indices[part],
    )


def concat(batches: Sequence[Batch], describe: Callable[[int], str]) -> Batch:
    """Batches joined in order; differing image shapes raise :class:`DataError`."""
    if len(batches) == 1:
        return batches[0]
    firsts = [batch.x[0] for batch in batches]
    stack(firsts, [describe(int(batch.indices[0])) for batch in batches])
    return Batch(
        np.concatenate([batch.x for batch in batches]),
        _join([batch.y for batch in batches]),
        _join([batch.w for batch in batches]),
        np.concatenate([batch.indices for batch in batches]),
    )


def _map(function: Callable[[Any], Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: _map(function, item) for key, item in value.items()}
    if isinstance(value, PerSample):
        return PerSample(function(value))
    if isinstance(value, list):
        return [_map(function, item) for item in value]
    return function(value)


def _join(values: list[Any]) -> Any:
    first = values[0]
    if first is None:
        return None
    if isinstance(first, dict):
        return {key: _join([value[key] for value in values]) for key in first}
    if isinstance(first, PerSample):
        return PerSample(item for value in values for item in value)
    if isinstance(first, list):
        return [_join([value[i] for value in values]) for i in range(len(first))]
    return np.concatenate(values)
