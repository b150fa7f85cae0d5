"""Issue 15, hostile configs round 2, after load: what passes runs within its budget, what
fails on a sample says why, and a written spec reads back as itself.

- **Costly parameters**: for each transform family of ``confaug.spec.cost``, the largest
  value of its costly parameter that a config may hold is found (by doubling until the load
  refuses it), and a 1024×1024 float image is run through it in a fresh interpreter: memory
  stays within the model's budget (the peak resident size, measured by the OS; no time is
  measured), and the output is finite.
- **Configs that validate, then fail on a sample**: a ``DataError`` naming the step, what
  the sample held and what the step needed (never albumentations' or OpenCV's exception).
- **Round trip**: strings that YAML 1.1 or 1.2 would read as numbers or booleans are
  quoted by ``spec_to_yaml``.

Both groups run in one subprocess (``run_cases``), each case under its own alarm, so a hang
fails its test at the timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import yaml

import confaug
from confaug.reading.yaml_io import parse_yaml
from confaug.spec.cost import MEMORY_BUDGET
from tests.helpers import run_cases

#: (transform, costly parameter, how a value v is written, other parameters, first value)
COSTLY: list[tuple[str, str, str, dict[str, Any], float]] = [
    ("GlassBlur", "iterations", "int", {}, 2),
    ("GlassBlur", "sigma", "float", {}, 1),
    ("ZoomBlur", "max_factor", "pair", {}, 1.5),
    ("RandomGravel", "number_of_patches", "int", {}, 2),
    ("GridDropout", "holes_number_xy", "pair_int", {}, 4),
    ("RandomSunFlare", "src_radius", "int", {}, 100),
    ("RandomSunFlare", "num_flare_circles_range", "pair_int", {}, 10),
    ("Resize", "height", "int", {"width": 1024}, 1024),
    ("Pad", "padding", "int", {}, 16),
    ("CropAndPad", "px", "int", {"keep_size": False}, 16),
    ("RandomScale", "scale_limit", "pair", {}, 0.5),
    ("Defocus", "radius", "pair_int", {}, 4),
    ("MotionBlur", "blur_limit", "pair_odd", {}, 3),
    ("GaussianBlur", "blur_limit", "pair_odd", {}, 3),
    ("MedianBlur", "blur_limit", "pair_odd", {}, 3),
    ("Morphological", "scale", "pair_int", {}, 2),
    ("CLAHE", "tile_grid_size", "pair_int", {}, 8),
    ("ThinPlateSpline", "num_control_points", "int", {}, 2),
    ("Superpixels", "n_segments", "pair_int", {"max_size": 256}, 16),
    ("RandomShadow", "num_shadows_limit", "pair_int", {}, 1),
    ("RandomGridShuffle", "grid", "pair_int", {}, 2),
    ("ElasticTransform", "sigma", "float", {}, 10),
    ("ToGray", "num_output_channels", "int", {}, 3),
    ("Affine", "scale", "pair", {"fit_output": True}, 1),
    ("SomeOf", "n", "int", {"replace": True, "transforms": ["GaussNoise"]}, 1),
]


def _written(kind: str, value: float) -> Any:
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "pair":
        return [float(value), float(value)]
    if kind == "pair_odd":
        odd = int(value) | 1
        return [odd, odd]
    return [int(value), int(value)]


def largest_accepted(name: str, key: str, kind: str, extra: dict[str, Any], start: float) -> Any:
    """The config of the largest value of ``key`` a load accepts, doubling from ``start``."""
    accepted = None
    value = start
    for _ in range(40):
        config = {
            "version": 1,
            "transforms": [{name: {"p": 1.0, **extra, key: _written(kind, value)}}],
        }
        try:
            confaug.load_spec(config)
        except confaug.ConfigError:
            break
        accepted = config
        value *= 2
    return accepted


_STATE: dict[str, Any] = {}


def warm() -> None:
    """In the subprocess, once: the megapixel image, albumentations imported and run, and the
    peak resident size so far (what the interpreter, the libraries and the image take)."""
    import resource

    import numpy as np

    image = np.random.default_rng(0).random((1024, 1024, 3)).astype(np.float32)
    confaug.load_pipeline({"version": 1, "transforms": ["HorizontalFlip"]})(image=image)
    _STATE["image"] = image
    _STATE["base"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_costly(label: str) -> dict[str, Any]:
    """In the subprocess: the largest accepted value of one costly parameter through the
    1024×1024 float32 image, and the peak resident size beyond :func:`warm`'s."""
    import resource

    import numpy as np

    name, key, kind, extra, start = next(row for row in COSTLY if f"{row[0]}.{row[1]}" == label)
    config = largest_accepted(name, key, kind, extra, start)
    if config is None:
        return {"outcome": "refused at the first value"}
    pipe = confaug.load_pipeline(config)
    try:
        out = pipe(image=_STATE["image"].copy(), seed=0)["image"]
        outcome = "finite" if np.isfinite(out).all() else "NaN or infinity"
    except confaug.DataError as error:
        outcome = f"DataError: {error}"[:300]
    except Exception as error:
        outcome = f"raw {type(error).__name__}: {error}"[:300]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - _STATE["base"]
    return {"outcome": outcome, "config": config, "peak": peak}


#: Configs that validate, a sample they cannot run on, and what the DataError must say.
SAMPLE_FAILURES: dict[str, tuple[dict[str, Any], str, list[str]]] = {
    "MaskDropout without a mask": (
        {"transforms": [{"MaskDropout": {"p": 1}}]},
        "image",
        ["transforms.0.MaskDropout", "'mask'", "image (64, 64, 3)"],
    ),
    "a 3-D transform without a volume": (
        {"transforms": [{"CoarseDropout3D": {"p": 1}}]},
        "image",
        ["transforms.0.CoarseDropout3D", "volume"],
    ),
    "Mosaic without its metadata": (
        {"transforms": [{"Mosaic": {"p": 1}}]},
        "image",
        ["transforms.0.Mosaic", "mosaic_metadata"],
    ),
    "RandomCropNearBBox without its box": (
        {"transforms": [{"RandomCropNearBBox": {"p": 1}}]},
        "image",
        ["transforms.0.RandomCropNearBBox", "cropping_bbox"],
    ),
    "CropNonEmptyMaskIfExists without a mask": (
        {"transforms": [{"CropNonEmptyMaskIfExists": {"height": 8, "width": 8, "p": 1}}]},
        "image",
        ["transforms.0.CropNonEmptyMaskIfExists", "mask"],
    ),
    "a channel the image lacks": (
        {
            "transforms": [
                {"SelectiveChannelTransform": {"channels": [0, 5], "transforms": ["Blur"]}}
            ]
        },
        "image",
        ["transforms.0.SelectiveChannelTransform", "channel 5", "3 channel"],
    ),
    "GridDistortion finer than the image": (
        {"transforms": [{"GridDistortion": {"num_steps": 500, "p": 1}}]},
        "image",
        ["transforms.0.GridDistortion", "num_steps 500", "64"],
    ),
    "a crop larger than the image": (
        {"transforms": [{"Crop": {"x_max": 500, "y_max": 500, "p": 1}}]},
        "image",
        ["transforms.0.Crop", "image (64, 64, 3)"],
    ),
    "a crop inside a composite": (
        {
            "transforms": [
                {
                    "Sequential": {
                        "p": 1,
                        "transforms": [{"RandomCrop": {"height": 100, "width": 100}}],
                    }
                }
            ]
        },
        "image",
        ["transforms.0.Sequential.transforms.0.RandomCrop", "image (64, 64, 3)"],
    ),
    "more channels dropped than the image has": (
        {"transforms": [{"ChannelDropout": {"channel_drop_range": [3, 3], "p": 1}}]},
        "uint8",
        ["transforms.0.ChannelDropout"],
    ),
    "a box crop without boxes in the sample": (
        {
            "transforms": [{"BBoxSafeRandomCrop": {"p": 1}}],
            "bbox_params": {"format": "pascal_voc"},
        },
        "no boxes",
        [],
    ),
}


def run_sample_failure(name: str) -> str:
    """In the subprocess: one config of SAMPLE_FAILURES on its 64×64 image; what it raised."""
    import numpy as np

    images = {
        "image": np.random.default_rng(0).random((64, 64, 3)).astype(np.float32),
        "uint8": np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8),
        "no boxes": np.zeros((64, 64, 3), np.uint8),
    }
    config, image, _ = SAMPLE_FAILURES[name]
    try:
        pipe = confaug.load_pipeline({"version": 1, **config})
        pipe(image=images[image], seed=0)
        return "ran"
    except confaug.DataError as error:
        return f"DataError: {error}"
    except Exception as error:
        return f"raw {type(error).__name__}: {error}"


def run_one(case: list[str]) -> Any:
    """The subprocess's entry for ``run_cases``: ``[kind, name]``."""
    kind, name = case
    return run_costly(name) if kind == "costly" else run_sample_failure(name)


@pytest.fixture(scope="module")
def results() -> Mapping[str, Any]:
    """Both groups in one fresh interpreter; the sample failures first, since the peak
    resident size only grows (so the costly cases each measure what they add to it)."""
    cases = {f"sample: {name}": ["sample", name] for name in SAMPLE_FAILURES}
    cases |= {f"costly: {n}.{k}": ["costly", f"{n}.{k}"] for n, k, *_ in COSTLY}
    return run_cases(
        "tests.test_hostile_configs_run:run_one",
        cases,
        setup="tests.test_hostile_configs_run:warm",
        what="running the hostile configs",
    )


@pytest.mark.parametrize(
    ("name", "key"),
    [(name, key) for name, key, *_ in COSTLY],
    ids=[f"{n}.{k}" for n, k, *_ in COSTLY],
)
def test_largest_accepted_cost_runs_a_megapixel_image_in_bounded_memory(
    results: Mapping[str, Any], name: str, key: str
) -> None:
    result = results[f"costly: {name}.{key}"]
    assert result["outcome"] in ("finite",) or result["outcome"].startswith("DataError"), result
    # Beyond the interpreter, albumentations and the image itself (~250 MB here): what the
    # step allocates, which the cost model bounds by MEMORY_BUDGET (a quarter for slack).
    assert result["peak"] <= 1.25 * MEMORY_BUDGET, result


@pytest.mark.parametrize("name", list(SAMPLE_FAILURES))
def test_a_sample_a_valid_config_cannot_run_is_a_data_error_naming_the_step(
    results: Mapping[str, Any], name: str
) -> None:
    got = results[f"sample: {name}"]
    _, _, words = SAMPLE_FAILURES[name]
    if not words:  # the pipeline fills in empty boxes: it runs
        assert got == "ran", got
        return
    assert got.startswith("DataError: "), got
    for word in words:
        assert word in got, got
    assert "\n" not in got


# ---- round trip -----------------------------------------------------------------------

LOOKALIKES = [
    "1e3",
    "0o17",
    "0x1F",
    "1_000",
    ".5",
    "+1",
    "-1",
    "1.",
    "1e-3",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    "2024-01-01",
    "2024-01-01 10:00:00",
    ".inf",
    "-.Inf",
    ".nan",
    "NaN",
    "inf",
    "=",
    "<<",
    "12:30",
    "1:20:30",
    "0b101",
    "007",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_strings_that_look_like_numbers_round_trip(text: str) -> None:
    spec = confaug.load_spec(
        {"version": 1, "bbox_params": {"format": "coco", "label_fields": ["labels", text]}}
    )
    written = confaug.spec_to_yaml(spec)
    assert confaug.load_spec(parse_yaml(written).data) == spec, written
    # YAML 1.1 readers (PyYAML's safe_load, most tools) read the same strings back.
    assert yaml.safe_load(written)["bbox_params"]["label_fields"] == ["labels", text], written
    # And the full form, with every default written out.
    full = confaug.spec_to_yaml(spec, full=True)
    assert confaug.load_spec(parse_yaml(full).data) == spec, full


def test_numbers_stay_numbers_in_the_written_yaml() -> None:
    spec = confaug.load_spec(
        {"version": 1, "rotation_range": 1e-3, "seed": 15, "zoom_range": [0.5, 100.0]}
    )
    data = parse_yaml(confaug.spec_to_yaml(spec)).data
    assert data["rotation_range"] == 1e-3 and data["seed"] == 15
    assert data["zoom_range"] == [0.5, 100.0]


def _misread_by_yaml_11(text: str) -> bool:
    try:
        return not isinstance(yaml.safe_load(f"x: {text}")["x"], str)
    except yaml.YAMLError:  # '=' is YAML 1.1's "value" tag, which safe_load cannot build
        return True


def test_round_trip_cases_cover_both_yaml_versions() -> None:
    from confaug.reading.yaml_io import _core_scalar_tag

    as_12 = {text for text in LOOKALIKES if _core_scalar_tag(text) != "tag:yaml.org,2002:str"}
    as_11 = {text for text in LOOKALIKES if _misread_by_yaml_11(text)}
    assert as_12 - as_11 and as_11 - as_12  # strings only one of the two misreads
