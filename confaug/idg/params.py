"""One random draw of Keras' ImageDataGenerator, and the sampler that makes it.

:class:`IdgParams` holds one draw under the names and meanings of Keras'
``get_random_transform`` dict, so a draw can be handed between Keras and confaug
unchanged. :class:`IdgSampler` turns the IDG keywords, as a user writes them, into
draws from Keras' distributions, with two deliberate differences:

* ``width_shift_range`` is a fraction of the image **width** and moves the image
  horizontally (``tx``); ``height_shift_range`` is a fraction of the **height** and
  moves it vertically (``ty``). Keras swaps both (tensorflow/tensorflow#82838).
* ranges may also be written ``[low, high]`` where Keras only takes a symmetric number
  (``rotation_range``, ``shear_range``, ``channel_shift_range``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeAlias, TypeGuard

import numpy as np

Number: TypeAlias = int | float
RangeLike: TypeAlias = Number | Sequence[Number]


@dataclass(frozen=True)
class IdgParams:
    """One draw of the IDG transform, named and meant as in Keras' ``get_random_transform``.

    Geometry is an output→input map (see :func:`confaug.idg.warp.inverse_matrix`), so:
    ``theta`` rotates by degrees; ``tx`` is a shift in pixels along the columns and ``ty``
    along the rows (a positive value moves the content left / up, as in Keras);
    ``shear`` is in degrees; ``zx``/``zy`` above 1 zoom **out** (content shrinks).
    ``channel_shift_intensity`` is added on the 0–255 scale and ``brightness`` multiplies;
    ``None`` skips either step.
    """

    theta: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    shear: float = 0.0
    zx: float = 1.0
    zy: float = 1.0
    flip_horizontal: bool = False
    flip_vertical: bool = False
    channel_shift_intensity: float | None = None
    brightness: float | None = None

    @classmethod
    def from_keras(cls, params: Mapping[str, Any]) -> IdgParams:
        """Build from a Keras ``get_random_transform`` dict; missing keys take Keras' defaults."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown Keras transform parameter(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name in known & set(params):
            value = params[name]
            if name.startswith("flip_"):
                values[name] = bool(value)
            elif value is None:
                values[name] = None
            else:
                values[name] = float(value)
        return cls(**values)

    def to_keras(self) -> dict[str, Any]:
        """The dict Keras' ``apply_transform`` takes, holding this draw."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _is_number(value: object) -> TypeGuard[numbers.Real]:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _as_pair(value: RangeLike, name: str) -> tuple[float, float]:
    """A ``[low, high]`` pair as floats, checked."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a number or [low, high], got {value!r}")
    if len(value) != 2 or not all(_is_number(v) for v in value):
        raise ValueError(f"{name} must be a number or [low, high], got {value!r}")
    low, high = float(value[0]), float(value[1])
    if low > high:
        raise ValueError(f"{name}: low must be <= high, got [{low}, {high}]")
    return low, high


def _signed_range(value: RangeLike, name: str) -> tuple[float, float] | None:
    """Number ``r`` → ``(-|r|, |r|)``; ``[low, high]`` as given; ``None`` when it is zero."""
    if _is_number(value):
        low, high = -abs(float(value)), abs(float(value))
    else:
        low, high = _as_pair(value, name)
    return None if low == high == 0 else (low, high)


def _zoom_range(value: RangeLike) -> tuple[float, float] | None:
    """Number ``z`` → ``(1 - z, 1 + z)``; ``None`` when both ends are 1 (Keras draws nothing)."""
    if _is_number(value):
        low, high = 1.0 - float(value), 1.0 + float(value)
    else:
        low, high = _as_pair(value, "zoom_range")
    if low <= 0:
        raise ValueError(f"zoom_range must stay above 0, got [{low}, {high}]")
    return None if low == high == 1 else (low, high)


def _brightness_range(value: Sequence[Number] | None) -> tuple[float, float] | None:
    if value is None:
        return None
    low, high = _as_pair(value, "brightness_range")
    if low < 0:
        raise ValueError(f"brightness_range must be >= 0, got [{low}, {high}]")
    return low, high


@dataclass(frozen=True)
class ShiftRange:
    """A normalized ``*_shift_range``: discrete ``choices`` (int or list form) or a uniform
    ``limit`` (float form), in pixels or, when ``fraction``, in fractions of the image size.
    """

    choices: tuple[float, ...] | None
    limit: float
    fraction: bool

    @classmethod
    def parse(cls, value: RangeLike, name: str) -> ShiftRange | None:
        """Read a Keras shift keyword; ``None`` means no shift.

        As Keras: a float ``r`` draws ``U(-r, r)``; an int ``r`` draws from ``0 .. r-1``
        (``np.random.choice(r)``, so ``r`` itself never occurs) and a list from its items,
        both times a random sign; when the largest value is below 1 it is a fraction.
        """
        if isinstance(value, bool):
            raise TypeError(f"{name} must be a number or a list of numbers, got {value!r}")
        if isinstance(value, numbers.Integral):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
            return cls(tuple(float(v) for v in range(int(value))), 0.0, False) if value else None
        if isinstance(value, numbers.Real):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
            return cls(None, float(value), float(value) < 1) if value else None
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            raise TypeError(f"{name} must be a number or a list of numbers, got {value!r}")
        if not all(_is_number(v) for v in value):
            raise ValueError(f"{name} must be a number or a list of numbers, got {value!r}")
        if len(value) == 0:
            return None
        choices = tuple(float(v) for v in value)
        return cls(choices, 0.0, max(choices) < 1)

    def sample(self, rng: np.random.Generator, size: int) -> float:
        """One shift in pixels along an axis of ``size`` pixels."""
        if self.choices is None:
            shift = rng.uniform(-self.limit, self.limit)
        else:
            shift = self.choices[rng.integers(len(self.choices))] * (
                1.0 if rng.random() < 0.5 else -1.0
            )
        return float(shift * size) if self.fraction else float(shift)


def _frozen(value: Any) -> Any:
    """Lists and arrays → tuples, so the sampler stays hashable and immutable."""
    if isinstance(value, (list, np.ndarray)):
        return tuple(value.tolist() if isinstance(value, np.ndarray) else value)
    return value


@dataclass(frozen=True)
class IdgSampler:
    """Draws :class:`IdgParams` from the IDG keywords, as a user writes them.

    Keywords are checked and normalized once, here; :meth:`sample` only draws.
    Distributions are Keras' (see :class:`ShiftRange` for the shift forms), except that
    ``width_shift_range`` scales with the image width and moves horizontally (``tx``) and
    ``height_shift_range`` scales with the height and moves vertically (``ty``) — Keras
    swaps them — and that ``rotation_range``, ``shear_range`` and ``channel_shift_range``
    also accept ``[low, high]``.
    """

    rotation_range: RangeLike = 0.0
    width_shift_range: RangeLike = 0.0
    height_shift_range: RangeLike = 0.0
    shear_range: RangeLike = 0.0
    zoom_range: RangeLike = 0.0
    channel_shift_range: RangeLike = 0.0
    brightness_range: Sequence[Number] | None = None
    horizontal_flip: bool = False
    vertical_flip: bool = False

    _rotation: tuple[float, float] | None = field(init=False, repr=False, compare=False)
    _width_shift: ShiftRange | None = field(init=False, repr=False, compare=False)
    _height_shift: ShiftRange | None = field(init=False, repr=False, compare=False)
    _shear: tuple[float, float] | None = field(init=False, repr=False, compare=False)
    _zoom: tuple[float, float] | None = field(init=False, repr=False, compare=False)
    _channel_shift: tuple[float, float] | None = field(init=False, repr=False, compare=False)
    _brightness: tuple[float, float] | None = field(init=False, repr=False, compare=False)
    _columns: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.init:
                object.__setattr__(self, f.name, _frozen(getattr(self, f.name)))
        for name in ("horizontal_flip", "vertical_flip"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be true or false, got {getattr(self, name)!r}")
        normalized = {
            "_rotation": _signed_range(self.rotation_range, "rotation_range"),
            "_width_shift": ShiftRange.parse(self.width_shift_range, "width_shift_range"),
            "_height_shift": ShiftRange.parse(self.height_shift_range, "height_shift_range"),
            "_shear": _signed_range(self.shear_range, "shear_range"),
            "_zoom": _zoom_range(self.zoom_range),
            "_channel_shift": _signed_range(self.channel_shift_range, "channel_shift_range"),
            "_brightness": _brightness_range(self.brightness_range),
        }
        for name, value in normalized.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_columns", self._count_columns())

    def _count_columns(self) -> int | None:
        """``rng.random()`` values per draw (see :meth:`from_uniforms`); None with a list shift."""
        shifts = (self._width_shift, self._height_shift)
        if any(shift is not None and shift.choices is not None for shift in shifts):
            return None
        ranges = (self._rotation, *shifts, self._shear, self._channel_shift, self._brightness)
        zoom = 0 if self._zoom is None else 2
        flips = int(bool(self.horizontal_flip)) + int(bool(self.vertical_flip))
        return zoom + sum(bounds is not None for bounds in ranges) + flips

    @property
    def uniform_count(self) -> int | None:
        """How many ``rng.random()`` values one draw takes, or None when a shift is drawn
        from a list (``int`` or list form: the draw then also takes bounded integers)."""
        return self._columns

    def sample(self, rng: np.random.Generator, height: int, width: int) -> IdgParams:
        """Draw one :class:`IdgParams` for an image of ``height`` × ``width`` pixels."""
        if self._columns is None:
            return self._sample_one_by_one(rng, height, width)
        # One call, the same values as one call per keyword; mapped as Python floats.
        values = self._map(rng.random(self._columns).tolist(), 0.0, 1.0, False, height, width)
        theta, tx, ty, shear, zx, zy, flip_h, flip_v, shift, brightness = values
        return IdgParams(theta, tx, ty, shear, zx, zy, flip_h, flip_v, shift, brightness)

    def from_uniforms(self, uniforms: np.ndarray, height: int, width: int) -> BatchDraws:
        """The draws of ``len(uniforms)`` images from rows of ``uniform_count`` values in
        [0, 1), as :meth:`sample` makes them from ``rng.random``, one row per image.

        A column maps to its keyword as NumPy's ``uniform(low, high)`` maps its value:
        ``low + (high - low) * u``; a flip fires when ``u < 0.5``. The columns follow the
        order in which :meth:`sample` used to draw one keyword after another: zoom (x, y),
        rotation, width shift, height shift, shear, horizontal flip, vertical flip, channel
        shift, brightness — each only when it is on.
        """
        if self._columns is None:
            raise ValueError("this sampler draws a shift from a list; use sample()")
        u = np.asarray(uniforms, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != self._columns:
            raise ValueError(f"uniforms must have shape (n, {self._columns}), got {u.shape}")
        count = len(u)
        zeros, ones, no_flip = np.zeros(count), np.ones(count), np.zeros(count, dtype=bool)
        values = self._map(list(u.T), zeros, ones, no_flip, height, width)
        theta, tx, ty, shear, zx, zy, flip_h, flip_v, shift, brightness = values
        return BatchDraws(theta, tx, ty, shear, zx, zy, flip_h, flip_v, shift, brightness)

    def _map(
        self, columns: list[Any], zero: Any, one: Any, no_flip: Any, height: int, width: int
    ) -> tuple[Any, ...]:
        """The keywords' values from their columns of uniforms (see :meth:`from_uniforms`):
        Python floats for one draw, arrays for many — the same arithmetic, the same bits."""
        remaining = iter(columns)

        def uniform(bounds: tuple[float, float]) -> Any:
            low, high = bounds
            return low + (high - low) * next(remaining)

        def shift(shift_range: ShiftRange | None, size: int) -> Any:
            if shift_range is None:
                return zero
            values = uniform((-shift_range.limit, shift_range.limit))
            return values * size if shift_range.fraction else values

        zx, zy = (one, one) if self._zoom is None else (uniform(self._zoom), uniform(self._zoom))
        theta = zero if self._rotation is None else uniform(self._rotation)
        tx = shift(self._width_shift, width)
        ty = shift(self._height_shift, height)
        shear = zero if self._shear is None else uniform(self._shear)
        flip_h = next(remaining) < 0.5 if self.horizontal_flip else no_flip
        flip_v = next(remaining) < 0.5 if self.vertical_flip else no_flip
        channel_shift = None if self._channel_shift is None else uniform(self._channel_shift)
        brightness = None if self._brightness is None else uniform(self._brightness)
        return theta, tx, ty, shear, zx, zy, flip_h, flip_v, channel_shift, brightness

    def _sample_one_by_one(self, rng: np.random.Generator, height: int, width: int) -> IdgParams:
        """A draw with a shift from a list: one keyword after another, in Keras' order."""

        def uniform(bounds: tuple[float, float] | None) -> float | None:
            return None if bounds is None else float(rng.uniform(*bounds))

        zx, zy = (1.0, 1.0) if self._zoom is None else rng.uniform(*self._zoom, size=2)
        return IdgParams(
            theta=0.0 if self._rotation is None else float(rng.uniform(*self._rotation)),
            tx=0.0 if self._width_shift is None else self._width_shift.sample(rng, width),
            ty=0.0 if self._height_shift is None else self._height_shift.sample(rng, height),
            shear=0.0 if self._shear is None else float(rng.uniform(*self._shear)),
            zx=float(zx),
            zy=float(zy),
            flip_horizontal=bool(self.horizontal_flip and rng.random() < 0.5),
            flip_vertical=bool(self.vertical_flip and rng.random() < 0.5),
            channel_shift_intensity=uniform(self._channel_shift),
            brightness=uniform(self._brightness),
        )


@dataclass(frozen=True)
class BatchDraws:
    """The draws of a batch, one array entry per image: :class:`IdgParams` as columns.

    ``channel_shift`` and ``brightness`` are None when the keyword is off (every image
    then skips the step). ``geometry``, when known, is each image's 2×3 matrix (flips
    folded in), whether its geometry is the identity, and the image size ``(height,
    width)`` they hold for (``confaug.idg.batch.with_matrices``).
    """

    theta: np.ndarray
    tx: np.ndarray
    ty: np.ndarray
    shear: np.ndarray
    zx: np.ndarray
    zy: np.ndarray
    flip_horizontal: np.ndarray
    flip_vertical: np.ndarray
    channel_shift: np.ndarray | None
    brightness: np.ndarray | None
    geometry: tuple[np.ndarray, np.ndarray, tuple[int, int]] | None = None

    def __len__(self) -> int:
        return len(self.theta)

    def __getitem__(self, part: slice) -> BatchDraws:
        """The draws of images ``part`` (a slice)."""
        return self.take(part)

    def take(self, rows: slice | np.ndarray) -> BatchDraws:
        """The draws of images ``rows`` (a slice, or an array of positions), in that order."""
        shift, brightness, geometry = self.channel_shift, self.brightness, self.geometry
        if geometry is not None:
            matrices, identity, size = geometry
            geometry = (matrices[rows], identity[rows], size)
        return BatchDraws(
            theta=self.theta[rows],
            tx=self.tx[rows],
            ty=self.ty[rows],
            shear=self.shear[rows],
            zx=self.zx[rows],
            zy=self.zy[rows],
            flip_horizontal=self.flip_horizontal[rows],
            flip_vertical=self.flip_vertical[rows],
            channel_shift=None if shift is None else shift[rows],
            brightness=None if brightness is None else brightness[rows],
            geometry=geometry,
        )

    @classmethod
    def stack(cls, draws: Sequence[IdgParams]) -> BatchDraws:
        """One batch from draws made one by one (all with the same keywords on)."""

        def column(name: str, dtype: Any = np.float64) -> np.ndarray:
            return np.array([getattr(params, name) for params in draws], dtype=dtype)

        def optional(name: str) -> np.ndarray | None:
            values = [getattr(params, name) for params in draws]
            return None if any(value is None for value in values) else np.array(values, float)

        return cls(
            theta=column("theta"),
            tx=column("tx"),
            ty=column("ty"),
            shear=column("shear"),
            zx=column("zx"),
            zy=column("zy"),
            flip_horizontal=column("flip_horizontal", bool),
            flip_vertical=column("flip_vertical", bool),
            channel_shift=optional("channel_shift_intensity"),
            brightness=optional("brightness"),
        )

    def params(self, index: int) -> IdgParams:
        """Image ``index``'s draw."""
        shift, brightness = self.channel_shift, self.brightness
        return IdgParams(
            theta=float(self.theta[index]),
            tx=float(self.tx[index]),
            ty=float(self.ty[index]),
            shear=float(self.shear[index]),
            zx=float(self.zx[index]),
            zy=float(self.zy[index]),
            flip_horizontal=bool(self.flip_horizontal[index]),
            flip_vertical=bool(self.flip_vertical[index]),
            channel_shift_intensity=None if shift is None else float(shift[index]),
            brightness=None if brightness is None else float(brightness[index]),
        )
