"""Findings of the fifth data probe about files read through the sources: the PyTorch
adapter's stand-in batch, corrupt EXIF, big-endian and RGB masks, LAB to grey, tables that
are no tables, and numbers beyond float32."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import confaug
from confaug.errors import DataError
from confaug.sources.decode import DecodeOptions, decode_image, decode_mask


@pytest.fixture(scope="module")
def ident() -> confaug.Pipeline:
    return confaug.load_pipeline({"version": 1, "transforms": []})


def _pngs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        Image.fromarray(np.full((8, 8, 3), number * 20, np.uint8)).save(folder / f"{number}.png")


# ---- 2. as_torch under skip: a batch of only bad files gets the generator's stand-in --------


def test_torch_batch_of_only_skipped_files_gets_the_stand_in(tmp_path: Path, ident) -> None:
    torch = pytest.importorskip("torch")
    _pngs(tmp_path / "a", 4)
    (tmp_path / "a" / "9.png").write_bytes(b"junk")  # alone in the last batch
    gen = ident.flow_from_directory(
        tmp_path, target_size=(8, 8), batch_size=2, shuffle=False, on_error="skip"
    )
    dataset = gen.as_torch()
    batches = list(torch.utils.data.DataLoader(dataset, batch_size=None))
    assert [len(x) for x, _ in batches] == [2, 2, 2]
    # the same batch as gen[2], which stands in batch 0
    np.testing.assert_array_equal(
        batches[2][0].numpy(), batches[0][0].numpy()
    )  # torch's NCHW of gen[0]
    assert [name for name, _ in dataset.plan.skipped] == [str(tmp_path / "a" / "9.png")]


def test_torch_stand_in_needs_a_readable_file(tmp_path: Path, ident) -> None:
    torch = pytest.importorskip("torch")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.png").write_bytes(b"junk")
    gen = ident.flow_from_directory(tmp_path, target_size=(8, 8), batch_size=2, on_error="skip")
    with pytest.raises(DataError, match="every sample of batch 0 was skipped"):
        list(torch.utils.data.DataLoader(gen.as_torch(), batch_size=None))


# ---- 5. a corrupt EXIF block counts as orientation 1, never quoting bytes -----------------


def _png_with_exif(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.arange(16 * 24 * 3, dtype=np.uint8).reshape(16, 24, 3)).save(buffer, "PNG")
    data = buffer.getvalue()
    chunk = b"eXIf" + payload
    exif = struct.pack(">I", len(payload)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return data[:33] + exif + data[33:]  # after IHDR


def test_corrupt_exif_reads_the_pixels_upright() -> None:
    data = _png_with_exif(b"MM\x00\xf9\x00\x00\x00&secret")
    assert Image.open(io.BytesIO(data)).convert("RGB").size == (24, 16)  # PIL reads it
    pixels = decode_image(data, DecodeOptions(target_size=None))
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(pixels, expected)


def test_decoder_messages_never_quote_bytes() -> None:
    from confaug.sources.decode import _why

    text = _why(SyntaxError("not a TIFF file (header b'MM\\x00\\xf9secret' not valid)"))
    assert "secret" not in text and "MM" not in text and "<bytes>" in text


# ---- 7. big-endian 16-bit TIFF masks --------------------------------------------------------


def test_big_endian_tiff_mask_reads_its_values(tmp_path: Path) -> None:
    values = (np.arange(16 * 24).reshape(16, 24) * 97 % 65536).astype(">u2")
    Image.fromarray(values).save(tmp_path / "m.tif")
    assert Image.open(tmp_path / "m.tif").mode == "I;16B"
    mask = decode_mask(tmp_path / "m.tif")
    assert mask.dtype == np.uint16 and mask.dtype.isnative
    np.testing.assert_array_equal(mask, values.astype(np.uint16))


def test_big_endian_masks_in_a_flow(tmp_path: Path, ident) -> None:
    (tmp_path / "img" / "c").mkdir(parents=True)
    (tmp_path / "mask" / "c").mkdir(parents=True)
    Image.fromarray(np.zeros((16, 24, 3), np.uint8)).save(tmp_path / "img" / "c" / "a.png")
    values = (np.arange(16 * 24).reshape(16, 24) % 5).astype(">u2")
    Image.fromarray(values).save(tmp_path / "mask" / "c" / "a.tif")
    gen = ident.flow_from_directory(
        tmp_path / "img", mask_dir=tmp_path / "mask", target_size=(16, 24), class_mode=None
    )
    np.testing.assert_array_equal(gen[0][1][0], values)


# ---- 8. LAB with color_mode="grayscale" -----------------------------------------------------


def _lab_tiff(path: Path) -> Image.Image:
    rgb = Image.fromarray(np.arange(16 * 24 * 3, dtype=np.uint8).reshape(16, 24, 3))
    from PIL import ImageCms

    lab = ImageCms.applyTransform(
        rgb,
        ImageCms.buildTransformFromOpenProfiles(
            ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
        ),
    )
    assert lab is not None and lab.mode == "LAB"
    lab.save(path)
    return lab


def test_lab_as_grayscale_goes_through_rgb(tmp_path: Path, ident) -> None:
    lab = _lab_tiff(tmp_path / "lab.tif")
    gray = decode_image(
        tmp_path / "lab.tif", DecodeOptions(color_mode="grayscale", target_size=None)
    )
    np.testing.assert_array_equal(gray[:, :, 0], np.asarray(lab.convert("RGB").convert("L")))
    gen = ident.flow_from_dataframe(
        pd.DataFrame({"filename": ["lab.tif"]}),
        tmp_path,
        class_mode=None,
        target_size=None,
        color_mode="grayscale",
        on_error="skip",
    )
    assert gen[0].shape == (1, 16, 24, 1)


def test_a_mode_pil_cannot_convert_is_a_data_error() -> None:
    from confaug.sources.decode import _converted

    class Stuck:
        mode = "XYZ"

        def convert(self, mode: str):
            raise ValueError(f"conversion from XYZ to {mode} not supported")

    with pytest.raises(DataError, match=r"f\.tif: cannot decode image: PIL cannot convert"):
        _converted(Stuck(), "L", "f.tif", "image")  # type: ignore[arg-type]


# ---- 11. a table without the expected columns ----------------------------------------------


def test_missing_columns_name_the_file_and_never_quote_a_line(tmp_path: Path, ident) -> None:
    dotenv = tmp_path / "dotenv"
    dotenv.write_text("AWS_SECRET_ACCESS_KEY=abcd1234\nfoo=bar\n")
    with pytest.raises(DataError) as info:
        ident.flow_from_dataframe(str(dotenv), tmp_path)
    text = str(info.value)
    assert text.startswith(f"{dotenv}: missing column(s)") and "abcd1234" not in text
    assert "AWS" not in text


def test_missing_columns_of_a_real_table_are_listed(tmp_path: Path, ident) -> None:
    table = tmp_path / "t.csv"
    table.write_text("name,label\na.png,x\n")
    with pytest.raises(
        DataError,
        match=r"t\.csv: missing column\(s\) \['filename', 'class'\]; "
        r"the table has \['name', 'label'\]",
    ):
        ident.flow_from_dataframe(str(table), tmp_path)
    one = tmp_path / "one.csv"
    one.write_text("filename\na.png\n")  # a column the caller named is no secret
    with pytest.raises(DataError, match=r"the table has \['filename'\]"):
        ident.flow_from_dataframe(str(one), tmp_path)


def test_nul_in_the_header_is_refused(tmp_path: Path, ident) -> None:
    table = tmp_path / "nul.csv"
    table.write_bytes(b"filename,cl\x00ass\na.png,x\n")
    with pytest.raises(DataError, match=r"nul\.csv: line 1: the header holds a NUL"):
        ident.flow_from_dataframe(str(table), tmp_path)


# ---- 12. one RGB mask among grey ones -------------------------------------------------------


def test_a_mask_of_other_channels_is_its_own_error(tmp_path: Path, ident) -> None:
    (tmp_path / "img" / "c").mkdir(parents=True)
    (tmp_path / "mask" / "c").mkdir(parents=True)
    for name in "abc":
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "img" / "c" / f"{name}.png")
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8) % 3
    Image.fromarray(gray).save(tmp_path / "mask" / "c" / "a.png")
    Image.fromarray(np.stack([gray] * 3, -1)).save(tmp_path / "mask" / "c" / "b.png")
    Image.fromarray(gray).save(tmp_path / "mask" / "c" / "c.png")
    options = {"target_size": (8, 8), "class_mode": None, "batch_size": 3, "shuffle": False}
    gen = ident.flow_from_directory(tmp_path / "img", mask_dir=tmp_path / "mask", **options)
    with pytest.raises(DataError, match=r"mask[/\\]c[/\\]b\.png: mask has 3 channel\(s\)"):
        gen[0]
    skipping = ident.flow_from_directory(
        tmp_path / "img", mask_dir=tmp_path / "mask", on_error="skip", **options
    )
    _, y = skipping[0]
    assert y.shape == (2, 8, 8) and len(skipping.skipped) == 1


def test_masks_of_other_channels_in_one_batch_get_a_channel_hint() -> None:
    from confaug.batching.collate import stack

    with pytest.raises(DataError, match="differ in channels") as info:
        stack([np.zeros((4, 4)), np.zeros((4, 4, 3))], ["a.png", "b.png"], what="masks")
    assert "target_size" not in str(info.value)


# ---- 15. weights and raw labels beyond float32 ----------------------------------------------


def test_numbers_beyond_float32_are_bad_rows(tmp_path: Path, ident) -> None:
    _pngs(tmp_path / "a", 4)
    frame = pd.DataFrame(
        {
            "filename": [f"a/{n}.png" for n in range(4)],
            "class": list("abab"),
            "w": [1.0, 1e39, -1e300, 3.0],
            "r": [1.5, 1e300, 2.5, 3.5],
        }
    )
    options = {"target_size": (8, 8), "batch_size": 4, "shuffle": False}
    weighted = ident.flow_from_dataframe(frame, tmp_path, weight_col="w", **options)
    with pytest.raises(
        DataError, match=r"row 1: column 'w' holds 1e\+39, which does not fit float32"
    ):
        weighted[0]
    skipping = ident.flow_from_dataframe(
        frame, tmp_path, weight_col="w", on_error="skip", **options
    )
    assert np.isfinite(skipping[0][2]).all() and len(skipping[0][2]) == 2
    raw = ident.flow_from_dataframe(
        frame, tmp_path, y_col="r", class_mode="raw", on_error="skip", **options
    )
    y = raw[0][1]
    assert y.dtype == np.float32 and y.tolist() == [1.5, 2.5, 3.5]


# ---- 16. small ones -------------------------------------------------------------------------


def _signed_tiff(values: list[int]) -> bytes:
    """A 2x2 8-bit grey TIFF with SampleFormat 2 (signed)."""
    entries = [
        (256, 4, 1, 2), (257, 4, 1, 2), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, 8 + 2 + 12 * 11 + 4), (277, 3, 1, 1), (278, 4, 1, 2), (279, 4, 1, 4),
        (284, 3, 1, 1), (339, 3, 1, 2),
    ]  # fmt: skip
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<HI", value, 0)[:4] if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + struct.pack("<4b", *values)


def test_signed_8bit_tiff_negatives_are_refused() -> None:
    with pytest.raises(DataError, match=r"signed 8-bit pixels span \[-5, 30\]"):
        decode_image(_signed_tiff([-5, 10, 20, 30]), DecodeOptions(target_size=None))
    pixels = decode_image(_signed_tiff([5, 10, 20, 30]), DecodeOptions(target_size=None))
    assert pixels[:, :, 0].tolist() == [[5, 10], [20, 30]]  # non-negative: read as before


def test_box_interpolation_hint_names_where_it_is_read() -> None:
    with pytest.raises(ValueError) as info:
        DecodeOptions(interpolation="box")
    assert "confaug.keras.ImageDataGenerator" in str(info.value)
    assert "or decoder='pil'" not in str(info.value)


def test_a_bytes_folder_is_read(tmp_path: Path, ident) -> None:
    _pngs(tmp_path / "a", 2)
    gen = ident.flow_from_directory(bytes(tmp_path), target_size=(8, 8))
    assert gen.filepaths == [str(tmp_path / "a" / "0.png"), str(tmp_path / "a" / "1.png")]
    with pytest.raises(TypeError, match=r"directory must be a str, bytes or os\.PathLike"):
        ident.flow_from_directory(3, target_size=(8, 8))


def test_save_to_dir_naming_a_file_is_a_value_error(tmp_path: Path) -> None:
    from confaug.keras import ImageDataGenerator

    (tmp_path / "f").write_text("x")
    for path in (tmp_path / "f", tmp_path / "f" / "sub"):
        with pytest.raises(ValueError, match=r"save_to_dir=.*a file is in the way"):
            ImageDataGenerator().flow(np.zeros((2, 8, 8, 3)), save_to_dir=str(path))


def test_raw_labels_of_int_and_float_columns_are_float32(tmp_path: Path, ident) -> None:
    _pngs(tmp_path / "a", 2)
    frame = pd.DataFrame({"filename": ["a/0.png", "a/1.png"], "a": [1, 2], "b": [0.5, 1.5]})
    gen = ident.flow_from_dataframe(
        frame, tmp_path, y_col=["a", "b"], class_mode="raw", target_size=(8, 8), shuffle=False
    )
    y = gen[0][1]
    assert y.dtype == np.float32 and y.tolist() == [[1.0, 0.5], [2.0, 1.5]]
    ints = ident.flow_from_dataframe(
        frame, tmp_path, y_col=["a", "a"], class_mode="raw", target_size=(8, 8), shuffle=False
    )
    assert ints[0][1].dtype == np.int64  # integers alone stay integers, as one column


def test_integers_beyond_int64_are_bad_rows(tmp_path: Path, ident) -> None:
    _pngs(tmp_path / "a", 2)
    table = tmp_path / "t.csv"
    table.write_text("filename,r\na/0.png,1\na/1.png,100000000000000000000000\n")
    gen = ident.flow_from_dataframe(
        str(table), tmp_path, y_col="r", class_mode="raw", target_size=(8, 8), shuffle=False
    )
    with pytest.raises(DataError, match=r"row 1 .*does not fit int64"):
        gen[0]


def test_an_empty_text_label_is_no_label(tmp_path: Path, ident) -> None:
    _pngs(tmp_path / "a", 3)
    table = tmp_path / "t.csv"
    table.write_text("filename,class\na/0.png,x\na/1.png,\na/2.png,y\n")
    gen = ident.flow_from_dataframe(
        str(table), tmp_path, class_mode="raw", target_size=(8, 8), shuffle=False
    )
    with pytest.raises(DataError, match=r"row 1 \(line 3\): no label in column 'class'"):
        gen[0]


def test_an_unread_extension_is_not_called_missing(tmp_path: Path, ident, caplog) -> None:
    _pngs(tmp_path / "a", 1)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a" / "g.gif")
    frame = pd.DataFrame({"filename": ["a/0.png", "a/g.gif", "a/none.png"], "class": list("xxx")})
    with caplog.at_level("WARNING", logger="confaug"):
        gen = ident.flow_from_dataframe(frame, tmp_path, target_size=(8, 8))
    text = caplog.text
    assert "1 row(s) whose file extension is not read (.gif" in text
    assert "1 row(s) whose file is missing" in text and "g.gif" not in text.split("missing")[1]
    assert gen.invalid_filenames == ["a/g.gif", "a/none.png"]


def test_float_pixels_scale_in_blocks_with_the_same_values() -> None:
    import tracemalloc

    from confaug.sources import decode

    rng = np.random.default_rng(1)
    values = rng.random((1500, 1000), dtype=np.float32)
    expected = np.rint((values.astype(np.float64) - 0.0) * 65535.0).astype(np.uint16)
    tracemalloc.start()
    scaled = decode._scaled_to_uint16(values, 0.0, 65535.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(scaled, expected)
    # the output (2 bytes a pixel) and one block of float64, not whole-image float64 copies
    assert peak < values.size * 2 + decode._SCALE_BLOCK * 8 * 2
