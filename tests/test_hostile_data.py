"""Hostile data files (issue 16): special files, sizes, containers, odd depths, cut JPEGs.

Every reader goes through ``confaug.sources.file_bytes.read_data_file`` and the one decoder,
so each case is tried through several entry points: a folder (``raise``, and ``skip`` with
0 and 2 workers), a table, ``confaug augment`` and ``confaug preview``. Whatever could block
or exhaust memory if the guard were missing runs in one subprocess (``run_cases``), each case
under its own generous alarm.
"""

from __future__ import annotations

import io
import itertools
import os
import struct
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

import confaug
from confaug.sources.decode import DecodeOptions, decode_as_stored, decode_image, decode_mask
from confaug.sources.file_bytes import read_data_file
from confaug.sources.listing import list_images
from tests.helpers import assert_every_decode_refuses, images, run_cases, save_image

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, devices and symlinks")
KEEP = DecodeOptions(target_size=None)
GOOD = 3  # readable images next to the hostile one


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` gray pixels, holding (almost) none."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (width + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg(pixels: np.ndarray, **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def _make_special(path: Path, kind: str) -> None:
    """A hostile entry at ``path``: a FIFO, a link to an endless device, a sparse 4 GiB file."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind in ("zero", "urandom"):
        os.symlink(f"/dev/{kind}", path)
    elif kind == "sparse":
        with open(path, "wb") as handle:
            handle.truncate(4 * 2**30)
    else:
        raise AssertionError(kind)


def _dataset(root: Path, bad_name: str) -> Path:
    """``root/data/a``: GOOD readable PNGs and room for one bad file; a table of all four."""
    folder = root / "data" / "a"
    for index, pixels in enumerate(images(GOOD, 8)):
        save_image(folder / f"good{index}.png", pixels)
    names = [f"good{index}.png" for index in range(GOOD)] + [bad_name]
    (root / "table.csv").write_text("file\n" + "\n".join(names) + "\n", encoding="utf-8")
    (root / "aug.yaml").write_text("version: 1\nhorizontal_flip: true\n", encoding="utf-8")
    return folder


def read_everywhere(case: list[str]) -> dict[str, Any]:
    """In the subprocess: every entry point over ``root`` (built by ``_dataset``), holding the
    hostile file ``bad``; what each did."""
    import contextlib

    from confaug.cli import main

    root, bad = Path(case[0]), case[1]
    pipe = confaug.load_pipeline(str(root / "aug.yaml"))
    common: dict[str, Any] = {"target_size": (8, 8), "batch_size": 2, "shuffle": False}
    common["epochs"] = 1
    results: dict[str, Any] = {}
    for workers in (0, 2):
        try:
            list(pipe.flow_from_directory(root / "data", workers=workers, **common))
            results[f"raise{workers}"] = "no error"
        except confaug.DataError as err:
            results[f"raise{workers}"] = str(err)
    for workers in (0, 2):
        gen = pipe.flow_from_directory(root / "data", on_error="skip", workers=workers, **common)
        seen = sum(len(batch[0]) for batch in gen)
        results[f"skip{workers}"] = [seen, [Path(p).name for p, _ in gen.skipped]]
    table = pipe.flow_from_dataframe(
        str(root / "table.csv"),
        directory=str(root / "data" / "a"),
        x_col="file",
        class_mode=None,
        validate_filenames=False,
        on_error="skip",
        **common,
    )
    results["table"] = [sum(len(b) for b in table), [Path(p).name for p, _ in table.skipped]]
    augment = ["augment", str(root / "data"), str(root / "out"), "--config"]
    augment += [str(root / "aug.yaml"), "--copies", "1", "-q", "--workers", "2"]
    preview = ["preview", str(root / "aug.yaml"), "--image", str(root / "data" / "a" / bad)]
    preview += ["-n", "1", "-o", str(root / "grid.png")]
    for command in (augment, preview):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(command)
        results[command[0]] = [code, out.getvalue() + err.getvalue()]
    return results


def mask_and_table_fifos(root: str) -> dict[str, str]:
    """In the subprocess: a FIFO as a mask (skipped) and as a table (refused)."""
    folder = Path(root)
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_directory(
        folder / "images",
        mask_dir=folder / "masks",
        target_size=(8, 8),
        on_error="skip",
        epochs=1,
    )
    results = {"mask": "no error", "table": "no error"}
    try:
        list(gen)
    except confaug.DataError as err:
        results["mask"] = str(err)
    results["skipped"] = repr(gen.skipped)
    try:
        pipe.flow_from_dataframe(str(folder / "table.csv"), directory=str(folder / "images"))
    except confaug.DataError as err:
        results["table"] = str(err)
    return results


def run_case(case: list[str]) -> Any:
    """The subprocess's entry for ``run_cases``: ``[kind, root, bad file]``."""
    kind, *rest = case
    return read_everywhere(rest) if kind == "every reader" else mask_and_table_fifos(rest[0])


SPECIALS = [
    ("fifo", "FIFO"),
    ("zero", "character device"),
    ("urandom", "character device"),
    ("sparse", "over the limit"),
]
BOMBS = [(30_000, 30_000), (10_000, 10_000)]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Any]:
    """Every hostile dataset of this file, read in one fresh interpreter (``run_cases``):
    anything that blocks or exhausts memory there fails its case at its alarm."""
    cases: dict[str, list[str]] = {}
    if sys.platform != "win32":
        for kind, _ in SPECIALS:
            root = tmp_path_factory.mktemp(kind)
            _make_special(_dataset(root, "bad.png") / "bad.png", kind)
            cases[kind] = ["every reader", str(root), "bad.png"]
        root = tmp_path_factory.mktemp("fifos")
        save_image(root / "images" / "a.png", images(1, 8)[0])
        (root / "masks").mkdir()
        os.mkfifo(root / "masks" / "a.png")
        os.mkfifo(root / "table.csv")
        cases["fifo mask and table"] = ["fifos", str(root)]
    for width, height in BOMBS:
        root = tmp_path_factory.mktemp("bomb")
        (_dataset(root, "bomb.png") / "bomb.png").write_bytes(_png_claiming(width, height))
        cases[f"bomb {width}x{height}"] = ["every reader", str(root), "bomb.png"]
    return run_cases("tests.test_hostile_data:run_case", cases, what="reading hostile datasets")


def _assert_refused_everywhere(results: dict[str, Any], bad: str, reason: str) -> None:
    for entry in ("raise0", "raise2"):
        assert bad in results[entry] and reason in results[entry], (entry, results[entry])
    for entry in ("skip0", "skip2", "table"):
        assert results[entry] == [GOOD, [bad]], (entry, results[entry])
    code, output = results["augment"]
    assert code == 1 and f"{GOOD} written" in output and bad in output, output
    code, output = results["preview"]
    assert code != 0 and bad in output and reason in output, output


# ---- 1, 2: FIFOs, endless devices, sparse files -------------------------------------------------
@POSIX
@pytest.mark.parametrize(("kind", "reason"), SPECIALS)
def test_special_files_are_refused_by_every_reader_without_blocking(
    hostile: Mapping[str, Any], kind: str, reason: str
) -> None:
    _assert_refused_everywhere(hostile[kind], "bad.png", reason)


@POSIX
def test_a_fifo_as_mask_or_as_table_does_not_block(hostile: Mapping[str, Any]) -> None:
    got = hostile["fifo mask and table"]
    assert "every sample" in got["mask"] and "FIFO" in got["skipped"], got
    assert "table.csv: cannot read file: it is a FIFO" in got["table"], got


@POSIX
def test_a_link_to_a_device_is_judged_by_what_it_leads_to(tmp_path: Path) -> None:
    save_image(tmp_path / "real.png", images(1, 8)[0])
    os.symlink(tmp_path / "real.png", tmp_path / "link.png")
    assert decode_image(tmp_path / "link.png", KEEP).shape == (8, 8, 3)
    os.symlink("/dev/null", tmp_path / "null.jpg")
    with pytest.raises(confaug.DataError, match=r"null\.jpg: cannot read file: it is a character"):
        decode_image(tmp_path / "null.jpg")
    with pytest.raises(confaug.DataError, match="it is a directory"):
        read_data_file(tmp_path)
    with pytest.raises(confaug.DataError, match="no such file"):
        read_data_file(tmp_path / "absent.png")
    with pytest.raises(confaug.DataError, match="NUL"):
        read_data_file(str(tmp_path / "a\0b.png"))


def test_file_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = save_image(tmp_path / "a.png", images(1, 16)[0])
    size = path.stat().st_size
    assert len(read_data_file(path, max_bytes=size)) == size
    with pytest.raises(confaug.DataError, match=r"over the limit of 10 \(max_file_bytes\)"):
        read_data_file(path, max_bytes=10)
    with pytest.raises(confaug.DataError, match="over the limit"):
        decode_image(path, DecodeOptions(max_file_bytes=10))
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_directory(
        tmp_path, classes=[""], max_file_bytes=10, on_error="skip", epochs=1, target_size=(8, 8)
    )
    with pytest.raises(confaug.DataError, match="every sample"):
        list(gen)
    assert [Path(p).name for p, _ in gen.skipped] == ["a.png"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_file_whose_size_is_unknown_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    os.symlink("/proc/self/status", tmp_path / "status.png")  # size 0 on stat, text inside
    with pytest.raises(confaug.DataError, match="more than 16 bytes"):
        read_data_file(tmp_path / "status.png", max_bytes=16)
    with pytest.raises(confaug.DataError, match="not a recognised image") as caught:
        decode_image(tmp_path / "status.png")
    assert "Name" not in str(caught.value)  # never the file's content


# ---- 3, 4: decompression bombs in the CLI; containers that hide their size --------------------
@pytest.mark.parametrize(("width", "height"), BOMBS)
def test_the_cli_refuses_decompression_bombs(
    hostile: Mapping[str, Any], width: int, height: int
) -> None:
    _assert_refused_everywhere(hostile[f"bomb {width}x{height}"], "bomb.png", "bomb")


def _ico_holding(png: bytes) -> bytes:
    directory = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 6 + 16)
    return directory + entry + png


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("icon.png", _ico_holding(_png_claiming(13_000, 13_000))),
        ("small_icon.png", _ico_holding(_png_claiming(300, 300))),
        ("cursor.jpg", b"\x00\x00\x02\x00\x01\x00" + b"\x00" * 40),
        ("vector.jpg", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"),
        ("layers.png", b"8BPS\x00\x01" + b"\x00" * 40),
    ],
)
def test_formats_outside_the_list_are_refused_before_their_header_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # only the format list stands guard
    with pytest.raises(confaug.DataError, match="not a recognised image format") as caught:
        decode_image(path)
    assert str(path) in str(caught.value) and "\\x" not in str(caught.value)


def test_a_decoded_size_must_match_the_header(tmp_path: Path) -> None:
    from confaug.sources import decode

    path = save_image(tmp_path / "a.png", images(1, 8)[0])
    opened = decode.open_image(path)
    lying = decode.OpenedImage(opened.name, opened.data, "PNG", "RGB", 4, 4, 1)
    with pytest.raises(confaug.DataError, match="header says 4x4, its pixels are 8x8"):
        decode_image(lying, KEEP)


# ---- 5: a web of folder links lists each folder once -------------------------------------------
@POSIX
def test_a_symlink_dag_lists_each_folder_once(tmp_path: Path) -> None:
    levels = [tmp_path / f"level{depth}" for depth in range(6)]
    top = levels[0]
    for depth, folder in enumerate(levels):
        save_image(folder / f"img{depth}.png", images(1, 4)[0])
    for upper, lower in itertools.pairwise(levels):
        for copy in range(10):
            os.symlink(lower, upper / f"link{copy}", target_is_directory=True)
    os.symlink(top, levels[-1] / "back_to_top", target_is_directory=True)  # a loop as well
    listed = list_images(str(top), follow_links=True)
    assert sorted(Path(p).name for p in listed) == [f"img{depth}.png" for depth in range(6)]
    assert listed == list_images(str(top), follow_links=True)  # the same paths every time
    assert len(list_images(str(top))) == 1  # links not followed: level0 only


@POSIX
def test_two_links_to_one_class_folder_keep_their_classes(tmp_path: Path) -> None:
    save_image(tmp_path / "shared" / "a.png", images(1, 4)[0])
    (tmp_path / "data").mkdir()
    for name in ("cat", "dog"):
        os.symlink(tmp_path / "shared", tmp_path / "data" / name, target_is_directory=True)
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_directory(tmp_path / "data", follow_links=True, target_size=(4, 4))
    assert gen.filenames == [os.path.join("cat", "a.png"), os.path.join("dog", "a.png")]


# ---- 8: high-bit TIFFs are scaled by what they hold, or refused ---------------------------------
def _tiff(path: Path, values: np.ndarray, mode: str, **tags: Any) -> Path:
    image = Image.fromarray(values, mode)
    info = None
    if tags:
        from PIL.TiffImagePlugin import ImageFileDirectory_v2

        info = ImageFileDirectory_v2()
        for tag, value in tags.items():
            info[int(tag)] = value
    image.save(path, tiffinfo=info) if info is not None else image.save(path)
    return path


def test_a_float_tiff_in_zero_one_is_scaled_to_the_full_range(tmp_path: Path) -> None:
    values = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    path = _tiff(tmp_path / "unit.tif", values, "F")
    eight = decode_image(path, DecodeOptions(target_size=None, color_mode="grayscale"))
    assert np.abs(eight[..., 0].astype(int) - np.rint(values * 255)).max() <= 1
    deep = decode_as_stored(path)
    assert deep.dtype == np.uint16 and np.abs(deep[..., 0] / 65535 - values).max() < 1e-4


def test_a_float_tiff_may_declare_its_own_range(tmp_path: Path) -> None:
    values = np.linspace(0, 255, 64, dtype=np.float32).reshape(8, 8)
    plain = _tiff(tmp_path / "plain.tif", values, "F")
    with pytest.raises(confaug.DataError, match=r"span \[0, 255\], outside \[0, 1\]"):
        decode_image(plain)
    declared = _tiff(tmp_path / "declared.tif", values, "F", **{"340": 0.0, "341": 255.0})
    gray = decode_image(declared, DecodeOptions(target_size=None, color_mode="grayscale"))
    assert np.abs(gray[..., 0].astype(int) - np.rint(values)).max() <= 1


@pytest.mark.parametrize(
    ("values", "mode", "message"),
    [
        (np.array([[0.5, np.nan]], np.float32), "F", "NaN or infinity"),
        (np.array([[0.5, np.inf]], np.float32), "F", "NaN or infinity"),
        (np.array([[-0.5, 0.5]], np.float32), "F", "outside"),
        (np.array([[0, 6_300_000]], np.int32), "I", "beyond the 16 bits"),
        (np.array([[-5, 100]], np.int32), "I", "beyond the 16 bits"),
    ],
)
def test_high_bit_tiffs_that_cannot_be_scaled_are_refused(
    tmp_path: Path, values: np.ndarray, mode: str, message: str
) -> None:
    path = _tiff(tmp_path / "odd.tif", values, mode)
    for decode in (decode_image, decode_as_stored):
        with pytest.raises(confaug.DataError, match=message) as caught:
            decode(path)
        assert "odd.tif" in str(caught.value)


def test_thirty_two_bit_integers_within_sixteen_bits_are_read_as_sixteen(tmp_path: Path) -> None:
    values = (np.arange(64, dtype=np.int32).reshape(8, 8) * 1000).astype(np.int32)
    deep = decode_as_stored(_tiff(tmp_path / "wide.tif", values, "I"))
    assert deep.dtype == np.uint16 and np.array_equal(deep[..., 0], values)


def test_float_masks_with_nan_are_refused(tmp_path: Path) -> None:
    path = _tiff(tmp_path / "mask.tif", np.array([[1.0, np.nan]], np.float32), "F")
    with pytest.raises(confaug.DataError, match="mask holds NaN"):
        decode_mask(path)


def test_bad_high_bit_files_are_skipped_in_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "a"
    for index, pixels in enumerate(images(2, 8)):
        save_image(folder / f"good{index}.png", pixels)
    _tiff(folder / "nan.tif", np.full((8, 8), np.nan, np.float32), "F")
    _tiff(folder / "wide.tif", np.full((8, 8), 2**20, np.int32), "I")
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_directory(
        tmp_path / "data", target_size=(8, 8), on_error="skip", epochs=1, shuffle=False
    )
    assert sum(len(x) for x, _ in gen) == 2
    assert sorted(Path(p).name for p, _ in gen.skipped) == ["nan.tif", "wide.tif"]


# ---- 9: JPEGs cut short, with an end marker appended, or claiming a size they cannot hold -------
def _smooth(height: int, width: int) -> np.ndarray:
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows * 255 // height, cols * 255 // width, (rows + cols) % 256], -1).astype(
        np.uint8
    )


@pytest.mark.parametrize("keep", [0.05, 0.3, 0.5, 0.75])  # progressive: before its last scan
@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("gray", [False, True])
def test_a_cut_jpeg_with_an_end_marker_appended_is_refused(
    tmp_path: Path, keep: float, progressive: bool, gray: bool
) -> None:
    pixels = images(1, (120, 160))[0]
    pixels = pixels[..., 0] if gray else pixels
    data = _jpeg(pixels, progressive=progressive)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: int(len(data) * keep)] + b"\xff\xd9")
    assert_every_decode_refuses(  # (15, 20): the reduced (1/8) decode
        path, (15, 20), r"cut\.jpg: .*truncated JPEG", stored="truncated JPEG"
    )


def test_a_jpeg_claiming_a_size_it_cannot_hold_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytearray(_jpeg(images(1, 16)[0]))
    frame = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, frame + 5, 9000, 9000)
    path = tmp_path / "forged.jpg"
    path.write_bytes(bytes(data))

    def no_decoding(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("decoded a JPEG whose size is forged")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    with pytest.raises(confaug.DataError, match=r"9000x9000 JPEG needs at least 158,203 bytes"):
        decode_image(path)


@pytest.mark.parametrize("value", [128, 127, 129])
def test_complete_jpegs_with_grey_corners_still_decode(tmp_path: Path, value: int) -> None:
    flat = np.full((40, 48, 3), value, np.uint8)
    flat[:8, :8] = 20  # a picture, grey where the check looks
    for name, data in (("flat.jpg", _jpeg(flat)), ("prog.jpg", _jpeg(flat, progressive=True))):
        path = tmp_path / name
        path.write_bytes(data)
        for options in (KEEP, DecodeOptions(target_size=(5, 6)), DecodeOptions(decoder="pil")):
            decoded = decode_image(path, options)
            assert abs(int(decoded[-1, -1, 0]) - value) <= 2


def test_a_jpeg_with_trailing_bytes_after_its_end_is_not_refused(tmp_path: Path) -> None:
    smooth = _smooth(32, 40)
    path = tmp_path / "tail.jpg"
    path.write_bytes(_jpeg(smooth) + b"trailing bytes")
    assert np.abs(decode_image(path, KEEP).astype(int) - smooth).mean() < 6
