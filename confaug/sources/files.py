"""A source of image files, optionally paired with mask files, decoded on demand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from confaug.sources.base import Source, YMode, check_data_format, to_layout
from confaug.sources.decode import DecodeOptions, decode_image, decode_mask, open_image
from confaug.sources.errors import DataError, shown
from confaug.sources.labels import ClassLabels, RawLabels


class FileSource(Source):
    """Image files with optional labels, weights or masks; one file decoded per :meth:`load`.

    ``problems`` maps a sample's index to why it cannot be loaded (a table row without a
    usable file name or label): loading it raises that as a :class:`DataError`, so a bad row
    is skipped and reported like a bad file.
    """

    def __init__(
        self,
        filepaths: Sequence[str],
        *,
        decode: DecodeOptions,
        data_format: str = "channels_last",
        labels: ClassLabels | RawLabels | None = None,
        y_mode: YMode = "none",
        weights: np.ndarray | None = None,
        mask_paths: Sequence[str] | None = None,
        problems: Mapping[int, str] | None = None,
    ) -> None:
        self.filepaths = list(filepaths)
        self.decode = decode
        self.data_format = check_data_format(data_format)
        self.label_encoder = labels
        self.y_mode: YMode = "mask" if mask_paths is not None else y_mode
        self.target_keys: tuple[str, ...] = ()
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float32)
        self.mask_paths = None if mask_paths is None else list(mask_paths)
        self.problems = dict(problems or {})

    def __len__(self) -> int:
        return len(self.filepaths)

    def describe(self, index: int) -> str:
        """The image file's path."""
        return self.filepaths[index]

    def load(self, index: int) -> dict[str, Any]:
        """Decode the image (and its mask) of sample ``index``."""
        if index in self.problems:
            raise DataError(f"{shown(self.describe(index))}: {self.problems[index]}")
        if self.mask_paths is None:
            image = decode_image(self.filepaths[index], self.decode)
            return {"image": to_layout(image, self.data_format)}
        return self._load_pair(index)

    def labels_for(self, indices: np.ndarray) -> Any:
        """``y`` from the label encoder, or None."""
        return None if self.label_encoder is None else self.label_encoder.batch(indices)

    def weights_for(self, indices: np.ndarray) -> np.ndarray | None:
        """Sample weights, or None."""
        return None if self.weights is None else self.weights[indices]

    def _load_pair(self, index: int) -> dict[str, Any]:
        assert self.mask_paths is not None
        options = self.decode
        limits = {"max_file_bytes": options.max_file_bytes}
        image_file = open_image(self.filepaths[index], options.max_pixels, **limits)
        mask_file = open_image(self.mask_paths[index], options.max_pixels, **limits)
        if image_file.size != mask_file.size:
            raise DataError(
                f"{image_file.name}: image is {image_file.size[0]}x{image_file.size[1]} but its "
                f"mask {mask_file.name} is {mask_file.size[0]}x{mask_file.size[1]} (height x width)"
            )
        image = decode_image(image_file, options)
        mask = decode_mask(
            mask_file, options.target_size, keep_aspect_ratio=options.keep_aspect_ratio
        )
        return {"image": to_layout(image, self.data_format), "mask": mask}
