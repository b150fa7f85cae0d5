"""The JSON Schema: generated from the spec models, shipped in schemas/, never stale."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

import confaug
from confaug import resources
from confaug.spec.catalog import EXCLUDED, transform_names
from confaug.spec.model import Spec
from confaug.spec.schema import schema_text
from tests.helpers import ROOT, run_python

jsonschema = pytest.importorskip("jsonschema")

REGENERATE = (
    "schemas/confaug.schema.json is stale; regenerate it with\n"
    "    confaug schema -o schemas/confaug.schema.json\n"
    "or\n"
    '    python -c "from confaug.spec.schema import schema_text; '
    "open('schemas/confaug.schema.json', 'w', encoding='utf-8').write(schema_text())\"\n"
    "and commit the result."
)


@cache
def schema() -> dict[str, Any]:
    return confaug.json_schema()


@cache
def validator() -> Any:
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema())
    return cls(schema())


def errors(config: Any) -> list[str]:
    return [error.message for error in validator().iter_errors(config)]


def test_shipped_schema_is_not_stale() -> None:
    shipped = resources.schemas_dir() / "confaug.schema.json"
    assert shipped.is_file(), REGENERATE
    assert shipped.read_text(encoding="utf-8") == schema_text(), REGENERATE


def test_schema_text_is_deterministic() -> None:
    assert schema_text() == schema_text()
    assert json.loads(schema_text()) == schema()


def _variants() -> dict[str, Any]:
    """Each transform's parameters schema, by name."""
    variants = schema()["$defs"]["step"]["anyOf"]
    return {
        next(iter(v["properties"])): v["properties"][next(iter(v["properties"]))]
        for v in variants
        if "properties" in v
    }


def test_schema_lists_every_transform_and_no_excluded_one() -> None:
    names = list(_variants())
    assert names == transform_names()
    assert len(names) > 100
    assert {"GaussNoise", "Affine", "OneOf", "SomeOf", "Sequential"} <= set(names)
    assert not set(names) & EXCLUDED
    # A bare name: every transform that can run with its defaults, and only those.
    bare = schema()["$defs"]["transform_name"]["enum"]
    assert {"HorizontalFlip", "GaussNoise"} <= set(bare) < set(names)
    assert not {"RandomCrop", "Resize", "LongestMaxSize", "CropAndPad"} & set(bare)


def test_schema_describes_each_transforms_parameters() -> None:
    by_name = _variants()
    gauss = by_name["GaussNoise"]
    assert {"std_range", "mean_range", "p"} <= set(gauss["properties"])
    assert gauss["additionalProperties"] is False
    assert gauss["properties"]["p"]["default"] == 0.5
    border = by_name["Affine"]["properties"]["border_mode"]["enum"]
    names = ["constant", "nearest", "reflect", "reflect_101", "replicate", "wrap"]
    assert border == [*names, 0, 1, 2, 3, 4]
    assert set(by_name["SomeOf"]["properties"]) == {"p", "n", "replace", "transforms"}


def test_schema_covers_every_spec_key() -> None:
    # Besides the spec: its parents, and the editor's pointer to this schema (ignored).
    assert set(schema()["properties"]) == set(Spec.model_fields) | {"extends", "$schema"}
    assert schema()["additionalProperties"] is False


GOOD: list[Any] = [
    {"version": 1},
    {"extends": "base.yaml", "rotation_range": 5},
    {
        "version": 1,
        "extends": ["a.yaml", "preset:classification_light"],
        "data_format": "channels_last",
        "fill_mode": "reflect",
        "cval": 0,
        "rotation_range": 15,
        "width_shift_range": 0.1,
        "height_shift_range": [-3, 3],
        "zoom_range": [0.9, 1.25],
        "horizontal_flip": True,
        "brightness_range": [0.5, 1.5],
        "rescale": "1/255",
        "value_range": "auto",
        "transforms": [
            {"GaussNoise": {"std_range": [0.02, 0.08], "p": 0.3}},
            "HorizontalFlip",
            {"ToGray": None},
            {
                "OneOf": {
                    "p": 0.5,
                    "transforms": [
                        {"MotionBlur": {"blur_limit": 5}},
                        {"GaussianBlur": {"blur_limit": [3, 5]}},
                    ],
                }
            },
            {"Affine": {"rotate": [-5, 5], "border_mode": "reflect", "interpolation": "bicubic"}},
            {"Affine": {"border_mode": 4, "interpolation": 1}},
            {"RandomCrop": {"height": 32, "width": 32}},
            {"LongestMaxSize": {"max_size": 256}},
            {"LongestMaxSize": {"max_size": None, "max_size_hw": [256, None]}},
            {"PadIfNeeded3D": {"min_zyx": [4, 4, 4], "pad_divisor_zyx": [2, 2, 2]}},
            {"OneOrOther": {"transforms": ["HorizontalFlip", "VerticalFlip"]}},
        ],
        "bbox_params": {"format": "coco", "min_visibility": 0.1, "label_fields": ["labels"]},
        "keypoint_params": {"format": "xy"},
    },
    {"extends": "preset:keras_seed"},
    {"rotation_range": 3},  # version may be left out: the current format
]
BAD: list[tuple[Any, str]] = [
    ({"version": 2}, "1 was expected"),
    ({"version": 1, "rotaton_range": 3}, "rotaton_range"),
    ({"version": 1, "fill_mode": "mirror"}, "mirror"),
    ({"version": 1, "transforms": ["Nope"]}, "Nope"),
    ({"version": 1, "transforms": [{"GaussNoise": {"std_rnge": 1}}]}, "GaussNoise"),
    ({"version": 1, "transforms": [{"OneOf": {"p": 1.5, "transforms": []}}]}, "OneOf"),
    ({"version": 1, "transforms": [{"OneOf": {"p": 0.5}}]}, "OneOf"),
    ({"version": 1, "transforms": {"Blur": {}}}, "not of type 'array'"),
    ({"version": 1, "zoom_range": [1, 2, 3]}, "not valid"),
    ({"version": 1, "additional_targets": {"x": "picture"}}, "picture"),
    # Required parameters, alone or one of two.
    ({"transforms": ["RandomCrop"]}, "RandomCrop"),
    ({"transforms": [{"RandomCrop": None}]}, "RandomCrop"),
    ({"transforms": [{"RandomCrop": {"height": 32}}]}, "RandomCrop"),
    ({"transforms": [{"LongestMaxSize": {}}]}, "LongestMaxSize"),
    ({"transforms": [{"LongestMaxSize": {"max_size": 8, "max_size_hw": [8, 8]}}]}, "Longest"),
    ({"transforms": [{"PadIfNeeded3D": {"min_zyx": None}}]}, "PadIfNeeded3D"),
    # Named constants only.
    ({"transforms": [{"Affine": {"border_mode": 7}}]}, "Affine"),
    ({"transforms": [{"Resize": {"height": 8, "width": 8, "interpolation": 99}}]}, "Resize"),
    ({"transforms": [{"Affine": {"interpolation": "cubic"}}]}, "Affine"),
    # OneOrOther has two children.
    ({"transforms": [{"OneOrOther": {"transforms": ["Blur"]}}]}, "OneOrOther"),
    ({"transforms": [{"OneOrOther": {"transforms": ["Blur"] * 3}}]}, "OneOrOther"),
    # Compose options: known keys, typed.
    ({"bbox_params": {"format": "coco", "min_visibilty": 0.1}}, "min_visibilty"),
    ({"bbox_params": {"format": "voc"}}, "voc"),
    ({"bbox_params": {"min_area": 1}}, "min_area"),
    ({"keypoint_params": {"format": "xy", "remove_invisible": "yes"}}, "yes"),
    # Shipped presets only.
    ({"extends": "preset:lite"}, "preset:lite"),
    ({"extends": ["base.yaml", "preset:lite"]}, "preset:lite"),
    # A pair's items.
    ({"transforms": [{"GaussNoise": {"std_range": [0.1, "x"]}}]}, "GaussNoise"),
]


@pytest.mark.parametrize("config", GOOD)
def test_valid_configs_validate(config: Any) -> None:
    assert errors(config) == []


@pytest.mark.parametrize(("config", "words"), BAD)
def test_invalid_configs_fail(config: Any, words: str) -> None:
    found = errors(config)
    assert found, config
    assert any(words in message for message in found), found


def test_presets_declare_and_satisfy_the_schema() -> None:
    import yaml

    presets = sorted(resources.presets_dir().glob("*.yaml"))
    if not presets:
        pytest.skip("no shipped presets yet")
    for path in presets:
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path.name
        assert first.rstrip().endswith("confaug.schema.json"), path.name
        assert errors(yaml.safe_load(text)) == [], path.name


def _without_prefix_items(node: Any) -> Any:
    """The schema as a client that predates ``prefixItems`` reads it."""
    if isinstance(node, dict):
        return {k: _without_prefix_items(v) for k, v in node.items() if k != "prefixItems"}
    if isinstance(node, list):
        return [_without_prefix_items(v) for v in node]
    return node


def test_pairs_are_checked_by_clients_that_ignore_prefix_items() -> None:
    old = jsonschema.Draft7Validator(_without_prefix_items(schema()))
    for value in ([0.1, "x"], ["x", 0.1], [0.1, None]):
        config = {"transforms": [{"GaussNoise": {"std_range": value}}]}
        assert list(old.iter_errors(config)), value
    assert not list(old.iter_errors({"transforms": [{"GaussNoise": {"std_range": [0.1, 0.2]}}]}))


def test_every_prefix_items_has_items_for_old_clients() -> None:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "prefixItems" in node:
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    found = list(walk(schema()))
    assert found
    for node in found:
        assert "items" in node and node["maxItems"] == len(node["prefixItems"]), node


# The catalog once depended on whether albumentations' torch module was imported (issue 14.8).
_CHECK_SCHEMA = (
    "from confaug.cli import main\n"
    "raise SystemExit(main(['schema', '--check', 'schemas/confaug.schema.json']))\n"
)


@pytest.mark.parametrize(
    "first",
    [
        pytest.param("import sys; sys.modules['torch'] = None\n", id="torch not importable"),
        pytest.param("import torch, albumentations.pytorch\n", id="torch imported first"),
    ],
)
def test_the_shipped_schema_is_current_with_and_without_torch(first: str) -> None:
    if "import torch" in first:
        pytest.importorskip("torch")
    done = run_python(first + _CHECK_SCHEMA, cwd=ROOT, what="confaug schema --check")
    assert done.returncode == 0 and "up to date" in done.stdout, done.stdout
