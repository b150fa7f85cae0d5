"""The iterator over no images, which Keras returns where confaug's sources would raise.

Keras prints "Found 0 images ..." and returns a working iterator of length 0 for an empty
folder, a table whose rows are all invalid, or a subset with no samples, keeping
``class_indices`` (from ``classes=`` when given). confaug's sources refuse to be empty, so
the drop-in serves these cases with :class:`EmptyBatches` in place of a ``BatchGenerator``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _NoSamples:
    """The ``source`` of :class:`EmptyBatches`: no samples, Keras' file attributes."""

    def __init__(self, attributes: dict[str, Any]) -> None:
        self.__dict__.update(attributes)

    def __len__(self) -> int:
        return 0


class EmptyBatches:
    """What a ``BatchGenerator`` with no samples would be: ``len()`` 0, no batch to index,
    and ``next()`` giving Keras' empty batch (0 images of ``image_shape``, empty labels).
    """

    def __init__(
        self,
        *,
        image_shape: tuple[int, ...],
        dtype: str,
        class_mode: str | None,
        num_classes: int,
        outputs: int = 1,
        weighted: bool = False,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        attributes = {"filenames": [], "filepaths": [], "samples": 0, **(attributes or {})}
        attributes.setdefault("classes", np.zeros(0, np.int32))
        attributes.setdefault("labels", attributes["classes"])
        self.source = _NoSamples(attributes)
        self.batch_size, self.shuffle, self.seed, self.epoch = batch_size, shuffle, seed, 0
        self._shape = (0, *image_shape)
        self._dtype = dtype
        self._class_mode = class_mode
        self._num_classes = num_classes
        self._outputs = outputs
        self._weighted = weighted

    def __len__(self) -> int:
        return 0

    def __getitem__(self, index: int) -> Any:
        raise IndexError(f"batch {index} out of range; there are no samples")

    def __next__(self) -> Any:
        x = np.zeros(self._shape, self._dtype)
        if self._class_mode is None:
            return x
        y: Any
        if self._class_mode == "input":
            y = x.copy()
        elif self._class_mode == "categorical":
            y = np.zeros((0, self._num_classes), self._dtype)
        elif self._class_mode == "multi_output":
            y = [np.zeros(0) for _ in range(self._outputs)]
        else:  # binary, sparse, raw
            y = np.zeros(0, self._dtype)
        return (x, y, np.zeros(0)) if self._weighted else (x, y)

    def __iter__(self) -> EmptyBatches:
        return self

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def close(self) -> None:
        """Nothing runs ahead: ``reset()`` has nothing to stop."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "source" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.source, name)
