"""Round 5 of the config probe, the spec's part: what ``load_spec`` promises, hints for names
inside transforms, and the JSON Schema's bounds on single values."""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import confaug
from confaug import ConfigError
from confaug.spec.model import RESERVED_TARGETS
from tests import test_editor_lsp
from tests.conftest import Run, WriteConfig
from tests.helpers import only_problem
from tests.test_editor_lsp import LspClient, assert_flagged_and_refused

# ---- 1. load_spec runs the checks load_pipeline runs -------------------------------------

#: Configs whose spec is valid step by step, refused only once the steps are built.
COMPILE_TIME: dict[str, dict[str, Any]] = {
    "normalize_p": {"transforms": [{"Normalize": {"p": 0.5}}]},
    "uint8_after_normalize": {"dtype": "uint8", "transforms": ["Normalize"]},
    "uint8_after_rescale": {"dtype": "uint8", "rescale": 0.00392},  # Keras keywords alone
    "gray_p": {"transforms": [{"ToGray": {"num_output_channels": 1, "p": 0.5}}]},
    "normalize_after_to_float": {"transforms": ["ToFloat", "Normalize"]},
    "value_range_vs_max_pixel_value": {"value_range": [10, 20], "transforms": ["Normalize"]},
    "selective_channel_resize": {
        "transforms": [
            {"SelectiveChannelTransform": {"transforms": [{"Resize": {"height": 8, "width": 8}}]}}
        ]
    },
    "two_box_targets_with_labels": {
        "bbox_params": {"format": "coco", "label_fields": ["labels"]},
        "additional_targets": {"b2": "bboxes"},
    },
    "dropout_bbox_labels": {
        "bbox_params": {"format": "coco"},
        "transforms": [{"ConstrainedCoarseDropout": {"bbox_labels": ["car"]}}],
    },
}


def _problems(load: Any, source: Any) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # albumentations' notes on unused processors
        with pytest.raises(ConfigError) as err:
            load(source)
    return [str(problem) for problem in err.value.problems]


@pytest.mark.parametrize("name", sorted(COMPILE_TIME))
def test_load_spec_refuses_what_load_pipeline_refuses(name: str) -> None:
    config = COMPILE_TIME[name]
    problems = _problems(confaug.load_spec, config)
    assert problems == _problems(confaug.load_pipeline, config)


def test_load_spec_places_compile_time_problems_in_the_file(write: WriteConfig) -> None:
    write("base.yaml", "transforms:\n  - ToFloat\n  - Normalize: {p: 1}\n")
    write("aug.yaml", "extends: base.yaml\nrotation_range: 5\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("base.yaml", 3, 16)
    assert problem.field == "transforms.1.Normalize.max_pixel_value"
    assert _problems(confaug.load_spec, "aug.yaml") == _problems(confaug.load_pipeline, "aug.yaml")


def test_confaug_validate_still_reports_a_compile_time_problem_once(
    write: WriteConfig, cli: Run
) -> None:
    write("aug.yaml", "transforms:\n  - Normalize: {p: 0.5}\n")
    code, out, _ = cli("validate", "aug.yaml")
    assert code == 1
    assert out.splitlines() == [line for line in out.splitlines() if line.strip()]
    assert len(out.splitlines()) == 1 and out.startswith("aug.yaml:2:")


def test_a_valid_config_still_loads_to_the_spec_load_pipeline_compiles() -> None:
    for source in ("preset:detection", "preset:keras_defaults", {"rotation_range": 10}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert confaug.load_spec(source) == confaug.load_pipeline(source).spec


# ---- 2. Hints for names inside transforms --------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field", "hint"),
    [
        ({"Normalize": {"normalization": "standart"}}, "normalization", "standard"),
        ({"GlassBlur": {"mode": "fastt"}}, "mode", "fast"),
        ({"ToGray": {"method": "weighted_avg"}}, "method", "weighted_average"),
        ({"ImageCompression": {"compression_type": "jpg"}}, "compression_type", "jpeg"),
        ({"HorizontalFlip": {"prob": 0.5}}, "prob", "p"),
        ({"HorizontalFlip": {"probability": 0.5}}, "probability", "p"),
        ({"SomeOf": {"transfroms": ["Blur"], "n": 1}}, "transfroms", "transforms"),
    ],
)
def test_names_inside_transforms_get_a_did_you_mean(
    config: dict[str, Any], field: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"transforms": [config]})
    (name,) = config
    hints = {p.field: p.hint for p in err.value.problems}
    assert hints[f"transforms.0.{name}.{field}"] == f"did you mean '{hint}'?"


def test_a_top_level_alias_gets_its_key() -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"zoom": 0.1})
    problem = only_problem(err)
    assert (problem.field, problem.hint) == ("zoom", "did you mean 'zoom_range'?")


def test_an_alias_is_offered_only_where_its_key_exists() -> None:
    # 'zoom' inside a transform: no transform takes zoom_range, so no alias hint there.
    from confaug.spec.vocab import KEY_ALIASES

    assert set(KEY_ALIASES.values()) == {"p", "zoom_range"}
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"transforms": [{"Blur": {"zoom": 1}}]})
    assert only_problem(err).hint != "did you mean 'zoom_range'?"


def test_a_union_parameter_of_no_members_kind_is_said_in_confaugs_words() -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"transforms": [{"Affine": {"rotate": "abc"}}]})
    message = only_problem(err).message
    assert "Input should be" not in message
    assert message == "must be a number or a [low, high] pair, got the string 'abc'"


# ---- 3. The JSON Schema refuses what the validator refuses in one value --------------------


@cache
def _validator() -> Any:
    return jsonschema.Draft202012Validator(confaug.json_schema())


def _shipped_validator() -> Any:
    import json

    from confaug import resources

    text = (resources.schemas_dir() / "confaug.schema.json").read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


SCHEMA_REFUSES: dict[str, dict[str, Any]] = {
    "extends_no_parent": {"extends": []},
    "extends_empty": {"extends": ""},
    "extends_empty_in_list": {"extends": [""]},
    "function_empty": {"preprocessing_function": ""},
    "negative_brightness": {"brightness_range": [-1, 1]},
    "label_twice": {"bbox_params": {"format": "coco", "label_fields": ["labels", "labels"]}},
    "keypoint_label_twice": {"keypoint_params": {"format": "xy", "label_fields": ["a", "a"]}},
    "label_is_a_target": {"bbox_params": {"format": "coco", "label_fields": ["mask"]}},
}


def _validate_refuses(config: dict[str, Any]) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # albumentations' notes on unused processors
            confaug.load_spec(config)
    except ConfigError:
        return True
    return False


@pytest.mark.parametrize("name", sorted(SCHEMA_REFUSES))
def test_the_schema_refuses_these_single_values_as_the_validator_does(name: str) -> None:
    config = SCHEMA_REFUSES[name]
    assert _validate_refuses(config), config
    assert list(_validator().iter_errors(config)), config
    assert list(_shipped_validator().iter_errors(config)), "regenerate schemas/"


@pytest.mark.parametrize(
    "config",
    [
        {"extends": "preset:detection"},
        {"extends": ["preset:detection"]},
        {"brightness_range": [0, 1]},
        {"bbox_params": {"format": "coco", "label_fields": ["labels", "ids"]}},
        {"bbox_params": {"format": "coco", "label_fields": []}},
        {"keypoint_params": {"format": "xy", "label_fields": None}},
    ],
)
def test_the_schema_still_takes_their_neighbours(config: dict[str, Any]) -> None:
    assert list(_validator().iter_errors(config)) == [], config
    if "extends" not in config:
        assert not _validate_refuses(config), config


def test_label_fields_refused_as_targets_are_the_validators_reserved_targets() -> None:
    for name in sorted(RESERVED_TARGETS):
        config = {"bbox_params": {"format": "coco", "label_fields": [name]}}
        assert _validate_refuses(config) and list(_validator().iter_errors(config)), name


lsp_editor = test_editor_lsp.editor  # its fixture, under a name of this module's
EDITOR_REFUSES = {
    "extends_no_parent": "extends: []\nrotation_range: 1\n",
    "extends_empty": "extends: ''\nrotation_range: 1\n",
    "function_empty": "preprocessing_function: ''\n",
    "negative_brightness": "brightness_range: [-1, 1]\n",
    "label_twice": "bbox_params: {format: coco, label_fields: [labels, labels]}\n",
}


@pytest.mark.parametrize("name", sorted(EDITOR_REFUSES))
def test_an_editor_flags_these_values_confaug_refuses(
    lsp_editor: tuple[LspClient, Path], name: str
) -> None:
    assert_flagged_and_refused(lsp_editor, f"probe5_{name}", EDITOR_REFUSES[name])


# ---- 4. Spec.to_yaml's modeline ------------------------------------------------------------


@pytest.mark.parametrize("modeline", ["a\nb: 1", "a\rb: 1", "x\x00y", "a b", "", "\u2028x"])
def test_a_modeline_that_would_not_stay_one_comment_word_is_refused(modeline: str) -> None:
    spec = confaug.load_spec({"rotation_range": 1})
    with pytest.raises(ValueError, match="modeline must be a path or URL"):
        spec.to_yaml(modeline=modeline)
    with pytest.raises(ValueError, match="modeline must be a path or URL"):
        confaug.spec_to_yaml(spec, modeline=modeline)


def test_a_modeline_of_another_type_is_a_type_error_and_a_path_is_taken() -> None:
    spec = confaug.load_spec({"rotation_range": 1})
    with pytest.raises(TypeError, match="modeline is True, False or"):
        spec.to_yaml(modeline=5)  # type: ignore[arg-type]
    text = spec.to_yaml(modeline=Path("../schemas/confaug.schema.json"))  # type: ignore[arg-type]
    first, *rest = text.splitlines()
    assert first.endswith("$schema=../schemas/confaug.schema.json")
    assert "b" not in confaug.load_spec({**spec.to_data()}).to_data()
    assert rest[0] == "version: 1"
