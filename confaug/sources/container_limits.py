"""Bounds on how a file's structure can make a decoder work, checked on its bytes before any
decoder sees them.

The pixel limit bounds what an image holds, not what reading it costs. These layouts make a
small, valid file cost minutes of CPU or gigabytes of memory inside the decoders:

* a progressive JPEG whose refinement scans repeat: libjpeg decodes each scan over the whole
  image (about 3 ms per scan at 4096², so 30,000 scans in 1.5 MB cost 80 s);
* a TIFF cut into tiny strips or tiles, or countless ones over a few bytes of data: PIL keeps
  a Python tuple per strip or tile at open and decodes them one by one (4 million 1×1 tiles
  sharing one data byte: 33 MB, 69 s, 1.6 GB);
* a PNG split into millions of chunks: PIL walks every chunk in Python to look for metadata
  behind the image data (2 million empty IDAT chunks: 24 MB, 11 s);
* a JPEG of millions of empty segments (60 MB: 31 s, 1.5 GB), a PNM header padded with a
  200 MB comment (45 s), a 64×64 run-length BMP of 40 MB of no-op codes (7 s): PIL and
  OpenCV walk them one by one, in Python for the last two; likewise a GIF of millions of
  extension blocks before its first image.

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
#: At most this many marker segments of any kind (headers, tables, scans) in a JPEG image:
#: encoders write a few dozen; a flood of empty APPn segments made PIL and OpenCV walk
#: millions of them (60 MB of them: 31 s and 1.5 GB for an 8×8 image).
MAX_JPEG_SEGMENTS = 4096
#: At most this many extension sub-blocks before a GIF's first image: PIL reads each in
#: Python when it opens the file (2.5 million graphic-control extensions: 1.8 s per 20 MB).
MAX_GIF_SUB_BLOCKS = 65_536
#: A PPM/PGM/PBM header (magic, size, maximum value and comments) must end within this many
#: bytes: PIL reads it a byte at a time (a 200 MB comment: 45 s).
MAX_PNM_HEADER_BYTES = 64 * 1024
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
    elif data[:2] in _PNM_TOKENS:
        _check_pnm(name, data)
    elif data.startswith(b"BM"):
        _check_bmp(name, data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        _check_gif(name, data)


_GIF_EXTENSION = 0x21


def _check_gif(name: str, data: bytes) -> None:
    if len(data) < 13:
        return
    packed = data[10]  # the logical screen's flags: a global colour table, and its size
    position = 13 + ((3 << ((packed & 7) + 1)) if packed & 0x80 else 0)
    blocks, end = 0, len(data)
    # Extensions (introducer 0x21, a label, sub-blocks ended by an empty one) up to the first
    # image descriptor; anything else is the decoder's to read.
    while position < end and data[position] == _GIF_EXTENSION:
        position += 2
        while position < end:
            size = data[position]
            position += 1 + size
            blocks += 1
            if blocks > MAX_GIF_SUB_BLOCKS:
                raise DataError(
                    f"{name}: refused: a GIF with more than {MAX_GIF_SUB_BLOCKS:,} extension "
                    "blocks before its first image (the decoder reads each one)"
                )
            if size == 0:
                break


#: The header fields after the magic of each PNM kind PIL reads: width and height, and the
#: maximum value (or, for Pf, the scale) where the kind has one.
_PNM_TOKENS = {b"P1": 2, b"P4": 2, b"P2": 3, b"P3": 3, b"P5": 3, b"P6": 3, b"Pf": 3}
_PNM_COMMENT = re.compile(rb"#[^\n\r]*")


def _check_pnm(name: str, data: bytes) -> None:
    fields = _PNM_TOKENS[data[:2]]
    head = _PNM_COMMENT.sub(b" ", data[2 : 2 + MAX_PNM_HEADER_BYTES])
    # Not all the fields within the window, in a file longer than it (a shorter one is the
    # decoder's to call truncated).
    if len(head.split(None, fields)) < fields and len(data) > 2 + MAX_PNM_HEADER_BYTES:
        raise DataError(
            f"{name}: refused: a PNM header longer than {MAX_PNM_HEADER_BYTES:,} bytes "
            "(its size and maximum value come within a few lines; a longer one is padding "
            "the decoder reads a byte at a time)"
        )


#: Run-length compression of BMP: RLE8, RLE4.
_BMP_RLE = (1, 2)


def _check_bmp(name: str, data: bytes) -> None:
    if len(data) < 34:
        return
    header_size, width, height = struct.unpack_from("<Iii", data, 14)
    if header_size < 40:  # the OS/2 header has no compression field
        return
    (compression,) = struct.unpack_from("<I", data, 30)
    if compression not in _BMP_RLE:
        return
    # The longest real run-length data of a W×H image: every pixel written literally, two
    # bytes of code per 255 of them, an end-of-line per row and an end of bitmap.
    pixels = abs(width) * abs(height)
    allowed = pixels + 2 * (pixels // 255 + abs(height)) + 4 * abs(height) + 4096
    (offset,) = struct.unpack_from("<I", data, 10)
    if len(data) - min(offset, len(data)) > allowed:
        raise DataError(
            f"{name}: refused: a {abs(width)}x{abs(height)} run-length BMP with "
            f"{len(data) - offset:,} bytes of pixel data (at most {allowed:,}; the decoder reads "
            "its codes one by one)"
        )


def _check_jpeg(name: str, data: bytes) -> None:
    scans, segments = _jpeg_segments(data, MAX_JPEG_SCANS, MAX_JPEG_SEGMENTS)
    if scans > MAX_JPEG_SCANS:
        raise DataError(
            f"{name}: refused: a JPEG with more than {MAX_JPEG_SCANS:,} scans (at most "
            f"{MAX_JPEG_SCANS:,} are read; encoders write about 10, and each scan is decoded "
            "over the whole image)"
        )
    if segments > MAX_JPEG_SEGMENTS:
        raise DataError(
            f"{name}: refused: a JPEG with more than {MAX_JPEG_SEGMENTS:,} marker segments "
            "(encoders write a few dozen; the decoders walk each one)"
        )


# A marker: 0xFF then a byte that is not a stuffed zero, a restart marker or a fill byte.
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_EOI, _SOS_MARKER, _TEM = 0xD9, 0xDA, 0x01


def _jpeg_segments(data: bytes, scan_limit: int, segment_limit: int) -> tuple[int, int]:
    """``(scans, segments)``: the start-of-scan markers and all marker segments of the image
    a JPEG's first end marker closes, the walk stopping once either passes its limit.
    Segments are skipped by their lengths (an EXIF thumbnail's scans, or the bytes FF DA
    inside a comment, do not count), entropy-coded data by a search for the next marker (a
    0xFF there is followed by 0x00 or a restart marker), and what follows the end marker (a
    motion photo's video) is not read."""
    scans = segments = 0
    position, end = len(_SOI), len(data)
    while (found := _MARKER.search(data, position)) is not None:
        start = found.start()
        marker = data[start + 1]
        if marker == _EOI:
            break
        segments += 1
        if segments > segment_limit:
            break
        if marker in (_SOI[1], _TEM) or start + 4 > end:  # no length field
            position = start + 2
            continue
        if marker == _SOS_MARKER:
            scans += 1
            if scans > scan_limit:
                break
        (length,) = struct.unpack_from(">H", data, start + 2)
        position = start + 2 + max(length, 2)
    return scans, segments


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
