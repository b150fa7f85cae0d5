"""List image files under a folder in Keras' order, each folder once, safely across links."""

from __future__ import annotations

import heapq
import logging
import os
import stat
from collections.abc import Sequence

from confaug.sources.decode import IMAGE_EXTENSIONS
from confaug.sources.errors import DataError, shown

logger = logging.getLogger("confaug")


def folder_path(path: object, option: str) -> str:
    """A folder given as a str, bytes or ``os.PathLike``, as a str: bytes are decoded as
    ``os.fsdecode`` does (a non-UTF-8 name keeps its bytes, and the listing's paths are
    str); another type is a TypeError naming ``option``."""
    if isinstance(path, (str, bytes, os.PathLike)):
        return os.fsdecode(path)  # (os.fspath's TypeError for a bad __fspath__)
    raise TypeError(
        f"{option} must be a str, bytes or os.PathLike folder, got {type(path).__name__}"
    )


def list_images(
    top: str, *, follow_links: bool = False, extensions: Sequence[str] = IMAGE_EXTENSIONS
) -> list[str]:
    """Paths (joined onto ``top``) of image files below ``top``, recursively.

    Ordered as Keras lists them: folders sorted by path, files sorted by name within each.
    With ``follow_links``, a folder reached more than once (a symlink loop, several links to
    one folder, a bind mount) is listed once, under the first path that reaches it (folders
    are visited in order of path), so neither a loop nor a web of links can multiply the
    samples or hang the listing: the work is one scan per distinct folder. Files (and links
    to files) are listed wherever they appear. A folder that cannot be listed is a
    ``DataError`` naming it.
    """
    images, _ = walk_images(top, follow_links=follow_links, extensions=extensions)
    return images


def walk_images(
    top: str,
    *,
    follow_links: bool = False,
    hidden: bool = True,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
) -> tuple[list[str], int]:
    """:func:`list_images`, and how many other files there are; ``hidden=False`` leaves out
    the files and folders whose names start with a dot."""
    suffixes = tuple(ext.lower() for ext in extensions)
    folders: list[tuple[str, list[str]]] = []
    seen = {_identity(top)}
    # Folders are visited in order of path (a heap), not in the order links happen to lead,
    # so which path a folder is listed under does not depend on the order scandir gives.
    pending = [top]
    repeated = others = 0
    while pending:
        folder = heapq.heappop(pending)
        files: list[str] = []
        for entry in sorted(_scan(folder), key=lambda entry: entry.name):
            if not hidden and entry.name.startswith("."):
                continue
            if not _is_dir(entry):
                if entry.name.lower().endswith(suffixes):
                    files.append(entry.name)
                else:
                    others += 1
                continue
            if entry.is_symlink() and not follow_links:
                continue
            identity = _identity(entry.path)
            if identity in seen:
                repeated += 1
                continue
            seen.add(identity)
            heapq.heappush(pending, entry.path)
        folders.append((folder, sorted(files)))
    if repeated:
        logger.warning(
            "listing %s: %d link(s) lead to a folder listed already (a loop, or several links "
            "to one folder); each folder is listed once",
            shown(top),
            repeated,
        )
    folders.sort(key=lambda item: item[0])
    return [os.path.join(folder, name) for folder, names in folders for name in names], others


def is_missing(path: str) -> bool:
    """Whether ``path`` (or a link's target) is not there. Only that: a folder that is there
    but cannot be read, or a file in its place, is not missing (its listing says why)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def check_folder(top: str) -> None:
    """A ``DataError`` naming ``top`` unless it is a folder (or a link to one) that can be
    looked at: said at once, where listing only the class folders in it would say nothing
    of it, or name a class folder instead."""
    try:
        info = os.stat(top)
    except OSError as exc:
        raise _folder_error(top, exc) from None
    if not stat.S_ISDIR(info.st_mode):
        raise DataError(f"{shown(top)}: not a directory")


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
        return DataError(f"{shown(folder)}: no such directory")
    if isinstance(exc, NotADirectoryError):
        return DataError(f"{shown(folder)}: not a directory")
    return DataError(f"{shown(folder)}: cannot list directory ({exc.strerror or exc})")


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
