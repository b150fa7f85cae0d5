"""Keras' checks of ``flow``'s arrays: ``(images, extra_inputs)``, rank and channels, and
the validation split's subsets."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from confaug.keras.raw_units import keras_values


def split_inputs(x: Any) -> tuple[Any, list[np.ndarray]]:
    """Keras' ``x``: images, or a tuple/list ``(images, extra)`` of them and extra inputs."""
    if not isinstance(x, (tuple, list)):
        return x, []
    if len(x) != 2:
        raise ValueError(
            "x given as a tuple or list must be (images, extra_inputs), extra_inputs one "
            f"array or a list of arrays passed through unchanged; got {len(x)} elements"
        )
    extra = x[1] if isinstance(x[1], list) else [x[1]]
    return x[0], [np.asarray(values) for values in extra]


def images_of(images: Any, data_format: str, stacklevel: int) -> np.ndarray:
    """``images`` as a rank-4 array (integers other than uint8 as floats, as Keras).

    A channel count other than 1, 3 or 4 is allowed with Keras' warning, raised
    ``stacklevel`` frames up from this function's caller.
    """
    images = keras_values(images)
    if images.ndim != 4:
        raise ValueError(f"x must have rank 4 (a batch of images); got shape {images.shape}")
    axis = 1 if data_format == "channels_first" else 3
    if images.shape[axis] not in (1, 3, 4):
        warnings.warn(
            f"x has shape {images.shape}: {images.shape[axis]} channels on axis {axis} "
            f"({data_format}), where 1, 3 or 4 are expected",
            stacklevel=stacklevel,
        )
    return images


def check_subset(subset: str | None) -> str | None:
    """``subset``, when it is 'training', 'validation' or None."""
    if subset not in (None, "training", "validation"):
        raise ValueError(f"subset={subset!r}; expected 'training', 'validation' or None")
    return subset


def check_class_split(y: np.ndarray, cut: int) -> None:
    """Keras' guard: both subsets must hold the same labels (not checked for float targets)."""
    if y.dtype.kind in "fc":
        return  # regression targets or one-hot rows: Keras' check means nothing there
    try:
        same = np.array_equal(np.unique(y[:cut]), np.unique(y[cut:]))
    except TypeError:  # unorderable mixed labels
        return
    if same:
        return
    if cut == 0:
        raise ValueError("subset needs ImageDataGenerator(validation_split=...) above 0")
    raise ValueError(
        f"the validation subset (first {cut} samples) and the training subset hold "
        "different labels; shuffle x and y before splitting, or pass ignore_class_split=True"
    )
