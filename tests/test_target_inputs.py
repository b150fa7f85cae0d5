"""Masks, boxes and keypoints are checked before albumentations sees them.

A mask of a dtype OpenCV cannot warp failed only when a geometric step fired (so some
samples of a flow passed and others did not) with OpenCV's own assertion; a NaN mask came
out NaN without a word; a box of three numbers was an IndexError from inside
albumentations, which ``on_error="skip"`` could not skip. Each is a ``DataError`` saying
what is wrong, from every entry point.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.errors import DataError

WARP: dict[str, Any] = {"transforms": [{"Affine": {"rotate": [10, 20], "p": 1.0}}]}
IDENTITY: dict[str, Any] = {"transforms": [{"HorizontalFlip": {"p": 0.0}}]}


def _image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (8, 8, 3)).astype(np.uint8)


@pytest.mark.parametrize("dtype", ["bool", "float16", "uint32", "complex64", "object"])
@pytest.mark.parametrize("spec", [WARP, IDENTITY], ids=["warped", "untouched"])
def test_a_mask_of_a_dtype_no_step_warps_is_refused_whether_or_not_a_step_fires(
    dtype: str, spec: dict[str, Any]
) -> None:
    pipe = confaug.load_pipeline(spec)
    with pytest.raises(DataError, match=f"mask has dtype {dtype}"):
        pipe(image=_image(), mask=np.ones((8, 8)).astype(dtype))


@pytest.mark.parametrize(
    "dtype", ["uint8", "int8", "uint16", "int16", "int32", "int64", "float32", "float64"]
)
def test_masks_of_the_warped_dtypes_keep_their_values(dtype: str) -> None:
    mask = (np.arange(64).reshape(8, 8) % 5).astype(dtype)
    out = confaug.load_pipeline(IDENTITY)(image=_image(), mask=mask)["mask"]
    assert np.array_equal(out, mask)


def test_wide_integer_masks_must_fit_int32() -> None:
    pipe = confaug.load_pipeline(WARP)
    mask = np.zeros((8, 8), np.int64)
    mask[0, 0] = 2**40
    with pytest.raises(DataError, match="beyond int32"):
        pipe(image=_image(), mask=mask)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_float_masks_are_refused_in_every_entry_point(bad: float) -> None:
    pipe = confaug.load_pipeline("preset:segmentation")
    x = np.stack([_image()] * 4)
    masks = np.zeros((4, 8, 8), np.float32)
    masks[2, 3, 3] = bad
    with pytest.raises(DataError, match="NaN or infinite"):
        pipe(image=x[2], mask=masks[2])
    with pytest.raises(DataError, match=r"x\[2\].*NaN or infinite"):
        list(pipe.flow(x, masks=masks, batch_size=4, epochs=1, shuffle=False))
    with pytest.raises(DataError, match="NaN or infinite"):
        list(pipe.wrap([(x, masks)], masks_in_y=True))
    kept = list(pipe.flow(x, masks=masks, batch_size=1, epochs=1, on_error="skip"))
    assert len(kept) == 3  # the sample skipped, by name, the other three augmented


def test_a_list_of_masks_is_checked_mask_by_mask() -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    good = np.zeros((8, 8), np.uint8)
    with pytest.raises(DataError, match=r"masks\[1\] has dtype bool"):
        pipe(image=_image(), masks=[good, good.astype(bool)])


DETECTION: dict[str, Any] = {
    "bbox_params": {"format": "pascal_voc", "label_fields": ["labels"]},
    "transforms": [{"HorizontalFlip": {"p": 1.0}}],
}


@pytest.mark.parametrize(
    ("boxes", "said"),
    [
        ([[2, 2, 10]], r"bboxes has shape \(1, 3\); expected one row of at least 4"),
        (None, r"bboxes is None; expected one row per box: \[\] when there are none"),
        (5, r"bboxes has shape \(\)"),
        ([["a", "b", "c", "d"]], "bboxes must be a table of numbers"),
        ("2,2,10,10", "bboxes is str"),
    ],
)
def test_malformed_boxes_are_data_errors(boxes: Any, said: str) -> None:
    pipe = confaug.load_pipeline(DETECTION)
    with pytest.raises(DataError, match=said):
        pipe(image=_image(), bboxes=boxes, labels=[1])


def test_boxes_and_their_labels_must_pair_up() -> None:
    pipe = confaug.load_pipeline(DETECTION)
    with pytest.raises(DataError, match=r"labels: 2 label\(s\) for 1 bboxes"):
        pipe(image=_image(), bboxes=[[2, 2, 6, 6]], labels=[1, 2])
    with pytest.raises(DataError, match="labels is NoneType"):
        pipe(image=_image(), bboxes=[[2, 2, 6, 6]], labels=None)
    out = pipe(image=_image(), bboxes=[[2, 2, 6, 6]], labels=["cat"])
    assert out["labels"] == ["cat"] and np.allclose(out["bboxes"], [[2, 2, 6, 6]])
    assert len(pipe(image=_image(), bboxes=[], labels=[])["bboxes"]) == 0


def test_a_flow_skips_samples_with_malformed_boxes_by_name() -> None:
    pipe = confaug.load_pipeline(DETECTION)
    x = np.stack([_image()] * 3)
    boxes = [[[2, 2, 6, 6]], [[2, 2, 6]], [[1, 1, 5, 5]]]
    targets = {"bboxes": boxes, "labels": [[0], [1], [2]]}
    with pytest.raises(DataError, match=r"x\[1\]: bboxes has shape \(1, 3\)"):
        list(pipe.flow(x, targets=targets, batch_size=3, epochs=1, shuffle=False))
    batches = list(
        pipe.flow(x, targets=targets, batch_size=1, epochs=1, shuffle=False, on_error="skip")
    )
    assert len(batches) == 2


def test_keypoints_need_two_numbers_a_row() -> None:
    pipe = confaug.load_pipeline(
        {"keypoint_params": {"format": "xy"}, "transforms": [{"HorizontalFlip": {"p": 1.0}}]}
    )
    with pytest.raises(DataError, match=r"keypoints has shape \(2, 1\); expected one row of"):
        pipe(image=_image(), keypoints=[[1], [2]])
    assert np.allclose(pipe(image=_image(), keypoints=[[1, 2]])["keypoints"], [[6, 2]])


def test_additional_targets_are_checked_by_their_kind() -> None:
    spec = {
        "bbox_params": {"format": "pascal_voc"},
        "additional_targets": {"t2": "bboxes", "depth": "mask"},
        "transforms": [{"HorizontalFlip": {"p": 1.0}}],
    }
    pipe = confaug.load_pipeline(spec)
    boxes = [[1, 1, 5, 5, 0]]
    with pytest.raises(DataError, match=r"t2 has shape \(1, 2\)"):
        pipe(image=_image(), bboxes=boxes, t2=[[1, 1]])
    with pytest.raises(DataError, match="t2 is None"):
        pipe(image=_image(), bboxes=boxes, t2=None)
    with pytest.raises(DataError, match="depth has dtype bool"):
        pipe(image=_image(), bboxes=boxes, depth=np.zeros((8, 8), bool))
    out = pipe(image=_image(), bboxes=boxes, t2=[[1, 1, 4, 4, 1]])
    assert np.allclose(out["t2"], [[4, 1, 7, 4, 1]])


def test_label_fields_must_be_given_with_their_rows_and_not_as_a_string() -> None:
    pipe = confaug.load_pipeline(DETECTION)
    with pytest.raises(DataError, match=r"bboxes need their label field 'labels'"):
        pipe(image=_image(), bboxes=[[1, 1, 5, 5]])
    with pytest.raises(DataError, match="labels is a string"):
        pipe(image=_image(), bboxes=[[1, 1, 5, 5], [2, 2, 6, 6]], labels="ab")


def test_a_second_box_target_with_label_fields_is_refused_at_load() -> None:
    """albumentations 2.0.8 fails on every sample there (a KeyError from its label code)."""
    from confaug.errors import ConfigError

    with pytest.raises(ConfigError, match=r"additional_targets\.t2: .*cannot carry labels"):
        confaug.load_pipeline({**DETECTION, "additional_targets": {"t2": "bboxes"}})


def test_sizes_that_differ_after_augmentation_say_how_to_fix_it() -> None:
    pipe = confaug.load_pipeline({"transforms": [{"RandomScale": {"scale_limit": 0.5, "p": 1}}]})
    x = np.zeros((4, 32, 32, 3), np.uint8)
    with pytest.raises(DataError, match="end the pipeline with a fixed-size step"):
        pipe.apply_batch(x)
    with pytest.raises(DataError, match="end the pipeline with a fixed-size step"):
        next(iter(pipe.flow(x, batch_size=4)))


@pytest.mark.parametrize("mode", ["min_max", "image", "image_per_channel", "min_max_per_channel"])
def test_every_normalize_mode_gives_float32(mode: str) -> None:
    pipe = confaug.load_pipeline({"transforms": [{"Normalize": {"normalization": mode}}]})
    assert pipe(image=_image())["image"].dtype == np.float32
    assert pipe.apply_batch(np.stack([_image()] * 2)).dtype == np.float32


def test_normalize_after_to_float_must_divide_by_one() -> None:
    """ToFloat's [0, 1] divided by 255 again made every pixel about -2, without a word."""
    from confaug.errors import ConfigError

    with pytest.raises(ConfigError, match=r"transforms\.1\.Normalize\.max_pixel_value"):
        confaug.load_pipeline({"transforms": ["ToFloat", "Normalize"]})
    spec = {"transforms": ["ToFloat", {"Normalize": {"max_pixel_value": 1}}]}
    out = confaug.load_pipeline(spec)(image=_image())["image"]
    assert out.dtype == np.float32 and out.max() > 0.5  # normalized, not all near -2


def test_a_normalize_written_for_unit_floats_warns_on_uint8_once() -> None:
    spec = {"transforms": [{"Normalize": {"max_pixel_value": 1}}]}
    with pytest.warns(UserWarning, match="max_pixel_value 1, but uint8 images"):
        confaug.load_pipeline(spec)(image=_image())
    floats = confaug.load_pipeline(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = floats(image=_image().astype(np.float32) / 255)["image"]
    assert out.min() > -3 and out.max() < 3  # [0, 1] data is what it is written for
