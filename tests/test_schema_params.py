"""Transform parameters in the schema: albumentations' descriptions and defaults, what is
required, the named constants, and the docstring reader behind them."""

from __future__ import annotations

import inspect
import warnings
from functools import cache
from typing import Any

import pytest

import confaug
from confaug.resources import preset_names
from confaug.spec.catalog import catalog, check_params
from confaug.spec.param_docs import NO_DEFAULT, json_default, param_docs, parse_args_section
from confaug.spec.schema import ONE_OF_TWO

jsonschema = pytest.importorskip("jsonschema")

DOC = """Make a picture wobble.

    Args:
        amount (tuple[float, float] | Literal["a:b"]): How far it wobbles, as a
            fraction of the side.
            Default: (0.1, 0.2).
        mode: Either of
            - "soft": gentle
            - "hard": not gentle

        plain (int):
            Text on the next line only.
        left, right (bool): Two at once.

    Targets:
        image

    Note:
        ignored (int): not an argument.
"""


def test_args_section_is_read_entry_by_entry() -> None:
    found = parse_args_section(DOC)
    assert found == {
        "amount": "How far it wobbles, as a fraction of the side.\nDefault: (0.1, 0.2).",
        "mode": 'Either of\n- "soft": gentle\n- "hard": not gentle',
        "plain": "Text on the next line only.",
        "left": "Two at once.",
        "right": "Two at once.",
    }
    assert parse_args_section("No sections here.") == {}
    assert parse_args_section(None) == {}


@cache
def _variants() -> dict[str, dict[str, Any]]:
    variants = confaug.json_schema()["$defs"]["step"]["anyOf"]
    return {
        next(iter(v["properties"])): v["properties"][next(iter(v["properties"]))]
        for v in variants
        if "properties" in v
    }


def _transform_params() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, param, node)
        for name, variant in _variants().items()
        if not catalog()[name].composite
        for param, node in variant["properties"].items()
    ]


def test_almost_every_parameter_is_described_by_albumentations() -> None:
    params = _transform_params()
    described = [node for _, _, node in params if node.get("description")]
    assert len(params) > 500
    # ~538: all but the two albumentations leaves undocumented (Mosaic's fit_mode,
    # PlasmaShadow's plasma_size); the undocumented border modes get confaug's own note.
    assert len(params) - len(described) <= 3, [
        (n, p) for n, p, node in params if not node.get("description")
    ]
    noise = _variants()["GaussNoise"]["properties"]["std_range"]["description"]
    assert "standard deviation" in noise
    assert _variants()["GaussNoise"]["description"].startswith("Apply Gaussian noise")


def test_every_default_is_the_constructors_own() -> None:
    for name, param, node in _transform_params():
        signature = inspect.signature(catalog()[name].cls.__init__).parameters[param]
        if signature.default is inspect.Parameter.empty:
            assert "default" not in node, (name, param)
            continue
        wanted = json_default(param, signature.default)
        if wanted is NO_DEFAULT:
            assert "default" not in node, (name, param)
        else:
            assert node["default"] == wanted, (name, param)
    assert _variants()["GaussNoise"]["properties"]["p"]["default"] == 0.5
    assert _variants()["Affine"]["properties"]["border_mode"]["default"] == "constant"


def test_a_default_is_a_value_the_schema_accepts() -> None:
    # Completion inserts defaults: an editor must not flag what it wrote itself.
    bad = [
        (name, param, node["default"])
        for name, param, node in _transform_params()
        if "default" in node
        and list(
            jsonschema.Draft202012Validator({**node, "$defs": _defs()}).iter_errors(node["default"])
        )
    ]
    assert bad == []


# Defaults that the schema documents but confaug's cost budget refuses (spec/cost_rules).
OVER_BUDGET_AT_DEFAULTS = {"PiecewiseAffine"}


def test_writing_every_default_out_builds_the_constructors_own_transform() -> None:
    # What completion inserts (border and interpolation names, lists for tuples) must mean
    # what the constructor's defaults mean: built through confaug, the same transform.
    built = 0
    for name, info in catalog().items():
        docs = param_docs(name)
        if info.composite or name in ONE_OF_TWO or name in OVER_BUDGET_AT_DEFAULTS:
            continue
        if any(doc.required for doc in docs.values()):
            continue
        written = {k: doc.default for k, doc in docs.items() if doc.default is not NO_DEFAULT}
        config: dict[str, Any] = {"transforms": [{name: written}]}
        if name == "BBoxSafeRandomCrop":  # it needs boxes to crop around
            config["bbox_params"] = {"format": "pascal_voc"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mine = confaug.load_pipeline(config).compose.transforms[0]
            plain = info.cls()
        assert mine.to_dict() == plain.to_dict(), name
        built += 1
    assert built > 80


@cache
def _defs() -> dict[str, Any]:
    return confaug.json_schema()["$defs"]


REQUIRED = {
    "AtLeastOneBBoxRandomCrop": ["height", "width"],
    "CenterCrop": ["height", "width"],
    "CenterCrop3D": ["size"],
    "CropNonEmptyMaskIfExists": ["height", "width"],
    "GridElasticDeform": ["num_grid_xy", "magnitude"],
    "Pad3D": ["padding"],
    "RandomCrop": ["height", "width"],
    "RandomCrop3D": ["size"],
    "RandomResizedCrop": ["size"],
    "RandomSizedBBoxSafeCrop": ["height", "width"],
    "RandomSizedCrop": ["min_max_height", "size"],
    "Resize": ["height", "width"],
}


def test_required_parameters_are_required() -> None:
    found = {name: v["required"] for name, v in _variants().items() if "required" in v}
    found = {k: v for k, v in found.items() if not catalog()[k].composite}
    assert found == REQUIRED
    for name in REQUIRED:
        assert _variants()[name]["type"] == "object", name  # not null, not a bare name
        assert check_params(catalog()[name], {}), name  # albumentations agrees


# A value for each side of ONE_OF_TWO's pairs.
SAMPLES: dict[str, dict[str, Any]] = {
    "CropAndPad": {"px": 4, "percent": 0.1},
    "LongestMaxSize": {"max_size": 64, "max_size_hw": [64, 64]},
    "SmallestMaxSize": {"max_size": 64, "max_size_hw": [64, 64]},
    "PadIfNeeded3D": {"min_zyx": [4, 4, 4], "pad_divisor_zyx": [2, 2, 2]},
}


def test_one_of_two_is_what_albumentations_checks() -> None:
    # Every transform albumentations refuses without parameters, beyond the required ones.
    refused = {
        name
        for name, info in catalog().items()
        if not info.composite and name not in REQUIRED and check_params(info, {})
    }
    assert refused == set(ONE_OF_TWO)
    validator = jsonschema.Draft202012Validator(confaug.json_schema())
    for name, ((first, second), exclusive) in ONE_OF_TWO.items():
        info = catalog()[name]
        both = {first: SAMPLES[name][first], second: SAMPLES[name][second]}
        for params, accepted in [
            ({first: both[first]}, True),
            ({second: both[second]}, True),
            ({first: both[first], second: None}, True),
            (both, not exclusive),
            ({first: None}, False),
        ]:
            assert (check_params(info, params) == []) is accepted, (name, params)
            config = {"transforms": [{name: params}]}
            assert validator.is_valid(config) is accepted, (name, params)


def test_named_constants_are_exactly_what_confaug_accepts() -> None:
    checked = set()
    for name, param, node in _transform_params():
        if param not in ("border_mode", "interpolation", "mask_interpolation"):
            continue
        info = catalog()[name]
        base = {p: v for p, v in SAMPLES.get(name, {}).items() if p != "max_size_hw"}
        base.pop("percent", None)
        base.update({p: 8 for p in REQUIRED.get(name, [])})
        if any(p in base for p in ("size", "num_grid_xy", "min_max_height", "padding")):
            continue  # their required values are not single numbers
        for value in node["enum"]:
            assert check_params(info, {**base, param: value}) == [], (name, param, value)
        for value in (7, 99, "cubic", True):
            assert check_params(info, {**base, param: value}), (name, param, value)
        checked.add(name)
    assert len(checked) > 20


def test_compose_options_are_known_keys_with_types_and_descriptions() -> None:
    properties = confaug.json_schema()["properties"]
    bbox = properties["bbox_params"]["anyOf"][0]
    assert bbox["additionalProperties"] is False
    assert bbox["required"] == ["format"]
    assert bbox["properties"]["min_visibility"]["type"] == "number"
    assert all(node.get("description") for node in bbox["properties"].values())
    keypoints = properties["keypoint_params"]["anyOf"][0]
    assert "xy" in keypoints["properties"]["format"]["enum"]
    assert keypoints["properties"]["remove_invisible"]["default"] is True


def test_extends_offers_exactly_the_shipped_presets() -> None:
    one = confaug.json_schema()["properties"]["extends"]["anyOf"][0]
    assert one["anyOf"][0]["enum"] == [f"preset:{name}" for name in preset_names()]
