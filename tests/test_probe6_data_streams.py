"""probe-data6's findings on data streams (1, 2, 5, 6, 7, 8 and 13's flow(x) kinds): reused
batch buffers, labels that do not follow their boxes, NaN keypoints, NaN labels in wrap(),
dataset objects, (image, label) pairs and x of the wrong kind in flow()."""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.batching.stream import _snapshot
from confaug.errors import ConfigError
from confaug.sources import DataError
from confaug.sources.arrays import MAX_DATASET_BYTES

IDENTITY: dict[str, Any] = {"version": 1, "transforms": []}


def _reused(batches: int = 8) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A loader that fills one preallocated batch and yields it again (cv2 read(frame))."""
    images = np.zeros((4, 8, 8, 3), np.uint8)
    labels = np.zeros(4, np.int64)
    for number in range(batches):
        images[:] = number
        labels[:] = number
        yield images, labels


# ---- 1: a source that reuses its batch buffer -------------------------------------------------
@pytest.mark.parametrize("workers", [0, 2])
def test_wrap_over_a_reused_buffer_keeps_images_and_labels_together(workers: int) -> None:
    """With workers, batches are read ahead while earlier ones are augmented: the source
    refilled their buffer, so batch k came out with batch k+2's pixels and another's labels."""
    pipe = confaug.load_pipeline(IDENTITY)
    got = [
        (int(x.mean()), int(y.mean()))
        for x, y in pipe.wrap(_reused(), workers=workers, max_queue_size=4)
    ]
    assert got == [(k, k) for k in range(8)]


def test_wrap_with_workers_hands_on_copies_of_labels() -> None:
    """Collected labels are the batch's own, not the source's buffer refilled later."""
    pipe = confaug.load_pipeline(IDENTITY)
    labels = [y for _, y in pipe.wrap(_reused(), workers=2)]
    assert [int(y.mean()) for y in labels] == list(range(8))


def test_snapshot_copies_arrays_in_every_container() -> None:
    pair = namedtuple("pair", "x y")
    array = np.arange(4)
    batch = (
        memoryview(np.zeros((2, 2), np.uint8)),
        [array, {"out": array}],
        OrderedDict(a=array),
        pair(array, 3),
    )
    copied = _snapshot(batch)
    assert isinstance(copied[0], np.ndarray) and copied[0].shape == (2, 2)
    assert not np.shares_memory(copied[1][0], array)
    assert not np.shares_memory(copied[1][1]["out"], array)
    assert type(copied[2]) is OrderedDict and not np.shares_memory(copied[2]["a"], array)
    assert type(copied[3]) is pair and copied[3].y == 3
    assert not np.shares_memory(copied[3].x, array)


def test_flow_over_a_sequence_that_reuses_one_buffer_reads_each_image() -> None:
    """``list(x)`` held four references to the one buffer: the batch was 4x the last image."""
    buffer = np.zeros((8, 8, 3), np.uint8)

    class Reuse:
        def __len__(self) -> int:
            return 4

        def __getitem__(self, index: int) -> np.ndarray:
            if index >= 4:
                raise IndexError(index)
            buffer[:] = index * 10
            return buffer

    pipe = confaug.load_pipeline(IDENTITY)
    x, y = next(iter(pipe.flow(Reuse(), np.arange(4), batch_size=4, epochs=1, shuffle=False)))
    assert x.reshape(4, -1).mean(axis=1).tolist() == [0, 10, 20, 30]
    assert y.tolist() == [0, 1, 2, 3]


# ---- 2: labels beside boxes that are not a label field --------------------------------------
BOXES = [[0, 0, 2, 2], [10, 10, 20, 20]]


def test_class_labels_beside_unlabelled_boxes_are_refused() -> None:
    """preset:detection has no label_fields: class_labels stayed ['cat', 'dog'] when the cat's
    box was dropped, so the dog's box became a cat."""
    det = confaug.load_pipeline("preset:detection")
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ConfigError, match="label_fields=\\[class_labels\\]"):
        det(image=image, bboxes=BOXES, class_labels=["cat", "dog"], seed=4)


def test_flow_refuses_class_labels_beside_unlabelled_boxes_when_made() -> None:
    det = confaug.load_pipeline("preset:detection")
    x = np.zeros((2, 32, 32, 3), np.uint8)
    targets = {"bboxes": [BOXES, BOXES], "class_labels": [["cat", "dog"], ["cat", "dog"]]}
    with pytest.raises(ConfigError, match="'class_labels' holds one entry per row of bboxes"):
        det.flow(x, targets=targets, batch_size=2)


def test_labels_that_are_not_the_label_field_are_refused() -> None:
    """class_labels beside label_fields=[labels] was passed through as well."""
    det = confaug.load_pipeline("preset:detection", overrides=["bbox_params.label_fields=[labels]"])
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ConfigError, match="label_fields=\\[labels, class_labels\\]"):
        det(image=image, bboxes=BOXES, labels=[1, 2], class_labels=["cat", "dog"], seed=0)


def test_other_per_box_keys_are_warned_of_once_and_metadata_passes() -> None:
    det = confaug.load_pipeline("preset:detection")
    image = np.zeros((32, 32, 3), np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        det(image=image, bboxes=BOXES, ids=[7, 8], seed=0)
        det(image=image, bboxes=BOXES, ids=[7, 8], seed=1)
        out = det(image=image, bboxes=BOXES, image_class="cat", image_id=[3], seed=0)
    assert [str(w.message)[:40] for w in caught] == ["'ids' holds one entry per row of bboxes "]
    assert out["image_class"] == "cat"


def test_class_labels_as_a_label_field_follow_their_boxes() -> None:
    det = confaug.load_pipeline(
        "preset:detection", overrides=["bbox_params.label_fields=[class_labels]"]
    )
    image = np.zeros((32, 32, 3), np.uint8)
    for seed in range(40):
        out = det(image=image, bboxes=BOXES, class_labels=["cat", "dog"], seed=seed)
        assert len(out["class_labels"]) == len(out["bboxes"])
        if len(out["bboxes"]) == 1:
            assert list(out["class_labels"]) == ["dog"]


# ---- 5: NaN / inf keypoints and angles ------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "point"),
    [("xy", [np.nan, 3]), ("xy", [np.inf, 3]), ("xya", [3, 3, np.nan]), ("xys", [3, 3, -np.inf])],
)
def test_non_finite_keypoints_are_a_data_error(fmt: str, point: list[float]) -> None:
    """They came back NaN / -inf, or were dropped with their label without a word."""
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "keypoint_params": {"format": fmt, "remove_invisible": False},
            "transforms": [{"Rotate": {"limit": 30, "p": 1.0}}],
        }
    )
    with pytest.raises(DataError, match=r"keypoints\[0\] holds NaN or infinity"):
        pipe(image=np.zeros((16, 16, 3), np.uint8), keypoints=[point])


def test_extra_keypoint_columns_are_labels_and_not_checked() -> None:
    pipe = confaug.load_pipeline(
        {"version": 1, "keypoint_params": {"format": "xy"}, "horizontal_flip": True}
    )
    out = pipe(image=np.zeros((16, 16, 3), np.uint8), keypoints=[[3, 3, np.nan]])
    assert np.isnan(np.asarray(out["keypoints"])[0, 2])


def test_flow_skips_a_sample_with_a_nan_keypoint() -> None:
    pipe = confaug.load_pipeline(
        {"version": 1, "keypoint_params": {"format": "xy"}, "horizontal_flip": True}
    )
    x = np.zeros((3, 8, 8, 3), np.uint8)
    points = [[[1, 1]], [[np.nan, 1]], [[2, 2]]]
    gen = pipe.flow(x, targets={"keypoints": points}, batch_size=3, epochs=1, on_error="skip")
    batch = next(iter(gen))
    assert len(batch[0]) == 2
    assert [name for name, _ in gen.skipped] == ["x[1]"]


# ---- 6: wrap() with NaN labels or weights ----------------------------------------------------
@pytest.mark.parametrize(
    ("batch", "words"),
    [
        (lambda x: (x, np.arange(4), np.array([1, np.nan, 1, 1])), r"batch 0 w\[1\] is nan"),
        (lambda x: (x, np.array([1, np.nan, 1, 1])), r"batch 0 y\[1\] is nan"),
        (lambda x: (x, [1.0, float("inf"), 2.0, 3.0]), r"batch 0 y\[1\] is inf"),
        (lambda x: (x, {"a": np.array([0, 1, np.nan, 2])}), r"batch 0 y\['a'\]\[2\] is nan"),
    ],
)
def test_wrap_refuses_non_finite_labels_and_weights(batch: Any, words: str) -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    x = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(DataError, match=words):
        list(pipe.wrap([batch(x)]))


def test_wrap_passes_finite_and_non_numeric_labels() -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    x = np.zeros((4, 8, 8, 3), np.uint8)
    out = list(pipe.wrap([(x, ["a", "b", "c", "d"]), (x, np.arange(4.0), [1, 1, 1, 1])]))
    assert out[0][1] == ["a", "b", "c", "d"] and out[1][2] == [1, 1, 1, 1]


# ---- 7: flow() over a dataset object --------------------------------------------------------
class _Dataset:
    """A torch-style dataset: loads image ``i`` on ``x[i]``, counting the loads."""

    def __init__(self, count: int, side: int) -> None:
        self.count, self.side, self.loads = count, side, 0

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> np.ndarray:
        if index >= self.count:
            raise IndexError(index)
        self.loads += 1
        return np.full((self.side, self.side, 3), index % 256, np.uint8)


def test_flow_refuses_a_dataset_too_large_to_hold_from_its_first_item() -> None:
    """len 10**12 was a bare MemoryError in list(x); 1,500 large images were all loaded."""
    pipe = confaug.load_pipeline(IDENTITY)
    huge = _Dataset(10**12, 8)
    with pytest.raises(DataError, match=r"flow_from_directory.*wrap"):
        pipe.flow(huge)
    assert huge.loads == 1
    side = 64
    many = _Dataset(MAX_DATASET_BYTES // (side * side * 3) + 1, side)
    with pytest.raises(DataError, match="at most 1,024 MiB"):
        pipe.flow(many)
    assert many.loads == 1


def test_flow_reads_a_small_dataset() -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    x = next(iter(pipe.flow(_Dataset(5, 8), batch_size=5, shuffle=False, epochs=1)))
    assert x[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4]


# ---- 8: (image, label) pairs ----------------------------------------------------------------
def test_flow_refuses_image_label_pairs_when_made() -> None:
    """NumPy's "inhomogeneous shape" ValueError at the first batch, not skippable."""
    pipe = confaug.load_pipeline(IDENTITY)
    pairs = [(np.zeros((8, 8, 3), np.uint8), 1)] * 4
    with pytest.raises(DataError, match=r"x\[0\] is a tuple of 2 \(image, label\?\)"):
        pipe.flow(pairs, batch_size=4, on_error="skip")
    with pytest.raises(DataError, match=r"x\[0\] is a dict \(keys \['image', 'label'\]\)"):
        pipe.flow([{"image": np.zeros((8, 8, 3)), "label": 1}] * 2)


# ---- 13: flow(x) of the wrong kind ----------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "words"),
    [
        ("abc", "x is str"),
        (b"abc", "x is bytes"),
        ({"a": np.zeros((8, 8, 3))}, "x is a dict"),
        ({1, 2, 3}, "x is a set, which has no order"),
    ],
)
def test_flow_refuses_x_that_is_not_a_list_of_images(x: Any, words: str) -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    with pytest.raises(DataError, match=words):
        pipe.flow(x)


def test_flow_refuses_a_dataframe_x_and_names_flow_from_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    pipe = confaug.load_pipeline(IDENTITY)
    with pytest.raises(DataError, match=r"x is a DataFrame.*flow_from_dataframe"):
        pipe.flow(pd.DataFrame(np.zeros((3, 4))))
    series = pd.Series([np.zeros((8, 8, 3), np.uint8)] * 2)
    assert next(iter(pipe.flow(series, batch_size=2))).shape == (2, 8, 8, 3)
