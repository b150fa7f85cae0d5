"""In-memory (or memory-mapped) arrays as a source: ``x`` with optional labels and masks."""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from confaug.compiler.range_bits import (
    largest_bits,
    range_of_bits,
    reads_bits,
    value_of_bits,
    warn_if_just_above_one,
)
from confaug.compiler.values import CHANNEL_COUNTS, check_one_kind, pil_image_array
from confaug.sources.base import Source, YMode, check_data_format
from confaug.sources.errors import DataError


class ArraySource(Source):
    """Samples ``x[i]`` in the pipeline's data format, uint8 or float.

    ``x`` is an array of rank 4 or a sequence of rank-3 arrays (sizes may differ); a dataset
    object (sized and indexable, not a list) is read into memory once, each item copied,
    within :data:`MAX_DATASET_BYTES`. ``y`` and ``sample_weight`` give labels; ``masks``
    (same spatial size as each image) make ``y`` the augmented masks; ``targets`` (e.g.
    ``{"bboxes": ..., "class_labels": ...}`` with ``class_labels`` among the spec's
    ``bbox_params.label_fields``, one entry per sample) are forwarded to the pipeline and
    come back as ``y``, a dict of lists.
    Problems found in one sample (wrong rank or channels, NaN) raise :class:`DataError`
    naming its index when that sample is loaded. ``channel_counts`` are the channel counts
    accepted (None: any).

    Float samples are one dataset, so they have one value range: :meth:`value_bounds` gives
    the lowest and highest finite value of all of ``x`` (computed once, in slices), from which
    the pipeline takes one range for every sample — a dark image of a 0–255 array is not
    taken for a [0, 1] image. The same look tells whether every value is finite; a sample
    is then not looked at again for NaN when it is loaded (``x`` is taken not to change
    while it is read, as its bounds are).
    """

    def __init__(
        self,
        x: np.ndarray | Sequence[np.ndarray],
        y: Any = None,
        sample_weight: Any = None,
        *,
        masks: np.ndarray | Sequence[np.ndarray] | None = None,
        targets: Mapping[str, Sequence[Any]] | None = None,
        data_format: str = "channels_last",
        name: str = "x",
        channel_counts: tuple[int, ...] | None = CHANNEL_COUNTS,
    ) -> None:
        self.data_format = check_data_format(data_format)
        self.name = name
        self.channel_axis = 2 if data_format == "channels_last" else 0
        self.channel_counts = channel_counts
        if not isinstance(x, np.ndarray) and not hasattr(x, "__len__"):
            # list() would read an endless stream until memory runs out.
            raise DataError(
                f"{name} is {type(x).__name__}, which has no length: flow() takes an array "
                "or a list of images; for a stream of batches use wrap()"
            )
        if isinstance(x, memoryview):
            # list() of a multi-dimensional memoryview raises NotImplementedError ("sub-views
            # are not implemented"); it is read as the array it views, as wrap() reads it.
            x = np.asarray(x)
        _refuse_unlisted(x, name)
        self.x = x if isinstance(x, np.ndarray) else _listed(x, name)
        if isinstance(self.x, np.ndarray):
            _check_array(self.x, self.channel_axis + 1, name, channel_counts)
        else:
            self.x = [
                _pil_read(item, f"{name}[{i}]", self.channel_axis) for i, item in enumerate(self.x)
            ]
            _refuse_pairs(self.x, name)
            check_one_kind(self.x, name)
        count = len(self.x)
        if count == 0:
            raise DataError(f"{name} has no samples")
        targets = targets or None
        for key, values in (("y", y), ("sample_weight", sample_weight)):
            _refuse_unordered(values, key)
        given = {"y": y, "sample_weight": sample_weight, "masks": masks, **(targets or {})}
        for key, values in given.items():
            if values is not None and per_sample_count(values, key) != count:
                raise DataError(f"{name} has {count} samples but {key} has {len(values)}")
        if sum(part is not None for part in (y, masks, targets)) > 1:
            raise ValueError("give at most one of y, masks and targets")
        # Weights go with any label side (labels, masks or targets: (x, y, w) batches);
        # only without one would Keras take the weights for y.
        if sample_weight is not None and y is None and masks is None and not targets:
            raise ValueError(
                "sample_weight needs a label side: y, masks or targets (Keras yields x alone "
                "when there is none)"
            )
        self.y = None if y is None else _labels(y)
        self.sample_weight = None if sample_weight is None else _weights(sample_weight)
        self.masks = masks
        self.targets = dict(targets or {})
        self.y_mode: YMode = _y_mode(y, masks, self.targets)
        self.target_keys = tuple(self.targets)
        #: The memory-mapped arrays (x, masks, y) and their files as they are now: a worker
        #: process opens the file again instead of being sent a copy (see __getstate__).
        self._mapped = {
            key: mapped
            for key, value in (("x", self.x), ("masks", self.masks), ("y", self.y))
            if (mapped := _mapped_file(value)) is not None
        }
        for key, mapped in self._mapped.items():
            mapped.check_length(self._called(key))
        #: The exact bounds (value_bounds), once found.
        self._bounds: tuple[float, float] | None = None
        self._bounds_found = False  # a flag, not a sentinel object: the source is pickled
        #: [0, 1] or [0, 255] when one look at the bits found every value finite within it
        #: (range_bounds); None until then, or when it did not (the exact bounds are then
        #: found at once, so the look is not repeated).
        self._range: tuple[float, float] | None = None
        #: Every float value of x is known to be finite (by either look).
        self._finite = False

    def __len__(self) -> int:
        return len(self.x)

    def __getstate__(self) -> dict[str, Any]:
        # A memory-mapped array travels to a worker process as its file, opened again there:
        # pickling it would copy the whole array into every spawned worker. The file must
        # still be the one the source was made from (its values were looked at, its value
        # range found); checked here, before it is sent, and again where it is opened.
        state = dict(self.__dict__)
        for key, mapped in self._mapped.items():
            mapped.check(self._called(key))
            state[key] = mapped
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for key, mapped in state.get("_mapped", {}).items():
            if isinstance(state[key], _MappedFile):
                self.__dict__[key] = mapped.open(self._called(key))

    def _called(self, key: str) -> str:
        """How errors name the array ``key`` of this source: x by the source's name."""
        return self.name if key == "x" else key

    def value_bounds(self) -> tuple[float, float] | None:
        """``(lowest, highest)`` finite value of the float samples of ``x``; None when no
        sample is float (or none has a finite value). Computed on first use, then kept."""
        if not self._bounds_found:
            (self._bounds, self._finite), self._bounds_found = _finite_bounds(self.x), True
        return self._bounds

    def range_bounds(self) -> tuple[float, float] | None:
        """The bounds ``value_range: auto`` decides the range from: ``(0.0, 1.0)`` or
        ``(0.0, 255.0)`` when every float value is finite and within that range, else
        :meth:`value_bounds`. The first is one pass over the values' bits instead of two
        over the values (``wrap`` and the drop-in's per-batch ``flow()`` scan every batch)."""
        if self._bounds_found:
            return self._bounds
        if self._range is None:
            self._range, high = _range_and_largest(self.x)
            if self._range is None:
                return self.value_bounds()
            self._finite = True
            warn_if_just_above_one(high)
        return self._range

    @property
    def range_known(self) -> bool:
        """Whether the bounds ``value_range: auto`` decides from were found already
        (:meth:`range_bounds`, :meth:`value_bounds`), or given."""
        return self._bounds_found or self._range is not None

    @property
    def known_finite(self) -> bool:
        """Whether every value of ``x`` is known to be finite: uint8, or floats whose
        bounds were found (:meth:`value_bounds`, :meth:`range_bounds`) without meeting a
        NaN or an infinity."""
        return self._finite or (isinstance(self.x, np.ndarray) and self.x.dtype == np.uint8)

    def batch_array(self, indices: np.ndarray | range) -> np.ndarray | None:
        """The whole array ``x`` when samples ``indices`` can be read from it as a batch
        with every check :meth:`load` makes passed for all of them at once: ``x`` is one
        array (rank, channels and dtype checked when the source was built), its images
        have pixels, no masks or targets go with them; else None. Whether the values are
        finite is :attr:`known_finite`."""
        x = self.x
        if not isinstance(x, np.ndarray) or self.masks is not None or self.targets:
            return None
        spatial = x.shape[1:3] if self.channel_axis == 2 else x.shape[2:4]
        if min(spatial) < 1 or not len(indices):
            return None
        within = np.asarray(indices)
        return x if within.min() >= 0 and within.max() < len(x) else None

    def part(self, start: int, stop: int) -> ArraySource:
        """Samples ``start:stop`` as a new source (views of the arrays, no copies), with the
        value bounds of the whole: a subset is read in the range of its dataset."""
        cut = slice(start, stop)
        part = ArraySource(
            self.x[cut],
            None if self.y is None else self.y[cut],
            None if self.sample_weight is None else self.sample_weight[cut],
            masks=None if self.masks is None else self.masks[cut],
            targets={key: values[cut] for key, values in self.targets.items()},
            data_format=self.data_format,
            name=self.name,
            channel_counts=self.channel_counts,
        )
        # The whole's exact bounds (once, when the subset is made): read through either
        # method, a subset is in its dataset's range.
        part._bounds, part._bounds_found = self.value_bounds(), True
        for key, mapped in part._mapped.items():  # the files as the whole found them
            whole = self._mapped.get(key)
            if whole is not None and whole.filename == mapped.filename:
                part._mapped[key] = replace(mapped, identity=whole.identity)
        part._finite = self._finite
        return part

    def describe(self, index: int) -> str:
        """``"x[N]"`` (the source's name and the index)."""
        return f"{self.name}[{index}]"

    def load(self, index: int) -> dict[str, Any]:
        """``x[index]`` (checked) with its mask or extra targets."""
        image = np.asarray(self.x[index])
        self._check_image(image, index)
        data: dict[str, Any] = {"image": image}
        if self.masks is not None:
            data["mask"] = self._checked_mask(index, image)
        for key, values in self.targets.items():
            data[key] = values[index]
        return data

    def labels_for(self, indices: np.ndarray) -> np.ndarray | None:
        """``y[indices]``, or None."""
        return None if self.y is None else self.y[indices]

    def weights_for(self, indices: np.ndarray) -> np.ndarray | None:
        """``sample_weight[indices]``, or None."""
        return None if self.sample_weight is None else self.sample_weight[indices]

    def _check_image(self, image: np.ndarray, index: int) -> None:
        counts = self.channel_counts
        if (
            image.ndim == 3
            and (counts is None or image.shape[self.channel_axis] in counts)
            and (image.dtype == np.uint8 or (image.dtype.kind == "f" and self.known_finite))
            and min(image.shape[:2] if self.channel_axis == 2 else image.shape[1:]) >= 1
        ):
            return  # the usual case, without building the messages
        where = self.describe(index)
        if image.ndim != 3:
            raise DataError(f"{where} has shape {image.shape}; expected rank 3 (one image)")
        spatial = image.shape[:2] if self.channel_axis == 2 else image.shape[1:]
        if min(spatial) < 1:
            raise DataError(f"{where} has shape {image.shape}: an image with no pixels")
        channels = image.shape[self.channel_axis]
        if self.channel_counts is not None and channels not in self.channel_counts:
            raise DataError(
                f"{where} has {channels} channels on axis {self.channel_axis} "
                f"({self.data_format}); expected 1, 3 or 4"
            )
        if image.dtype != np.uint8 and image.dtype.kind != "f":
            raise DataError(f"{where} has dtype {image.dtype}; expected uint8 or float")
        if image.dtype.kind == "f" and not np.isfinite(image).all():
            raise DataError(f"{where} contains NaN or infinite values")

    def _checked_mask(self, index: int, image: np.ndarray) -> np.ndarray:
        assert self.masks is not None
        mask = np.asarray(self.masks[index])
        height, width = image.shape[:2] if self.channel_axis == 2 else image.shape[1:]
        if mask.shape[:2] != (height, width):
            raise DataError(
                f"mask of {self.describe(index)} has shape {mask.shape}; "
                f"the image is {height}x{width}"
            )
        return mask


#: The most bytes of images flow() reads out of a dataset object (a Sequence that is not a
#: list, tuple or array: a torch-style Dataset) into memory, as Keras' ``np.asarray(x)`` does.
#: Beyond it the images belong in files read per batch (flow_from_directory / _dataframe)
#: or in wrap(); a user who means to hold them can np.stack them.
MAX_DATASET_BYTES = 1 << 30


def _refuse_unlisted(x: Any, name: str) -> None:
    """A ``DataError`` for an ``x`` that has a length but is not a list of images: a string
    (its characters), a dict (its keys), a set (no order), a data frame (its column labels)."""
    kind = type(x).__name__
    framed = kind == "DataFrame" or type(x).__module__.partition(".")[0] in ("pandas", "polars")
    if framed and kind != "Series":  # a Series of images is a list of them
        raise DataError(
            f"{name} is a {kind}: flow() takes an array or a list of images; for a "
            "table of file names and labels use flow_from_dataframe(), for one of "
            "pixel values pass df.to_numpy() reshaped to (samples, height, width, channels)"
        )
    if isinstance(x, (str, bytes, bytearray)):
        raise DataError(
            f"{name} is {kind}; flow() takes an array or a list of images (for image files "
            "use flow_from_directory() or flow_from_dataframe())"
        )
    if isinstance(x, Mapping):
        raise DataError(
            f"{name} is a dict (keys {list(x)[:5]}); flow() takes an array or a list of "
            "images: pass the images as x and the labels as y"
        )
    if isinstance(x, (set, frozenset)):
        raise DataError(
            f"{name} is a {kind}, which has no order; give the images as an array or a list"
        )


def _listed(x: Any, name: str) -> list[Any]:
    """``x`` as a list of images. A list or tuple holds them already (a shallow copy); an
    array-like (a tensor) is split into its rows, as before. Another sized, indexable
    object is a dataset that loads on ``x[i]``: its items are read once, each copied (a
    ``__getitem__`` that refills one buffer would make every image the last), within
    :data:`MAX_DATASET_BYTES`, checked from the first item before the others are read."""
    if isinstance(x, (list, tuple)) or hasattr(x, "__array__") or not hasattr(x, "__getitem__"):
        return list(x)
    count = len(x)
    items: list[Any] = []
    read = 0
    for index in range(count):
        item = x[index]
        _refuse_pair(item, f"{name}[{index}]")
        if isinstance(item, np.ndarray) or hasattr(item, "__array__"):
            item = np.array(item)  # its own copy
        items.append(item)
        size = max(int(getattr(item, "nbytes", 0)), 1)  # (empty ones are worded later)
        read += size
        if max(read, size * count) > MAX_DATASET_BYTES:
            raise DataError(
                f"{name} is a {type(x).__name__} of {count:,} items ({size:,} bytes for "
                f"{name}[{index}]): flow() reads them all into memory, at most "
                f"{MAX_DATASET_BYTES >> 20:,} MiB; for images on disk use flow_from_directory() "
                "or flow_from_dataframe(), for a dataset object wrap() over its batches (e.g. "
                "a torch DataLoader), or np.stack the images yourself to hold them in memory"
            )
    return items


def _pil_read(item: Any, where: str, channel_axis: int) -> Any:
    """A PIL image of a list as the image its mode means (``pil_image_array``: CMYK and
    palette images as RGB, not their raw bands), with a channel axis where the data format
    puts it; anything else as it is."""
    array = pil_image_array(item, where)
    if array is None:
        return item
    if array.ndim == 2:
        array = array[..., None]
    return np.moveaxis(array, -1, 0) if channel_axis == 0 else array


def _refuse_pairs(items: list[Any], name: str) -> None:
    """:func:`_refuse_pair` for every item of a list of images."""
    for index, item in enumerate(items):
        _refuse_pair(item, f"{name}[{index}]")


def _refuse_pair(item: Any, where: str) -> None:
    """A ``DataError`` for an ``(image, label)`` pair or a dict sample where an image
    should be (``list(zip(x, y))``, a torch-style or Hugging Face dataset): NumPy failed on
    them at the first batch ("inhomogeneous shape"), or they were read as 0-d arrays."""
    if isinstance(item, Mapping):
        raise DataError(
            f"{where} is a dict (keys {list(item)[:5]}); flow() takes images in x and their "
            "labels in y: e.g. flow(np.stack([s['image'] for s in data]), [s['label'] for s "
            "in data]); for batches use wrap()"
        )
    if isinstance(item, tuple) and 2 <= len(item) <= 3 and _rank(item[0]) >= 2:
        raise DataError(
            f"{where} is a tuple of {len(item)} (image, label?): flow() takes the images in x "
            "and the labels in y, e.g. flow(np.stack([a for a, _ in data]), [b for _, b in "
            "data]); for batches of (x, y) use wrap()"
        )


def _rank(value: Any) -> int:
    """``np.ndim(value)``, or 0 when NumPy cannot say (a ragged list)."""
    try:
        return int(np.ndim(value))
    except (TypeError, ValueError):
        return 0


#: Values looked at per step when computing bounds: 1 MB of float32, so that the maximum
#: reads what the minimum has just brought into the cache (twice as fast as one pass each
#: over a whole batch of 400 px images).
_SLICE_VALUES = 1 << 18


def _finite_bounds(x: np.ndarray | list[np.ndarray]) -> tuple[tuple[float, float] | None, bool]:
    """Lowest and highest finite value of the float samples (None when there is none), and
    whether every float value is finite; a few values at a time (a memory-mapped array is
    read once, never copied whole).

    A part's minimum and maximum are NaN when it holds a NaN and infinite when it holds an
    infinity, so when both are finite they are its bounds and it is all finite: two passes
    over the values, the second from the cache. Only a part that holds a non-finite value
    is looked at again, for the bounds of its finite values."""
    low, high, finite = math.inf, -math.inf, True
    arrays = [x] if isinstance(x, np.ndarray) else [np.asarray(part) for part in x]
    floats = (array for array in arrays if array.dtype.kind == "f")
    for part in (part for array in floats for part in value_parts(array)):
        part_low, part_high = float(np.min(part)), float(np.max(part))
        if not (math.isfinite(part_low) and math.isfinite(part_high)):
            finite = False
            values = part[np.isfinite(part)]
            if not values.size:
                continue
            part_low, part_high = float(values.min()), float(values.max())
        low, high = min(low, part_low), max(high, part_high)
    return (None if low > high else (low, high)), finite


#: What tells a file from another one, or from itself rewritten: ``(st_dev, st_ino,
#: st_size, st_mtime_ns)``.
_Identity = tuple[int, int, int, int]


@dataclass(frozen=True)
class _MappedFile:
    """Where a memory-mapped array's values are: what a worker opens instead of a copy.

    ``identity`` is the file's as the source was made (None: it was gone already). A worker
    opens the file by its name, so a file deleted, replaced or rewritten since then would
    fail there (FileNotFoundError, "mmap length is greater than file size"), or give other
    values than the parent holds, without a word: :meth:`check` refuses it first."""

    filename: str
    dtype: np.dtype[Any]
    offset: int
    shape: tuple[int, ...]
    order: Literal["C", "F"]
    identity: _Identity | None
    #: The caller gave an ``np.memmap`` (x is one again), not an ndarray viewing one.
    memmap: bool = True

    def check(self, name: str) -> None:
        """A ``DataError`` when the file is not the one the source was made from."""
        now = _identity(self.filename)
        if now is not None and now == self.identity:
            return
        if now is None:
            change = "which is gone"
        elif self.identity is None:
            change = "which was gone when the source was made (another file has its name now)"
        elif now[:2] != self.identity[:2]:
            change = "which has been replaced by another file since the source was made"
        elif now[2] != self.identity[2]:
            change = (
                f"which has changed since the source was made (its size was "
                f"{self.identity[2]:,} bytes and is {now[2]:,})"
            )
        else:
            change = "which has been modified since the source was made (its mtime changed)"
        raise DataError(
            f"{name} is memory-mapped from {self.filename}, {change}: worker processes "
            "(worker_mode='process' not started by fork) open the file again by its name, "
            "and would fail on it or read other values than this process holds. Keep the "
            "file unchanged while training, or use worker_mode='thread' or "
            "start_method='fork' (the mapping is then shared as it is)"
        )

    def check_length(self, name: str) -> None:
        """A ``DataError`` when the file is shorter than the mapping already (rewritten since
        it was mapped): reading the mapping beyond the file's end would kill this process
        (SIGBUS), and a worker could not map it again."""
        end = self.offset + int(np.prod(self.shape)) * self.dtype.itemsize
        if self.identity is not None and self.identity[2] < end:
            raise DataError(
                f"{name} is memory-mapped from {self.filename}, which is {self.identity[2]:,} "
                f"bytes, shorter than the mapping ({end:,} bytes): the file was rewritten after "
                "it was mapped; map it again (np.load(..., mmap_mode='r'))"
            )

    def open(self, name: str) -> np.ndarray:
        """The array, mapped from the file again (read-only), once :meth:`check` passes."""
        self.check(name)
        try:
            mapped = np.memmap(
                self.filename,
                dtype=self.dtype,
                mode="r",
                offset=self.offset,
                shape=self.shape,
                order=self.order,
            )
        except (OSError, ValueError) as exc:  # changed between the check and the open
            raise DataError(
                f"{name} is memory-mapped from {self.filename}, which a worker process "
                f"could not open again ({exc}): keep the file unchanged while training, or "
                "use worker_mode='thread' or start_method='fork'"
            ) from None
        return mapped if self.memmap else np.asarray(mapped)


def _identity(filename: str) -> _Identity | None:
    """The file's :data:`_Identity`, or None when it is not there (or cannot be read)."""
    try:
        info = os.stat(filename)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _mapped_file(x: Any) -> _MappedFile | None:
    """The file of ``x`` when it is a contiguous part of an ``np.memmap``'s file (the
    memmap itself, a slice of its samples, an ndarray view of it: ``np.asarray(mm)``),
    mapped read-only or read-write; else None (an array in memory, a copy-on-write mapping,
    whose values may differ from the file's, or strided views)."""
    if not isinstance(x, np.ndarray) or not x.size:
        return None
    if not (x.flags.c_contiguous or x.flags.f_contiguous):
        return None
    root: Any = x
    while not (isinstance(root, np.memmap) and isinstance(root.base, mmap.mmap)):
        root = root.base
        if not isinstance(root, np.ndarray):
            return None
    if not root.filename or root.mode == "c":
        return None
    order: Literal["C", "F"] = "C" if x.flags.c_contiguous else "F"
    # Where x starts in the file: the mapping's offset, and x's place in the mapping.
    offset = int(root.offset) + (
        x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    )
    filename = str(root.filename)
    return _MappedFile(
        filename,
        x.dtype,
        offset,
        tuple(x.shape),
        order,
        _identity(filename),
        memmap=isinstance(x, np.memmap),
    )


def within_a_range(x: Any) -> tuple[float, float] | None:
    """``(0.0, 1.0)`` when every value of the float array ``x`` is finite and in [0, 1],
    ``(0.0, 255.0)`` when in [0, 255], found from the largest bit pattern (one pass,
    ``compiler.range_bits``); None otherwise, or when it cannot say (not one contiguous
    float array in the machine's byte order, -0.0 among them): the caller then scans the
    values themselves."""
    return _range_and_largest(x)[0]


def _range_and_largest(x: Any) -> tuple[tuple[float, float] | None, float]:
    """:func:`within_a_range`, and the largest value when it found a range (else NaN)."""
    if not isinstance(x, np.ndarray) or not x.size or not reads_bits(x.dtype):
        return None, math.nan
    if not x.flags.c_contiguous:
        return None, math.nan
    largest = largest_bits(x)
    bounds = range_of_bits(largest, x.dtype)
    return bounds, (math.nan if bounds is None else value_of_bits(largest, x.dtype))


def value_parts(array: np.ndarray) -> Any:
    """``array``'s values in parts of about ``_SLICE_VALUES``: slices of its flat view when
    it is contiguous, else a few samples at a time; none when it is empty."""
    if not array.size:
        return
    if array.flags.c_contiguous:
        flat = array.reshape(-1)
        for start in range(0, flat.size, _SLICE_VALUES):
            yield flat[start : start + _SLICE_VALUES]
        return
    if array.ndim < 2:
        yield array
        return
    step = max(1, _SLICE_VALUES // max(1, array[0].size))
    for start in range(0, len(array), step):
        yield array[start : start + step]


def per_sample_count(values: Any, key: str) -> int:
    """How many entries ``values`` (labels, weights, masks: one per sample) has; a
    ``DataError`` when it is not a sequence at all (a scalar, a string)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise DataError(f"{key} is {type(values).__name__}; expected one entry per sample")
    if isinstance(values, np.ndarray) and values.ndim == 0:
        raise DataError(f"{key} is a 0-d array; expected one entry per sample")
    return len(values)


def _refuse_unordered(values: Any, key: str) -> None:
    """A ``DataError`` for a dict or set ``y`` (``sample_weight``): it has a length, but
    ``np.asarray`` makes a 0-d object array of it, which the first batch failed to index
    with NumPy's IndexError (when its length was the sample count)."""
    if isinstance(values, Mapping):
        # Not read as a multi-output y here: labels_for, part() and the as_tf / as_torch
        # conversions take y as one array; wrap() passes such a y through per batch.
        raise DataError(
            f"{key} is a dict (keys {list(values)[:5]}); flow() takes one {key} entry per "
            "sample, as one array or a list; for a Keras multi-output model, wrap() batches "
            "(x, {output_name: array, ...}) with one entry per sample in each array, or pass "
            "one array here"
        )
    if isinstance(values, (set, frozenset)):
        raise DataError(
            f"{key} is a {type(values).__name__}, which has no order; give one entry per "
            "sample as an array or a list, in the order of x"
        )


def _labels(y: Any) -> np.ndarray:
    """``y`` as one array; a ``DataError`` when its entries do not make one (ragged), or
    a float label is NaN or infinite (it would reach the loss as it is), or one is None."""
    if isinstance(y, (list, tuple)):
        _refuse_missing(y)
    try:
        labels = np.asarray(y)
    except ValueError:  # entries of different lengths
        raise DataError(
            "y: its entries have different lengths or shapes, so they do not make one array"
        ) from None
    if labels.dtype.kind in "fc":
        refuse_non_finite(labels, "y")
    elif labels.dtype == object and labels.ndim == 1:
        _refuse_missing(labels)
    return labels


def _refuse_missing(labels: Any) -> None:
    """A ``DataError`` naming the first None entry of ``labels``: a missing label would
    reach the batches (and the loss) as None, or be worded as a ragged ``y``."""
    missing = next((i for i, label in enumerate(labels) if label is None), None)
    if missing is not None:
        raise DataError(f"y[{missing}] is None; expected a label for every sample")


def _weights(sample_weight: Any) -> np.ndarray:
    """``sample_weight`` as a 1-D array of finite numbers, else a ``DataError``."""
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "biuf":
        raise DataError(
            f"sample_weight has dtype {weights.dtype}; expected numbers, one per sample"
        )
    if weights.ndim != 1:
        raise DataError(f"sample_weight has shape {weights.shape}; expected one number per sample")
    refuse_non_finite(weights, "sample_weight")
    return weights


def non_finite_rows(values: np.ndarray) -> np.ndarray:
    """The numbers of the entries (rows) of the float array ``values`` holding NaN or
    infinity; the drop-in's table targets are checked with it too."""
    if not values.size:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))


def refuse_non_finite(values: np.ndarray, key: str) -> None:
    """A ``DataError`` naming the first entry of ``values`` that holds NaN or infinity."""
    bad = non_finite_rows(values)
    if not len(bad):
        return
    first = int(bad[0])
    entry = values[first]
    what = repr(entry.item()) if np.ndim(entry) == 0 else "NaN or infinite in its values"
    raise DataError(f"{key}[{first}] is {what}: labels and weights must be finite")


def _y_mode(y: Any, masks: Any, targets: Mapping[str, Any]) -> YMode:
    if y is not None:
        return "labels"
    if masks is not None:
        return "mask"
    return "targets" if targets else "none"


def _check_array(
    x: np.ndarray, channel_axis: int, name: str, channel_counts: tuple[int, ...] | None
) -> None:
    """Whole-array checks that need no pixel reads: rank, channels, dtype."""
    if x.ndim != 4:
        raise DataError(
            f"{name} has shape {x.shape}; expected rank 4 (samples, height, width, channels) "
            "or (samples, channels, height, width)"
        )
    if channel_counts is not None and x.shape[channel_axis] not in channel_counts:
        raise DataError(
            f"{name} has shape {x.shape}: {x.shape[channel_axis]} channels on axis {channel_axis}; "
            "expected 1, 3 or 4 (is data_format right?)"
        )
    if x.dtype != np.uint8 and x.dtype.kind != "f":
        raise DataError(f"{name} has dtype {x.dtype}; expected uint8 or float (e.g. float32)")
