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

from confaug.batching.loader import augment_samples
from confaug.compiler.pipeline import Pipeline
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
    if isinstance(value, (Mapping, bytes, bytearray, str, os.PathLike)):
        return None  # an encoded image or a path: decoded as uint8 or 16-bit
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged: the row's loading words it
        return None
    return array if array.dtype.kind == "f" else None


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
        return f"row with pixel hash {self.sample_key(index):032x}"

    def sample_key(self, index: int) -> int:
        """:func:`row_key` of the row's key, or of its encoded bytes or pixels."""
        if self.keys is not None:
            return row_key(self.keys[index])
        value = self.images[index]
        if isinstance(value, Mapping) and value.get("bytes") is not None:
            value = value["bytes"]
        if isinstance(value, (bytes, bytearray)):
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
            image = _pixels(self.images[index], self.decode, mask=False)
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


def _pixels(value: Any, decode: DecodeOptions, *, mask: bool) -> np.ndarray:
    """An HWC array (HW for a single-channel mask) from any of the values rows hold."""
    if isinstance(value, Mapping):  # datasets.Image(decode=False): {"bytes", "path"}
        value = value.get("bytes") or value.get("path")
        if value is None:
            raise DataError("an image entry with neither bytes nor a path")
    if isinstance(value, (bytes, bytearray, str, os.PathLike)):
        source = bytes(value) if isinstance(value, (bytes, bytearray)) else os.fspath(value)
        if mask:
            return decode_mask(source, decode.target_size, max_pixels=decode.max_pixels)
        return decode_image(source, decode)
    if hasattr(value, "convert") and hasattr(value, "mode"):  # a PIL image
        if not mask:  # as a file of its mode is decoded (16-bit and float modes scaled)
            return pil_pixels(value, decode)
        value = np.asarray(value)
        if value.dtype == bool:  # a 1-bit mask: its classes are 0 and 1
            value = value.astype(np.uint8)
    try:
        array = np.asarray(value)
    except ValueError:  # ragged: a tuple (image, label), nested lists of different lengths
        array = np.empty(0, dtype=object)
    if array.dtype == object:
        raise DataError(f"cannot read an image from a value of type {type(value).__name__}")
    if not mask:
        array = integer_pixels(array)
    if array.ndim == 2 and not mask:
        array = array[..., None]
    return array


def integer_pixels(array: np.ndarray) -> np.ndarray:
    """Integer pixels of another type than uint8/uint16 (``datasets`` hands an array column
    over as Python lists, which NumPy reads as int64) as uint8 when every value is in
    0..255, as uint16 when in 0..65535; a ``DataError`` beyond. Other arrays as they are."""
    if array.dtype.kind not in "iu" or array.dtype in (np.uint8, np.uint16):
        return array
    low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
    for dtype in (np.uint8, np.uint16):
        if low >= 0 and high <= np.iinfo(dtype).max:
            return array.astype(dtype)
    raise DataError(
        f"integer pixels span {low}..{high}: beyond 0..65535, no image depth holds them"
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
    ) -> None:
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
        stream: tuple[int, ...] | None = None,
    ) -> list[dict[str, Any]]:
        """The pipeline's output (``image``, and ``mask`` with masks) for each row.

        ``stream`` defaults to ``(SAMPLE_STREAM, epoch)``; a bad row raises a ``DataError``
        naming it (by ``key_name`` and its key), as do masks or keys fewer or more than the
        images (``mask_name``, ``key_name``: the columns, for the message).
        """
        rows = RowSource(
            images,
            masks=masks,
            keys=keys,
            key_name=key_name,
            mask_name=mask_name,
            decode=self.decode,
            data_format=self.pipeline.spec.data_format,
        )
        done = augment_samples(
            rows,
            self.pipeline,
            range(len(rows)),
            seed=self.seed,
            stream=(SAMPLE_STREAM, self.epoch) if stream is None else stream,
            standardize=self.standardize,
        )
        return done.outputs


def _checked_epoch(epoch: int) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch={epoch!r}; expected an int >= 0")
    return int(epoch)


__all__ = ["RowAugmenter", "RowSource", "compile_pipeline", "float_bounds"]
