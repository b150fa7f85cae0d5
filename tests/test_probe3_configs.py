"""Round 3 of the config probe: leading-zero integers, the schema's single-value bounds,
SomeOf's n, and box / keypoint targets without their Compose options."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import confaug
from confaug import ConfigError
from confaug.reading.yaml_io import parse_yaml
from confaug.spec.catalog import MAX_PARAMETER, MAX_RELATIVE, _too_large, catalog
from confaug.spec.compose_options import OPTION_BOUNDS
from confaug.spec.degenerate import _BORDER_FILLED, MAX_BORDER_VALUES
from confaug.spec.schema import magnitude_limit
from confaug.spec.vocab import MAX_PIXELS
from tests import test_editor_lsp
from tests.conftest import WriteConfig
from tests.helpers import only_problem
from tests.test_editor_lsp import LspClient, _config

jsonschema = pytest.importorskip("jsonschema")
# albumentations' own note on a Compose with box options and no step that moves boxes.
pytestmark = pytest.mark.filterwarnings("ignore:Got processor for:UserWarning")


# ---- 1. Integers with a leading zero: octal to YAML 1.1, decimal to YAML 1.2 ---------------


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("010", ["octal number 8", "YAML 1.2 (confaug) as 10", "write 10, or 0o10 for octal"]),
        ("+010", ["octal number 8", "write 10, or 0o10"]),
        ("0017", ["octal number 15", "write 17, or 0o17"]),
        ("-010", ["octal number -8", "as -10", "write -10, or -8"]),
        ("-007", ["read such numbers as octal", "both -7", "write -7"]),
        ("00", ["both 0", "write 0"]),
        ("08", ["as 8", "as the string '08'", "write 8", "quote it ('08')"]),
    ],
)
def test_a_leading_zero_is_a_located_problem(
    write: WriteConfig, written: str, words: list[str]
) -> None:
    write("aug.yaml", f"version: 1\nrotation_range: {written}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("aug.yaml", 2, 17)
    assert problem.field == "rotation_range"
    assert f"'{written}' has a leading zero" in problem.message
    assert "YAML 1.1" in problem.message and "YAML 1.2" in problem.message
    for word in words:
        assert word in problem.message, problem.message
    # The message's YAML 1.1 reading is PyYAML's own.
    read_by_pyyaml = yaml.safe_load(f"v: {written}")["v"]
    assert (f"'{read_by_pyyaml}'" if isinstance(read_by_pyyaml, str) else str(read_by_pyyaml)) in (
        problem.message
    )


@pytest.mark.parametrize(
    "written", ["0", "-0", "10", "0.5", "010.5", "0o10", "0x10", "'010'", '"007"', "1e3"]
)
def test_numbers_without_a_leading_zero_and_quoted_strings_are_no_problem(written: str) -> None:
    document = parse_yaml(f"v: {written}\n", collect=True)
    assert document.problems == []


def test_a_leading_zero_is_reported_with_the_validators_problems(write: WriteConfig) -> None:
    write(
        "aug.yaml",
        "version: 1\nfill_mode: mirror\ntransforms:\n  - Blur: {blur_limit: 07, p: 1}\n",
    )
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    places = {(p.field, p.line) for p in err.value.problems}
    assert ("transforms.0.Blur.blur_limit", 4) in places  # the reading problem
    assert ("fill_mode", 2) in places  # and the validator's, in the same error


def test_a_leading_zero_in_an_override_is_refused_too(write: WriteConfig) -> None:
    write("aug.yaml", "version: 1\n")
    with pytest.raises(ConfigError, match="'010' has a leading zero") as err:
        confaug.load_spec("aug.yaml", overrides=["rotation_range=010"])
    assert "rotation_range" in str(err.value)


def test_a_key_with_a_leading_zero_stays_a_name() -> None:
    # Keys are kept as written (strings): nothing is read as a number there.
    document = parse_yaml("additional_targets: {010: image}\n", collect=True)
    assert document.problems == [] and document.data == {"additional_targets": {"010": "image"}}


# ---- 2. The JSON Schema states the validator's bounds on one value ------------------------


@cache
def validator() -> Any:
    schema = confaug.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_refuses(config: dict[str, Any]) -> bool:
    return any(True for _ in validator().iter_errors(config))


def validate_refuses(config: dict[str, Any]) -> bool:
    try:
        confaug.load_spec(config)
    except ConfigError:
        return True
    return False


@pytest.mark.parametrize(
    "config",
    [
        {"transforms": [{"Blur": {"blur_limit": 32768}}]},
        {"transforms": [{"Blur": {"blur_limit": [3, 32769]}}]},
        {"transforms": [{"Resize": {"height": 100000, "width": 8}}]},
        {"transforms": [{"Affine": {"translate_percent": 150}}]},
        {"transforms": [{"GlassBlur": {"max_delta": MAX_PIXELS}}]},
        {"bbox_params": {"format": "coco", "min_visibility": 2}},
        {"bbox_params": {"format": "coco", "min_visibility": -0.1}},
        {"bbox_params": {"format": "coco", "min_width": MAX_PIXELS + 1}},
        {"bbox_params": {"format": "coco", "min_area": -1}},
        {"transforms": [{"Rotate": {"fill": [1, 2, 3, 4, 5]}}]},
        {"transforms": [{"Rotate": {"fill_mask": [1, 2, 3, 4, 5]}}]},
        {"additional_targets": {"t 2": "image"}},
        {"additional_targets": {"2t": "image"}},
        {"additional_targets": {"mask": "image"}},
        {"additional_targets": {"seed": "image"}},
    ],
)
def test_the_schema_refuses_single_values_the_validator_refuses(config: dict[str, Any]) -> None:
    assert validate_refuses(config), config
    assert schema_refuses(config), config


@pytest.mark.parametrize(
    "config",
    [
        {"transforms": [{"Blur": {"blur_limit": [3, 7]}}]},
        {"transforms": [{"Resize": {"height": MAX_PIXELS, "width": 8}}]},
        {"transforms": [{"Affine": {"translate_percent": [-0.1, 0.1], "rotate": 5000}}]},
        {"bbox_params": {"format": "coco", "min_visibility": 1, "min_area": 0}},
        {"transforms": [{"Rotate": {"fill": [1, 2, 3, 4], "fill_mask": 0}}]},
        {"transforms": [{"CoarseDropout": {"fill": [1, 2, 3, 4, 5]}}]},  # not a border value
        {"additional_targets": {"t2": "image", "_x": "mask", "bild_ä": "image"}},
    ],
)
def test_the_schema_still_takes_what_the_validator_takes(config: dict[str, Any]) -> None:
    assert not validate_refuses(config), config
    assert not schema_refuses(config), config


def test_magnitude_bounds_are_exactly_the_validators() -> None:
    """``schema.magnitude_limit`` makes the choice ``catalog._too_large`` makes: every number
    up to it passes, a larger one fails; where the catch-all applies, no tighter bound hides."""
    checked = 0
    for name, info in catalog().items():
        for param in info.params:
            limit = magnitude_limit(name, param)
            assert _too_large({param: limit}, name) == [], (name, param)
            assert _too_large({param: -limit}, name) == [], (name, param)
            above = math.nextafter(limit, math.inf)
            assert _too_large({param: above}, name), (name, param, limit)
            if limit == MAX_PARAMETER:
                assert _too_large({param: float(MAX_PIXELS + MAX_RELATIVE)}, name) == []
            checked += 1
    assert checked > 500


def test_the_schema_states_each_parameters_bound() -> None:
    variants = {
        next(iter(v["properties"])): next(iter(v["properties"].values()))
        for v in confaug.json_schema()["$defs"]["step"]["anyOf"]
        if "properties" in v
    }
    height = variants["Resize"]["properties"]["height"]
    assert height["maximum"] == magnitude_limit("Resize", "height") == MAX_PIXELS
    assert height["minimum"] == 1  # albumentations' own, tighter bound is kept
    delta = variants["GlassBlur"]["properties"]["max_delta"]
    assert delta["maximum"] == magnitude_limit("GlassBlur", "max_delta")


def test_border_values_are_bounded_in_every_transform_that_fills_a_border() -> None:
    five = [1] * (MAX_BORDER_VALUES + 1)
    for name in _BORDER_FILLED:
        for param in ("fill", "fill_mask"):
            if param not in catalog()[name].params:
                continue
            step = {name: {param: five}}
            errors = list(validator().iter_errors({"transforms": [step]}))
            assert errors, step


def test_compose_thresholds_are_bounded_as_the_validator_bounds_them() -> None:
    for option, (least, most) in OPTION_BOUNDS["bbox_params"].items():
        for value, refused in ((least, False), (most, False), (least - 1, True), (most + 1, True)):
            config = {"bbox_params": {"format": "coco", option: value}}
            assert schema_refuses(config) is refused, config
            assert validate_refuses(config) is refused, config


def test_target_names_the_schema_refuses_are_refused_by_the_validator() -> None:
    ascii_chars = [chr(c) for c in range(32, 127)]
    names = [
        *ascii_chars,
        *(f"t{c}" for c in ascii_chars),
        *(f"{c}t" for c in ascii_chars),
        "",
        "bild_ä",
        "é2",
        "a\u00a0b",  # a non-ASCII non-identifier: left to the validator
        "image",
        "masks3d",
        "seed",
    ]
    targets = {}
    for name in names:
        config = {"additional_targets": {name: "image"}}
        by_schema, by_validator = schema_refuses(config), validate_refuses(config)
        if by_schema:
            assert by_validator, name  # never stricter than the validator
        if name.isascii():
            assert by_schema == by_validator, name  # and as strict for ASCII names
        targets[name] = by_schema
    assert targets["t "] and targets["2t"] and targets["seed"] and not targets["t2"]


def test_every_preset_still_satisfies_the_schema() -> None:
    from confaug import resources

    for path in sorted(resources.presets_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert list(validator().iter_errors(data)) == [], path.name


# ---- 3. What the spec alone rules out is refused at load -----------------------------------


def test_some_of_picking_more_than_it_has_is_refused_at_n(write: WriteConfig) -> None:
    write(
        "aug.yaml",
        "version: 1\ntransforms:\n  - SomeOf:\n      n: 5\n"
        "      transforms: [HorizontalFlip, VerticalFlip]\n",
    )
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column, problem.field) == (4, 10, "transforms.0.SomeOf.n")
    assert "n is 5 but SomeOf has 2 transforms" in problem.message
    assert "set replace: true or lower n" in problem.message


@pytest.mark.parametrize(
    ("step", "refused"),
    [
        ({"RandomOrder": {"n": 3, "transforms": ["Blur", "ToGray"]}}, True),
        ({"OneOf": {"transforms": [{"SomeOf": {"n": 2, "transforms": ["Blur"]}}]}}, True),
        ({"SomeOf": {"n": 2, "transforms": ["Blur", "ToGray"]}}, False),
        ({"SomeOf": {"n": 5, "replace": True, "transforms": ["Blur", "ToGray"]}}, False),
        ({"RandomOrder": {"transforms": ["Blur"]}}, False),  # n defaults to 1
    ],
)
def test_picking_composites_need_enough_children_or_replace(
    step: dict[str, Any], refused: bool
) -> None:
    config = {"transforms": [step]}
    if not refused:
        confaug.load_pipeline(config)
        return
    with pytest.raises(ConfigError, match=r"n is \d+ but \w+ has \d+ transforms?; "):
        confaug.load_pipeline(config)


@pytest.mark.parametrize(
    ("kind", "options"), [("bboxes", "bbox_params"), ("keypoints", "keypoint_params")]
)
def test_a_box_or_point_target_without_its_options_is_refused_at_load(
    write: WriteConfig, kind: str, options: str
) -> None:
    write("aug.yaml", f"version: 1\nadditional_targets:\n  t2: {kind}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column, problem.field) == (3, 7, "additional_targets.t2")
    assert f"'t2' holds {kind}" in problem.message and f"no {options}" in problem.message
    # With the options, the same target loads.
    fmt = "pascal_voc" if kind == "bboxes" else "xy"
    confaug.load_pipeline({"additional_targets": {"t2": kind}, options: {"format": fmt}})


def test_dropping_the_options_in_a_child_refuses_the_parents_box_target(
    write: WriteConfig,
) -> None:
    write(
        "base.yaml",
        "version: 1\nbbox_params: {format: coco}\nadditional_targets: {t2: bboxes}\n",
    )
    write("aug.yaml", "extends: base.yaml\nbbox_params: null\n")
    with pytest.raises(ConfigError, match="additional target 't2' holds bboxes"):
        confaug.load_pipeline("aug.yaml")
    confaug.load_pipeline("base.yaml")


# The bounds in a real editor: yaml-language-server, both pinned versions (tests/test_editor_lsp).
lsp_editor = test_editor_lsp.editor  # its fixture, under a name of this module's
EDITOR_REFUSES = {
    "pixels": "transforms:\n  - Blur: {blur_limit: 32768}\n",
    "image_side": "transforms:\n  - Resize: {height: 100000, width: 8}\n",
    "fraction": "bbox_params: {format: coco, min_visibility: 2}\n",
    "border_values": "transforms:\n  - Rotate: {fill: [1, 2, 3, 4, 5]}\n",
    "not_an_identifier": "additional_targets: {'t 2': image}\n",
    "reserved_target": "additional_targets: {mask: image}\n",
}


@pytest.mark.parametrize("name", sorted(EDITOR_REFUSES))
def test_an_editor_flags_the_bounds_confaug_refuses(
    lsp_editor: tuple[LspClient, Path],
    name: str,
) -> None:
    client, folder = lsp_editor
    path = _config(folder, f"bound_{name}", EDITOR_REFUSES[name])
    assert client.open(path), name
    with pytest.raises(ConfigError):
        confaug.load_spec(path)
