"""Round 6 of the config probe, the JSON Schema's part: albumentations' bounds on the numbers of
range parameters, Affine's {x, y} mappings, composites by name alone, the flat step limit."""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import confaug
from confaug import ConfigError, resources
from confaug.spec.catalog import AXIS_MAPPINGS, catalog
from confaug.spec.cost import MAX_STEPS
from confaug.spec.schema import item_bounds
from tests import test_editor_lsp
from tests.test_editor_lsp import LspClient, assert_flagged_and_refused


@cache
def _schema() -> dict[str, Any]:
    return confaug.json_schema()


@cache
def _validator() -> Any:
    return jsonschema.Draft202012Validator(_schema())


@cache
def _shipped_validator() -> Any:
    text = (resources.schemas_dir() / "confaug.schema.json").read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def _validator_takes(config: dict[str, Any], time_budget: float = 2.0) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            confaug.load_spec(config, time_budget=time_budget)
    except ConfigError:
        return False
    return True


def _step(name: str, **params: Any) -> dict[str, Any]:
    return {"transforms": [{name: params}]}


# ---- albumentations' AfterValidator bounds ------------------------------------------------

#: Values the validator refuses at one number of a range (pair and scalar forms).
OUT_OF_BOUNDS: dict[str, dict[str, Any]] = {
    "gauss_noise_std_negative": _step("GaussNoise", std_range=[-1, -1]),
    "gauss_noise_std_above_one": _step("GaussNoise", std_range=[0.5, 1.5]),
    "clahe_clip_zero_scalar": _step("CLAHE", clip_limit=0),
    "clahe_clip_zero_pair": _step("CLAHE", clip_limit=[0, 4]),
    "downscale_negative": _step("Downscale", scale_range=[-0.1, 0.5]),
    "image_compression_above_100": _step("ImageCompression", quality_range=[50, 101]),
    "image_compression_zero": _step("ImageCompression", quality_range=[0, 50]),
    "advanced_blur_negative_sigma": _step("AdvancedBlur", sigma_x_limit=[-1, -1]),
    "coarse_dropout3d_depth": _step("CoarseDropout3D", hole_depth_range=[-1, -1]),
    "random_gamma_below_one_scalar": _step("RandomGamma", gamma_limit=0.5),
    "rain_slant": _step("RandomRain", slant_range=[-46, 0]),
    "illumination_intensity": _step("Illumination", intensity_range=[0.005, 0.1]),
    "ringing_cutoff": _step("RingingOvershoot", cutoff=[0.5, 3.2]),
    "spatter_mean_scalar": _step("Spatter", mean=1.5),
    "unsharp_sigma_negative_scalar": _step("UnsharpMask", sigma_limit=-1),
}

#: The same parameters at their bounds' ends (or inside): the schema takes them.
AT_THE_BOUNDS: dict[str, dict[str, Any]] = {
    "gauss_noise_std": _step("GaussNoise", std_range=[0, 1]),
    "clahe_clip_one_scalar": _step("CLAHE", clip_limit=1),
    "clahe_clip_pair": _step("CLAHE", clip_limit=[1, 4]),
    "downscale": _step("Downscale", scale_range=[0.25, 1]),
    "image_compression": _step("ImageCompression", quality_range=[1, 100]),
    "random_gamma_scalar": _step("RandomGamma", gamma_limit=120),
    "rain_slant": _step("RandomRain", slant_range=[-45, 45]),
    "illumination_intensity": _step("Illumination", intensity_range=[0.01, 0.2]),
    "ringing_cutoff": _step("RingingOvershoot", cutoff=[0.5, 3.141592653589793]),
    "spatter_mean_scalar": _step("Spatter", mean=0.5),
    "unsharp_sigma_scalar": _step("UnsharpMask", sigma_limit=0),
}


@pytest.mark.parametrize("name", sorted(OUT_OF_BOUNDS))
def test_the_schema_refuses_numbers_outside_albumentations_bounds(name: str) -> None:
    config = OUT_OF_BOUNDS[name]
    assert not _validator_takes(config), config
    assert list(_validator().iter_errors(config)), config
    assert list(_shipped_validator().iter_errors(config)), "regenerate schemas/"


@pytest.mark.parametrize("name", sorted(AT_THE_BOUNDS))
def test_the_schema_takes_the_ends_of_those_bounds(name: str) -> None:
    config = AT_THE_BOUNDS[name]
    assert _validator_takes(config), config
    assert list(_validator().iter_errors(config)) == [], config


def test_bounds_are_read_from_albumentations_not_listed() -> None:
    """Every ``check_range_bounds`` / non-negative range albumentations states is read: ~90
    parameters today, among them the probe's examples; none where the steps before the check
    change the numbers (``float2int`` after it is fine: the check saw the numbers as written)."""
    bounds = {
        (name, param): item_bounds(name, param)
        for name, info in catalog().items()
        for param in info.params
    }
    found = {key: bound for key, bound in bounds.items() if bound is not None}
    assert len(found) >= 80
    assert found[("GaussNoise", "std_range")] == (0, 1, False, False)
    assert found[("ImageCompression", "quality_range")] == (1, 100, False, False)
    assert found[("CLAHE", "clip_limit")][:2] == (1, float("inf"))
    assert found[("XYMasking", "num_masks_x")][:2] == (0, float("inf"))
    assert ("Blur", "blur_limit") not in found  # no AfterValidator bound there


@cache
def _parameter_validator(name: str, param: str) -> Any:
    """The schema of one parameter alone (with its transform's ``$defs``, all it may refer
    to): quicker to run than the whole schema's union of steps."""
    schema = _schema()
    variant = next(v for v in schema["$defs"]["step"]["anyOf"] if name in v.get("properties", {}))
    node = variant["properties"][name]["properties"][param]
    own = {k: v for k, v in schema["$defs"].items() if k.startswith(f"{name}__")}
    return jsonschema.Draft202012Validator({**node, "$defs": own})


def test_every_read_bound_is_one_the_validator_holds() -> None:
    """At each read bound: where the validator takes an end itself (as a pair and as a
    scalar), so does the schema — it never refuses what the validator takes; a pair just
    beyond either end is refused by both."""
    checked = 0
    for name, info in catalog().items():
        for param in info.params:
            bound = item_bounds(name, param)
            if bound is None:
                continue
            least, most, _, _ = bound
            ends = [least] if math.isinf(most) else [least, most]
            schema = _parameter_validator(name, param)
            for end in ends:
                for form in ([end, end], end):
                    if _validator_takes(_step(name, **{param: form})):
                        assert schema.is_valid(form), (name, param, form)
                        checked += 1
            beyond = [least - 0.01] if math.isinf(most) else [least - 0.01, most + 0.01]
            for value in beyond:
                assert not _validator_takes(_step(name, **{param: [value, value]})), (name, param)
                assert not schema.is_valid([value, value]), (name, param, value)
    assert checked > 80


# ---- Affine's {x, y} mappings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "mapping"),
    [
        ("translate_percent", {"x": 0.0, "yy": 0.5}),
        ("scale", {"x": [0.9, 1.1], "z": 2}),
        ("translate_px", {"x": 5, "width": 100}),
        ("shear", {"x": 10, "z": 45}),
        ("scale", {"x": 1, "y": 1, "rotate": 45}),
        ("scale", {}),
    ],
)
def test_the_schema_refuses_other_keys_in_affines_xy_mappings(
    param: str, mapping: dict[str, Any]
) -> None:
    config = _step("Affine", **{param: mapping})
    assert not _validator_takes(config), config  # catalog.py's check (another helper's)
    assert list(_validator().iter_errors(config)), config
    assert list(_shipped_validator().iter_errors(config)), "regenerate schemas/"


@pytest.mark.parametrize(
    ("param", "mapping"),
    [
        ("translate_percent", {"x": 0.1}),
        ("translate_percent", {"y": [-0.1, 0.1]}),
        ("scale", {"x": [0.9, 1.1], "y": 1}),
        ("translate_px", {"x": 5, "y": [-3, 3]}),
        ("shear", {"y": 10}),
    ],
)
def test_the_schema_takes_x_and_y_in_those_mappings(param: str, mapping: dict[str, Any]) -> None:
    config = _step("Affine", **{param: mapping})
    assert _validator_takes(config), config
    assert list(_validator().iter_errors(config)) == [], config


def test_the_xy_mappings_are_affines_dict_parameters() -> None:
    """``catalog.AXIS_MAPPINGS`` (another helper's, round 6) names every parameter of Affine
    albumentations types as a mapping, and the schema holds each of them to x and y."""
    properties = next(
        v["properties"]["Affine"]["properties"]
        for v in _schema()["$defs"]["step"]["anyOf"]
        if "Affine" in v.get("properties", {})
    )
    mappings = {
        param
        for param, node in properties.items()
        if any(branch.get("type") == "object" for branch in node.get("anyOf", [node]))
    }
    assert mappings == set(AXIS_MAPPINGS["Affine"])
    for param in mappings:
        branch = next(b for b in properties[param]["anyOf"] if b.get("type") == "object")
        assert branch["propertyNames"] == {"enum": ["x", "y"]}
        assert set(branch["properties"]) == {"x", "y"}


# ---- composites by name alone, and the flat step limit ------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, info in catalog().items() if info.composite))
def test_a_composite_by_its_name_alone_is_refused_by_both(name: str) -> None:
    config = {"transforms": [name]}
    assert not _validator_takes(config), config
    assert list(_validator().iter_errors(config)), config
    assert list(_shipped_validator().iter_errors(config)), "regenerate schemas/"


def test_a_transforms_list_longer_than_the_step_limit_is_refused_by_both() -> None:
    config = {"transforms": ["HorizontalFlip"] * (MAX_STEPS + 1)}
    hour = 3600.0  # the cost budget's most: 1,000 flips are ~15 s of the reference's work
    assert not _validator_takes(config, hour)
    assert list(_validator().iter_errors(config))
    assert list(_shipped_validator().iter_errors(config)), "regenerate schemas/"
    at_the_limit = {"transforms": ["HorizontalFlip"] * MAX_STEPS}
    assert _validator_takes(at_the_limit, hour)
    assert list(_validator().iter_errors(at_the_limit)) == []
    children = {"transforms": [{"OneOf": {"transforms": ["HorizontalFlip"] * MAX_STEPS}}]}
    assert not _validator_takes(children, hour)
    assert list(_validator().iter_errors(children))
    inside = {"transforms": [{"OneOf": {"transforms": ["HorizontalFlip"] * (MAX_STEPS - 1)}}]}
    assert _validator_takes(inside, hour)
    assert list(_validator().iter_errors(inside)) == []


# ---- integral floats for integer parameters: the validator's, not the schema's -------------


def test_an_integral_float_is_an_integer_to_json_schema() -> None:
    """JSON Schema counts 3.0 as an integer, so no schema keyword refuses it where the
    validator does (typed strictly): left to ``confaug validate``."""
    config = _step("Blur", blur_limit=[3.0, 7.0])
    assert list(_validator().iter_errors(config)) == []


# ---- in the editor -------------------------------------------------------------------------

lsp_editor = test_editor_lsp.editor  # its fixture, under a name of this module's
EDITOR_REFUSES = {
    "gauss_noise_std": "transforms:\n  - GaussNoise: {std_range: [-1, -1]}\n",
    "image_compression": "transforms:\n  - ImageCompression: {quality_range: [0, 101]}\n",
    "affine_yy": "transforms:\n  - Affine: {translate_percent: {x: 0.0, yy: 0.5}}\n",
    "bare_one_of": "transforms:\n  - OneOf\n",
}


@pytest.mark.parametrize("name", sorted(EDITOR_REFUSES))
def test_an_editor_flags_these_values_confaug_refuses(
    lsp_editor: tuple[LspClient, Path], name: str
) -> None:
    assert_flagged_and_refused(lsp_editor, f"probe6_{name}", EDITOR_REFUSES[name])
