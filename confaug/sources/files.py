"""A source of image files, optionally paired with mask files, decoded on demand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from confaug.sources.base import Source, YMode, check_data_format, to_layout
from confaug.sources.decode import (
    DecodeOptions,
    OpenedImage,
    decode_image,
    decode_mask,
    mask_channels,
    open_image,
)
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
        #: ``(channels, name)`` of the first mask that opens, once looked up (see
        #: :meth:`_check_mask_channels`); the same in every process, as it is looked up again.
        self._mask_reference: tuple[int, str] | None = None

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
        self._check_mask_channels(mask_file)
        image = decode_image(image_file, options)
        mask = decode_mask(
            mask_file, options.target_size, keep_aspect_ratio=options.keep_aspect_ratio
        )
        return {"image": to_layout(image, self.data_format), "mask": mask}

    def _check_mask_channels(self, mask_file: OpenedImage) -> None:
        """Refuse a mask whose channels differ from the source's first readable mask, as
        this file's own error (on_error="skip" skips it), before masks of several channel
        counts meet in a batch, which cannot stack them. The first mask in listing order is
        the reference: every process and batch order then agrees on which file is odd. A
        grey mask saved as RGB keeps its 3 channels (an RGB colour-coded mask may be grey on
        one file only), so it is refused, not read as grey."""
        assert self.mask_paths is not None
        if self._mask_reference is None:
            for path in self.mask_paths:
                try:
                    first = open_image(path, None, max_file_bytes=self.decode.max_file_bytes)
                except DataError:
                    continue  # reported when its own sample is loaded
                self._mask_reference = (mask_channels(first), first.name)
                break
        if self._mask_reference is None:
            return
        channels, reference = self._mask_reference
        found = mask_channels(mask_file)
        if found != channels:
            raise DataError(
                f"{mask_file.name}: mask has {found} channel(s) (PIL mode {mask_file.mode}), "
                f"the first mask {reference} has {channels}: save every mask with the same "
                "channels (a grey mask saved as RGB has 3)"
            )
