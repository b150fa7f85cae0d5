"""Messages for albumentations 1.x habits, names that are not steps, and whole-step problems."""

from __future__ import annotations

import inspect
import json
import re
import warnings
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import ConfigError
from confaug.spec import validate
from confaug.spec.albu1_renames import REMOVED, RENAMED, TRANSFORMS, parameter_hint
from confaug.spec.catalog import BASE_CLASSES, REFUSED, catalog, unknown_transform

pytest.importorskip("albumentations")


def _problems(step: Any) -> list[Any]:
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline({"version": 1, "transforms": [step]})
    return err.value.problems


def _first_word(text: str) -> str:
    return re.split(r"[:\s]", text, maxsplit=1)[0]


@pytest.mark.parametrize("name", sorted(RENAMED))
def test_each_renamed_parameter_is_gone_and_its_new_name_exists(name: str) -> None:
    info = catalog()[name]
    for old, new in RENAMED[name].items():
        assert old not in info.params, f"{name}.{old} still exists in albumentations 2"
        assert _first_word(new) in info.params, f"{name} has no {_first_word(new)}"
        for word in re.findall(r"\[(\w+), (\w+)\]", new):  # [min_holes, max_holes]: old names
            assert set(word) <= set(RENAMED[name]) | {"low", "high"}


def test_each_removed_parameter_is_gone() -> None:
    for name, removed in REMOVED.items():
        infos = catalog().values() if name == "*" else [catalog()[name]]
        for info in infos:
            assert not set(removed) & set(info.params), info.name


def test_removed_transforms_are_gone_and_their_hints_name_real_ones() -> None:
    for old, hint in TRANSFORMS.items():
        assert old not in catalog()
        named = re.findall(r"use (\w+)", hint)
        assert all(name in catalog() for name in named if name != "gen"), hint


@pytest.mark.parametrize(
    ("step", "field", "words"),
    [
        ({"GaussNoise": {"var_limit": [10, 50]}}, "var_limit", "std_range"),
        ({"GaussNoise": {"mean": 0}}, "mean", "mean_range"),
        ({"CoarseDropout": {"max_holes": 8}}, "max_holes", "num_holes_range: [min_holes"),
        ({"CoarseDropout": {"fill_value": 0}}, "fill_value", "takes fill"),
        ({"ImageCompression": {"quality_lower": 50}}, "quality_lower", "quality_range"),
        ({"Affine": {"cval": 0}}, "cval", "takes fill"),
        ({"Rotate": {"value": 0}}, "value", "takes fill"),
        ({"Perspective": {"pad_mode": 1}}, "pad_mode", "border_mode"),
        ({"HorizontalFlip": {"always_apply": True}}, "always_apply", "p: 1"),
        ({"ElasticTransform": {"alpha_affine": 5}}, "alpha_affine", "Affine"),
    ],
)
def test_albumentations_1_parameters_get_the_2_spelling(
    step: dict[str, Any], field: str, words: str
) -> None:
    (problem,) = _problems(step)
    name = next(iter(step))
    assert problem.field == f"transforms.0.{name}.{field}"
    assert problem.message == f"unknown parameter of {name}"
    assert problem.hint is not None and words in problem.hint


def test_a_renamed_required_parameter_is_reported_with_the_missing_one() -> None:
    problems = _problems({"RandomResizedCrop": {"height": 32, "width": 32}})
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {
        "transforms.0.RandomResizedCrop",
        "transforms.0.RandomResizedCrop.height",
        "transforms.0.RandomResizedCrop.width",
    }
    assert by_field["transforms.0.RandomResizedCrop"].message == "missing required parameter 'size'"
    assert "size: [height, width]" in (by_field["transforms.0.RandomResizedCrop.height"].hint or "")


def test_both_missing_sizes_are_named_together() -> None:
    (problem,) = _problems({"Resize": {}})
    assert problem.message == "missing required parameters 'height' and 'width'"
    (problem,) = _problems({"Resize": {"width": 20}})
    assert problem.message == "missing required parameter 'height'"


def test_unknown_and_missing_parameters_of_a_step_come_together() -> None:
    problems = _problems({"Resize": {"heigth": 20, "widht": 30, "p": 1.0}})
    messages = {p.field: (p.message, p.hint) for p in problems}
    assert messages == {
        "transforms.0.Resize": ("missing required parameters 'height' and 'width'", None),
        "transforms.0.Resize.heigth": ("unknown parameter of Resize", "did you mean 'height'?"),
        "transforms.0.Resize.widht": ("unknown parameter of Resize", "did you mean 'width'?"),
    }


def test_a_wrong_type_beside_an_unknown_parameter_comes_in_the_same_round() -> None:
    problems = _problems({"Resize": {"height": "x", "widht": 3, "p": 1.0}})
    fields = {p.field: p.message for p in problems}
    assert set(fields) == {
        "transforms.0.Resize",
        "transforms.0.Resize.height",
        "transforms.0.Resize.widht",
    }
    assert "integer" in fields["transforms.0.Resize.height"]
    assert fields["transforms.0.Resize"] == "missing required parameter 'width'"
    # a correct parameter beside the unknown one is not reported
    (unknown, missing) = sorted(
        _problems({"Resize": {"height": 10, "widht": 3}}), key=lambda p: p.field, reverse=True
    )
    assert unknown.field.endswith("widht") and missing.message.endswith("'width'")


def test_a_close_name_is_still_suggested_when_no_table_knows_the_key() -> None:
    assert parameter_hint("Blur", "blur_limt") is None
    (problem,) = _problems({"Blur": {"blur_limt": 3}})
    assert problem.hint == "did you mean 'blur_limit'?"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("ToTensorV2", "as_torch(...)"),
        ("ToTensor3D", "as_torch(...)"),
        ("DualTransform", "base class"),
        ("ImageOnlyTransform", "base class"),
        ("Transform3D", "base class"),
        ("BasicTransform", "base class"),
        ("Compose", "Sequential"),
        ("Lambda", "preprocessing_function"),
        ("TextImage", "SECURITY.md"),
    ],
)
def test_refused_names_say_what_to_use(name: str, words: str) -> None:
    message, hint = unknown_transform(name)
    assert name not in catalog()
    assert message == f"'{name}' cannot be a step of a config"
    assert hint is not None and words in hint and "did you mean" not in hint


def test_albumentations_1_transforms_name_their_successor() -> None:
    assert unknown_transform("Cutout") == (
        "unknown transform 'Cutout' (albumentations 1.x)",
        TRANSFORMS["Cutout"],
    )
    for old in ("Flip", "PerChannel", "MixUp", "TemplateTransform"):  # gone by 2.0
        assert unknown_transform(old)[0].endswith("(albumentations 1.x)")
    assert "HorizontalFlip" in (unknown_transform("Flip")[1] or "")
    assert unknown_transform("GausBlur") == (
        "unknown transform 'GausBlur'",
        "did you mean 'GaussianBlur'?",
    )


@pytest.mark.skipif(
    "unknown_transform" not in inspect.getsource(validate),
    reason="spec/validate.py does not call catalog.unknown_transform yet (requested)",
)
def test_refused_names_say_what_to_use_in_a_config() -> None:
    (problem,) = _problems("ToTensorV2")
    assert "as_torch(...)" in (problem.hint or "") and "ToTensor3D" not in str(problem)
    (problem,) = _problems("DualTransform")
    assert "base class" in (problem.hint or "")


def test_no_base_class_is_in_the_catalog_or_the_schema() -> None:
    schema = json.dumps(confaug.json_schema())
    for name in (*BASE_CLASSES, *REFUSED):
        assert name not in catalog()
        assert f'"{name}"' not in schema, name


# Required parameters (and the data some transforms need) to run each one once.
_REQUIRED: dict[str, dict[str, Any]] = {
    "AtLeastOneBBoxRandomCrop": {"height": 8, "width": 8},
    "CenterCrop": {"height": 8, "width": 8},
    "CenterCrop3D": {"size": [2, 8, 8]},
    "Crop": {"x_max": 10, "y_max": 10},
    "CropAndPad": {"px": 2},
    "CropNonEmptyMaskIfExists": {"height": 8, "width": 8},
    "GridElasticDeform": {"num_grid_xy": [2, 2], "magnitude": 2},
    "LongestMaxSize": {"max_size": 16},
    "PadIfNeeded3D": {"min_zyx": [4, 30, 30]},
    "Pad3D": {"padding": 1},
    "RandomCrop": {"height": 8, "width": 8},
    "RandomCrop3D": {"size": [2, 8, 8]},
    "RandomResizedCrop": {"size": [8, 8]},
    "RandomSizedBBoxSafeCrop": {"height": 8, "width": 8},
    "RandomSizedCrop": {"min_max_height": [8, 12], "size": [8, 8]},
    "Resize": {"height": 8, "width": 8},
    "SmallestMaxSize": {"max_size": 16},
}


_BOXES = frozenset({"AtLeastOneBBoxRandomCrop", "BBoxSafeRandomCrop", "RandomSizedBBoxSafeCrop"})


def test_every_catalog_transform_runs_on_a_first_image() -> None:
    """No base class hides in the catalog: each transform runs on an image (a volume for
    the 3D ones, boxes for the box crops) without the NotImplementedError of
    albumentations' abstract classes."""
    import albumentations as A

    image = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    flat = {"image": image, "mask": image[..., 0].copy()}
    extra = {"cropping_bbox": [2, 2, 12, 12], "overlay_metadata": [], "mosaic_metadata": []}
    volume = {"volume": np.stack([image] * 3), "mask3d": np.stack([image[..., 0]] * 3)}
    failed = []
    for name, info in catalog().items():
        if info.composite:
            continue
        needs_volume = issubclass(info.cls, A.Transform3D)
        data = dict(volume) if needs_volume else {**flat, **extra}
        params = {"bbox_params": A.BboxParams(format="pascal_voc")} if name in _BOXES else {}
        if name in _BOXES:
            data["bboxes"] = np.array([[2, 2, 30, 30]], dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            transform = info.cls(p=1.0, **_REQUIRED.get(name, {}))
            compose = A.Compose([transform], **params)
            try:
                compose(
                    **{k: v.copy() if isinstance(v, np.ndarray) else v for k, v in data.items()}
                )
            except Exception as err:  # every failure is listed below
                failed.append((name, type(err).__name__))
    assert failed == []
