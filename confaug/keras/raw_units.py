"""Float data of any value range, kept in its own units as Keras keeps it.

Keras works on raw values, so its ``cval`` and channel shift are in the data's units.
confaug's pipeline reads float data as [0, 1] or [0, 255]; for float data beyond that, the
data's range [low, high] (``cval`` included) is mapped onto the working range, and ``cval``
and the channel shift are rescaled so that they keep the data's units.
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import Any

import numpy as np

from confaug.api import load_spec
from confaug.compiler.pipeline import Pipeline
from confaug.compiler.values import Scale, infer_scale
from confaug.spec.model import Spec


def keras_values(x: Any) -> np.ndarray:
    """``x`` as an array; integer types other than uint8 become float32, as in Keras."""
    array = np.asarray(x)
    if array.dtype != np.uint8 and array.dtype.kind in "biu":
        array = array.astype(np.float32)
    return array


def raw_range(spec: Spec, x: np.ndarray) -> tuple[float, float, float] | None:
    """``(low, high, cval)`` for float data outside [0, 255] (cval included), else None."""
    if x.dtype.kind != "f" or x.size == 0 or spec.value_range != "auto":
        return None
    return raw_limits(spec, float(np.min(x)), float(np.max(x)))


def raw_limits(spec: Spec, low: float, high: float) -> tuple[float, float, float] | None:
    """``(low, high, cval)`` for float values spanning ``[low, high]`` beyond [0, 255]
    (a constant fill's cval counted among them) with ``value_range: auto``, else None (as
    for non-finite bounds)."""
    if spec.value_range != "auto" or not (math.isfinite(low) and math.isfinite(high)):
        return None
    cval = float(spec.cval)
    if low >= 0.0 and high <= 255.0 and not fills_beyond_bytes(spec):
        return None
    low, high = min(low, cval), max(high, cval)
    return low, max(high, low + 1.0), cval  # a constant image still needs a span


def fills_beyond_bytes(spec: Spec) -> bool:
    """Whether a constant fill's ``cval`` lies beyond 0–255: Keras fills with that value
    itself, in the data's units, so float data is then worked on in raw units."""
    return spec.fill_mode == "constant" and not 0.0 <= spec.cval <= 255.0


#: Raw-unit pipelines compiled so far, per pipeline and range (the last few: a flow per
#: batch of raw data would otherwise compile a pipeline per batch).
_RAW_PIPELINES: weakref.WeakKeyDictionary[Pipeline, dict[tuple[float, ...], Pipeline]] = (
    weakref.WeakKeyDictionary()
)
_RAW_PIPELINES_KEPT = 8
_RAW_LOCK = threading.Lock()


def pipeline_for(spec: Spec, pipeline: Pipeline, x: np.ndarray) -> Pipeline:
    """``pipeline``, or for float data beyond [0, 255] one working in the data's range
    (:func:`raw_pipeline`)."""
    limits = raw_range(spec, x)
    return pipeline if limits is None else raw_pipeline(spec, pipeline, limits)


def raw_pipeline(spec: Spec, pipeline: Pipeline, limits: tuple[float, float, float]) -> Pipeline:
    """``pipeline`` working in the raw range ``limits`` (:func:`raw_limits`).

    The new pipeline is compiled from ``spec`` with ``value_range`` set to the data's range
    and ``cval`` and ``channel_shift_range`` rescaled (once per range: it is kept); it
    shares ``pipeline``'s standardizer (and so ``fit``'s statistics).
    """
    with _RAW_LOCK:
        kept = _RAW_PIPELINES.setdefault(pipeline, {})
        raw = kept.get(limits)
    if raw is None:
        low, high, cval = limits
        span = high - low
        shift = min(spec.channel_shift_range * 255.0 / span, 255.0)
        data = {**spec.to_data(), "value_range": [low, high]}
        data.update(cval=(cval - low) * 255.0 / span, channel_shift_range=shift)
        raw = Pipeline(load_spec(data))
        with _RAW_LOCK:
            if len(kept) >= _RAW_PIPELINES_KEPT:
                kept.pop(next(iter(kept)))
            kept[limits] = raw
    raw.standardizer = pipeline.standardizer
    return raw


class KerasUnitsPipeline(Pipeline):
    """The drop-in's pipeline: float data whose bounds lie beyond [0, 255] is worked on in
    its own units (:func:`raw_pipeline`), as Keras works on it, where a ``Pipeline``
    refuses bounds that fit neither [0, 1] nor [0, 255].

    The loader asks for the range of a source's floats when it first needs it
    (``Pipeline.for_value_bounds``), so a ``flow()`` need not look at its values when it is
    made: the seed's per-batch ``flow()`` has its one batch read as it is augmented.
    """

    @property
    def augments_batches(self) -> bool:
        """``Pipeline.augments_batches``, but never with a constant fill beyond 0–255:
        Keras fills with that value itself, so every float batch goes through
        :meth:`for_value_bounds` (raw units), not a batch that finds its own range."""
        return super().augments_batches and not fills_beyond_bytes(self.spec)

    def for_value_bounds(self, low: float, high: float) -> Pipeline:
        """``Pipeline.for_value_bounds``, or the raw-units pipeline for bounds beyond
        [0, 255] (a constant fill's cval counted among them)."""
        limits = raw_limits(self.spec, low, high)
        if limits is None:
            return super().for_value_bounds(low, high)
        return raw_pipeline(self.spec, self, limits)


def image_units(
    spec: Spec, image: np.ndarray, params: dict[str, Any]
) -> tuple[Scale | None, float, dict[str, Any]]:
    """The working scale (None for uint8) and ``cval`` for one HWC image, with Keras' ``params``.

    ``params`` is returned with its channel shift in working units when the image is in raw
    units (as :func:`pipeline_for` does for a batch); it is not changed in place.
    """
    params = dict(params)
    limits = raw_range(spec, image)
    if limits is None:
        return infer_scale(image, spec.value_range), spec.cval, params
    low, high, cval = limits
    if params.get("channel_shift_intensity") is not None:
        params["channel_shift_intensity"] *= 255.0 / (high - low)
    return Scale(low, high, image.dtype), (cval - low) * 255.0 / (high - low), params
