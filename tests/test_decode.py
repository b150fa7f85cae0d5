"""Decoding files into arrays: formats, colour modes, EXIF, reduced JPEG decode, bad files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from confaug.sources import DataError, DecodeOptions, decode_image, decode_mask
from confaug.sources.decode import _jpeg_is_truncated, _reduction

KEEP = DecodeOptions(target_size=None)


def _gradient(height: int = 48, width: int = 64) -> np.ndarray:
    """A smooth RGB image with distinct channels (JPEG-friendly, orientation-revealing)."""
    rows, cols = np.mgrid[0:height, 0:width]
    red = cols * 255 // max(width - 1, 1)
    green = rows * 255 // max(height - 1, 1)
    blue = np.full_like(rows, 60)
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def _save(path: Path, array: np.ndarray, **params: object) -> Path:
    Image.fromarray(array).save(path, **params)
    return path


def _png_header(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` x ``height`` with no pixel data (PIL reads sizes lazily)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + end


def test_png_round_trips_exactly_in_rgb_order(tmp_path: Path) -> None:
    image = _gradient()
    decoded = decode_image(_save(tmp_path / "a.png", image), KEEP)
    assert decoded.dtype == np.uint8
    assert np.array_equal(decoded, image)


def test_jpeg_decodes_in_rgb_order(tmp_path: Path) -> None:
    image = np.zeros((32, 32, 3), np.uint8)
    image[..., 0] = 220  # pure-ish red
    decoded = decode_image(_save(tmp_path / "red.jpg", image, quality=95), KEEP)
    assert decoded.shape == (32, 32, 3)
    assert decoded[..., 0].mean() > 200 and decoded[..., 2].mean() < 20


def test_default_target_size_is_keras_256(tmp_path: Path) -> None:
    decoded = decode_image(_save(tmp_path / "a.png", _gradient()))
    assert decoded.shape == (256, 256, 3)


def test_sixteen_bit_png_is_scaled_to_uint8(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32768, 65535]], dtype=np.uint16).repeat(2, axis=0)
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), values)
    assert Image.open(path).mode.startswith("I")
    gray = decode_image(path, DecodeOptions(color_mode="grayscale", target_size=None))
    assert gray.shape == (2, 4, 1)
    assert gray[0, :, 0].tolist() == [0, 1, 128, 255]
    rgb = decode_image(path, KEEP)
    assert rgb.shape == (2, 4, 3) and np.array_equal(rgb[..., 0], rgb[..., 2])
    rgba = decode_image(path, DecodeOptions(color_mode="rgba", target_size=None))
    assert (rgba[..., 3] == 255).all()


def test_palette_png_becomes_its_colours_or_luminance(tmp_path: Path) -> None:
    palette_image = Image.new("P", (4, 2))
    palette_image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette_image.putdata([0, 1] * 4)
    path = tmp_path / "palette.png"
    palette_image.save(path)
    rgb = decode_image(path, KEEP)
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[0, 1].tolist() == [0, 0, 255]
    gray = decode_image(path, DecodeOptions(color_mode="grayscale", target_size=None))
    assert gray[0, 0, 0] == 76 and gray[0, 1, 0] == 29  # ITU-R 601 luma of red and blue


def test_rgba_keeps_or_drops_alpha_per_color_mode(tmp_path: Path) -> None:
    image = np.dstack([_gradient(), np.full((48, 64), 77, np.uint8)])
    path = _save(tmp_path / "alpha.png", image)
    rgba = decode_image(path, DecodeOptions(color_mode="rgba", target_size=None))
    assert rgba.shape == (48, 64, 4) and (rgba[..., 3] == 77).all()
    assert np.array_equal(decode_image(path, KEEP), image[..., :3])


def test_grayscale_file_expands_to_rgb_and_stays_one_channel_in_grayscale(tmp_path: Path) -> None:
    gray = _gradient()[..., 1]
    path = _save(tmp_path / "gray.png", gray)
    rgb = decode_image(path, KEEP)
    assert rgb.shape == (48, 64, 3) and all(np.array_equal(rgb[..., c], gray) for c in range(3))
    one = decode_image(path, DecodeOptions(color_mode="grayscale", target_size=None))
    assert one.shape == (48, 64, 1) and np.array_equal(one[..., 0], gray)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pil_exif_transpose(tmp_path: Path, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(_gradient(30, 50)).save(path, exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    assert np.array_equal(decode_image(path, KEEP), expected)


def test_exif_rotated_jpeg_is_upright_and_resized_after_rotation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(_gradient(40, 80)).save(path, exif=exif.tobytes(), quality=95)
    upright = decode_image(path, KEEP)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    assert upright.shape == (80, 40, 3)
    assert np.abs(upright.astype(int) - expected).mean() < 2
    resized = decode_image(path, DecodeOptions(target_size=(20, 10), interpolation="area"))
    assert resized.shape == (20, 10, 3)


def test_reduced_jpeg_decode_picks_the_largest_safe_factor() -> None:
    assert _reduction((800, 600), None, (100, 75)) == 8
    assert _reduction((800, 600), None, (100, 100)) == 4
    assert _reduction((800, 600), None, (300, 300)) == 2
    assert _reduction((800, 600), None, (401, 100)) == 1
    assert _reduction((800, 600), (0, 100, 800, 500), (200, 200)) == 2  # the crop counts
    assert _reduction((800, 600), None, None) == 1


def test_reduced_jpeg_decode_is_close_to_full_decode(tmp_path: Path) -> None:
    path = _save(tmp_path / "big.jpg", cv2.resize(_gradient(), (600, 800)), quality=95)
    options = DecodeOptions(target_size=(100, 75), interpolation="area")
    reduced = decode_image(path, options)
    full = decode_image(
        path, DecodeOptions(target_size=(100, 75), interpolation="area", reduced_decode=False)
    )
    assert reduced.shape == full.shape == (100, 75, 3)
    assert np.abs(reduced.astype(int) - full).mean() < 3


def test_reduced_decode_in_grayscale_keeps_one_channel(tmp_path: Path) -> None:
    path = _save(tmp_path / "big.jpg", cv2.resize(_gradient(), (400, 400)), quality=90)
    gray = decode_image(path, DecodeOptions(color_mode="grayscale", target_size=(50, 50)))
    assert gray.shape == (50, 50, 1)
    rgba = decode_image(path, DecodeOptions(color_mode="rgba", target_size=(50, 50)))
    assert rgba.shape == (50, 50, 4) and (rgba[..., 3] == 255).all()


def test_keep_aspect_ratio_crops_the_centre_before_resizing(tmp_path: Path) -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :50] = (255, 0, 0)
    image[:, 50:150] = (0, 255, 0)
    image[:, 150:] = (0, 0, 255)
    path = _save(tmp_path / "wide.png", image)
    cropped = decode_image(path, DecodeOptions(target_size=(20, 20), keep_aspect_ratio=True))
    assert cropped.shape == (20, 20, 3)
    assert (cropped == (0, 255, 0)).all()
    squeezed = decode_image(path, DecodeOptions(target_size=(20, 20)))
    assert (squeezed[:, 0] == (255, 0, 0)).all()


def test_cmyk_jpeg_and_webp_decode_through_pil(tmp_path: Path) -> None:
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 8), (0, 0, 0, 0)).save(cmyk)
    assert decode_image(cmyk, KEEP).shape == (8, 16, 3)
    webp = _save(tmp_path / "a.webp", _gradient(), lossless=True)
    assert np.array_equal(decode_image(webp, KEEP), _gradient())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "empty file"),
        ("notes.jpg", b"just some text, not a picture\n", "not a recognised image"),
        ("noise.png", bytes(range(256)) * 4, "not a recognised image"),
    ],
)
def test_unreadable_files_raise_data_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as caught:
        decode_image(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_files_raise_data_error(tmp_path: Path, suffix: str) -> None:
    whole = _save(tmp_path / f"whole{suffix}", cv2.resize(_gradient(), (200, 150)))
    cut = tmp_path / f"cut{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DataError, match="cut"):
        decode_image(cut)


def test_missing_file_raises_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read file"):
        decode_image(tmp_path / "nope.png")


def test_jpeg_truncation_check_used_with_older_opencv() -> None:
    assert _jpeg_is_truncated(b"\xff\xd8....\xff\xda scan data")
    assert not _jpeg_is_truncated(b"\xff\xd8....\xff\xda scan data\xff\xd9")


def test_pixel_limit_guards_against_decompression_bombs(tmp_path: Path) -> None:
    small = _save(tmp_path / "small.png", _gradient())
    with pytest.raises(DataError, match="max_pixels"):
        decode_image(small, DecodeOptions(max_pixels=1000))
    assert decode_image(small, DecodeOptions(max_pixels=None, target_size=None)).shape[0] == 48
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(10_000, 10_000))  # 100 MP > the 89 MP default
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(DataError, match="bomb"):
        decode_image(bomb)
    bigger = tmp_path / "bigger.png"
    bigger.write_bytes(_png_header(20_000, 20_000))  # beyond PIL's own hard limit
    with pytest.raises(DataError, match="decompression bomb"):
        decode_image(bigger)


def test_decode_accepts_bytes() -> None:
    buffer = io.BytesIO()
    Image.fromarray(_gradient()).save(buffer, "PNG")
    assert np.array_equal(decode_image(buffer.getvalue(), KEEP), _gradient())


def test_invalid_options_name_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="lanczos"):
        DecodeOptions(interpolation="cubicle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="grayscale"):
        DecodeOptions(color_mode="cmyk")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="target_size"):
        DecodeOptions(target_size=(0, 10))


def test_palette_mask_keeps_indices_and_resizes_nearest(tmp_path: Path) -> None:
    mask = Image.new("P", (40, 30))
    mask.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)
    indices = np.zeros((30, 40), np.uint8)
    indices[5:20, 10:30] = 1
    indices[22:, :] = 2
    mask.putdata(indices.ravel().tolist())
    path = tmp_path / "mask.png"
    mask.save(path)
    assert np.array_equal(decode_mask(path), indices)
    resized = decode_mask(path, (15, 20))
    assert resized.shape == (15, 20)
    assert set(np.unique(resized)) == {0, 1, 2}
