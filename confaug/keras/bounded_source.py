"""An ``ArraySource`` whose value bounds the drop-in has found already.

``flow`` looks at the values once, for Keras' raw-unit check (``raw_units.extremes``); the
source then takes those bounds instead of scanning the array again when its first batch is
loaded. The seed's ``create_aug_gen`` builds a ``flow`` per batch, so every scan counts.
Imported when a flow is built, so that ``import confaug.keras`` loads no data sources.
"""

from __future__ import annotations

from typing import Any

from confaug.sources.arrays import ArraySource


class BoundedArraySource(ArraySource):
    """:class:`ArraySource` with ``value_bounds`` given: the finite ``(low, high)`` of ``x``
    (as ``ArraySource.value_bounds`` would find them), or the range they lie in (as
    ``ArraySource.range_bounds`` finds it), or None. ``finite``: the caller saw
    that every value is finite (its minimum and maximum are), so no sample is looked at
    for NaN again."""

    def __init__(
        self,
        *args: Any,
        bounds: tuple[float, float] | None,
        finite: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(*args, **options)
        # Kept as found bounds: range_bounds() and value_bounds() both return them (the
        # latter so the range when that is what was given; the range is all a flow needs).
        self._bounds, self._bounds_found, self._finite = bounds, True, finite
