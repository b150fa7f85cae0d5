"""Keras' ``ImageDataGenerator`` keywords as ``spec_from_keras`` takes them, and Keras' warnings."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


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
