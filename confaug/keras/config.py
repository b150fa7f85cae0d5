"""Keras' ``ImageDataGenerator`` keywords as ``spec_from_keras`` takes them, and Keras' warnings."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from confaug.spec.model import KERAS_KEYWORDS, Spec

#: Keras' defaults of its constructor keywords (the attributes a generator shows for the
#: ones not given): the spec's defaults, but for the two the spec leaves open (None: the
#: input's dtype, the warp's own interpolation) where Keras has a value.
KERAS_DEFAULTS: dict[str, Any] = {
    **{name: Spec.model_fields[name].default for name in KERAS_KEYWORDS},
    "interpolation_order": 1,
    "dtype": "float32",
}


def keras_zoom_range(value: Any) -> Any:
    """``zoom_range`` as Keras keeps it: ``[1 - z, 1 + z]`` for a number, else the pair as
    a list."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [1 - value, 1 + value]
    return list(value)


def keras_attribute(keywords: dict[str, Any], name: str) -> Any:
    """The attribute ``name`` as Keras' generator keeps it after its constructor: the keyword
    (or its default), ``zoom_range`` as a pair, and the normalization flags as the others
    imply them (``zca_whitening`` sets ``featurewise_center`` and clears
    ``featurewise_std_normalization``; each ``*_std_normalization`` sets its ``*_center``)."""
    value = keywords.get(name, KERAS_DEFAULTS[name])
    zca = bool(keywords.get("zca_whitening"))
    if name == "zoom_range":
        return keras_zoom_range(value)
    if name == "featurewise_center":
        return bool(value) or zca or bool(keywords.get("featurewise_std_normalization"))
    if name == "featurewise_std_normalization":
        return bool(value) and not zca
    if name == "samplewise_center":
        return bool(value) or bool(keywords.get("samplewise_std_normalization"))
    return value


def keras_keywords(keywords: dict[str, Any]) -> dict[str, Any]:
    """The constructor's keywords for ``spec_from_keras``.

    A keyword given as None takes its default, as in Keras, except ``brightness_range`` (None
    is its "off" value); ``dtype`` defaults to Keras' floatx and is passed by name.
    """
    keywords = {k: v for k, v in keywords.items() if v is not None or k == "brightness_range"}
    keywords["dtype"] = dtype_name(keywords.get("dtype", "float32"))
    return keywords


def warn_implied_flags(keywords: dict[str, Any]) -> None:
    """Keras' warnings when one normalization keyword overrides another.

    Called from ``ImageDataGenerator.__init__``, so the warnings point at the constructor's
    caller.
    """
    implied = []
    if keywords.get("zca_whitening"):
        if not keywords.get("featurewise_center"):
            implied.append("zca_whitening turns featurewise_center on")
        if keywords.get("featurewise_std_normalization"):
            implied.append("zca_whitening turns featurewise_std_normalization off")
    elif keywords.get("featurewise_std_normalization") and not keywords.get("featurewise_center"):
        implied.append("featurewise_std_normalization turns featurewise_center on")
    if keywords.get("samplewise_std_normalization") and not keywords.get("samplewise_center"):
        implied.append("samplewise_std_normalization turns samplewise_center on")
    for message in implied:
        warnings.warn(f"This ImageDataGenerator specifies {message} (as Keras)", stacklevel=3)


def dtype_name(dtype: Any) -> Any:
    """``np.float64``, ``np.dtype("float64")`` or ``"float"`` as the name ``"float64"``
    (None stays None)."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype).name
    except TypeError:
        return dtype  # e.g. a framework dtype with a .name, which spec_from_keras reads
