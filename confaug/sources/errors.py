"""The error raised for bad input data: unreadable files, inconsistent arrays."""

from __future__ import annotations


class DataError(ValueError):
    """Input data cannot be used; the message names the file or sample index at fault."""
