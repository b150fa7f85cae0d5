"""Round 6 of the config probe, the catalog's part: unknown keys inside mapping parameters
(Affine's {x, y}, a nested model's keys), kind and length errors of unions and tuples in
confaug's words, and hints for parameters another transform takes."""

from __future__ import annotations

import warnings
from typing import Any, get_args, get_origin

import numpy as np
import pytest

import confaug
from confaug import ConfigError
from confaug.spec.catalog import AXIS_MAPPINGS, _members, catalog, mapping_keys
from tests.conftest import WriteConfig

pytest.importorskip("albumentations")


def _problems(step: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The problems of a config of one step, by field."""
    with pytest.raises(ConfigError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confaug.load_spec({"transforms": [step]}, **kwargs)
    return {problem.field: problem for problem in err.value.problems}


# ---- 1. Affine's {x, y} mappings refuse other keys -----------------------------------------


@pytest.mark.parametrize(
    ("param", "mapping", "key", "hint"),
    [
        ("translate_percent", {"x": 0.0, "yy": 0.5}, "yy", "did you mean 'y'?"),
        ("scale", {"x": [0.9, 1.1], "z": 2}, "z", None),
        ("translate_px", {"x": 5, "width": 100}, "width", None),
        ("shear", {"x": 10, "z": 45}, "z", None),
        ("scale", {"x": 1, "y": 1, "rotate": 45}, "rotate", None),
        ("scale", {"X": 2, "y": 2}, "X", "did you mean 'x'?"),
    ],
)
def test_an_unknown_key_of_an_xy_mapping_is_refused_at_the_key(
    param: str, mapping: dict[str, Any], key: str, hint: str | None
) -> None:
    problems = _problems({"Affine": {param: mapping, "p": 1}})
    problem = problems[f"transforms.0.Affine.{param}.{key}"]
    assert problem.message == "unknown key; the mapping takes 'x' and 'y'"
    assert problem.hint == hint
    assert len(problems) == 1


def test_the_dropped_axis_is_no_longer_silently_lost() -> None:
    # Before: loaded, and the image came out unchanged (albumentations ignored 'yy').
    problems = _problems({"Affine": {"translate_percent": {"x": 0.0, "yy": 0.5}, "p": 1}})
    assert list(problems) == ["transforms.0.Affine.translate_percent.yy"]


@pytest.mark.parametrize(
    "mapping", [{"x": 0.1}, {"y": [-0.1, 0.1]}, {"x": [0.9, 1.1], "y": 1}, {"x": 0.0, "y": 0.5}]
)
def test_x_and_y_are_still_taken(mapping: dict[str, Any]) -> None:
    spec = confaug.load_spec({"transforms": [{"Affine": {"translate_percent": mapping}}]})
    assert spec.transforms[0].params["translate_percent"] == mapping


def test_a_valid_xy_mapping_still_shifts_the_image() -> None:
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    step = {"Affine": {"translate_percent": {"x": 0.0, "y": 0.5}, "p": 1}}
    out = confaug.load_pipeline({"transforms": [step]})(image=img, seed=0)["image"]
    assert not np.array_equal(out, img)


def test_an_unknown_key_in_a_file_is_placed_on_its_line(write: WriteConfig) -> None:
    write(
        "aug.yaml",
        "transforms:\n  - Affine:\n      translate_percent:\n        x: 0.0\n        yy: 0.5\n",
    )
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    (problem,) = err.value.problems
    assert (problem.file, problem.line) == ("aug.yaml", 5)
    assert problem.field == "transforms.0.Affine.translate_percent.yy"
    assert problem.hint == "did you mean 'y'?"


def test_an_unknown_key_set_by_an_override_is_refused(write: WriteConfig) -> None:
    write("aug.yaml", "transforms:\n  - HorizontalFlip\n  - Affine: {scale: [0.9, 1.1]}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["transforms.1.Affine.scale={x: 2, yy: 3}"])
    (problem,) = err.value.problems
    assert problem.field == "transforms.1.Affine.scale.yy"
    assert problem.hint == "did you mean 'y'?"


def test_a_literal_keyed_mapping_says_the_same() -> None:
    problems = _problems({"Downscale": {"interpolation_pair": {"downscale": 0, "upscal": 0}}})
    problem = problems["transforms.0.Downscale.interpolation_pair.upscal"]
    assert problem.message == "unknown key; the mapping takes 'downscale' and 'upscale'"
    assert problem.hint == "did you mean 'upscale'?"


def test_every_mapping_parameter_has_its_keys_or_a_model_of_its_own() -> None:
    # A dict[str, number-or-range] parameter of a future albumentations must join
    # AXIS_MAPPINGS (or get Literal keys); dict[str, Any] ones are checked by a model their
    # transform's validator builds (AdditiveNoise's noise_params).
    seen = []
    for name, info in catalog().items():
        schema = getattr(info.cls, "InitSchema", None)
        for param, field in getattr(schema, "model_fields", {}).items():
            dicts = [m for m in _members(field.annotation) if get_origin(m) is dict]
            if not dicts:
                continue
            seen.append((name, param))
            if get_args(dicts[0])[1] is Any:
                continue
            assert mapping_keys(name, param) is not None, (name, param)
    assert ("Affine", "translate_px") in seen
    for name, params in AXIS_MAPPINGS.items():
        assert params <= set(catalog()[name].params)


# ---- 2. Kinds and lengths of unions and tuples, in confaug's words ---------------------------


@pytest.mark.parametrize(
    ("step", "field", "message"),
    [
        (
            {"Affine": {"rotate": [-10]}},
            "rotate",
            "must be a number or a [low, high] pair, got a list of 1",
        ),
        (
            {"Affine": {"rotate": [-10, 0, 10]}},
            "rotate",
            "must be a number or a [low, high] pair, got a list of 3",
        ),
        ({"GaussNoise": {"std_range": 0.1}}, "std_range", "must be a [low, high] pair, got 0.1"),
        (
            {"GaussNoise": {"std_range": [0.1]}},
            "std_range",
            "must be a [low, high] pair, got a list of 1",
        ),
        (
            {"Blur": {"blur_limit": [3]}},
            "blur_limit",
            "must be an integer or a [low, high] pair of integers, got a list of 1",
        ),
        (
            {"Affine": {"scale": {"x": [1]}}},
            "scale.x",
            "must be a number or a [low, high] pair, got a list of 1",
        ),
        # Pad's pair is two sides, not a range: no "[low, high]" there.
        (
            {"Pad": {"padding": [1, 2, 3]}},
            "padding",
            "must be an integer or a list of 2 integers or a list of 4 integers, got a list of 3",
        ),
        (
            {"RandomResizedCrop": {"size": 3}},
            "size",
            "must be a list of 2 integers, got 3",
        ),
        (
            {"Resize": {"height": [1], "width": 3}},
            "height",
            "must be an integer, got a list of 1",
        ),
    ],
)
def test_a_value_of_the_wrong_kind_or_length_is_said_in_confaugs_words(
    step: dict[str, Any], field: str, message: str
) -> None:
    problems = _problems(step)
    (name,) = step
    problem = problems[f"transforms.0.{name}.{field}"]
    assert problem.message == message
    assert "Field required" not in problem.message and "Input should" not in problem.message


def test_an_item_that_fails_is_named_rather_than_the_other_union_members() -> None:
    # The 4-side member gets as far as item 3: the other members' "list of 2" is noise.
    problems = _problems({"CropAndPad": {"px": [1, 2, 3, "a"]}})
    assert list(problems) == ["transforms.0.CropAndPad.px.3"]
    assert problems["transforms.0.CropAndPad.px.3"].message.startswith("must be an integer or")


# ---- 3. A nested model's errors are placed inside its mapping -------------------------------


def test_a_misspelt_key_of_noise_params_is_placed_at_the_key() -> None:
    step = {
        "AdditiveNoise": {
            "noise_type": "gaussian",
            "noise_params": {"mean_range": [0, 0], "std_rnage": [0.5, 0.5]},
        }
    }
    problems = _problems(step)
    typo = problems["transforms.0.AdditiveNoise.noise_params.std_rnage"]
    assert (typo.message, typo.hint) == ("unknown key", "did you mean 'std_range'?")
    lacking = problems["transforms.0.AdditiveNoise.noise_params"]
    assert lacking.message == "required key 'std_range' is missing"
    assert not any("Extra inputs" in p.message for p in problems.values())
    assert not any("missing required parameter" in p.message for p in problems.values())


def test_a_wrong_kind_inside_noise_params_is_placed_and_worded() -> None:
    step = {
        "AdditiveNoise": {
            "noise_type": "gaussian",
            "noise_params": {"mean_range": [0, 0], "std_range": 0.5},
        }
    }
    problems = _problems(step)
    problem = problems["transforms.0.AdditiveNoise.noise_params.std_range"]
    assert problem.message == "must be a [low, high] pair, got 0.5"


# ---- 4. Hints for a parameter another transform takes --------------------------------------


@pytest.mark.parametrize("name", ["Resize", "RandomCrop", "CenterCrop"])
def test_size_on_a_height_and_width_transform_says_whose_it_is(name: str) -> None:
    problems = _problems({name: {"size": [32, 32]}})
    problem = problems[f"transforms.0.{name}.size"]
    assert problem.hint == (
        f"{name} takes height and width; size is RandomResizedCrop's / RandomSizedCrop's"
    )


def test_the_old_names_on_random_resized_crop_keep_their_hint() -> None:
    problems = _problems({"RandomResizedCrop": {"height": 8, "width": 8}})
    hint = problems["transforms.0.RandomResizedCrop.height"].hint
    assert hint is not None and "albumentations 1.x" in hint


def test_translate_names_both_units() -> None:
    problems = _problems({"Affine": {"translate": 0.1}})
    assert problems["transforms.0.Affine.translate"].hint == (
        "did you mean 'translate_percent' (fractions of the image size) or 'translate_px' (pixels)?"
    )


def test_a_close_name_still_gets_the_one_it_is_close_to() -> None:
    problems = _problems({"Affine": {"translate_pc": 0.1}})
    assert problems["transforms.0.Affine.translate_pc"].hint == "did you mean 'translate_px'?"
