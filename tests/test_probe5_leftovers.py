"""probe-adapters5's leftovers (findings 4, 10, 13): flow's y and weights, memoryviews,
tensor boxes, and the multi-output y check where batches are unpacked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import confaug
from confaug.sources import DataError, unpack_batch

FLIP: dict[str, Any] = {"version": 1, "horizontal_flip": True}


def _pixels(count: int = 4, size: int = 8) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (count, size, size, 3), dtype=np.uint8)


# ---- 4: flow() with a dict, a set or a None label ------------------------------------------
@pytest.mark.parametrize(
    ("y", "words"),
    [
        ({"a": 1, "b": 2, "c": 3, "d": 4}, "y is a dict"),  # keys == samples
        ({"out_a": np.arange(4), "out_b": np.arange(4)}, "wrap()"),  # multi-output
        (set(range(4)), "y is a set, which has no order"),
        (frozenset(range(4)), "no order"),
    ],
)
def test_flow_refuses_a_dict_or_set_y_when_made(y: Any, words: str) -> None:
    """A dict or set y of the sample count's length failed at the first batch with NumPy's
    IndexError ("array is 0-dimensional"); a dict of per-sample arrays was counted by keys."""
    pipe = confaug.load_pipeline(FLIP)
    with pytest.raises(DataError, match=words):
        pipe.flow(_pixels(), y, batch_size=4)


def test_flow_refuses_a_dict_sample_weight_when_made() -> None:
    pipe = confaug.load_pipeline(FLIP)
    with pytest.raises(DataError, match="sample_weight is a dict"):
        pipe.flow(_pixels(), np.arange(4), {"a": 1, "b": 1, "c": 1, "d": 1})


@pytest.mark.parametrize(
    "y",
    [[0, None, 1, 2], [np.zeros(2), None, np.zeros(2), np.zeros(2)]],
    ids=["scalars", "arrays"],
)
def test_flow_names_a_none_label(y: list[Any]) -> None:
    """A None label reached the batches as None (or was worded as a ragged y)."""
    pipe = confaug.load_pipeline(FLIP)
    with pytest.raises(DataError, match=r"y\[1\] is None"):
        pipe.flow(_pixels(), y, batch_size=4)


def test_flow_keeps_lists_of_labels() -> None:
    pipe = confaug.load_pipeline(FLIP)
    _, y = pipe.flow(_pixels(), ["a", "b", "c", "d"], batch_size=4, shuffle=False)[0]
    assert list(y) == ["a", "b", "c", "d"]


# ---- 13: sample_weight with masks or targets ------------------------------------------------
def test_flow_takes_sample_weight_with_masks() -> None:
    """``flow(x, masks=..., sample_weight=...)`` said "sample_weight needs y"."""
    x = _pixels()
    masks = np.zeros((4, 8, 8), dtype=np.uint8)
    pipe = confaug.load_pipeline(FLIP)
    batch = pipe.flow(x, masks=masks, sample_weight=np.arange(4.0), batch_size=4, shuffle=False)[0]
    assert len(batch) == 3
    assert batch[1].shape == (4, 8, 8)
    np.testing.assert_array_equal(batch[2], np.arange(4.0))


def test_flow_still_refuses_sample_weight_alone() -> None:
    pipe = confaug.load_pipeline(FLIP)
    with pytest.raises(ValueError, match="y, masks or targets"):
        pipe.flow(_pixels(), sample_weight=np.ones(4))


# ---- 13: flow() over a memoryview --------------------------------------------------------
def test_flow_reads_a_memoryview_as_its_array() -> None:
    """``flow(memoryview(x))`` raised NotImplementedError from ``list()``."""
    x = _pixels()
    pipe = confaug.load_pipeline(FLIP)
    got = pipe.flow(memoryview(x), batch_size=4, shuffle=False, seed=3)[0]
    want = pipe.flow(x, batch_size=4, shuffle=False, seed=3)[0]
    np.testing.assert_array_equal(got, want)


# ---- 10: boxes as a torch tensor ---------------------------------------------------------
def test_torch_bboxes_are_read_as_numpy() -> None:
    """``pipe(image=..., bboxes=torch.tensor(...))`` failed inside albumentations with
    "'Tensor' object has no attribute 'copy'"."""
    torch = pytest.importorskip("torch")
    image = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    boxes = np.array([[1.0, 2, 10, 12, 3], [4, 4, 20, 30, 1]], dtype=np.float32)
    det = confaug.load_pipeline("preset:detection")
    got = det(image=image, bboxes=torch.from_numpy(boxes), seed=1)
    want = det(image=image, bboxes=boxes, seed=1)
    np.testing.assert_array_equal(got["image"], want["image"])
    np.testing.assert_allclose(np.asarray(got["bboxes"]), np.asarray(want["bboxes"]))


def test_array_like_bboxes_are_read_as_numpy() -> None:
    """Any ``__array__`` object (a pandas frame, a TF tensor) is read the same way."""

    class Rows:
        def __init__(self, values: np.ndarray) -> None:
            self.values = values

        def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
            return self.values if dtype is None else self.values.astype(dtype)

    image = np.zeros((32, 32, 3), dtype=np.uint8)
    boxes = np.array([[1.0, 2, 10, 12, 3]], dtype=np.float32)
    det = confaug.load_pipeline("preset:detection")
    got = det(image=image, bboxes=Rows(boxes), seed=1)
    np.testing.assert_allclose(
        np.asarray(got["bboxes"]), np.asarray(det(image=image, bboxes=boxes, seed=1)["bboxes"])
    )


def test_unreadable_tensor_bboxes_are_a_data_error() -> None:
    torch = pytest.importorskip("torch")
    boxes = torch.tensor([[1.0, 2, 10, 12, 3]], requires_grad=True)
    det = confaug.load_pipeline("preset:detection")
    with pytest.raises(DataError, match="bboxes is Tensor and cannot be read as a NumPy array"):
        det(image=np.zeros((32, 32, 3), dtype=np.uint8), bboxes=boxes, seed=1)


# ---- 4 (wrap): the multi-output check where batches are unpacked ----------------------------
def test_unpack_batch_takes_keras_multi_output_y() -> None:
    """unpack_batch counted a dict y's keys (a list y's arrays) as samples; wrap checked
    multi-output y around it. The check is now unpack_batch's own."""
    x = _pixels()
    y = {"out_a": np.arange(4), "out_b": np.zeros((4, 2))}
    source, rest = unpack_batch((x, y), 0)
    assert len(source) == 4 and rest[0] is y
    listed = [np.arange(4), np.zeros((4, 2))]
    assert unpack_batch((x, listed, {"out_a": np.ones(4)}), 0)[1][0] is listed
    with pytest.raises(DataError, match=r"y\['out_b'\] has 3: each output's array"):
        unpack_batch((x, {"out_a": np.arange(4), "out_b": np.arange(3)}), 0)
    with pytest.raises(DataError, match=r"w\[1\] has 2"):
        unpack_batch((x, np.arange(4), [np.ones(4), np.ones(2)]), 0)
    with pytest.raises(DataError, match=r"x has 4 samples but y has 3$"):
        unpack_batch((x, [0, 1, 2]), 0)  # plain labels: counted as before
