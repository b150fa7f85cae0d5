"""``confaug.keras``'s image utilities against ``keras.utils``' on the same files and arrays.

The drop-in's ``load_img`` / ``img_to_array`` / ``array_to_img`` / ``save_img`` are PIL and
NumPy only; here each runs beside Keras' and must give the same pixels, shapes, modes and
errors. The one deliberate difference is asserted as such: ``load_img`` applies a photo's
EXIF orientation (as the drop-in's ``flow_from_directory`` does), Keras does not.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("KERAS_BACKEND", "numpy")
keras_utils = pytest.importorskip(
    "keras.src.utils.image_utils", reason="Keras 3 is needed to compare with keras.utils"
)
legacy = pytest.importorskip("keras.src.legacy.preprocessing.image")
import confaug.keras as image  # noqa: E402
from confaug.errors import DataError  # noqa: E402
from confaug.sources.file_bytes import DEFAULT_MAX_FILE_BYTES  # noqa: E402
from tests.helpers import alarm  # noqa: E402

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """RGB, RGBA, 8-bit, 16-bit and 32-bit grayscale files of 30×20 pixels."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    arrays = {  # PIL picks the modes RGB, RGBA, L, I;16 and I from the dtypes and shapes
        "rgb.png": rng.integers(0, 256, (30, 20, 3)).astype(np.uint8),
        "rgba.png": rng.integers(0, 256, (30, 20, 4)).astype(np.uint8),
        "gray.png": rng.integers(0, 256, (30, 20)).astype(np.uint8),
        "gray16.png": rng.integers(0, 65536, (30, 20)).astype(np.uint16),
        "gray32.tiff": rng.integers(-(2**31), 2**31 - 1, (30, 20)).astype(np.int32),
    }
    paths = {}
    for name, array in arrays.items():
        paths[name] = folder / name
        Image.fromarray(array).save(paths[name])
    return paths


LOAD_OPTIONS = [
    {},
    {"color_mode": "rgba"},
    {"color_mode": "grayscale"},
    {"target_size": (30, 20)},
    {"target_size": (12, 9)},
    {"target_size": (12, 9), "interpolation": "bilinear"},
    {"target_size": (7, 15), "interpolation": "bicubic", "keep_aspect_ratio": True},
    {"target_size": (15, 7), "interpolation": "lanczos", "keep_aspect_ratio": True},
    {"target_size": (9, 9), "color_mode": "grayscale", "interpolation": "box"},
]


@pytest.mark.parametrize("options", LOAD_OPTIONS, ids=str)
@pytest.mark.parametrize("name", ["rgb.png", "rgba.png", "gray.png", "gray16.png", "gray32.tiff"])
def test_load_img_and_img_to_array_equal_keras(files, name: str, options: dict) -> None:
    ours = image.load_img(files[name], **options)
    theirs = keras_utils.load_img(files[name], **options)
    assert isinstance(ours, Image.Image)
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    for data_format in ("channels_last", "channels_first"):
        for dtype in (None, "int32", "float64"):
            a = image.img_to_array(ours, data_format=data_format, dtype=dtype)
            b = keras_utils.img_to_array(theirs, data_format=data_format, dtype=dtype)
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_load_img_takes_every_kind_of_path_and_closes_files(files) -> None:
    expected = np.asarray(keras_utils.load_img(files["gray32.tiff"], color_mode="grayscale"))
    data = files["gray32.tiff"].read_bytes()
    for path in (
        str(files["gray32.tiff"]),
        os.fsencode(files["gray32.tiff"]),
        files["gray32.tiff"],
        io.BytesIO(data),
    ):
        loaded = image.load_img(path, color_mode="grayscale")
        np.testing.assert_array_equal(np.asarray(loaded), expected)
    with pytest.raises(TypeError, match="path"):
        image.load_img(123)
    for _ in range(300):  # a file handle left open each time would show in the process
        image.load_img(files["rgb.png"])


def test_load_img_refuses_what_keras_refuses(files) -> None:
    image.load_img(files["rgb.png"], interpolation="unsupported")  # no resize: not used
    for module in (image, keras_utils):
        with pytest.raises(ValueError, match="interpolation"):
            module.load_img(files["rgb.png"], target_size=(5, 5), interpolation="unsupported")
        with pytest.raises(ValueError, match="color_mode"):
            module.load_img(files["rgb.png"], color_mode="cmyk")


def test_load_img_grayscale_flag_is_the_deprecated_color_mode(files) -> None:
    with pytest.warns(DeprecationWarning, match="color_mode"):
        flagged = image.load_img(files["rgb.png"], grayscale=True)
    expected = keras_utils.load_img(files["rgb.png"], color_mode="grayscale")
    np.testing.assert_array_equal(np.asarray(flagged), np.asarray(expected))


def test_load_img_applies_exif_orientation_unlike_keras(tmp_path: Path) -> None:
    pixels = np.zeros((4, 6, 3), np.uint8)
    pixels[0, 0] = 255  # top-left, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "phone.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=100)
    assert keras_utils.load_img(path).size == (6, 4)  # as stored
    upright = image.load_img(path)
    assert upright.size == (4, 6)
    assert np.asarray(upright)[0, -1].mean() > 128  # the marked corner, turned to the top right


@pytest.mark.parametrize(
    "shape", [(10, 8, 3), (10, 8, 4), (10, 8, 1), (3, 10, 8), (4, 10, 8), (1, 10, 8)]
)
@pytest.mark.parametrize("scale", [True, False])
def test_array_to_img_equals_keras(shape: tuple[int, ...], scale: bool) -> None:
    data_format = "channels_first" if shape[0] in (1, 3, 4) and shape[0] < 8 else "channels_last"
    rng = np.random.default_rng(1)
    for x in (rng.random(shape), rng.uniform(0, 255, shape), rng.uniform(-3, 900, shape)):
        ours = image.array_to_img(x, data_format=data_format, scale=scale)
        theirs = keras_utils.array_to_img(x, data_format=data_format, scale=scale)
        assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_array_to_img_and_img_to_array_refuse_what_keras_refuses() -> None:
    for module in (image, keras_utils):
        with pytest.raises(ValueError):
            module.array_to_img(np.zeros((10, 8)))
        with pytest.raises(ValueError):
            module.array_to_img(np.zeros((10, 8, 3)), data_format="channels")
        with pytest.raises(ValueError):
            module.array_to_img(np.zeros((10, 8, 5)))
        with pytest.raises(ValueError):
            module.img_to_array(np.zeros((10, 8, 3)), data_format="channels")
        with pytest.raises(ValueError):
            module.img_to_array(np.zeros((10, 8, 5, 3)))


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.bmp", "a.tiff"])
def test_save_img_writes_what_keras_writes(tmp_path: Path, name: str) -> None:
    x = np.random.default_rng(2).uniform(0, 1, (9, 7, 4 if name == "a.png" else 3))
    image.save_img(tmp_path / f"ours_{name}", x)
    keras_utils.save_img(tmp_path / f"keras_{name}", x)
    ours = np.asarray(Image.open(tmp_path / f"ours_{name}"))
    theirs = np.asarray(Image.open(tmp_path / f"keras_{name}"))
    np.testing.assert_array_equal(ours, theirs)
    buffer = io.BytesIO()
    image.save_img(buffer, x, file_format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image.save_img(tmp_path / "rgba.jpg", np.random.default_rng(3).random((4, 4, 4)))
    assert any("RGBA" in str(w.message) for w in caught)


def test_list_pictures_and_validate_filename(tmp_path: Path) -> None:
    names = ["a.png", "b.JPG", "c-1.jpeg", "2d.bmp", "e.ppm", "f.tif", "g.tiff", "h.txt", "i.gif"]
    for folder in ("", "sub", "sub/deeper"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            (tmp_path / folder / name).touch()
    found = image.list_pictures(tmp_path)
    assert len(found) == 21 and all(Path(p).exists() for p in found)
    assert len(image.list_pictures(tmp_path, ext="png")) == 3
    assert len(image.list_pictures(tmp_path, ext=("png", "gif"))) == 6
    formats = ("png", "jpg")
    for name in ("a.png", "b.JPG", "h.txt", "missing.png"):
        path = str(tmp_path / name)
        assert image.validate_filename(path, formats) == legacy.validate_filename(path, formats)
    assert image.validate_filename(str(tmp_path / "a.png"), ["png"])  # any iterable of formats


def test_load_img_refuses_what_is_not_a_regular_file_naming_it(tmp_path: Path) -> None:
    """A FIFO (reading blocks for ever), /dev/zero under an image's name (endless) and a
    sparse file over the limit are refused before any read, as the drop-in's flows refuse
    them: a ``DataError`` that is also an ``OSError``, as Keras' own failures to read are."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.jpg"
    zero.symlink_to("/dev/zero")
    sparse = tmp_path / "sparse.png"
    sparse.touch()
    os.truncate(sparse, DEFAULT_MAX_FILE_BYTES + 1)  # holes only: no disk used
    cases = [(fifo, "FIFO"), (zero, "character device"), (sparse, "over the limit")]
    for path, reason in cases:  # nothing blocks, so a minute is generous
        with alarm(f"load_img({path.name})", 60), pytest.raises(DataError) as caught:
            image.load_img(path)
        assert isinstance(caught.value, OSError)
        assert path.name in str(caught.value) and reason in str(caught.value)
    missing = tmp_path / "missing.png"
    for path in (missing, str(missing), os.fsencode(missing)):
        with pytest.raises(FileNotFoundError) as caught:  # as Keras raises it
            image.load_img(path)
        assert isinstance(caught.value, DataError)
        assert str(caught.value) == f"{missing}: cannot read file: no such file"


def test_load_img_max_file_bytes_sets_the_limit(files) -> None:
    size = files["rgb.png"].stat().st_size
    with pytest.raises(DataError, match=rf"over the limit of {size - 1:,} \(max_file_bytes\)"):
        image.load_img(files["rgb.png"], max_file_bytes=size - 1)
    for limit in (size, None):
        assert image.load_img(files["rgb.png"], max_file_bytes=limit).size == (20, 30)
    with pytest.raises(TypeError, match="max_file_bytes"):
        image.load_img(files["rgb.png"], max_file_bytes="1")


def test_load_img_names_a_file_that_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_bytes(b"not an image at all")
    with pytest.raises(OSError):  # PIL's UnidentifiedImageError is an OSError too
        keras_utils.load_img(path)
    with pytest.raises(DataError, match=r"notes\.png: cannot identify the image") as ours:
        image.load_img(path)
    assert isinstance(ours.value, OSError)
    with pytest.raises(DataError, match=r"^an io.BytesIO: cannot identify the image"):
        image.load_img(io.BytesIO(path.read_bytes()))
    cut = tmp_path / "cut.png"  # PIL decodes lazily: named here, not later in img_to_array
    pixels = np.random.default_rng(4).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    cut.write_bytes(buffer.getvalue()[:2000])
    with pytest.raises(DataError, match=r"cut\.png: image file is truncated") as ours:
        image.load_img(cut)
    assert isinstance(ours.value, OSError)
