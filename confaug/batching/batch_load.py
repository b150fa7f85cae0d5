"""A batch in one call, for a pipeline that augments whole batches (``augment_images``).

``confaug.Pipeline`` augments a batch at once when its spec is the Keras keywords alone
(``compiler/batch_path.py``), with the same pixels as one call per sample. The loader asks
:func:`augment_as_batch` first; None means "go sample by sample", which is also how every
problem is handled — a sample that fails to load, data that is not an image alone, images
the batch path declines — so that the error policy, the messages and the skipped lists stay
the sample-by-sample loop's own. The samples' seeds are computed together
(``confaug.idg.many_seeds``), the same numbers as ``sample_seed`` gives one by one.

An :class:`~confaug.sources.arrays.ArraySource` over one array hands the batch path the
array and the indices (``compiler.batch_path.ArrayBatch``) instead of loading each sample:
the checks ``load`` makes were made for the whole array when the source was built, and
whether its values are finite when its bounds were found, so no sample is looked at twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from confaug.compiler.batch_path import ArrayBatch
from confaug.idg.many_seeds import sample_seeds
from confaug.sources.arrays import ArraySource
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
    whole = _array_batch(source, indices)
    if whole is not None:
        keys = whole.indices.tolist()  # ArraySource's sample key is the index
        result: np.ndarray | None = pipeline.augment_images(whole, sample_seeds(seed, stream, keys))
        return result
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
    result = pipeline.augment_images(images, sample_seeds(seed, stream, keys))
    return result


def _array_batch(source: Source, indices: np.ndarray | range) -> ArrayBatch | None:
    """The samples ``indices`` of an array source as one :class:`ArrayBatch`, when the
    source loads and keys them as ``ArraySource`` does (a subclass may not)."""
    if not isinstance(source, ArraySource):
        return None
    kind = type(source)
    if kind.load is not ArraySource.load or kind.sample_key is not ArraySource.sample_key:
        return None
    array = source.batch_array(indices)
    if array is None:
        return None
    return ArrayBatch(array, np.asarray(indices, dtype=np.intp), source.known_finite)
