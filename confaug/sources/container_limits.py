"""Bounds on how a file's structure can make a decoder work, checked on its bytes before any
decoder sees them.

The pixel limit bounds what an image holds, not what reading it costs. Three layouts make a
small, valid file cost minutes of CPU or gigabytes of memory inside the decoders:

* a progressive JPEG whose refinement scans repeat: libjpeg decodes each scan over the whole
  image (about 3 ms per scan at 4096², so 30,000 scans in 1.5 MB cost 80 s);
* a TIFF cut into tiny strips or tiles, or countless ones over a few bytes of data: PIL keeps
  a Python tuple per strip or tile at open and decodes them one by one (4 million 1×1 tiles
  sharing one data byte: 33 MB, 69 s, 1.6 GB);
* a PNG split into millions of chunks: PIL walks every chunk in Python to look for metadata
  behind the image data (2 million empty IDAT chunks: 24 MB, 11 s).

Real files stay far below each bound: encoders write about 10 scans, strips of several rows
(tiles are multiples of 16 by the TIFF 6.0 specification), and image data in chunks of 8 KiB
or more.
"""

from __future__ import annotations

import re
import struct

from confaug.sources.errors import DataError

#: At most this many start-of-scan markers in a JPEG (libjpeg's progressions use about 10).
MAX_JPEG_SCANS = 500
#: A TIFF's first image may have this many strips or tiles whatever the file's size ...
TIFF_CHUNKS_ALWAYS_ALLOWED = 2**16
#: ... and beyond that, one per this many bytes of the file: a bomb points every strip at
#: the same few bytes (8 bytes of file a strip), while libtiff's 8 KiB strips compress to
#: about a kilobyte or more (a 16-bit RGBA image of 80 megapixels has 80,000 of them).
TIFF_BYTES_PER_CHUNK = 1024
#: The smallest tile side TIFF 6.0 allows (tile sides are multiples of 16).
MIN_TIFF_TILE_SIDE = 16
#: A PNG may have this many chunks whatever its size ...
PNG_CHUNKS_ALWAYS_ALLOWED = 10_000
#: ... and beyond that, one chunk per this many bytes of the file.
PNG_BYTES_PER_CHUNK = 1024

_SOI = b"\xff\xd8"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_ORDERS = {b"II": "<", b"MM": ">"}
_STRIP_OFFSETS, _TILE_WIDTH, _TILE_LENGTH, _TILE_OFFSETS = 273, 322, 323, 324
_SHORT, _LONG, _LONG8 = 3, 4, 16


def check_container(name: str, data: bytes) -> None:
    """Refuse ``data`` (the file ``name``) when its structure is beyond the bounds above."""
    if data.startswith(_SOI):
        _check_jpeg(name, data)
    elif data.startswith(_PNG_SIGNATURE):
        _check_png(name, data)
    elif data[:2] in _TIFF_ORDERS:
        _check_tiff(name, data)


def _check_jpeg(name: str, data: bytes) -> None:
    count = _jpeg_scans(data, MAX_JPEG_SCANS)
    if count > MAX_JPEG_SCANS:
        raise DataError(
            f"{name}: refused: a JPEG with more than {MAX_JPEG_SCANS:,} scans (at most "
            f"{MAX_JPEG_SCANS:,} are read; encoders write about 10, and each scan is decoded "
            "over the whole image)"
        )


# A marker: 0xFF then a byte that is not a stuffed zero, a restart marker or a fill byte.
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_EOI, _SOS_MARKER, _TEM = 0xD9, 0xDA, 0x01


def _jpeg_scans(data: bytes, limit: int) -> int:
    """The start-of-scan markers of the image a JPEG's first end marker closes, counted up
    to ``limit + 1``. Segments are skipped by their lengths (an EXIF thumbnail's scans, or
    the bytes FF DA inside a comment, do not count), entropy-coded data by a search for the
    next marker (a 0xFF there is followed by 0x00 or a restart marker), and what follows the
    end marker (a motion photo's video) is not read."""
    count, position, end = 0, len(_SOI), len(data)
    while (found := _MARKER.search(data, position)) is not None:
        start = found.start()
        marker = data[start + 1]
        if marker == _EOI:
            break
        if marker in (_SOI[1], _TEM) or start + 4 > end:  # no length field
            position = start + 2
            continue
        if marker == _SOS_MARKER:
            count += 1
            if count > limit:
                break
        (length,) = struct.unpack_from(">H", data, start + 2)
        position = start + 2 + max(length, 2)
    return count


def _check_png(name: str, data: bytes) -> None:
    allowed = max(PNG_CHUNKS_ALWAYS_ALLOWED, len(data) // PNG_BYTES_PER_CHUNK)
    position, end, count = len(_PNG_SIGNATURE), len(data), 0
    # Each chunk is length (4 bytes), type (4), data, CRC (4). A file cut short is the
    # decoder's to report; this only counts what is there, and stops at IEND.
    while position + 8 <= end:
        count += 1
        if count > allowed:
            raise DataError(
                f"{name}: refused: a PNG of {len(data):,} bytes in more than {allowed:,} chunks "
                f"(at most one per {PNG_BYTES_PER_CHUNK:,} bytes beyond "
                f"{PNG_CHUNKS_ALWAYS_ALLOWED:,}; encoders write image data in chunks of 8 KiB "
                "or more)"
            )
        (length,) = struct.unpack_from(">I", data, position)
        if data[position + 4 : position + 8] == b"IEND":
            return
        position += 12 + length


def _check_tiff(name: str, data: bytes) -> None:
    fields = _first_ifd(data)
    if fields is None:  # not a TIFF this can read: the decoder decides
        return
    strips = fields.get(_STRIP_OFFSETS, (0, None))[0]
    tiles = fields.get(_TILE_OFFSETS, (0, None))[0]
    width = fields.get(_TILE_WIDTH, (0, None))[1]
    length = fields.get(_TILE_LENGTH, (0, None))[1]
    if tiles and any(side is not None and side < MIN_TIFF_TILE_SIDE for side in (width, length)):
        raise DataError(
            f"{name}: refused: a TIFF with tiles of {width}x{length} pixels (TIFF 6.0 tiles "
            f"are multiples of {MIN_TIFF_TILE_SIDE} on each side)"
        )
    chunks = max(strips, tiles)
    allowed = max(TIFF_CHUNKS_ALWAYS_ALLOWED, len(data) // TIFF_BYTES_PER_CHUNK)
    if chunks > allowed:
        kind = "tiles" if tiles >= strips else "strips"
        raise DataError(
            f"{name}: refused: a TIFF of {len(data):,} bytes in {chunks:,} {kind} (at most "
            f"{allowed:,}: one per {TIFF_BYTES_PER_CHUNK:,} bytes beyond "
            f"{TIFF_CHUNKS_ALWAYS_ALLOWED:,}; the decoder keeps and reads each one separately)"
        )


def _first_ifd(data: bytes) -> dict[int, tuple[int, int | None]] | None:
    """``{tag: (count, first value or None)}`` of the first IFD of a TIFF or BigTIFF, for the
    tags of one value that fits its entry (and the counts of all); None when it is unreadable."""
    order = _TIFF_ORDERS.get(data[:2])
    if order is None or len(data) < 16:
        return None
    (version,) = struct.unpack_from(order + "H", data, 2)
    if version == 42:
        entry_size, count_format, value_size = 12, "I", 4
        (offset,) = struct.unpack_from(order + "I", data, 4)
    elif version == 43:  # BigTIFF: 8-byte counts and offsets
        entry_size, count_format, value_size = 20, "Q", 8
        (offset,) = struct.unpack_from(order + "Q", data, 8)
    else:
        return None
    number_format = "H" if version == 42 else "Q"
    number_size = struct.calcsize(number_format)
    if offset + number_size > len(data):
        return None
    (entries,) = struct.unpack_from(order + number_format, data, offset)
    start = offset + number_size
    if start + entries * entry_size > len(data):
        return None
    fields: dict[int, tuple[int, int | None]] = {}
    for entry in range(start, start + entries * entry_size, entry_size):
        tag, kind = struct.unpack_from(order + "HH", data, entry)
        (count,) = struct.unpack_from(order + count_format, data, entry + 4)
        value: int | None = None
        if count == 1 and kind in (_SHORT, _LONG, _LONG8):
            value_format = {_SHORT: "H", _LONG: "I", _LONG8: "Q"}[kind]
            if struct.calcsize(value_format) <= value_size:
                (value,) = struct.unpack_from(order + value_format, data, entry + 4 + value_size)
        fields[tag] = (count, value)
    return fields
