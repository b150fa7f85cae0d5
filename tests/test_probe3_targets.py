"""What a sample must hold for the steps that read more than the image (probe round 2, 9/12).

Mosaic's and OverlayElements' metadata were checked for presence only: ``None`` or a dict ran
with albumentations' UserWarning, an item without its label field gave albumentations'
unformatted f-string, a short box an IndexError, a grayscale overlay NumPy's "shape mismatch",
and an overlay mask of another size was pasted in part without a word. CropNonEmptyMaskIfExists
without a mask failed with albumentations' RuntimeError, and ConstrainedCoarseDropout without
the mask or boxes it picks its holes from left the image as it was. Each is now a
``DataError`` (a ``ConfigError`` where the spec alone rules the step out) in confaug's words.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.errors import ConfigError, DataError

BOXES = {"format": "pascal_voc", "label_fields": ["labels"]}
MOSAIC: dict[str, Any] = {
    "bbox_params": BOXES,
    "transforms": [{"Mosaic": {"target_size": [32, 32], "cell_shape": [32, 32], "p": 1}}],
}
OVERLAY: dict[str, Any] = {"transforms": [{"OverlayElements": {"p": 1}}]}


def _image(shape: tuple[int, ...] = (32, 32, 3), dtype: Any = np.uint8) -> np.ndarray:
    pixels = np.random.default_rng(3).integers(0, 256, shape).astype(np.uint8)
    return pixels if dtype == np.uint8 else (pixels / 255.0).astype(dtype)


def _item(**fields: Any) -> dict[str, Any]:
    return {"image": _image(), "bboxes": [[1, 1, 9, 9]], "labels": [2], **fields}


def _mosaic(metadata: Any, **sample: Any) -> dict[str, Any]:
    pipe = confaug.load_pipeline(MOSAIC)
    data = {"image": _image(), "bboxes": [[2, 2, 20, 20]], "labels": [1], **sample}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # albumentations' "skipped" warnings would be a miss
        return pipe(**data, mosaic_metadata=metadata, seed=0)


# --- 1. Mosaic --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        (None, "mosaic_metadata is NoneType; expected a list of dicts"),
        ({"image": _image()}, "mosaic_metadata is dict; expected a list of dicts"),
        ("abc", "mosaic_metadata is str"),
        ([_image()], r"mosaic_metadata\[0\] is ndarray; expected a dict with an 'image'"),
        ([{"mask": _image()[..., 0]}], r"mosaic_metadata\[0\].image is missing"),
        ([_item(image=_image((32, 32)))], r"mosaic_metadata\[0\].image has shape \(32, 32\)"),
        ([_item(image=_image((32, 32, 4)))], r"the image's channels, shape \(h, w, 3\)"),
        ([_item(image=_image((0, 5, 3)))], r"expected an H×W or H×W×C image with pixels"),
        ([_item(image=_image(dtype=np.float32))], r"\.image is float32, but .* as uint8"),
        (
            [_item(), {"image": _image(), "bboxes": [[1, 1, 5, 5]]}],
            r"mosaic_metadata\[1\]\.bboxes need their label field 'labels'.*"
            r"add 'labels': \[\.\.\.\] to mosaic_metadata\[1\]",
        ),
        ([_item(bboxes=[[1, 1]])], r"mosaic_metadata\[0\]\.bboxes has shape \(1, 2\)"),
        ([_item(labels="a")], r"mosaic_metadata\[0\]\.labels is a string"),
        ([_item(labels=[1, 2])], r"mosaic_metadata\[0\]\.labels: 2 label\(s\) for 1 bboxes"),
    ],
)
def test_mosaic_metadata_is_checked_like_the_sample(metadata: Any, words: str) -> None:
    with pytest.raises(DataError, match=words) as caught:
        _mosaic(metadata)
    assert str(caught.value).startswith("transforms.0.Mosaic: ")


def test_a_mosaic_item_mask_must_fit_its_image_and_the_sample_mask() -> None:
    mask = np.zeros((32, 32), np.uint8)
    with pytest.raises(DataError, match=r"mosaic_metadata\[0\]\.mask has shape \(8, 8\)"):
        _mosaic([_item(mask=np.zeros((8, 8), np.uint8))], mask=mask)
    with pytest.raises(DataError, match=r"the mask \(32, 32\): it must have the mask's number"):
        _mosaic([_item(mask=np.zeros((32, 32, 2), np.uint8))], mask=mask)
    with pytest.raises(DataError, match=r"mosaic_metadata\[0\]\.mask has dtype bool"):
        _mosaic([_item(mask=np.zeros((32, 32), bool))], mask=mask)


def test_float_mosaic_items_must_be_in_the_range_the_steps_see() -> None:
    pipe = confaug.load_pipeline(MOSAIC)
    image = _image(dtype=np.float32)
    item = {"image": image * 255}  # 0-255 floats would paste white into a [0, 1] image
    with pytest.raises(DataError, match=r"values from 0 to 255.* floats in \[0, 1\]"):
        pipe(image=image, mosaic_metadata=[item], seed=0)
    out = pipe(image=image, mosaic_metadata=[{"image": image.astype(np.float64)}], seed=0)
    assert out["image"].dtype == np.float32


def test_valid_mosaic_metadata_still_runs() -> None:
    out = _mosaic([_item(), {"image": _image()}, _item(bboxes=None, labels=None)])
    assert out["image"].shape == (32, 32, 3)
    assert _mosaic([])["image"].shape == (32, 32, 3)  # the sample itself fills every cell


# --- 1. OverlayElements --------------------------------------------------------------------
def _overlay(metadata: Any, image: np.ndarray | None = None) -> dict[str, Any]:
    pipe = confaug.load_pipeline(OVERLAY)
    sample = _image((32, 32, 3)) if image is None else image
    return pipe(image=sample, overlay_metadata=metadata, seed=0)


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        (None, "overlay_metadata is NoneType; expected a list of dicts"),
        (({"image": _image((4, 4, 3))},), "overlay_metadata is tuple"),
        ([{"image": _image((4, 4))}], r"overlay_metadata\[0\]\.image has shape \(4, 4\)"),
        ([{"bbox": [0, 0, 1, 1]}], r"overlay_metadata\[0\]\.image is missing"),
        (
            [{"image": _image((4, 4, 3)), "mask": np.ones((5, 5), np.uint8)}],
            r"overlay_metadata\[0\]\.mask has shape \(5, 5\), its image \(4, 4, 3\)",
        ),
        (
            [{"image": _image((4, 4, 3)), "bbox": [0.1, 0.1, 0.5, 0.5], "mask": np.ones((2, 2))}],
            r"overlay_metadata\[0\]\.mask has shape \(2, 2\)",
        ),
        (
            [{"image": _image((4, 4, 3)), "bbox": [0.5, 0.5, 0.2, 0.9]}],
            r"overlay_metadata\[0\]\.bbox \[0\.5, 0\.5, 0\.2, 0\.9\] is not a box",
        ),
        (
            [{"image": _image((4, 4, 3)), "bbox": [0.1, 0.1, 0.11, 0.5]}],
            "is not a box of at least one pixel",
        ),
        ([{"image": _image((4, 4, 3)), "bbox": [0.1, 0.1]}], r"expected \[x_min, y_min"),
        (
            [{"image": _image((40, 40, 3)), "mask": np.ones((40, 40), np.uint8)}],
            "larger than the image .* give a 'bbox'",
        ),
    ],
)
def test_overlay_metadata_is_checked(metadata: Any, words: str) -> None:
    with pytest.raises(DataError, match=words) as caught:
        _overlay(metadata)
    assert str(caught.value).startswith("transforms.0.OverlayElements: ")


def test_an_overlay_box_on_a_one_channel_axis_image_is_refused() -> None:
    item = {"image": _image((4, 4, 1)), "bbox": [0.1, 0.1, 0.5, 0.5]}
    with pytest.raises(DataError, match="one-channel"):
        _overlay([item], image=_image((32, 32, 1)))


def test_valid_overlays_still_run_and_paste() -> None:
    patch = np.full((4, 4, 3), 7, np.uint8)
    out = _overlay({"image": patch, "bbox": [0.0, 0.0, 0.5, 0.5]})["image"]  # one dict
    assert (out[:16, :16] == 7).all()
    gray = _overlay([{"image": patch[..., 0]}], image=_image((32, 32)))["image"]
    assert gray.shape == (32, 32)
    masked = {"image": patch, "mask": np.eye(4, dtype=np.uint8)}
    assert _overlay([masked])["image"].shape == (32, 32, 3)
    assert _overlay([])["image"].shape == (32, 32, 3)


# --- 2. a string as a label field ----------------------------------------------------------
@pytest.mark.parametrize("labels", ["ab", b"ab"])
@pytest.mark.parametrize(
    ("params", "target", "rows"),
    [
        ({"bbox_params": BOXES}, "bboxes", [[1, 1, 5, 5], [2, 2, 6, 6]]),
        (
            {"keypoint_params": {"format": "xy", "label_fields": ["labels"]}},
            "keypoints",
            [[1, 1], [2, 2]],
        ),
    ],
)
def test_a_string_label_field_is_refused(
    labels: Any, params: dict[str, Any], target: str, rows: list[list[int]]
) -> None:
    pipe = confaug.load_pipeline({**params, "transforms": [{"HorizontalFlip": {"p": 1}}]})
    with pytest.raises(DataError, match="labels is a string; expected one label per row"):
        pipe(image=_image(), **{target: rows}, labels=labels, seed=0)


# --- 3. CropNonEmptyMaskIfExists -----------------------------------------------------------
CROP: dict[str, Any] = {
    "transforms": [{"CropNonEmptyMaskIfExists": {"height": 8, "width": 8, "p": 1}}]
}


@pytest.mark.parametrize("sample", [{}, {"masks": []}], ids=["nothing", "no masks"])
def test_crop_non_empty_mask_without_a_mask_says_what_it_needs(sample: dict[str, Any]) -> None:
    pipe = confaug.load_pipeline(CROP)
    with pytest.raises(DataError) as caught:
        pipe(image=_image(), **sample, seed=0)
    text = str(caught.value)
    assert text.startswith("transforms.0.CropNonEmptyMaskIfExists needs 'mask' or 'masks'")
    assert "RuntimeError" not in text


def test_crop_non_empty_mask_still_runs_on_a_mask_or_masks() -> None:
    pipe = confaug.load_pipeline(CROP)
    mask = np.zeros((32, 32), np.uint8)
    mask[20:30, 20:30] = 1
    assert pipe(image=_image(), mask=mask, seed=0)["image"].shape == (8, 8, 3)
    assert pipe(image=_image(), masks=[mask], seed=0)["image"].shape == (8, 8, 3)


# --- 4. ConstrainedCoarseDropout -----------------------------------------------------------
def _dropout(**options: Any) -> dict[str, Any]:
    step = {"hole_height_range": [0.5, 0.5], "hole_width_range": [0.5, 0.5], "p": 1, **options}
    return {"transforms": [{"ConstrainedCoarseDropout": step}]}


def test_dropout_by_mask_indices_without_a_mask_is_refused() -> None:
    pipe = confaug.load_pipeline(_dropout(mask_indices=[1]))
    with pytest.raises(DataError, match=r"needs 'mask' in each sample \(its mask_indices"):
        pipe(image=_image(), seed=0)


def test_dropout_by_box_labels_needs_the_samples_own_boxes() -> None:
    pipe = confaug.load_pipeline({**_dropout(bbox_labels=[1]), "bbox_params": BOXES})
    with pytest.raises(DataError, match=r"needs 'bboxes' in each sample \(its bbox_labels"):
        pipe(image=_image(), seed=0)  # no empty boxes stand in for the sample's own
    image = _image()
    # boxes given, none of them of label 1 (or none at all): nothing to drop, as it says
    empty = pipe(image=image.copy(), bboxes=[], labels=[], seed=0)["image"]
    assert np.array_equal(empty, image)
    out = pipe(image=image.copy(), bboxes=[[0, 0, 32, 32]], labels=[1], seed=0)
    assert not np.array_equal(out["image"], image) and out["labels"] == [1]


def test_dropout_by_either_runs_on_a_mask_alone_and_is_refused_without_both() -> None:
    pipe = confaug.load_pipeline(
        {**_dropout(mask_indices=[1], bbox_labels=[1]), "bbox_params": BOXES}
    )
    mask = np.ones((32, 32), np.uint8)
    image = _image()
    assert not np.array_equal(pipe(image=image.copy(), mask=mask, seed=0)["image"], image)
    with pytest.raises(DataError, match="needs 'mask' or 'bboxes' in each sample"):
        pipe(image=image, seed=0)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (_dropout(bbox_labels=[1]), "the spec has no bbox_params"),
        (
            {**_dropout(bbox_labels=["car"]), "bbox_params": {"format": "pascal_voc"}},
            "string labels are looked up in bbox_params.label_fields",
        ),
    ],
)
def test_dropout_by_box_labels_the_spec_cannot_serve_is_refused_at_load(
    spec: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        confaug.load_pipeline(spec)
    assert caught.value.problems[0].field == "transforms.0.ConstrainedCoarseDropout.bbox_labels"
