"""Shared vocabulary of specs: fill modes, interpolations, data formats, ranges."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from confaug.reading.document import QUOTE_LIMIT, clipped

DataFormat = Literal["channels_last", "channels_first"]
FillMode = Literal["constant", "nearest", "reflect", "wrap"]
InterpolationName = Literal["nearest", "bilinear", "bicubic", "area", "lanczos"]
OutputDtype = Literal["uint8", "uint16", "float16", "float32", "float64"]

#: The top-level key a JSON (or YAML) config may hold to name the JSON Schema an editor checks
#: it with (VS Code's way for JSON files, which have no modeline); it is not part of the spec.
SCHEMA_KEY = "$schema"

# OpenCV constants, written out so that the spec layer needs no cv2 import.
BORDER_MODES: dict[str, int] = {
    "constant": 0,  # cv2.BORDER_CONSTANT
    "nearest": 1,  # cv2.BORDER_REPLICATE
    "replicate": 1,
    "reflect": 2,  # cv2.BORDER_REFLECT: edge pixel repeated, as scipy's 'reflect'
    "wrap": 3,  # cv2.BORDER_WRAP
    "reflect_101": 4,  # cv2.BORDER_REFLECT_101, albumentations' usual default
}
INTERPOLATIONS: dict[str, int] = {
    "nearest": 0,  # cv2.INTER_NEAREST
    "bilinear": 1,  # cv2.INTER_LINEAR
    "bicubic": 2,  # cv2.INTER_CUBIC
    "area": 3,  # cv2.INTER_AREA
    "lanczos": 4,  # cv2.INTER_LANCZOS4
}
# Keras' scipy spline orders mapped to the nearest OpenCV interpolation.
ORDER_TO_INTERPOLATION: dict[int, str] = {
    0: "nearest",
    1: "bilinear",
    2: "bicubic",
    3: "bicubic",
    4: "lanczos",
    5: "lanczos",
}

_NUMBER_SCHEMA = {"type": "number"}
_PAIR_SCHEMA = {"type": "array", "items": _NUMBER_SCHEMA, "minItems": 2, "maxItems": 2}


class HintedError(ValueError):
    """A validator's ValueError that also carries a hint (``Problem.hint``), e.g. a fix."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _number(value: Any, what: str = "a number") -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be {what}, got {describe(value)}")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    return value


def error_location(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[str | int, ...], list[str]]:
    """Pydantic's error location ``loc`` over ``data`` split into the path in the data and
    the names of the union members (``'tuple[float, float]'``) the value at that path was
    checked against: those after the path's last part (a member named before it was checked
    item by item)."""
    path: list[str | int] = []
    members: list[str] = []
    node: Any = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
            path.append(part)
            members = []
        elif isinstance(part, str):
            members.append(part)
    return tuple(path), members


def describe(value: Any) -> str:
    """How a problem names the value it got: ``the string '0.5'``, ``the boolean true``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        if len(value) > QUOTE_LIMIT:  # the start of a long string is enough to find it
            return f"the string {value[:QUOTE_LIMIT]!r}… ({len(value):,} characters)"
        return f"the string {value!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    return clipped(repr(value))


_QUOTED = re.compile(r"'([^']*)'")


def literal_hint(item: Any) -> str | None:
    """A did-you-mean for a string that is not one of a Literal's values (a Pydantic error)."""
    from confaug.errors import did_you_mean

    expected = _QUOTED.findall(str(item.get("ctx", {}).get("expected", "")))
    given = item.get("input")
    return did_you_mean(given, expected) if isinstance(given, str) and expected else None


#: Names written for a key out of habit or from another library, too far from the key for
#: a did-you-mean to find ("prob" shares one letter with "p"): name → the key meant. Asked by
#: :func:`key_hint` for an unknown key, where the key meant is one of the choices.
KEY_ALIASES: dict[str, str] = {"prob": "p", "probability": "p", "zoom": "zoom_range"}


def key_hint(key: Any, choices: Iterable[str]) -> str | None:
    """The did-you-mean of an unknown key among ``choices``: its alias (``KEY_ALIASES``) when
    the key meant is one of them, else the closest choice."""
    from confaug.errors import did_you_mean

    choices = list(choices)
    word = str(key)  # a key from Python need not be a string
    meant = KEY_ALIASES.get(word.lower())
    if meant in choices:
        return f"did you mean '{meant}'?"
    return did_you_mean(word, choices)


# Bounds that keep a hostile config from hanging or overflowing the warp: OpenCV walks
# reflected borders step by step, so a shift of 10^9 pixels takes minutes per image, and
# uniform(-1e308, 1e308) overflows to NaN. Each is far beyond any useful augmentation.
MAX_DEGREES = 360
MAX_SHEAR_DEGREES = 89  # tan(90°) is infinite
MAX_PIXELS = 32767  # OpenCV's own limit on image sides and coordinates

#: The keyword arguments of ``Pipeline.__call__`` besides the targets (``seed``): a target
#: (``additional_targets``) of one of these names could never be passed. Kept here, in the
#: spec layer, which cannot import the compiler; tests/test_probe_reading.py checks it
#: against the signature.
CALL_KEYWORDS = frozenset({"seed"})
MAX_ZOOM = 100
MAX_CHANNEL_SHIFT = 255
MAX_RESCALE = 1e6  # generous (configs use 1/255, 1/127.5); keeps x * rescale far from float32 max
MAX_CVAL = 1e9  # a fill value, as a transform's numbers: finite through any interpolation
# A float image's value range: the pipeline works in float32 on (x - low) / (high - low), so
# the ends stay far inside float32's 3.4e38 and the span must be one float32 can divide by.
MAX_VALUE = 1e30
MIN_RELATIVE_SPAN = 1e-6  # float32 has ~7 digits: a narrower range cannot tell values apart
FLOAT16_MAX = 65504.0


def checked_value_range(value: Any) -> Any:
    """``'auto'``, or ``[low, high]`` with low < high inside ±1e30, wide enough for float32."""
    if value == "auto" and isinstance(value, str):
        return value
    low, high = _pair(value, low_bound=None, limit=MAX_VALUE, what="'auto' or a [low, high] pair")
    span = high - low
    if span <= 0 or span < MIN_RELATIVE_SPAN * max(abs(low), abs(high)) or span < 1e-30:
        raise ValueError(
            f"[low, high] must have low < high and span a range float32 can divide by "
            f"(high - low ≥ {MIN_RELATIVE_SPAN:g} × the larger end), got [{low:.9g}, {high:.9g}]"
        )
    return [low, high]


def _pair(
    value: Any,
    *,
    low_bound: float | None,
    strict_low: bool = False,
    limit: float | None = None,
    what: str = "a [low, high] pair",
) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"must be {what}, got {describe(value)}")
    low, high = (_number(v, "a number") for v in value)
    if low > high:
        raise ValueError(f"[low, high] must have low ≤ high, got [{low}, {high}]")
    if low_bound is not None and (low < low_bound or (strict_low and low == low_bound)):
        relation = ">" if strict_low else "≥"
        raise ValueError(f"low must be {relation} {low_bound}, got {low}")
    if limit is not None:
        _within(low, limit)
        _within(high, limit)
    return [low, high]


def _within(number: float, limit: float) -> float:
    if abs(number) > limit:
        raise ValueError(f"must be within ±{limit:g}, got {number:g}")
    return number


def _symmetric(value: Any, limit: float) -> float | int | list[float]:
    """A number r ≥ 0 meaning [-r, r], or an explicit [low, high]; |values| ≤ ``limit``."""
    what = "a number ≥ 0 or a [low, high] pair"
    if isinstance(value, (list, tuple)):
        return _pair(value, low_bound=None, limit=limit, what=what)
    number = _number(value, what)
    if number < 0:
        raise ValueError(f"must be ≥ 0 (it means the range [-r, r]), got {number}")
    return _within(number, limit)


def rotation_range(value: Any) -> float | int | list[float]:
    """Degrees: r ≥ 0 meaning [-r, r], or [low, high], within ±360."""
    return _symmetric(value, MAX_DEGREES)


def shear_range(value: Any) -> float | int | list[float]:
    """Shear degrees: s ≥ 0 meaning [-s, s], or [low, high], within ±89."""
    return _symmetric(value, MAX_SHEAR_DEGREES)


def shift_range(value: Any) -> float | int | list[float | int]:
    """Keras' shift forms: a float (uniform), an int or a list of values (choice × ±1)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("must not be an empty list")
        return [_within(_number(v, "a list of numbers"), MAX_PIXELS) for v in value]
    number = _number(value, "a number ≥ 0 or a list of numbers")
    if number < 0:
        raise ValueError(f"must be ≥ 0, got {number}")
    return _within(number, MAX_PIXELS)


def zoom_range(value: Any) -> float | int | list[float]:
    """A number z in [0, 1) meaning [1 - z, 1 + z], or [low, high] with 0 < low ≤ high ≤ 100."""
    what = "a number in [0, 1) or a [low, high] pair"
    if isinstance(value, (list, tuple)):
        return _pair(value, low_bound=0.0, strict_low=True, limit=MAX_ZOOM, what=what)
    number = _number(value, what)
    if not 0 <= number < 1:
        # z ≥ 1 would make 1 - z ≤ 0; such a value is most likely the largest factor wanted.
        hint = None
        if number > 1:
            hint = f"to zoom by factors up to {number:g}, write [{1 / number:.3g}, {number:g}]"
        elif number == 1:
            hint = "for explicit zoom factors write [low, high], e.g. [0.8, 1.2]"
        raise HintedError(
            f"a single zoom value z means [1 - z, 1 + z] and must be in [0, 1), got {number}",
            hint,
        )
    return number


#: The least brightness factor (0 makes the image black; a negative one would invert it):
#: what ``factor_range`` refuses below, and what the JSON Schema states for each item.
MIN_FACTOR = 0


def factor_range(value: Any) -> list[float] | None:
    """None, or a [low, high] pair of non-negative factors (brightness)."""
    if value is None:
        return None
    what = "a [low, high] pair of brightness factors (1.0 keeps the image as it is)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Keras takes only a pair; a single number is most often meant as ±value around 1.
        raise HintedError(f"must be {what}, got {describe(value)}", _factor_hint(value))
    return _pair(value, low_bound=MIN_FACTOR, what=what)


def _factor_hint(number: float) -> str:
    """The pair a single brightness number most likely stood for."""
    if 0 < number < 1:
        low, high = 1 - number, 1 + number
        return f"for up to {number * 100:.6g}% darker or brighter, write [{low:.6g}, {high:.6g}]"
    if number > 1 and math.isfinite(number):
        return f"for factors up to {number:g}, write [{1 / number:.3g}, {number:g}]"
    if number == 0:
        return "leave brightness_range out for no change of brightness"
    return "e.g. [0.8, 1.2] for up to 20% darker or brighter"


def _fraction(value: Any) -> Any:
    """``"1/255"`` → 1/255; numbers pass through (YAML has no arithmetic); |value| ≤ MAX_RESCALE."""
    what = "a number or a fraction like '1/255'"
    if isinstance(value, str) and value.count("/") == 1:
        top, bottom = value.split("/")
        try:
            value = float(top) / float(bottom)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"must be {what}, got {value!r}") from None
    if value is None:
        return None
    return _within(_number(value, what), MAX_RESCALE)


def _bounded_pair(limit: float) -> dict[str, Any]:
    number = {"type": "number", "minimum": -limit, "maximum": limit}
    return {"type": "array", "items": number, "minItems": 2, "maxItems": 2}


RotationRange = Annotated[
    Any,
    BeforeValidator(rotation_range),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_DEGREES},
                _bounded_pair(MAX_DEGREES),
            ]
        }
    ),
]
ShearRange = Annotated[
    Any,
    BeforeValidator(shear_range),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_SHEAR_DEGREES},
                _bounded_pair(MAX_SHEAR_DEGREES),
            ]
        }
    ),
]
ShiftRange = Annotated[
    Any,
    BeforeValidator(shift_range),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_PIXELS},
                {
                    "type": "array",
                    "items": {"type": "number", "minimum": -MAX_PIXELS, "maximum": MAX_PIXELS},
                    "minItems": 1,
                },
            ]
        }
    ),
]
ZoomRange = Annotated[
    Any,
    BeforeValidator(zoom_range),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                {
                    "type": "array",
                    "items": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_ZOOM},
                    "minItems": 2,
                    "maxItems": 2,
                },
            ]
        }
    ),
]
FactorRange = Annotated[
    Any,
    BeforeValidator(factor_range),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "null"},
                {**_PAIR_SCHEMA, "items": {**_NUMBER_SCHEMA, "minimum": MIN_FACTOR}},
            ]
        }
    ),
]
Rescale = Annotated[
    Any,
    BeforeValidator(_fraction),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "null"},
                {"type": "number", "minimum": -MAX_RESCALE, "maximum": MAX_RESCALE},
                {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*/\s*[0-9.eE+-]+\s*$"},
            ]
        }
    ),
]
ChannelShift = Annotated[float, Field(ge=0, le=MAX_CHANNEL_SHIFT, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
