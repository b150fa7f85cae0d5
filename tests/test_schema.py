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


def test_schema_lists_every_transform_and_no_excluded_one() -> None:
    names = schema()["$defs"]["transform_name"]["enum"]
    assert names == transform_names()
    assert len(names) > 100
    assert {"GaussNoise", "Affine", "OneOf", "SomeOf", "Sequential"} <= set(names)
    assert not set(names) & EXCLUDED


def test_schema_describes_each_transforms_parameters() -> None:
    variants = schema()["$defs"]["step"]["anyOf"]
    by_name = {
        next(iter(v["properties"])): v["properties"][next(iter(v["properties"]))]
        for v in variants
        if "properties" in v
    }
    gauss = by_name["GaussNoise"]
    assert {"std_range", "mean_range", "p"} <= set(gauss["properties"])
    assert gauss["additionalProperties"] is False
    assert by_name["Affine"]["properties"]["border_mode"]["anyOf"][0]["enum"] == sorted(
        ["constant", "nearest", "reflect", "reflect_101", "replicate", "wrap"]
    )
    assert set(by_name["SomeOf"]["properties"]) == {"p", "n", "replace", "transforms"}


def test_schema_covers_every_spec_key() -> None:
    assert set(schema()["properties"]) == set(Spec.model_fields) | {"extends"}
    assert schema()["additionalProperties"] is False


GOOD: list[Any] = [
    {"version": 1},
    {"extends": "base.yaml", "rotation_range": 5},
    {
        "version": 1,
        "extends": ["a.yaml", "preset:light"],
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
        ],
    },
]
BAD: list[tuple[Any, str]] = [
    ({"version": 2}, "1 was expected"),
    ({"rotation_range": 3}, "is not valid under any of the given schemas"),
    ({"version": 1, "rotaton_range": 3}, "rotaton_range"),
    ({"version": 1, "fill_mode": "mirror"}, "mirror"),
    ({"version": 1, "transforms": ["Nope"]}, "Nope"),
    ({"version": 1, "transforms": [{"GaussNoise": {"std_rnge": 1}}]}, "GaussNoise"),
    ({"version": 1, "transforms": [{"OneOf": {"p": 1.5, "transforms": []}}]}, "OneOf"),
    ({"version": 1, "transforms": [{"OneOf": {"p": 0.5}}]}, "OneOf"),
    ({"version": 1, "transforms": {"Blur": {}}}, "not of type 'array'"),
    ({"version": 1, "zoom_range": [1, 2, 3]}, "not valid"),
    ({"version": 1, "additional_targets": {"x": "picture"}}, "picture"),
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
