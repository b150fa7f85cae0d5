"""Augment rows handed over by another data library (Hugging Face ``datasets``, Grain).

Such libraries give an adapter the values of a few rows — images as arrays, PIL images,
encoded bytes, ``{"bytes": ..., "path": ...}`` dicts or file paths — but not their index.
:class:`RowAugmenter` makes them a small source (:class:`RowSource`) and runs the batching
layer's loader (``augment_samples``) on it: the generator's seeds, decoder (with its pixel
limit) and error messages, one engine for every adapter.

Determinism: a row is augmented with ``sample_seed(seed, SAMPLE_STREAM, epoch,
row_key(key))`` (``confaug.seeding``), where ``key`` is the row's ``key_column`` value, or its
pixels (or encoded bytes) without one. An int key is its own sample key, so a row keyed by
index ``i`` gets the augmentation a generator gives sample ``i`` in that epoch; hashed keys
use BLAKE2, the same in every process; a key that cannot name a row stably (None or NaN,
a missing id; an object printed with its memory address) is a ``DataError`` naming the row.
The same rows give the same pixels in any order, in any batch and on any number of workers
— except that float rows under ``value_range: auto`` are read in one value range per batch
(:func:`float_bounds`, as ``wrap`` reads a batch), so a dark row is not taken for [0, 1]
data; a config's fixed ``value_range`` makes the pixels independent of the batching again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from confaug.batching.loader import Augmented, augment_samples
from confaug.compiler.pipeline import Pipeline, other_layout
from confaug.compiler.values import infer_scale
from confaug.seeding import SAMPLE_STREAM, resolve_seed, row_key
from confaug.sources.base import Source, YMode, to_layout
from confaug.sources.decode import (
    DecodeOptions,
    decode_image,
    decode_mask,
    decode_options,
    pil_pixels,
)
from confaug.sources.errors import DataError, shown

#: What an encoded image (a file's bytes) may come as: ``np.bytes_`` is bytes; a
#: ``memoryview`` of a file's bytes was read as a 1-D array of them.
ENCODED = (bytes, bytearray, memoryview)

#: What rows' arrays are read as, whatever the pipeline's data_format (see :func:`_pixels`).
_ROW_LAYOUT = (
    "row arrays are read as H×W×C, as decoded images are, whatever the pipeline's "
    "data_format; move the channel axis last: np.moveaxis(image, 0, -1)"
)


def compile_pipeline(pipeline: Any) -> Pipeline:
    """A ``Pipeline`` from a Pipeline, a config path, ``preset:NAME``, a mapping or a Spec."""
    if isinstance(pipeline, Pipeline):
        return pipeline
    from confaug.api import load_pipeline

    return load_pipeline(pipeline)


def float_bounds(values: Iterable[Any]) -> tuple[float, float] | None:
    """The lowest and highest finite value of the float rows among ``values`` (the rows of
    one batch, as :func:`float_row` reads them; the others are skipped), or None when they
    hold none: the one value range the rows are read in (``Pipeline.for_value_bounds``),
    instead of one range per row."""
    low, high = math.inf, -math.inf
    for given in values:
        value = float_row(given)
        if value is None or value.size == 0:
            continue
        least, most = float(value.min()), float(value.max())
        if not (math.isfinite(least) and math.isfinite(most)):  # look again, finite ones only
            finite = value[np.isfinite(value)]
            if not finite.size:
                continue
            least, most = float(finite.min()), float(finite.max())
        low, high = min(low, least), max(high, most)
    return None if low > high else (low, high)


def float_row(value: Any) -> np.ndarray | None:
    """A row's value as the float array it is read as, without decoding anything: float
    arrays, PIL float images, and array-likes of floats (nested lists, tensors), which the
    row is read from as an array too; None for encoded or integer rows. Every float row
    counts towards the batch's range: one left out would be read in the others' range."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind == "f" else None
    if hasattr(value, "convert") and hasattr(value, "mode"):  # a PIL image
        return np.asarray(value) if value.mode == "F" else None
    if isinstance(value, (Mapping, *ENCODED, str, os.PathLike)):
        return None  # an encoded image or a path: decoded as uint8 or 16-bit
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged: the row's loading words it
        return None
    return array if array.dtype.kind == "f" else None


def _listlike(value: Any) -> bool:
    """Whether ``value`` can be a column of a batch: a list, a tuple, an array or tensor
    with an axis (a 0-d array, a NumPy scalar, a str, a PIL image, bytes are one value)."""
    if isinstance(value, (list, tuple)):
        return True
    ndim = getattr(value, "ndim", None)
    return isinstance(ndim, int) and ndim >= 1 and hasattr(value, "__len__")


def _pixel_depth(image: Any) -> int | None:
    """How many axes the image column's value has when it is numbers at every leaf
    (nested lists, or an array/tensor); None when its entries are images of their own
    (arrays inside a list, PIL images, bytes, paths): then it is a column of rows."""
    depth, value = 0, image
    while isinstance(value, (list, tuple)):
        if not value:
            return None
        depth, value = depth + 1, value[0]
    ndim = getattr(value, "ndim", None)
    if depth and isinstance(ndim, int) and ndim > 0:
        return None  # a list of arrays: one image an entry
    if isinstance(value, (*ENCODED, str)):  # np.bytes_ and np.str_ are NumPy scalars too
        return None  # encoded images or paths: one image an entry
    if isinstance(value, (bool, int, float, np.generic)) or (ndim == 0 and depth):
        return depth
    if not depth and isinstance(ndim, int) and str(getattr(value, "dtype", "")) != "object":
        return ndim  # an array or tensor of numbers
    return None


def is_one_row(
    batch: Mapping[str, Any], image_column: str, *, batch_call: str, adapter: str
) -> bool:
    """Whether ``batch`` is one row (``Dataset.map`` without ``batched=True``, Ray's ``map``,
    ``IterableDataset.map``) rather than a batch of rows (a dict of columns).

    Told apart without guessing: ``datasets`` names its rows ``LazyRow`` and its batches
    ``LazyBatch``; in a batch every column is a list, an array or a tensor with a row axis,
    so one scalar column (a label, a path, an id) makes a row; so does an image column
    holding one image (a PIL image, bytes, a path, a 2-D array). What is left is a 3-D
    image column in a dict of equally long list columns: one H×W×C row or a batch of H×W
    grayscale images. Read as the batch it was documented to be, unless its last axis is
    1–4 long (channels, not a width): that is a ``TypeError`` saying how to pass a batch,
    since read the wrong way every pixel line would be augmented as an image of its own.
    """
    kind = type(batch).__name__
    if kind in ("LazyRow", "LazyBatch"):  # datasets' own word for it
        return kind == "LazyRow"
    image = batch[image_column]
    if not _listlike(image) or any(not _listlike(value) for value in batch.values()):
        return True
    depth = _pixel_depth(image)
    if depth is None or depth >= 4:
        return False
    if depth <= 2:
        return True
    length = len(image)
    if any(len(value) != length for value in batch.values()):
        return True  # a batch's columns hold one entry per row each
    shape, value = [], image
    while isinstance(value, (list, tuple)):  # the first entry's shape, without np.shape
        shape.append(len(value))
        value = value[0]
    shape = shape or list(image.shape)
    if 1 <= shape[-1] <= 4 and not _ragged(image):  # ragged: rows of their own, each worded
        raise TypeError(
            f"{adapter} got a dict whose {image_column!r} column has shape {tuple(shape)}: "
            f"one image with {shape[-1]} channels, or a batch of {length} grayscale images "
            f"{shape[-1]} pixels wide? {batch_call}"
        )
    return False


def _ragged(column: Any) -> bool:
    """Whether nested lists do not make one array (their lengths differ)."""
    if not isinstance(column, (list, tuple)):
        return False
    try:
        np.asarray(column)
    except ValueError:
        return True
    return False


def check_one_range(
    pipeline: Pipeline, source: Source, images: Iterable[Any], image_name: str
) -> None:
    """A ``DataError`` naming the rows (``source.describe``) and the image column when the
    float rows of a batch fit no value range under ``value_range: auto``, else nothing:
    called when the loader failed, whose words for it named neither ("x: float values
    span ...", the range being decided for the whole batch, :func:`float_bounds`). The
    rows named are those beyond [0, 255]."""
    bounds = source.value_bounds()  # type: ignore[attr-defined]
    if bounds is None:
        return
    try:
        pipeline.for_value_bounds(*bounds)
    except DataError:
        bad = [index for index, value in enumerate(images) if _beyond_bytes(float_row(value))]
        named = ", ".join(shown(source.describe(index)) for index in bad[:5])
        where = f"{named}{', ...' if len(bad) > 5 else ''}: {image_name}"
        infer_scale(np.asarray(bounds, dtype=np.float64), "auto", where=where)  # its words
        raise


def augment_rows(
    pipeline: Pipeline, source: Source, images: Iterable[Any], image_name: str, **options: Any
) -> Augmented:
    """``augment_samples`` over every row of ``source`` (``options``: its keywords); a
    ``DataError`` for float rows that fit no value range names the rows and the image
    column (:func:`check_one_range`)."""
    try:
        return augment_samples(source, pipeline, range(len(source)), **options)
    except DataError:
        check_one_range(pipeline, source, images, image_name)
        raise


def _beyond_bytes(value: np.ndarray | None) -> bool:
    """Whether a float row has a finite value below 0 or above 255."""
    if value is None or value.size == 0:
        return False
    finite = value[np.isfinite(value)]
    return bool(finite.size) and (float(finite.min()) < 0.0 or float(finite.max()) > 255.0)


class RowSource(Source):
    """Some rows' images (and masks and keys) as a source; see the module docstring."""

    def __init__(
        self,
        images: Sequence[Any],
        *,
        masks: Sequence[Any] | None,
        keys: Sequence[Any] | None,
        key_name: str,
        decode: DecodeOptions,
        data_format: str,
        mask_name: str = "mask",
        pixel_dtype: np.dtype[Any] | None = None,
    ) -> None:
        # Once for the block, here: a short column would fail in the middle of it (an
        # IndexError in ``load``), a long one would be cut without a word.
        for values, name, what in ((masks, mask_name, "mask"), (keys, key_name, "key")):
            if values is not None and len(values) != len(images):
                raise _length_error(images, keys, key_name, len(values), name, what)
        self.images = images
        self.masks = masks
        self.keys = keys
        self.key_name = key_name
        self.decode = decode
        self.pixel_dtype = pixel_dtype
        self.data_format = data_format
        self.y_mode: YMode = "none" if masks is None else "mask"
        self.target_keys = ()
        self._pixels: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.images)

    def describe(self, index: int) -> str:
        """``key_name=value``, or the row's position and pixel hash without keys."""
        if self.keys is not None:
            return f"{self.key_name}={self.keys[index]}"
        try:
            return f"row with pixel hash {self.sample_key(index):032x}"
        except DataError:  # no pixels to hash (None, a tuple): its place names it
            return f"row {index} of the {len(self)} rows handed over"

    def sample_key(self, index: int) -> int:
        """:func:`row_key` of the row's key, or of its encoded bytes or pixels."""
        if self.keys is not None:
            return row_key(self.keys[index])
        value = self.images[index]
        if isinstance(value, Mapping) and value.get("bytes") is not None:
            value = value["bytes"]
        if isinstance(value, ENCODED):
            return row_key(bytes(value))
        return row_key(self._image(index))

    def value_bounds(self) -> tuple[float, float] | None:
        """:func:`float_bounds` of the rows (decoded files are uint8 or 16-bit)."""
        return float_bounds(self.images)

    def load(self, index: int) -> dict[str, Any]:
        """The row's image (and mask) as the pipeline takes them."""
        data = {"image": self._image(index)}
        if self.masks is not None:
            data["mask"] = _pixels(self.masks[index], self.decode, mask=True)
        return data

    def labels_for(self, indices: np.ndarray) -> None:
        """None: a row's other columns are kept as they are."""
        return None

    def weights_for(self, indices: np.ndarray) -> None:
        """None: a row's other columns are kept as they are."""
        return None

    def _image(self, index: int) -> np.ndarray:
        if index not in self._pixels:
            image = _pixels(
                self.images[index], self.decode, mask=False, pixel_dtype=self.pixel_dtype
            )
            self._pixels[index] = to_layout(image, self.data_format) if image.ndim == 3 else image
        return self._pixels[index]


def _length_error(
    images: Sequence[Any],
    keys: Sequence[Any] | None,
    key_name: str,
    count: int,
    name: str,
    what: str,
) -> DataError:
    """The DataError for a column of masks or keys (``name``) whose length is not the
    images': naming the first row without one, or the count beyond the rows."""
    counts = f"{_count(count, what)} in {shown(name)!r} for {_count(len(images), 'image')}"
    if count > len(images):
        return DataError(f"{counts}: one {what} a row")
    row = count  # the first row without one
    named = (
        f"{shown(key_name)}={shown(keys[row])}"
        if keys is not None and len(keys) > row
        else f"row {row} of the {len(images)} rows handed over"
    )
    return DataError(f"{named}: no {what} ({counts}: one {what} a row)")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _pixels(
    value: Any,
    decode: DecodeOptions,
    *,
    mask: bool,
    pixel_dtype: np.dtype[Any] | None = None,
) -> np.ndarray:
    """An HWC array (HW for a single-channel mask) from any of the values rows hold.

    Arrays are read as H×W×C whatever the pipeline's data_format (``RowSource`` puts them
    in its layout); one that is in C×H×W (a torchvision tensor) is a ``DataError``, by the
    rule ``flow`` and ``wrap`` hold arrays to (``other_layout``)."""
    if isinstance(value, Mapping):  # datasets.Image(decode=False): {"bytes", "path"}
        value = value.get("bytes") or value.get("path")
        if value is None:
            raise DataError("an image entry with neither bytes nor a path")
    if isinstance(value, (*ENCODED, str, os.PathLike)):
        source = bytes(value) if isinstance(value, ENCODED) else os.fspath(value)
        if mask:
            return decode_mask(source, decode.target_size, max_pixels=decode.max_pixels)
        return decode_image(source, decode)
    if hasattr(value, "convert") and hasattr(value, "mode"):  # a PIL image
        if not mask:  # as a file of its mode is decoded (16-bit and float modes scaled)
            return pil_pixels(value, decode)
        value = np.asarray(value)
        if value.dtype == bool:  # a 1-bit mask: its classes are 0 and 1
            value = value.astype(np.uint8)
    if isinstance(value, list) and value and _is_an_image(value[0]):
        # datasets' Sequence(Image()): np.asarray stacked the images into one 4-D array,
        # which the pipeline refused as "expected a 2-D or 3-D array".
        raise DataError(
            f"the row holds a list of {_count(len(value), 'image')} (a "
            "Sequence(Image()) column?); confaug augments one image a row: give each image "
            "a row of its own (ds.map(..., batched=True) can flatten the column)"
        )
    try:
        array = np.asarray(value)
    except ValueError:  # ragged: a tuple (image, label), nested lists of different lengths
        array = np.empty(0, dtype=object)
    if array.dtype == object:
        if isinstance(value, list):
            raise DataError("cannot read an image from nested lists of different lengths")
        raise DataError(f"cannot read an image from a value of type {type(value).__name__}")
    if not mask:
        array = integer_pixels(array, pixel_dtype)
        wrong = other_layout(array.shape, False, hint=_ROW_LAYOUT) if array.ndim == 3 else None
        if wrong is not None:
            raise DataError(f"the image {wrong}")
    if array.ndim == 2 and not mask:
        array = array[..., None]
    return array


def _is_an_image(value: Any) -> bool:
    """Whether a list entry is an image of its own (an array, a PIL image, a file's bytes,
    a path or datasets' {"bytes", "path"} dict), not a line of pixels."""
    if isinstance(value, (Mapping, *ENCODED, str, os.PathLike)):
        return True
    if hasattr(value, "convert") and hasattr(value, "mode"):  # a PIL image
        return True
    ndim = getattr(value, "ndim", None)
    return isinstance(ndim, int) and ndim >= 2


#: The depths an integer row without one of its own may be read as (``pixel_dtype=``).
PIXEL_DTYPES = ("uint8", "uint16")


def checked_pixel_dtype(pixel_dtype: Any) -> np.dtype[Any] | None:
    """``pixel_dtype=`` as a NumPy dtype (uint8 or uint16), None for None; a ValueError else."""
    if pixel_dtype is None:
        return None
    try:
        dtype = np.dtype(pixel_dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in PIXEL_DTYPES:
        raise ValueError(
            f"pixel_dtype={pixel_dtype!r}; expected one of {list(PIXEL_DTYPES)} or None (8-bit)"
        )
    return dtype


def integer_pixels(array: np.ndarray, pixel_dtype: np.dtype[Any] | None = None) -> np.ndarray:
    """Integer pixels of another type than uint8/uint16 in the one depth of the dataset.

    ``datasets`` hands an array column over as Python lists (even for an ``Array3D(...,
    "uint16")`` feature), which NumPy reads as int64: the row no longer says its depth. It
    is read as ``pixel_dtype`` (uint8 when None, as Keras reads images) — never as a depth
    chosen from the row's own values, which made a dark 16-bit row 8-bit and 257 times
    brighter than its bright neighbours. Values beyond that depth are a ``DataError`` that
    says to pass ``pixel_dtype="uint16"``. uint8 and uint16 arrays keep their own depth.
    """
    if array.dtype.kind not in "iu" or array.dtype in (np.uint8, np.uint16):
        return array
    target = np.dtype(np.uint8) if pixel_dtype is None else pixel_dtype
    low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
    if low >= 0 and high <= np.iinfo(target).max:
        return array.astype(target)
    if low < 0:  # int8 rows, differences of images: no depth has negative pixels
        raise DataError(
            f"integer pixels span {low}..{high}: pixels below 0 ({array.dtype}), which no "
            "image depth holds (uint8, uint16); shift or scale them into 0..255, or pass "
            "floats with value_range: [low, high] in the config"
        )
    if high > np.iinfo(np.uint16).max:
        raise DataError(
            f"integer pixels span {low}..{high}: beyond 0..65535, no image depth holds them"
        )
    raise DataError(
        f"integer pixels span {low}..{high}: beyond 0..255, the 8-bit depth that integer "
        f"rows without a depth of their own ({array.dtype}, or Python lists as `datasets` "
        "hands array columns over) are read in; for 16-bit data pass pixel_dtype='uint16' "
        "(every row of a dataset is read in one depth, never one chosen from its values)"
    )


class RowAugmenter:
    """Augments the images (and masks) of rows with the loader; see the module docstring.

    Picklable (the pipeline travels as its state), for worker processes.
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        seed: int | None = None,
        epoch: int = 0,
        standardize: bool = True,
        target_size: tuple[int, int] | None = None,
        color_mode: str = "rgb",
        pixel_dtype: Any = None,
    ) -> None:
        #: The depth of integer rows that have none of their own (see integer_pixels).
        self.pixel_dtype = checked_pixel_dtype(pixel_dtype)
        self.pipeline = compile_pipeline(pipeline)
        if seed is None:
            seed = self.pipeline.spec.seed
        #: The base seed: the given one, the spec's, or one drawn now (shared by copies).
        self.seed = resolve_seed(seed)
        self.epoch = _checked_epoch(epoch)
        self.standardize = standardize
        #: How encoded images, paths and PIL images become arrays.
        self.decode = decode_options(color_mode, target_size)

    def set_epoch(self, epoch: int) -> None:
        """Augment as epoch ``epoch`` from now on."""
        self.epoch = _checked_epoch(epoch)

    def augment(
        self,
        images: Sequence[Any],
        *,
        masks: Sequence[Any] | None = None,
        keys: Sequence[Any] | None = None,
        key_name: str = "key",
        mask_name: str = "mask",
        image_name: str = "image",
        stream: tuple[int, ...] | None = None,
    ) -> list[dict[str, Any]]:
        """The pipeline's output (``image``, and ``mask`` with masks) for each row.

        ``stream`` defaults to ``(SAMPLE_STREAM, epoch)``; a bad row raises a ``DataError``
        naming it (by ``key_name`` and its key), as do masks or keys fewer or more than the
        images (``mask_name``, ``key_name``, ``image_name``: the columns, for the message).
        """
        rows = RowSource(
            images,
            masks=masks,
            keys=keys,
            key_name=key_name,
            mask_name=mask_name,
            decode=self.decode,
            data_format=self.pipeline.spec.data_format,
            pixel_dtype=getattr(self, "pixel_dtype", None),  # objects pickled before it
        )
        done = augment_rows(
            self.pipeline,
            rows,
            images,
            image_name,
            seed=self.seed,
            stream=(SAMPLE_STREAM, self.epoch) if stream is None else stream,
            standardize=self.standardize,
        )
        return done.outputs


def _checked_epoch(epoch: int) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch={epoch!r}; expected an int >= 0")
    return int(epoch)


__all__ = [
    "ENCODED",
    "PIXEL_DTYPES",
    "RowAugmenter",
    "RowSource",
    "augment_rows",
    "check_one_range",
    "checked_pixel_dtype",
    "compile_pipeline",
    "float_bounds",
    "is_one_row",
]
