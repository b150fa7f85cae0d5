"""Pure kernels that apply one :class:`~confaug.idg.params.IdgParams` draw.

Keras warps each channel with scipy; confaug makes one ``cv2.warpAffine`` per image with
the same output→input matrix, about the true image centre ``((w-1)/2, (h-1)/2)`` — Keras
takes ``(h-1)/2`` as the x centre and ``(w-1)/2`` as the y centre, wrong on non-square
images. Then, as Keras: channel shift, flips, brightness. Flips are folded into the warp's
matrix when there is a warp (the same pixels, one pass fewer), else done by slicing.

Value scales: images are uint8 (0–255), or float from 0 to ``top``: 1 (the working scale
albumentations steps take), or 255 for float 0–255 images that a pipeline of the Keras
keywords alone works on in their own units, as Keras does (:func:`floats_up_to`). ``cval``
and the channel shift are given on the 0–255 scale, as Keras users write them, and scaled
by ``top / 255`` for floats.

Fill modes map to OpenCV border modes: ``nearest`` → ``BORDER_REPLICATE``, ``reflect`` →
``BORDER_REFLECT``, ``wrap`` → ``BORDER_WRAP``. ``constant`` is Keras' (scipy's): a pixel
whose source lies outside the image is exactly ``cval`` and every other pixel is
interpolated from the image alone — OpenCV's ``BORDER_CONSTANT`` would blend the edge
pixels with ``cval`` over a one-pixel band, so the warp replicates the border and the
outside is then filled. Interpolation orders map to OpenCV kernels, not scipy splines:
0 → nearest, 1 → bilinear, 2 and 3 → bicubic, 4 and 5 → Lanczos-4.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import math
from collections.abc import Iterator
from types import ModuleType
from typing import Any, TypeAlias, get_args

import cv2
import numpy as np

from confaug._albu import albumentations
from confaug.idg.affine_kernel import warp_affine
from confaug.idg.params import IdgParams
from confaug.opencv_threads import for_warp
from confaug.spec.vocab import BORDER_MODES, INTERPOLATIONS, ORDER_TO_INTERPOLATION, FillMode

_FILL_MODES = get_args(FillMode)  # Keras' four, not every border mode albumentations takes
#: How far (in pixels) a source point may lie beyond the outermost pixel centres and still
#: count as inside: rounding noise of the matrix (cos 90° is 6e-17, not 0), nothing more.
_EDGE_TOLERANCE = 1e-6
#: How far a matrix entry may be from the identity's for the warp to be skipped.
_IDENTITY_TOLERANCE = 1e-9


def border_mode(fill_mode: str) -> int:
    """The OpenCV border mode for a Keras ``fill_mode``."""
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"fill_mode must be one of {', '.join(_FILL_MODES)}, got {fill_mode!r}")
    return BORDER_MODES[fill_mode]


def interpolation_flag(order: int) -> int:
    """The OpenCV interpolation for a Keras ``interpolation_order`` (0–5)."""
    try:
        return INTERPOLATIONS[ORDER_TO_INTERPOLATION[order]]
    except (KeyError, TypeError):
        raise ValueError(f"interpolation_order must be an integer 0–5, got {order!r}") from None


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


Affine: TypeAlias = tuple[float, float, float, float, float, float]


def geometry(
    theta: float,
    tx: float,
    ty: float,
    shear: float,
    zx: float,
    zy: float,
    height: int,
    width: int,
) -> Affine:
    """Keras' affine ``(a, b, c, d, e, f)``: output pixel (x, y) reads input
    ``(a·x + b·y + c, d·x + e·y + f)``; flips are not included.

    ``R(theta) · T(tx, ty) · Shear(shear) · Zoom(zx, zy)`` in Keras' order, moved to the
    image centre ``((width-1)/2, (height-1)/2)``, written out in closed form: Python floats,
    no matrix products, so the same draw gives the same bits in a batch or alone and on any
    CPU (a BLAS product may round differently from one core type to the next).
    """
    angle, slant = math.radians(theta), math.radians(shear)
    cos_t, sin_t = math.cos(angle), math.sin(angle)
    sin_s, cos_s = math.sin(slant), math.cos(slant)
    a = cos_t * zx
    b = (-cos_t * sin_s - sin_t * cos_s) * zy
    d = sin_t * zx
    e = (cos_t * cos_s - sin_t * sin_s) * zy
    cx, cy = (width - 1) / 2, (height - 1) / 2
    # The shift sits between rotation and shear, so it is rotated too: R · t.
    c = (cos_t * tx - sin_t * ty) + cx - (a * cx + b * cy)
    f = (sin_t * tx + cos_t * ty) + cy - (d * cx + e * cy)
    return a, b, c, d, e, f


def geometries(
    theta: np.ndarray,
    tx: np.ndarray,
    ty: np.ndarray,
    shear: np.ndarray,
    zx: np.ndarray,
    zy: np.ndarray,
    height: int,
    width: int,
) -> tuple[np.ndarray, ...]:
    """:func:`geometry` of many draws at once: arrays ``(a, b, c, d, e, f)``.

    The same operations on the same numbers (NumPy's float64 arithmetic rounds as Python's;
    the sines and cosines are ``math``'s), so each entry has :func:`geometry`'s bits.
    """
    angle, slant = theta * (math.pi / 180.0), shear * (math.pi / 180.0)  # math.radians
    cos_t, sin_t = _each(math.cos, angle), _each(math.sin, angle)
    sin_s, cos_s = _each(math.sin, slant), _each(math.cos, slant)
    a = cos_t * zx
    b = (-cos_t * sin_s - sin_t * cos_s) * zy
    d = sin_t * zx
    e = (cos_t * cos_s - sin_t * sin_s) * zy
    cx, cy = (width - 1) / 2, (height - 1) / 2
    c = (cos_t * tx - sin_t * ty) + cx - (a * cx + b * cy)
    f = (sin_t * tx + cos_t * ty) + cy - (d * cx + e * cy)
    return a, b, c, d, e, f


def _each(function: Any, values: np.ndarray) -> np.ndarray:
    return np.array([function(value) for value in values.tolist()], dtype=np.float64)


def is_identity_affine(affine: Affine) -> bool:
    """Whether ``affine`` leaves every pixel where it is (up to rounding noise)."""
    a, b, c, d, e, f = affine
    tolerance = _IDENTITY_TOLERANCE  # the first test fails at once for almost every draw
    return (
        abs(a - 1.0) <= tolerance
        and abs(e - 1.0) <= tolerance
        and abs(b) <= tolerance
        and abs(d) <= tolerance
        and abs(c) <= tolerance
        and abs(f) <= tolerance
    )


def identities(affines: tuple[np.ndarray, ...]) -> np.ndarray:
    """:func:`is_identity_affine` of each entry of :func:`geometries`."""
    a, b, c, d, e, f = affines
    largest = np.maximum.reduce([abs(a - 1.0), abs(e - 1.0), abs(b), abs(d), abs(c), abs(f)])
    result: np.ndarray = largest <= _IDENTITY_TOLERANCE
    return result


def with_flips(
    affine: Affine, flip_horizontal: bool, flip_vertical: bool, height: int, width: int
) -> np.ndarray:
    """The 2×3 output→input matrix of ``affine`` after the flips (flips read first)."""
    a, b, c, d, e, f = affine
    if flip_horizontal:  # x → (width - 1) - x
        a, c, d, f = -a, c + a * (width - 1), -d, f + d * (width - 1)
    if flip_vertical:  # y → (height - 1) - y
        b, c, e, f = -b, c + b * (height - 1), -e, f + e * (height - 1)
    return np.array([[a, b, c], [d, e, f]])


def matrices_with_flips(
    affines: tuple[np.ndarray, ...],
    flip_horizontal: np.ndarray,
    flip_vertical: np.ndarray,
    height: int,
    width: int,
) -> np.ndarray:
    """:func:`with_flips` of each entry of :func:`geometries`: an (N, 2, 3) array."""
    a, b, c, d, e, f = affines
    h, v = flip_horizontal, flip_vertical
    a, c, d, f = (
        np.where(h, -a, a),
        np.where(h, c + a * (width - 1), c),
        np.where(h, -d, d),
        np.where(h, f + d * (width - 1), f),
    )
    b, c, e, f = (
        np.where(v, -b, b),
        np.where(v, c + b * (height - 1), c),
        np.where(v, -e, e),
        np.where(v, f + e * (height - 1), f),
    )
    return np.stack([a, b, c, d, e, f], axis=1).reshape(-1, 2, 3)


def warp_matrix(params: IdgParams, height: int, width: int) -> np.ndarray | None:
    """The 2×3 output→input matrix of a draw, flips folded in; None when the geometry is
    the identity (the flips, if any, are then done by slicing)."""
    affine = geometry(
        params.theta, params.tx, params.ty, params.shear, params.zx, params.zy, height, width
    )
    if is_identity_affine(affine):
        return None
    return with_flips(affine, params.flip_horizontal, params.flip_vertical, height, width)


def inverse_matrix(params: IdgParams, height: int, width: int) -> np.ndarray:
    """Keras' affine as a 3×3 output→input map in (x = column, y = row) pixel coordinates
    (see :func:`geometry`). Flips are not included."""
    a, b, c, d, e, f = geometry(
        params.theta, params.tx, params.ty, params.shear, params.zx, params.zy, height, width
    )
    return np.array([[a, b, c], [d, e, f], [0.0, 0.0, 1.0]])


def flip_matrix(params: IdgParams, height: int, width: int) -> np.ndarray:
    """The flips as a 3×3 map in the same coordinates (its own inverse)."""
    sx, sy = (-1.0 if params.flip_horizontal else 1.0), (-1.0 if params.flip_vertical else 1.0)
    return np.array(
        [
            [sx, 0.0, (width - 1) if params.flip_horizontal else 0.0],
            [0.0, sy, (height - 1) if params.flip_vertical else 0.0],
            [0.0, 0.0, 1.0],
        ]
    )


def forward_matrix(params: IdgParams, height: int, width: int) -> np.ndarray:
    """Input→output map of the geometry (flips excluded), for keypoints and boxes."""
    return np.linalg.inv(inverse_matrix(params, height, width))


#: How float images reach the kernels called inside a pipeline's call (``IdgTransform``):
#: the top of their scale (1, or 255 while a pipeline of the Keras keywords alone augments
#: float 0–255 images in their own units) and whether every value is known to lie within
#: [0, top] (the pipeline found the range from the values). A context variable: each
#: thread and nested call sees its own; ``IdgTransform`` outside a pipeline sees (1, False).
_FLOATS: contextvars.ContextVar[tuple[float, bool]] = contextvars.ContextVar(
    "confaug_floats", default=(1.0, False)
)


@contextlib.contextmanager
def floats_up_to(top: float, *, checked: bool = False) -> Iterator[None]:
    """While augmenting one sample: float images run from 0 to ``top`` (1 or 255), and
    with ``checked`` every value is known to lie within that."""
    token = _FLOATS.set((top, checked))
    try:
        yield
    finally:
        _FLOATS.reset(token)


def float_units() -> tuple[float, bool]:
    """``(top, checked)`` as :func:`floats_up_to` set them; ``(1.0, False)`` outside it."""
    return _FLOATS.get()


def keeps_range(border: int, interpolation: int, cval: float) -> bool:
    """Whether a warp gives values within the range of its input: nearest or bilinear
    (weights that are never negative), and a constant fill, if any, within 0–255."""
    constant_within = border != cv2.BORDER_CONSTANT or 0.0 <= cval <= 255.0
    return interpolation in (cv2.INTER_NEAREST, cv2.INTER_LINEAR) and constant_within


#: Brightness factors up to this keep a warped image within [0, top] when its input was
#: (a bilinear sum may pass its largest input by a rounding step; this leaves room).
_KEEPS_TOP = 1.0 - 2.0**-16


def clip_brightened(image: np.ndarray, gains: np.ndarray | float, top: float, kept: bool) -> None:
    """Keep float images multiplied by brightness ``gains`` within [0, ``top``], in place.

    ``kept``: the image was within [0, top] before the multiply (values checked, and a
    warp that :func:`keeps_range`): then only a factor above 1 can carry values over the
    top, and one truncation at the top (never below: nothing is below 0) does what a clip
    does, in about two thirds of its time; with every factor at most 1 there is nothing to
    do. Every path runs this on the same values, so they give the same bits.
    """
    low, high = float(np.min(gains)), float(np.max(gains))
    if not kept or low < 0.0 or image.dtype != np.float32:
        np.clip(image, 0.0, top, out=image)
    elif high > _KEEPS_TOP:
        flat = image.reshape(len(image), -1) if image.flags.c_contiguous else None
        if flat is None or flat.shape[1] == 0:
            np.clip(image, 0.0, top, out=image)
        else:
            cv2.threshold(flat, top, top, cv2.THRESH_TRUNC, dst=flat)


def value_scale(dtype: np.dtype, top: float = 1.0) -> float:
    """Factor from the 0–255 scale to the image's own: 1 for uint8, ``top / 255`` for
    floats (from 0 to ``top``)."""
    if dtype == np.uint8:
        return 1.0
    if np.issubdtype(dtype, np.floating):
        return top / 255.0
    raise TypeError(f"images must be uint8 or float, got {dtype}")


def _chunks(channels: int) -> list[slice]:
    """Channel slices cv2 warps correctly in one call: 1, 3 or 4 channels each.

    OpenCV 5.0 rejects cubic/Lanczos on more than 4 channels and silently returns wrong
    pixels for 2 and for more than 4 channels with nearest/bilinear (measured).
    """
    sizes = [4] * (channels // 4)
    rest = channels % 4
    sizes += [1, 1] if rest == 2 else ([rest] if rest else [])
    bounds = itertools.accumulate(sizes, initial=0)
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def warp(
    image: np.ndarray,
    matrix: np.ndarray,
    *,
    border: int,
    interpolation: int,
    fill: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """One ``cv2.warpAffine`` with an output→input ``matrix`` (2×3 or 3×3); HW or HWC, any
    channels; written into ``out`` (of the image's shape and dtype) when given.

    ``BORDER_CONSTANT`` follows scipy's ``constant`` (see the module docstring): pixels read
    from outside the image are ``fill``, the others are interpolated from the image only.
    """
    height, width = image.shape[:2]
    constant = border == cv2.BORDER_CONSTANT
    kwargs: dict[str, Any] = {
        "matrix": matrix[:2],
        "size": (width, height),
        "flags": interpolation | cv2.WARP_INVERSE_MAP,
        "border": cv2.BORDER_REPLICATE if constant else border,
        "border_value": (fill, fill, fill, fill),
    }
    channels = 1 if image.ndim == 2 else image.shape[2]
    # Under OpenCV 5.1 some warps' bits depend on OpenCV's threads: those run pinned to one.
    with for_warp(image.dtype, interpolation, kwargs["border"]):
        if image.ndim == 2 or channels in (3, 4) or (channels == 1 and out is not None):
            result = warp_affine(image, dst=out, **kwargs)
        else:
            parts = [warp_affine(image[..., part], **kwargs) for part in _chunks(channels)]
            # cv2 drops a trailing channel axis of 1.
            parts = [p[..., None] if p.ndim == 2 else p for p in parts]
            result = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
            if out is not None:
                np.copyto(out, result)
                result = out
    if constant:
        outside = outside_source(matrix, height, width)
        if outside is not None:  # one masked copy of a filled image: 20x faster than out[m] = v
            result = cv2.copyTo(np.full_like(result, fill), outside.view(np.uint8), result)
    return result


def outside_source(matrix: np.ndarray, height: int, width: int) -> np.ndarray | None:
    """Which pixels of a ``height`` × ``width`` output read from outside a same-sized input.

    ``matrix`` maps output to input (x, y). A row of output pixels maps onto a line, so the
    pixels of a row that read inside form one run of columns: its bounds are solved per row
    (two linear inequalities per source axis) and turned into a boolean (H, W) mask. Returns
    None when every pixel reads inside.
    """
    first = np.zeros(height)
    last = np.full(height, width - 1.0)
    rows = np.arange(height, dtype=np.float64)
    for axis, size in ((0, width), (1, height)):
        slope = matrix[axis, 0]  # change of the source coordinate per output column
        offset = matrix[axis, 1] * rows + matrix[axis, 2]  # its value at column 0, per row
        low, high = -_EDGE_TOLERANCE, size - 1 + _EDGE_TOLERANCE
        if abs(slope) < 1e-12:  # the whole row reads one source column (or row)
            inside = (offset >= low) & (offset <= high)
            last = np.where(inside, last, -1.0)
            continue
        bounds = np.sort(np.stack([(low - offset) / slope, (high - offset) / slope]), axis=0)
        first = np.maximum(first, np.ceil(bounds[0]))
        last = np.minimum(last, np.floor(bounds[1]))
    if (first <= 0).all() and (last >= width - 1).all():
        return None
    # int32 comparisons: twice as fast as float64 ones on the (H, W) grid
    first_column = np.clip(first, 0, width).astype(np.int32)[:, None]
    last_column = np.clip(last, -1, width - 1).astype(np.int32)[:, None]
    columns = np.arange(width, dtype=np.int32)
    return (columns < first_column) | (columns > last_column)


def _flip(image: np.ndarray, params: IdgParams) -> np.ndarray:
    if params.flip_horizontal and params.flip_vertical:
        return image[::-1, ::-1].copy()
    if params.flip_horizontal:
        return image[:, ::-1].copy()
    if params.flip_vertical:
        return image[::-1].copy()
    return image


def _gains(image: np.ndarray, brightness: float) -> float | np.ndarray:
    """Brightness per channel: as Keras (through PIL), the alpha of RGBA images is kept."""
    if image.ndim == 3 and image.shape[2] == 4:
        return np.array([brightness, brightness, brightness, 1.0])
    return brightness


def _photometric_uint8(
    image: np.ndarray, shift: float | None, brightness: float | None, out: np.ndarray | None
) -> np.ndarray:
    """Brightness alone as one saturating multiply; with a channel shift (or RGBA) through
    a 256-entry lookup table (one per channel for RGBA).
    """
    gains: Any = None if brightness is None else _gains(image, brightness)
    if shift is None and np.ndim(gains) == 0:
        result = cv2.convertScaleAbs(image, dst=out, alpha=gains)
        return result.reshape(image.shape)
    values = np.arange(256, dtype=np.float64)
    if shift is not None:
        values = np.clip(values + shift, image.min(), image.max())
    if gains is not None:
        values = np.multiply.outer(values, gains)
    table = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return cv2.LUT(image, table.reshape(256, 1, -1), dst=out).reshape(image.shape)


def _photometric_float(
    image: np.ndarray,
    shift: float | None,
    brightness: float | None,
    out: np.ndarray | None,
    top: float,
    kept: bool,
) -> np.ndarray:
    if shift is not None:
        low, high = image.min(), image.max()
        image = np.add(image, shift, out=out)
        np.clip(image, low, high, out=image)
        out = image
    if brightness is not None:
        gains = np.asarray(_gains(image, brightness), dtype=image.dtype)
        image = np.multiply(image, gains, out=out)
        clip_brightened(image, brightness, top, kept)
    return image


def photometric(
    image: np.ndarray,
    params: IdgParams,
    *,
    in_place: bool = False,
    top: float = 1.0,
    kept: bool = False,
) -> np.ndarray:
    """Keras' channel shift (add, clip to the image's own range), then brightness
    (multiply, clip to 0–255 for uint8, to [0, ``top``] for floats; the alpha of a
    4-channel image is kept, as Keras). With ``in_place`` the result is written into
    ``image``.
    """
    return adjust(
        image,
        params.channel_shift_intensity,
        params.brightness,
        in_place=in_place,
        top=top,
        kept=kept,
    )


def adjust(
    image: np.ndarray,
    shift: float | None,
    brightness: float | None,
    *,
    in_place: bool = False,
    top: float = 1.0,
    kept: bool = False,
) -> np.ndarray:
    """:func:`photometric` with the channel shift (on the 0–255 scale) and the brightness
    factor given as numbers; None skips either step. ``kept``: see :func:`clip_brightened`."""
    if shift is None and brightness is None:
        return image
    if shift is not None:
        shift *= value_scale(image.dtype, top)
    out = image if in_place else None
    if image.dtype == np.uint8:
        return _photometric_uint8(image, shift, brightness, out)
    return _photometric_float(image, shift, brightness, out, top, kept)


def apply_params(
    image: np.ndarray,
    params: IdgParams,
    *,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
    top: float = 1.0,
    checked: bool = False,
) -> np.ndarray:
    """Apply one draw to an HW or HWC image (uint8, or float from 0 to ``top``) as Keras'
    ``apply_transform`` does: warp, channel shift, flips, brightness. Never writes to
    ``image``; returns it unchanged when the draw is the identity. ``checked``: every
    value is known to lie within [0, top].
    """
    height, width = image.shape[:2]
    matrix = warp_matrix(params, height, width)
    border, interpolation = border_mode(fill_mode), interpolation_flag(interpolation_order)
    if matrix is None:
        out = _flip(image, params)
    else:
        out = warp(
            image,
            matrix,
            border=border,
            interpolation=interpolation,
            fill=cval * value_scale(image.dtype, top),
        )
    kept = checked and keeps_range(border, interpolation, cval)
    return photometric(out, params, in_place=out is not image, top=top, kept=kept)


def apply_params_to_mask(mask: np.ndarray, params: IdgParams, *, fill_mode: str) -> np.ndarray:
    """The same geometry and flips on a mask: nearest interpolation, fill 0, no photometry."""
    height, width = mask.shape[:2]
    matrix = warp_matrix(params, height, width)
    if matrix is None:
        return _flip(mask, params)
    as_bool = mask.dtype == np.bool_
    out = warp(
        mask.view(np.uint8) if as_bool else mask,
        matrix,
        border=border_mode(fill_mode),
        interpolation=cv2.INTER_NEAREST,
        fill=0,
    )
    return out.view(np.bool_) if as_bool else out


def _albumentations_geometry() -> ModuleType:
    """albumentations' geometric functions, imported offline (see ``confaug._albu``)."""
    albumentations()
    from albumentations.augmentations.geometric import functional

    return functional


def apply_params_to_keypoints(
    keypoints: np.ndarray, params: IdgParams, height: int, width: int, *, fill_mode: str
) -> np.ndarray:
    """Move albumentations keypoints (``x, y, z, angle, scale, ...`` in pixels) as the image.

    Uses albumentations' ``keypoints_affine`` (which, for ``reflect``, adds the mirrored
    copies that become visible) and its flip functions, so angles and scales follow its
    conventions.
    """
    fgeometric = _albumentations_geometry()
    forward = forward_matrix(params, height, width)
    scale = {"x": math.hypot(*forward[:2, 0]), "y": math.hypot(*forward[:2, 1])}
    out = fgeometric.keypoints_affine(
        keypoints, forward, (height, width), scale, border_mode(fill_mode)
    )
    if params.flip_horizontal:
        out = fgeometric.keypoints_hflip(out, width)
    if params.flip_vertical:
        out = fgeometric.keypoints_vflip(out, height)
    return out


def apply_params_to_bboxes(
    bboxes: np.ndarray, params: IdgParams, height: int, width: int, *, fill_mode: str
) -> np.ndarray:
    """Move albumentations boxes (normalized ``x_min, y_min, x_max, y_max, ...``) as the image.

    Boxes live in continuous coordinates (a pixel spans ``[i, i+1]``), so the pixel-centre
    matrix is conjugated by a half-pixel shift before albumentations' ``bboxes_affine``.
    """
    fgeometric = _albumentations_geometry()
    forward = _translation(0.5, 0.5) @ forward_matrix(params, height, width)
    forward = forward @ _translation(-0.5, -0.5)
    shape = (height, width)
    out = fgeometric.bboxes_affine(
        bboxes, forward, "largest_box", shape, border_mode(fill_mode), shape
    )
    if params.flip_horizontal:
        out = fgeometric.bboxes_hflip(out)
    if params.flip_vertical:
        out = fgeometric.bboxes_vflip(out)
    return out
