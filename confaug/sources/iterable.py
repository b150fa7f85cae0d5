"""Batches from any iterable, unpacked into a per-batch array source for augmentation."""

from __future__ import annotations

from typing import Any

import numpy as np

from confaug.sources.arrays import ArraySource, per_sample_count
from confaug.sources.errors import DataError


def unpack_batch(
    batch: Any, number: int, *, masks_in_y: bool = False, data_format: str = "channels_last"
) -> tuple[ArraySource, tuple[Any, ...]]:
    """Split ``x``, ``(x, y)`` or ``(x, y, w)`` into a source for ``x`` and the rest.

    With ``masks_in_y`` the source also holds ``y`` as masks, so they get the same transform.
    Errors name the batch number and, for per-sample problems, the index in the batch.
    """
    if isinstance(batch, (tuple, list)):
        if not 1 <= len(batch) <= 3:
            raise DataError(
                f"batch {number}: expected x, (x, y) or (x, y, w); got {len(batch)} items"
            )
        x, rest = batch[0], tuple(batch[1:])
    else:
        x, rest = batch, ()
    if masks_in_y and not rest:
        raise DataError(f"batch {number}: masks_in_y needs (x, y) batches")
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except ValueError as exc:  # ragged: images of different shapes
            raise DataError(f"batch {number}: x is not one array of images ({exc})") from None
    source = ArraySource(
        x,
        masks=rest[0] if masks_in_y else None,
        data_format=data_format,
        name=f"batch {number} x",
    )
    for key, values in zip(("y", "w"), rest, strict=False):
        if values is not None and per_sample_count(values, f"batch {number} {key}") != len(source):
            raise DataError(
                f"batch {number} x has {len(source)} samples but {key} has {len(values)}"
            )
    return source, rest
