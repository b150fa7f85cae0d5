"""Spec validation: every problem of a file at once, each at its line and column."""

from __future__ import annotations

import numpy as np
import pytest

import confaug
from confaug import ConfigError, Problem
from confaug.errors import did_you_mean
from tests.conftest import Register, WriteConfig
from tests.helpers import only_problem, position, problems_of

AUG = """\
version: 1
rotation_range: 15
fill_mode: reflect
transforms:
  - HorizontalFlip: {p: 0.5}
  - GaussNoise:
      std_range: [0.5, 0.1]
      p: 0.3
"""


def test_transform_parameter_error_has_exact_place_and_rendering(write: WriteConfig) -> None:
    (problem,) = problems_of(write, AUG)
    assert problem.file == "aug.yaml"
    assert (problem.line, problem.column) == (7, 18)
    assert problem.field == "transforms.1.GaussNoise.std_range"
    assert problem.hint is None
    assert str(problem) == f"aug.yaml:7:18: transforms.1.GaussNoise.std_range: {problem.message}"


def test_block_style_value_is_located_at_its_first_item(write: WriteConfig) -> None:
    text = AUG.replace("std_range: [0.5, 0.1]", "std_range:\n      - 0.5\n      - 0.1")
    (problem,) = problems_of(write, text)
    assert (problem.line, problem.column) == (8, 7)
    assert problem.field == "transforms.1.GaussNoise.std_range"


def test_every_problem_is_reported_at_once_in_file_order(
    write: WriteConfig, registered: Register
) -> None:
    text = """\
version: 1
rotaton_range: 10
fill_mode: reflekt
zoom_range: [1.2, 0.8]
brightness_range: [.nan, 1.5]
preprocessing_function: not_registered
transforms:
  - HorizontalFlip: {p: 1.5}
  - GausianBlur: {blur_limit: 3}
  - GaussNoise: {std_rnge: [0.1, 0.2]}
  - Affine: {rotate: ten}
  - OneOf:
      p: 0.5
      transforms:
        - MotionBlur: {blur_limit: 5, angel_range: [0, 90]}
"""
    problems = problems_of(write, text)
    got = [(p.line, p.column, p.field) for p in problems]
    expected = [
        ("rotaton_range", "rotaton_range"),
        ("reflekt", "fill_mode"),
        ("[1.2", "zoom_range"),
        ("[.nan", "brightness_range"),
        ("not_registered", "preprocessing_function"),
        ("1.5}", "transforms.0.HorizontalFlip.p"),
        ("GausianBlur", "transforms.1.GausianBlur"),
        ("std_rnge", "transforms.2.GaussNoise.std_rnge"),
        ("ten", "transforms.3.Affine.rotate"),
        ("angel_range", "transforms.4.OneOf.transforms.0.MotionBlur.angel_range"),
    ]
    assert got == [(*position(text, needle), field) for needle, field in expected]
    assert got[:3] == [(2, 1, "rotaton_range"), (3, 12, "fill_mode"), (4, 13, "zoom_range")]
    hints = {p.field: p.hint for p in problems}
    assert hints["rotaton_range"] == "did you mean 'rotation_range'?"
    assert hints["fill_mode"] == "did you mean 'reflect'?"
    assert hints["transforms.1.GausianBlur"] == "did you mean 'GaussianBlur'?"
    assert hints["transforms.2.GaussNoise.std_rnge"] == "did you mean 'std_range'?"
    assert hints["transforms.4.OneOf.transforms.0.MotionBlur.angel_range"] == (
        "did you mean 'angle_range'?"
    )
    messages = {p.field: p.message for p in problems}
    assert "low ≤ high" in messages["zoom_range"]
    assert "finite" in messages["brightness_range"]
    assert "less than or equal to 1" in messages["transforms.0.HorizontalFlip.p"]
    assert "confaug.register" in messages["preprocessing_function"]
    lines = str(ConfigError(problems)).splitlines()
    assert len(lines) == len(problems)
    assert all(line.startswith("aug.yaml:") for line in lines)


@pytest.mark.parametrize(
    ("line", "field", "needle", "hint"),
    [
        ("rotatoin_range: 3", "rotatoin_range", "rotatoin_range", "rotation_range"),
        ("Horizontal_flip: true", "Horizontal_flip", "Horizontal_flip", "horizontal_flip"),
        ("fill_mode: Reflect", "fill_mode", "Reflect", "reflect"),
        ("interpolation: bilnear", "interpolation", "bilnear", "bilinear"),
        ("data_format: channel_last", "data_format", "channel_last", "channels_last"),
        ("dtype: unit8", "dtype", "unit8", "uint8"),
    ],
)
def test_did_you_mean_for_keys_and_names(
    write: WriteConfig, line: str, field: str, needle: str, hint: str
) -> None:
    text = f"version: 1\n{line}\n"
    (problem,) = problems_of(write, text)
    assert problem.field == field
    assert (problem.line, problem.column) == position(text, needle)
    assert problem.hint == f"did you mean '{hint}'?"


@pytest.mark.parametrize(
    ("step", "field", "needle", "hint"),
    [
        ("- gaussnoise: {p: 0.2}", "transforms.0.gaussnoise", "gaussnoise", "GaussNoise"),
        ("- HorizontalFlipp", "transforms.0", "HorizontalFlipp", "HorizontalFlip"),
        ("- Affine: {rotat: 5}", "transforms.0.Affine.rotat", "rotat", "rotate"),
        (
            "- Affine: {border_mode: refelct}",
            "transforms.0.Affine.border_mode",
            "refelct",
            "reflect",
        ),
        (
            "- Affine: {interpolation: bicubc}",
            "transforms.0.Affine.interpolation",
            "bicubc",
            "bicubic",
        ),
    ],
)
def test_did_you_mean_for_transforms_and_parameters(
    write: WriteConfig, step: str, field: str, needle: str, hint: str
) -> None:
    text = f"version: 1\ntransforms:\n  {step}\n"
    (problem,) = problems_of(write, text)
    assert problem.field == field
    assert (problem.line, problem.column) == position(text, needle)
    assert problem.hint == f"did you mean '{hint}'?"


def test_no_hint_when_nothing_is_close(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "version: 1\nqqqqzzzz: 1\n")
    assert problem.message == "unknown key" and problem.hint is None
    assert did_you_mean("qqqqzzzz", ["rotation_range"]) is None


def test_excluded_transforms_cannot_be_named(write: WriteConfig) -> None:
    text = "version: 1\ntransforms:\n  - Lambda: {}\n  - FDA: {reference_images: [/etc/passwd]}\n"
    problems = problems_of(write, text)
    assert [p.field for p in problems] == ["transforms.0.Lambda", "transforms.1.FDA"]
    assert all("cannot be a step of a config" in p.message for p in problems)
    assert "run code" in problems[0].hint and "reads reference images" in problems[1].hint


# ---- ranges and probabilities ----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "needle", "words"),
    [
        ("brightness_range: [1.5, 0.5]", "brightness_range", "[", "low ≤ high"),
        ("zoom_range: [1.25, 0.9]", "zoom_range", "[", "low ≤ high"),
        ("rotation_range: [20, -20]", "rotation_range", "[", "low ≤ high"),
        ("rotation_range: .inf", "rotation_range", ".inf", "finite"),
        ("rotation_range: [-.inf, 3]", "rotation_range", "[", "finite"),
        ("zoom_range: [.nan, 1.1]", "zoom_range", "[", "finite"),
        ("brightness_range: [0.5, .inf]", "brightness_range", "[", "finite"),
        ("cval: .nan", "cval", ".nan", "finite"),
        ("channel_shift_range: .inf", "channel_shift_range", ".inf", "finite"),
        ("zca_epsilon: .nan", "zca_epsilon", ".nan", "finite"),
        ("rotation_range: -5", "rotation_range", "-5", "≥ 0"),
        ("zoom_range: 1.5", "zoom_range", "1.5", "[0, 1)"),
        ("zoom_range: [0, 2]", "zoom_range", "[", "> 0"),
        ("brightness_range: [-1, 2]", "brightness_range", "[", "≥ 0"),
        ("brightness_range: 0.5", "brightness_range", "0.5", "[low, high]"),
        ("width_shift_range: []", "width_shift_range", "[", "empty"),
        ("height_shift_range: [0.1, x]", "height_shift_range", "[", "numbers"),
        ("validation_split: 1.0", "validation_split", "1.0", "less than 1"),
        ("seed: -1", "seed", "-1", "greater than or equal to 0"),
        ("rescale: 1/0", "rescale", "1/0", "fraction"),
        ("value_range: [1, 0]", "value_range", "[", "low ≤ high"),
        ("interpolation_order: 7", "interpolation_order", "7", "less than or equal to 5"),
        ("horizontal_flip: 1", "horizontal_flip", "1", "boolean"),
        ("version: 2", "version", "2", "1"),
    ],
)
def test_top_level_values_are_checked(
    write: WriteConfig, line: str, field: str, needle: str, words: str
) -> None:
    own_version = line.startswith("version")
    text = f"{line}\n" if own_version else f"version: 1\n{line}\n"
    (problem,) = problems_of(write, text)
    assert problem.field == field
    assert (problem.line, problem.column) == (1 if own_version else 2, line.index(needle) + 1)
    assert words in problem.message


@pytest.mark.parametrize(
    ("step", "field", "needle"),
    [
        ("HorizontalFlip: {p: 1.5}", "transforms.0.HorizontalFlip.p", "1.5"),
        ("HorizontalFlip: {p: -0.1}", "transforms.0.HorizontalFlip.p", "-0.1"),
        ("HorizontalFlip: {p: .nan}", "transforms.0.HorizontalFlip.p", ".nan"),
        ("OneOf: {p: 1.5, transforms: [Blur]}", "transforms.0.OneOf.p", "1.5"),
        ("SomeOf: {n: 0, transforms: [Blur]}", "transforms.0.SomeOf.n", "0"),
        ("SomeOf: {n: two, transforms: [Blur]}", "transforms.0.SomeOf.n", "two"),
        ("Sequential: {p: yes!, transforms: [Blur]}", "transforms.0.Sequential.p", "yes!"),
        ("OneOrOther: {transforms: [Blur]}", "transforms.0.OneOrOther.transforms", "[Blur]"),
        ("Affine: {rotate: .nan}", "transforms.0.Affine.rotate", ".nan"),
        ("Affine: {rotate: [0, .inf]}", "transforms.0.Affine.rotate.1", ".inf"),
        ("GaussNoise: {std_range: [0.2, 0.1]}", "transforms.0.GaussNoise.std_range", "["),
        ("GaussNoise: {std_range: abc}", "transforms.0.GaussNoise.std_range", "abc"),
        ("GaussianBlur: {blur_limit: [3, x]}", "transforms.0.GaussianBlur.blur_limit.1", "x]"),
        ("RandomCrop: {height: 10}", "transforms.0.RandomCrop", "RandomCrop"),
    ],
)
def test_transform_parameters_are_checked_by_their_schema(
    write: WriteConfig, step: str, field: str, needle: str
) -> None:
    text = f"version: 1\ntransforms:\n  - {step}\n"
    problems = problems_of(write, text)
    # Only this step is blamed; a union parameter may add one problem per member.
    assert all(p.field.startswith(field.rsplit(".", 1)[0]) for p in problems), problems
    (problem,) = [p for p in problems if p.field == field]
    assert (problem.line, problem.column) == position(text, needle)


def test_missing_required_parameter_is_named(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "version: 1\ntransforms:\n  - RandomCrop: {height: 10}\n")
    assert "width" in problem.message


def test_composites_nest_and_problems_inside_are_located(write: WriteConfig) -> None:
    text = """\
version: 1
transforms:
  - SomeOf:
      n: 1
      transforms:
        - Sequential:
            transforms:
              - OneOf:
                  transforms:
                    - Blur: {blur_limit: 3}
                    - GaussNoise: {std_range: [0.4, 0.2]}
"""
    (problem,) = problems_of(write, text)
    assert problem.field == (
        "transforms.0.SomeOf.transforms.0.Sequential.transforms.0.OneOf.transforms.1."
        "GaussNoise.std_range"
    )
    assert (problem.line, problem.column) == position(text, "[0.4")


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("- [1, 2]", "transform name"),
        ("- 3", "transform name"),
        ("- {Blur: {}, MedianBlur: {}}", "exactly one key"),
        ("- Blur: [1]", "must be a mapping"),
        ("- OneOf", "'transforms' list"),
        ("- OneOf: {p: 0.5}", "'transforms' list"),
        ("- OneOf: {transforms: Blur}", "'transforms' list"),
    ],
)
def test_malformed_steps(write: WriteConfig, step: str, words: str) -> None:
    text = f"version: 1\ntransforms:\n  {step}\n"
    (problem,) = problems_of(write, text)
    assert problem.field.startswith("transforms.0")
    assert (problem.line, problem.column) == (3, 5)
    assert words in problem.message


def test_transforms_must_be_a_list(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "version: 1\ntransforms: {Blur: {}}\n")
    assert (problem.line, problem.column, problem.field) == (2, 13, "transforms")


def test_model_shaped_step_is_checked_too(write: WriteConfig) -> None:
    text = "version: 1\ntransforms:\n  - {name: HorizontalFlip, params: {p: 2}}\n"
    (problem,) = problems_of(write, text)
    assert problem.field == "transforms.0.params.p"
    assert (problem.line, problem.column) == position(text, "2}")


def test_named_modes_in_a_transform(write: WriteConfig) -> None:
    write(
        "aug.yaml",
        "version: 1\ntransforms:\n  - Affine: {rotate: 5, border_mode: reflect, "
        "interpolation: bicubic, mask_interpolation: nearest}\n",
    )
    spec = confaug.load_spec("aug.yaml")
    assert spec.transforms[0].params["border_mode"] == "reflect"
    affine = confaug.load_pipeline(spec).compose.transforms[0]
    assert (affine.border_mode, affine.interpolation, affine.mask_interpolation) == (2, 2, 0)


def test_interpolation_contradiction_points_at_a_key(write: WriteConfig) -> None:
    text = "version: 1\ninterpolation_order: 3\ninterpolation: nearest\n"
    (problem,) = problems_of(write, text)
    assert problem.field in ("interpolation_order", "interpolation")
    assert problem.line in (2, 3)
    assert "contradicts" in problem.message


def test_compose_options_are_checked(write: WriteConfig) -> None:
    text = """\
version: 1
bbox_params: {format: cocoa, label_fields: [labels]}
keypoint_params: {format: xy, remove_invisble: false}
additional_targets: {image2: imag}
"""
    problems = problems_of(write, text)
    assert [(p.line, p.field) for p in problems] == [
        (2, "bbox_params.format"),
        (3, "keypoint_params.remove_invisble"),
        (4, "additional_targets.image2"),
    ]
    assert problems[0].hint == "did you mean 'coco'?"
    assert problems[1].hint == "did you mean 'remove_invisible'?"
    assert problems[2].hint == "did you mean 'image'?"


def test_valid_compose_options_work() -> None:
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "transforms": [{"HorizontalFlip": {"p": 1.0}}],
            "bbox_params": {"format": "pascal_voc", "label_fields": ["labels"]},
            "additional_targets": {"image2": "image"},
        }
    )
    image = np.zeros((10, 20, 3), np.uint8)
    out = pipe(image=image, image2=image, bboxes=[[0, 0, 5, 5]], labels=[1])
    assert np.asarray(out["bboxes"][0]).tolist() == [15, 0, 20, 5]
    assert out["image2"].shape == image.shape


# ---- preprocessing functions and versions ----------------------------------------------


def test_unregistered_function_is_an_error_with_hint(
    write: WriteConfig, registered: Register
) -> None:
    registered("scale_by_two", lambda x: x * 2)
    text = "version: 1\npreprocessing_function: scale_by_tw0\n"
    (problem,) = problems_of(write, text)
    assert (problem.line, problem.column) == (2, 25)
    assert problem.hint == "did you mean 'scale_by_two'?"


def test_dotted_import_path_is_never_imported(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "version: 1\npreprocessing_function: os.system\n")
    assert "registered" in problem.message


def test_registered_function_runs(write: WriteConfig, registered: Register) -> None:
    calls: list[tuple[int, ...]] = []

    def halve(x: np.ndarray) -> np.ndarray:
        calls.append(x.shape)
        return x / 2

    registered("halve", halve)
    write("aug.yaml", "version: 1\npreprocessing_function: halve\n")
    pipe = confaug.load_pipeline("aug.yaml")
    out = pipe.apply_batch(np.full((2, 4, 4, 3), 100.0, np.float32))
    assert calls and np.allclose(out, 50.0)


def test_register_refuses_a_second_function_under_a_taken_name(registered: Register) -> None:
    registered("fn_once", abs)
    with pytest.raises(ValueError, match="already registered"):
        confaug.register("fn_once", round)
    with pytest.raises(ValueError, match="identifier"):
        confaug.register("not a name", round)
    confaug.register("fn_once", abs)  # the same function again is fine


@pytest.mark.parametrize("value", ["2", "0", "'1'", "1.0", "true", "v1", "null"])
def test_unknown_version(write: WriteConfig, value: str) -> None:
    text = f"version: {value}\nrotation_range: 3\n"
    (problem,) = problems_of(write, text)
    assert (problem.line, problem.column, problem.field) == (1, 10, "version")


def test_missing_version_means_the_current_format(write: WriteConfig) -> None:
    write("aug.yaml", "rotation_range: 3\n")
    spec = confaug.load_spec("aug.yaml")
    assert spec.version == 1 and spec.to_data() == {"version": 1, "rotation_range": 3}


def test_mapping_source_problems_have_no_file() -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"version": 1, "rotation_range": "x"})
    problem = only_problem(err)
    assert problem.file is None and problem.line is None
    assert str(problem).startswith("<config>: rotation_range: ")


def test_spec_from_keras_unknown_keyword() -> None:
    with pytest.raises(ConfigError) as err:
        confaug.spec_from_keras(rotation_rang=3)
    assert only_problem(err).hint == "did you mean 'rotation_range'?"
    assert confaug.spec_from_keras(rotation_range=3, zoom_range=(0.9, 1.1)).zoom_range == [0.9, 1.1]


def test_all_23_keras_keywords_are_accepted() -> None:
    assert len(confaug.KERAS_KEYWORDS) == 23
    spec = confaug.load_spec(
        {
            "version": 1,
            "featurewise_center": True,
            "samplewise_center": True,
            "featurewise_std_normalization": True,
            "samplewise_std_normalization": True,
            "zca_whitening": False,
            "zca_epsilon": 1e-5,
            "rotation_range": 10,
            "width_shift_range": 0.1,
            "height_shift_range": [-2, 2],
            "brightness_range": [0.8, 1.2],
            "shear_range": 5,
            "zoom_range": 0.1,
            "channel_shift_range": 5.0,
            "fill_mode": "constant",
            "cval": 3,
            "horizontal_flip": True,
            "vertical_flip": True,
            "rescale": "1/255",
            "preprocessing_function": None,
            "data_format": "channels_first",
            "validation_split": 0.2,
            "interpolation_order": 1,
            "dtype": "float32",
        }
    )
    assert set(confaug.KERAS_KEYWORDS) <= set(spec.model_fields_set)
    assert spec.rescale == pytest.approx(1 / 255)


def test_additional_targets_cannot_shadow_albumentations_targets(write: WriteConfig) -> None:
    text = "version: 1\nadditional_targets:\n  image2: image\n  mask: image\n  bad name: mask\n"
    shadow, bad_name = problems_of(write, text)
    assert (shadow.line, shadow.column, shadow.field) == (4, 3, "additional_targets.mask")
    assert "albumentations' own target" in shadow.message and "'mask2'" in shadow.message
    assert (bad_name.line, bad_name.column) == (5, 3)
    assert "identifier" in bad_name.message


def test_additional_target_named_like_a_label_field_is_refused(write: WriteConfig) -> None:
    text = (
        "version: 1\n"
        "additional_targets: {labels: mask}\n"
        "bbox_params: {format: pascal_voc, label_fields: [labels]}\n"
    )
    (problem,) = problems_of(write, text)
    assert problem.line == 2
    assert "label_fields" in problem.message


@pytest.mark.parametrize("value", [3.4e38, -2e6, "1e400/1", "1/1e-300"])
def test_rescale_that_would_overflow_float32_is_refused(value: object) -> None:
    with pytest.raises(ConfigError, match="rescale: must be"):
        confaug.load_spec({"version": 1, "rescale": value})
    assert confaug.load_spec({"version": 1, "rescale": "1/255"}).rescale == pytest.approx(1 / 255)


def test_errors_found_only_when_compiling_are_located_in_the_file(
    write: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation builds every transform, so this is a fallback; it must still say where."""
    import confaug.api

    def failing_compile(spec: object) -> None:
        raise ConfigError([Problem(None, None, None, "transforms.1.GaussNoise", "boom")])

    write("aug.yaml", AUG.replace("[0.5, 0.1]", "[0.1, 0.5]"))
    monkeypatch.setattr(confaug.api, "Pipeline", failing_compile)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("aug.yaml")
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.field) == ("aug.yaml", 7, "transforms.1.GaussNoise")


@pytest.mark.parametrize("key", ["bbox_params", "keypoint_params"])
@pytest.mark.parametrize("fields", ["3", "[[labels]]", "{a: 1}"])
def test_label_fields_of_the_wrong_type_are_located(
    write: WriteConfig, key: str, fields: str
) -> None:
    form = "coco" if key == "bbox_params" else "xy"
    line = f"{key}: {{format: {form}, label_fields: {fields}}}"
    text = f"version: 1\nadditional_targets: {{labels: mask}}\n{line}\n"
    problems = problems_of(write, text)
    assert problems and all(p.field.startswith(f"{key}.label_fields") for p in problems)
    assert all(p.line == 3 for p in problems), problems


@pytest.mark.parametrize("fill", ["inpaint_telea", "inpaint_ns"])
def test_mask_dropout_inpaint_fills_are_refused_at_the_fill(write: WriteConfig, fill: str) -> None:
    # albumentations 2.0.8's MaskDropout raises an OpenCV error on every image for these.
    text = f"version: 1\ntransforms:\n  - MaskDropout: {{fill: {fill}, p: 1}}\n"
    (problem,) = problems_of(write, text)
    assert problem.field == "transforms.0.MaskDropout.fill"
    assert (problem.line, problem.column) == position(text, fill)
    assert "use a number" in problem.message and "CoarseDropout" in problem.message


@pytest.mark.parametrize("fill", ["inpaint_telea", "inpaint_ns"])
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("CoarseDropout", {}),
        ("GridDropout", {}),
        ("XYMasking", {"num_masks_x": 2, "mask_x_length": 5}),
        ("Erasing", {}),
    ],
)
def test_the_other_dropouts_inpaint(fill: str, name: str, params: dict[str, int]) -> None:
    step = {name: {**params, "fill": fill, "p": 1}}
    pipe = confaug.load_pipeline({"version": 1, "transforms": [step]})
    image = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    assert pipe(image=image, seed=0)["image"].shape == image.shape


@pytest.mark.parametrize(
    ("step", "field", "needle"),
    [
        ("Affine: {interpolation: 1.0}", "transforms.0.Affine.interpolation", "1.0"),
        ("Affine: {border_mode: 1.0}", "transforms.0.Affine.border_mode", "1.0"),
        ("Affine: {mask_interpolation: 0.0}", "transforms.0.Affine.mask_interpolation", "0.0"),
        (
            "Resize: {height: 8, width: 8, interpolation: 2.0}",
            "transforms.0.Resize.interpolation",
            "2.0",
        ),
        ("Blur: {blur_limit: 3.0}", "transforms.0.Blur.blur_limit", "3.0"),
        ("Blur: {blur_limit: [3, 5.0]}", "transforms.0.Blur.blur_limit.1", "5.0"),
    ],
)
def test_a_float_for_an_integer_parameter_is_refused(
    write: WriteConfig, step: str, field: str, needle: str
) -> None:
    text = f"version: 1\ntransforms:\n  - {step}\n"
    (problem,) = problems_of(write, text)
    assert problem.field == field
    assert "integer" in problem.message and "typed strictly" in problem.message
    assert (problem.line, problem.column) == position(text, needle)


def test_integer_flags_and_float_parameters_still_load() -> None:
    steps = [
        {"Affine": {"interpolation": 1, "border_mode": 0, "mask_interpolation": 0, "fill": 1.0}},
        {"Rotate": {"limit": 30.0}},
        {"MaskDropout": {"fill": 0}},
    ]
    assert len(confaug.load_spec({"version": 1, "transforms": steps}).transforms) == 3
