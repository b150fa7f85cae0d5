"""Keras' free image functions: ``random_rotation`` ... ``flip_axis``, on confaug's kernels.

Signatures, defaults, axis conventions and value semantics are Keras'
(``keras.preprocessing.image`` / ``keras_preprocessing.image``): one image of rank 3, the
channel axis first by default (``row_axis=1, col_axis=2, channel_axis=0``), values in their
own units (``cval`` too), the dtype of the input kept by the warps. As in Keras the random
functions draw from NumPy's global random state, so ``np.random.seed`` reproduces them.

Where Keras runs scipy once per channel, :func:`apply_affine_transform` makes one
``cv2.warpAffine`` (:func:`confaug.idg.warp.warp`) with the matrix of confaug's IDG
(:func:`confaug.idg.warp.inverse_matrix`). Interpolation orders map to OpenCV's kernels
(0 nearest, 1 bilinear, 2–3 bicubic, 4–5 Lanczos), as everywhere in confaug. Deliberate
differences, the same as the drop-in ``ImageDataGenerator``'s:

- :func:`random_shift` shifts horizontally by ``wrg`` × width and vertically by
  ``hrg`` × height; Keras swaps the two axes.
- Rotation, shear and zoom turn about the true image centre; Keras takes the row count
  as the centre's column on non-square images.
- Brightness is a multiplication in floating point; Keras rounds through 8-bit PIL.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from confaug.idg.params import IdgParams
from confaug.idg.warp import border_mode, interpolation_flag, inverse_matrix, photometric, warp

#: dtypes warped as they are. OpenCV interpolates float32 exactly but other depths on a
#: 1/32-pixel grid (float64 bilinear is off by up to 0.6 of 255 on smooth images), so
#: everything else is warped as float32 and cast back (integers rounded).
_WARPED_AS_IS = (np.uint8, np.float32)


def flip_axis(x: Any, axis: int) -> np.ndarray:
    """``x`` reversed along ``axis`` (a view)."""
    return np.flip(np.asarray(x), axis)


def transform_matrix_offset_center(matrix: np.ndarray, x: float, y: float) -> np.ndarray:
    """``matrix`` (3×3, homogeneous) moved to turn about the centre of an ``x`` × ``y`` grid:
    ``T(c) @ matrix @ T(-c)`` with ``c = (x / 2 - 0.5, y / 2 - 0.5)``."""
    centre_x, centre_y = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    to_centre = np.array([[1.0, 0.0, centre_x], [0.0, 1.0, centre_y], [0.0, 0.0, 1.0]])
    from_centre = np.array([[1.0, 0.0, -centre_x], [0.0, 1.0, -centre_y], [0.0, 0.0, 1.0]])
    result: np.ndarray = to_centre @ np.asarray(matrix, dtype=np.float64) @ from_centre
    return result


def apply_affine_transform(
    x: Any,
    theta: float = 0,
    tx: float = 0,
    ty: float = 0,
    shear: float = 0,
    zx: float = 1,
    zy: float = 1,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    order: int = 1,
) -> Any:
    """One image warped by rotation ``theta`` and ``shear`` (degrees), shift ``tx`` along
    ``col_axis`` and ``ty`` along ``row_axis`` (pixels; output pixel p reads input
    p + t), and zoom ``zx``/``zy`` (above 1 zooms out), composed as Keras composes them,
    about the image centre. ``x`` is returned as it is when every parameter is neutral.
    """
    _check_axes(x, row_axis, col_axis, channel_axis)
    if theta == 0 and tx == 0 and ty == 0 and shear == 0 and zx == 1 and zy == 1:
        return x
    array = np.asarray(x)
    image = np.moveaxis(array, (row_axis, col_axis, channel_axis), (0, 1, 2))
    height, width = image.shape[:2]
    params = IdgParams(theta=theta, tx=tx, ty=ty, shear=shear, zx=zx, zy=zy)
    as_is = array.dtype.type in _WARPED_AS_IS
    out = warp(
        np.ascontiguousarray(image if as_is else image.astype(np.float32)),
        inverse_matrix(params, height, width),
        border=border_mode(fill_mode),
        interpolation=interpolation_flag(order),
        fill=float(cval),
    )
    if not as_is:
        out = _as_dtype(out, array.dtype)
    return np.moveaxis(out.reshape(image.shape), (0, 1, 2), (row_axis, col_axis, channel_axis))


def _axis(name: str, axis: Any, ndim: int | None = None) -> int:
    """``axis`` as an int, or a ``TypeError`` / ``ValueError`` naming it (NumPy said only
    "integer argument expected, got float", or nothing when the axis is unused); with
    ``ndim``, checked against that rank as NumPy checks an axis."""
    try:
        index = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}={axis!r}; the axis must be an int") from None
    if ndim is not None and not -ndim <= index < ndim:
        raise ValueError(
            f"{name}={axis!r} is out of range for an image of rank {ndim} "
            f"(axes {-ndim}..{ndim - 1})"
        )
    return index


def _check_axes(x: Any, row_axis: int, col_axis: int, channel_axis: int) -> None:
    for name, axis in (
        ("row_axis", row_axis),
        ("col_axis", col_axis),
        ("channel_axis", channel_axis),
    ):
        _axis(name, axis)
    axes = {row_axis, col_axis, channel_axis}
    if len(axes) != 3:
        raise ValueError("'row_axis', 'col_axis', and 'channel_axis' must be distinct")
    if axes != {0, 1, 2}:
        raise ValueError(f"Invalid axis' indices: {axes - {0, 1, 2}}; expected 0, 1 and 2")
    if np.ndim(x) != 3:
        raise ValueError(
            f"Input arrays must be multi-channel 2D images: expected rank 3, got shape "
            f"{np.shape(x)}"
        )
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed and the first and last dimensions.")


def _as_dtype(values: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    """Warped float32 values back in ``dtype`` (integers rounded and clipped to its range)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def _warp_drawn(
    x: Any,
    drawn: dict[str, float],
    row_axis: int,
    col_axis: int,
    channel_axis: int,
    fill_mode: str,
    cval: float,
    interpolation_order: int,
) -> Any:
    """What every ``random_*`` warp ends with: :func:`apply_affine_transform` by the
    parameters it ``drawn``, with its axes, fill and interpolation order."""
    return apply_affine_transform(
        x,
        **drawn,
        row_axis=row_axis,
        col_axis=col_axis,
        channel_axis=channel_axis,
        fill_mode=fill_mode,
        cval=cval,
        order=interpolation_order,
    )


def random_rotation(
    x: Any,
    rg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> Any:
    """A rotation by an angle drawn uniformly from [-rg, rg] degrees."""
    drawn = {"theta": np.random.uniform(-rg, rg)}
    return _warp_drawn(
        x, drawn, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order
    )


def random_shift(
    x: Any,
    wrg: float,
    hrg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> Any:
    """A shift by U(-hrg, hrg) × height vertically and U(-wrg, wrg) × width horizontally
    (drawn in that order, as Keras draws them; Keras applies them to the swapped axes)."""
    _check_axes(x, row_axis, col_axis, channel_axis)  # before the shape is indexed by them
    height, width = np.shape(x)[row_axis], np.shape(x)[col_axis]
    vertical = np.random.uniform(-hrg, hrg) * height
    horizontal = np.random.uniform(-wrg, wrg) * width
    drawn = {"tx": horizontal, "ty": vertical}
    return _warp_drawn(
        x, drawn, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order
    )


def random_shear(
    x: Any,
    intensity: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> Any:
    """A shear by an angle drawn uniformly from [-intensity, intensity] degrees."""
    drawn = {"shear": np.random.uniform(-intensity, intensity)}
    return _warp_drawn(
        x, drawn, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order
    )


def random_zoom(
    x: Any,
    zoom_range: Sequence[float],
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> Any:
    """A zoom by ``zx``, ``zy`` drawn independently from U(zoom_range) (none for (1, 1))."""
    if len(zoom_range) != 2:
        raise ValueError(
            f"`zoom_range` should be a tuple or list of two floats. Received: {zoom_range}"
        )
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1.0, 1.0
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    drawn = {"zx": zx, "zy": zy}
    return _warp_drawn(
        x, drawn, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order
    )


def apply_channel_shift(x: Any, intensity: float, channel_axis: int = 0) -> np.ndarray:
    """``intensity`` added to every channel, clipped to the image's own min and max.

    ``channel_axis`` is Keras' argument; the shift is the same for every channel, so the
    result does not depend on it. It is still checked against the rank, as Keras' rollaxis
    checks it, so that a typo is not taken silently.
    """
    array = np.asarray(x)
    _axis("channel_axis", channel_axis, array.ndim)
    low, high = np.min(array), np.max(array)
    shifted: np.ndarray = np.clip(array + intensity, low, high)
    return shifted


def random_channel_shift(x: Any, intensity_range: float, channel_axis: int = 0) -> np.ndarray:
    """:func:`apply_channel_shift` by an intensity drawn from U(-range, range)."""
    _axis("channel_axis", channel_axis, np.ndim(x))  # before the draw, as a failed call draws none
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x: Any, brightness: float, scale: bool = True) -> np.ndarray:
    """One channels-last image (1, 3 or 4 channels) times ``brightness``, as float32.

    As Keras: the image is first stretched to 0–255 by its min and max when ``scale`` (or
    when its values leave 0–255), the product is clipped to 0–255, the alpha of a 4-channel
    image is kept, and with ``scale=False`` a stretched image is mapped back to its own
    range. Unlike Keras, nothing is rounded to 8 bits on the way.
    """
    given = np.asarray(x)
    if given.ndim != 3 or given.shape[2] not in (1, 3, 4):
        raise ValueError(
            f"apply_brightness_shift takes one channels-last image with 1, 3 or 4 channels; "
            f"got shape {given.shape}"
        )
    low, high = np.min(given), np.max(given)
    stretched = bool(scale or low < 0 or high > 255)
    values = given.astype(np.float64)
    if stretched:
        span = float(high) - float(low)
        values = (values - float(low)) * (255.0 / span) if span else np.zeros_like(values)
    unit = np.ascontiguousarray(values / 255.0, dtype=np.float32)
    out = photometric(unit, IdgParams(brightness=float(brightness)), in_place=True)
    out *= np.float32(255.0)
    if stretched and not scale:
        # back to the image's range with Keras' arithmetic, so also with Keras' dtype
        mapped: np.ndarray = out / 255 * (high - low) + low
        return mapped
    return out


def random_brightness(x: Any, brightness_range: Sequence[float], scale: bool = True) -> Any:
    """:func:`apply_brightness_shift` by a factor drawn from U(brightness_range)."""
    if len(brightness_range) != 2:
        raise ValueError(
            f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}"
        )
    brightness = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, brightness, scale)
