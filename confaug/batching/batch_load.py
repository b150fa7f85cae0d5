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
Such a source's seeds (its keys are its indices) come from one :class:`EpochSeeds` table
per epoch, made when the epoch's first batch is: a batch takes its rows of the seeds, and
of the draws made from them, instead of hashing and drawing again (the same numbers).

A batch that is every sample of its array source, whose range is not known yet (each of
``wrap``'s batches is a source of its own), is not scanned for its value range first: the
batch path reads the range from the images' bits while it augments them, in both halves
of the batch at once, and declines when the bits cannot say (``finds_own_range``; the
loader then has the source scan its values, as for any other batch).

A batch of small images is augmented with OpenCV held at one thread (the workers'
reference-counted pin; not in a child forked without OpenCV's fork hooks): a warp of a
32 px image is too short to share, and OpenCV's idle threads, which spin a while before
they sleep, took a core from the caller (a drop-in ``flow`` over 32 px images ran
1.3–1.5x faster so on a loaded 2-core machine).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from confaug.batching.workers import opencv_pinned_for_small_work
from confaug.compiler.batch_path import ArrayBatch
from confaug.idg.many_seeds import Seeds, SeedTable, sample_seeds
from confaug.sources.arrays import ArraySource
from confaug.sources.base import Source

#: The ways of building ``y`` that take nothing from the augmented samples but the image.
_IMAGE_ONLY_MODES = ("labels", "input", "none")
#: The sources whose epochs get a seed table (EpochSeeds): from two batches of 32, up to
#: 2**16 samples (a table costs about 1 µs and 150 bytes a sample, once an epoch).
_TABLE_SIZES = range(64, (1 << 16) + 1)
#: Tables kept: the epoch being loaded and the next (workers may overlap the two).
_TABLES_KEPT = 2
#: Images of fewer values than this (64 x 64 RGB) are warped with OpenCV at one thread.
_ONE_THREAD_VALUES = 64 * 64 * 3


class EpochSeeds:
    """The :class:`~confaug.idg.many_seeds.SeedTable` of each epoch of one array source
    (its keys are its indices), made on first use, the last two kept; None for a source
    or pipeline the whole-batch route does not take as one array, or of a size outside
    ``_TABLE_SIZES``. Shared by threads; pickled without its tables (a worker process
    makes its own)."""

    def __init__(self, source: Source, pipeline: Any, seed: int) -> None:
        self._size = len(source)
        self._on = (
            bool(getattr(pipeline, "augments_batches", False))
            and _loads_as_array(source)
            and isinstance(getattr(source, "x", None), np.ndarray)  # a list goes image by image
            and self._size in _TABLE_SIZES
        )
        self._seed = seed
        self._tables: dict[tuple[int, ...], SeedTable] = {}
        self._lock = threading.Lock()

    def __call__(self, stream: tuple[int, ...]) -> SeedTable | None:
        """The table of ``stream`` (an epoch's), or None when this source gets none."""
        if not self._on:
            return None
        with self._lock:  # made once, under the lock: other threads wait for it
            table = self._tables.get(stream)
            if table is None:
                table = SeedTable(self._seed, stream, self._size)
                self._tables[stream] = table
                while len(self._tables) > _TABLES_KEPT:
                    self._tables.pop(next(iter(self._tables)))
        return table

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tables": {}, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())


def augment_as_batch(
    source: Source,
    pipeline: Any,
    indices: Iterable[int] | np.ndarray,
    seed: int,
    stream: tuple[int, ...],
    should_stop: Callable[[], bool] | None = None,
    table: SeedTable | None = None,
    own_range: bool = False,
) -> np.ndarray | None:
    """The augmented images of ``indices`` stacked (sample ``i`` seeded as the loader seeds
    it), or None when the batch should go sample by sample. ``table``: the seeds of
    ``(seed, stream)`` for every key of an array source (:class:`EpochSeeds`).
    ``own_range``: ``pipeline`` has not been given the source's value range, and
    ``indices`` are every sample of it (:func:`finds_own_range`): the pipeline finds the
    range from them as it augments them, or declines (None)."""
    if not getattr(pipeline, "augments_batches", False) or source.y_mode not in _IMAGE_ONLY_MODES:
        return None
    if not isinstance(indices, (np.ndarray, range)) or not len(indices):
        return None
    if should_stop is not None and should_stop():
        return None  # the sample-by-sample loop stops before its first sample
    whole = _array_batch(source, indices, own_range)
    if own_range and whole is None:
        return None
    if whole is not None:
        seeds: Seeds  # ArraySource's sample key is the index
        if table is not None and table.holds(seed, stream, len(source)):
            seeds = table.seeds(whole.indices)
        else:
            seeds = sample_seeds(seed, stream, whole.indices.tolist())
        with _threads_for(whole.array[0].size):
            result: np.ndarray | None = pipeline.augment_images(whole, seeds)
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
    with _threads_for(images[0].size):
        result = pipeline.augment_images(images, sample_seeds(seed, stream, keys))
    return result


def _threads_for(values: int) -> contextlib.AbstractContextManager[None]:
    """OpenCV held at one thread for images of ``values`` values, when they are small."""
    if values < _ONE_THREAD_VALUES:
        return opencv_pinned_for_small_work()
    return contextlib.nullcontext()


def finds_own_range(source: Source, pipeline: Any, indices: Iterable[int] | np.ndarray) -> bool:
    """Whether the batch of ``indices`` may find its source's value range itself, while
    it is augmented, instead of the source scanning its values first: an array source
    of floats whose range is not known yet (``wrap``'s batches: each is its own source),
    a pipeline that augments whole batches, and ``indices`` every sample of the source —
    the range of the batch is then the range of the dataset."""
    if not getattr(pipeline, "augments_batches", False) or not _loads_as_array(source):
        return False
    assert isinstance(source, ArraySource)
    x = source.x
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or source.range_known:
        return False
    if not isinstance(indices, (np.ndarray, range)) or len(indices) != len(x) or not len(x):
        return False
    order = np.asarray(indices)
    return bool(np.array_equal(np.sort(order), np.arange(len(x))))


def _array_batch(
    source: Source, indices: np.ndarray | range, whole: bool = False
) -> ArrayBatch | None:
    """The samples ``indices`` of an array source as one :class:`ArrayBatch`, when the
    source loads and keys them as ``ArraySource`` does (a subclass may not); ``whole``:
    they are all of it (:func:`finds_own_range`)."""
    if not _loads_as_array(source):
        return None
    assert isinstance(source, ArraySource)
    array = source.batch_array(indices)
    if array is None:
        return None
    return ArrayBatch(array, np.asarray(indices, dtype=np.intp), source.known_finite, whole)


def _loads_as_array(source: Source) -> bool:
    """Whether ``source`` loads and keys samples as ``ArraySource`` does (a subclass may
    not): its batches can be taken as one array, and its keys are its indices."""
    kind = type(source)
    return (
        isinstance(source, ArraySource)
        and kind.load is ArraySource.load
        and kind.sample_key is ArraySource.sample_key
    )
