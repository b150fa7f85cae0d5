"""Every shipped preset: documented header, valid, compiles, runs on images, masks and boxes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

import confaug
from confaug import samples
from confaug.cli.presets import description, header_lines
from confaug.resources import preset_names, preset_path

MODELINE = "# yaml-language-server: $schema=../schemas/confaug.schema.json"
REQUIRED = (
    "keras_seed",
    "keras_defaults",
    "classification_light",
    "classification_medium",
    "classification_heavy",
    "segmentation",
    "detection",
    "medical_grayscale",
    "aerial",
    "documents",
)
MASK_PRESETS = ("segmentation", "aerial", "medical_grayscale")
SEEDS = range(6)
NAMES = preset_names()


def _path(name: str) -> Path:
    path = preset_path(name)
    assert path is not None
    return path


def _rgb(size: int = 96) -> np.ndarray:
    import cv2

    return cv2.resize(samples.load("scene"), (size, size), interpolation=cv2.INTER_AREA)


def test_the_required_presets_ship() -> None:
    assert len(NAMES) >= 8
    assert set(REQUIRED) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_header_modeline_and_description(name: str) -> None:
    lines = _path(name).read_text(encoding="utf-8").splitlines()
    assert lines[0] == MODELINE
    assert lines[1].startswith("# ") and len(lines[1]) > 30, "second line: the one-line description"
    assert description(_path(name)) == lines[1][2:]
    header = " ".join(header_lines(_path(name)))
    assert "For:" in header and "Why these values:" in header
    assert (_path(name).parent / "../schemas/confaug.schema.json").resolve().is_file()


def test_keras_seed_is_the_seed_exactly() -> None:
    data = yaml.safe_load(_path("keras_seed").read_text())
    assert data == {
        "version": 1,
        "rotation_range": 15,
        "width_shift_range": 0.1,
        "height_shift_range": 0.1,
        "shear_range": 0.01,
        "zoom_range": [0.9, 1.25],
        "horizontal_flip": True,
        "vertical_flip": False,
        "fill_mode": "reflect",
        "data_format": "channels_last",
        "brightness_range": [0.5, 1.5],
    }


def test_keras_defaults_are_keras_defaults() -> None:
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    image = pytest.importorskip("keras.src.legacy.preprocessing.image")
    import inspect

    keras = {
        k: p.default
        for k, p in inspect.signature(image.ImageDataGenerator.__init__).parameters.items()
        if k != "self"
    }
    data = yaml.safe_load(_path("keras_defaults").read_text())
    assert set(data) - {"version"} == set(keras) == set(confaug.KERAS_KEYWORDS)
    for key, value in keras.items():
        if key == "data_format":  # Keras None means its image_data_format(): channels_last
            assert data[key] == "channels_last"
        elif key == "dtype":  # Keras None means its floatx(): float32
            assert data[key] == "float32"
        else:
            assert data[key] == value, key
    batch = confaug.load_pipeline("preset:keras_defaults").apply_batch(np.stack([_rgb(32)] * 2))
    assert batch.dtype == np.float32
    assert np.array_equal(batch, np.stack([_rgb(32)] * 2).astype(np.float32))


@pytest.mark.parametrize("name", NAMES)
def test_runs_on_uint8_and_float(name: str) -> None:
    pipe = confaug.load_pipeline(f"preset:{name}")
    image = _rgb()
    expected = (224, 224, 3) if name == "classification_heavy" else image.shape
    boxes = {"bboxes": [[10, 10, 60, 60, 1]]} if pipe.spec.bbox_params else {}
    changed = 0
    for seed in SEEDS:
        out8 = pipe(image=image, seed=seed, **boxes)["image"]
        assert out8.dtype == np.uint8 and out8.shape == expected
        outf = pipe(image=image.astype(np.float32) / 255, seed=seed, **boxes)["image"]
        assert outf.dtype == np.float32 and outf.shape == expected
        assert outf.min() >= 0.0 and outf.max() <= 1.0
        changed += out8.shape != image.shape or not np.array_equal(out8, image)
    batch = pipe.apply_batch(np.stack([image, image[::-1]]).astype(np.float32) / 255, seed=1)
    assert batch.shape == (2, *expected)
    if name == "keras_defaults":
        assert changed == 0
    else:
        assert changed >= len(SEEDS) // 2, "a preset that rarely changes anything"


@pytest.mark.filterwarnings("ignore:HueSaturationValue")
@pytest.mark.parametrize("name", NAMES)
def test_runs_on_grayscale(name: str) -> None:
    import cv2

    pipe = confaug.load_pipeline(f"preset:{name}")
    gray = cv2.resize(samples.load("medical"), (80, 80))
    for seed in SEEDS:
        for image in (gray, gray[..., None], gray.astype(np.float32) / 255):
            out = pipe(image=image, seed=seed)["image"]
            assert out.dtype == image.dtype
            if name != "classification_heavy":
                assert out.shape[:2] == image.shape[:2]


def _blocks() -> tuple[np.ndarray, np.ndarray]:
    """An asymmetric label map and an image whose gray level encodes the label."""
    mask = np.zeros((96, 96), np.uint8)
    mask[8:40, 8:60] = 1
    mask[56:90, 40:88] = 2
    image = np.stack([mask.astype(np.uint8) * 100 + 20] * 3, axis=-1)
    return image, mask


@pytest.mark.parametrize("name", MASK_PRESETS)
def test_masks_move_with_images_and_keep_class_ids(name: str) -> None:
    pipe = confaug.load_pipeline(f"preset:{name}")
    image, mask = _blocks()
    if name == "medical_grayscale":
        image = image[..., 0]
    moved = 0
    for seed in range(20):
        out = pipe(image=image, mask=mask, seed=seed)
        out_mask, out_image = out["mask"], out["image"].astype(np.float32)
        assert out_mask.shape == out_image.shape[:2]
        assert set(np.unique(out_mask)) <= {0, 1, 2}, "nearest interpolation: no blended class ids"
        gray = out_image if out_image.ndim == 2 else out_image.mean(axis=-1)
        means = [gray[out_mask == k].mean() for k in (0, 1, 2) if (out_mask == k).sum() > 30]
        assert means == sorted(means), "image and mask moved differently"
        moved += not np.array_equal(out_mask, mask)
    assert moved >= 8


def test_detection_boxes_follow_objects() -> None:
    pipe = confaug.load_pipeline("preset:detection")
    assert pipe.spec.bbox_params is not None and pipe.spec.bbox_params["format"] == "pascal_voc"
    image = np.zeros((100, 120, 3), np.uint8)
    image[20:50, 10:40] = 255
    kept = 0
    for seed in range(12):
        out = pipe(image=image, bboxes=[[10, 20, 40, 50, 7]], seed=seed)
        for x0, y0, x1, y1, label in out["bboxes"]:
            kept += 1
            assert label == 7
            assert 0 <= x0 < x1 <= 120 and 0 <= y0 < y1 <= 100
            inside = out["image"][int(y0) + 2 : int(y1) - 2, int(x0) + 2 : int(x1) - 2].mean()
            assert inside > out["image"].mean() + 40, "the box no longer covers the object"
    assert kept >= 10
    labelled = confaug.load_pipeline(
        "preset:detection", overrides=["bbox_params.label_fields=[labels]"]
    )
    out = labelled(image=image, bboxes=[[10, 20, 40, 50]], labels=["cat"], seed=0)
    assert list(out["labels"]) == ["cat"] and len(out["bboxes"]) == 1


def test_preset_choices_match_their_headers() -> None:
    def names(preset: str) -> list[str]:
        return [step.name for step in confaug.load_spec(f"preset:{preset}").transforms]

    assert {"RandomRotate90", "HorizontalFlip", "VerticalFlip"} <= set(names("aerial"))
    for preset in ("documents", "medical_grayscale"):
        spec = confaug.load_spec(f"preset:{preset}")
        assert not ({"HorizontalFlip", "VerticalFlip", "RandomRotate90"} & set(names(preset)))
        assert not (spec.horizontal_flip or spec.vertical_flip)
    affine = next(s for s in confaug.load_spec("preset:detection").transforms if s.name == "Affine")
    assert "rotate" not in affine.params and "shear" not in affine.params
    medium = confaug.load_spec("preset:classification_medium")
    assert medium.fill_mode == "reflect" and medium.horizontal_flip  # from classification_light
    assert medium.rotation_range == 20


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    return confaug.json_schema()


@pytest.mark.parametrize("name", NAMES)
def test_presets_satisfy_the_json_schema(name: str, schema: dict[str, object]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = yaml.safe_load(_path(name).read_text())
    jsonschema.validate(data, schema)
