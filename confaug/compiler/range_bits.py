"""Which value range ``value_range: auto`` reads float data in, from its largest bit pattern.

A float's bits, read as an unsigned integer of its size, order as its values do for every
value from +0.0 up, and +inf and NaN lie above every finite one; a sign bit (a negative
value, -0.0) puts a value above all of them. So one maximum over the bits says whether
every value is finite and in [0, 1], or in [0, 255] — one pass instead of a minimum and a
maximum — and when it says neither, the caller looks at the values themselves.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from confaug.errors import ValueRangeWarning

#: Per float size: its unsigned type, and the largest bit pattern within each range.
_LIMITS = {
    dtype.itemsize: (
        np.dtype(f"u{dtype.itemsize}"),
        (
            (int(np.array(1.0, dtype).view(f"u{dtype.itemsize}")), (0.0, 1.0)),
            (int(np.array(255.0, dtype).view(f"u{dtype.itemsize}")), (0.0, 255.0)),
        ),
    )
    for dtype in (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
}


def reads_bits(dtype: np.dtype[Any]) -> bool:
    """Whether arrays of ``dtype`` can be ranged by their bits: a float of 2, 4 or 8 bytes
    in the machine's byte order (the other order's bits do not order as the values)."""
    return dtype.kind == "f" and dtype.itemsize in _LIMITS and dtype.isnative


def largest_bits(values: np.ndarray) -> int:
    """The largest bit pattern among ``values`` (a float array of a :func:`reads_bits`
    dtype, any layout): one reduction over a view, nothing copied."""
    unsigned, _ = _LIMITS[values.dtype.itemsize]
    return int(np.max(values.view(unsigned)))


def value_of_bits(largest: int, dtype: np.dtype[Any]) -> float:
    """The float of ``dtype`` whose bit pattern is ``largest``."""
    unsigned, _ = _LIMITS[dtype.itemsize]
    return float(np.array(largest, unsigned).view(dtype))


def range_of_bits(largest: int, dtype: np.dtype[Any]) -> tuple[float, float] | None:
    """``(0.0, 1.0)`` when values of ``dtype`` whose largest bit pattern is ``largest`` are
    all finite and in [0, 1], ``(0.0, 255.0)`` when in [0, 255], else None (the values must
    be looked at: a negative or non-finite one, or one beyond 255)."""
    _, limits = _LIMITS[dtype.itemsize]
    for bits, bounds in limits:
        if largest <= bits:
            return bounds
    return None


#: Float data whose largest value is above 1 but at most this is more likely [0, 1] data that
#: overshoots (a bicubic resize, a brightness change) than 0-255 data as dark as that.
_JUST_ABOVE_ONE = 2.0


def warn_if_just_above_one(high: float) -> None:
    """A :class:`~confaug.errors.ValueRangeWarning` when ``value_range: auto`` reads data
    whose largest value is ``high`` as 0-255 data although ``high`` is only just above 1
    (any value above 1 is read as 0-255, so callers need not check the range they found).

    The message is the same every time, so Python's warning filter shows it once per
    process rather than once per batch of a stream."""
    if 1.0 < high <= _JUST_ABOVE_ONE:
        warnings.warn(
            "value_range: auto read float data whose largest value lies in (1, 2] as 0-255 "
            "data (it takes [0, 1] only when no value is above 1), so noise, fills and clips "
            "are scaled for 255. If the data is [0, 1] that overshoots (e.g. after a bicubic "
            "resize), set value_range: [0, 1] in the config; if it is 0-255, set "
            "value_range: [0, 255] to say so",
            ValueRangeWarning,
            stacklevel=2,
        )
