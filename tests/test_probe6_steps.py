"""Probe round 6 (configs6), §3 and §4: SelectiveChannelTransform children that cannot work on
the channels it selects, and the step-shape slips of YAML (p beside the transform name, a
composite's children straight under it, a missing ':')."""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import ConfigError, DataError
from confaug.compiler import build
from confaug.spec.catalog import catalog
from tests.conftest import WriteConfig
from tests.helpers import position, problems_of

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
FOUR = RNG.integers(0, 256, (16, 16, 4), dtype=np.uint8)


def _selective(channels: list[int], *children: Any) -> dict[str, Any]:
    body = {"channels": channels, "p": 1, "transforms": list(children)}
    return {"transforms": [{"SelectiveChannelTransform": body}]}


def _problems(config: dict[str, Any]) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConfigError) as err:
            confaug.load_pipeline(config)
    return err.value.problems


# ---- §3: children that fail on every image, or do nothing ------------------------------------
CHILD = "transforms.0.SelectiveChannelTransform.transforms.0."


@pytest.mark.parametrize(
    ("channels", "child", "field", "words"),
    [
        # each failed every image with albumentations' text (a DataError per sample)
        ([0, 1], {"HueSaturationValue": {"p": 1}}, "HueSaturationValue", "runs on 1 or 3"),
        ([0, 1], {"CLAHE": {"p": 1}}, "CLAHE", "runs on 1 or 3"),
        ([0, 1], {"PlanckianJitter": {"p": 1}}, "PlanckianJitter", "runs on 3 channels"),
        ([1], {"ChannelDropout": {"p": 1}}, "ChannelDropout", "runs on 2, 3 or 4"),
        ([0, 1, 2, 3], {"RGBShift": {"p": 1}}, "RGBShift", "not on the 4 channels"),
        # the child's own parameters decide: a channel_drop_range or fill for 3 channels
        (
            [0, 1],
            {"ChannelDropout": {"channel_drop_range": [2, 2], "p": 1}},
            "ChannelDropout",
            "not on the 2 channels",
        ),
        ([0, 1], {"CoarseDropout": {"fill": [1, 2, 3], "p": 1}}, "CoarseDropout", "runs on 3"),
        # ran and did nothing, without a word
        ([1], {"ToSepia": {"p": 1}}, "ToSepia", "would do nothing"),
        ([2], {"ChannelShuffle": {"p": 1}}, "ChannelShuffle", "would do nothing"),
        # its channels were dropped or left as they were
        ([0, 1, 2], {"ToGray": {"num_output_channels": 1, "p": 1}}, "ToGray", "makes 1 channel"),
        # inside a composite inside the selection
        (
            [0, 1],
            {"OneOf": {"transforms": [{"CLAHE": {"p": 1}}, "Blur"]}},
            "OneOf.transforms.0.CLAHE",
            "runs on 1 or 3",
        ),
    ],
)
def test_a_child_that_cannot_work_on_the_selected_channels_is_refused_at_it(
    channels: list[int], child: dict[str, Any], field: str, words: str
) -> None:
    (problem,) = _problems(_selective(channels, child))
    assert problem.field == CHILD + field
    assert words in problem.message
    assert f"SelectiveChannelTransform selects ({channels})" in problem.message
    assert problem.hint


def test_a_nested_selection_beyond_the_outer_one_is_refused_at_its_channels() -> None:
    inner = {"SelectiveChannelTransform": {"channels": [2], "p": 1, "transforms": ["InvertImg"]}}
    (problem,) = _problems(_selective([0], inner))
    assert problem.field == CHILD + "SelectiveChannelTransform.channels"
    assert "not the image's: 2 is beyond them" in problem.message
    # within the selection it runs, on the outer selection's channel 1
    inner["SelectiveChannelTransform"]["channels"] = [1]
    pipe = confaug.load_pipeline(_selective([0, 2], inner))
    out = pipe(image=RGB, seed=0)["image"]
    assert np.array_equal(out[..., :2], RGB[..., :2])
    assert np.array_equal(out[..., 2], 255 - RGB[..., 2])


def test_the_children_of_nested_selections_get_their_own_count() -> None:
    inner = {"SelectiveChannelTransform": {"channels": [0], "p": 1, "transforms": ["ToSepia"]}}
    config = _selective([0, 1], inner, {"HueSaturationValue": {"p": 1}})
    problems = _problems(config)  # all of them at once, each at its child
    assert [p.field for p in problems] == [
        CHILD + "SelectiveChannelTransform.transforms.0.ToSepia",
        "transforms.0.SelectiveChannelTransform.transforms.1.HueSaturationValue",
    ]
    assert "the 1 channel SelectiveChannelTransform selects ([0])" in problems[0].message


def test_the_problem_is_placed_in_the_file(write: WriteConfig) -> None:
    text = """\
transforms:
  - SelectiveChannelTransform:
      channels: [0, 1]
      transforms:
        - Blur
        - HueSaturationValue: {p: 1}
"""
    write("aug.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("aug.yaml")
    (problem,) = err.value.problems
    assert problem.file == "aug.yaml"
    assert (problem.line, problem.column) == position(text, "{p: 1}")
    assert problem.field == "transforms.0.SelectiveChannelTransform.transforms.1.HueSaturationValue"
    with pytest.raises(ConfigError):  # and load_spec, so `confaug validate`, refuses it too
        confaug.load_spec("aug.yaml")


def test_what_loads_under_a_selection_runs_on_it() -> None:
    """Every transform of the catalog (its defaults, p: 1) under one and two selected
    channels: what loads runs, or fails for a reason of its own that three channels share
    (it needs a mask, a spectrogram's axes); what was refused cannot work on them."""
    sizes = build._SIZE_SETTING_MODULES
    refused = set()
    for name, info in sorted(catalog().items()):
        if info.composite or info.cls.__module__.startswith(sizes):
            continue
        for channels in ([0], [0, 1]):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pipe = confaug.load_pipeline(_selective(channels, {name: {"p": 1}}))
            except ConfigError as err:
                if "SelectiveChannelTransform selects" in str(err):
                    refused.add((name, len(channels)))
                continue
            for image in (FOUR, (FOUR / 255).astype(np.float32)):
                try:
                    pipe(image=image, seed=0)
                except DataError:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        rgb = confaug.load_pipeline(_selective([0, 1, 2], {name: {"p": 1}}))
                    with pytest.raises(DataError):  # not the number of channels
                        rgb(image=image, seed=0)
    assert {("HueSaturationValue", 2), ("ChannelDropout", 1), ("ToSepia", 1)} <= refused
    assert {("Blur", 1), ("Blur", 2), ("HueSaturationValue", 1)}.isdisjoint(refused)


def test_trying_the_children_changes_no_pixel_and_no_global_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _selective([0, 1], {"GaussNoise": {"p": 1}}, {"ChannelDropout": {"p": 0.5}})
    np.random.seed(7)
    random.seed(7)
    before = np.random.get_state()[1].copy(), random.getstate()
    pipe = confaug.load_pipeline(config)
    assert np.array_equal(np.random.get_state()[1], before[0])
    assert random.getstate() == before[1]
    tried = [pipe(image=RGB, seed=seed)["image"] for seed in range(3)]
    monkeypatch.setattr(build, "_channel_problem", lambda *args: [])
    untried = confaug.load_pipeline(config)
    for seed, out in enumerate(tried):
        assert np.array_equal(out, untried(image=RGB, seed=seed)["image"])


def test_size_changing_children_are_still_refused() -> None:
    (problem,) = _problems(_selective([0], {"Resize": {"height": 4, "width": 4}}))
    assert problem.field == CHILD + "Resize"
    assert "changes the image's size" in problem.message


# ---- §4: step-shape slips --------------------------------------------------------------------
def test_p_beside_the_transform_name_says_to_indent_it(write: WriteConfig) -> None:
    text = "transforms:\n  - HorizontalFlip:\n    p: 0.5\n"
    (problem,) = problems_of(write, text)
    assert (problem.line, problem.column) == (3, 5)
    assert problem.field == "transforms.0.p"
    assert problem.message == (
        "p (line 3) sits beside HorizontalFlip, not under it: indent it 2 more spaces"
    )
    assert "'- HorizontalFlip: {p: 0.5}'" in problem.hint


def test_parameters_beside_lined_up_with_those_under_it(write: WriteConfig) -> None:
    text = "transforms:\n  - Blur:\n        blur_limit: 7\n    p: 0.5\n"
    (problem,) = problems_of(write, text)
    assert (problem.line, problem.column) == (4, 5)
    assert "p (line 4) sits beside Blur, not under it: indent it 4 more spaces" in problem.message
    assert "'- Blur: {blur_limit: 7, p: 0.5}'" in problem.hint
    nested = (
        "transforms:\n  - OneOf:\n      transforms:\n        - MotionBlur:\n"
        "          blur_limit: 5\n          p: 1\n"
    )
    (problem,) = problems_of(write, nested)
    assert problem.field == "transforms.0.OneOf.transforms.0.blur_limit"
    assert problem.message.startswith("blur_limit (line 5) and p (line 6) sit beside MotionBlur")
    assert "indent them 2 more spaces" in problem.message


def test_p_beside_in_a_flow_mapping_and_in_python(write: WriteConfig) -> None:
    write("aug.yaml", "transforms:\n  - {VerticalFlip: null, p: 0.5}\n")
    for source, message in [
        ("aug.yaml", "not in its parameters"),
        ({"transforms": [{"VerticalFlip": None, "p": 0.5}]}, "not under it"),
    ]:
        with pytest.raises(ConfigError) as err:
            confaug.load_spec(source)
        (problem,) = err.value.problems
        assert problem.field == "transforms.0.p"
        assert f"p sits beside VerticalFlip, {message}" in problem.message
        assert "'- VerticalFlip: {p: 0.5}'" in problem.hint


def test_a_composites_children_straight_under_it_hint_its_transforms_key(
    write: WriteConfig,
) -> None:
    text = "transforms:\n  - OneOf:\n      - Blur\n      - MotionBlur: {p: 1}\n"
    (problem,) = problems_of(write, text)
    assert problem.field == "transforms.0"
    assert "'OneOf: {transforms: [Blur, MotionBlur]}'" in problem.message
    assert "{p: 0.5}" not in problem.message


def test_a_missing_colon_after_the_name_says_so(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "transforms:\n  - Blur {p: 0.5}\n")
    assert problem.field == "transforms.0"
    assert problem.message == "'Blur {p' is not a transform name (missing ':' after Blur?)"
    assert problem.hint == "write '- Blur: {p: 0.5}'"
    (problem,) = problems_of(write, "transforms:\n  - Blurr: 3\n")
    assert problem.message == "unknown transform 'Blurr'"
    assert problem.hint == "did you mean 'Blur'?"


def test_other_shapes_keep_their_words(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "transforms:\n  - Blur:\n    foo: 1\n")  # not a parameter
    assert "exactly one key" in problem.message
    (problem,) = problems_of(write, "transforms:\n  - {Blur: {}, MedianBlur: {}}\n")
    assert problem.message.startswith("Blur and MedianBlur are in one step")
    assert "exactly one key" in problem.message
    (problem,) = problems_of(write, "transforms:\n  - Blur: [1]\n")
    assert "must be a mapping, e.g. 'Blur: {p: 0.5}'" in problem.message


def test_an_unpickled_pipeline_does_not_try_the_children_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The trials ran when the spec was first compiled; a worker that unpickles the pipeline
    (every spawned process, every Ray actor) rebuilds its steps without repeating them."""
    import pickle

    config = {
        "version": 1,
        "transforms": [
            {
                "SelectiveChannelTransform": {
                    "channels": [0, 1],
                    "p": 1,
                    "transforms": [{"InvertImg": {"p": 1}}],
                }
            }
        ],
    }
    pickled = pickle.dumps(confaug.load_pipeline(config))

    def no_trial(*args: object, **kwargs: object) -> None:
        raise AssertionError("a child was tried again")

    monkeypatch.setattr(build, "_channel_trial", no_trial)
    restored = pickle.loads(pickled)
    assert type(restored.compose.transforms[0]).__name__ == "SelectiveChannelTransform"
    with pytest.raises(AssertionError, match="tried again"):
        confaug.load_pipeline(config)  # a fresh compile still tries them


def test_erasing_that_finds_no_area_on_an_image_says_so_in_confaugs_words() -> None:
    """albumentations' Erasing with a ratio no area of a square image fits fails with its
    own TypeError ("apply() missing ... 'seed'"); the same config works on a wide image."""
    pipe = confaug.load_pipeline(
        {"version": 1, "transforms": [{"Erasing": {"ratio": [100, 100], "p": 1}}]}
    )
    with pytest.raises(DataError, match=r"Erasing found no area of its scale and ratio") as err:
        pipe(image=np.zeros((64, 64, 3), np.uint8), seed=0)
    assert "seed" not in str(err.value)
    assert pipe(image=np.zeros((16, 1600, 3), np.uint8), seed=0)["image"].shape == (16, 1600, 3)
