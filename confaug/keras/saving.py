"""Keras' ``save_to_dir``: a generator that also writes the images of every batch it serves."""

from __future__ import annotations

from typing import Any

import numpy as np


def with_saving(generator: Any, directory: Any, prefix: str, extension: str) -> Any:
    """``generator``, wrapped to save its batches when ``directory`` is given."""
    if directory is None:
        return generator
    return SavingGenerator(generator, directory=directory, prefix=prefix, extension=extension)


#: The formats ``save_to_dir`` writes.
_FORMATS = ("png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp")


class SavingGenerator:
    """A generator that also writes every batch's images to a folder (Keras' ``save_to_dir``).

    Images are scaled to 0–255 by their own min and max (as Keras' ``array_to_img``) and named
    ``{prefix}_e{epoch}_b{batch}_{position}.{format}``, so reruns overwrite, not accumulate.
    Everything else is the wrapped generator's.
    """

    def __init__(self, generator: Any, *, directory: Any, prefix: str, extension: str) -> None:
        from pathlib import Path

        if not isinstance(extension, str) or extension.lower() not in _FORMATS:
            raise ValueError(f"save_format={extension!r}: use png, jpg, bmp, tif or webp")
        self._generator = generator
        self._directory = Path(directory)
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):  # a file at the path or on the way
            raise ValueError(
                f"save_to_dir={str(directory)!r}: a file is in the way (an existing file, not "
                "a folder, at this path or one of its parents); name a folder"
            ) from None
        # The prefix starts a file name inside save_to_dir: a separator or ".." in it would
        # write beside or above the folder ("../x", "a/b"), or fail on a folder not made.
        prefix = str(prefix)  # Keras formats it into the name, whatever its type
        if any(mark in prefix for mark in ("/", "\\", "\x00")):
            raise ValueError(
                f"save_prefix={prefix!r}: a prefix of file names inside save_to_dir, without "
                "'/' or '\\'; put folders in save_to_dir"
            )
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
