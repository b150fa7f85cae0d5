"""The batch path: a pipeline that is the Keras keywords alone, run over a whole batch.

When a spec compiles to one ``IdgTransform`` and nothing else, a batch does not need to go
through albumentations one image at a time. :class:`BatchPath` draws every image's
parameters, converts the value range, warps each image into a preallocated output batch
(``confaug.idg.batch``) and converts back, all with the operations the per-sample path
runs, in the same order: the batch holds the same bits as ``pipeline(image=..., seed=s)``
gives image by image, and the same random stream —

- with seeds, image ``i`` draws the first values of ``default_rng(seeds[i])``, as the
  per-sample path seeds its ``Compose`` (see ``pipeline._seed_compose``);
- without, the draws come from the pipeline's own generator, in image order, as a loop
  over the images would take them (and the Compose's Python ``Random`` advances as it would).

Anything the path cannot promise that for (masks or other targets, images of different
shapes, non-finite floats, an image without pixels, a step failing) it declines by
returning None, and the caller goes sample by sample, with that path's errors and messages.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from confaug.compiler.range_bits import (
    largest_bits,
    range_of_bits,
    reads_bits,
    value_of_bits,
    warn_if_just_above_one,
)
from confaug.compiler.values import OWN_UNITS_TOP, Scale, in_own_units, infer_scale
from confaug.errors import DataError
from confaug.idg.batch import WarpSettings, augment_into, with_matrices
from confaug.idg.many_seeds import Seeds, first_uniforms
from confaug.idg.params import BatchDraws, IdgSampler
from confaug.opencv_threads import for_warp


@dataclass(frozen=True)
class ArrayBatch:
    """Images ``array[indices]`` of one array in the pipeline's layout, read where they are:
    what a source hands :meth:`BatchPath.run_samples` instead of a list of images when it
    vouches for all of them at once — rank 3, with pixels, uint8 or float — and, when
    ``finite``, that no float value is NaN or infinite. Indices lie within the array.
    ``whole``: they are every image of their dataset, so with ``value_range: auto`` their
    one range is found from them (as ``Pipeline.for_value_bounds`` decides it), while they
    are augmented (:meth:`BatchPath._run_in_own_range`)."""

    array: np.ndarray
    indices: np.ndarray
    finite: bool
    whole: bool = False

    def __len__(self) -> int:
        return len(self.indices)


class BatchPath:
    """The Keras step of a Keras-only ``Compose``, over batches (see the module docstring)."""

    def __init__(
        self, sampler: IdgSampler, settings: WarpSettings, *, values_checked: bool = False
    ) -> None:
        self.sampler = sampler
        self.settings = settings
        #: The range the last batch that found its own was in: the next one's first guess
        #: (see _run_in_own_range). Only a guess, so threads may race on it.
        self._range_guess: tuple[float, float] | None = None
        #: Every float value is known to lie within its scale's range (the pipeline's
        #: ``value_range: auto`` finds the scale from the values; a batch that finds its
        #: own range is checked whatever this says): the brightness clip can then be
        #: lighter (``idg.warp.clip_brightened``).
        self.values_checked = values_checked

    @classmethod
    def of(cls, compose: Any, *, values_checked: bool = False) -> BatchPath | None:
        """The batch path of ``compose``, or None unless it is one always-applied
        ``IdgTransform`` (anything else runs through albumentations per sample);
        ``values_checked``: see :attr:`values_checked`."""
        from confaug.idg.transform import IdgTransform

        steps = list(getattr(compose, "transforms", ()))
        if len(steps) != 1 or type(steps[0]) is not IdgTransform:
            return None
        step = steps[0]
        if getattr(compose, "p", 1.0) < 1.0 or step.p < 1.0:
            return None
        settings = WarpSettings.of(step.fill_mode, step.cval, step.interpolation_order)
        return cls(step.sampler, settings, values_checked=values_checked)

    # ---- the two entry points ---------------------------------------------------------
    def run_array(
        self,
        batch: np.ndarray,
        scale: Scale | None,
        *,
        seeds: Sequence[int] | None,
        compose: Any,
        channels_first: bool,
        finite: bool,
    ) -> np.ndarray | None:
        """``batch`` (N images of one value range ``scale``, in the pipeline's layout)
        augmented, or None to go sample by sample. Without ``seeds`` the draws come from
        ``compose``'s generator (the calling thread's Compose). ``finite``: float values
        are known to be finite (``value_range: auto`` looked at every one)."""
        images = _hwc(batch, channels_first)
        if images is None or not _has_pixels(images):
            return None
        if seeds is not None:
            draws = self._draws_for(seeds, *images.shape[1:3])
            out = self._augment(images, draws, scale, finite, self.values_checked)
            return None if out is None else _layout(out, channels_first)
        rng, py_random = compose.transforms[0].random_generator, compose.py_random
        before = rng.bit_generator.state
        try:
            draws = self._draws_from(rng, len(images), *images.shape[1:3])
            out = self._augment(images, draws, scale, finite, self.values_checked)
        except BaseException:
            rng.bit_generator.state = before
            raise
        if out is None:  # declined: the generator goes back to where it was
            rng.bit_generator.state = before
            return None
        for _ in range(len(images)):  # the Compose's own p check, once per image
            py_random.random()
        return _layout(out, channels_first)

    def run_samples(
        self,
        images: Sequence[np.ndarray] | ArrayBatch,
        seeds: Sequence[int],
        *,
        value_range: Any,
        channels_first: bool,
    ) -> np.ndarray | None:
        """The images of one batch (each in the pipeline's layout, as a source loads them,
        or an :class:`ArrayBatch`), image ``i`` augmented with ``seeds[i]``, stacked; None
        to go sample by sample."""
        if isinstance(images, ArrayBatch):
            return self._run_taken(images, seeds, value_range, channels_first)
        if not len(images) or len({(image.shape, image.dtype) for image in images}) != 1:
            return None
        # A fixed range (or uint8, uint16) gives every image the same scale: asked once.
        each = value_range == "auto" and images[0].dtype.kind == "f"
        try:
            scales = {
                infer_scale(image, value_range, where="image")
                for image in (images if each else images[:1])
            }
        except DataError:
            return None
        if len(scales) != 1:  # "auto" read the images in different ranges: one at a time
            return None
        (scale,) = scales
        views = [_hwc_image(image, channels_first) for image in images]
        if any(view is None for view in views):
            return None
        batch = _Stacked(views)
        if not _has_pixels(batch):
            return None
        draws = self._draws_for(seeds, *batch.shape[1:3])
        # "auto" saw every value
        out = self._augment(batch, draws, scale, each, self.values_checked)
        return None if out is None else _layout(out, channels_first)

    def _run_taken(
        self, batch: ArrayBatch, seeds: Sequence[int], value_range: Any, channels_first: bool
    ) -> np.ndarray | None:
        """:meth:`run_samples` of an :class:`ArrayBatch`: one range for the batch (a fixed
        one, or "auto" asked of the images taken), the images read in place."""
        array = batch.array
        if not len(batch) or array.ndim != 4:
            return None
        if value_range == "auto" and array.dtype.kind == "f" and batch.whole:
            return self._run_in_own_range(batch, seeds, channels_first)
        if value_range == "auto" and array.dtype.kind == "f":  # a range per image: as a list
            images = [array[index] for index in batch.indices.tolist()]
            return self.run_samples(
                images, seeds, value_range=value_range, channels_first=channels_first
            )
        try:  # uint8, uint16 or a fixed range: the same for every image
            scale = infer_scale(array[:0], value_range, where="image")
        except DataError:
            return None
        taken = _Taken(np.moveaxis(array, 1, -1) if channels_first else array, batch.indices)
        finite = batch.finite or array.dtype.kind != "f"
        draws = self._draws_for(seeds, *taken.shape[1:3])
        out = self._augment(taken, draws, scale, finite, self.values_checked)
        return None if out is None else _layout(out, channels_first)

    def _run_in_own_range(
        self, batch: ArrayBatch, seeds: Sequence[int], channels_first: bool
    ) -> np.ndarray | None:
        """:meth:`_run_taken` of the floats of a whole dataset with ``value_range: auto``:
        augmented in the range their largest bit pattern puts them in (``range_bits``), or
        None when that cannot say (the caller then finds the range from the values).

        The bits are read image by image as the images are augmented, in both halves of
        the batch at once, in the range the previous such batch was in; only when the
        batch turns out to be in the other one is it augmented again. The range decides
        the output, never the guess: the bits are those of the range found first and the
        batch augmented after, which is how the first batch (no guess yet) is done."""
        array = batch.array
        if not reads_bits(array.dtype):
            return None
        taken = _Taken(np.moveaxis(array, 1, -1) if channels_first else array, batch.indices)
        draws = self._draws_for(seeds, *taken.shape[1:3])
        guess = self._range_guess
        out: np.ndarray | None = None
        if guess is None:
            largest = largest_bits(array)
        else:
            seen: list[int] = []
            out = self._augment(taken, draws, Scale(*guess, array.dtype), True, True, seen)
            largest = max(seen)
        found = range_of_bits(largest, array.dtype)
        if found is None:
            return None
        warn_if_just_above_one(value_of_bits(largest, array.dtype))
        if found != guess:
            out = self._augment(taken, draws, Scale(*found, array.dtype), True, True)
        self._range_guess = found
        return None if out is None else _layout(out, channels_first)

    # ---- draws --------------------------------------------------------------------------
    def _draws_from(
        self, rng: np.random.Generator, count: int, height: int, width: int
    ) -> BatchDraws:
        """``count`` draws from one generator, in image order."""
        columns = self.sampler.uniform_count
        if columns is None:
            return BatchDraws.stack([self.sampler.sample(rng, height, width) for _ in range(count)])
        return self.sampler.from_uniforms(rng.random((count, columns)), height, width)

    def _draws_for(self, seeds: Sequence[int], height: int, width: int) -> BatchDraws:
        """One draw per seed, each what ``default_rng(seed)`` gives alone. Seeds of a
        :class:`~confaug.idg.many_seeds.SeedTable` (an epoch's) take their rows of the
        draws made once for the whole table, matrices included: the same numbers, as
        every step is per image."""
        columns = self.sampler.uniform_count
        if columns is None:
            return BatchDraws.stack(
                [self.sampler.sample(np.random.default_rng(s), height, width) for s in seeds]
            )
        table, rows = (seeds.table, seeds.rows) if isinstance(seeds, Seeds) else (None, None)
        if table is None or rows is None:
            return self.sampler.from_uniforms(first_uniforms(seeds, columns), height, width)

        def every(all_seeds: Seeds) -> BatchDraws:
            draws = self.sampler.from_uniforms(first_uniforms(all_seeds, columns), height, width)
            return with_matrices(draws, height, width)

        # Keyed by the sampler's keywords (equal samplers draw alike) and the image size.
        return table.derived((self.sampler, height, width), every).take(rows)

    # ---- pixels -------------------------------------------------------------------------
    def _augment(
        self,
        images: Any,
        draws: BatchDraws,
        scale: Scale | None,
        finite: bool,
        checked: bool,
        seen_bits: list[int] | None = None,
    ) -> np.ndarray | None:
        """HWC images in the caller's dtype and range → augmented, same dtype and range;
        None when a float value is not finite (the per-sample path names the image).
        ``checked``: every float value lies within ``scale``'s range (when ``scale`` is a
        guess, one that turns out wrong discards the output).
        ``seen_bits``: the float images' largest bit pattern is added to it, per chunk,
        and ``scale`` is only a guess (the values may be anything: no warnings)."""
        count, height, width, channels = images.shape
        out = np.empty((count, height, width, channels), np.uint8 if scale is None else scale.dtype)

        def run(part: slice) -> bool:
            if scale is None:  # uint8 is worked on as it is
                augment_into(images[part], draws[part], self.settings, out[part])
                return True
            if seen_bits is None:
                return self._augment_floats(images, draws, scale, finite, checked, out, part)
            # In each thread that runs a part (NumPy's error state is the thread's own).
            with np.errstate(all="ignore"):
                return self._augment_floats(
                    images, draws, scale, finite, checked, out, part, seen_bits
                )

        # The caller's OpenCV thread count, read before the pin below sets it to 1: it
        # decides the halves (1 when a worker holds the pin, or the caller set it so).
        threads = cv2.getNumThreads()
        # Float images are warped as float32: where OpenCV's stripes would change their bits
        # (opencv_threads.striped_warp), each warp runs as one stripe, OpenCV held at one
        # thread for the whole batch (not per image), and the two halves are the parallelism.
        dtype = np.dtype(np.uint8 if scale is None else np.float32)
        with for_warp(dtype, self.settings.interpolation, self.settings.border):
            done = _in_halves(run, count, count * height * width, threads)
        return out if all(done) else None

    def _augment_floats(
        self,
        images: Any,
        draws: BatchDraws,
        scale: Scale,
        finite: bool,
        checked: bool,
        out: np.ndarray,
        images_part: slice,
        seen_bits: list[int] | None = None,
    ) -> bool:
        """Float images ``images_part`` into ``out``; False at a value that is not finite.
        ``seen_bits``: gets each chunk's largest bit pattern, read just before the chunk
        is, so that it is read from the cache."""
        first, stop, _ = images_part.indices(len(out))
        _, height, width, channels = out.shape
        shape = (height, width, channels)
        # Float images go through in chunks of about a megabyte: each step runs over a chunk
        # at once (a 32 px image is too small to pay for a NumPy call of its own), and the
        # chunk is still in cache for the next step (a 400 px image is a chunk on its own).
        # The warp writes float32 in [0, 1]: straight into the output when that is float32,
        # else into a scratch chunk, reused; so is the working copy of the input.
        # Float 0-255 images are worked on in their own units (values.in_own_units), float32
        # ones read where they are: the warp's input is the caller's image itself.
        own = in_own_units(scale)
        top = OWN_UNITS_TOP if own else 1.0
        in_place = scale.identity or (own and _reads_in_place(images))
        size = max(1, min(stop - first, _CHUNK_VALUES // (height * width * channels)))
        scratch_in = None if in_place else np.empty((size, *shape), np.float32)
        scratch_out = None if out.dtype == np.float32 else np.empty((size, *shape), np.float32)
        # Brightness clips to [0, top] already, which makes from_working's clip a no-op.
        clipped = draws.brightness is not None
        for start in range(first, stop, size):
            part, target = (
                slice(start, min(start + size, stop)),
                out[start : min(start + size, stop)],
            )
            if seen_bits is not None:
                seen_bits.append(images[part].largest_bits())
            work = _to_working(images, part, None if own else scale, scratch_in)
            # A sum sees a NaN or an infinity (of the input, or of its working copy while
            # that is in cache); one that overflows on huge values only declines the batch.
            if not finite and not _finite_sum(work):
                return False
            slot = target if scratch_out is None else scratch_out[: len(target)]
            augment_into(work, draws[part], self.settings, slot, top, checked)
            _from_working(slot, None if own else scale, target, clipped=clipped, top=top)
        return True


#: Values per chunk of float images (see BatchPath._augment): 1 MB of float32.
_CHUNK_VALUES = 1 << 18
#: From this many pixels on, a batch is augmented in two halves at once (see _in_halves):
#: two 256 px images. Below it, handing half of the batch over cost more than it saved on
#: a loaded 2-core machine (a batch of 32 images of 32 px: ~15 % slower in two halves).
_HALVES_PIXELS = 1 << 17
_POOL_LOCK = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _in_halves(run: Callable[[slice], bool], count: int, pixels: int, threads: int) -> list[bool]:
    """``run`` over images ``0:count``: in two halves at once, one in a helper thread, when
    OpenCV may use more than one thread (``threads``, its count before any pin of the
    batch's own: a generator's workers pin it to one, as does ``cv2.setNumThreads(1)``)
    and the batch is large enough to pay for the hand-over; else in one call. Each image
    is written by one thread alone, with the same operations, so the bits do not depend on
    which thread ran it."""
    if count < 2 or pixels < _HALVES_PIXELS or threads < 2:
        return [run(slice(0, count))]
    middle = count // 2
    second = _helper().submit(run, slice(middle, count))
    try:
        first = run(slice(0, middle))
    finally:
        done = second.result()  # never leave the helper writing into a batch given up
    return [first, done]


def _helper() -> ThreadPoolExecutor:
    """The one helper thread of the process, started on first use."""
    global _pool
    with _POOL_LOCK:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="confaug-batch")
        return _pool


def _forget_helper() -> None:
    """In a forked child the helper thread does not exist: start a new one when needed."""
    global _pool, _POOL_LOCK
    _pool, _POOL_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_helper)


class _Taken:
    """Images ``array[indices]`` (HWC) that read like an (N, H, W, C) array, without a copy
    until :meth:`into` copies them where they are worked on."""

    def __init__(self, array: np.ndarray, indices: np.ndarray) -> None:
        self.array = array
        self.indices = indices
        self.shape = (len(indices), *array.shape[1:])
        self.dtype = array.dtype

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, part: slice) -> _Taken:
        return _Taken(self.array, self.indices[part])

    def __iter__(self) -> Iterator[np.ndarray]:
        array = self.array
        return (array[index] for index in self.indices.tolist())

    def largest_bits(self) -> int:
        """``range_bits.largest_bits`` of the images: one reduction over the images when
        they are a run of the array, else one per image."""
        indices = self.indices
        first, count = int(indices[0]), len(indices)
        if count == 1 or bool(np.all(indices == np.arange(first, first + count))):
            return largest_bits(self.array[first : first + count])
        return max(largest_bits(self.array[index]) for index in indices.tolist())

    def into(self, out: np.ndarray) -> None:
        """The images, as ``astype(out.dtype)`` makes them, into ``out``."""
        if out.dtype == self.dtype:  # one gather (indices are in range: no bounds buffer)
            np.take(self.array, self.indices, axis=0, out=out, mode="clip")
        else:
            np.copyto(out, self.array[self.indices], casting="unsafe")


class _Stacked:
    """A list of equal HWC images that reads like an (N, H, W, C) array, without a copy."""

    def __init__(self, images: list[Any]) -> None:
        self._images = images
        self.shape = (len(images), *images[0].shape)
        self.dtype = images[0].dtype

    def __len__(self) -> int:
        return len(self._images)

    def __getitem__(self, part: slice) -> list[np.ndarray]:
        images: list[np.ndarray] = self._images[part]
        return images

    def __iter__(self) -> Any:
        return iter(self._images)


def _hwc(batch: np.ndarray, channels_first: bool) -> np.ndarray | None:
    """An (N, H, W, C) view of a rank-4 batch in the pipeline's layout, else None."""
    if batch.ndim != 4:
        return None
    return np.moveaxis(batch, 1, -1) if channels_first else batch


def _hwc_image(image: np.ndarray, channels_first: bool) -> np.ndarray | None:
    if image.ndim != 3:
        return None
    return np.moveaxis(image, 0, -1) if channels_first else image


def _reads_in_place(images: Any) -> bool:
    """Whether the images are float32 and each one C-contiguous: a warp reads them where
    they are (a channels-first view is copied into a working chunk instead)."""
    if images.dtype != np.float32:
        return False
    if isinstance(images, np.ndarray):
        return not len(images) or images[0].flags.c_contiguous
    if isinstance(images, _Taken):
        return not len(images.array) or images.array[0].flags.c_contiguous
    return all(image.flags.c_contiguous for image in images)


def _finite_sum(images: Any) -> bool:
    if isinstance(images, np.ndarray):
        return bool(np.isfinite(images.sum()))
    return bool(np.isfinite(sum(float(image.sum()) for image in images)))


def _has_pixels(images: Any) -> bool:
    count, height, width, channels = images.shape[:4]
    return bool(count) and min(height, width, channels) >= 1


def _layout(out: np.ndarray, channels_first: bool) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(out, -1, 1)) if channels_first else out


def _to_working(
    images: Any, part: slice, scale: Scale | None, scratch: np.ndarray | None
) -> Sequence[np.ndarray] | np.ndarray:
    """``values.to_working`` of ``images[part]``, the same operations, into ``scratch``;
    with ``scale`` None, ``values.to_own_units`` (float32, the values kept)."""
    selected: Any = images[part]
    if scratch is None:  # float32 in [0, 1], or float32 in its own units: as it is
        return selected
    work = scratch[: len(selected)]
    low, span = (0.0, 1.0) if scale is None else (scale.low, scale.high - scale.low)
    low, span = np.float32(low), np.float32(span)
    source: np.ndarray = work
    if len(selected) == 1 and images.dtype == np.float32:
        # astype(np.float32) would copy it exactly: read it as it is
        source = next(iter(selected))[None]
    elif isinstance(selected, np.ndarray):  # as astype(np.float32)
        np.copyto(work, selected, casting="unsafe")
    elif isinstance(selected, _Taken):
        selected.into(work)
    else:
        np.stack(list(selected), out=work, casting="unsafe")
    if low:
        source = np.subtract(source, low, out=work)
    if span != 1.0:
        source = np.divide(source, span, out=work)
    if source is not work:
        np.copyto(work, source)
    return work


def _from_working(
    work: np.ndarray, scale: Scale | None, out: np.ndarray, *, clipped: bool, top: float
) -> None:
    """``values.from_working(work, scale)``, the same operations, in place, into ``out``;
    with ``scale`` None, ``values.from_own_units`` (``top`` is 255)."""
    if not clipped:
        np.clip(work, 0.0, top, out=work)
    if scale is not None and not scale.identity:
        span = np.float32(scale.high - scale.low)
        work *= span
        if scale.low:
            work += np.float32(scale.low)
        if np.issubdtype(scale.dtype, np.integer):
            info = np.iinfo(scale.dtype)
            np.rint(work, out=work)
            np.clip(work, info.min, info.max, out=work)
    if work is not out:
        np.copyto(out, work, casting="unsafe")  # as astype(scale.dtype)
