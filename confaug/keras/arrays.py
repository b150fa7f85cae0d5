"""Keras' checks of ``flow``'s arrays: ``(images, extra_inputs)``, lengths, rank and channels,
and the validation split's subsets; :class:`ExtraInputs` puts the extra inputs back.

Error messages hold Keras' own sentences (code and tests match on them) after confaug's
plainer statement of the problem.
"""

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


def check_lengths(
    images: Any, extra: list[np.ndarray], y: np.ndarray | None, weights: np.ndarray | None
) -> None:
    """Every array has one entry per image; checked in Keras' order (extra inputs, y, w)."""
    count = len(images)
    for position, values in enumerate(extra, start=1):
        if len(values) != count:
            raise ValueError(
                f"x[1] (extra input {position}) has {len(values)} samples for {count} images. "
                "All of the arrays in `x` should have the same length. Found a pair with: "
                f"len(x[0]) = {count}, len(x[?]) = {len(values)}"
            )
    for name, given in (("y", y), ("sample_weight", weights)):
        if given is not None and np.ndim(given) == 0:  # len() would say "unsized object"
            raise ValueError(f"{name} is a single value ({given!r}); give one per image")
        if given is not None and len(given) != count:
            keras_name = "`y` (labels)" if name == "y" else "`sample_weight`"
            raise ValueError(
                f"{name} has {len(given)} entries for {count} images. `x` (images tensor) "
                f"and {keras_name} should have the same length. Found: x.shape = "
                f"{np.shape(images)}, {name}.shape = {np.shape(given)}"
            )


def images_of(images: Any, data_format: str, stacklevel: int) -> np.ndarray:
    """``images`` as a rank-4 array (integers other than uint8 as floats, as Keras).

    A channel count other than 1, 3 or 4 is allowed with Keras' warning, raised
    ``stacklevel`` frames up from this function's caller.
    """
    images = keras_values(images)
    if images.ndim != 4:
        raise ValueError(
            f"x must be a batch of images (rank 4); got shape {images.shape}. Input data in "
            "`NumpyArrayIterator` should have rank 4. You passed an array with shape "
            f"{images.shape}"
        )
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
        raise ValueError(
            f"subset={subset!r}; expected 'training', 'validation' or None. "
            f'Invalid subset name: {subset}; expected "training" or "validation".'
        )
    return subset


def check_class_split(y: np.ndarray, cut: int) -> None:
    """Keras' guard: both subsets must hold the same labels.

    Labels are compared as Keras compares them (their unique values, one-hot rows
    included), also when they are floats holding whole numbers (class ids stored as
    floats). Other float targets are regression values, which Keras always refuses here;
    confaug lets them through.
    """
    if y.dtype.kind in "fc" and not _whole_numbers(y):
        return
    try:
        same = np.array_equal(np.unique(y[:cut]), np.unique(y[cut:]))
    except TypeError:  # unorderable mixed labels
        return
    if same:
        return
    if cut == 0:
        raise ValueError("subset needs ImageDataGenerator(validation_split=...) above 0")
    raise ValueError(
        f"the validation subset (the first {cut} samples) and the training subset hold "
        "different labels. Training and validation subsets have different number of classes "
        "after the split. If your numpy arrays are sorted by the label, you might want to "
        "shuffle them (or pass ignore_class_split=True)."
    )


def _whole_numbers(values: np.ndarray) -> bool:
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isfinite(values) & (values == np.round(values))))


class ExtraInputs:
    """Keras' batch with extra inputs, ``([x, *extra], y[, w])``, from a confaug batch
    ``(x, indices)`` whose labels are the sample indices."""

    def __init__(
        self, extra: list[np.ndarray], labels: np.ndarray | None, weights: np.ndarray | None
    ) -> None:
        self.extra = extra
        self.labels = labels
        self.weights = weights

    def __call__(self, batch: tuple[np.ndarray, np.ndarray]) -> Any:
        x, indices = batch
        inputs = [x, *(values[indices] for values in self.extra)]
        if self.labels is None:
            return inputs
        if self.weights is None:
            return inputs, self.labels[indices]
        return inputs, self.labels[indices], self.weights[indices]
