"""Writing image files for the commands (reading is ``confaug.sources.decode``'s job)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

import numpy as np

from confaug.cli.common import UsageError, make_parent
from confaug.errors import DataError

WRITABLE = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm"})
"""File suffixes ``encode_image`` can write (``augment --format same`` keeps these)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp alone gives 0600


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Any image as uint8 for display or 8-bit formats (floats in [0, 1] or [0, 255]).
    A picture's conversion, never a mask's: masks are handed over as uint8 or uint16
    (``augment.mask_pixels``), since scaling would change their classes."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    values = array.astype(np.float32)
    finite = values[np.isfinite(values)]
    top = 1.0 if finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1.0) else 255.0
    return np.clip(np.nan_to_num(values) * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)


def encode_image(image: np.ndarray, suffix: str, *, jpeg_quality: int = 95) -> bytes:
    """``image`` (RGB, RGBA or gray) encoded in the format of ``suffix``."""
    import cv2

    array = np.asarray(image)
    suffix = suffix.lower()
    if array.dtype not in (np.uint8, np.uint16) or (
        array.dtype == np.uint16 and suffix not in (".png", ".tif", ".tiff", ".ppm")
    ):
        array = to_uint8(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if suffix == ".ppm" and array.ndim == 2:
        # OpenCV's .ppm encoder takes BGR only (and logs an [ERROR] block for gray); a gray
        # image is a PGM (P5, 8 or 16 bits), which every reader of .ppm files takes.
        suffix = ".pgm"
    if array.ndim == 3 and array.shape[2] in (3, 4):  # an RGBA mask keeps its alpha
        array = cv2.cvtColor(
            array, cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        )
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if suffix in (".jpg", ".jpeg") else []
    try:
        ok, buffer = cv2.imencode(suffix, array, params)
    except cv2.error:  # e.g. a channel count the format cannot hold
        ok = False
    if not ok:
        raise DataError(f"cannot encode an image of shape {array.shape} as {suffix}")
    return buffer.tobytes()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so no half-written file remains.

    A ``path`` that exists and is not a regular file is never renamed over (that would
    unlink it: ``-o /dev/null`` run as root replaced the system's ``/dev/null``): a
    character device or a FIFO with a reader is written to in place, anything else (a
    block device, a socket, a FIFO nobody reads) is refused."""
    if path.is_dir():  # else the error would name the temporary file
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = None  # nothing there yet (or unreadable): the temporary file says which
    if mode is not None and not stat.S_ISREG(mode):
        _write_through(path, mode, data)
        return
    make_parent(path)
    try:
        # The temporary name is the file's, cut: in full, its 15 more bytes would make a
        # valid name of 241..255 bytes too long for a file (ENAMETOOLONG).
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name[:50]}.", suffix=".part", dir=path.parent
        )
    except OSError as err:  # a folder that takes no new files (/proc, read-only): name path
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_through(path: Path, mode: int, data: bytes) -> None:
    """``data`` written into the existing special file ``path`` (see write_bytes_atomic)."""
    if not (stat.S_ISFIFO(mode) or (stat.S_ISCHR(mode) and _is_terminal_or_null(path))):
        raise NotARegularFileError(f"cannot write {path}: it exists and is not a regular file")
    try:
        # Non-blocking open: a FIFO without a reader fails at once (ENXIO) instead of
        # waiting for ever; the writes themselves then block as usual.
        handle = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as err:
        why = "nothing reads from it" if err.errno == errno.ENXIO else err.strerror
        raise OSError(f"cannot write {path}: {why}") from None
    try:
        os.set_blocking(handle, True)
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)


def _is_terminal_or_null(path: Path) -> bool:
    """Whether the character device ``path`` is one a command's output may go to: the null
    device (``/dev/null``, or a node of it), the controlling terminal, or the terminal of a
    standard stream — never another device (``/dev/mem``, a disk's raw node, a watchdog)
    that root could otherwise write a picture into. Unknown devices are not even opened:
    opening some has effects of its own."""
    device = path.stat().st_rdev
    known = [os.devnull, "/dev/tty"]
    for named in known:
        try:
            found = os.stat(named)
        except OSError:
            continue
        if stat.S_ISCHR(found.st_mode) and found.st_rdev == device:
            return True
    return any(os.isatty(stream) and os.fstat(stream).st_rdev == device for stream in (0, 1, 2))


class NotARegularFileError(UsageError, OSError):
    """An output path that exists as something no image can be written over: a usage error
    to the command line, and an ``OSError`` to code that records failed writes one file at a
    time (``augment``)."""
