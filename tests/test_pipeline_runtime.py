"""Pipeline behaviour at run time: seeding, threads, image-only detection calls."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import confaug
from confaug.idg.standardize import NotFittedError
from tests.helpers import images, one_image, write_images

SIZE = 32  # sides of the test images


def test_seeded_steps_draw_independently() -> None:
    """Two p=0.5 flips must not always fire together (albumentations' set_random_seed does that)."""
    pipe = confaug.load_pipeline(
        {"version": 1, "transforms": [{"HorizontalFlip": {"p": 0.5}}, {"VerticalFlip": {"p": 0.5}}]}
    )
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    outcomes = set()
    for seed in range(64):
        out = pipe(image=image, seed=seed)["image"]
        outcomes.add((bool(out[0, 0] in (3, 15)), bool(out[0, 0] in (12, 15))))
    assert outcomes == {(False, False), (True, False), (False, True), (True, True)}


def test_threads_with_explicit_seeds_match_serial_results() -> None:
    pipe = confaug.load_pipeline("preset:keras_seed")
    images = [one_image(SIZE, seed=i) for i in range(24)]
    serial = [pipe(image=im, seed=100 + i)["image"] for i, im in enumerate(images)]
    results: dict[int, np.ndarray] = {}

    def work(indices: range) -> None:
        for i in indices:
            results[i] = pipe(image=images[i], seed=100 + i)["image"]

    threads = [threading.Thread(target=work, args=(range(k, 24, 3),)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, expected in enumerate(serial):
        assert np.array_equal(results[i], expected), f"sample {i} differs across threads"


def test_detection_config_runs_on_images_without_boxes() -> None:
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "transforms": [{"HorizontalFlip": {"p": 1.0}}],
            "bbox_params": {"format": "pascal_voc", "label_fields": ["labels"]},
        }
    )
    out = pipe(image=one_image(SIZE))
    assert set(out) == {"image"}
    with_boxes = pipe(image=one_image(SIZE), bboxes=[[1, 2, 11, 12]], labels=[7])
    np.testing.assert_allclose(with_boxes["bboxes"][0], [21, 2, 31, 12], atol=1e-4)
    assert list(with_boxes["labels"]) == [7]
    assert pipe.apply_batch(np.stack([one_image(SIZE, seed=1), one_image(SIZE, seed=2)])).shape == (
        2,
        32,
        32,
        3,
    )


def test_featurewise_statistics_unfitted_is_an_error_then_fit_works() -> None:
    pipe = confaug.load_pipeline({"version": 1, "featurewise_center": True})
    batch = np.stack([one_image(SIZE, seed=i) for i in range(4)])
    with pytest.raises(NotFittedError):
        pipe.apply_batch(batch)
    pipe.fit(batch)
    out = pipe.apply_batch(batch)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-3)


def test_apply_batch_seed_is_independent_of_history() -> None:
    pipe = confaug.load_pipeline("preset:keras_seed")
    batch = np.stack([one_image(SIZE, seed=i) for i in range(3)])
    first = pipe.apply_batch(batch, seed=9)
    pipe.apply_batch(batch)  # unseeded calls in between must not matter
    assert np.array_equal(pipe.apply_batch(batch, seed=9), first)
    assert not np.array_equal(pipe.apply_batch(batch, seed=10), first)


def test_float_input_outside_known_ranges_is_a_data_error() -> None:
    pipe = confaug.load_pipeline("preset:keras_seed")
    with pytest.raises(confaug.DataError, match="value_range"):
        pipe(image=np.full((8, 8, 3), 300.0, dtype=np.float32))
    explicit = confaug.load_pipeline(
        {"version": 1, "horizontal_flip": True, "value_range": [-1, 1]}
    )
    image = np.linspace(-1, 1, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)
    out = explicit(image=image, seed=0)["image"]
    assert out.dtype == np.float32 and out.min() >= -1 - 1e-6 and out.max() <= 1 + 1e-6


def test_spec_validation_split_reaches_directory_subsets(tmp_path) -> None:
    write_images(tmp_path, images(20, 8), classes=("a", "b"))
    pipe = confaug.load_pipeline({"version": 1, "validation_split": 0.2})
    common = dict(target_size=(8, 8), batch_size=4, shuffle=False)
    validation = pipe.flow_from_directory(tmp_path, subset="validation", **common)
    training = pipe.flow_from_directory(tmp_path, subset="training", **common)
    assert len(validation.filenames) == 4 and len(training.filenames) == 16
    assert not set(validation.filenames) & set(training.filenames)


def test_batch_value_range_is_inferred_once_for_the_whole_batch() -> None:
    """A near-black 0–255 image in a 0–255 batch must not be taken for a [0, 1] image."""
    pipe = confaug.load_pipeline({"version": 1, "brightness_range": [2.0, 2.0]})
    bright = np.full((8, 8, 3), 200.0, dtype=np.float32)
    dark = np.full((8, 8, 3), 0.5, dtype=np.float32)
    out = pipe.apply_batch(np.stack([bright, dark]), seed=0)
    np.testing.assert_allclose(out[0], 255.0, atol=1e-3)  # clipped to the 0–255 range
    np.testing.assert_allclose(out[1], 1.0, atol=1e-3)  # 0.5 × 2 on the 0–255 scale


def test_bad_sample_in_a_batch_is_named_by_index() -> None:
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True})
    batch = np.zeros((3, 8, 8, 3), dtype=np.float32)
    batch[2, 0, 0, 0] = np.nan
    with pytest.raises(confaug.DataError, match=r"x\[2\]: .*NaN"):
        pipe.apply_batch(batch)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("GausBlur", "GaussianBlur"),
        ("horizontalflip", "HorizontalFlip"),
        ("GaussNoize", "GaussNoise"),
    ],
)
def test_transform_name_hints_prefer_a_shared_beginning(typo: str, meant: str) -> None:
    with pytest.raises(confaug.ConfigError) as err:
        confaug.load_spec({"version": 1, "transforms": [typo]})
    assert err.value.problems[0].hint == f"did you mean '{meant}'?"


def test_array_split_that_loses_a_class_is_an_error() -> None:
    pipe = confaug.load_pipeline({"version": 1, "validation_split": 0.25})
    x = np.zeros((8, 4, 4, 3), dtype=np.uint8)
    sorted_labels = np.array([0, 0, 1, 1, 1, 1, 1, 1])  # validation = first 2: only class 0
    with pytest.raises(confaug.DataError, match="different classes"):
        pipe.flow(x, sorted_labels, subset="training")
    mixed = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    assert len(pipe.flow(x, mixed, subset="validation", batch_size=1)) == 2
    one_hot = np.eye(2)[mixed]
    assert len(pipe.flow(x, one_hot, subset="training", batch_size=2)) == 3


def _crop_pipeline(**extra: object) -> confaug.Pipeline:
    """Keeps the top-left 32×32 of a 64×64 image, so boxes outside it are dropped."""
    return confaug.load_pipeline(
        {
            "version": 1,
            "transforms": [{"Crop": {"x_min": 0, "y_min": 0, "x_max": 32, "y_max": 32}}],
            "bbox_params": {"format": "pascal_voc", "label_fields": ["labels", "ids"]},
            **extra,
        }
    )


BOXES = np.array([[1, 1, 10, 10], [40, 40, 60, 60], [5, 5, 20, 20]], dtype=np.float32)


@pytest.mark.parametrize(
    "labels",
    [
        [1, 2, 3],
        np.array([7, 8, 9], dtype=np.int64),
        ["cat", "dog", "cow"],
        [("a", 1), ("b", 2), ("c", 3)],
    ],
    ids=["int list", "int64 array", "strings", "tuples"],
)
def test_labels_follow_their_boxes_unchanged_in_type(labels: object) -> None:
    pipe = _crop_pipeline()
    out = pipe(image=one_image(64), bboxes=BOXES, labels=labels, ids=[10, 11, 12], seed=0)
    assert len(out["bboxes"]) == 2  # the middle box lies outside the crop
    assert out["ids"] == [10, 12]
    expected = [labels[0], labels[2]]
    if isinstance(labels, np.ndarray):
        assert out["labels"].dtype == labels.dtype
    else:
        assert type(out["labels"]) is list
    assert [type(v) for v in out["labels"]] == [type(v) for v in expected]
    assert list(out["labels"]) == expected


def test_label_handling_does_not_depend_on_earlier_calls() -> None:
    """albumentations fixes a label field's encoding at its first call; confaug must not."""
    pipe = _crop_pipeline()
    image = one_image(64)
    pipe(image=image)  # an image-only call first (empty boxes and labels)
    for labels in ([1], ["cat"], [2.5], ["dog"]):
        out = pipe(image=image, bboxes=BOXES[:1], labels=labels, ids=[0], seed=1)
        assert out["labels"] == labels and type(out["labels"][0]) is type(labels[0])


def test_keypoint_labels_follow_their_keypoints() -> None:
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "transforms": [{"Crop": {"x_min": 0, "y_min": 0, "x_max": 32, "y_max": 32}}],
            "keypoint_params": {"format": "xy", "label_fields": ["names"]},
        }
    )
    points = np.array([[3, 4], [50, 50], [30, 2]], dtype=np.float32)
    out = pipe(image=one_image(64), keypoints=points, names=["eye", "far", "ear"], seed=0)
    assert out["names"] == ["eye", "ear"] and len(out["keypoints"]) == 2


def test_label_count_must_match_the_boxes() -> None:
    with pytest.raises(confaug.DataError, match="labels: 2 label"):
        _crop_pipeline()(image=one_image(64), bboxes=BOXES, labels=[1, 2], ids=[0, 1, 2])


@pytest.mark.parametrize(
    ("spec", "given", "needed"),
    [
        ({}, {"bboxes": BOXES}, "bbox_params"),
        ({}, {"keypoints": [[1.0, 2.0]]}, "keypoint_params"),
    ],
)
def test_boxes_or_points_without_their_params_are_refused(
    spec: dict[str, object], given: dict[str, object], needed: str
) -> None:
    """Without params albumentations returns array boxes empty: silent loss of targets."""
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True, **spec})
    with pytest.raises(confaug.ConfigError, match=f"spec has no {needed}") as err:
        pipe(image=one_image(SIZE), **given)
    assert err.value.problems[0].field == needed


def test_a_box_target_without_bbox_params_is_refused_at_load() -> None:
    with pytest.raises(confaug.ConfigError, match="no bbox_params") as err:
        confaug.load_pipeline(
            {"version": 1, "horizontal_flip": True, "additional_targets": {"boxes2": "bboxes"}}
        )
    assert err.value.problems[0].field == "additional_targets.boxes2"


def test_a_misspelt_target_is_pointed_out_once_and_metadata_passes_quietly() -> None:
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True})
    mask = one_image(SIZE)[..., 0]
    with pytest.warns(UserWarning, match="'maks' is not a target.*did you mean 'masks'"):
        out = pipe(image=one_image(SIZE), maks=mask, filename="a.jpg", seed=0)
    assert out["maks"] is mask and out["filename"] == "a.jpg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe(image=one_image(SIZE), maks=mask, filename="b.jpg", seed=1)  # said once is enough
        pipe(image=one_image(SIZE), path="c.jpg", image_size=32, seed=2)  # not near a target name


def test_labels_in_a_pandas_series_or_tuple_are_taken_by_position() -> None:
    pd = pytest.importorskip("pandas")
    pipe = _crop_pipeline()
    series = pd.Series(["in", "out", "edge"], index=[9, 3, 5])  # index labels are not rows
    out = pipe(image=one_image(64), bboxes=BOXES, labels=series, ids=(10, 11, 12), seed=0)
    assert out["labels"] == ["in", "edge"] and out["ids"] == (10, 12)


def test_mosaic_keeps_every_sample_its_own_labels() -> None:
    """Mosaic mixes in other samples' boxes; their labels must not be read as row numbers."""
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "bbox_params": {"format": "pascal_voc", "label_fields": ["labels"]},
            "transforms": [{"Mosaic": {"target_size": [64, 64], "cell_shape": [64, 64], "p": 1.0}}],
        }
    )
    box = np.array([[8, 8, 56, 56]], dtype=np.float32)
    others = [
        {"image": one_image(64, seed=seed), "bboxes": box, "labels": [name]}
        for seed, name in enumerate(["zebra", "giraffe", "lion"], start=1)
    ]
    for seed in range(4):
        out = pipe(
            image=one_image(64), bboxes=box, labels=["cat"], mosaic_metadata=others, seed=seed
        )
        assert len(out["labels"]) == len(out["bboxes"]) > 1
        assert set(out["labels"]) <= {"cat", "zebra", "giraffe", "lion"}
