"""``confaug.keras.ImageDataGenerator`` against the real Keras legacy generator, on the same inputs.

Every test runs Keras' ``keras.src.legacy.preprocessing.image.ImageDataGenerator`` and the
drop-in side by side. Without augmentation the batches must be equal (file decoding and
resizing included); the random transform is compared through ``apply_transform`` of one
parameter dict. Where confaug deliberately differs (the documented shift-axis and
rotation-centre fixes, brightness without an 8-bit round trip, and the few Keras defects
named in the tests) the test asserts confaug's behaviour instead.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "numpy")
legacy = pytest.importorskip(
    "keras.src.legacy.preprocessing.image",
    reason="Keras 3 (with jax or numpy as backend) is needed to compare with the real generator",
)
pd = pytest.importorskip("pandas")
from PIL import Image  # noqa: E402

import confaug  # noqa: E402
from confaug.keras import ImageDataGenerator  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]
KerasIDG = legacy.ImageDataGenerator


def both(**keywords: Any) -> tuple[Any, ImageDataGenerator]:
    """Keras' generator and the drop-in, built from the same keywords."""
    return KerasIDG(**keywords), ImageDataGenerator(**keywords)


def all_batches(iterator: Any) -> list[Any]:
    """Every batch of one epoch, by index."""
    return [iterator[i] for i in range(len(iterator))]


def assert_same(ours: Any, theirs: Any, *, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Equal structure (tuple/list/array), shapes, and values; dtypes for arrays of floats."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for mine, keras_part in zip(ours, theirs, strict=True):
            assert_same(mine, keras_part, rtol=rtol, atol=atol)
        return
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    if theirs.dtype.kind == "f":
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(ours, theirs)


def smooth(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth float32 image on 0–255 (interpolation differences stay small on it)."""
    import cv2

    small = np.random.default_rng(seed).uniform(0, 255, (5, 5, channels)).astype(np.float32)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return image.reshape(height, width, channels).clip(0, 255)


def warning_count(action: Callable[[], Any], category: type[Warning] = UserWarning) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return sum(issubclass(w.category, category) for w in caught)


# ---- constructor --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("zoom_range", "a"),
        ("zoom_range", [1, 2, 3]),
        ("zoom_range", [0.5]),
        ("zoom_range", (0.5, "x")),
        ("data_format", "nhwc"),
        ("validation_split", 1.0),
        ("validation_split", -0.1),
        ("validation_split", 1.5),
        ("brightness_range", 0.5),
        ("brightness_range", [0.5]),
        ("brightness_range", [0.5, 1.5, 2.0]),
    ],
)
def test_constructor_refuses_what_keras_refuses(keyword: str, value: Any) -> None:
    with pytest.raises(ValueError):
        KerasIDG(**{keyword: value})
    with pytest.raises((confaug.ConfigError, ValueError), match=keyword):
        ImageDataGenerator(**{keyword: value})


@pytest.mark.parametrize(
    "keywords",
    [
        {"validation_split": 0.0},
        {"brightness_range": (0.2, 1.0)},
        {"zoom_range": 0},
        {"zoom_range": (0.5, 1.5)},
        {"width_shift_range": [1, 2], "height_shift_range": 3},
        {"data_format": "channels_first", "dtype": "float64"},
        {"rescale": 0},
    ],
)
def test_constructor_accepts_what_keras_accepts(keywords: dict[str, Any]) -> None:
    KerasIDG(**keywords)
    ImageDataGenerator(**keywords)


@pytest.mark.parametrize(
    "keywords",
    [
        {"zca_whitening": True},
        {"zca_whitening": True, "featurewise_center": True, "featurewise_std_normalization": True},
        {"featurewise_std_normalization": True},
        {"samplewise_std_normalization": True},
        {"featurewise_center": True, "samplewise_center": True},
    ],
)
def test_constructor_warns_as_keras_when_a_flag_overrides_another(keywords: dict) -> None:
    assert warning_count(lambda: ImageDataGenerator(**keywords)) == warning_count(
        lambda: KerasIDG(**keywords)
    )


# ---- flow ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "dtype", "data_format"),
    [
        ((10, 6, 5, 3), np.float32, "channels_last"),
        ((10, 6, 5, 1), np.uint8, "channels_last"),
        ((10, 6, 5, 4), np.float64, "channels_last"),
        ((10, 3, 6, 5), np.float32, "channels_first"),
        ((10, 6, 5, 3), np.int64, "channels_last"),
    ],
)
def test_flow_batches_equal_keras(shape: tuple, dtype: type, data_format: str) -> None:
    x = np.random.default_rng(0).integers(0, 256, shape).astype(dtype)
    y = np.arange(10) % 3
    weights = np.linspace(0.1, 1.0, 10)
    theirs, ours = both(rescale=1 / 255, data_format=data_format)
    options = dict(batch_size=4, shuffle=False, sample_weight=weights)
    keras_flow, our_flow = theirs.flow(x, y, **options), ours.flow(x, y, **options)
    assert len(our_flow) == len(keras_flow) == 3
    assert our_flow.n == keras_flow.n == 10
    assert_same(all_batches(our_flow), all_batches(keras_flow), rtol=1e-6)
    no_labels = dict(batch_size=4, shuffle=False)
    assert_same(ours.flow(x, **no_labels)[2], theirs.flow(x, **no_labels)[2], rtol=1e-6)


@pytest.mark.parametrize("subset", ["training", "validation"])
def test_flow_subset_splits_as_keras(subset: str) -> None:
    x = smooth(6, 6)[None].repeat(10, axis=0) + np.arange(10)[:, None, None, None]
    y = np.arange(10) % 2
    theirs, ours = both(validation_split=0.4)
    keras_flow = theirs.flow(x, y, batch_size=3, shuffle=False, subset=subset)
    our_flow = ours.flow(x, y, batch_size=3, shuffle=False, subset=subset)
    assert_same(all_batches(our_flow), all_batches(keras_flow), rtol=1e-6)


def test_flow_subset_keeps_sample_weights_with_their_samples() -> None:
    # Keras splits x and y but indexes the unsplit weights (training gets the validation
    # samples' weights): a Keras defect. confaug keeps every weight with its sample.
    x = np.zeros((10, 4, 4, 3), np.float32)
    y, weights = np.arange(10) % 2, np.arange(10.0)
    ours = ImageDataGenerator(validation_split=0.4)
    training = ours.flow(
        x, y, sample_weight=weights, batch_size=10, shuffle=False, subset="training"
    )
    np.testing.assert_array_equal(training[0][2], weights[4:])
    keras_training = KerasIDG(validation_split=0.4).flow(
        x, y, sample_weight=weights, batch_size=10, shuffle=False, subset="training"
    )
    np.testing.assert_array_equal(keras_training[0][2], weights[:6])


def test_flow_class_split_guard_and_ignore_class_split_as_keras() -> None:
    x = np.zeros((10, 4, 4, 3), np.float32)
    sorted_labels = np.repeat([0, 1], 5)
    for generator in both(validation_split=0.4):
        with pytest.raises(ValueError, match="shuffle"):
            generator.flow(x, sorted_labels, subset="training")
        assert len(generator.flow(x, sorted_labels, subset="training", ignore_class_split=True))
        # One-hot rows hold the same values {0, 1} on both sides: Keras lets them through.
        assert len(generator.flow(x, np.eye(2)[sorted_labels], subset="validation"))
    # Regression targets: Keras compares the unique float values and always refuses;
    # confaug does not take floats for class labels.
    regression = np.linspace(0.0, 1.0, 10)
    with pytest.raises(ValueError):
        KerasIDG(validation_split=0.4).flow(x, regression, subset="training")
    assert len(ImageDataGenerator(validation_split=0.4).flow(x, regression, subset="training"))


def test_flow_passes_extra_inputs_through_as_keras() -> None:
    x = np.random.default_rng(1).uniform(0, 255, (7, 5, 5, 3)).astype(np.float32)
    extra, more = np.arange(7.0), np.arange(14).reshape(7, 2)
    y, weights = np.arange(7), np.linspace(1, 2, 7)
    theirs, ours = both()
    for inputs in ((x, extra), (x, [extra, more]), [x, extra]):
        for args in ((), (y,)):
            keras_flow = theirs.flow(inputs, *args, batch_size=3, shuffle=False)
            our_flow = ours.flow(inputs, *args, batch_size=3, shuffle=False)
            assert_same(all_batches(our_flow), all_batches(keras_flow), rtol=1e-6)
    keras_flow = theirs.flow((x, extra), y, sample_weight=weights, batch_size=3, shuffle=False)
    our_flow = ours.flow((x, extra), y, sample_weight=weights, batch_size=3, shuffle=False)
    assert_same(all_batches(our_flow), all_batches(keras_flow), rtol=1e-6)
    with pytest.raises(ValueError):
        ours.flow((x, extra[:3]), y)


@pytest.mark.parametrize("channels", [2, 5])
def test_flow_takes_any_channel_count_with_keras_warning(channels: int) -> None:
    x = np.random.default_rng(2).uniform(0, 255, (4, 6, 6, channels)).astype(np.float32)
    theirs, ours = both(rotation_range=10)
    assert warning_count(lambda: ours.flow(x, batch_size=4)) == 1
    assert warning_count(lambda: theirs.flow(x, batch_size=4)) == 1
    assert ours.flow(x, batch_size=4)[0].shape == theirs.flow(x, batch_size=4)[0].shape


def test_flow_ignores_sample_weight_without_y_as_keras() -> None:
    x = np.ones((5, 4, 4, 3), np.float32)
    theirs, ours = both()
    keras_batch = theirs.flow(x, sample_weight=np.ones(5), batch_size=5, shuffle=False)[0]
    our_batch = ours.flow(x, sample_weight=np.ones(5), batch_size=5, shuffle=False)[0]
    assert_same(our_batch, keras_batch)


def test_flow_and_apply_transform_work_in_the_units_of_normalized_data() -> None:
    # Standardized data (negative values) is common with Keras: geometry, cval and the
    # channel shift apply in the data's own units.
    image = (smooth(16, 16) - 128.0) / 40.0
    theirs, ours = both(fill_mode="nearest")
    for params in (
        {"theta": 20, "tx": 2},
        {"flip_horizontal": True, "shear": 10, "zx": 0.8, "zy": 1.2},
        {"channel_shift_intensity": 0.5},
    ):
        expected = theirs.apply_transform(image.copy(), params)
        np.testing.assert_allclose(ours.apply_transform(image.copy(), params), expected, atol=1e-4)
    keras_cval, our_cval = both(fill_mode="constant", cval=-5.0)
    params = {"tx": 4}  # a whole-pixel shift: the filled columns are exactly cval
    np.testing.assert_allclose(
        our_cval.apply_transform(image.copy(), params),
        keras_cval.apply_transform(image.copy(), params),
        atol=1e-4,
    )
    x = np.stack([image] * 4)
    batch = ImageDataGenerator(rotation_range=30, horizontal_flip=True).flow(x, batch_size=4)[0]
    assert batch.dtype == np.float32 and x.min() <= batch.min() and batch.max() <= x.max()
    plain = ImageDataGenerator().flow(x, batch_size=4, shuffle=False)[0]
    np.testing.assert_allclose(plain, x, atol=1e-5)


def test_iteration_len_getitem_and_epochs_behave_as_keras() -> None:
    x = np.zeros((10, 3, 3, 1), np.float32)
    y = np.arange(10)
    keras_flow = KerasIDG().flow(x, y, batch_size=4, shuffle=False)
    our_flow = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    assert iter(our_flow) is our_flow and iter(keras_flow) is keras_flow
    assert [next(our_flow)[1].tolist() for _ in range(5)] == [
        next(keras_flow)[1].tolist() for _ in range(5)
    ]
    assert our_flow[2][1].tolist() == keras_flow[2][1].tolist() == [8, 9]
    with pytest.raises((IndexError, ValueError)):
        our_flow[3]
    our_flow.reset()
    keras_flow.reset()
    assert next(our_flow)[1].tolist() == next(keras_flow)[1].tolist() == [0, 1, 2, 3]
    shuffled = ImageDataGenerator().flow(x, y, batch_size=10, shuffle=True, seed=3)
    first = shuffled[0][1].tolist()
    shuffled.on_epoch_end()
    assert sorted(first) == sorted(shuffled[0][1].tolist()) == list(range(10))
    assert first != shuffled[0][1].tolist()


def test_keras_trainers_accept_the_iterators() -> None:
    # model.fit(datagen.flow(x, y)) needs a PyDataset: anything else is "Unrecognized data type".
    import keras
    from keras.src.trainers.data_adapters import get_data_adapter

    x = np.random.default_rng(3).uniform(0, 255, (5, 4, 4, 3)).astype(np.float32)
    flow = ImageDataGenerator(horizontal_flip=True).flow(x, np.arange(5), batch_size=2)
    assert isinstance(flow, keras.utils.PyDataset)
    adapter = get_data_adapter(flow)
    served = list(adapter.get_numpy_iterator())
    assert [len(batch[1]) for batch in served] == [2, 2, 1]
    assert adapter.num_batches == len(flow) == 3


# ---- flow_from_directory --------------------------------------------------------------------
def _save(path: Path, size: tuple[int, int], mode: str = "RGB", seed: int = 0, **kw: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, channels), dtype=np.uint8)
    Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(path, **kw)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Class folders: mixed formats, modes and sizes, nested folders, a link, non-images."""
    root = tmp_path_factory.mktemp("classes")
    top = root / "data"
    _save(top / "cat" / "b.png", (13, 9), seed=1)
    _save(top / "cat" / "a.PNG", (9, 13), "RGBA", seed=2)
    _save(top / "cat" / "c.jpg", (16, 12), seed=3, quality=90)
    _save(top / "cat" / "nested" / "z.bmp", (7, 7), seed=4)
    _save(top / "cat" / "nested" / "deeper" / "y.tif", (10, 6), "L", seed=5)
    _save(top / "dog" / "a.png", (12, 12), "L", seed=6)
    _save(top / "dog" / "b.jpeg", (20, 8), seed=7, quality=85)
    _save(top / "dog" / "c.ppm", (8, 11), seed=8)
    _save(top / "dog" / "d.webp", (8, 8), seed=9)  # not an extension Keras lists
    _save(top / "dog" / "e.gif", (8, 8), "L", seed=10)
    (top / "dog" / "notes.txt").write_text("not an image")
    (top / "readme.md").write_text("a file at the top is no class")
    (top / "empty").mkdir()
    _save(root / "elsewhere" / "x.png", (6, 6), seed=11)
    (top / "cat" / "link").symlink_to(root / "elsewhere", target_is_directory=True)
    return top


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"follow_links": True},
        {"classes": ["dog"]},
        {"classes": ["dog", "cat"]},
        {"subset": "validation"},
        {"subset": "training"},
    ],
)
def test_directory_listing_equals_keras(folder: Path, options: dict[str, Any]) -> None:
    theirs, ours = both(validation_split=0.34)
    keras_flow = theirs.flow_from_directory(folder, shuffle=False, batch_size=4, **options)
    our_flow = ours.flow_from_directory(folder, shuffle=False, batch_size=4, **options)
    assert our_flow.filenames == keras_flow.filenames
    assert our_flow.class_indices == keras_flow.class_indices
    np.testing.assert_array_equal(our_flow.classes, keras_flow.classes)
    assert our_flow.samples == our_flow.n == keras_flow.samples
    assert our_flow.num_classes == keras_flow.num_classes
    assert len(our_flow) == len(keras_flow)
    assert [os.fspath(p) for p in our_flow.filepaths] == keras_flow.filepaths
    assert "dog/d.webp" not in our_flow.filenames


@pytest.mark.parametrize(
    ("color_mode", "interpolation", "keep_aspect_ratio"),
    [
        ("rgb", "nearest", False),
        ("rgb", "bilinear", False),
        ("rgb", "bicubic", True),
        ("grayscale", "lanczos", False),
        ("grayscale", "box", True),
        ("rgba", "hamming", False),
        ("rgba", "nearest", True),
    ],
)
def test_directory_pixels_equal_keras(
    folder: Path, color_mode: str, interpolation: str, keep_aspect_ratio: bool
) -> None:
    theirs, ours = both(rescale=1 / 255)
    options = dict(
        target_size=(6, 5),
        color_mode=color_mode,
        interpolation=interpolation,
        keep_aspect_ratio=keep_aspect_ratio,
        shuffle=False,
        batch_size=4,
    )
    keras_flow = theirs.flow_from_directory(folder, **options)
    our_flow = ours.flow_from_directory(folder, **options)
    assert our_flow.image_shape == keras_flow.image_shape
    assert_same(all_batches(our_flow), all_batches(keras_flow))


def test_directory_channels_first_pixels_equal_keras(folder: Path) -> None:
    theirs, ours = both(data_format="channels_first")
    options = dict(target_size=(7, 4), interpolation="bilinear", shuffle=False, batch_size=5)
    keras_flow = theirs.flow_from_directory(folder, **options)
    our_flow = ours.flow_from_directory(folder, **options)
    assert our_flow.image_shape == keras_flow.image_shape == (3, 7, 4)
    assert_same(all_batches(our_flow), all_batches(keras_flow))


@pytest.mark.parametrize("class_mode", ["categorical", "binary", "sparse", "input", None])
def test_directory_class_modes_equal_keras(folder: Path, class_mode: str | None) -> None:
    theirs, ours = both(rescale=1 / 255)
    options = dict(class_mode=class_mode, target_size=(4, 4), shuffle=False, batch_size=4)
    keras_flow = theirs.flow_from_directory(folder, classes=["cat", "dog"], **options)
    our_flow = ours.flow_from_directory(folder, classes=["cat", "dog"], **options)
    assert_same(all_batches(our_flow), all_batches(keras_flow))


@pytest.mark.parametrize("dtype", ["float64", np.float64, np.dtype("float16")])
def test_dtype_applies_to_images_and_class_labels_as_keras(folder: Path, dtype: Any) -> None:
    theirs, ours = both(dtype=dtype)
    for class_mode in ("categorical", "sparse"):
        options = dict(class_mode=class_mode, target_size=(3, 3), shuffle=False, batch_size=4)
        keras_flow = theirs.flow_from_directory(folder, **options)
        assert_same(ours.flow_from_directory(folder, **options)[1], keras_flow[1])
    x = np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 3)
    flat = dict(batch_size=2, shuffle=False)
    assert_same(ours.flow(x, **flat)[0], theirs.flow(x, **flat)[0], rtol=1e-3)


@pytest.mark.parametrize(
    "options",
    [{"class_mode": "raw"}, {"color_mode": "bgr"}, {"interpolation": "sinc"}],
)
def test_directory_refuses_what_keras_refuses(folder: Path, options: dict[str, Any]) -> None:
    theirs, ours = both()
    with pytest.raises(ValueError):  # Keras checks the interpolation on the first batch
        theirs.flow_from_directory(folder, target_size=(5, 5), **options)[0]
    with pytest.raises(ValueError, match=next(iter(options))):
        ours.flow_from_directory(folder, target_size=(5, 5), **options)


# ---- flow_from_dataframe --------------------------------------------------------------------
@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """Image files and a DataFrame over them, with a missing file and a non-image row."""
    root = tmp_path_factory.mktemp("table")
    names = ["a.png", "b.png", "c.jpg", "d.png", "e.bmp", "f.PNG", "g.webp"]
    for seed, name in enumerate(names):
        _save(root / name, (9 + seed, 7), "RGBA" if name == "d.png" else "RGB", seed=seed)
    (root / "h.txt").write_text("x")
    frame = pd.DataFrame(
        {
            "filename": [*names[:4], "missing.png", *names[4:], "h.txt", "a.png"],
            "class": ["x", "y", "x", "z", "x", "y", "x", "z", "y", "z"],
            "tags": [
                ["x"],
                ["x", "y"],
                ["y"],
                ["z", "x"],
                ["x"],
                ["y"],
                ["x"],
                ["y"],
                ["x"],
                ["z"],
            ],
            "pair": ["p", "q"] * 5,
            "score": np.linspace(0.1, 1.0, 10),
            "count": np.arange(10),
            "weight": np.linspace(1.0, 2.0, 10),
        }
    )
    frame["path"] = [os.fspath(root / name) for name in frame["filename"]]
    return root, frame


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"y_col": "tags"},
        {"y_col": "tags", "classes": ["y", "z"]},
        {"y_col": "pair", "class_mode": "binary"},
        {"class_mode": "binary", "classes": ["y", "z"]},
        {"class_mode": "sparse", "weight_col": "weight"},
        {"class_mode": "sparse", "classes": ["x", "unseen"]},
        {"y_col": "score", "class_mode": "raw"},
        {"y_col": ["score", "count"], "class_mode": "raw"},
        {"y_col": ["score", "count"], "class_mode": "multi_output"},
        {"class_mode": "input"},
        {"class_mode": None},
        {"x_col": "path", "directory": None},
        {"subset": "validation"},
        {"subset": "training", "color_mode": "grayscale", "interpolation": "bicubic"},
    ],
)
def test_dataframe_equals_keras(table: tuple[Path, Any], options: dict[str, Any]) -> None:
    root, frame = table
    options = {
        "directory": root,
        "target_size": (5, 4),
        "shuffle": False,
        "batch_size": 3,
        **options,
    }
    theirs, ours = both(rescale=1 / 255, validation_split=0.25)
    keras_flow = theirs.flow_from_dataframe(frame, **options)
    our_flow = ours.flow_from_dataframe(frame, **options)
    assert our_flow.filenames == keras_flow.filenames
    assert our_flow.samples == keras_flow.samples and len(our_flow) == len(keras_flow)
    if keras_flow.class_mode in ("categorical", "binary", "sparse"):
        assert our_flow.class_indices == keras_flow.class_indices
        assert list(our_flow.classes) == list(keras_flow.classes)
    ours_all, keras_all = all_batches(our_flow), all_batches(keras_flow)
    if keras_flow.class_mode in ("raw", "multi_output") or "weight_col" in options:
        # Keras keeps the column's dtype (float64/int64); confaug gives float32 values.
        ours_all = [_as_float64(batch) for batch in ours_all]
        keras_all = [_as_float64(batch) for batch in keras_all]
        assert_same(ours_all, keras_all, rtol=1e-6)
    else:
        assert_same(ours_all, keras_all)


def _as_float64(batch: Any) -> Any:
    if isinstance(batch, (tuple, list)):
        return type(batch)(_as_float64(part) for part in batch)
    return np.asarray(batch, dtype=np.float64)


def test_dataframe_from_a_csv_file_equals_keras(table: tuple[Path, Any], tmp_path: Path) -> None:
    root, frame = table
    csv = tmp_path / "table.csv"
    frame.drop(columns=["tags"]).to_csv(csv, index=False)
    options = dict(directory=root, target_size=(4, 4), shuffle=False, batch_size=4)
    keras_flow = KerasIDG().flow_from_dataframe(pd.read_csv(csv), **options)
    our_flow = ImageDataGenerator().flow_from_dataframe(csv, **options)
    assert our_flow.filenames == keras_flow.filenames
    assert_same(all_batches(our_flow), all_batches(keras_flow))


def test_dataframe_warns_about_invalid_file_names_as_keras(table: tuple[Path, Any]) -> None:
    root, frame = table
    for generator in both():
        with pytest.warns(UserWarning, match="3 invalid image file"):
            generator.flow_from_dataframe(frame, root)
        kept = generator.flow_from_dataframe(frame, root, validate_filenames=False)
        assert kept.filenames == list(frame["filename"])


@pytest.mark.parametrize("option", [{"drop_duplicates": False}, {"has_ext": True}, {"sort": False}])
def test_dataframe_takes_keras_deprecated_options(table: tuple[Path, Any], option: dict) -> None:
    root, frame = table
    for generator in both():
        with pytest.warns(DeprecationWarning, match=next(iter(option))):
            flow = generator.flow_from_dataframe(frame, root, target_size=(4, 4), **option)
        assert flow.samples == 7


def test_dataframe_class_mode_other_is_raw_and_classes_are_ignored_as_keras(
    table: tuple[Path, Any],
) -> None:
    root, frame = table
    options = dict(directory=root, y_col="score", target_size=(4, 4), shuffle=False)
    theirs, ours = both()
    with pytest.warns(DeprecationWarning, match="other"):
        our_flow = ours.flow_from_dataframe(frame, class_mode="other", **options)
    keras_flow = theirs.flow_from_dataframe(frame, class_mode="other", **options)
    np.testing.assert_allclose(our_flow[0][1], keras_flow[0][1], rtol=1e-6)
    for generator in (theirs, ours):
        with pytest.warns(UserWarning, match="classes"):
            generator.flow_from_dataframe(frame, class_mode="raw", classes=["x"], **options)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"class_mode": "binary"}, ValueError),  # three classes
        ({"class_mode": "multi_output", "y_col": "score"}, TypeError),
        ({"x_col": "count"}, TypeError),
        ({"y_col": "score"}, TypeError),  # categorical labels must be strings
        ({"y_col": "tags", "class_mode": "sparse"}, TypeError),
        ({"weight_col": "class"}, TypeError),
        ({"class_mode": "foo"}, ValueError),
    ],
)
def test_dataframe_refuses_what_keras_refuses(
    table: tuple[Path, Any], options: dict[str, Any], error: type[Exception]
) -> None:
    root, frame = table
    for generator in both():
        with pytest.raises(error):
            generator.flow_from_dataframe(frame, root, **options)


# ---- fit and standardize --------------------------------------------------------------------
def _stack(count: int, channels: int = 3, height: int = 6, width: int = 5) -> np.ndarray:
    return np.stack([smooth(height, width, channels, seed) for seed in range(count)])


@pytest.mark.parametrize(
    ("keywords", "channels"),
    [
        ({"featurewise_center": True}, 3),
        (
            {"featurewise_center": True, "featurewise_std_normalization": True, "rescale": 1 / 255},
            3,
        ),
        ({"featurewise_std_normalization": True}, 1),
        ({"zca_whitening": True, "zca_epsilon": 1e-2}, 3),
        ({"zca_whitening": True, "featurewise_std_normalization": True, "rescale": 1 / 255}, 1),
        ({"featurewise_center": True, "featurewise_std_normalization": True}, 4),
        (
            {
                "featurewise_center": True,
                "featurewise_std_normalization": True,
                "data_format": "channels_first",
            },
            3,
        ),
        ({"zca_whitening": True, "data_format": "channels_first"}, 3),
    ],
)
def test_fit_and_standardize_equal_keras(keywords: dict[str, Any], channels: int) -> None:
    data = _stack(12, channels)
    if keywords.get("data_format") == "channels_first":
        data = np.ascontiguousarray(data.transpose(0, 3, 1, 2))
    theirs, ours = both(**keywords)
    theirs.fit(data)
    ours.fit(data)
    for name in ("mean", "std"):
        expected, got = getattr(theirs, name), getattr(ours, name)
        assert (got is None) == (expected is None)
        if expected is not None:
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-4)
    if keywords.get("zca_whitening") and keywords.get("data_format") != "channels_first":
        np.testing.assert_allclose(
            ours.zca_whitening_matrix, theirs.zca_whitening_matrix, rtol=1e-3, atol=1e-4
        )
    sample = data[:3]
    expected = np.stack([theirs.standardize(image.copy()) for image in sample])
    np.testing.assert_allclose(ours.standardize(sample.copy()), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        ours.standardize(sample[0].copy()), expected[0], rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize(
    "keywords",
    [
        {"rescale": 1 / 255},
        {"samplewise_center": True},
        {"samplewise_center": True, "samplewise_std_normalization": True, "rescale": 2.0},
    ],
)
def test_standardize_one_image_equals_keras(keywords: dict[str, Any]) -> None:
    theirs, ours = both(**keywords)
    for image in _stack(3):
        np.testing.assert_allclose(
            ours.standardize(image.copy()), theirs.standardize(image.copy()), rtol=1e-5, atol=1e-5
        )


def test_samplewise_statistics_are_per_image_even_on_a_batch() -> None:
    # Keras' standardize(batch) takes the mean of the whole batch, though the iterators call
    # it per image; confaug centres each image, as the iterators (and the keyword) mean.
    theirs, ours = both(samplewise_center=True)
    batch = _stack(4)
    expected = np.stack([theirs.standardize(image.copy()) for image in batch])
    np.testing.assert_allclose(ours.standardize(batch.copy()), expected, rtol=1e-5, atol=1e-4)


def test_preprocessing_function_runs_before_rescale_as_keras() -> None:
    def invert(image: np.ndarray) -> np.ndarray:
        return 255.0 - image

    theirs, ours = both(preprocessing_function=invert, rescale=1 / 255)
    x = _stack(5)
    keras_batch = theirs.flow(x, batch_size=5, shuffle=False)[0]
    our_batch = ours.flow(x, batch_size=5, shuffle=False)[0]
    np.testing.assert_allclose(our_batch, keras_batch, rtol=1e-6, atol=1e-6)


def test_standardize_changes_float_arrays_in_place_as_keras() -> None:
    theirs, ours = both(rescale=0.5, featurewise_center=True)
    data = _stack(4)
    theirs.fit(data)
    ours.fit(data)
    keras_x, our_x = data.copy(), data.copy()
    keras_out, our_out = theirs.standardize(keras_x), ours.standardize(our_x)
    assert keras_out is keras_x and our_out is our_x
    np.testing.assert_allclose(our_x, keras_x, rtol=1e-5, atol=1e-4)
    as_float64 = data.astype(np.float64)
    assert ours.standardize(as_float64).dtype == theirs.standardize(data.astype(np.float64)).dtype


def test_mean_and_std_can_be_set_as_with_keras() -> None:
    # The Keras blog's recipe: ImageNet statistics set by hand instead of fit().
    imagenet = np.array([123.68, 116.779, 103.939], np.float32)
    spread = np.array([58.4, 57.1, 57.4], np.float32)
    for data_format, shape in (("channels_last", (1, 1, 3)), ("channels_first", (3, 1, 1))):
        theirs, ours = both(
            featurewise_center=True, featurewise_std_normalization=True, data_format=data_format
        )
        for generator in (theirs, ours):
            generator.mean = imagenet.reshape(shape)
            generator.std = spread.reshape(shape)
        x = _stack(2)
        if data_format == "channels_first":
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        assert ours.mean.shape == theirs.mean.shape == shape
        np.testing.assert_allclose(
            ours.standardize(x.copy()), theirs.standardize(x.copy()), rtol=1e-5, atol=1e-5
        )


# ---- random transforms ----------------------------------------------------------------------
def test_random_transform_has_keras_keys_and_is_seeded() -> None:
    keywords = dict(
        rotation_range=20,
        width_shift_range=0.1,
        height_shift_range=0.2,
        shear_range=5,
        zoom_range=0.2,
        channel_shift_range=10,
        brightness_range=(0.5, 1.5),
        horizontal_flip=True,
        vertical_flip=True,
    )
    theirs, ours = both(**keywords)
    for shape in ((20, 30, 3), (30, 20, 1)):
        draw = ours.get_random_transform(shape, seed=4)
        assert set(draw) == set(theirs.get_random_transform(shape, seed=4))
        assert draw == ours.get_random_transform(shape, seed=4)
    image = smooth(12, 12)
    np.testing.assert_array_equal(
        ours.random_transform(image.copy(), seed=5), ours.random_transform(image.copy(), seed=5)
    )
    plain_theirs, plain_ours = both()
    assert plain_ours.get_random_transform((8, 8, 3)) == plain_theirs.get_random_transform(
        (8, 8, 3)
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"flip_horizontal": True},
        {"flip_vertical": 1, "flip_horizontal": 0},
        {"theta": 0, "tx": 3},
        {"ty": -2.5},
        {"theta": 25},
        {"shear": 12},
        {"zx": 0.8, "zy": 1.25},
        {"theta": 10, "tx": 2, "ty": -3, "shear": 5, "zx": 0.9, "zy": 1.1, "flip_horizontal": True},
        {"channel_shift_intensity": 30.0},
        {"channel_shift_intensity": None, "brightness": None},
    ],
)
@pytest.mark.parametrize(
    ("channels", "data_format", "dtype"),
    [
        (3, "channels_last", np.float32),
        (1, "channels_last", np.float64),
        (3, "channels_first", np.float32),
    ],
)
def test_apply_transform_equals_keras(
    params: dict[str, Any], channels: int, data_format: str, dtype: type
) -> None:
    image = smooth(24, 24, channels).astype(dtype)
    if data_format == "channels_first":
        image = np.ascontiguousarray(image.transpose(2, 0, 1))
    theirs, ours = both(data_format=data_format)
    expected = theirs.apply_transform(image.copy(), params)
    got = ours.apply_transform(image.copy(), params)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, atol=0.05)


def test_apply_transform_uint8_and_brightness_within_tolerance() -> None:
    image = smooth(24, 24)
    theirs, ours = both()
    params = {"theta": 15, "tx": 2}
    expected = theirs.apply_transform(image.astype(np.uint8), params)
    got = ours.apply_transform(image.astype(np.uint8), params)
    assert got.dtype == np.uint8 and np.abs(got.astype(float) - expected).max() <= 1
    # Keras sends brightness through 8-bit PIL (truncating); confaug multiplies exactly.
    bright = ours.apply_transform(image.copy(), {"brightness": 1.2})
    np.testing.assert_allclose(bright, np.minimum(image * 1.2, 255.0), rtol=1e-5)
    keras_bright = theirs.apply_transform(image.copy(), {"brightness": 1.2})
    assert np.abs(bright - keras_bright).max() <= 2.3


def test_non_square_images_rotate_about_their_centre() -> None:
    # Documented fix: Keras swaps the centre's coordinates on non-square images. Flips and
    # shifts agree; a 180° turn is confaug's exact double flip, not Keras' displaced one.
    image = smooth(10, 16)
    theirs, ours = both()
    for params in ({"flip_horizontal": True}, {"tx": 2}, {"ty": -3}):
        np.testing.assert_allclose(
            ours.apply_transform(image.copy(), params),
            theirs.apply_transform(image.copy(), params),
            atol=1e-3,
        )
    turned = ours.apply_transform(image.copy(), {"theta": 180})
    np.testing.assert_allclose(turned, image[::-1, ::-1], atol=1e-3)
    assert (
        np.abs(theirs.apply_transform(image.copy(), {"theta": 180}) - image[::-1, ::-1]).max() > 1
    )
