"""List image files under a folder in Keras' order, safely across symlink loops."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from confaug.sources.decode import IMAGE_EXTENSIONS
from confaug.sources.errors import DataError

logger = logging.getLogger("confaug")


def list_images(
    top: str, *, follow_links: bool = False, extensions: Sequence[str] = IMAGE_EXTENSIONS
) -> list[str]:
    """Paths (joined onto ``top``) of image files below ``top``, recursively.

    Ordered as Keras lists them: folders sorted by path, files sorted by name within each.
    With ``follow_links``, a symlink that leads back to one of its own ancestors is skipped
    with a warning, so loops cannot hang the listing.
    """
    suffixes = tuple(ext.lower() for ext in extensions)
    folders: list[tuple[str, list[str]]] = []
    pending = [(top, frozenset({_identity(top)}))]
    while pending:
        folder, ancestors = pending.pop()
        files: list[str] = []
        for entry in _scan(folder):
            if not _is_dir(entry):
                if entry.name.lower().endswith(suffixes):
                    files.append(entry.name)
                continue
            if entry.is_symlink() and not follow_links:
                continue
            identity = _identity(entry.path)
            if identity in ancestors:
                logger.warning("skipping symlink loop at %s", entry.path)
                continue
            pending.append((entry.path, ancestors | {identity}))
        folders.append((folder, sorted(files)))
    folders.sort(key=lambda item: item[0])
    return [os.path.join(folder, name) for folder, names in folders for name in names]


def list_subfolders(top: str) -> list[str]:
    """Names of the folders (or links to folders) directly in ``top``, sorted."""
    return sorted(entry.name for entry in _scan(top) if _is_dir(entry))


def _scan(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError as exc:
        raise _folder_error(folder, exc) from None


def _folder_error(folder: str, exc: OSError) -> DataError:
    if isinstance(exc, FileNotFoundError):
        return DataError(f"{folder}: no such directory")
    if isinstance(exc, NotADirectoryError):
        return DataError(f"{folder}: not a directory")
    return DataError(f"{folder}: cannot list directory ({exc.strerror or exc})")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _identity(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _folder_error(path, exc) from None
    return info.st_dev, info.st_ino
