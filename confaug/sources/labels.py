"""Keras ``class_mode`` semantics: how per-sample labels become a batch's ``y``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from confaug.sources.base import YMode

CLASSIFICATION_MODES = ("categorical", "binary", "sparse")
DIRECTORY_CLASS_MODES = (*CLASSIFICATION_MODES, "input", None)
DATAFRAME_CLASS_MODES = (*DIRECTORY_CLASS_MODES, "raw", "multi_output")


class ClassLabels:
    """Class indices per sample (a list of indices for multi-label rows), encoded per mode."""

    def __init__(
        self, class_mode: str, classes: Sequence[Any] | np.ndarray, num_classes: int
    ) -> None:
        self.class_mode = class_mode
        self.num_classes = num_classes
        multi = any(isinstance(c, (list, tuple)) for c in classes)
        self.classes: Any = list(classes) if multi else np.asarray(classes, dtype=np.int32)

    def batch(self, indices: np.ndarray) -> np.ndarray:
        """``y`` for these samples: one-hot (categorical) or float class index."""
        if self.class_mode == "categorical":
            y = np.zeros((len(indices), self.num_classes), dtype=np.float32)
            for row, index in enumerate(indices):
                y[row, self.classes[index]] = 1.0
            return y
        return np.asarray(self.classes[indices], dtype=np.float32)


class RawLabels:
    """Values taken as they are: one array (``raw``) or a list of arrays (``multi_output``)."""

    def __init__(self, values: np.ndarray | list[np.ndarray]) -> None:
        self.values = values

    def batch(self, indices: np.ndarray) -> np.ndarray | list[np.ndarray]:
        """``y`` for these samples."""
        if isinstance(self.values, list):
            return [column[indices] for column in self.values]
        return self.values[indices]


def check_class_mode(class_mode: str | None, allowed: Sequence[str | None]) -> None:
    """Raise ValueError naming the allowed modes when ``class_mode`` is not one of them."""
    if class_mode not in allowed:
        raise ValueError(f"class_mode={class_mode!r}; expected one of {list(allowed)}")


def y_mode_of(class_mode: str | None) -> YMode:
    """How a batch's ``y`` is made under a Keras ``class_mode``."""
    if class_mode is None:
        return "none"
    return "input" if class_mode == "input" else "labels"
