"""Data sources: one sample by index (arrays, folders, tables) or batches from an iterable.

Nothing here loads a whole dataset: files are listed up front and decoded one at a time.
"""

from confaug.sources.arrays import ArraySource
from confaug.sources.base import Source, YMode
from confaug.sources.dataframe import DataFrameSource, read_table
from confaug.sources.decode import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    DecodeOptions,
    decode_as_stored,
    decode_image,
    decode_mask,
    decode_options,
    open_image,
)
from confaug.sources.directory import DirectorySource, PairedDirectorySource
from confaug.sources.errors import DataError
from confaug.sources.files import FileSource
from confaug.sources.iterable import unpack_batch

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "ArraySource",
    "DataError",
    "DataFrameSource",
    "DecodeOptions",
    "DirectorySource",
    "FileSource",
    "PairedDirectorySource",
    "Source",
    "YMode",
    "decode_as_stored",
    "decode_image",
    "decode_mask",
    "decode_options",
    "open_image",
    "read_table",
    "unpack_batch",
]
