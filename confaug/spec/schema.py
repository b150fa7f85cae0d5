"""The JSON Schema of specs, for editors (completion, checking) and CI.

Generated from the spec models and the catalog, with each transform parameter's description
and default taken from albumentations (``spec.param_docs``). It is written for every
yaml-language-server in use: pairs carry both 2020-12's ``prefixItems`` and an ``items`` that
older clients (before 1.20) read as "every item", so both check a pair's items. The
validator's bounds on one value are stated too, read from where the validator keeps them
(numbers' magnitudes, border values, Compose thresholds, target names); rules across fields
(low ≤ high) stay with ``confaug validate``.
"""

from __future__ import annotations

import inspect
import json
import math
import warnings
from typing import Annotated, Any, get_args, get_origin

from pydantic.functional_validators import (
    AfterValidator,
    BeforeValidator,
    PlainValidator,
    WrapValidator,
)

from confaug.resources import preset_names
from confaug.spec.catalog import (
    _PIXEL_PARAMS,
    _RELATIVE_PARAMS,
    _TRANSFORM_LIMITS,
    AXIS_KEYS,
    AXIS_MAPPINGS,
    COMPOSITE_CHILDREN,
    COMPOSITE_PARAMS,
    COMPOSITES,
    MAX_PARAMETER,
    MAX_RELATIVE,
    NAMED_BORDER_PARAMS,
    NAMED_INTERPOLATION_PARAMS,
    catalog,
)
from confaug.spec.compose_options import OPTION_BOUNDS, options_model
from confaug.spec.cost import MAX_STEPS
from confaug.spec.degenerate import _BORDER_FILLED, MAX_BORDER_VALUES
from confaug.spec.model import RESERVED_TARGETS, Spec
from confaug.spec.param_docs import NO_DEFAULT, ParamDoc, class_param_docs, param_docs
from confaug.spec.param_docs import transform_summary as _summary
from confaug.spec.vocab import BORDER_MODES, CALL_KEYWORDS, INTERPOLATIONS, MAX_PIXELS, SCHEMA_KEY

SCHEMA_ID = "https://confaug.dev/schemas/confaug.schema.json"

#: Transforms that need one of two parameters (albumentations checks it in a validator the
#: generated schema cannot show): (the two, whether setting both is an error too).
#: tests/test_schema_params.py checks this table against albumentations itself.
ONE_OF_TWO: dict[str, tuple[tuple[str, str], bool]] = {
    "CropAndPad": (("px", "percent"), True),
    "LongestMaxSize": (("max_size", "max_size_hw"), True),
    "SmallestMaxSize": (("max_size", "max_size_hw"), True),
    "PadIfNeeded3D": (("min_zyx", "pad_divisor_zyx"), False),
}

_NAME_NOTE = "confaug also takes a name here: {names}."


def _generated_properties(name: str, defs: dict[str, Any]) -> dict[str, Any]:
    """The parameters' schemas from the transform's ``InitSchema``; ``$defs`` go to ``defs``."""
    info = catalog()[name]
    init_schema = getattr(info.cls, "InitSchema", None)
    if init_schema is None:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            generated = init_schema.model_json_schema()
    except Exception:  # a schema pydantic cannot express: leave the parameters open
        return {}
    properties = {
        k: _strip_titles(v) for k, v in generated.get("properties", {}).items() if k in info.params
    }
    own_defs = generated.get("$defs")
    if own_defs:
        properties = json.loads(json.dumps(properties).replace("#/$defs/", f"#/$defs/{name}__"))
        defs.update({f"{name}__{k}": _strip_titles(v) for k, v in own_defs.items()})
    return properties


def magnitude_limit(name: str, param: str) -> float:
    """The largest size of any number in parameter ``param`` of ``name`` that the validator
    takes: the choice ``catalog._too_large`` makes, from the same tables."""
    own = _TRANSFORM_LIMITS.get(name, {})
    if param in own:
        return own[param][0]
    if _PIXEL_PARAMS.match(param):
        return float(MAX_PIXELS)
    if param in _RELATIVE_PARAMS:
        return MAX_RELATIVE
    return MAX_PARAMETER


def border_values_limit(name: str, param: str) -> int | None:
    """How many numbers ``param`` may hold where OpenCV takes it as a border value
    (``degenerate._border_value``), else None."""
    if name in _BORDER_FILLED and param in ("fill", "fill_mask"):
        return MAX_BORDER_VALUES
    return None


#: The keywords whose values are schemas: a list of them, or one.
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties")


def _bounded(
    node: Any,
    least: float,
    most: float,
    max_items: int | None = None,
    exclusive: tuple[bool, bool] = (False, False),
) -> Any:
    """``node`` with every number it admits held to [least, most] (``exclusive``: whether
    each end is left out), and every array to ``max_items`` items: the validator's bound on
    one value, for editors to show as they type. A bound the node already has that is
    tighter is kept. (A ``$ref`` is left as it is: albumentations' schemas refer only to
    enums of names today; an unbounded one would be looser than the validator, never
    stricter.) ``not`` is not entered: bounding what a value must not be would widen it."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_bounded(item, least, most, max_items, exclusive) for item in out[key]]
    for key in _SCHEMA_VALUES:
        if isinstance(out.get(key), dict):
            out[key] = _bounded(out[key], least, most, max_items, exclusive)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {
            k: _bounded(v, least, most, max_items, exclusive) for k, v in out["properties"].items()
        }
    kinds = out.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if kinds & {"number", "integer"}:
        _tighten(out, "maximum", "exclusiveMaximum", most, exclusive[1], above=True)
        _tighten(out, "minimum", "exclusiveMinimum", least, exclusive[0], above=False)
    if "array" in kinds and max_items is not None and out.get("maxItems", math.inf) > max_items:
        out["maxItems"] = max_items
    return out


def _tighten(
    node: dict[str, Any],
    inclusive_key: str,
    exclusive_key: str,
    end: float,
    open_end: bool,
    above: bool,
) -> None:
    """Hold one end of the numbers ``node`` admits to ``end`` (left out if ``open_end``),
    unless the node's own bound there is as tight already."""
    if math.isinf(end):
        return
    sign = 1 if above else -1  # compare as upper bounds: -x for a lower one
    infinite = sign * math.inf
    own = min(sign * node.get(inclusive_key, infinite), sign * node.get(exclusive_key, infinite))
    own_open = sign * node.get(exclusive_key, infinite) <= sign * node.get(inclusive_key, infinite)
    if own < sign * end or (own == sign * end and (own_open or not open_end)):
        return
    if open_end:
        node.pop(inclusive_key, None)
        node[exclusive_key] = _json_number(end)
    else:
        node.pop(exclusive_key, None)
        node[inclusive_key] = _json_number(end)


#: albumentations' own ``AfterValidator`` steps (``albumentations.core.pydantic``) that keep
#: every number as written: they order a pair, or make a scalar a pair that holds it
#: (``to_tuple``). A bound checked after them holds for the numbers of the config itself;
#: one checked after any other step (``float2int`` truncates, a transform's own function may
#: do anything) is not read, as stating it could refuse what albumentations takes.
_KEEPS_NUMBERS = frozenset(
    {
        "nondecreasing",
        "convert_to_0plus_range",
        "convert_to_1plus_range",
        "create_symmetric_range",
        "repeat_if_scalar",
    }
)
_ALBU_PYDANTIC = "albumentations.core.pydantic"

#: A bound on numbers: (least, most, whether least is left out, whether most is).
Bound = tuple[float, float, bool, bool]


def item_bounds(name: str, param: str) -> Bound | None:
    """The bound albumentations' ``InitSchema`` puts on every number of ``param`` of
    ``name`` through its ``AfterValidator`` steps — ``check_range_bounds(low, high)`` and the
    non-negative ranges — which pydantic's generated schema does not show. It holds for a
    pair's items and for the scalar a pair may be written as alike (the steps before it keep
    the numbers, ``_KEEPS_NUMBERS``), so the schema can state it on both. None when there is
    none, or it is not one the schema can state without refusing a value albumentations
    takes."""
    init_schema = getattr(catalog()[name].cls, "InitSchema", None)
    field = getattr(init_schema, "model_fields", {}).get(param)
    if field is None:
        return None
    steps = list(field.metadata)
    if not steps:  # ``Annotated[...] | None``: the steps of the one branch that has numbers
        branches = [arg for arg in get_args(field.annotation) if arg is not type(None)]
        if len(branches) == 1 and get_origin(branches[0]) is Annotated:
            steps = list(branches[0].__metadata__)
    if _rewritten_first(init_schema, param, steps):
        return None
    bound: Bound = (-math.inf, math.inf, False, False)
    for step in steps:
        if not isinstance(step, AfterValidator):
            continue  # a constraint (``Ge``, ...) changes nothing, and shows in the schema
        func = step.func
        if getattr(func, "__module__", "") != _ALBU_PYDANTIC:
            break
        qualname = func.__qualname__
        if qualname == "process_non_negative_range":
            bound = _narrower(bound, (0, math.inf, False, False))
        elif qualname == "check_range_bounds.<locals>.validator":
            cells = inspect.getclosurevars(func).nonlocals
            try:
                least, most = cells["min_val"], cells["max_val"]
                least_open, most_open = not cells["min_inclusive"], not cells["max_inclusive"]
            except KeyError:  # another albumentations' spelling: state nothing from here on
                break
            bound = _narrower(
                bound, (least, math.inf if most is None else most, least_open, most_open)
            )
        elif qualname not in _KEEPS_NUMBERS:
            break
    return None if bound == (-math.inf, math.inf, False, False) else bound


def _rewritten_first(init_schema: Any, param: str, steps: list[Any]) -> bool:
    """Whether something may change ``param``'s value before its ``AfterValidator`` steps
    see it (albumentations 2.0 has none): then the value as written is not what they bound."""
    if any(isinstance(step, (BeforeValidator, WrapValidator, PlainValidator)) for step in steps):
        return True
    decorators = init_schema.__pydantic_decorators__
    return any(v.info.mode != "after" for v in decorators.model_validators.values()) or any(
        v.info.mode != "after" and param in v.info.fields
        for v in decorators.field_validators.values()
    )


def _narrower(one: Bound, other: Bound) -> Bound:
    """Both bounds at once."""
    if other[0] > one[0] or (other[0] == one[0] and other[2]):
        low, low_open = other[0], other[2]
    else:
        low, low_open = one[0], one[2]
    if other[1] < one[1] or (other[1] == one[1] and other[3]):
        high, high_open = other[1], other[3]
    else:
        high, high_open = one[1], one[3]
    return (low, high, low_open, high_open)


def _json_number(number: float) -> float | int:
    """32767, not 32767.0, in the schema's text."""
    return int(number) if float(number).is_integer() else number


def _magnitudes(name: str, param: str, node: dict[str, Any]) -> dict[str, Any]:
    """A transform parameter's schema with the validator's bounds on its numbers.

    The catch-all ±1e9 (``MAX_PARAMETER``) is left out: it guards against hostile
    magnitudes no config comes near, and stated on the ~400 parameters it covers it would
    bury the bounds that mean something (pixels, image sides, each transform's own) in
    every editor tooltip and in docs/transform-parameters.md.
    """
    limit = magnitude_limit(name, param)
    if limit == MAX_PARAMETER:
        limit = math.inf
    bounded = _bounded(node, -limit, limit, border_values_limit(name, param))
    own = item_bounds(name, param)
    if own is None:
        return bounded
    least, most, least_open, most_open = own
    return _bounded(bounded, least, most, exclusive=(least_open, most_open))


#: What ``str.isidentifier`` (the rule of a target's name) refuses among ASCII characters:
#: all but letters, digits and "_", and a digit first. Other characters are left to the
#: validator: JSON Schema's regular expressions have no portable class of Unicode letters,
#: and the schema must not refuse a name the validator takes.
IDENTIFIER_PATTERN = r"^(?:[A-Za-z_]|[^\x00-\x7f])(?:[A-Za-z0-9_]|[^\x00-\x7f])*$"


def _target_names() -> dict[str, Any]:
    """The names ``additional_targets`` may use: identifiers, not albumentations' own
    targets (``model._target_name``) nor a keyword of the pipeline call (``seed``)."""
    return {
        "pattern": IDENTIFIER_PATTERN,
        "not": {"enum": sorted(RESERVED_TARGETS | CALL_KEYWORDS)},
    }


def _named(generated: dict[str, Any], names: dict[str, int]) -> dict[str, Any]:
    """A border mode or interpolation: the names confaug maps, and the constants albumentations
    takes there (its own enum, else the named constants)."""
    numbers = generated.get("enum") or sorted(set(names.values()))
    allowed = [key for key, number in sorted(names.items()) if number in numbers]
    return {"enum": [*allowed, *sorted(numbers)]}


def _document(node: dict[str, Any], doc: ParamDoc, note: str | None = None) -> dict[str, Any]:
    """``node`` with the parameter's description and default."""
    documented = dict(node)
    text = doc.description
    if note:
        text = f"{text}\n\n{note}" if text else note
    if text:
        documented["description"] = text
    if doc.default is not NO_DEFAULT:
        documented["default"] = doc.default
    return documented


def _params_schema(name: str, defs: dict[str, Any]) -> dict[str, Any]:
    info = catalog()[name]
    if info.composite:
        return _composite_schema(name)
    docs = param_docs(name)
    generated = _generated_properties(name, defs)
    properties: dict[str, Any] = {}
    for param in info.params:  # in the constructor's order, as the reference lists them
        node = generated.get(param, {})
        note = None
        if param in NAMED_BORDER_PARAMS or param in NAMED_INTERPOLATION_PARAMS:
            names = BORDER_MODES if param in NAMED_BORDER_PARAMS else INTERPOLATIONS
            node = _named(node, names)
            note = _NAME_NOTE.format(names=", ".join(k for k in node["enum"] if isinstance(k, str)))
        if param in AXIS_MAPPINGS.get(name, ()):
            node = _xy_only(node)
        properties[param] = _document(_magnitudes(name, param, node), docs[param], note)
    schema: dict[str, Any] = {
        "type": "object" if _needs_params(name) else ["object", "null"],
        "properties": properties,
        "additionalProperties": False,
    }
    required = [param for param, doc in docs.items() if doc.required]
    if required:
        schema["required"] = required
    if name in ONE_OF_TWO:
        (first, second), exclusive = ONE_OF_TWO[name]
        schema["oneOf" if exclusive else "anyOf"] = [_given(first), _given(second)]
    return schema


def _xy_only(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its mapping branch held to the keys ``x`` and ``y`` (at least one of
    them, as albumentations asks), each offered to completion with the values the mapping
    took for any key. albumentations types these mappings ``dict[str, ...]`` but reads those
    two keys only (``catalog.AXIS_MAPPINGS``, which the validator holds them to as well)."""
    out = dict(node)
    branches = []
    for branch in out.get("anyOf", [out]):
        if branch.get("type") == "object" and isinstance(branch.get("additionalProperties"), dict):
            value = branch["additionalProperties"]
            branch = {
                **branch,
                "properties": dict.fromkeys(AXIS_KEYS, value),  # offered to completion
                "propertyNames": {"enum": list(AXIS_KEYS)},
                "minProperties": 1,
            }
        branches.append(branch)
    if "anyOf" in out:
        out["anyOf"] = branches
        return out
    return branches[0]


def _given(param: str) -> dict[str, Any]:
    """Set, to something other than null (albumentations' "not given")."""
    return {"required": [param], "properties": {param: {"not": {"type": "null"}}}}


def _needs_params(name: str) -> bool:
    """Whether a transform cannot be written by its name alone (a composite needs its
    ``transforms``)."""
    if catalog()[name].composite:
        return True
    return name in ONE_OF_TWO or any(doc.required for doc in param_docs(name).values())


def _composite_schema(name: str) -> dict[str, Any]:
    info = catalog()[name]
    generated = _strip_titles(COMPOSITE_PARAMS[name].model_json_schema())
    docs = class_param_docs(info.cls, (*info.params, "transforms"), info.defaults)
    properties = {
        key: _magnitudes(name, key, _document(node, docs[key]) if key in docs else node)
        for key, node in generated.get("properties", {}).items()
    }
    low, high = COMPOSITE_CHILDREN.get(name, (1, None))
    children: dict[str, Any] = {
        "type": "array",
        "items": {"$ref": "#/$defs/step"},
        "minItems": low,
    }
    # The composite is one of the validator's MAX_STEPS steps, its children the others.
    children["maxItems"] = MAX_STEPS - 1 if high is None else min(high, MAX_STEPS - 1)
    text = docs["transforms"].description
    wanted = f"exactly {low}" if low == high else f"at least {low}"
    text = (text or "The steps it holds.").rstrip(".")
    children["description"] = f"{text} ({wanted})."
    properties["transforms"] = children
    return {
        "type": "object",
        "properties": properties,
        "required": ["transforms"],
        "additionalProperties": False,
    }


def _compose_options(kind: str, field_description: str | None) -> dict[str, Any]:
    """``bbox_params`` / ``keypoint_params``: albumentations' options, each typed and described."""
    from confaug._albu import albumentations

    A = albumentations()
    model, names = options_model(kind)
    generated = _strip_titles(model.model_json_schema())
    cls = A.BboxParams if kind == "bbox_params" else A.KeypointParams
    defaults = {k: v.default for k, v in model.model_fields.items() if not v.is_required()}
    docs = class_param_docs(cls, names, defaults)
    generated["properties"] = {
        key: _document({k: v for k, v in node.items() if k != "default"}, docs[key])
        for key, node in generated["properties"].items()
    }
    for key, (least, most) in OPTION_BOUNDS[kind].items():  # what the validator refuses
        generated["properties"][key] = _bounded(generated["properties"][key], least, most)
    generated["additionalProperties"] = False
    result: dict[str, Any] = {"anyOf": [generated, {"type": "null"}], "default": None}
    if field_description:
        result["description"] = field_description
    return result


def _extends_schema() -> dict[str, Any]:
    """A path, or ``preset:NAME`` of a shipped preset (offered by completion)."""
    presets = [f"preset:{name}" for name in preset_names()]
    # Never empty, as the reader refuses: "extends: ''" is "is empty", "extends: []" "lists
    # no parent config" (reading.extends).
    path = {"type": "string", "minLength": 1, "not": {"pattern": "^preset:"}}
    one = {"anyOf": [{"enum": presets}, path]}
    return {
        "anyOf": [one, {"type": "array", "items": one, "minItems": 1}],
        "description": "A parent config: a path relative to this file, or preset:NAME "
        "(one of the shipped presets), or a list of them.",
    }


def _for_old_clients(node: Any) -> Any:
    """Give every ``prefixItems`` an ``items`` that clients without it apply to each item.

    2020-12 reads that ``items`` as "items after the prefix" (there are none: ``maxItems``
    equals the prefix), older drafts as "every item", so it is the items' common schema,
    or the union of their schemas when they differ.
    """
    if isinstance(node, list):
        return [_for_old_clients(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _for_old_clients(value) for key, value in node.items()}
    prefix = out.get("prefixItems")
    # Only a tuple of fixed length: there an ``items`` constrains nothing for 2020-12.
    if isinstance(prefix, list) and out.get("maxItems") == len(prefix) and "items" not in out:
        unique: list[Any] = []
        for item in prefix:
            if item not in unique:
                unique.append(item)
        out["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}
    return out


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a confaug config, including every transform and its parameters."""
    schema = _strip_titles(Spec.model_json_schema(mode="validation"))
    names = list(catalog())
    transform_defs: dict[str, Any] = {}
    step_variants = []
    for name in names:
        params = _params_schema(name, transform_defs)
        summary = _summary(name)
        if summary:
            params = {"description": summary, **params}
        step_variants.append(
            {
                "type": "object",
                "properties": {name: params},
                "required": [name],
                "additionalProperties": False,
            }
        )
    defs = dict(schema.pop("$defs", {}))
    defs.pop("TransformStep", None)
    defs.update(transform_defs)
    # A bare name is a step with every parameter at its default: not for those that need one.
    defs["transform_name"] = {"enum": [name for name in names if not _needs_params(name)]}
    defs["step"] = {"anyOf": [{"$ref": "#/$defs/transform_name"}, *step_variants]}
    properties = schema["properties"]
    properties["transforms"] = {
        "type": "array",
        "items": {"$ref": "#/$defs/step"},
        # The validator's bound counts the steps inside composites too (``_count_steps``);
        # the flat list is what a schema can count.
        "maxItems": MAX_STEPS,
        "description": Spec.model_fields["transforms"].description,
    }
    for kind in ("bbox_params", "keypoint_params"):
        properties[kind] = _compose_options(kind, Spec.model_fields[kind].description)
    properties["extends"] = _extends_schema()
    properties[SCHEMA_KEY] = {
        "type": "string",
        "description": "The JSON Schema an editor checks this file with (VS Code's way for "
        "JSON files); confaug reads the key and ignores it.",
    }
    properties["additional_targets"]["propertyNames"] = _target_names()
    schema.pop("title", None)
    # The models say what is required; a config that extends another may leave a required
    # key to its parent.
    required = schema.pop("required", None)
    if required:
        schema["anyOf"] = [{"required": required}, {"required": ["extends"]}]
    return _for_old_clients(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID,
            "title": "confaug augmentation spec",
            **schema,
            "$defs": defs,
        }
    )


def schema_text() -> str:
    """The schema as the text stored in ``schemas/confaug.schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = [
    "COMPOSITES",
    "ONE_OF_TWO",
    "SCHEMA_ID",
    "item_bounds",
    "json_schema",
    "schema_text",
]
