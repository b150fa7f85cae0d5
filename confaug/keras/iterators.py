"""The iterators ``confaug.keras.ImageDataGenerator``'s ``flow*`` methods return.

:class:`KerasIterator` gives a confaug ``BatchGenerator`` the API of Keras' legacy iterators
and becomes a ``keras.utils.PyDataset`` when Keras is installed (Keras is imported on the
first iterator, not with this module); :class:`SavingGenerator` adds ``save_to_dir``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


def with_saving(generator: Any, directory: Any, prefix: str, extension: str) -> Any:
    """``generator``, wrapped to save its batches when ``directory`` is given."""
    if directory is None:
        return generator
    return SavingGenerator(generator, directory=directory, prefix=prefix, extension=extension)


class KerasIterator:
    """Keras' legacy iterator API over a confaug ``BatchGenerator``.

    ``len()``, ``[i]`` (batch ``i`` of the current epoch) and ``on_epoch_end`` make it a
    Keras ``PyDataset`` (it is one when Keras is installed); ``next()`` continues one endless
    stream, and ``iter()`` returns the iterator itself, as Keras. ``reset()`` makes ``next()``
    start again at the epoch's first batch. ``n`` is the number of samples; any other
    attribute is the generator's (``class_indices``, ``filenames``, ``classes``, ...).
    """

    def __init__(
        self,
        generator: Any,
        *,
        extra: list[np.ndarray] | None = None,
        labels: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        label_dtype: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # PyDataset's defaults: Keras loads batches in its own thread
        self._generator = generator
        self._extra = extra
        self._labels = labels
        self._weights = weights
        self._label_dtype = label_dtype
        self._next_lock = threading.Lock()  # Keras' iterators allow next() from any thread
        self.__dict__.update(attributes or {})

    @property
    def n(self) -> int:
        """Number of samples (Keras' ``n``)."""
        return len(self._generator.source)

    def __len__(self) -> int:
        return len(self._generator)

    def __getitem__(self, index: int) -> Any:
        return self._finish(self._generator[index])

    def __next__(self) -> Any:
        with self._next_lock:
            batch = next(self._generator)
        return self._finish(batch)

    def __iter__(self) -> KerasIterator:
        return self

    def on_epoch_end(self) -> None:
        """Move to the next epoch: new order and augmentation."""
        self._generator.on_epoch_end()

    def reset(self) -> None:
        """Make ``next()`` start again at the first batch of the current epoch."""
        getattr(self._generator, "reset", self._generator.close)()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "_generator" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self._generator, name)

    def _finish(self, batch: Any) -> Any:
        """With extra inputs: ``([x, *extra], y[, w])`` from the batch's sample indices;
        class labels in the generator's dtype (when not float32), as Keras."""
        if self._label_dtype is not None and isinstance(batch, tuple):
            return (batch[0], batch[1].astype(self._label_dtype), *batch[2:])
        if self._extra is None:
            return batch
        x, indices = batch
        inputs = [x, *(values[indices] for values in self._extra)]
        if self._labels is None:
            return inputs
        if self._weights is None:
            return inputs, self._labels[indices]
        return inputs, self._labels[indices], self._weights[indices]


_DATASET_CLASS = "KerasPyDatasetIterator"


def _iterator_class() -> type:
    """:class:`KerasIterator`, made a ``keras.utils.PyDataset`` when Keras is installed."""
    cls = globals().get(_DATASET_CLASS)
    if cls is not None:
        return cls
    try:
        import keras
    except ImportError:
        return KerasIterator
    base = getattr(keras.utils, "PyDataset", None) or getattr(keras.utils, "Sequence", None)
    if base is None:
        return KerasIterator
    cls = type(_DATASET_CLASS, (KerasIterator, base), {"__module__": __name__})
    cls.__qualname__ = _DATASET_CLASS
    globals()[_DATASET_CLASS] = cls
    return cls


def make_iterator(generator: Any, **options: Any) -> KerasIterator:
    """A :class:`KerasIterator` (a ``PyDataset`` when Keras is installed) over ``generator``."""
    return _iterator_class()(generator, **options)


class SavingGenerator:
    """A generator that also writes every batch's images to a folder (Keras' ``save_to_dir``).

    Images are scaled to 0–255 by their own min and max (as Keras' ``array_to_img``) and named
    ``{prefix}_e{epoch}_b{batch}_{position}.{format}``, so reruns overwrite, not accumulate.
    Everything else is the wrapped generator's.
    """

    def __init__(self, generator: Any, *, directory: Any, prefix: str, extension: str) -> None:
        from pathlib import Path

        if extension.lower() not in ("png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"):
            raise ValueError(f"save_format={extension!r}: use png, jpg, bmp, tif or webp")
        self._generator = generator
        self._directory = Path(directory)
        self._directory.mkdir(parents=True, exist_ok=True)
        self._prefix = prefix
        self._extension = extension.lower()
        self._served = 0

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "_generator" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self._generator, name)

    def __len__(self) -> int:
        return len(self._generator)

    def __getitem__(self, index: int) -> Any:
        batch = self._generator[index]
        self._save(batch, self._generator.epoch, index)
        return batch

    def __iter__(self) -> Any:
        for number, batch in enumerate(self._generator):
            epoch, index = divmod(number, len(self._generator))
            self._save(batch, epoch, index)
            yield batch

    def __next__(self) -> Any:
        batch = next(self._generator)
        epoch, index = divmod(self._served, len(self._generator))
        self._served += 1
        self._save(batch, epoch, index)
        return batch

    def reset(self) -> None:
        """Make ``next()`` start again at the first batch of the current epoch."""
        self._generator.close()
        self._served = self._generator.epoch * len(self._generator)

    def _save(self, batch: Any, epoch: int, index: int) -> None:
        import cv2

        images = batch[0] if isinstance(batch, tuple) else batch
        images = np.asarray(images)
        if self._generator.pipeline.data_format == "channels_first":
            images = np.moveaxis(images, 1, -1)
        for position, image in enumerate(images):
            pixels = image.astype(np.float64)
            low, high = pixels.min(), pixels.max()
            pixels = (pixels - low) * (255.0 / (high - low)) if high > low else pixels * 0
            pixels = np.rint(pixels).astype(np.uint8)
            if pixels.ndim == 3 and pixels.shape[-1] == 3:
                pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
            elif pixels.ndim == 3 and pixels.shape[-1] == 4:
                pixels = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)
            name = f"{self._prefix}_e{epoch}_b{index}_{position}.{self._extension}"
            if not cv2.imwrite(str(self._directory / name), pixels):
                raise OSError(f"could not write {self._directory / name}")
