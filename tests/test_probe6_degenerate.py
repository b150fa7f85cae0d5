"""Probe 6 (configs), sections 1 and 6: values a transform's schema accepts and that then
fail on every image, or on a random share of images whatever they are, or silently do
nothing — refused at the parameter by ``spec/degenerate.py``, while their near neighbours
still load and run.

Each refused value is also run through albumentations 2.0.8 itself, so the test says why it
is refused: a fix that refused working values would show here.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import ConfigError
from tests.conftest import WriteConfig
from tests.helpers import only_problem

# albumentations' own note on a Compose with box options and no step that moves boxes.
pytestmark = pytest.mark.filterwarnings("ignore:Got processor for:UserWarning")

#: Small images of several shapes and channel counts: a value refused as failing "on every
#: image" fails on each of them.
SHAPES = [(32, 32, 3), (16, 64, 3), (64, 16, 3), (32, 32, 1), (24, 40, 4)]


def _data(shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    mask = np.zeros(shape[:2], np.uint8)
    mask[: shape[0] // 2, : shape[1] // 2] = 1
    return {"image": rng.integers(0, 256, shape, dtype=np.uint8), "mask": mask}


def _albumentations_runs(name: str, params: dict[str, Any]) -> list[bool]:
    """Whether albumentations itself (no confaug) runs ``name(**params)`` on each image."""
    import albumentations as A

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transform = getattr(A, name)(**params, p=1)
        runs = []
        for shape in SHAPES:
            for seed in range(4):
                transform.set_random_seed(seed)
                try:
                    transform(**_data(shape))
                except Exception:  # whatever albumentations raises
                    runs.append(False)
                else:
                    runs.append(True)
    return runs


# name, parameters as the config writes them, parameter placed, words in the message,
# how albumentations 2.0.8 fares: "every" (fails on every image), "some" (on a random share,
# whatever the image), "nothing" (runs and changes nothing).
REFUSED: list[tuple[str, dict[str, Any], str, list[str], str]] = [
    # CoarseDropout reads both hole ranges by hole_height_range's kind.
    (
        "CoarseDropout",
        {"hole_width_range": [8, 16]},
        "hole_width_range",
        ["hole_height_range [0.1, 0.2], in fractions", "8 to 16 times", "both ranges in pixels"],
        "every",
    ),
    (
        "CoarseDropout",
        {"hole_height_range": [0.1, 0.2], "hole_width_range": [2, 2]},
        "hole_width_range",
        ["in fractions", "both as fractions"],
        "every",
    ),
    (
        "CoarseDropout",
        {"hole_height_range": [8, 16]},
        "hole_height_range",
        ["hole_height_range [8, 16], in pixels", "0 to 0 px wide (nothing dropped)"],
        "nothing",
    ),
    (
        "CoarseDropout",
        {"hole_height_range": [0.5, 1.0]},
        "hole_height_range",
        ["ends at 1", "holes 0 to 1 px high", "[0.5, 0.99]"],
        "nothing",
    ),
    # CropAndPad's px pairs are randrange(low, high): high excluded.
    ("CropAndPad", {"px": [10, 10]}, "px", ["high excluded", "write 10 (or [10, 11])"], "every"),
    ("CropAndPad", {"px": [0, 0]}, "px", ["empty", "write 0"], "every"),
    ("CropAndPad", {"px": [20, 10]}, "px", ["empty range", "low end first"], "every"),
    ("CropAndPad", {"px": [[1, 1], 2, 3, 4]}, "px", ["all as numbers or all as"], "every"),
    ("CropAndPad", {"px": [[1, 2], [2, 3], [3, 4], [4, 4]]}, "px", ["[4, 4]", "empty"], "every"),
    ("CropAndPad", {"px": [1, [2, 3], 3, 4]}, "px", ["first side's form"], "every"),
    ("CropAndPad", {"percent": [[0.1, 0.2], 0.1, 0.1, 0.1]}, "percent", ["all as"], "every"),
    ("CropAndPad", {"px": 3, "fill": []}, "fill", ["picks the fill from the list"], "every"),
    ("CropAndPad", {"px": 3, "fill_mask": []}, "fill_mask", ["empty list"], "every"),
    ("Pad", {"padding": -1}, "padding", ["at least 0", "CropAndPad's negative px"], "every"),
    ("Pad", {"padding": [1, 2, 3, -4]}, "padding", ["at least 0", "got -4"], "every"),
    # Empty lists albumentations picks from, or reads per channel.
    ("LongestMaxSize", {"max_size": []}, "max_size", ["empty list", "sizes to pick"], "every"),
    ("SmallestMaxSize", {"max_size": []}, "max_size", ["empty list", "a size"], "every"),
    ("Normalize", {"mean": []}, "mean", ["empty list", "one value per channel"], "every"),
    ("Normalize", {"std": []}, "std", ["empty list", "one for every channel"], "every"),
    ("RandomSunFlare", {"src_color": []}, "src_color", ["one value per channel"], "every"),
    ("RandomSunFlare", {"src_color": [255, 0, 0, 0, 9]}, "src_color", ["at most 4"], "every"),
    ("CoarseDropout", {"fill": []}, "fill", ["empty list", "one per channel"], "every"),
    ("GridDropout", {"fill_mask": []}, "fill_mask", ["empty list"], "every"),
    ("Erasing", {"fill": [], "scale": [0.1, 0.2]}, "fill", ["empty list"], "every"),
    ("PixelDropout", {"drop_value": []}, "drop_value", ["empty list"], "some"),
    ("PixelDropout", {"mask_drop_value": []}, "mask_drop_value", ["empty list"], "every"),
    # Both sides null.
    (
        "LongestMaxSize",
        {"max_size": None, "max_size_hw": [None, None]},
        "max_size_hw",
        ["both sides are null", "give a height, a width"],
        "every",
    ),
    # Kernels.
    ("GaussianBlur", {"blur_limit": -1}, "blur_limit", ["at least 0", "got -1"], "some"),
    ("GaussianBlur", {"blur_limit": [-3, -1]}, "blur_limit", ["at least 0"], "every"),
    (
        "Sharpen",
        {"kernel_size": 4, "method": "gaussian"},
        "kernel_size",
        ["odd kernel_size", "write 3 or 5"],
        "every",
    ),
]


def _flow(params: dict[str, Any]) -> str:
    # JSON is YAML flow style: one line, so the parameter's column can be found.
    return json.dumps({**params, "p": 1})


@pytest.mark.parametrize(
    ("name", "params", "placed", "words", "albumentations"),
    REFUSED,
    ids=[f"{case[0]}-{json.dumps(case[1])}" for case in REFUSED],
)
def test_a_value_that_fails_whatever_the_image_is_refused_at_its_parameter(
    write: WriteConfig,
    name: str,
    params: dict[str, Any],
    placed: str,
    words: list[str],
    albumentations: str,
) -> None:
    line = f"  - {name}: {_flow(params)}"
    write("aug.yaml", f"transforms:\n{line}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert problem.field == f"transforms.0.{name}.{placed}"
    value = json.dumps(params[placed]) if placed in params else None
    assert (problem.file, problem.line) == ("aug.yaml", 2)
    if value is not None:
        assert problem.column == line.index(f'"{placed}": {value}') + len(f'"{placed}": ') + 1
    for word in words:
        assert word in problem.message
    # ... and why: albumentations 2.0.8 itself, given the same values.
    runs = _albumentations_runs(name, params)
    if albumentations == "every":
        assert not any(runs)
    elif albumentations == "some":
        assert not all(runs)
    else:  # runs, drops nothing
        assert all(runs)


def test_coarse_dropout_read_in_the_other_kind_drops_nothing() -> None:
    # The two "nothing" cases above: albumentations runs and no pixel changes.
    import albumentations as A

    image = np.full((32, 32, 3), 200, np.uint8)
    for params in ({"hole_height_range": (8, 16)}, {"hole_height_range": (0.5, 1.0)}):
        transform = A.CoarseDropout(**params, num_holes_range=(2, 2), p=1)
        for seed in range(4):
            transform.set_random_seed(seed)
            assert np.array_equal(transform(image=image)["image"], image)


NEIGHBOURS: list[tuple[str, dict[str, Any]]] = [
    ("CoarseDropout", {"hole_height_range": [8, 16], "hole_width_range": [8, 16]}),
    ("CoarseDropout", {"hole_height_range": [8.0, 16.0], "hole_width_range": [4.0, 8.0]}),
    ("CoarseDropout", {"hole_width_range": [0.5, 1.0]}),
    ("CoarseDropout", {"hole_width_range": [1.0, 1.0]}),
    ("CoarseDropout", {"hole_width_range": [0, 0]}),
    ("CoarseDropout", {"hole_height_range": [1, 1], "hole_width_range": [1, 1]}),
    ("CoarseDropout", {"hole_height_range": [0, 1], "hole_width_range": [2, 4]}),
    ("CoarseDropout", {"fill": [1, 2, 3]}),
    ("CropAndPad", {"px": 10}),
    ("CropAndPad", {"px": [10, 11]}),
    ("CropAndPad", {"px": [1, 2, 3, 4]}),
    ("CropAndPad", {"px": [[1, 2], [2, 3], [3, 4], [4, 5]]}),
    ("CropAndPad", {"percent": [0.1, 0.1]}),  # uniform(low, high): an equal pair is fine
    ("CropAndPad", {"percent": [0.2, 0.1]}),
    ("CropAndPad", {"px": 3, "fill": [1, 2, 3]}),
    ("Pad", {"padding": 0}),
    ("Pad", {"padding": [1, 2, 3, 4]}),
    ("LongestMaxSize", {"max_size": [24, 32]}),
    ("SmallestMaxSize", {"max_size": None, "max_size_hw": [24, None]}),
    ("Normalize", {"mean": [0.5], "std": [0.5]}),
    ("Normalize", {"mean": [], "std": [], "normalization": "image"}),  # reads neither
    ("RandomSunFlare", {"src_color": [255]}),
    ("RandomSunFlare", {"src_color": [255, 0, 0, 9]}),
    ("GaussianBlur", {"blur_limit": 0}),
    ("GaussianBlur", {"blur_limit": [0, 3]}),
    ("Sharpen", {"kernel_size": 5, "method": "gaussian"}),
    ("Sharpen", {"kernel_size": 4}),  # method 'kernel' ignores kernel_size
    ("ColorJitter", {"hue": 0.5}),
    ("ColorJitter", {"hue": [-0.5, 0.5]}),
    ("ColorJitter", {"brightness": 5}),  # only hue has a bound
    # An empty fill is OpenCV's border value of zeros where OpenCV pads or warps.
    ("Rotate", {"fill": []}),
    ("Affine", {"fill": [], "fill_mask": []}),
    ("PadIfNeeded", {"min_height": 40, "min_width": 40, "fill": []}),
    # Fits a wide image: not refused (a square one gets a DataError).
    ("Erasing", {"ratio": [100, 100]}),
]


@pytest.mark.parametrize(
    ("name", "params"), NEIGHBOURS, ids=[f"{n}-{json.dumps(p)}" for n, p in NEIGHBOURS]
)
def test_a_near_neighbour_still_loads_and_runs(name: str, params: dict[str, Any]) -> None:
    pipeline = confaug.load_pipeline({"transforms": [{name: {**params, "p": 1}}]})
    shape = (16, 640, 3) if name == "Erasing" else (32, 32, 3)
    data = _data(shape)
    for seed in range(3):
        pipeline(image=data["image"], mask=data["mask"], seed=seed)


def test_a_hue_above_half_a_turn_is_refused_as_its_range_is(write: WriteConfig) -> None:
    # hue: 1 stands for [-1, 1], which the [low, high] form (and A.save's file of it) refuses.
    write("aug.yaml", "transforms:\n  - ColorJitter: {hue: 1}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.field, problem.line, problem.column) == ("transforms.0.ColorJitter.hue", 2, 24)
    assert "[-0.5, 0.5]" in problem.message
    assert "write at most 0.5" in problem.message
    with pytest.raises(ConfigError):
        confaug.load_spec({"transforms": [{"ColorJitter": {"hue": [-1, 1]}}]})


@pytest.mark.parametrize(
    "step",
    [
        {"Mosaic": {"fill": []}},
        {"Pad3D": {"padding": 1, "fill": []}},
        {"XYMasking": {"num_masks_x": 1, "mask_x_length": 5, "fill_mask": []}},
        {"ConstrainedCoarseDropout": {"mask_indices": [1], "fill": []}},
    ],
)
def test_an_empty_fill_is_refused_wherever_it_is_not_an_opencv_border(
    step: dict[str, Any],
) -> None:
    # One rule for every transform outside the OpenCV-border ones: albumentations fills a
    # canvas or holes one value per channel from it.
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"transforms": [step]})
    problem = only_problem(err)
    (name,) = step
    (param,) = (key for key in step[name] if "fill" in key)
    assert problem.field == f"transforms.0.{name}.{param}"
    assert "empty list gives albumentations no value" in problem.message


def test_the_probes_file_gets_every_problem_in_one_round(tmp_path: Path) -> None:
    # `confaug validate` said "ok" for it; now each step's problem is placed.
    path = tmp_path / "fails.yaml"
    path.write_text(
        "transforms:\n"
        "  - CropAndPad: {px: [10, 10], p: 1}\n"
        "  - CoarseDropout: {hole_width_range: [8, 16], p: 1}\n"
        "  - Pad: {padding: -1}\n"
        "  - LongestMaxSize: {max_size: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(path)
    fields = [problem.field for problem in err.value.problems]
    assert fields == [
        "transforms.0.CropAndPad.px",
        "transforms.1.CoarseDropout.hole_width_range",
        "transforms.2.Pad.padding",
        "transforms.3.LongestMaxSize.max_size",
    ]
