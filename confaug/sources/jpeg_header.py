"""Read a JPEG's size, channel count and EXIF orientation from its markers, without PIL.

Parsing the header with PIL costs about a fifth of decoding a 400 px JPEG, all of it Python
holding the GIL, which thread workers then queue for. Plain JPEGs only need the start-of-frame
segment and the EXIF orientation tag, which this module reads directly. Anything it is not
sure about (an unusual marker layout, 12-bit samples, CMYK, multi-picture files, XMP that may
carry the orientation, malformed EXIF) returns None, and the caller falls back to PIL, so the
two paths agree wherever this one answers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_SOI = b"\xff\xd8"
# Start-of-frame markers: every Cn except DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
# Start-of-frame markers of arithmetic-coded JPEGs (C9–CB, CD–CF), and of progressive ones.
_ARITHMETIC_SOF = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PROGRESSIVE_SOF = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_SOS = 0xDA
# Segments with a length field that may come before the scan: DHT, DAC, DQT, DRI, APPn, COM.
# Anything else there (standalone RSTn/SOI/EOI, DNL, DHP, JPGn, ...) is left to PIL.
_HEADER_MARKERS = frozenset({0xC4, 0xCC, 0xDB, 0xDD, 0xFE, *range(0xE0, 0xF0)})
_APP1 = 0xE1
_APP2 = 0xE2
_EXIF_PREFIX = b"Exif\x00\x00"
_XMP_PREFIX = b"http://ns.adobe.com/xap/1.0/\x00"
_MPF_PREFIX = b"MPF\x00"
_ORIENTATION_TAG = 0x0112
_SHORT, _LONG = 3, 4
# Bytes per value of the TIFF field types (1 BYTE ... 12 DOUBLE).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_ABSENT = object()  # no orientation tag: upright
_ODD = object()  # a structure PIL may read differently


@dataclass(frozen=True)
class JpegHeader:
    """What decoding needs to know before any pixel is decoded."""

    width: int
    height: int
    components: int
    orientation: int
    #: Arithmetic-coded (SOF9–SOF15) rather than Huffman-coded.
    arithmetic: bool = False
    #: Progressive (several scans refine the coefficients).
    progressive: bool = False
    #: Offset of the first start-of-scan marker.
    first_scan: int = 0


def read_jpeg_header(data: bytes) -> JpegHeader | None:
    """The header of a plain 8-bit gray or colour JPEG; None for anything else or anything odd."""
    if not data.startswith(_SOI):
        return None
    frame: tuple[int, int, int] | None = None
    arithmetic = progressive = False
    exif: bytes | None = None
    has_xmp = False
    position = 2
    end = len(data)
    while position + 4 <= end:
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        (length,) = struct.unpack_from(">H", data, position + 2)
        payload_start, payload_end = position + 4, position + 2 + length
        if length < 2 or payload_end > end:
            return None
        if marker == _SOS:
            break
        if marker not in _SOF_MARKERS and marker not in _HEADER_MARKERS:
            return None
        if marker in _SOF_MARKERS:
            if frame is not None:
                return None
            frame = _frame(data[payload_start:payload_end])
            if frame is None:
                return None
            arithmetic = marker in _ARITHMETIC_SOF
            progressive = marker in _PROGRESSIVE_SOF
        elif marker == _APP1:
            payload = data[payload_start:payload_end]
            if payload.startswith(_EXIF_PREFIX):
                if exif is not None:  # PIL joins several EXIF segments; leave that to PIL
                    return None
                exif = payload[len(_EXIF_PREFIX) :]
            elif payload.startswith(_XMP_PREFIX):
                has_xmp = True
        elif marker == _APP2 and data.startswith(_MPF_PREFIX, payload_start):
            return None  # a multi-picture file, which PIL opens as MPO
        position = payload_end
    else:
        return None  # no start-of-scan: truncated or not a JPEG stream
    if frame is None:
        return None
    orientation = _orientation(exif) if exif is not None else _ABSENT
    if orientation is _ODD or (orientation is _ABSENT and has_xmp):
        return None  # unreadable EXIF, or XMP that PIL would search for an orientation
    width, height, components = frame
    upright = orientation if isinstance(orientation, int) else 1
    return JpegHeader(width, height, components, upright, arithmetic, progressive, position)


@dataclass(frozen=True)
class Scan:
    """One start-of-scan header: its components and spectral band, and the bit it refines."""

    components: tuple[int, ...]
    start: int  # Ss, the band's first coefficient (zigzag order)
    stop: int  # Se, its last
    approximation: int  # Ah << 4 | Al; Al = 0 brings the band to full precision


def scans(data: bytes, header: JpegHeader) -> list[Scan] | None:
    """Every scan header of a JPEG from its first; None when one is cut off.

    Start-of-scan markers cannot occur inside entropy-coded data (a 0xFF there is followed by
    0x00 or a restart marker), so the scans are found by searching for them from the first.
    """
    found: list[Scan] = []
    position = header.first_scan
    end = len(data)
    while position >= 0 and position + 5 <= end:
        (length,) = struct.unpack_from(">H", data, position + 2)
        count = data[position + 4]
        tail = position + 5 + 2 * count
        if tail + 3 > end:
            return None
        components = tuple(data[position + 5 : tail : 2])
        found.append(Scan(components, data[tail], data[tail + 1], data[tail + 2]))
        position = data.find(b"\xff\xda", position + 2 + length)
    return found


def scans_cover_every_coefficient(data: bytes, header: JpegHeader) -> bool:
    """Whether the scans of a progressive JPEG bring every coefficient of every component to
    full precision (a last scan with ``Al = 0`` over it), as complete files do.

    A file cut short, with an end marker appended, lacks its last scans.
    """
    return covers_every_coefficient(scans(data, header) or [], header.components)


def covers_every_coefficient(found: list[Scan], components: int) -> bool:
    """Whether the scans ``found`` (:func:`scans`) bring every coefficient of each of the
    ``components`` to full precision: :func:`scans_cover_every_coefficient`, for a caller
    that has the scans already."""
    finished: dict[int, int] = {}
    for scan in found:
        if scan.approximation & 0x0F == 0 and scan.start <= scan.stop <= 63:
            band = ((1 << (scan.stop + 1)) - 1) ^ ((1 << scan.start) - 1)
            for component in scan.components:
                finished[component] = finished.get(component, 0) | band
    everything = (1 << 64) - 1
    return len(finished) == components and all(bands == everything for bands in finished.values())


#: (row, column) of each coefficient in zigzag order, as scans number them.
ZIGZAG: tuple[tuple[int, int], ...] = tuple(
    sorted(
        ((row, col) for row in range(8) for col in range(8)),
        key=lambda rc: (rc[0] + rc[1], rc[0] if (rc[0] + rc[1]) % 2 else rc[1]),
    )
)


def _frame(payload: bytes) -> tuple[int, int, int] | None:
    """``(width, height, components)`` of a start-of-frame payload PIL would open as L or RGB."""
    if len(payload) < 6:
        return None
    precision, height, width, components = struct.unpack_from(">BHHB", payload)
    if precision != 8 or components not in (1, 3) or height == 0 or width == 0:
        return None
    return width, height, components


def _orientation(tiff: bytes) -> int | object:
    """IFD0's orientation tag, :data:`_ABSENT` without one, :data:`_ODD` for odd structure."""
    if tiff.startswith(b"II*\x00"):
        order = "<"
    elif tiff.startswith(b"MM\x00*"):
        order = ">"
    else:
        return _ODD
    if len(tiff) < 8:
        return _ODD
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd < 8 or ifd + 2 > len(tiff):
        return _ODD
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    if ifd + 2 + 12 * count > len(tiff):
        return _ODD
    found: int | object = _ABSENT
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, kind, values = struct.unpack_from(order + "HHI", tiff, entry)
        size = _TYPE_SIZES.get(kind, 0) * values
        if size > 4:  # the values live elsewhere: PIL stops at an entry pointing outside
            (offset,) = struct.unpack_from(order + "I", tiff, entry + 8)
            if offset + size > len(tiff):
                return _ODD
        if tag != _ORIENTATION_TAG:
            continue
        if found is not _ABSENT or values != 1 or kind not in (_SHORT, _LONG):
            return _ODD
        (found,) = struct.unpack_from(order + ("H" if kind == _SHORT else "I"), tiff, entry + 8)
    return found
