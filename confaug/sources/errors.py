"""The error raised for bad input data: unreadable files, inconsistent arrays.

It is ``confaug.errors.DataError`` (one class for the whole package), re-exported here so the
data layer can be used on its own.
"""

from confaug.errors import DataError

__all__ = ["DataError"]
