"""probe-adapters5's findings: in-memory data and the framework adapters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import confaug
from confaug.integrations.hf_datasets import hf_transform
from confaug.integrations.ray import ray_augment
from confaug.sources import DataError

FLIP: dict[str, Any] = {"version": 1, "horizontal_flip": True, "rotation_range": 20}


def _pixels(count: int = 4, size: int = 16) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (count, size, size, 3), dtype=np.uint8)


# ---- 1: a row adapter handed one row, not a batch ------------------------------------------
def test_hf_map_without_batched_augments_each_row_as_one_image() -> None:
    """``ds.map(f)`` (batched=False) and ``IterableDataset.map(f)`` hand over one row: each
    pixel line was augmented as a grayscale image of its own, silently."""
    datasets = pytest.importorskip("datasets")
    x = _pixels()
    augment = hf_transform(FLIP, seed=1)
    rows = datasets.Dataset.from_dict({"image": list(x), "label": [0, 1, 2, 3]})
    expected = [np.asarray(rows.with_transform(augment)[i]["image"]) for i in range(4)]
    mapped = rows.map(augment)
    streamed = list(rows.to_iterable_dataset().map(augment))
    for i in range(4):
        np.testing.assert_array_equal(np.asarray(mapped[i]["image"]), expected[i])
        np.testing.assert_array_equal(np.asarray(streamed[i]["image"]), expected[i])
    direct = augment({"image": x[0], "label": 0})  # a row handed over by hand
    np.testing.assert_array_equal(direct["image"], expected[0])
    assert direct["label"] == 0


def test_hf_transform_refuses_a_dict_it_cannot_tell_from_a_batch() -> None:
    """A lone 16×16×3 image column with no other column: one RGB row or 16 grayscale images
    3 pixels wide. The last axis says channels, so it is refused, with how to pass a batch."""
    with pytest.raises(TypeError, match="batched=True"):
        hf_transform(FLIP, seed=1)({"image": _pixels()[0]})
    grayscale = {"image": list(_pixels()[..., 0])}  # a batch of 4 grayscale 16×16 images
    assert len(hf_transform(FLIP, seed=1)(grayscale)["image"]) == 4


def test_ray_map_hands_one_row_which_is_augmented_as_one() -> None:
    """Ray's ``Dataset.map`` hands the class one row (``{"image": HWC, "path": str}``): a
    path shorter than the image's height was an IndexError, a longer one garbage."""
    x = _pixels(2)
    augment = ray_augment(FLIP, seed=1)()
    paths = ["a/1.png", "a/2.png"]
    batch = augment({"image": x, "path": np.array(paths)})
    for i, path in enumerate([*paths, "x"]):
        row = augment({"image": x[i % 2], "path": path})
        assert row["path"] == path and row["image"].shape == (16, 16, 3)
        if i < 2:
            np.testing.assert_array_equal(row["image"], batch["image"][i])
    with pytest.raises(TypeError, match="map_batches"):
        ray_augment(FLIP, seed=1, on_error="skip")()({"image": x[0], "path": "p"})


# ---- 2: integer rows without a depth of their own -------------------------------------------
def test_integer_rows_of_one_dataset_get_one_depth() -> None:
    """``datasets`` hands an Array3D uint16 column over as lists of ints; the depth was
    chosen per row from its maximum, so a dark 16-bit row became 8-bit, 257× too bright."""
    rng = np.random.default_rng(0)
    bright = rng.integers(30000, 60000, (8, 8, 3)).astype(np.uint16)
    dark = rng.integers(0, 200, (8, 8, 3)).astype(np.uint16)
    rows = {"image": [bright.tolist(), dark.tolist()]}
    plain = confaug.load_pipeline({"version": 1})
    deep = hf_transform(plain, seed=1, pixel_dtype="uint16", float32=True)(rows)["image"]
    assert abs(float(deep[1].mean()) - dark.mean() / 65535) < 1e-6
    assert abs(float(deep[0].mean()) - bright.mean() / 65535) < 1e-6
    with pytest.raises(DataError, match="pixel_dtype='uint16'"):
        hf_transform(plain, seed=1)(rows)  # never a depth of the row's own choosing
    eight = hf_transform(plain, seed=1)({"image": [dark.astype(np.uint8).tolist()]})["image"]
    assert eight[0].dtype == np.uint8  # 8-bit rows as before
    with pytest.raises(ValueError, match="pixel_dtype="):
        hf_transform(plain, seed=1, pixel_dtype="int16")


# ---- 4: multi-output y through wrap ---------------------------------------------------------
def test_wrap_takes_keras_multi_output_y() -> None:
    """``(x, {"out_a": ..., "out_b": ...})`` was refused: "x has 4 samples but y has 2"."""
    pipe = confaug.load_pipeline({"version": 1})
    x, ya, yb = _pixels(), np.arange(4), np.ones((4, 2))
    (out,) = list(pipe.wrap([(x, {"out_a": ya, "out_b": yb})]))
    assert set(out[1]) == {"out_a", "out_b"} and out[1]["out_b"] is yb
    (out,) = list(pipe.wrap([(x, [ya, yb], {"out_a": np.ones(4), "out_b": np.ones(4)})]))
    assert out[1][1] is yb and len(out) == 3
    with pytest.raises(DataError, match=r"batch 0 x has 4 samples but y\['out_b'\] has 3"):
        list(pipe.wrap([(x, {"out_a": ya, "out_b": yb[:3]})]))
    with pytest.raises(DataError, match=r"y\[1\] has 3"):
        list(pipe.wrap([(x, [ya, yb[:3]])]))


def test_wrap_names_a_dict_batch() -> None:
    pipe = confaug.load_pipeline({"version": 1})
    with pytest.raises(DataError, match=r"batch 0 is a dict.*\(x, y\)"):
        list(pipe.wrap([{"image": _pixels(), "label": np.arange(4)}]))


# ---- 6: lists mixing kinds of images --------------------------------------------------------
@pytest.mark.parametrize("other", [np.float32, np.uint16])
def test_apply_batch_and_wrap_refuse_lists_mixing_kinds(other: type) -> None:
    """uint8 with float (or uint16) was stacked into one dtype, one kind read in the other's
    units; flow refused the same list."""
    pipe = confaug.load_pipeline({"version": 1})
    u = np.full((8, 8, 3), 200, np.uint8)
    images = [u, u.astype(other)]
    with pytest.raises(DataError, match=r"x\[1\] is .* but x\[0\] is uint8"):
        pipe.apply_batch(images, seed=0)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"batch 0 x\[1\] is"):
        list(pipe.wrap([(images, np.arange(2))]))
    assert pipe.apply_batch([u, u], seed=0).shape == (2, 8, 8, 3)  # type: ignore[arg-type]


# ---- 11: bad seeds --------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [-1, "x", 1.5, True])
def test_bad_seeds_get_confaugs_words(seed: Any) -> None:
    pipe = confaug.load_pipeline({"version": 1})
    image = _pixels(1)[0]
    with pytest.raises(ValueError, match=r"seed=.*expected a non-negative int or None"):
        pipe(image=image, seed=seed)
    with pytest.raises(ValueError, match=r"seed=.*expected a non-negative int or None"):
        pipe.apply_batch(image[None], seed=seed)


def test_numpy_int_seeds_give_the_int_seeds_pixels() -> None:
    pipe = confaug.load_pipeline(FLIP)
    image = _pixels(1)[0]
    np.testing.assert_array_equal(
        pipe(image=image, seed=np.int64(3))["image"], pipe(image=image, seed=3)["image"]
    )


# ---- 12: targets the spec cannot place ------------------------------------------------------
def test_flow_refuses_boxes_without_bbox_params_when_made() -> None:
    """A SampleError at the first batch named an innocent sample (x[4])."""
    pipe = confaug.load_pipeline({"version": 1})
    with pytest.raises(confaug.ConfigError, match="bbox_params"):
        pipe.flow(_pixels(), targets={"bboxes": [[]] * 4})


# ---- 8: process workers and batches pickle cannot send --------------------------------------
def test_process_workers_name_a_batch_that_cannot_be_sent() -> None:
    import threading

    pipe = confaug.load_pipeline({"version": 1})
    x = _pixels(2)
    lock = threading.Lock()
    batches = [(x, np.arange(2)), (memoryview(x), np.arange(2)), (x, [lock, lock])]
    with pytest.raises(DataError, match=r"batch 2 cannot be sent to a worker process") as caught:
        list(pipe.wrap(batches, workers=1, worker_mode="process"))
    assert "pickle" in str(caught.value)


# ---- 13: small ones -------------------------------------------------------------------------
def test_grain_option_typos_get_a_hint() -> None:
    pytest.importorskip("grain")
    from confaug.integrations.grain import GrainAugment

    with pytest.raises(TypeError, match=r"GrainAugment\(\).*'imag_key'.*image_key"):
        GrainAugment({"version": 1}, imag_key="x")


def test_a_none_row_without_key_column_is_named_by_its_place() -> None:
    with pytest.raises(DataError, match=r"row 1 of the 2 rows"):
        hf_transform({"version": 1}, seed=1)({"image": [_pixels(1)[0], None]})


# ---- 7: labels torch cannot hold ------------------------------------------------------------
def test_as_torch_reads_big_endian_labels_and_refuses_what_torch_cannot_hold() -> None:
    torch = pytest.importorskip("torch")
    pipe = confaug.load_pipeline({"version": 1})
    x = _pixels()
    labels = np.arange(4).astype(">f4")
    batches = pipe.flow(x, labels, np.ones(4, ">f8"), batch_size=2, shuffle=False)
    _, y, w = next(iter(batches.as_torch()))
    assert y.dtype == torch.float32 and w.dtype == torch.float64 and y.tolist() == [0.0, 1.0]
    for labels in (
        np.arange(4).astype("datetime64[D]"),
        np.array([b"a", b"b", b"c", b"d"]),
        np.array([1, None, 2, 3], dtype=object),
    ):
        with pytest.raises(DataError, match=r"y"):
            pipe.flow(x, labels).as_torch()


def test_to_torch_refuses_an_uncompiled_pipeline_at_the_call() -> None:
    """It was accepted and failed at the first item: "'str' object is not callable"."""
    pytest.importorskip("torch")
    from confaug.integrations.torch import to_torch
    from confaug.sources import ArraySource

    with pytest.raises(TypeError, match=r"load_pipeline\('preset:keras_seed'\)"):
        to_torch(ArraySource(_pixels(2)), pipeline="preset:keras_seed", seed=1)
    pipe = confaug.load_pipeline({"version": 1})
    assert tuple(to_torch(ArraySource(_pixels(2)), pipeline=pipe, seed=1)[0].shape) == (3, 16, 16)


# ---- 9: as_tf with sizes that change between batches ----------------------------------------
def test_as_tf_gives_free_sizes_for_a_list_of_sizes() -> None:
    tf = pytest.importorskip("tensorflow")
    pipe = confaug.load_pipeline({"version": 1})
    images = [np.zeros((16, 16, 3), np.uint8), np.zeros((8, 12, 3), np.uint8)]
    dataset = pipe.flow(images, np.arange(2), batch_size=1, shuffle=False).as_tf()
    shapes = [tuple(x.shape) for x, _ in dataset]
    assert shapes == [(1, 16, 16, 3), (1, 8, 12, 3)]
    assert isinstance(dataset.element_spec[0], tf.TensorSpec)


def test_list_checks_read_torch_tensors() -> None:
    """flow's list check reads ``image.dtype.kind``, which torch dtypes lack (finding 3):
    wrap and apply_batch must still take lists of tensors, and refuse mixed ones."""
    torch = pytest.importorskip("torch")
    pipe = confaug.load_pipeline({"version": 1})
    u = np.full((8, 8, 3), 200, np.uint8)
    tensors = [torch.from_numpy(u), torch.from_numpy(u)]
    assert pipe.apply_batch(tensors, seed=0).shape == (2, 8, 8, 3)  # type: ignore[arg-type]
    ((x, _),) = list(pipe.wrap([(tensors, np.arange(2))]))
    assert x.shape == (2, 8, 8, 3)
    mixed = [torch.from_numpy(u), torch.from_numpy(u.astype(np.float32) / 255)]
    with pytest.raises(DataError, match=r"x\[1\] is float32 but .*x\[0\] is uint8"):
        pipe.apply_batch(mixed, seed=0)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"batch 0 x\[1\] is float32"):
        list(pipe.wrap([(mixed, np.arange(2))]))


def test_wrap_still_words_ragged_and_lengthless_x() -> None:
    pipe = confaug.load_pipeline({"version": 1})
    ragged = [np.zeros((8, 8, 3), np.uint8), np.zeros((4, 8, 3), np.uint8)]
    with pytest.raises(DataError, match="batch 0"):
        list(pipe.wrap([(ragged, {"a": np.arange(2)})]))
    with pytest.raises(DataError, match="batch 0"):
        list(pipe.wrap([(5, {"a": np.arange(2)})]))
