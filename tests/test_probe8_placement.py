"""Probe share8, where problems are placed across layers: a mapping that extends a file, an
override that replaces a step's parameters, a check across two fields set by two files, and
``--set`` syntax (or an empty key) written in a file."""

from __future__ import annotations

from typing import Any

import pytest

import confaug
from confaug import ConfigError
from tests.conftest import WriteConfig
from tests.helpers import only_problem, position

BASE = (
    "rotation_range: 1\ntransforms:\n  - Blur: {blur_limit: 5, p: 0.5}\n"
    "  - HorizontalFlip: {p: 0.5}\n"
)


def _problem(source: Any, **kwargs: Any) -> Any:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(source, **kwargs)
    return only_problem(err)


# ---- finding 1: a mapping's own problems are the mapping's, not its parent's --------------


@pytest.mark.parametrize(
    ("child", "field"),
    [
        ({"transforms": [{"Blur": {"p": 2}}]}, "transforms.0.Blur.p"),  # the parent's line: 0.5
        ({"rotation_range": "abc"}, "rotation_range"),  # the parent says 1
        ({"rotaton_range": 5}, "rotaton_range"),  # was 1:1 of a file without the key
        ({"zoom_range": "abc"}, "zoom_range"),
        ({"transforms": [{"Blur": {"q": 1}}]}, "transforms.0.Blur.q"),
        ({"transforms": ["Blurr", "HorizontalFlip"]}, "transforms.0"),
    ],
)
def test_a_mappings_problems_are_not_placed_in_the_file_it_extends(
    write: WriteConfig, child: dict[str, Any], field: str
) -> None:
    write("m/base.yaml", BASE)
    problem = _problem({"extends": "m/base.yaml", **child}, allowed_roots=["m"])
    assert problem.field == field
    assert (problem.file, problem.line, problem.column) == (None, None, None)


def test_a_mapping_merged_into_a_parents_mapping_keeps_the_parents_own_places(
    write: WriteConfig,
) -> None:
    text = "rotation_range: abc\nbbox_params: {format: coco, min_visiblity: 0.5}\n"
    write("m/bad.yaml", text)
    child = {"extends": "m/bad.yaml", "bbox_params": {"clip": 5}}
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(child, allowed_roots=["m"])
    places = {p.field: (p.file, p.line, p.column) for p in err.value.problems}
    # What the parent wrote stays in the parent, at its own text ...
    assert places["rotation_range"] == ("m/bad.yaml", *position(text, "abc"))
    assert places["bbox_params.min_visiblity"] == ("m/bad.yaml", *position(text, "min_visiblity"))
    # ... and what the mapping wrote into the parent's bbox_params has no line of the parent.
    assert places["bbox_params.clip"] == (None, None, None)


def test_a_compile_time_problem_of_a_mapping_is_not_placed_in_its_parent(
    write: WriteConfig,
) -> None:
    write("m/base.yaml", BASE)
    child = {"extends": "m/base.yaml", "dtype": "uint8", "transforms": [{"Normalize": {"p": 1}}]}
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(child, allowed_roots=["m"])
    problem = only_problem(err)
    assert problem.field == "dtype"
    assert problem.file is None and problem.line is None


# ---- finding 2: parameters replaced by an override are the override's ----------------------

OVERRIDDEN = (
    "transforms:\n  - Blur: {blur_limit: 5}\n  - OneOf:\n      transforms:\n"
    "        - GaussNoise: {p: 0.5}\n        - MotionBlur\n"
)


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        ("transforms.0.Blur=3", "transforms.0.Blur", "must be a mapping"),
        ("transforms.0.Blur=[1, 2]", "transforms.0.Blur", "must be a mapping"),
        ("transforms.1.OneOf=5", "transforms.1.OneOf", "must be a mapping"),
        (
            "transforms.1.OneOf.transforms=Blur",
            "transforms.1.OneOf.transforms",
            "'transforms' list",
        ),
        (
            "transforms.1.OneOf.transforms.0.GaussNoise=7",
            "transforms.1.OneOf.transforms.0.GaussNoise",
            "must be a mapping",
        ),
    ],
)
def test_parameters_an_override_replaces_are_placed_at_the_override(
    write: WriteConfig, override: str, field: str, words: str
) -> None:
    write("base.yaml", OVERRIDDEN)
    write("child.yaml", "extends: base.yaml\nzoom_range: 0.1\n")
    problem = _problem("child.yaml", overrides=[override])
    assert problem.file == f"<override '{override}'>"
    assert (problem.line, problem.column) == (1, override.index("=") + 2)
    assert problem.field == field
    assert words in problem.message


def test_parameters_a_dict_override_replaces_are_placed_at_the_override(
    write: WriteConfig,
) -> None:
    write("base.yaml", OVERRIDDEN)
    problem = _problem("base.yaml", overrides={"transforms.0.Blur": 3})
    assert problem.file == "<override 'transforms.0.Blur'>"
    assert problem.field == "transforms.0.Blur"


def test_parameters_that_are_no_mapping_in_a_file_stay_at_the_step(write: WriteConfig) -> None:
    text = "transforms:\n  - Blur: 3\n"
    write("aug.yaml", text)
    problem = _problem("aug.yaml")
    assert (problem.file, problem.line, problem.column) == ("aug.yaml", 2, 5)
    assert problem.field == "transforms.0"


# ---- finding 3: a check across two fields is placed at the most specific layer -------------

CROSS_BASE = (
    "interpolation: nearest\ntransforms:\n  - SomeOf:\n      n: 2\n"
    "      transforms: [Blur, GaussNoise]\n"
)


def test_a_contradiction_a_child_introduces_is_placed_in_the_child(write: WriteConfig) -> None:
    write("base.yaml", CROSS_BASE)
    child = "extends: base.yaml\ninterpolation_order: 3\n"
    write("child.yaml", child)
    problem = _problem("child.yaml")
    assert (problem.file, problem.line, problem.column) == ("child.yaml", 2, 22)
    assert problem.field == "interpolation_order"
    line, column = position(CROSS_BASE, "nearest")
    assert f"interpolation comes from base.yaml:{line}:{column}" in problem.message


def test_a_contradiction_a_mapping_introduces_is_not_placed_in_its_parent(
    write: WriteConfig,
) -> None:
    write("x/base.yaml", CROSS_BASE)
    child = {"extends": "x/base.yaml", "interpolation_order": 3}
    problem = _problem(child, allowed_roots=["x"])
    assert (problem.file, problem.line, problem.field) == (None, None, "interpolation_order")
    assert "interpolation comes from x/base.yaml:1:16" in problem.message


def test_a_resolved_document_keeps_its_chain_for_placement(write: WriteConfig) -> None:
    """A Document resolved first and given overrides later still tells the override from
    its files: the contradiction the override makes is placed at the override."""
    write("base.yaml", CROSS_BASE)
    write("child.yaml", "extends: base.yaml\n")
    document = confaug.resolve("child.yaml")
    problem = _problem(document, overrides=["interpolation_order=3"])
    assert problem.file is not None and problem.file.startswith("<override")
    assert problem.field == "interpolation_order"
    line, column = position(CROSS_BASE, "nearest")
    assert f"interpolation comes from base.yaml:{line}:{column}" in problem.message


def test_a_contradiction_in_one_file_keeps_its_place_and_words(write: WriteConfig) -> None:
    text = "interpolation: nearest\ninterpolation_order: 3\n"
    write("aug.yaml", text)
    problem = _problem("aug.yaml")
    assert (problem.line, problem.column) == position(text, "nearest")
    assert "comes from" not in problem.message


def test_an_override_leaving_fewer_children_than_n_is_placed_at_the_override(
    write: WriteConfig,
) -> None:
    write("base.yaml", CROSS_BASE)
    override = "transforms.0.SomeOf.transforms=[Blur]"
    problem = _problem("base.yaml", overrides=[override])
    assert problem.file == f"<override '{override}'>"
    assert problem.field == "transforms.0.SomeOf.transforms"
    assert "n is 2 but SomeOf has 1 transform" in problem.message
    line, column = position(CROSS_BASE, "2\n")
    assert f"transforms.0.SomeOf.n comes from base.yaml:{line}:{column}" in problem.message


# ---- finding 5: --set syntax in a file, and an empty key -----------------------------------


def test_a_dotted_key_in_a_file_says_to_nest_it(write: WriteConfig) -> None:
    write("base.yaml", BASE)
    text = "extends: base.yaml\ntransforms.0.Blur.p: 0.3\nbbox_params.format: coco\n"
    write("child.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("child.yaml")
    steps, box = err.value.problems
    assert steps.field == "transforms.0.Blur.p" and (steps.line, steps.column) == (2, 1)
    assert "dotted keys are the --set / overrides form" in steps.message
    assert "did you mean" not in (steps.hint or "")
    assert "write 'transforms: [{Blur: {p: 0.3}}]'" in steps.hint
    assert "replaces its parent's list whole" in steps.hint
    assert box.field == "bbox_params.format"
    assert "write 'bbox_params: {format: coco}'" in box.hint


def test_a_dotted_key_of_no_config_key_keeps_its_did_you_mean(write: WriteConfig) -> None:
    write("aug.yaml", "rotaton_range.x: 1\n")
    problem = _problem("aug.yaml")
    assert problem.hint == "did you mean 'rotation_range'?"


def test_an_empty_top_level_key_is_named(write: WriteConfig) -> None:
    write("aug.yaml", "rotation_range: 1\n'': x\n")
    problem = _problem("aug.yaml")
    assert (problem.line, problem.column) == (2, 1)
    assert "an empty key ''" in problem.message
