"""Small, valid files whose structure would make a decoder spend minutes or gigabytes are
refused on their bytes, before a decoder sees them; ordinary files of each format still read."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import confaug
from confaug.sources import container_limits
from confaug.sources.decode import decode_image, decode_options, open_image


def _gradient(side: int) -> np.ndarray:
    ramp = np.linspace(0, 255, side, dtype=np.float32)
    return (ramp[None, :] * 0.5 + ramp[:, None] * 0.5).astype(np.uint8)


def _progressive_jpeg(side: int = 64) -> bytes:
    out = io.BytesIO()
    Image.fromarray(_gradient(side)).save(out, "JPEG", progressive=True, quality=80)
    return out.getvalue()


def _scan_segments(data: bytes) -> tuple[bytes, list[bytes]]:
    """The bytes before the first scan, and each scan (its header and entropy data)."""
    first = data.index(b"\xff\xda")
    scans, start = [], first
    while True:
        following = data.find(b"\xff\xda", start + 2)
        if following < 0:
            scans.append(data[start : data.rindex(b"\xff\xd9")])
            return data[:first], scans
        scans.append(data[start:following])
        start = following


def _repeated_scans(repeats: int) -> bytes:
    """A progressive JPEG whose smallest scan is sent ``repeats`` more times (each repeat
    refines nothing libjpeg has not seen, and is decoded over the whole image again)."""
    head, scans = _scan_segments(_progressive_jpeg())
    return head + b"".join(scans) + min(scans, key=len) * repeats + b"\xff\xd9"


def _tiled_tiff(side: int, tile: int, big: bool = False) -> bytes:
    """A grey ``side``² TIFF in ``tile``² tiles that all point at one block of zeros."""
    count = (side // tile) ** 2
    block = bytes(tile * tile)
    if big:
        entry, pack_count, offset_type, word = "<HHQQ", "<Q", 16, "Q"
        header_size = 16
    else:
        entry, pack_count, offset_type, word = "<HHII", "<H", 4, "I"
        header_size = 8
    size = struct.calcsize("<" + word)
    data_at = header_size
    offsets_at = data_at + len(block)
    counts_at = offsets_at + size * count
    ifd_at = counts_at + size * count
    tags = [
        (256, 4, 1, side),
        (257, 4, 1, side),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (277, 3, 1, 1),
        (322, 3, 1, tile),
        (323, 3, 1, tile),
        (324, offset_type, count, offsets_at),
        (325, offset_type, count, counts_at),
    ]
    if big:
        head = b"II+\x00" + struct.pack("<HHQ", 8, 0, ifd_at)
    else:
        head = b"II*\x00" + struct.pack("<I", ifd_at)
    out = bytearray(head) + block
    out += struct.pack(f"<{count}{word}", *([data_at] * count))
    out += struct.pack(f"<{count}{word}", *([len(block)] * count))
    out += struct.pack(pack_count, len(tags))
    for tag, kind, number, value in tags:
        if kind == 3 and number == 1:  # a SHORT sits at the start of the value field
            value_field = struct.pack("<H", value).ljust(8 if big else 4, b"\x00")
            out += struct.pack("<HH", tag, kind)
            out += struct.pack("<Q" if big else "<I", number) + value_field
        else:
            out += struct.pack(entry, tag, kind, number, value)
    out += struct.pack("<" + word, 0)
    return bytes(out)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_in_chunks(pieces: int, side: int = 64, empty: int = 0) -> bytes:
    """A grey PNG whose image data is cut into ``pieces`` chunks, then ``empty`` empty ones."""
    rows = b"".join(b"\x00" + bytes(_gradient(side)[row]) for row in range(side))
    packed = zlib.compress(rows, 9)
    step = max(1, -(-len(packed) // pieces))
    chunks = [packed[i : i + step] for i in range(0, len(packed), step)]
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + b"".join(_png_chunk(b"IDAT", chunk) for chunk in chunks)
        + _png_chunk(b"IDAT", b"") * empty
        + _png_chunk(b"IEND", b"")
    )


# ---- JPEG --------------------------------------------------------------------------------


def test_a_jpeg_with_thousands_of_repeated_scans_is_refused_before_decoding() -> None:
    bomb = _repeated_scans(container_limits.MAX_JPEG_SCANS + 10)
    with pytest.raises(
        confaug.DataError, match=r"<bytes>: refused: a JPEG with more than 500 scans"
    ):
        open_image(bomb)


def test_the_scan_bound_is_exact_and_ordinary_progressive_jpegs_decode() -> None:
    plain = _progressive_jpeg()
    scans_in_plain = plain.count(b"\xff\xda")
    assert 2 < scans_in_plain < 20  # what PIL's encoder writes
    at_bound = _repeated_scans(container_limits.MAX_JPEG_SCANS - scans_in_plain)
    container_limits.check_container("at.jpg", at_bound)  # the bound itself is allowed
    over = _repeated_scans(container_limits.MAX_JPEG_SCANS - scans_in_plain + 1)
    with pytest.raises(
        confaug.DataError, match=r"over\.jpg: refused: a JPEG with more than 500 scans"
    ):
        container_limits.check_container("over.jpg", over)
    options = decode_options(target_size=None, color_mode="grayscale")
    assert decode_image(plain, options).shape == (64, 64, 1)


def test_the_scan_bound_holds_for_jpegs_the_header_reader_leaves_to_pil(tmp_path: Path) -> None:
    """A CMYK JPEG goes to PIL (not the fast header reader): the bound still applies."""
    out = io.BytesIO()
    Image.new("CMYK", (32, 32), (10, 20, 30, 40)).save(out, "JPEG", progressive=True)
    head, scans = _scan_segments(out.getvalue())
    bomb = head + b"".join(scans) + scans[-1] * container_limits.MAX_JPEG_SCANS + b"\xff\xd9"
    path = tmp_path / "cmyk.jpg"
    path.write_bytes(bomb)
    with pytest.raises(confaug.DataError, match=r"cmyk\.jpg: refused: a JPEG with"):
        open_image(path)


def test_scan_markers_outside_the_image_are_not_counted() -> None:
    """Bytes FF DA after the end marker (a motion photo's appended video), inside a comment
    segment, or in an EXIF thumbnail are not scans of the image: they are not counted."""
    plain = _progressive_jpeg()
    marker = b"\xff\xda"
    noise = (marker + b"\x00\x08\x01\x01\x00\x00?\x00") * (container_limits.MAX_JPEG_SCANS + 5)
    appended = plain + noise  # after the end marker
    container_limits.check_container("motion.jpg", appended)
    comment = noise[:60000]
    com = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    commented = plain[:2] + com + plain[2:]
    container_limits.check_container("comment.jpg", commented)
    assert container_limits._jpeg_segments(commented, 500, 4096)[0] == plain.count(marker)


# ---- TIFF --------------------------------------------------------------------------------


@pytest.mark.parametrize("big", [False, True], ids=["tiff", "bigtiff"])
def test_a_tiff_in_tiles_smaller_than_tiff_allows_is_refused(big: bool) -> None:
    with pytest.raises(confaug.DataError, match="tiles of 8x8 pixels"):
        open_image(_tiled_tiff(256, 8, big=big))


def test_a_tiff_in_too_many_tiles_is_refused() -> None:
    side = 16 * 257  # 257² tiles of 16×16: legal tiles, more of them than the bound
    assert (side // 16) ** 2 > container_limits.TIFF_CHUNKS_ALWAYS_ALLOWED
    with pytest.raises(
        confaug.DataError, match=r"a TIFF of [\d,]+ bytes in [\d,]+ tiles \(at most"
    ):
        open_image(_tiled_tiff(side, 16))


@pytest.mark.parametrize("big", [False, True], ids=["tiff", "bigtiff"])
def test_a_tiff_in_legal_tiles_still_decodes(big: bool) -> None:
    pixels = decode_image(_tiled_tiff(64, 16, big=big), decode_options(target_size=None))
    assert pixels.shape == (64, 64, 3)
    assert not pixels.any()  # every tile is the one block of zeros


def test_a_tiff_in_too_many_strips_is_refused() -> None:
    height = container_limits.TIFF_CHUNKS_ALWAYS_ALLOWED + 1
    rows = np.zeros((height, 1), np.uint8)
    out = io.BytesIO()
    # PIL writes one strip per 64 KiB by default; one row per strip is what a bomb uses.
    Image.fromarray(rows).save(out, "TIFF", tiffinfo={278: 1})
    data = out.getvalue()
    fields = container_limits._first_ifd(data)
    assert fields is not None and fields[273][0] == height  # one strip a row, as intended
    with pytest.raises(confaug.DataError, match=r"a TIFF of [\d,]+ bytes in [\d,]+ strips"):
        open_image(data)


def test_an_ordinary_pil_tiff_reads() -> None:
    out = io.BytesIO()
    Image.fromarray(np.dstack([_gradient(48)] * 3)).save(out, "TIFF")
    assert decode_image(out.getvalue(), decode_options(target_size=None)).shape == (48, 48, 3)


# ---- PNG ---------------------------------------------------------------------------------


def test_a_png_split_into_millions_of_chunks_is_refused() -> None:
    bomb = _png_in_chunks(4, empty=container_limits.PNG_CHUNKS_ALWAYS_ALLOWED + 5)
    with pytest.raises(confaug.DataError, match=r"a PNG of [\d,]+ bytes in more than"):
        open_image(bomb)


def test_a_png_in_many_small_chunks_under_the_bound_still_decodes() -> None:
    many = _png_in_chunks(400, side=64)  # chunks of a few bytes: odd, but few of them
    pixels = decode_image(many, decode_options(target_size=None, color_mode="grayscale"))
    np.testing.assert_array_equal(pixels[..., 0], _gradient(64))


def test_a_folder_with_a_bomb_skips_it_by_name(tmp_path: Path) -> None:
    """Through the API a user calls: the bomb is a skipped file, named; the others are read."""
    folder = tmp_path / "data" / "cls"
    folder.mkdir(parents=True)
    Image.fromarray(_gradient(32)).save(folder / "good.png")
    (folder / "bomb.jpg").write_bytes(_repeated_scans(container_limits.MAX_JPEG_SCANS + 1))
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_directory(
        tmp_path / "data", target_size=(16, 16), batch_size=2, on_error="skip", seed=0
    )
    x, _ = gen[0]
    assert len(x) == 1
    assert [name.endswith("bomb.jpg") for name, _ in gen.skipped] == [True]
    assert "scans" in gen.skipped[0][1]


def test_a_large_tiff_in_many_real_strips_is_allowed() -> None:
    """Strips beyond the fixed allowance are fine when the file holds data for them (about
    a kilobyte a strip or more): only the count per byte of file is bounded."""
    count = container_limits.TIFF_CHUNKS_ALWAYS_ALLOWED + 1
    minimal = _strip_ifd(count, strip_bytes=0)
    padded = minimal + bytes(count * container_limits.TIFF_BYTES_PER_CHUNK)
    with pytest.raises(confaug.DataError, match="strips"):
        container_limits.check_container("few-bytes.tif", minimal)
    container_limits.check_container("real.tif", padded)  # passes: data for every strip


def _strip_ifd(count: int, strip_bytes: int) -> bytes:
    """A classic little-endian TIFF header and first IFD declaring ``count`` strips."""
    entries = [(256, 4, 1, 1), (257, 4, 1, count), (273, 4, count, 8), (279, 4, count, 8)]
    ifd = struct.pack("<H", len(entries))
    ifd += b"".join(struct.pack("<HHII", *entry) for entry in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + bytes(strip_bytes)


# ---- JPEG segments, PNM headers, run-length BMPs -----------------------------------------


def _tiny_jpeg(mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (8, 8), (90,) * len(mode)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "CMYK"])
def test_a_jpeg_flooded_with_empty_segments_is_refused(mode: str) -> None:
    """Legal empty APP1 segments, millions of them: OpenCV and PIL walk each one (60 MB of
    them cost 31 s and 1.5 GB). The walk stops at the bound, so the refusal is quick."""
    plain = _tiny_jpeg(mode)
    flood = plain[:2] + b"\xff\xe1\x00\x02" * 200_000 + plain[2:]
    with pytest.raises(confaug.DataError, match=r"more than 4,096 marker segments"):
        open_image(flood)
    some = plain[:2] + b"\xff\xe1\x00\x02" * 100 + plain[2:]  # odd, but few
    assert open_image(some).width == 8


def _ppm(header_padding: bytes) -> bytes:
    return b"P6\n" + header_padding + b"4 2\n255\n" + bytes(range(24))


@pytest.mark.parametrize("padding", [b"#" + b"a" * 70_000 + b"\n", b" " * 70_000])
def test_a_pnm_header_padded_past_64_kib_is_refused(padding: bytes) -> None:
    with pytest.raises(confaug.DataError, match=r"a PNM header longer than 65,536 bytes"):
        open_image(_ppm(padding))


def test_an_ordinary_pnm_with_comments_decodes() -> None:
    data = _ppm(b"# made by hand\n# another comment\n")
    pixels = decode_image(data, decode_options(target_size=None))
    assert pixels.shape == (2, 4, 3)
    assert pixels.reshape(-1).tolist() == list(range(24))


def _rle8_bmp(width: int, height: int, body: bytes) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(body), 0, 0, 256, 0)
    offset = 14 + 40 + 1024
    head = b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset)
    palette = b"".join(bytes((i, i, i, 0)) for i in range(256))
    return head + info + palette + body


def _rows(width: int, height: int) -> bytes:
    """Each row one run of its own grey level, then end-of-line; then end of bitmap."""
    return b"".join(bytes((width, row, 0, 0)) for row in range(height))[:-2] + b"\x00\x01"


def test_a_run_length_bmp_of_far_more_codes_than_pixels_is_refused() -> None:
    noops = b"\x00\x02\x00\x00" * 100_000  # "move by (0, 0)", 400 KB of them
    with pytest.raises(confaug.DataError, match=r"a 16x16 run-length BMP with [\d,]+ bytes"):
        open_image(_rle8_bmp(16, 16, noops + _rows(16, 16)))


def test_an_ordinary_run_length_bmp_decodes() -> None:
    pixels = decode_image(_rle8_bmp(16, 16, _rows(16, 16)), decode_options(target_size=None))
    assert pixels.shape == (16, 16, 3)
    assert sorted({int(v) for v in pixels[..., 0].reshape(-1)}) == list(range(16))


def _gif_with_extensions(count: int) -> bytes:
    """A 2×2 GIF whose first image follows ``count`` graphic-control extensions."""
    plain = io.BytesIO()
    Image.new("P", (2, 2), 1).save(plain, "GIF")
    data = plain.getvalue()
    packed = data[10]
    first = 13 + ((3 << ((packed & 7) + 1)) if packed & 0x80 else 0)
    control = b"\x21\xf9\x04\x00\x00\x00\x00\x00"  # a graphic-control extension, no delay
    return data[:first] + control * count + data[first:]


def test_a_gif_flooded_with_extensions_is_refused() -> None:
    with pytest.raises(confaug.DataError, match=r"a GIF with more than 65,536 extension"):
        open_image(_gif_with_extensions(container_limits.MAX_GIF_SUB_BLOCKS))


def test_a_gif_with_a_few_extensions_and_an_animation_decodes() -> None:
    pixels = decode_image(_gif_with_extensions(10), decode_options(target_size=None))
    assert pixels.shape == (2, 2, 3)
    frames = [Image.new("P", (4, 4), i) for i in range(50)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=10, loop=0)
    assert decode_image(out.getvalue(), decode_options(target_size=None)).shape == (4, 4, 3)
