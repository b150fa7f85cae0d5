"""Issue 15, hostile configs round 2, at load: every case is a located ConfigError, cheaply.

The categories of the issue, each with more cases than it listed: ``extends`` fan-out, deep
or odd dotted overrides, transform parameters that cost gigabytes or minutes per image,
error storms, degenerate values, raw exceptions, steps that can never run, lax coercion,
and misleading messages. (Round trips and run-time failures are in
``test_hostile_configs_run.py``.)

All the cases run in one fresh interpreter (``run_cases``: each under its own alarm, so a
hang fails its test instead of stalling the suite), and each load there is bounded by *counting*:
it may make at most ``CALLS + CALLS_PER_BYTE * size`` Python calls, ``size`` being the bytes
of its files and overrides, and is stopped the moment it passes that. No time is measured.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cases

CALLS = 40_000  # the fixed cost of a load (its checks, a transform built and costed)
CALLS_PER_BYTE = 5  # work proportional to the input: parsing, ~13 calls a value of ~4 bytes

Case = dict[str, Any]


def _fan(levels: int, width: int) -> dict[str, str]:
    """``l{levels}`` extends ``l{levels-1}`` ``width`` times, down to ``l0``."""
    files = {"l0.yaml": "version: 1\nrotation_range: 5\n"}
    for level in range(1, levels + 1):
        parents = ", ".join([f"l{level - 1}.yaml"] * width)
        files[f"l{level}.yaml"] = f"extends: [{parents}]\n"
    files["aug.yaml"] = files.pop(f"l{levels}.yaml")
    return files


def _parents(name: str, count: int, text: Callable[[int], str]) -> dict[str, str]:
    """Files ``{name}0.yaml`` ... holding ``text(i)``, and an ``aug.yaml`` extending them all."""
    files = {f"{name}{i}.yaml": text(i) for i in range(count)}
    files["aug.yaml"] = f"version: 1\nextends: [{', '.join(files)}]\n"
    return files


def _many_values(count: int) -> str:
    return "x:\n" + "".join(f"  k{i}: [1, 2, 3, 4]\n" for i in range(count // 5))


def _misspelt(count: int) -> str:
    names = "".join(f"  - GausBlurr{i % 97}\n" for i in range(count))
    return "version: 1\ntransforms:\n" + names


def case(
    files: dict[str, str] | None = None,
    *,
    field: str | None = None,
    words: str = "",
    file: str | None = "aug.yaml",
    source: Any = "aug.yaml",
    overrides: Any = None,
    builder: str | None = None,
    valid: bool = False,
    fifo: str | None = None,
    folder: str | None = None,
) -> Case:
    """A hostile load: files to write, then what loading ``source`` must raise."""
    return {
        "files": files or {},
        "field": field,
        "words": words,
        "file": file,
        "source": source,
        "overrides": overrides,
        "builder": builder,
        "valid": valid,
        "fifo": fifo,
        "folder": folder,
    }


def step(text: str, field: str, words: str = "") -> Case:
    """A one-step config: ``transforms: [text]``."""
    return case({"aug.yaml": f"version: 1\ntransforms:\n  - {text}\n"}, field=field, words=words)


CATEGORIES: dict[str, dict[str, Case]] = {
    "extends fan-out": {
        "c extends b 300 times, b extends a 300 times": case(
            _fan(2, 300), field="extends", file="l1.yaml", words="references"
        ),
        "four levels of 50 (200 references) read each file once": case(_fan(4, 50), valid=True),
        "diamonds six levels deep (64 paths, 20 files)": case(
            {
                **{f"d{i}.yaml": f"extends: [d{i + 1}a.yaml, d{i + 1}b.yaml]\n" for i in range(6)},
                **{f"d{i}a.yaml": f"extends: d{i}.yaml\nshear_range: {i}\n" for i in range(1, 7)},
                **{f"d{i}b.yaml": f"extends: d{i}.yaml\nzoom_range: 0.1\n" for i in range(1, 7)},
                "d6.yaml": "version: 1\n",
                "aug.yaml": "extends: d0.yaml\n",
            },
            valid=True,
        ),
        "70 distinct parents": case(
            _parents("p", 70, lambda i: f"shear_range: {i % 40}\n"),
            field="extends",
            words="more than 64 files",
        ),
        "parents holding 102,000 values together": case(
            _parents("v", 3, lambda i: _many_values(34_000)),
            field="extends",
            words="more than 100,000 values in all",
        ),
        "64 parents of 3,000 values each (192,000 together)": case(
            _parents("w", 64, lambda i: _many_values(3_000)),
            field="extends",
            words="more than 100,000 values in all",
        ),
        "an empty extends list": case(
            {"aug.yaml": "version: 1\nextends: []\n"}, field="extends", words="no parent"
        ),
        "extends a directory": case(
            {"aug.yaml": "version: 1\nextends: folder\n"},
            folder="folder",
            field="extends",
            words="is a directory",
        ),
        "extends a FIFO": case(
            {"aug.yaml": "version: 1\nextends: pipe.yaml\n"},
            fifo="pipe.yaml",
            field="extends",
            words="not a regular file",
        ),
    },
    "deep dotted overrides": {
        "a.a.a… 10,000 deep": case(
            {"aug.yaml": "version: 1\n"},
            overrides=["a" + ".a" * 10_000 + "=1"],
            file=None,
            words="nesting deeper than 64",
        ),
        "into a transform's parameters 3,000 deep": case(
            {"aug.yaml": "version: 1\ntransforms: [GaussNoise]\n"},
            overrides=["transforms.0.GaussNoise" + ".x" * 3_000 + "=1"],
            file=None,
            words="nesting deeper than 64",
        ),
        "64 parts and a list": case(
            {"aug.yaml": "version: 1\n"},
            overrides=["a" + ".a" * 63 + "=[1]"],
            file=None,
            words="nesting deeper than 64",
        ),
        "an index of 5,000 digits": case(
            {"aug.yaml": "version: 1\ntransforms: [Blur]\n"},
            overrides=["transforms." + "9" * 5_000 + ".Blur.p=1"],
            file=None,
            words="5,000 digits",
        ),
        "a negative index": case(
            {"aug.yaml": "version: 1\ntransforms: [HorizontalFlip]\n"},
            overrides=["transforms.-1.HorizontalFlip.p=1"],
            file=None,
            field="transforms.-1.HorizontalFlip.p",
            words="negative",
        ),
        "a digit that is not ASCII": case(
            {"aug.yaml": "version: 1\ntransforms: [Blur]\n"},
            overrides=["transforms.²=1"],
            file=None,
            words="is not a key",
        ),
        "a mapping override 5,000 deep": case(
            {"aug.yaml": "version: 1\n"},
            builder="deep_override",
            file=None,
            words="nesting deeper than 64",
        ),
        "10,000 overrides of one key": case(
            {"aug.yaml": "version: 1\n"},
            overrides=[f"rotation_range={i % 90}" for i in range(10_000)],
            valid=True,
        ),
    },
    "cost bombs inside the per-number bounds": {
        "GlassBlur iterations": step(
            "GlassBlur: {iterations: 32767}", "transforms.0.GlassBlur.iterations", "memory"
        ),
        "GlassBlur's exact mode, a Python loop per pixel": step(
            "GlassBlur: {mode: exact}", "transforms.0.GlassBlur.mode", "would take"
        ),
        "ConstrainedCoarseDropout holes": step(
            "ConstrainedCoarseDropout: {num_holes_range: [32767, 32767], mask_indices: [1]}",
            "transforms.0.ConstrainedCoarseDropout.num_holes_range",
            "memory",
        ),
        "GlassBlur max_delta": step(
            "GlassBlur: {max_delta: 16000}", "transforms.0.GlassBlur.max_delta"
        ),
        "ZoomBlur steps": step(
            "ZoomBlur: {step_factor: 0.01, max_factor: 1000}", "transforms.0.ZoomBlur"
        ),
        "ZoomBlur tiny step": step(
            "ZoomBlur: {step_factor: [0.00001, 0.00001]}", "transforms.0.ZoomBlur.step_factor"
        ),
        "RandomGravel patches": step(
            "RandomGravel: {number_of_patches: 1000000000}", "transforms.0.RandomGravel"
        ),
        "GridDropout holes": step(
            "GridDropout: {holes_number_xy: [32767, 32767]}",
            "transforms.0.GridDropout.holes_number_xy",
        ),
        "RandomSunFlare radius": step(
            "RandomSunFlare: {src_radius: 32767}", "transforms.0.RandomSunFlare.src_radius"
        ),
        "RandomSunFlare circles": step(
            "RandomSunFlare: {num_flare_circles_range: [32767, 32767]}",
            "transforms.0.RandomSunFlare.num_flare_circles_range",
        ),
        "Resize": step(
            "Resize: {height: 32767, width: 32767}", "transforms.0.Resize.height", "megapixels"
        ),
        "Pad": step("Pad: {padding: 32767}", "transforms.0.Pad.padding", "megapixels"),
        "CropAndPad": step("CropAndPad: {px: 32767}", "transforms.0.CropAndPad.px"),
        "CropAndPad percent": step("CropAndPad: {percent: 100}", "transforms.0.CropAndPad.percent"),
        "RandomCrop with padding": step(
            "RandomCrop: {height: 32767, width: 32767, pad_if_needed: true}",
            "transforms.0.RandomCrop.height",
        ),
        "RandomResizedCrop": step(
            "RandomResizedCrop: {size: [32767, 32767]}", "transforms.0.RandomResizedCrop.size"
        ),
        "PadIfNeeded": step(
            "PadIfNeeded: {min_height: 32767, min_width: 32767}",
            "transforms.0.PadIfNeeded.min_height",
        ),
        "LongestMaxSize": step(
            "LongestMaxSize: {max_size: 32767}", "transforms.0.LongestMaxSize.max_size"
        ),
        "Defocus": step("Defocus: {radius: 32767}", "transforms.0.Defocus.radius", "GiB"),
        "MotionBlur": step("MotionBlur: {blur_limit: 32767}", "transforms.0.MotionBlur"),
        "GaussianBlur kernel": step(
            "GaussianBlur: {blur_limit: 32767}", "transforms.0.GaussianBlur.blur_limit"
        ),
        "GaussianBlur sigma": step(
            "GaussianBlur: {blur_limit: 0, sigma_limit: [10000, 10000]}", "transforms.0"
        ),
        "MedianBlur": step("MedianBlur: {blur_limit: 32767}", "transforms.0.MedianBlur"),
        "Morphological": step("Morphological: {scale: 32767}", "transforms.0.Morphological.scale"),
        "CLAHE tiles": step(
            "CLAHE: {tile_grid_size: [32767, 32767]}", "transforms.0.CLAHE.tile_grid_size"
        ),
        "ThinPlateSpline": step(
            "ThinPlateSpline: {num_control_points: 1000}",
            "transforms.0.ThinPlateSpline.num_control_points",
        ),
        "PiecewiseAffine": step("PiecewiseAffine: {nb_rows: 1000}", "transforms.0.PiecewiseAffine"),
        "Superpixels": step(
            "Superpixels: {n_segments: 32767}", "transforms.0.Superpixels.n_segments"
        ),
        "RandomShadow count": step(
            "RandomShadow: {num_shadows_limit: [1, 32767]}",
            "transforms.0.RandomShadow.num_shadows_limit",
        ),
        "RandomShadow vertices": step(
            "RandomShadow: {shadow_dimension: 32767}",
            "transforms.0.RandomShadow.shadow_dimension",
        ),
        "RandomScale": step(
            "RandomScale: {scale_limit: 999999}", "transforms.0.RandomScale.scale_limit"
        ),
        "Affine fit_output": step(
            "Affine: {fit_output: true, scale: 100000}", "transforms.0.Affine.scale"
        ),
        "ToGray channels": step(
            "ToGray: {num_output_channels: 32767}", "transforms.0.ToGray.num_output_channels"
        ),
        "ElasticTransform sigma": step(
            "ElasticTransform: {sigma: 30000}", "transforms.0.ElasticTransform.sigma"
        ),
        "GridElasticDeform cells": step(
            "GridElasticDeform: {num_grid_xy: [32767, 32767], magnitude: 1}",
            "transforms.0.GridElasticDeform.num_grid_xy",
        ),
        "RandomGridShuffle": step(
            "RandomGridShuffle: {grid: [32767, 32767]}", "transforms.0.RandomGridShuffle.grid"
        ),
        "CoarseDropout holes": step(
            "CoarseDropout: {num_holes_range: [32767, 32767], hole_height_range: [0.9, 0.9], "
            "hole_width_range: [0.9, 0.9]}",
            "transforms.0.CoarseDropout.num_holes_range",
        ),
        "Spatter sigma": step(
            "Spatter: {gauss_sigma: [30000, 30000]}", "transforms.0.Spatter.gauss_sigma"
        ),
        "XYMasking masks": step(
            "XYMasking: {num_masks_x: 32767, mask_x_length: 1000}", "transforms.0.XYMasking"
        ),
        "HEStain by dictionary learning": step(
            "HEStain: {method: vahadane}", "transforms.0.HEStain.method"
        ),
        "Pad3D volume": step("Pad3D: {padding: 32767}", "transforms.0.Pad3D.padding"),
        "Affine sampling from 10,000 image sizes away": step(
            "Affine: {scale: 0.0001, border_mode: reflect}", "transforms.0.Affine.scale", "s for"
        ),
        "ShiftScaleRotate shrinking to nothing": step(
            "ShiftScaleRotate: {scale_limit: [-0.9999, -0.9999], border_mode: reflect_101}",
            "transforms.0.ShiftScaleRotate.scale_limit",
        ),
        "ElasticTransform displacing 1e9 pixels": step(
            "ElasticTransform: {alpha: 1000000000, border_mode: reflect}",
            "transforms.0.ElasticTransform.alpha",
        ),
        "SomeOf a billion times": step(
            "SomeOf: {n: 1000000000, replace: true, transforms: [Blur]}",
            "transforms.0.SomeOf.n",
        ),
        "nested SomeOf": step(
            "SomeOf: {n: 40, replace: true, transforms: [{SomeOf: {n: 40, replace: true, "
            "transforms: [Blur]}}]}",
            "transforms",
            "transforms.0.SomeOf",
        ),
        "a thousand cheap steps, twice over": case(
            {"aug.yaml": "version: 1\ntransforms:\n" + "  - HorizontalFlip\n" * 1001},
            field="transforms",
            words="1,001 transforms",
        ),
        "many steps each under the budget": case(
            {"aug.yaml": "version: 1\ntransforms:\n" + "  - {FancyPCA: {p: 1}}\n" * 8},
            field="transforms",
            words="budget",
        ),
    },
    "error storms": {
        "40,000 misspelt transform names": case(
            {"aug.yaml": _misspelt(40_000)}, field="transforms", words="40,000 transforms"
        ),
        "1,000 misspelt transform names": case(
            {"aug.yaml": _misspelt(1_000)}, field="transforms.0", words="unknown transform"
        ),
        "20,000 unknown parameters": case(
            {
                "aug.yaml": "version: 1\ntransforms:\n  - GaussNoise: {"
                + ", ".join(f"stdrange{i}: 1" for i in range(20_000))
                + "}\n"
            },
            field="transforms.0.GaussNoise.stdrange0",
            words="unknown parameter",
        ),
        "20,000 unknown keys": case(
            {"aug.yaml": "version: 1\n" + "".join(f"rotaton_range{i}: 1\n" for i in range(20_000))},
            field="rotaton_range0",
            words="unknown key",
        ),
        "a misspelt name of 500,000 characters": case(
            {"aug.yaml": "version: 1\ntransforms:\n  - " + "GausBlur" * 62_500 + "\n"},
            words="unknown transform",
        ),
    },
    "degenerate values": {
        "value_range [0, 0]": case(
            {"aug.yaml": "version: 1\nvalue_range: [0, 0]\n"}, field="value_range", words="low <"
        ),
        "value_range of ±1e308": case(
            {"aug.yaml": "version: 1\nvalue_range: [-1.0e308, 1.0e308]\n"}, field="value_range"
        ),
        "value_range narrower than float32": case(
            {"aug.yaml": "version: 1\nvalue_range: [1000000, 1000000.01]\n"},
            field="value_range",
        ),
        "cval 1e300": case({"aug.yaml": "version: 1\ncval: 1.0e300\n"}, field="cval"),
        "rescale overflowing float16": case(
            {"aug.yaml": "version: 1\nrescale: 1000\ndtype: float16\n"},
            field="rescale",
            words="float16",
        ),
        "Normalize std 0": step(
            "Normalize: {std: [0, 0, 0]}", "transforms.0.Normalize.std", "at least"
        ),
        "Normalize max_pixel_value 0": step(
            "Normalize: {max_pixel_value: 0}", "transforms.0.Normalize.max_pixel_value"
        ),
        "AdvancedBlur sigma 0": step(
            "AdvancedBlur: {sigma_x_limit: [0, 0]}", "transforms.0.AdvancedBlur.sigma_x_limit"
        ),
        "GaussianBlur without kernel or sigma": step(
            "GaussianBlur: {blur_limit: 0, sigma_limit: [0, 0]}",
            "transforms.0.GaussianBlur.sigma_limit",
        ),
        "RingingOvershoot cutoff 0": step(
            "RingingOvershoot: {cutoff: [0, 0]}", "transforms.0.RingingOvershoot.cutoff"
        ),
        "ShotNoise scale 0": step(
            "ShotNoise: {scale_range: [0, 0]}", "transforms.0.ShotNoise.scale_range"
        ),
        "Downscale to nothing": step(
            "Downscale: {scale_range: [0.000000001, 0.000000001]}",
            "transforms.0.Downscale.scale_range",
        ),
        "Erasing ratio 0": step("Erasing: {ratio: [0, 0]}", "transforms.0.Erasing"),
        "ToFloat dividing by 0": step(
            "ToFloat: {max_value: 0}", "transforms.0.ToFloat.max_value", "NaN or infinite"
        ),
        "Erasing an area no image has room for": step(
            "Erasing: {scale: [0.9, 0.9]}", "transforms.0.Erasing.scale", "no image has room"
        ),
        "RandomShadow region of no area": step(
            "RandomShadow: {shadow_roi: [0.5, 0, 0.5, 1]}", "transforms.0.RandomShadow.shadow_roi"
        ),
        "Superpixels too small for its segments": step(
            "Superpixels: {max_size: 8}", "transforms.0.Superpixels.max_size"
        ),
        "Plasma roughness": step(
            "PlasmaShadow: {roughness: 1000000}", "transforms.0.PlasmaShadow.roughness"
        ),
        "HEStain intensity": step(
            "HEStain: {intensity_scale_range: [1, 700000000]}",
            "transforms.0.HEStain.intensity_scale_range.1",
        ),
    },
    "raw exceptions": {
        "blur_limit 10**5000 from Python": case(
            builder="huge_int", source=None, file=None, words="digits"
        ),
        "a mapping source 5,000 deep": case(
            builder="deep_mapping", source=None, file=None, words="nesting deeper than 64"
        ),
        "a mapping source that holds itself": case(
            builder="cyclic_mapping", source=None, file=None, words="nesting deeper than 64"
        ),
        "a label field named like a target": case(
            {"aug.yaml": "version: 1\nbbox_params: {format: coco, label_fields: [image]}\n"},
            field="bbox_params.label_fields.0",
            words="target",
        ),
        "a label field twice": case(
            {"aug.yaml": "version: 1\nbbox_params: {format: coco, label_fields: [a, a]}\n"},
            field="bbox_params.label_fields.1",
            words="twice",
        ),
        "boxes and keypoints sharing a label field": case(
            {
                "aug.yaml": "version: 1\nbbox_params: {format: coco, label_fields: [labels]}\n"
                "keypoint_params: {format: xy, label_fields: [labels]}\n"
            },
            field="keypoint_params.label_fields.0",
            words="also a label field",
        ),
        "label fields as one string": case(
            {"aug.yaml": "version: 1\nbbox_params: {format: coco, label_fields: labels}\n"},
            field="bbox_params.label_fields",
        ),
    },
    "steps that can never run": {
        "BBoxSafeRandomCrop without bbox_params": step(
            "BBoxSafeRandomCrop", "transforms.0", "bbox_params"
        ),
        "RandomSizedBBoxSafeCrop inside OneOf": step(
            "OneOf: {transforms: [{RandomSizedBBoxSafeCrop: {height: 8, width: 8}}]}",
            "transforms.0.OneOf.transforms.0.RandomSizedBBoxSafeCrop",
            "bbox_params",
        ),
        "albumentations' base class": step("DualTransform", "transforms.0", "cannot be a step"),
        "GlassBlur sigma 0": step("GlassBlur: {sigma: 0}", "transforms.0.GlassBlur.sigma"),
    },
    "lax coercion": {
        "p: '0.5'": step("HorizontalFlip: {p: '0.5'}", "transforms.0.HorizontalFlip.p", "string"),
        "p: true": step("Blur: {p: true}", "transforms.0.Blur.p", "boolean"),
        "blur_limit: '7'": step(
            "Blur: {blur_limit: '7'}", "transforms.0.Blur.blur_limit", "string"
        ),
        "per_channel: 'yes'": step(
            "GaussNoise: {per_channel: 'yes'}", "transforms.0.GaussNoise.per_channel", "string"
        ),
        "per_channel: 1": step(
            "GaussNoise: {per_channel: 1}", "transforms.0.GaussNoise.per_channel", "boolean"
        ),
        "a composite's p: '1'": step(
            "OneOf: {p: '1', transforms: [Blur]}", "transforms.0.OneOf.p", "number"
        ),
        "bbox_params.clip: 'yes'": case(
            {"aug.yaml": "version: 1\nbbox_params: {format: coco, clip: 'yes'}\n"},
            field="bbox_params.clip",
            words="string",
        ),
        "bbox_params.min_area: '4'": case(
            {"aug.yaml": "version: 1\nbbox_params: {format: coco, min_area: '4'}\n"},
            field="bbox_params.min_area",
            words="string",
        ),
        "keypoint_params.remove_invisible: 0": case(
            {"aug.yaml": "version: 1\nkeypoint_params: {format: xy, remove_invisible: 0}\n"},
            field="keypoint_params.remove_invisible",
        ),
    },
}


# ---- builders of sources that only Python can give ------------------------------------


def _deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


def _cyclic() -> dict[str, Any]:
    data: dict[str, Any] = {"version": 1}
    data["self"] = data
    return data


BUILDERS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "huge_int": lambda: (
        {"version": 1, "transforms": [{"Blur": {"blur_limit": 10**5000}}]},
        None,
    ),
    "deep_mapping": lambda: ({"version": 1, "x": _deep(5_000)}, None),
    "cyclic_mapping": lambda: (_cyclic(), None),
    "deep_override": lambda: ("aug.yaml", {"x": _deep(5_000)}),
}


# ---- the runner (in the subprocess) ---------------------------------------------------


def _size(folder: Path, overrides: Any) -> int:
    """The bytes of the case's files and of its ``key=value`` overrides."""
    files = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    if isinstance(overrides, list):
        files += sum(len(item) for item in overrides)
    return files


def run_case(folder: Path, spec: Case) -> dict[str, Any]:
    """Load one case inside ``folder``, counting its Python calls (stopped at the bound)."""
    import confaug
    from tests.helpers import WorkLimitExceeded, python_calls

    for name, text in spec["files"].items():
        (folder / name).write_text(text, encoding="utf-8")
    if spec["fifo"]:
        os.mkfifo(folder / spec["fifo"])
    if spec["folder"]:
        (folder / spec["folder"]).mkdir()
    source, overrides = spec["source"], spec["overrides"]
    if spec["builder"]:
        source, overrides = BUILDERS[spec["builder"]]()
    limit = CALLS + CALLS_PER_BYTE * _size(folder, overrides)
    result: dict[str, Any] = {"limit": limit}
    try:
        with python_calls(limit=limit) as calls:
            try:
                confaug.load_pipeline(source, overrides=overrides)
                result["outcome"] = "valid"
            except confaug.ConfigError as error:
                result["outcome"] = "ConfigError"
                result["problems"] = [problem.to_dict() for problem in error.problems]
                result["hints"] = sum(problem.hint is not None for problem in error.problems)
                result["text"] = str(error)[:2000]
            except Exception as error:  # what the issue is about: must never happen
                result["outcome"] = f"raw {type(error).__name__}: {error}"[:500]
        result["calls"] = calls.value
    except WorkLimitExceeded as error:
        result["outcome"] = f"unbounded work: {error}"
    return result


def warm() -> None:
    """Import albumentations and build the catalog and the option models, outside the counts."""
    import confaug

    confaug.load_pipeline(
        {
            "version": 1,
            "transforms": [{"GaussNoise": {"p": 0.1}}, {"OneOf": {"transforms": ["Blur"]}}],
            "bbox_params": {"format": "coco", "label_fields": ["labels"]},
            "keypoint_params": {"format": "xy"},
        }
    )


def run_in_folder(spec: Case) -> dict[str, Any]:
    """One case in a fresh temporary folder, its working directory (run by ``run_cases``)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        return run_case(Path(folder), spec)


def main(category: str, output: str) -> None:
    """Every case of ``category``, for a look by hand; writes the results to ``output``."""
    warm()
    results = {name: run_in_folder(spec) for name, spec in CATEGORIES[category].items()}
    Path(output).write_text(json.dumps(results), encoding="utf-8")


@pytest.fixture(scope="module")
def results() -> Callable[[str], dict[str, Any]]:
    """Every case of every category in one fresh interpreter (``run_cases``)."""
    got = run_cases(
        "tests.test_hostile_configs_load:run_in_folder",
        {f"{category}: {name}": spec for category, name, spec in _every_case()},
        setup="tests.test_hostile_configs_load:warm",
        what="loading the hostile configs",
    )
    return lambda key: got[key]


def _every_case() -> list[tuple[str, str, Case]]:
    return [(c, name, spec) for c, cases in CATEGORIES.items() for name, spec in cases.items()]


ALL = [(category, name) for category, cases in CATEGORIES.items() for name in cases]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
@pytest.mark.parametrize(("category", "name"), ALL, ids=[f"{c}: {n}" for c, n in ALL])
def test_hostile_config_is_refused_in_place_within_bounded_work(
    results: Callable[[str], dict[str, Any]], category: str, name: str
) -> None:
    spec = CATEGORIES[category][name]
    got = results(f"{category}: {name}")
    if spec["valid"]:
        assert got["outcome"] == "valid", got
        return
    assert got["outcome"] == "ConfigError", got
    problems = got["problems"]
    assert problems, got
    # The hint work is capped: a storm gives at most MAX_HINTS hints.
    from confaug.errors import MAX_HINTS

    assert got["hints"] <= MAX_HINTS
    first = problems[0]
    if spec["field"] is not None:  # the field, or a part of it (the parameter to blame)
        placed = [p for p in problems if p["field"].startswith(spec["field"])]
        assert placed, got["text"]
        first = placed[0]
    assert spec["words"] in first["message"], got["text"]
    if spec["file"] is not None:  # a file's problem is placed in it
        assert first["file"] == spec["file"], first
        assert first["line"] is not None and first["column"] is not None, first
    else:  # an override's or Python's: named by its field, never blamed on a file
        assert first["file"] is None or first["file"].startswith("<override"), first
    assert "\n" not in first["message"]


def test_every_category_of_the_issue_has_cases() -> None:
    assert len(CATEGORIES) >= 8 and all(len(cases) >= 4 for cases in CATEGORIES.values())


if __name__ == "__main__":  # pragma: no cover - for a look at one category by hand
    main(sys.argv[1], sys.argv[2])


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("version: 1\nextends: []\n", "extends"),
        ("version: 1\nbbox_params: {format: coco, label_fields: [image]}\n", "bbox_params"),
        ("version: 1\ntransforms: [{GlassBlur: {iterations: 32767}}]\n", "transforms"),
    ],
)
def test_confaug_validate_reports_json_not_a_traceback(
    write: Callable[[str, str], Path],
    cli: Callable[..., tuple[int, str, str]],
    text: str,
    field: str,
) -> None:
    write("aug.yaml", text)
    code, out, err = cli("validate", "--format", "json", "aug.yaml")
    assert code == 1, out + err
    assert "Traceback" not in out + err
    report = json.loads(out[out.index("{") :])
    (entry,) = report["files"]
    assert not entry["valid"] and entry["problems"][0]["field"].startswith(field), report
    assert entry["problems"][0]["line"] is not None


def test_a_load_pauses_the_cyclic_collector_and_gives_it_back(
    write: Callable[[str, str], Path],
) -> None:
    """Reading pauses the collector (it rescanned the growing heap: half a big load's time);
    a load, good or refused, turns it back on, and leaves it off for a caller that had it off."""
    import gc

    import confaug
    from confaug.errors import ConfigError
    from confaug.reading import yaml_io

    write("base.yaml", "version: 1\nrotation_range: 5\n")
    write("aug.yaml", "extends: base.yaml\nhorizontal_flip: true\n")
    write("bad.yaml", "extends: base.yaml\nrotation_range: [1, 2, 3\n")
    seen: list[bool] = []
    real = yaml_io.parse_yaml

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    assert gc.isenabled()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("confaug.reading.extends.parse_yaml", spy)
        assert confaug.load_spec("aug.yaml").rotation_range == 5
        assert gc.isenabled()
        with pytest.raises(ConfigError):
            confaug.load_spec("bad.yaml")
        assert gc.isenabled()
        gc.disable()
        try:
            confaug.load_spec("aug.yaml")
            assert not gc.isenabled()
        finally:
            gc.enable()
    assert seen and not any(seen)  # every file was read with the collector off
