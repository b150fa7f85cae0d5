"""The JPEG marker reader agrees with PIL wherever it answers, and declines everything odd."""

from __future__ import annotations

import io
import os
import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from confaug.sources import decode as decode_module
from confaug.sources.decode import DecodeOptions, decode_image, open_image
from confaug.sources.jpeg_header import JpegHeader, read_jpeg_header


def pil_jpeg(size: tuple[int, int] = (40, 30), mode: str = "RGB", **save: object) -> bytes:
    """A JPEG written by PIL; ``size`` is (width, height)."""
    rng = np.random.default_rng(sum(size))
    channels = {"L": 1, "RGB": 3, "CMYK": 4}[mode]
    pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    image = Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **save)
    return buffer.getvalue()


def with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more segment right after its start-of-image marker."""
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def tiff_ifd(order: str, entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A TIFF header and IFD0 holding ``(tag, type, count, 4-byte value)`` entries."""
    head = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", 8)
    body = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(order + "HHI", tag, kind, count) + value
    return head + body + struct.pack(order + "I", 0)


def exif_orientation(order: str, value: int, kind: int = 3) -> bytes:
    packed = struct.pack(order + ("H" if kind == 3 else "I"), value).ljust(4, b"\x00")
    return b"Exif\x00\x00" + tiff_ifd(order, [(0x0112, kind, 1, packed)])


def pil_view(data: bytes) -> tuple[int, int, str, int]:
    """(width, height, mode, orientation) as PIL reports them."""
    image = Image.open(io.BytesIO(data))
    orientation = int(image.getexif().get(0x0112, 1))
    return image.size[0], image.size[1], image.mode, orientation


def fast_view(header: JpegHeader) -> tuple[int, int, str, int]:
    mode = {1: "L", 3: "RGB"}[header.components]
    return header.width, header.height, mode, header.orientation


PLAIN_CASES = {
    "rgb": pil_jpeg(),
    "gray": pil_jpeg((17, 64), "L"),
    "progressive": pil_jpeg((33, 21), progressive=True),
    "optimized, q30": pil_jpeg((64, 48), quality=30, optimize=True),
    "subsampling 4:4:4": pil_jpeg((20, 20), subsampling=0),
    "with ICC profile": pil_jpeg(icc_profile=b"\x00" * 300),
    "with comment": pil_jpeg(comment=b"made for a test"),
    "opencv, restart markers": cv2.imencode(
        ".jpg",
        np.zeros((50, 70, 3), np.uint8),
        [cv2.IMWRITE_JPEG_RST_INTERVAL, 2],
    )[1].tobytes(),
    "fill bytes between segments": pil_jpeg()[:2] + b"\xff\xff" + pil_jpeg()[2:],
}


@pytest.mark.parametrize("case", sorted(PLAIN_CASES))
def test_plain_jpegs_read_as_pil_reads_them(case: str) -> None:
    data = PLAIN_CASES[case]
    header = read_jpeg_header(data)
    assert header is not None
    assert fast_view(header) == pil_view(data)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_in_either_byte_order(order: str, orientation: int) -> None:
    data = with_segment(pil_jpeg(), 0xE1, exif_orientation(order, orientation))
    header = read_jpeg_header(data)
    assert header is not None and header.orientation == orientation
    assert fast_view(header) == pil_view(data)


def test_orientation_stored_as_long_and_exif_without_orientation() -> None:
    as_long = with_segment(pil_jpeg(), 0xE1, exif_orientation(">", 6, kind=4))
    other_tag = b"Exif\x00\x00" + tiff_ifd("<", [(0x010F, 2, 4, b"Cam\x00")])
    without = with_segment(pil_jpeg(), 0xE1, other_tag)
    for data in (as_long, without):
        header = read_jpeg_header(data)
        assert header is not None
        assert fast_view(header) == pil_view(data)


def test_pil_written_exif() -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    exif[0x010F] = "A camera maker"
    data = pil_jpeg(exif=exif.tobytes())
    header = read_jpeg_header(data)
    assert header is not None and header.orientation == 8
    assert fast_view(header) == pil_view(data)


def cmyk() -> bytes:
    return pil_jpeg(mode="CMYK")


def twelve_bit() -> bytes:
    data = bytearray(pil_jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 4] = 12  # sample precision
    return bytes(data)


def xmp_without_exif() -> bytes:
    xmp = b'http://ns.adobe.com/xap/1.0/\x00<x tiff:Orientation="6"/>'
    return with_segment(pil_jpeg(), 0xE1, xmp)


def two_exif_segments() -> bytes:
    once = with_segment(pil_jpeg(), 0xE1, exif_orientation("<", 3))
    return with_segment(once, 0xE1, exif_orientation("<", 6))


def multi_picture() -> bytes:
    buffer = io.BytesIO()
    first = Image.fromarray(np.zeros((20, 30, 3), np.uint8))
    first.save(buffer, "MPO", save_all=True, append_images=[first])
    return buffer.getvalue()


def odd_exif_type() -> bytes:
    tiff = tiff_ifd("<", [(0x0112, 2, 1, b"6\x00\x00\x00")])  # ASCII, not SHORT
    return with_segment(pil_jpeg(), 0xE1, b"Exif\x00\x00" + tiff)


def exif_entry_pointing_outside() -> bytes:
    """PIL stops reading IFD0 at an entry whose values lie outside the EXIF block."""
    make = (0x010F, 2, 10, struct.pack("<I", 0x7FFF0))
    orientation = (0x0112, 3, 1, struct.pack("<HH", 6, 0))
    return with_segment(pil_jpeg(), 0xE1, b"Exif\x00\x00" + tiff_ifd("<", [make, orientation]))


def restart_marker_in_the_header() -> bytes:
    """A standalone RST0 has no length: reading one would skip the EXIF segment after it."""
    app1 = exif_orientation("<", 6)
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    data = pil_jpeg()
    return data[:2] + b"\xff\xd0" + struct.pack(">H", len(segment) + 2) + segment + data[2:]


DECLINED = {
    "EXIF entry pointing outside": exif_entry_pointing_outside,
    "restart marker before the scan": restart_marker_in_the_header,
    "CMYK": cmyk,
    "12-bit": twelve_bit,
    "XMP that may hold the orientation": xmp_without_exif,
    "two EXIF segments": two_exif_segments,
    "multi-picture (MPO)": multi_picture,
    "EXIF orientation of an odd type": odd_exif_type,
    "cut before the scan": lambda: pil_jpeg()[:150],
    "PNG": lambda: cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes(),
    "garbage between segments": lambda: pil_jpeg()[:2] + b"\x00\x01" + pil_jpeg()[2:],
    "segment longer than the file": lambda: b"\xff\xd8\xff\xe0\xff\xff" + b"\x00" * 10,
    "no bytes after SOI": lambda: b"\xff\xd8",
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_odd_files_are_left_to_pil(case: str) -> None:
    assert read_jpeg_header(DECLINED[case]()) is None


def test_xmp_does_not_matter_when_exif_has_the_orientation() -> None:
    xmp = b'http://ns.adobe.com/xap/1.0/\x00<x tiff:Orientation="6"/>'
    data = with_segment(with_segment(pil_jpeg(), 0xE1, xmp), 0xE1, exif_orientation("<", 3))
    header = read_jpeg_header(data)
    assert header is not None and header.orientation == 3
    assert fast_view(header) == pil_view(data)


MUTATIONS = int(os.environ.get("CONFAUG_JPEG_MUTATIONS", "3000"))


def test_mutated_headers_never_raise_and_agree_with_pil_when_answered() -> None:
    rng = np.random.default_rng(7)
    maker = (0x010F, 2, 3, b"ab\x00\x00")  # an entry before the orientation
    tiff = tiff_ifd(">", [maker, (0x0112, 3, 1, struct.pack(">HH", 5, 0))])
    seed_file = with_segment(pil_jpeg((48, 32)), 0xE1, b"Exif\x00\x00" + tiff)
    header_end = seed_file.find(b"\xff\xda")
    answered = 0
    for _ in range(MUTATIONS):
        data = bytearray(seed_file)
        for _ in range(int(rng.integers(1, 4))):
            at, kind = int(rng.integers(2, header_end)), rng.random()
            if kind < 0.6:
                data[at] = int(rng.integers(0, 256))
            elif kind < 0.8:
                del data[at]
            else:
                data.insert(at, int(rng.integers(0, 256)))
        header = read_jpeg_header(bytes(data))
        if header is None:
            continue
        answered += 1
        try:
            expected = pil_view(bytes(data))
        except Exception:  # PIL refuses it; decoding reports that through OpenCV instead
            continue
        assert fast_view(header) == expected
    assert answered > 100  # most mutations hit pixel tables, not the fields read here


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_open_image_and_decode_match_the_pil_path(
    orientation: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = with_segment(pil_jpeg((40, 24)), 0xE1, exif_orientation("<", orientation))
    options = DecodeOptions(target_size=None)
    fast = open_image(data)
    fast_pixels = decode_image(data, options)
    assert fast.pil is None  # PIL was not needed
    monkeypatch.setattr(decode_module, "read_jpeg_header", lambda _data: None)
    slow = open_image(data)
    assert slow.pil is not None
    assert fast == slow
    np.testing.assert_array_equal(fast_pixels, decode_image(data, options))


def test_pixel_limit_applies_on_the_fast_path() -> None:
    data = pil_jpeg((200, 100))
    assert read_jpeg_header(data) is not None
    with pytest.raises(decode_module.DataError, match="max_pixels=19,999"):
        open_image(data, max_pixels=19_999)
