"""Folder sources: one subfolder per class (Keras ``flow_from_directory``), or image/mask pairs."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence

import numpy as np

from confaug.sources.base import split_bounds
from confaug.sources.decode import IMAGE_EXTENSIONS, DecodeOptions
from confaug.sources.errors import DataError, shown
from confaug.sources.files import FileSource
from confaug.sources.labels import (
    DIRECTORY_CLASS_MODES,
    ClassLabels,
    check_class_mode,
    y_mode_of,
)
from confaug.sources.listing import list_images, list_subfolders

logger = logging.getLogger("confaug")


class DirectorySource(FileSource):
    """Images in class subfolders, listed as Keras' ``flow_from_directory`` lists them.

    Attributes as Keras: ``class_indices`` (name → index), ``filenames`` (paths relative to
    ``directory``), ``classes`` (int32 index per sample), ``filepaths``, ``labels``,
    ``num_classes``, ``samples``.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        decode: DecodeOptions,
        data_format: str = "channels_last",
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        follow_links: bool = False,
        subset: str | None = None,
        validation_split: float = 0.0,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
    ) -> None:
        check_class_mode(class_mode, DIRECTORY_CLASS_MODES)
        self.directory = os.fspath(directory)
        names = list(classes) if classes else list_subfolders(self.directory)
        if not names:
            raise DataError(
                f"{shown(self.directory)}: no class subfolders found (images must sit in one "
                "subfolder per class, or in a single subfolder when class_mode=None)"
            )
        self.class_indices = {name: index for index, name in enumerate(names)}
        self.filenames: list[str] = []
        class_of_file: list[int] = []
        listed_total = 0
        for index, name in enumerate(names):
            listed = list_images(
                os.path.join(self.directory, name), follow_links=follow_links, extensions=extensions
            )
            if not listed:
                logger.warning("class folder %s has no images", shown(name))
            listed_total += len(listed)
            start, stop = split_bounds(len(listed), subset, validation_split)
            for path in listed[start:stop]:
                self.filenames.append(os.path.relpath(path, self.directory))
                class_of_file.append(index)
        if not listed_total:
            raise DataError(
                f"{shown(self.directory)}: no images ({', '.join(extensions)}) in class folders "
                f"{[shown(name) for name in names]}"
            )
        self.num_classes = len(names)
        self.classes = np.asarray(class_of_file, dtype=np.int32)
        super().__init__(
            [os.path.join(self.directory, name) for name in self.filenames],
            decode=decode,
            data_format=data_format,
            labels=None
            if class_mode in ("input", None)
            else ClassLabels(class_mode, self.classes, self.num_classes),
            y_mode=y_mode_of(class_mode),
        )

    @property
    def labels(self) -> np.ndarray:
        """Class index of every sample (Keras' ``labels``)."""
        return self.classes

    @property
    def samples(self) -> int:
        """Number of samples."""
        return len(self.filenames)


class PairedDirectorySource(FileSource):
    """Images in ``image_dir`` paired with masks in ``mask_dir`` by relative path minus suffix.

    ``y`` is the augmented mask batch; image and mask get the same random transform.
    """

    def __init__(
        self,
        image_dir: str | os.PathLike[str],
        mask_dir: str | os.PathLike[str],
        *,
        decode: DecodeOptions,
        data_format: str = "channels_last",
        follow_links: bool = False,
        subset: str | None = None,
        validation_split: float = 0.0,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
    ) -> None:
        self.directory = os.fspath(image_dir)
        self.mask_directory = os.fspath(mask_dir)
        images = list_images(self.directory, follow_links=follow_links, extensions=extensions)
        if not images:
            raise DataError(f"{shown(self.directory)}: no images ({', '.join(extensions)}) found")
        masks = _by_stem(
            list_images(self.mask_directory, follow_links=follow_links, extensions=extensions),
            self.mask_directory,
        )
        missing = [path for path in images if _stem(path, self.directory) not in masks]
        if missing:
            raise DataError(
                f"{len(missing)} image(s) have no mask with the same name in "
                f"{shown(self.mask_directory)}: {', '.join(shown(path) for path in missing[:5])}"
            )
        start, stop = split_bounds(len(images), subset, validation_split)
        images = images[start:stop]
        self.filenames = [os.path.relpath(path, self.directory) for path in images]
        # Masks are decoded at full size, so the image is too: the same crop box for both.
        super().__init__(
            images,
            decode=dataclasses.replace(decode, reduced_decode=False),
            data_format=data_format,
            mask_paths=[masks[_stem(path, self.directory)] for path in images],
        )


def _stem(path: str, top: str) -> str:
    return os.path.splitext(os.path.relpath(path, top))[0]


def _by_stem(paths: list[str], top: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        stem = _stem(path, top)
        if stem in found:
            raise DataError(
                f"two masks share the name {shown(stem)!r}: {shown(found[stem])} and {shown(path)}"
            )
        found[stem] = path
    return found
