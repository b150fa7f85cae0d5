"""The ten differences from Keras that issue 13 found by running Keras' own test suites,
each checked side by side with the real legacy generator (Keras 3).

1 ``.next()``; 2 ``ValueError`` past the end; 3 the class-split check on float labels;
4 empty iterators and the ``weight_col`` check; 5 ``raw`` targets in their dtype;
6 ``multi_output`` with a column of vectors; 7 float pixels through the value-range round
trip (core); 8 ``seed=None`` following NumPy's global seed; 9 ``fill_mode="constant"``
without a blend at the edges (core); 10 Keras' wording in the error messages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("KERAS_BACKEND", "numpy")
legacy = pytest.importorskip(
    "keras.src.legacy.preprocessing.image",
    reason="Keras 3 (with jax or numpy as backend) is needed to compare with the real generator",
)
pd = pytest.importorskip("pandas")
import keras  # noqa: E402

from confaug.compiler.values import Scale, from_working, infer_scale, to_working  # noqa: E402
from confaug.keras import ImageDataGenerator  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]
KerasIDG = legacy.ImageDataGenerator


def both(**keywords: Any) -> tuple[Any, ImageDataGenerator]:
    return KerasIDG(**keywords), ImageDataGenerator(**keywords)


def assert_same(ours: Any, theirs: Any) -> None:
    """Same structure, shapes, dtypes and values."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for mine, keras_part in zip(ours, theirs, strict=True):
            assert_same(mine, keras_part)
        return
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (9, 9, 3)).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


def images(count: int = 8, size: int = 6) -> np.ndarray:
    return np.random.default_rng(1).uniform(0, 255, (count, size, size, 3)).astype(np.float32)


# ---- 1 -----------------------------------------------------------------------------------
def test_1_next_method_continues_the_stream_as_keras_next() -> None:
    theirs, ours = both()
    x, y = images(), np.arange(8)
    keras_flow = theirs.flow(x, y, batch_size=3, shuffle=False)
    our_flow = ours.flow(x, y, batch_size=3, shuffle=False)
    keras_labels = [next(keras_flow)[1].tolist() for _ in range(4)]
    assert [our_flow.next()[1].tolist() for _ in range(2)] == keras_labels[:2]
    assert [next(our_flow)[1].tolist() for _ in range(2)] == keras_labels[2:]


# ---- 2 -----------------------------------------------------------------------------------
def test_2_indexing_past_the_end_raises_value_error_as_keras() -> None:
    for generator in both():
        flow = generator.flow(images(), batch_size=3)
        with pytest.raises(ValueError, match="Asked to retrieve element 3"):
            flow[3]
    with pytest.raises(IndexError):  # and still confaug's IndexError
        ImageDataGenerator().flow(images(), batch_size=3)[3]


# ---- 3 -----------------------------------------------------------------------------------
def test_3_class_split_is_checked_for_float_class_labels_as_keras() -> None:
    labels = np.array([0.0, 0, 0, 0, 1, 1, 1, 1])
    for generator in both(validation_split=0.5):
        with pytest.raises(ValueError, match="different number of classes"):
            generator.flow(images(), labels, shuffle=False, subset="validation")
        mixed = np.array([0.0, 1, 0, 1, 0, 1, 0, 1])
        assert len(generator.flow(images(), mixed, shuffle=False, subset="validation")) == 1


# ---- 4 -----------------------------------------------------------------------------------
def test_4_no_usable_row_gives_an_empty_iterator_as_keras(pictures: Path) -> None:
    table = pd.DataFrame({"filename": ["missing.png", "notes.txt"], "class": ["a", "b"]})
    for options in ({}, {"classes": ["b", "a"]}, {"class_mode": None}, {"class_mode": "raw"}):
        keras_flow, our_flow = (
            generator.flow_from_dataframe(table, str(pictures), **options) for generator in both()
        )
        assert len(our_flow) == len(keras_flow) == 0 and our_flow.n == keras_flow.n == 0
        assert our_flow.filenames == keras_flow.filenames == []
        assert getattr(our_flow, "class_indices", None) == getattr(
            keras_flow, "class_indices", None
        )
        batch = next(our_flow)
        assert (batch[0] if isinstance(batch, tuple) else batch).shape == (0, 256, 256, 3)


def test_4_weight_col_of_strings_is_refused_first_as_keras(pictures: Path) -> None:
    # no file is usable either (names relative to the working directory): Keras checks
    # weight_col before it filters the rows, so the error is the TypeError
    table = pd.DataFrame({"filename": ["0.png", "1.png"], "weight": ["2", "5"]})
    for generator in both():
        with pytest.raises(TypeError, match="weight_col"):
            generator.flow_from_dataframe(table, weight_col="weight", class_mode="input")


def test_4_empty_folders_give_empty_iterators_as_keras(tmp_path: Path) -> None:
    for subfolders in ((), ("cat", "dog")):
        for name in subfolders:
            (tmp_path / name).mkdir(exist_ok=True)
        keras_flow, our_flow = (g.flow_from_directory(tmp_path) for g in both())
        assert len(our_flow) == len(keras_flow) == 0
        assert our_flow.class_indices == keras_flow.class_indices
        assert list(our_flow.classes) == list(keras_flow.classes) == []


def test_4_an_empty_subset_is_an_empty_iterator_as_keras(pictures: Path) -> None:
    table = pd.DataFrame({"filename": [f"{i}.png" for i in range(6)], "class": ["a", "b"] * 3})
    for generator in both(validation_split=0.1):
        flow = generator.flow_from_dataframe(table, str(pictures), subset="validation")
        assert len(flow) == 0 and flow.class_indices == {"a": 0, "b": 1}


# ---- 5 and 6 -----------------------------------------------------------------------------
def test_5_raw_targets_keep_their_values_and_dtype_as_keras(pictures: Path) -> None:
    table = pd.DataFrame({"filename": [f"{i}.png" for i in range(6)]})
    table["id"] = np.array([16777217, 2**40 + 1, 3, 4, 5, 6], dtype=np.int64)
    table["score"] = np.linspace(0.1, 0.6, 6)
    table["name"] = list("abcdef")
    options = {"target_size": (9, 9), "batch_size": 4, "shuffle": False, "class_mode": "raw"}
    for y_col in ("id", "score", "name", ["id", "score"]):
        keras_flow, our_flow = (
            g.flow_from_dataframe(table, str(pictures), y_col=y_col, **options) for g in both()
        )
        for i in range(2):
            assert_same(our_flow[i][1], keras_flow[i][1])
        assert_same(our_flow.labels, keras_flow.labels)
    shuffled = ImageDataGenerator().flow_from_dataframe(
        table, str(pictures), y_col="id", class_mode="raw", target_size=(9, 9), seed=3
    )
    assert sorted(shuffled[0][1].tolist()) == sorted(table["id"].tolist())


def test_6_multi_output_takes_a_column_of_vectors_as_keras(pictures: Path) -> None:
    table = pd.DataFrame({"filename": [f"{i}.png" for i in range(6)]})
    table["score"] = np.linspace(0.1, 0.6, 6)
    table["vector"] = [np.arange(4.0) + i for i in range(6)]
    table["grid"] = [np.full((2, 2, 1), i) for i in range(6)]
    table["weight"] = [1, 2, 3, 4, 5, 6]
    options = {"target_size": (9, 9), "batch_size": 4, "shuffle": False}
    for y_col in (["score", "vector"], ["grid", "score"]):
        keras_flow, our_flow = (
            g.flow_from_dataframe(
                table, str(pictures), y_col=y_col, class_mode="multi_output", **options
            )
            for g in both()
        )
        for i in range(2):
            assert_same(our_flow[i][1], keras_flow[i][1])
    weighted = ImageDataGenerator().flow_from_dataframe(
        table, str(pictures), y_col=["vector"], weight_col="weight", class_mode="multi_output"
    )
    assert len(weighted[0]) == 3 and weighted[0][1][0].shape == (6, 4)
    for generator in both():
        with pytest.raises(TypeError):
            generator.flow_from_dataframe(table, y_col="score", class_mode="multi_output")


# ---- 7 (core: compiler/values.py) --------------------------------------------------------
def test_7_float_pixels_come_back_unchanged_without_augmentation_as_keras() -> None:
    x = np.arange(256, dtype=np.float32).reshape(1, 16, 16, 1)
    keras_batch, our_batch = (g.flow(x, batch_size=1, shuffle=False)[0] for g in both())
    assert_same(our_batch, keras_batch)
    np.testing.assert_array_equal(our_batch, x)


def test_7_a_label_map_rotated_with_order_0_keeps_its_labels_as_keras() -> None:
    labels = np.array([[2, 2, 0, 2, 2], [1, 3, 2, 3, 1], [2, 1, 0, 1, 2], [3, 1, 0, 2, 0]])
    for generator in both(rotation_range=90, interpolation_order=0):
        for seed in range(10):
            rotated = generator.flow(labels[None, ..., None], seed=seed)[0]
            assert set(np.unique(rotated)) <= {0.0, 1.0, 2.0, 3.0}
    for offset in (-1, -1024):  # label maps beyond 0–255: the drop-in's own value range
        shifted = (labels + offset)[None, ..., None]
        rotated = ImageDataGenerator(rotation_range=90, interpolation_order=0).flow(shifted)[0]
        assert set(np.unique(rotated)) <= set(np.unique(shifted).astype(float))


@pytest.mark.parametrize(
    ("values", "scale"),
    [
        (np.arange(256, dtype=np.float32), None),  # inferred: 0–255
        (np.arange(65536, dtype=np.uint16), None),  # inferred: 0–65535
        (np.arange(-1024, 3072, dtype=np.float32), Scale(-1024.0, 3071.0, np.dtype("f4"))),
        (np.arange(-1, 6, dtype=np.float32), Scale(-1.0, 5.0, np.dtype("f4"))),
    ],
)
def test_7_the_value_range_round_trip_keeps_integer_valued_data(
    values: np.ndarray, scale: Scale | None
) -> None:
    scale = scale or infer_scale(values, "auto")
    working = to_working(values, scale)
    assert working.dtype == np.float32 and 0.0 <= working.min() <= working.max() <= 1.0
    back = from_working(working, scale)
    assert back.dtype == values.dtype
    np.testing.assert_array_equal(back, values)


# ---- 8 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("seeding", [np.random.seed, keras.utils.set_random_seed])
def test_8_seed_none_follows_the_global_seed_as_keras(seeding) -> None:
    keywords = {"rotation_range": 30, "horizontal_flip": True, "zoom_range": 0.2}
    x = images(8, 12)

    def one_run(generator: Any) -> list[np.ndarray]:
        flow = generator.flow(x, batch_size=4)  # shuffled, seed=None
        out = [flow[0], next(flow), generator.random_transform(x[0])]
        params = generator.get_random_transform(x[0].shape)
        out.append(np.array([params["theta"], params["zx"], params["flip_horizontal"]]))
        return out

    for make in (lambda: KerasIDG(**keywords), lambda: ImageDataGenerator(**keywords)):
        runs = []
        for _ in range(3):
            seeding(123)
            runs.append(one_run(make()))
        for run in runs[1:]:
            for first, again in zip(runs[0], run, strict=True):
                np.testing.assert_array_equal(first, again)
        seeding(124)
        other = one_run(make())
        assert not np.array_equal(other[0], runs[0][0])


def test_8_fit_with_augment_follows_the_global_seed_as_keras() -> None:
    x = images(6, 8)
    means = []
    for _ in range(2):
        np.random.seed(5)
        generator = ImageDataGenerator(featurewise_center=True, rotation_range=40)
        generator.fit(x, augment=True, rounds=2)
        means.append(generator.mean)
    np.testing.assert_array_equal(means[0], means[1])


# ---- 9 (core: idg/warp.py) ---------------------------------------------------------------
def test_9_constant_fill_is_cval_outside_and_the_image_inside_as_keras() -> None:
    x = np.full((64, 64, 1), 200.0, np.float32)
    for generator in both(fill_mode="constant", cval=0.0):
        rotated = generator.apply_transform(x, {"theta": 45})
        assert np.count_nonzero((rotated > 0) & (rotated < 200)) == 0
    smooth = np.random.default_rng(3).uniform(50, 200, (8, 8)).repeat(8, 0).repeat(8, 1)
    smooth = smooth[..., None].astype(np.float32)
    params = {"theta": 33, "zx": 0.8, "zy": 1.1, "tx": 3}
    keras_out, our_out = (
        g.apply_transform(smooth, params) for g in both(fill_mode="constant", cval=7.0)
    )
    np.testing.assert_allclose(our_out, keras_out, atol=1e-3)


# ---- 10 ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "keras_words"),
    [
        (lambda g: g.flow((images(), np.arange(9)), np.arange(8)), "All of the arrays in `x`"),
        (lambda g: g.flow(images(), np.arange(9)), r"`x` \(images tensor\) and `y` \(labels\)"),
        (
            lambda g: g.flow(images(), np.arange(8), sample_weight=np.ones(3)),
            r"`x` \(images tensor\) and `sample_weight`",
        ),
        (lambda g: g.flow(np.arange(5)), "should have rank 4"),
        (lambda g: g.flow(images(), np.arange(8), subset="foo"), "Invalid subset name: foo"),
        (
            lambda g: g.flow(images(), np.repeat([0, 1], 4), shuffle=False, subset="training"),
            "Training and validation subsets have different number of classes after the split",
        ),
    ],
)
def test_10_errors_keep_keras_wording(call: Any, keras_words: str) -> None:
    for generator in both(validation_split=0.5):
        with pytest.raises(ValueError, match=keras_words):
            call(generator)
