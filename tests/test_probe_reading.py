"""Findings of the config probe in the reading layer and the spec's options (probe-configs.md):
``allowed_roots`` as one string, NumPy scalars from Python, YAML 1.1 line breaks, box
thresholds that drop every box, and messages."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
import confaug.keras as ck
from confaug import ConfigError
from confaug.compiler.pipeline import Pipeline
from confaug.reading.yaml_io import dump_yaml, parse_yaml
from confaug.spec.vocab import CALL_KEYWORDS
from tests.conftest import WriteConfig
from tests.helpers import only_problem, position

# ---- #1: allowed_roots --------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path, write: WriteConfig) -> Path:
    """``safe/entry.yaml`` extending a parent outside its folder, and that parent."""
    parent = tmp_path / "outside" / "parent.yaml"
    parent.parent.mkdir()
    parent.write_text("version: 1\nrotation_range: 5\n", encoding="utf-8")
    write("safe/entry.yaml", f"extends: {parent}\n")
    return parent


@pytest.mark.parametrize("call", [confaug.load_pipeline, confaug.load_spec, confaug.resolve])
@pytest.mark.parametrize("root", ["/nonexistent/only", Path("/nonexistent/only")])
def test_one_folder_as_a_string_is_one_root_not_its_characters(
    outside: Path, call: Any, root: Any
) -> None:
    # Read character by character, "/nonexistent/only" gave the root "/": every file.
    with pytest.raises(ConfigError, match="outside the allowed roots"):
        call("safe/entry.yaml", allowed_roots=root)


@pytest.mark.parametrize("root", ["outside", Path("outside"), ["outside"], ("outside",)])
def test_one_folder_or_a_list_of_them_lets_extends_reach_it(outside: Path, root: Any) -> None:
    assert confaug.resolve("safe/entry.yaml", allowed_roots=root).data["rotation_range"] == 5


@pytest.mark.parametrize(
    ("root", "error", "words"),
    [
        (None, TypeError, "takes a folder or a list of folders"),
        (5, TypeError, "got int"),
        ({"outside": 1}, TypeError, "got dict"),
        (b"/x", TypeError, "not bytes"),
        ([5], TypeError, r"allowed_roots\[0\] must be a folder"),
        (["/x", None], TypeError, r"allowed_roots\[1\] must be a folder"),
        ("", ValueError, "empty path"),
        (["a\0b"], ValueError, "cannot be used as a folder"),
    ],
)
@pytest.mark.parametrize("call", [confaug.load_pipeline, confaug.load_spec, confaug.resolve])
def test_a_wrong_allowed_roots_is_a_type_error_in_confaugs_words(
    outside: Path, call: Any, root: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        call("safe/entry.yaml", allowed_roots=root)


def test_a_wrong_allowed_roots_is_refused_even_when_nothing_is_read() -> None:
    spec = confaug.load_spec({"rotation_range": 5})
    with pytest.raises(TypeError, match="allowed_roots"):
        confaug.load_pipeline(spec, allowed_roots=5)


# ---- #5: NumPy scalars from Python ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"rotation_range": np.int64(10)}, "rotation_range", 10),
        ({"zoom_range": np.float32(0.5)}, "zoom_range", 0.5),
        ({"horizontal_flip": np.bool_(True)}, "horizontal_flip", True),
        ({"rotation_range": np.array(10)}, "rotation_range", 10),  # a 0-d array
        ({"seed": np.uint64(2**64 - 1)}, "seed", 2**64 - 1),
    ],
)
def test_numpy_scalars_are_read_as_the_python_numbers_they_hold(
    data: dict[str, Any], field: str, expected: Any
) -> None:
    value = getattr(confaug.load_spec(data), field)
    assert value == expected
    assert type(value) is type(expected)


def test_numpy_scalars_in_transform_parameters_are_numbers_too() -> None:
    steps = [{"Blur": {"blur_limit": np.int64(5), "p": np.float32(0.5)}}]
    (step,) = confaug.load_spec({"transforms": steps}).transforms
    assert step.params == {"blur_limit": 5, "p": 0.5}
    assert type(step.params["blur_limit"]) is int


def test_the_keras_drop_in_takes_numpy_scalars_as_keras_does() -> None:
    generator = ck.ImageDataGenerator(
        rotation_range=np.int64(10),
        width_shift_range=np.int64(3),
        shear_range=np.float32(5),
        channel_shift_range=np.int64(5),
    )
    assert generator is not None
    assert confaug.spec_from_keras(rotation_range=np.int64(10)).rotation_range == 10


def test_numpy_scalars_keep_the_limits_of_their_field() -> None:
    with pytest.raises(ConfigError, match="rotation_range: must be ≥ 0"):
        confaug.load_spec({"rotation_range": np.int64(-1)})


# ---- #6: YAML 1.1 line breaks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "name"), [("\x85", "NEL"), ("\u2028", "line"), ("\u2029", "para")]
)
def test_yaml_11_line_breaks_are_refused_where_an_editor_sees_them(
    write: WriteConfig, char: str, name: str
) -> None:
    # YAML 1.2 (and an editor) reads line 1 as one comment; PyYAML set horizontal_flip from it.
    text = f"version: 1\n# comment{char}horizontal_flip: true\nzoom_range: [2, 1]\n"
    write("aug.yaml", text)
    for call in (confaug.resolve, confaug.load_pipeline):
        with pytest.raises(ConfigError) as err:
            call("aug.yaml")
        problem = only_problem(err)
        assert (problem.line, problem.column) == position(text, char)
        assert name in problem.message
        assert "YAML 1.2" in problem.message


def test_yaml_11_line_breaks_are_refused_in_a_quoted_string_too_and_escapes_read() -> None:
    with pytest.raises(ConfigError, match="U\\+2028"):
        parse_yaml('version: 1\nname: "a\u2028b"\n')
    assert parse_yaml('name: "a\\Lb\\Nc\\Pd"\n').data == {"name": "a\u2028b\x85c\u2029d"}


def test_strings_with_those_characters_are_written_as_escapes_that_read_back() -> None:
    data = {"name": "a\u2028b\x85c\u2029d"}
    text = dump_yaml(data)
    assert not any(c in text for c in "\x85\u2028\u2029")
    assert parse_yaml(text).data == data


# ---- #4: box thresholds, target names -------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("min_visibility", 2, "a fraction in \\[0, 1\\]"),
        ("min_visibility", 30, "a fraction in \\[0, 1\\]"),
        ("min_visibility", -0.5, "a fraction in \\[0, 1\\]"),
        ("min_width", 1e300, "at most 32,767 pixels"),
        ("min_height", 40000, "at most 32,767 pixels"),
        ("min_area", 1e300, "at most 1,073,676,289 square pixels"),
        ("min_area", -1, "must be ≥ 0"),
    ],
)
def test_box_thresholds_that_drop_every_box_are_refused_at_the_option(
    write: WriteConfig, option: str, value: float, words: str
) -> None:
    text = f"version: 1\nbbox_params:\n  format: pascal_voc\n  {option}: {value}\n"
    write("aug.yaml", text)
    with pytest.raises(ConfigError, match=words) as err:
        confaug.load_pipeline("aug.yaml")
    problem = only_problem(err)
    assert problem.field == f"bbox_params.{option}"
    assert (problem.line, problem.column) == position(text, str(value))
    if option == "min_visibility":
        assert problem.hint is not None and "0.3 means 30 %" in problem.hint


def test_box_thresholds_at_their_bounds_are_taken() -> None:
    options = {"format": "pascal_voc", "min_visibility": 1, "min_width": 32767, "min_area": 0}
    pipeline = confaug.load_pipeline({"bbox_params": options, "transforms": ["HorizontalFlip"]})
    image = np.zeros((16, 16, 3), np.uint8)
    assert pipeline(image=image, bboxes=[[1, 1, 8, 8]], seed=0)["bboxes"] is not None


def test_call_keywords_are_the_pipeline_calls_own() -> None:
    parameters = inspect.signature(Pipeline.__call__).parameters.values()
    named = {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert named == CALL_KEYWORDS


def test_an_additional_target_named_like_a_call_keyword_is_refused(write: WriteConfig) -> None:
    text = "version: 1\nadditional_targets:\n  seed: image\n"
    write("aug.yaml", text)
    with pytest.raises(ConfigError, match="keyword of the pipeline call") as err:
        confaug.load_pipeline("aug.yaml")
    problem = only_problem(err)
    assert problem.field == "additional_targets.seed"
    assert (problem.line, problem.column) == position(text, "seed")


# ---- #15: messages --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["extend", "Extends"])
def test_a_misspelt_extends_gets_its_hint(key: str) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({key: "preset:keras_seed"})
    assert only_problem(err).hint == "did you mean 'extends'?"


def test_an_albumentations_step_without_its_class_says_so(write: WriteConfig) -> None:
    saved = {
        "__version__": "2.0.8",
        "transform": {
            "__class_fullname__": "Compose",
            "p": 1.0,
            "transforms": [{"__class_fullname__": "HorizontalFlip", "p": 0.5}, {"p": 0.5}],
        },
    }
    write("saved.json", json.dumps(saved))
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("saved.json")
    problem = only_problem(err)
    assert problem.field == "transforms.1"
    assert "__class_fullname__" in problem.message
    assert "parameters of p" not in problem.message


@pytest.mark.parametrize("value", [{"HorizontalFlip": {}}, "abc", None])
def test_transforms_that_are_not_a_list_say_a_list(value: Any) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"transforms": value})
    problem = only_problem(err)
    assert problem.message.startswith("must be a list of steps")
    assert "tuple" not in problem.message


def test_a_redefined_anchor_is_named_plainly() -> None:
    text = "a: &x 1\nb: &x 2\n"
    with pytest.raises(ConfigError) as err:
        parse_yaml(text, "aug.yaml")
    problem = only_problem(err)
    assert problem.message == (
        "anchor '&x' is defined twice (first at line 1, column 4); give this one another name"
    )
    assert (problem.line, problem.column) == position(text, "&x", 2)


def test_a_long_tag_or_string_is_quoted_by_its_start() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("rotation_range: !" + "a" * 900_000 + " 1\n", "aug.yaml")
    assert len(str(err.value)) < 300
    assert "(900,001 characters)" in str(err.value)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"rotation_range": "x" * 900_000})
    assert len(str(err.value)) < 300
    assert "(900,000 characters)" in str(err.value)


@pytest.mark.parametrize(
    ("source", "said"),
    [
        (["HorizontalFlip"], "a config is a path.*got list"),
        (5, "got int"),
        (None, "got NoneType"),
        (b"rotation_range: 10", r"got bytes \(decode it, or pass a mapping\)"),
        ("rotation_range: 10\n", "this looks like YAML text, not a path"),
    ],
)
def test_a_source_that_is_not_a_config_is_a_type_error_in_our_words(
    source: object, said: str
) -> None:
    with pytest.raises(TypeError, match=said):
        confaug.load_pipeline(source)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "said"),
    [(5, "got int"), (b"rotation_range=5", "got bytes"), ([5], "an override is a 'key=value'")],
)
def test_overrides_that_are_not_strings_or_a_mapping(overrides: object, said: str) -> None:
    with pytest.raises(TypeError, match=said):
        confaug.load_pipeline("preset:keras_seed", overrides=overrides)  # type: ignore[arg-type]


def test_an_override_into_a_step_by_another_name_is_blamed_on_the_override(
    tmp_path: Path,
) -> None:
    """A misspelt transform name in an override added a second key to the step, and the
    error pointed at the file; reaching into a bare-name step said nothing useful."""
    base = tmp_path / "base.yaml"
    base.write_text("transforms:\n  - GaussNoise: {p: 0.3}\n  - HorizontalFlip\n")
    with pytest.raises(ConfigError) as caught:
        confaug.load_pipeline(base, overrides=["transforms.0.GausNoise.p=0.1"])
    (problem,) = caught.value.problems
    assert problem.file.startswith("<override") and "did you mean 'GaussNoise'" in str(problem)
    with pytest.raises(ConfigError, match=r"transforms\.1=\{HorizontalFlip: \{p: \.\.\.\}\}"):
        confaug.load_pipeline(base, overrides=["transforms.1.HorizontalFlip.p=1"])
    pipe = confaug.load_pipeline(base, overrides=["transforms.0.GaussNoise.p=0.9"])
    assert pipe.spec.transforms[0] is not None


def test_small_numpy_arrays_are_the_lists_they_hold() -> None:
    """Keras takes zoom_range=np.array([0.9, 1.1]); so does the drop-in. A huge array is not
    turned into a list before the value limit refuses it."""
    import numpy as np

    gen = ck.ImageDataGenerator(zoom_range=np.array([0.9, 1.1]), brightness_range=np.array([1, 2]))
    assert gen.spec.zoom_range == [0.9, 1.1] and gen.spec.brightness_range == [1, 2]
    with pytest.raises(ConfigError, match="zoom_range"):
        confaug.load_pipeline({"zoom_range": np.zeros(10**6)})
