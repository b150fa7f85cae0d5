"""Probe 6 (adapters), the row adapters: Hugging Face, Grain, Ray, and ``apply_batch``.

A CHW image on a channels_last pipeline is refused by flow's and wrap's rule; Ray's
``on_error="mark"`` stand-ins take the dtype good rows come out in; a batch's float range
error names its rows; 2-D grayscale rows come back H×W×1 from every adapter; encoded
entries of every bytes type decode; ``datasets``' traps are worded by confaug.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.errors import DataError
from confaug.integrations.hf_datasets import hf_transform
from confaug.integrations.ray import ERROR_COLUMN, ray_augment

FLIP = {"version": 1, "transforms": [{"HorizontalFlip": {"p": 1.0}}]}
KERAS = {"version": 1, "horizontal_flip": True}
RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 255, (16, 20, 3), dtype=np.uint8)
CHW = np.ascontiguousarray(IMAGE.transpose(2, 0, 1))


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


# ---- #1: a CHW image on a channels_last pipeline ------------------------------------------
def test_hf_refuses_a_chw_row_by_flows_rule() -> None:
    augment = hf_transform(FLIP, seed=1, key_column="id")
    with pytest.raises(DataError, match=r"id=3: the image has shape \(3, 16, 20\): 20 channels"):
        augment({"image": [IMAGE, CHW], "id": [0, 3]})
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(CHW).float() / 255  # torchvision's ToTensor layout
    with pytest.raises(DataError, match="H×W×C"):
        augment({"image": [tensor], "id": [0]})


def test_grain_refuses_a_chw_element() -> None:
    pytest.importorskip("grain")
    from confaug.integrations.grain import GrainAugment

    with pytest.raises(DataError, match=r"id=0: the image has shape \(3, 16, 20\)"):
        GrainAugment(FLIP, seed=1, key_field="id").map({"image": CHW, "id": 0})


def test_ray_refuses_an_image_in_the_other_layout() -> None:
    last = ray_augment(FLIP, seed=1, key_column="id")()
    with pytest.raises(DataError, match=r"id=0: .*is data_format right"):
        last({"image": CHW[None], "id": np.array([0])})
    first = ray_augment({**FLIP, "data_format": "channels_first"}, seed=1, key_column="id")()
    with pytest.raises(DataError, match=r"\(16, 20, 3\): 16 channels on axis 0"):
        first({"image": IMAGE[None], "id": np.array([0])})
    assert first({"image": CHW[None], "id": np.array([0])})["image"].shape == (1, 3, 16, 20)


def test_apply_batch_refuses_a_chw_batch() -> None:
    pipe = confaug.load_pipeline(FLIP)
    with pytest.raises(DataError, match=r"x has shape \(1, 3, 16, 20\).*data_format"):
        pipe.apply_batch(CHW[None], seed=0)
    keras = confaug.load_pipeline(KERAS)  # the batch path too
    with pytest.raises(DataError, match="is data_format right"):
        keras.apply_batch(CHW[None], seed=0)
    first = confaug.load_pipeline({**FLIP, "data_format": "channels_first"})
    out = first.apply_batch(CHW[None], seed=0)
    assert np.array_equal(out[0].transpose(1, 2, 0), IMAGE[:, ::-1])


def test_many_channel_images_still_work_where_they_did() -> None:
    five = RNG.integers(0, 255, (2, 12, 12, 5), dtype=np.uint8)
    pipe = confaug.load_pipeline(FLIP)
    assert np.array_equal(pipe.apply_batch(five, seed=0), five[:, :, ::-1])
    out = hf_transform(FLIP, seed=1)({"image": list(five)})["image"]
    assert np.array_equal(np.stack(out), five[:, :, ::-1])
    ray_out = ray_augment(FLIP, seed=1, key_column=None)()({"image": five})["image"]
    assert np.array_equal(ray_out, five[:, :, ::-1])
    # a channels_first HF pipeline still reads rows as H×W×C
    first = hf_transform({**FLIP, "data_format": "channels_first"}, seed=1)
    assert np.array_equal(first({"image": [IMAGE]})["image"][0], CHW[:, :, ::-1])


def test_fit_with_augment_keeps_keras_any_channel_count() -> None:
    pipe = confaug.load_pipeline({"version": 1, "featurewise_center": True})
    chw_like = RNG.random((2, 3, 8, 8)).astype(np.float32)  # Keras' fit warns, then fits
    pipe.fit(chw_like, augment=True, seed=0)


# ---- #3: Ray on_error="mark": the stand-in's dtype ------------------------------------------
def test_ray_mark_stand_in_of_an_all_bad_block_has_the_good_rows_dtype() -> None:
    bad = np.full((2, 16, 16, 3), np.nan, np.float32)
    out = ray_augment(KERAS, seed=1, key_column=None, on_error="mark")()({"image": bad})
    assert out["image"].dtype == np.float32 and out["image"].shape == (2, 0, 0, 0)
    assert all(out[ERROR_COLUMN])
    # a Keras stage that makes floats of uint8 (rescale): the stand-in is float32 too
    rescale = ray_augment({**KERAS, "rescale": 1 / 255}, seed=1, key_column=None, on_error="mark")
    bools = np.zeros((2, 16, 16, 3), dtype=bool)
    good = rescale()({"image": IMAGE[None]})["image"]
    assert rescale()({"image": bools})["image"].dtype == good.dtype == np.float32


def test_pipeline_output_dtype() -> None:
    assert confaug.load_pipeline(KERAS).output_dtype(np.uint16) == np.uint16
    normalize = confaug.load_pipeline({"version": 1, "transforms": [{"Normalize": {}}]})
    assert normalize.output_dtype(np.uint8) == np.float32
    cast = confaug.load_pipeline({**KERAS, "dtype": "float16"})
    assert cast.output_dtype(np.uint8) == np.float16
    assert cast.output_dtype(np.uint8, standardize=False) == np.uint8


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_mark_with_float_rows_lets_the_dataset_batch(ray_local: Any) -> None:
    good = RNG.random((2, 8, 8, 3)).astype(np.float32)
    bad = np.full((2, 8, 8, 3), np.nan, np.float32)
    rows = [{"image": image, "id": i} for i, image in enumerate([*good, *bad])]
    ds = ray_local.data.from_items(rows).repartition(2)
    augment = ray_augment(KERAS, seed=1, key_column="id", on_error="mark")
    out = ds.map_batches(augment, batch_format="numpy", batch_size=2)
    batches = list(out.iter_batches(batch_size=4, batch_format="numpy"))  # unified by Ray
    errors = [reason for batch in batches for reason in batch[ERROR_COLUMN]]
    assert sorted(bool(reason) for reason in errors) == [False, False, True, True]


# ---- #10: the float-range error names the rows ----------------------------------------------
def test_float_range_error_names_the_rows() -> None:
    dark = np.zeros((8, 8, 3), np.float32)
    hot = RNG.random((8, 8, 3)).astype(np.float32) * 1000
    with pytest.raises(DataError, match=r"^id=5: image: float values span \[0, "):
        hf_transform({"version": 1}, seed=1, key_column="id")({"image": [dark, hot], "id": [0, 5]})
    with pytest.raises(DataError, match=r"^id=5: image: float values span"):
        ray_augment({"version": 1}, seed=1, key_column="id")()(
            {"image": np.stack([dark, hot]), "id": np.array([0, 5])}
        )
    pytest.importorskip("grain")
    from confaug.integrations.grain import GrainAugment

    with pytest.raises(DataError, match=r"^id=2: pic: float values span"):
        GrainAugment({"version": 1}, seed=1, key_field="id", image_key="pic").map(
            {"pic": hot, "id": 2}
        )


# ---- #11: small ones ----------------------------------------------------------------------
def test_2d_grayscale_rows_come_back_with_a_channel_axis_from_every_adapter() -> None:
    gray = IMAGE[..., 0]
    hf = hf_transform(FLIP, seed=1, key_column="id")({"image": [gray], "id": [0]})["image"][0]
    ray = ray_augment(FLIP, seed=1, key_column="id")()({"image": gray[None], "id": np.array([0])})
    assert hf.shape == ray["image"].shape[1:] == (16, 20, 1)
    assert np.array_equal(hf, ray["image"][0])
    first = ray_augment({**FLIP, "data_format": "channels_first"}, seed=1, key_column=None)()
    assert first({"image": gray[None]})["image"].shape == (1, 1, 16, 20)


def test_bytes_like_entries_decode_as_bytes() -> None:
    png = _png(IMAGE)
    augment = hf_transform({"version": 1}, seed=1, key_column="id")
    want = augment({"image": [png], "id": [7]})["image"][0]
    for value in (np.bytes_(png), memoryview(png), bytearray(png)):
        assert np.array_equal(augment({"image": [value], "id": [7]})["image"][0], want)
    ray = ray_augment({"version": 1}, seed=1, key_column=None)()
    column = np.empty(1, dtype=object)
    column[0] = memoryview(png)
    assert np.array_equal(ray({"image": column})["image"][0], want)


def test_with_indices_is_worded() -> None:
    augment = hf_transform({"version": 1}, seed=1)
    with pytest.raises(TypeError, match="with_indices"):
        augment({"image": [IMAGE]}, [0])  # what ds.map(augment, with_indices=True) calls


def test_a_row_holding_several_images_is_worded() -> None:
    from PIL import Image

    pictures = [Image.fromarray(IMAGE), Image.fromarray(IMAGE)]
    augment = hf_transform({"version": 1}, seed=1, key_column="id")
    with pytest.raises(DataError, match=r"id=4: the row holds a list of 2 images.*Sequence"):
        augment({"image": [pictures], "id": [4]})


def test_ragged_nested_lists_are_a_data_error() -> None:
    augment = hf_transform({"version": 1}, seed=1, key_column="id")
    with pytest.raises(DataError, match=r"id=1: .*nested lists of different lengths"):
        augment({"image": [[[1, 2, 3], [4, 5]]], "id": [1]})


def test_int8_rows_are_worded_as_negative_pixels() -> None:
    augment = hf_transform({"version": 1}, seed=1, key_column="id")
    signed = (IMAGE.astype(np.int16) - 128).astype(np.int8)
    with pytest.raises(DataError, match=r"id=0: .*pixels below 0 \(int8\)"):
        augment({"image": [signed], "id": [0]})
