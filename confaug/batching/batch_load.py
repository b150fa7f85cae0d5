"""A batch in one call, for a pipeline that augments whole batches (``augment_images``).

``confaug.Pipeline`` augments a batch at once when its spec is the Keras keywords alone
(``compiler/batch_path.py``), with the same pixels as one call per sample. The loader asks
:func:`augment_as_batch` first; None means "go sample by sample", which is also how every
problem is handled — a sample that fails to load, data that is not an image alone, images
the batch path declines — so that the error policy, the messages and the skipped lists stay
the sample-by-sample loop's own. The samples' seeds are computed together
(``confaug.idg.many_seeds``), the same numbers as ``sample_seed`` gives one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from confaug.idg.many_seeds import sample_seeds
from confaug.sources.base import Source

#: The ways of building ``y`` that take nothing from the augmented samples but the image.
_IMAGE_ONLY_MODES = ("labels", "input", "none")


def augment_as_batch(
    source: Source,
    pipeline: Any,
    indices: Iterable[int] | np.ndarray,
    seed: int,
    stream: tuple[int, ...],
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray | None:
    """The augmented images of ``indices`` stacked (sample ``i`` seeded as the loader seeds
    it), or None when the batch should go sample by sample."""
    if not getattr(pipeline, "augments_batches", False) or source.y_mode not in _IMAGE_ONLY_MODES:
        return None
    if not isinstance(indices, (np.ndarray, range)) or not len(indices):
        return None
    if should_stop is not None and should_stop():
        return None  # the sample-by-sample loop stops before its first sample
    images, keys = [], []
    for index in map(int, indices):
        try:
            data = source.load(index)
            keys.append(source.sample_key(index))
        except Exception:  # the sample-by-sample loop names it and applies the error policy
            return None
        if len(data) != 1 or "image" not in data:
            return None
        images.append(np.asarray(data["image"]))
    result: np.ndarray | None = pipeline.augment_images(images, sample_seeds(seed, stream, keys))
    return result
