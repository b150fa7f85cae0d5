"""The JSON Schema of specs, for editors (completion, checking) and CI."""

from __future__ import annotations

import json
import warnings
from typing import Any

from confaug.spec.catalog import COMPOSITE_PARAMS, COMPOSITES, catalog
from confaug.spec.model import Spec
from confaug.spec.vocab import BORDER_MODES, INTERPOLATIONS

SCHEMA_ID = "https://confaug.dev/schemas/confaug.schema.json"


def _params_schema(name: str) -> dict[str, Any]:
    info = catalog()[name]
    properties: dict[str, Any] = {}
    init_schema = getattr(info.cls, "InitSchema", None)
    if init_schema is not None and not info.composite:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                generated = init_schema.model_json_schema()
            properties = {
                k: _strip_titles(v)
                for k, v in generated.get("properties", {}).items()
                if k in info.params
            }
            defs = generated.get("$defs")
            if defs:
                properties = json.loads(
                    json.dumps(properties).replace("#/$defs/", f"#/$defs/{name}__")
                )
                _DEFS.update({f"{name}__{k}": _strip_titles(v) for k, v in defs.items()})
        except Exception:  # a schema pydantic cannot express: leave the parameters open
            properties = {}
    for param in info.params:
        properties.setdefault(param, {})
    for key in ("border_mode",):
        if key in properties:
            properties[key] = {"anyOf": [{"enum": sorted(BORDER_MODES)}, {"type": "integer"}]}
    for key in ("interpolation", "mask_interpolation"):
        if key in properties:
            properties[key] = {"anyOf": [{"enum": sorted(INTERPOLATIONS)}, {"type": "integer"}]}
    if info.composite:
        generated = _strip_titles(COMPOSITE_PARAMS[name].model_json_schema())
        properties = dict(generated.get("properties", {}))
        properties["transforms"] = {"type": "array", "items": {"$ref": "#/$defs/step"}}
        return {
            "type": "object",
            "properties": properties,
            "required": ["transforms"],
            "additionalProperties": False,
        }
    return {"type": ["object", "null"], "properties": properties, "additionalProperties": False}


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


_DEFS: dict[str, Any] = {}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a confaug config, including every transform and its parameters."""
    _DEFS.clear()
    schema = Spec.model_json_schema(mode="validation")
    schema = _strip_titles(schema)
    names = list(catalog())
    step_variants = [
        {
            "type": "object",
            "properties": {name: _params_schema(name)},
            "required": [name],
            "additionalProperties": False,
        }
        for name in names
    ]
    defs = dict(schema.pop("$defs", {}))
    defs.pop("TransformStep", None)
    defs.update(_DEFS)
    defs["transform_name"] = {"enum": names}
    defs["step"] = {
        "anyOf": [
            {"$ref": "#/$defs/transform_name"},
            *step_variants,
        ]
    }
    schema["properties"]["transforms"] = {
        "type": "array",
        "items": {"$ref": "#/$defs/step"},
        "description": Spec.model_fields["transforms"].description,
    }
    schema["properties"]["extends"] = {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "description": "A parent config: a path relative to this file, or preset:NAME.",
    }
    schema.pop("title", None)
    # A config that extends another may leave `version` to its parent.
    schema.pop("required", None)
    schema["anyOf"] = [{"required": ["version"]}, {"required": ["extends"]}]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "confaug augmentation spec",
        **schema,
        "$defs": defs,
    }


def schema_text() -> str:
    """The schema as the text stored in ``schemas/confaug.schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["COMPOSITES", "json_schema", "schema_text"]
