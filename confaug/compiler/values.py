"""Bringing any input into the pipeline's working form and back.

Inside a pipeline an image is HWC and either uint8 or float32 in [0, 1] (what
albumentations expects); callers keep their own layout, dtype and value range — unless a
step sets the output's dtype and range itself (``Normalize``, ``ToFloat``, ``FromFloat``:
:class:`SetByStep`), whose output is then handed back as albumentations gives it. A
``Normalize`` written for 0–255 values gets the caller's own values back
(:class:`OnInputValues`). Other wrappers of a step's image function: ``FromFloat`` gets
uint8 images as floats (:class:`FloatsIn`), ``ToGray`` keeps the channel axis
(:class:`KeepsChannelAxis`), a ``Normalize`` checks its mean and std against the image's
channels (:class:`ChannelsMatch`).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confaug.errors import DataError


@dataclass(frozen=True)
class Scale:
    """How a float or 16-bit input maps onto [0, 1]."""

    low: float
    high: float
    dtype: np.dtype[Any]

    @property
    def identity(self) -> bool:
        return self.low == 0.0 and self.high == 1.0 and self.dtype == np.float32


@dataclass(frozen=True)
class SetByStep:
    """The output of a pipeline whose dtype and range the step at ``path`` sets.

    Decided once, at compile time (``build.output_step``): the pipeline then returns the
    image exactly as albumentations leaves it, never mapped back to the input's dtype and
    range (that rounded Normalize's floats into 0–3, or clipped them to zeros).
    """

    #: The step in the config, e.g. ``transforms.3.Normalize``.
    path: str
    #: What it makes of float32 working images (uint8 ones give the same; FromFloat gets
    #: them as floats, :class:`FloatsIn`).
    dtype: np.dtype[Any]


#: The channel counts an image has on its ``data_format``'s axis: the rule ``flow`` and
#: ``wrap`` hold every array to (``sources.arrays``), and ``pipeline.other_layout`` applies.
CHANNEL_COUNTS = (1, 3, 4)


def to_output(image: np.ndarray, scale: Scale | None, set_by: SetByStep | None) -> np.ndarray:
    """An image as the caller gets it: :func:`from_working`, or as it is after a step that
    sets the output's dtype and range (``set_by``)."""
    if set_by is None:
        return from_working(image, scale)
    if image.dtype != set_by.dtype and image.dtype.kind == "f" and set_by.dtype.kind == "f":
        # Normalize's min_max and per-image modes compute in float64; the step's output is
        # float32, as its standard mode gives it and as a batch of them is promised.
        return image.astype(set_by.dtype)
    return image


#: The scale of the sample being augmented, for a step that works on the caller's own values
#: (:class:`OnInputValues`). A context variable, so each thread (each worker of a flow) and
#: each nested call sees its own, and ``pipe.compose`` called directly sees None.
_INPUT_SCALE: contextvars.ContextVar[Scale | None] = contextvars.ContextVar(
    "confaug_input_scale", default=None
)


@contextlib.contextmanager
def input_scale(scale: Scale | None) -> Iterator[None]:
    """While augmenting one sample: the caller's scale, for :class:`OnInputValues`."""
    token = _INPUT_SCALE.set(scale)
    try:
        yield
    finally:
        _INPUT_SCALE.reset(token)


def input_values(image: np.ndarray, scale: Scale) -> np.ndarray:
    """A float32 working image on the caller's own scale again, unclipped and in float32:
    ``w * span + low``, the inverse of :func:`to_working` (integer-valued data exactly)."""
    span = np.float32(scale.high - scale.low)
    out = image * span
    if scale.low:
        out += np.float32(scale.low)
    return out


class OnInputValues:
    """A step's image function fed the caller's own values instead of the working form.

    A ``Normalize`` written for 0–255 values (``max_pixel_value: 255``) divides a [0, 1]
    working image into nearly one value, where albumentations, given the caller's float
    0–255 image, normalizes it. Wrapped in this, the step gets the working image mapped back
    by the sample's scale (:func:`input_scale`), so its output is albumentations' own on the
    caller's data (bit for bit for integer-valued data), while the steps before it still see
    [0, 1]. With ``integers`` (``ToFloat``, whose ``max_value`` divides integer images only)
    it gets the caller's integer image (uint16) back, and floats as they are.
    Outside a pipeline's call (``pipe.compose`` used directly) it is the step itself.
    Picklable and deep-copyable: it holds the bound function and the flag only.
    """

    __slots__ = ("function", "integers")

    def __init__(self, function: Callable[..., np.ndarray], *, integers: bool = False) -> None:
        self.function = function
        self.integers = integers

    def __call__(self, img: np.ndarray, **params: Any) -> np.ndarray:
        scale = _INPUT_SCALE.get()
        if scale is None or img.dtype != np.float32:
            pass  # bytes, or not inside a pipeline's call
        elif self.integers:
            if scale.dtype.kind in "iu":
                img = from_working(img, scale)
        elif (scale.low, scale.high) != (0.0, 1.0):
            img = input_values(img, scale)
        return self.function(img, **params)


class FloatsIn:
    """``FromFloat``'s image function, fed the working float image of a uint8 one.

    ``FromFloat`` takes floats in [0, 1]; the working form of a uint8 image is its bytes,
    which it multiplied by 255 in uint8 (95 became 161, wrapped around) and returned as
    float16, and with ``dtype: uint16`` failed with NumPy's OverflowError. Fed ``x / 255``
    in float32 instead, as float and 16-bit images already reach it, it gives what it
    gives every other image: ``dtype: uint8`` the bytes back exactly, ``uint16`` them
    scaled to 0–65535. Any other image goes to it as it is. Picklable and deep-copyable.
    """

    __slots__ = ("function",)

    def __init__(self, function: Callable[..., np.ndarray]) -> None:
        self.function = function

    def __call__(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if img.dtype == np.uint8:
            img = img.astype(np.float32) / np.float32(255.0)
        return self.function(img, **params)


class KeepsChannelAxis:
    """A step's image function whose output keeps the channel axis of a 3-D input.

    ``ToGray(num_output_channels: 1)`` makes an HWC image HW (albumentations' own output),
    so a model built for ``(H, W, 1)`` got batches of rank 3; with this it gets ``(H, W,
    1)``. A 2-D input stays 2-D. Picklable and deep-copyable.
    """

    __slots__ = ("function",)

    def __init__(self, function: Callable[..., np.ndarray]) -> None:
        self.function = function

    def __call__(self, img: np.ndarray, **params: Any) -> np.ndarray:
        out = self.function(img, **params)
        if img.ndim == 3 and out.ndim == 2:
            out = out[..., np.newaxis]
        return out


class ChannelsMatch:
    """A ``Normalize``'s image function that first checks its mean and std fit the image.

    albumentations 2.0.8 takes a mean or std of another length than the image's channels
    without a word: 2 values on RGB give the first to every channel, 4 values on RGB drop
    the last. ``lengths`` are those the config gave (more than one value each); an image
    whose channel count differs is a ``DataError`` naming the step. Picklable.
    """

    __slots__ = ("function", "lengths", "path")

    def __init__(
        self, function: Callable[..., np.ndarray], path: str, lengths: dict[str, int]
    ) -> None:
        self.function = function
        self.path = path
        self.lengths = lengths

    def __call__(self, img: np.ndarray, **params: Any) -> np.ndarray:
        channels = img.shape[2] if img.ndim == 3 else 1
        for name, length in self.lengths.items():
            if length != channels:
                raise DataError(
                    f"{self.path}.{name} has {length} values, but this image has {channels} "
                    f"channel{'s' if channels != 1 else ''} (shape {img.shape}): "
                    "albumentations would use them for other channels without a word; give "
                    "one value, or one per channel"
                )
        return self.function(img, **params)


def infer_scale(array: np.ndarray, value_range: Any, *, where: str = "input") -> Scale | None:
    """None for uint8 (worked on as is); otherwise the affine map of the input onto [0, 1]."""
    dtype = array.dtype
    if dtype == np.uint8:
        return None
    if dtype == np.uint16:
        return Scale(0.0, 65535.0, dtype)
    if not np.issubdtype(dtype, np.floating):
        raise DataError(f"{where}: images must be uint8, uint16 or float, got {dtype}")
    if value_range != "auto":
        low, high = value_range
        return Scale(float(low), float(high), dtype)
    if array.size == 0:
        return Scale(0.0, 1.0, dtype)
    low, high = float(array.min()), float(array.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        if array.ndim == 4:
            bad = np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))
            where = f"{where}[{', '.join(map(str, bad[:5]))}{', ...' if len(bad) > 5 else ''}]"
        raise DataError(f"{where}: float image contains NaN or infinity")
    if low >= 0.0 and high <= 1.0:
        return Scale(0.0, 1.0, dtype)
    if low >= 0.0 and high <= 255.0:
        return Scale(0.0, 255.0, dtype)
    raise DataError(
        f"{where}: float values span [{low:g}, {high:g}], neither [0, 1] nor [0, 255]; "
        "set value_range: [low, high] in the config"
    )


#: The top of the scale float images worked on in their own units run up to.
OWN_UNITS_TOP = 255.0


def in_own_units(scale: Scale | None) -> bool:
    """Whether a pipeline of the Keras keywords alone (its batch path) works on images of
    ``scale`` in their own units: floats from 0 to 255, which Keras warps as they are.

    They are worked on as float32 from 0 to 255 (``idg.warp.floats_up_to``), not divided by
    255 and multiplied back: two passes over every image fewer, and Keras' own arithmetic.
    Other scales, and every pipeline with albumentations steps (which take [0, 1]), go
    through :func:`to_working`.
    """
    return (
        scale is not None
        and scale.dtype.kind == "f"
        and scale.low == 0.0
        and scale.high == OWN_UNITS_TOP
    )


def to_own_units(image: np.ndarray) -> np.ndarray:
    """A float 0–255 image as the Keras kernels take it in its own units: float32 (the
    image itself when it is float32; the kernels never write to it)."""
    return image.astype(np.float32, copy=False)


def from_own_units(image: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    """The result of :func:`to_own_units`'s image, back in the caller's ``dtype``: clipped
    to [0, 255] (cubic and Lanczos kernels overshoot), as :func:`from_working` clips."""
    return np.clip(image, 0.0, OWN_UNITS_TOP).astype(dtype, copy=False)


def to_working(image: np.ndarray, scale: Scale | None) -> np.ndarray:
    """``image`` on the working scale: uint8 as it is, anything else float32 in [0, 1].

    The map is ``(x - low) / span`` in float32, with a true division (not a multiplication
    by ``1 / span``): the quotient is then correctly rounded, which is what lets
    :func:`from_working` give the input values back (see there).
    """
    if scale is None or scale.identity:
        return image
    out = image.astype(np.float32, copy=True)
    if scale.low:
        out -= np.float32(scale.low)  # exact for integer-valued data
    span = np.float32(scale.high - scale.low)
    if span != 1.0:
        out /= span
    return out


def from_working(image: np.ndarray, scale: Scale | None) -> np.ndarray:
    if scale is None:
        return (
            image if image.dtype == np.uint8 else np.clip(np.rint(image), 0, 255).astype(np.uint8)
        )
    if image.dtype == np.uint8:  # a step that turned floats into bytes
        image = image.astype(np.float32) / 255.0
    # Cubic and Lanczos kernels overshoot: keep floats inside their range.
    image = np.clip(image, 0.0, 1.0)
    if scale.identity and image.dtype == np.float32:
        return image
    # ``w * span + low``, undoing to_working step by step with correctly rounded float32
    # operations: integer-valued images (0–255 floats, label maps, uint16) come back exactly
    # and other floats within a float32 step of the working scale. (Multiplying by a rounded
    # ``1 / span`` on the way in moved about half of the values 0..255 by one step.)
    span = np.float32(scale.high - scale.low)
    out = image.astype(np.float32, copy=False)  # np.clip made a copy: safe to scale in place
    out *= span
    if scale.low:
        out += np.float32(scale.low)
    if np.issubdtype(scale.dtype, np.integer):
        info = np.iinfo(scale.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(scale.dtype)
    return out.astype(scale.dtype, copy=False)


def numpy_dtype(image: Any) -> np.dtype[Any] | None:
    """An image's dtype as NumPy's (a torch or TensorFlow dtype read by its name), or None."""
    dtype = getattr(image, "dtype", None)
    if dtype is None or isinstance(dtype, np.dtype):
        return dtype
    as_numpy = getattr(dtype, "as_numpy_dtype", None)  # TensorFlow's
    try:
        return np.dtype(as_numpy if as_numpy is not None else str(dtype).rpartition(".")[2])
    except TypeError:  # a dtype NumPy has no name for (bfloat16): the batch's checks word it
        return None


def check_one_kind(
    images: Sequence[Any], name: str, *, labels: Sequence[str] | None = None
) -> None:
    """A ``DataError`` when a list of images mixes uint8, uint16 and float images: stacked
    into one batch, one kind is read in the others' units (200 of uint8 as 200/65535, a
    [0, 1] float as almost black). Arrays, tensors (torch, TensorFlow, JAX) and nested
    lists (no dtype: they are one kind once stacked) are all read. The images are named
    ``name[i]``, or ``labels[i]`` when given (the targets of one sample)."""
    kinds: dict[str, int] = {}
    for index, image in enumerate(images):
        dtype = numpy_dtype(image)
        if dtype is not None and (dtype in (np.uint8, np.uint16) or dtype.kind == "f"):
            kinds.setdefault("f" if dtype.kind == "f" else dtype.name, index)
    if len(kinds) > 1:
        first, other = sorted(kinds.values())[:2]
        named = labels or [f"{name}[{index}]" for index in range(other + 1)]
        raise DataError(
            f"{named[other]} is {numpy_dtype(images[other])} but {named[first]} is "
            f"{numpy_dtype(images[first])}: give images of one kind (uint8, uint16, or float "
            "in one range)"
        )


#: PIL modes read as their bands are (``np.asarray``): grey, colour and 16-bit grey. ``I``
#: and ``F`` are read so too, to be refused or ranged by the checks every array meets.
_PIL_AS_IS = frozenset({"L", "RGB", "RGBA", "I;16", "I;16L", "I;16N", "I;16B", "I", "F"})
#: PIL modes whose bands are not an image's channels, converted as the file decoder
#: (``sources.decode``) converts a file of that mode: CMYK, YCbCr, HSV and LAB numbers to
#: RGB, a bilevel image to grey 0/255, grey or palette with alpha to RGBA. A palette
#: image ("P") goes through its palette: to RGBA when the palette or the image carries
#: transparency, else RGB.
_PIL_MEANT = {
    "1": "L",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "HSV": "RGB",
    "LAB": "RGB",
    "RGBX": "RGB",
    "LA": "RGBA",
    "La": "RGBA",
    "PA": "RGBA",
    "RGBa": "RGBA",
}


def pil_image_array(image: Any, name: str = "image") -> np.ndarray | None:
    """A PIL image as the H×W (grey) or H×W×C array its mode means, or None when ``image``
    is no PIL image. ``np.asarray`` gives a mode's raw bands: a CMYK image (what
    ``Image.open`` gives for a CMYK JPEG) came out as 4-channel "RGBA" numbers, YCbCr and HSV
    as RGB, a palette image as its indices read as grey levels — wrong colours, silently,
    where a file of the same mode is decoded right. For images only: a palette *mask* is
    class indices and is read as it is. A mode PIL cannot convert is a ``DataError`` naming
    ``name`` and the mode."""
    module = sys.modules.get("PIL.Image")  # never imports PIL: no PIL image without it
    if module is None or not isinstance(image, module.Image):
        return None
    mode = image.mode
    if mode in _PIL_AS_IS:
        array = np.asarray(image)
        # I;16B's big-endian uint16 as the machine's own, as every other uint16 image.
        return array.astype(array.dtype.newbyteorder("="), copy=False)
    if mode == "P":
        alpha = "transparency" in image.info or getattr(image.palette, "mode", "") == "RGBA"
        meant = "RGBA" if alpha else "RGB"
    else:
        meant = _PIL_MEANT.get(mode, "RGB")
    try:
        converted = image.convert(meant)
    except (ValueError, OSError):
        raise DataError(
            f"{name} is a PIL image of mode {mode!r}, which PIL cannot convert to {meant}; "
            "give an L, RGB or RGBA image, or an array"
        ) from None
    return np.asarray(converted)
