"""Reading one data file (an image, a mask, a CSV table) safely: the only ``open`` of the sources.

A dataset may hold anything under an image's name: a FIFO (reading it blocks for ever), a
symlink to ``/dev/zero`` or ``/dev/urandom`` (endless), a sparse file of terabytes, a socket.
:func:`read_data_file` checks what the path is *before* opening it (a regular file, and not
larger than the limit), opens it without blocking and checks again on the open descriptor (so
a path swapped in between is caught), then reads at most the limit. Every refusal is a
:class:`DataError` naming the file, which ``on_error="skip"`` skips like any unreadable file.

Config files are read by ``confaug.reading.extends`` under the same rules (and a smaller limit).
"""

from __future__ import annotations

import os
import stat

from confaug.sources.errors import DataError, data_error

#: Largest data file read by default: 256 MiB, an uncompressed 8-bit RGB image at the pixel
#: limit (``DEFAULT_MAX_PIXELS``). ``max_file_bytes=None`` lifts it.
DEFAULT_MAX_FILE_BYTES = 256 * 2**20
#: Largest CSV table read by default (1 GiB).
DEFAULT_MAX_TABLE_BYTES = 2**30

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the check opens without waiting
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CHUNK = 1 << 20


def read_data_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
    option: str = "max_file_bytes",
) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them (None: any size).

    Raises :class:`DataError` naming the file when it is missing, unreadable, not a regular
    file (directory, FIFO, socket, device), or larger than ``max_bytes`` — checked from its
    size before reading, and again while reading (files whose size is not known in advance,
    such as those under ``/proc``, are cut off at the limit). ``option`` is the name of the
    caller's option that sets the limit, for the message.
    """
    try:
        before = os.stat(path)  # follows symlinks: what the link leads to is what counts
        _check(path, before, max_bytes, option)
        descriptor = os.open(path, _FLAGS)
    except DataError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        raise _cannot_read(path, exc) from None
    try:
        opened = os.fstat(descriptor)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise data_error(path, "cannot read file: it was replaced while being opened")
        _check(path, opened, max_bytes, option)
        return _read_at_most(path, descriptor, max_bytes, option)
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    except MemoryError:
        raise data_error(path, "cannot read file: not enough memory") from None
    finally:
        os.close(descriptor)


def _check(
    path: str | os.PathLike[str], info: os.stat_result, max_bytes: int | None, option: str
) -> None:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise data_error(path, "cannot read file: it is a directory")
    if not stat.S_ISREG(mode):
        raise data_error(path, f"cannot read file: it is {_kind(mode)}, not a regular file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise data_error(path, _too_large(info.st_size, max_bytes, option))


def _read_at_most(
    path: str | os.PathLike[str], descriptor: int, max_bytes: int | None, option: str
) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        want = _CHUNK if max_bytes is None else min(_CHUNK, max_bytes + 1 - total)
        chunk = os.read(descriptor, want)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise data_error(path, _too_large(total, max_bytes, option, grew=True))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "a special file"


def _too_large(size: int, max_bytes: int, option: str, *, grew: bool = False) -> str:
    amount = f"more than {max_bytes:,} bytes" if grew else f"{size:,} bytes"
    limit = f"over the limit of {max_bytes:,} ({option})"
    return f"file is {amount}, {limit}; raise {option} to read it"


def _cannot_read(path: str | os.PathLike[str], exc: BaseException) -> DataError:
    if isinstance(exc, FileNotFoundError):
        reason = "no such file"
    elif isinstance(exc, ValueError):
        reason = "the path holds a NUL character"
    else:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
    return data_error(path, f"cannot read file: {reason}")
