"""The error raised for bad input data, and how data names appear in messages and logs.

``DataError`` is ``confaug.errors.DataError`` (one class for the whole package), re-exported
here so the data layer can be used on its own.

File names, table cells and row keys come from the data, so they may hold anything: a newline
that would forge a second log line, terminal escape sequences, bidirectional overrides, bytes
that are not text. :func:`shown` is the one place that makes such a name safe to print; every
message and log line of the data layers that quotes a name goes through it (or through
:func:`data_error`). Data values (``gen.skipped``'s paths, ``filenames``) stay as they are.
"""

from __future__ import annotations

import os

from confaug.errors import DataError

__all__ = ["DataError", "data_error", "one_line", "shown"]


def shown(name: object) -> str:
    """``name`` (a path, a key, a cell) on one line, every non-printable character escaped
    (``\\n``, ``\\x1b``, ``\\u202e``, ``\\udcff`` for a byte that was not text)."""
    text = os.fsdecode(name) if isinstance(name, (bytes, os.PathLike)) else str(name)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def one_line(message: object) -> str:
    """A message (an exception's text, a reason) on one line: lines joined, the rest escaped."""
    text = str(message)
    if text.isprintable():
        return text
    joined = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return shown(joined)


def data_error(name: object, message: str) -> DataError:
    """``DataError("<name>: <message>")`` with ``name`` escaped (see :func:`shown`)."""
    return DataError(f"{shown(name)}: {message}")
