"""Folder sources: one subfolder per class (Keras ``flow_from_directory``), or image/mask pairs."""

from __future__ import annotations

import collections
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
from confaug.sources.listing import (
    check_folder,
    folder_path,
    is_missing,
    list_images,
    list_subfolders,
)

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
        self.directory = folder_path(directory, "directory")
        if isinstance(classes, (str, bytes)):  # would be read one character at a time
            raise TypeError(f"classes={classes!r}: give a list of class folder names")
        if classes:
            check_folder(self.directory)  # the classes' folders are in it: it must be there
            names = _class_names(self.directory, classes)
        else:  # as Keras: every subfolder is a class
            names = list_subfolders(self.directory)
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
            folder = os.path.join(self.directory, name)
            if is_missing(folder):
                # As Keras: a class named in ``classes`` without a folder is a class with no
                # image, so a test set lacking a class keeps the training set's indices.
                logger.warning("class folder %s does not exist: 0 images", shown(name))
                continue
            listed = list_images(folder, follow_links=follow_links, extensions=extensions)
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


def _class_names(directory: str, classes: Sequence[str]) -> list[str]:
    """The ``classes`` given, checked: folder names (str), no folder named twice."""
    names = list(classes)
    for name in names:
        if not isinstance(name, (str, os.PathLike)) or not isinstance(os.fspath(name), str):
            raise TypeError(
                f"classes={names!r}: a class is a subfolder name (a str); got "
                f"{type(name).__name__} {name!r}"
            )
        if "\0" in os.fspath(name):
            raise ValueError(f"classes: {name!r} holds a NUL character, which no folder name can")
    # The same folder by two spellings ("a/../b" and "b", a link and its target) would
    # list its files once per mention, with contradictory labels: the folders are compared
    # as the system resolves them (a link first, then ".."), not as strings.
    folders = [os.path.normcase(os.path.realpath(os.path.join(directory, name))) for name in names]
    counts = collections.Counter(folders)
    twice = dict.fromkeys(
        name for name, folder in zip(names, folders, strict=True) if counts[folder] > 1
    )
    if twice:
        raise DataError(
            f"classes names the same folder more than once: {', '.join(map(repr, twice))}"
        )
    return names


#: The default ``mask_pattern``: a mask has its image's relative path and name, any suffix.
SAME_NAME = "{stem}"


class MaskNames:
    """Which file in ``mask_dir`` is the mask of an image, by ``pattern``.

    The pattern names the mask file in the image's own subfolder of ``mask_dir``;
    ``{stem}`` stands for the image's file name without its suffix: ``"{stem}"`` (the
    default) finds ``000.png`` for ``000.jpg``, ``"{stem}_mask"`` finds ``000_mask.png``,
    and a pattern ending in an image suffix (``"{stem}_mask.png"``) names it exactly;
    without one, any image suffix matches. ``mask_dir`` may be the image folder itself
    (with a pattern other than the default): the files that are another file's mask are
    then not taken as images.
    """

    def __init__(
        self,
        mask_dir: str | os.PathLike[str],
        pattern: str = SAME_NAME,
        *,
        follow_links: bool = False,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
    ) -> None:
        self.directory = folder_path(mask_dir, "mask_dir")
        self.pattern = check_mask_pattern(pattern)
        self._suffixes = tuple(ext.lower() for ext in extensions)
        listed = list_images(self.directory, follow_links=follow_links, extensions=extensions)
        self._by_path = {os.path.relpath(path, self.directory): path for path in listed}
        self._by_stem: dict[str, list[str]] = {}
        for relative, path in self._by_path.items():
            self._by_stem.setdefault(os.path.splitext(relative)[0], []).append(path)

    def wanted(self, relative_image: str) -> str:
        """The mask's relative path (or, without a suffix in the pattern, its stem)."""
        folder, name = os.path.split(relative_image)
        return os.path.join(folder, self.pattern.replace("{stem}", os.path.splitext(name)[0]))

    def find(self, relative_image: str) -> str | None:
        """The path of the mask of the image at ``relative_image`` (relative to its
        folder), or None; two masks that differ only in suffix are a ``DataError``."""
        wanted = self.wanted(relative_image)
        if wanted.lower().endswith(self._suffixes):
            return self._by_path.get(wanted)
        found = self._by_stem.get(wanted, [])
        if len(found) > 1:
            raise DataError(
                f"two masks share the name {shown(wanted)!r}: {shown(found[0])} and "
                f"{shown(found[1])}"
            )
        return found[0] if found else None

    def images_among(self, images: list[str], image_dir: str) -> list[str]:
        """``images`` less the masks among them: when ``mask_dir`` is the image folder, or
        a folder inside it (``images/masks``), whose files are then all masks."""
        inner = os.path.relpath(os.path.realpath(self.directory), os.path.realpath(image_dir))
        if inner != os.curdir:
            if inner == os.pardir or inner.startswith(os.pardir + os.sep):
                return images  # side by side, as usual
            below = inner + os.sep
            return [
                path for path in images if not os.path.relpath(path, image_dir).startswith(below)
            ]
        if self.pattern == SAME_NAME:
            raise ValueError(
                "mask_dir is the image folder: pass a mask_pattern that tells masks from "
                "images, e.g. '{stem}_mask'"
            )
        masks = set()
        for path in images:
            mask = self.find(os.path.relpath(path, image_dir))
            if mask == path:
                raise ValueError(
                    f"mask_pattern={self.pattern!r} names {shown(path)} as its own mask (mask_dir "
                    "is the image folder): give masks names of their own, e.g. '{stem}_mask'"
                )
            masks.add(mask)
        return [path for path in images if path not in masks]

    def missing_message(
        self, missing: list[str], image_dir: str, option: str = "mask_pattern="
    ) -> str:
        """Why ``missing`` (paths under ``image_dir``) found no mask, with a pattern that
        would pair the first one when the mask folder holds a name that extends its stem
        (suggested as ``option``, the caller's spelling)."""
        named = "the same name" if self.pattern == SAME_NAME else f"a name {self.pattern!r}"
        message = (
            f"{len(missing)} image(s) have no mask with {named} in "
            f"{shown(self.directory)}: {', '.join(shown(path) for path in missing[:5])}"
        )
        first = self.wanted(os.path.relpath(missing[0], image_dir))
        longer = sorted(stem for stem in self._by_stem if stem.startswith(first))
        if longer and self.pattern == SAME_NAME:
            rest = longer[0][len(first) :]
            example = os.path.relpath(self._by_stem[longer[0]][0], self.directory)
            message += f"; for masks named like {shown(example)}, pass {option}"
            message += repr("{stem}" + rest)
        return message


def check_mask_pattern(pattern: str) -> str:
    """``pattern`` if it is a file name holding ``{stem}`` once (no folders, no other
    field); else a ``ValueError`` saying what is wrong."""
    rest = pattern.replace("{stem}", "", 1) if isinstance(pattern, str) else None
    if rest is None or rest == pattern:
        raise ValueError(f"mask_pattern={pattern!r} must contain {{stem}}, e.g. '{{stem}}_mask'")
    if (
        "{" in rest
        or "}" in rest
        or "/" in pattern
        or "\\" in pattern
        or ".." in rest
        or any(ord(char) < 32 for char in rest)  # NUL and control characters name no file
    ):
        raise ValueError(
            f"mask_pattern={pattern!r}: a file name with {{stem}} once and no other field or "
            "folder, e.g. '{stem}_mask' or '{stem}_mask.png'"
        )
    return pattern


class PairedDirectorySource(FileSource):
    """Images in ``image_dir`` paired with masks in ``mask_dir`` (see :class:`MaskNames`:
    by relative path minus suffix, or by ``mask_pattern``).

    ``y`` is the augmented mask batch; image and mask get the same random transform. An
    image without a mask (or with two) is a ``DataError`` naming it; with ``skip_unpaired``
    it is left out of the listing with a warning, as ``validate_filenames`` leaves out rows.
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
        mask_pattern: str = SAME_NAME,
        skip_unpaired: bool = False,
    ) -> None:
        self.directory = folder_path(image_dir, "directory")
        self.mask_directory = folder_path(mask_dir, "mask_dir")
        listed = list_images(self.directory, follow_links=follow_links, extensions=extensions)
        names = MaskNames(mask_dir, mask_pattern, follow_links=follow_links, extensions=extensions)
        images = names.images_among(listed, self.directory)
        if not images:
            raise DataError(f"{shown(self.directory)}: no images ({', '.join(extensions)}) found")
        pairs: list[tuple[str, str]] = []
        missing: list[str] = []
        for path in images:
            try:
                mask = names.find(os.path.relpath(path, self.directory))
            except DataError as error:  # two masks for one image
                if not skip_unpaired:
                    raise
                logger.warning("skipping %s: %s", shown(path), error)
                continue
            if mask is None:
                missing.append(path)
            else:
                pairs.append((path, mask))
        if missing and not skip_unpaired:
            raise DataError(names.missing_message(missing, self.directory))
        if missing:
            logger.warning("%s; skipping them", names.missing_message(missing, self.directory))
        if not pairs:
            raise DataError(
                f"{shown(self.directory)}: no image has a mask in {shown(self.mask_directory)}"
            )
        images = [path for path, _ in pairs]
        start, stop = split_bounds(len(images), subset, validation_split)
        self.filenames = [os.path.relpath(path, self.directory) for path in images[start:stop]]
        # Masks are decoded at full size, so the image is too: the same crop box for both.
        super().__init__(
            images[start:stop],
            decode=dataclasses.replace(decode, reduced_decode=False),
            data_format=data_format,
            mask_paths=[mask for _, mask in pairs[start:stop]],
        )
