"""The albumentations transforms a spec may name, and checking their parameters.

Each transform's parameters are checked against the transform's own Pydantic
``InitSchema`` (plus its ``__init__`` signature for unknown names) before anything is built.
Transforms that read files or take callables are left out: a config cannot reach them.
"""

from __future__ import annotations

import inspect
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from confaug._albu import albumentations
from confaug.errors import did_you_mean
from confaug.reading.albu_format import inherited_keys
from confaug.spec.albu1_renames import TENSORS, TRANSFORMS, kept_hint, parameter_hint
from confaug.spec.degenerate import degenerate_problems
from confaug.spec.vocab import (
    BORDER_MODES,
    INTERPOLATIONS,
    MAX_PIXELS,
    Probability,
    describe,
    error_location,
    key_hint,
    literal_hint,
)

#: One problem of a step's parameters: (path within the parameters, message, hint). A
#: message starting "unknown parameter" or "unknown key" is placed at the key itself
#: (``spec.validate``), every other at the value.
ParamProblem = tuple[tuple[str | int, ...], str, str | None]

COMPOSITES = (
    "OneOf",
    "SomeOf",
    "Sequential",
    "RandomOrder",
    "OneOrOther",
    "SelectiveChannelTransform",
)
# Reach the file system or run code: reference_images/read_fn, font files, callables. And
# albumentations.pytorch's tensors: they exist only where torch was imported first, so the
# catalog (and the schema) would differ between machines; the adapters make tensors instead.
EXCLUDED = frozenset(
    {
        "BaseDomainAdaptation",
        "FDA",
        "HistogramMatching",
        "PixelDistributionAdaptation",
        "TextImage",
        "Lambda",
        "ToTensorV2",
        "ToTensor3D",
    }
)
# albumentations' base classes: nameable, but they do nothing (or raise NotImplementedError).
BASE_CLASSES = frozenset({"BasicTransform", "DualTransform", "ImageOnlyTransform", "Transform3D"})
_BASE = (
    "it is an albumentations base class, which raises NotImplementedError on the first image; "
    "name a transform: docs/readme/spec-reference.md and `confaug schema` list them"
)
_FILES = "it reads reference images from files, which a config may not (SECURITY.md)"
#: Names albumentations has that no step may use → why, and what to write instead.
REFUSED: dict[str, str] = {
    **dict.fromkeys(BASE_CLASSES, _BASE),
    "Compose": (
        "a config is the Compose; to group steps inside it use Sequential, which always runs "
        "them with p: 1 (a Compose nested in an albumentations file loads as one)"
    ),
    "ReplayCompose": "confaug does not replay; its steps can be listed under transforms",
    "ToTensorV2": TENSORS,
    "ToTensor3D": TENSORS,
    "Lambda": (
        "configs cannot run code; register a function with confaug.register and name it as "
        "preprocessing_function (SECURITY.md)"
    ),
    "TextImage": "it reads font files, which a config may not (SECURITY.md)",
    "FDA": _FILES,
    "HistogramMatching": _FILES,
    "PixelDistributionAdaptation": _FILES,
}
NAMED_BORDER_PARAMS = ("border_mode",)
NAMED_INTERPOLATION_PARAMS = ("interpolation", "mask_interpolation")
_SKIPPED_PARAMS = ("self", "strict", "always_apply", "args", "kwargs")


class _CompositeParams(BaseModel):
    """Parameters of a composite other than its ``transforms`` (albumentations checks none)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    p: Probability = 1.0


class _HalfCompositeParams(_CompositeParams):
    p: Probability = 0.5


class _PickParams(_CompositeParams):
    n: int = Field(1, ge=1, description="How many of the transforms to apply.")
    replace: bool = False


class _ChannelParams(_CompositeParams):
    channels: list[Annotated[int, Field(ge=0)]] = Field([0, 1, 2], min_length=1)


# OneOrOther's first/second take transform objects, which a config writes as `transforms`.
COMPOSITE_PARAMS: dict[str, type[_CompositeParams]] = {
    "OneOf": _HalfCompositeParams,
    "Sequential": _HalfCompositeParams,
    "OneOrOther": _HalfCompositeParams,
    "SomeOf": _PickParams,
    "RandomOrder": _PickParams,
    "SelectiveChannelTransform": _ChannelParams,
}
# How many child transforms a composite needs: (at least, at most).
COMPOSITE_CHILDREN: dict[str, tuple[int, int | None]] = {"OneOrOther": (2, 2)}


@dataclass(frozen=True)
class TransformInfo:
    """What confaug knows of one transform class."""

    name: str
    cls: type
    params: tuple[str, ...]
    defaults: dict[str, Any]
    composite: bool


@cache
def catalog() -> dict[str, TransformInfo]:
    """Every nameable transform, by class name."""
    A = albumentations()
    from albumentations.core.composition import BaseCompose
    from albumentations.core.serialization import SERIALIZABLE_REGISTRY
    from albumentations.core.transforms_interface import BasicTransform

    found: dict[str, TransformInfo] = {}
    cls: type
    for name, cls in SERIALIZABLE_REGISTRY.items():
        short = name.rsplit(".", 1)[-1]
        if short in EXCLUDED or short in BASE_CLASSES or short.startswith("Base") or short in found:
            continue
        composite = issubclass(cls, BaseCompose)
        if composite and short not in COMPOSITES:
            continue
        if not composite and not issubclass(cls, BasicTransform):
            continue
        if inspect.isabstract(cls) or getattr(A, short, None) is not cls:
            continue
        if composite:
            model = COMPOSITE_PARAMS[short]
            params = tuple(model.model_fields)
            defaults = {k: f.default for k, f in model.model_fields.items()}
            found[short] = TransformInfo(short, cls, params, defaults, composite)
            continue
        signature = inspect.signature(cls.__init__)
        params = tuple(p for p in signature.parameters if p not in _SKIPPED_PARAMS)
        defaults = {
            k: p.default
            for k, p in signature.parameters.items()
            if k in params and p.default is not inspect.Parameter.empty
        }
        found[short] = TransformInfo(short, cls, params, defaults, composite)
    return dict(sorted(found.items()))


def transform_names() -> list[str]:
    """Names a ``transforms:`` step may use."""
    return list(catalog())


#: Parameters albumentations reads as a mapping of per-axis values. Their annotation says
#: ``dict[str, ...]``, but Affine's ``_handle_dict_arg`` reads 'x' and 'y' only and drops any
#: other key without a word (``translate_percent: {x: 0, yy: 0.5}`` shifts nothing), so the
#: keys are stated here; tests/test_probe6_catalog.py checks that no other dict parameter
#: lacks its keys.
AXIS_KEYS = ("x", "y")
AXIS_MAPPINGS: dict[str, frozenset[str]] = {
    "Affine": frozenset({"scale", "translate_percent", "translate_px", "shear"}),
}


def _members(annotation: Any) -> list[Any]:
    """The members of a (possibly optional, annotated) union type, ``None`` left out."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [] if annotation is type(None) else [annotation]


@cache
def mapping_keys(transform: str, param: str) -> tuple[str, ...] | None:
    """The keys a mapping given as ``param`` of ``transform`` may have: Affine's {x, y}
    (``AXIS_MAPPINGS``), or the ``Literal`` a ``dict[Literal[...], ...]`` annotation names
    (Downscale's interpolation_pair); None when the parameter takes no such mapping."""
    if param in AXIS_MAPPINGS.get(transform, ()):
        return AXIS_KEYS
    info = catalog().get(transform)
    schema = getattr(info.cls, "InitSchema", None) if info is not None else None
    field = schema.model_fields.get(param) if schema is not None else None
    for member in _members(field.annotation) if field is not None else []:
        args = get_args(member) if get_origin(member) is dict else ()
        if args and get_origin(args[0]) is Literal:
            return tuple(str(key) for key in get_args(args[0]))
    return None


def _unknown_keys(info: TransformInfo, params: dict[str, Any]) -> list[ParamProblem]:
    """Keys of a mapping parameter that it does not take (see ``mapping_keys``), each at its
    own place: albumentations would ignore them, so the setting they meant would be lost."""
    problems: list[ParamProblem] = []
    for param, value in params.items():
        keys = mapping_keys(info.name, param) if isinstance(value, dict) else None
        if keys is None:
            continue
        for key in value:
            if key not in keys:
                message = f"unknown key; the mapping takes {_quoted(keys)}"
                problems.append(((param, key), message, key_hint(key, keys)))
    return problems


def _quoted(names: tuple[str, ...] | list[str]) -> str:
    """``'x' and 'y'``, ``'a', 'b' and 'c'``."""
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def to_opencv(params: dict[str, Any]) -> dict[str, Any]:
    """Replace named border modes and interpolations by their OpenCV constants."""
    converted = dict(params)
    for key in NAMED_BORDER_PARAMS:
        if isinstance(converted.get(key), str) and converted[key] in BORDER_MODES:
            converted[key] = BORDER_MODES[converted[key]]
    for key in NAMED_INTERPOLATION_PARAMS:
        if isinstance(converted.get(key), str) and converted[key] in INTERPOLATIONS:
            converted[key] = INTERPOLATIONS[converted[key]]
    return converted


def check_params(
    info: TransformInfo, params: dict[str, Any], children: list[Any] | None = None
) -> list[ParamProblem]:
    """Problems of ``params`` for ``info`` as (path within params, message, hint).

    ``children`` are a composite's ``transforms`` (checked for their number only).
    """
    problems: list[ParamProblem] = []
    for key in params:
        if key not in info.params:
            problems.append(((key,), f"unknown parameter of {info.name}", _unknown_hint(info, key)))
    for key in NAMED_BORDER_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value not in BORDER_MODES:
            problems.append(
                (
                    (key,),
                    f"unknown border mode {value!r}; use one of {sorted(BORDER_MODES)}",
                    did_you_mean(value, BORDER_MODES),
                )
            )
    for key in NAMED_INTERPOLATION_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value not in INTERPOLATIONS:
            problems.append(
                (
                    (key,),
                    f"unknown interpolation {value!r}; use one of {sorted(INTERPOLATIONS)}",
                    did_you_mean(value, INTERPOLATIONS),
                )
            )
    problems.extend(_unknown_keys(info, params))
    problems.extend(_non_finite(params))
    problems.extend(_too_large(params, info.name))
    if problems:
        # The schema is not run on a broken step; say what else it lacks all the same, so a
        # file is fixed in one round (a renamed parameter is often the required one), and
        # what is wrong with the parameters that are not broken themselves.
        lacking = [] if info.composite else _missing_required(info, params)
        if lacking:
            problems.append(((), _missing_message(lacking), None))
        if not info.composite:
            failed = {path[0] for path, _, _ in problems if path}
            rest = {key: value for key, value in params.items() if key not in failed}
            for path, message, hint in _schema_problems(info, rest):
                if path and path[0] in rest:  # not what the failed keys caused
                    problems.append((path, message, hint))
        return problems
    if info.composite:
        return _check_composite(info, params, children)
    schema = getattr(info.cls, "InitSchema", None)
    if schema is None:
        return problems
    full = {**info.defaults, **to_opencv(params)}
    problems.extend(_schema_problems(info, params))
    if not problems:
        problems.extend(_strict_problems(schema, full, params))
    if not problems:
        # Some checks live in __init__ rather than the schema (ShiftScaleRotate's limits):
        # building the transform here puts them before compiling, where they can be located.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                built = info.cls(**to_opencv(params))
        except Exception as err:  # albumentations raises assorted types from __init__
            text = str(err).strip()
            # pydantic ends its text with a link line: the last line that says something.
            said = [line.strip() for line in text.splitlines() if line.strip()]
            said = [line for line in said if not line.startswith("For further information")]
            message = said[-1] if said else type(err).__name__
            problems.append(((), message, None))
        else:  # values it accepts that fail on every image (spec.degenerate)
            problems.extend(degenerate_problems(info.name, built, params))
    return problems


def _schema_problems(info: TransformInfo, params: dict[str, Any]) -> list[ParamProblem]:
    """What the transform's ``InitSchema`` says of ``params`` (its defaults filled in)."""
    problems: list[ParamProblem] = []
    schema = getattr(info.cls, "InitSchema", None)
    if schema is None:
        return problems
    from pydantic import ValidationError

    full = {**info.defaults, **to_opencv(params)}
    fields = schema.model_fields
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validated = schema(
                **{k: v for k, v in full.items() if k in fields or k in info.params},
                strict=False,
            )
        # The schema coerces (the string 'nan' becomes a float): check what it made too.
        made = {k: getattr(validated, k) for k in params if k in fields}
        for path, message, hint in (*_non_finite(made), *_too_large(made, info.name)):
            problems.append((error_location(params, path)[0], message, hint))
        problems.extend(_coerced(params, made))
        problems.extend(_unchecked_kinds(info, params, fields))
    except ValidationError as err:
        by_place: dict[tuple[str | int, ...], list[tuple[str, Any]]] = {}
        missing: list[str] = []
        nested: dict[str, list[Any]] = {}
        for item in err.errors(include_url=False):
            loc = tuple(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            owner = _nested_owner(info, params, fields, item)
            if owner is not None:
                nested.setdefault(owner, []).append(item)
                continue
            if loc and loc[0] not in params:
                # About a parameter left at its default: a required one, or a combination.
                if item["type"] == "missing":
                    # All of them are needed: one message, not alternatives joined by "or".
                    if str(loc[0]) not in missing:
                        missing.append(str(loc[0]))
                    continue
                message = f"{'.'.join(map(str, loc))}: {message}"
                loc = ()
            at = error_location(params, loc)[0]
            by_place.setdefault(at, []).append((message, item))
        if missing:
            problems.append(((), _missing_message(missing), None))
        for owner, items in nested.items():
            problems.extend(_nested_problems(owner, params, items, by_place))
        _drop_outmatched(params, by_place)
        # A union's members each add an error at the same place: one problem per place.
        problems.extend(
            _place_problem(loc, found, params, fields) for loc, found in by_place.items()
        )
    except Exception as err:  # a validator of albumentations' that raised something else
        problems.append(((), f"{type(err).__name__}: {err}", None))
    return problems


def _nested_owner(
    info: TransformInfo, params: dict[str, Any], fields: dict[str, Any], item: Any
) -> str | None:
    """The mapping parameter an error is about when a validator checked that mapping with a
    model of its own (AdditiveNoise's ``noise_params`` → GaussianParams): its errors name the
    inner keys (``std_rnage``), not the parameter. None for an error about a parameter."""
    loc = tuple(item["loc"])
    if not loc or loc[0] in fields or loc[0] in info.params:
        return None
    given = item.get("input")
    for param, value in params.items():
        if not isinstance(value, dict):
            continue
        if loc[0] in value:
            return param
        # A key the inner model requires: its input is the mapping (plus what the validator
        # added, such as noise_type).
        if item["type"] == "missing" and isinstance(given, dict) and set(value) <= set(given):
            return param
    return None


def _nested_problems(
    owner: str,
    params: dict[str, Any],
    items: list[Any],
    by_place: dict[tuple[str | int, ...], list[tuple[str, Any]]],
) -> list[ParamProblem]:
    """The errors of the model that checked the mapping ``owner``, placed inside it: an unknown
    key at that key, with the keys the model named (required or accepted) as its did-you-mean,
    a missing one at the mapping; the rest join ``by_place`` to be worded like any other."""
    problems: list[ParamProblem] = []
    unknown = [item["loc"] for item in items if item["type"] == "extra_forbidden"]
    lacking = [
        str(item["loc"][0]) for item in items if item["type"] == "missing" and len(item["loc"]) == 1
    ]
    known = [*lacking, *(str(key) for key in params[owner] if (key,) not in unknown)]
    for item in items:
        loc = tuple(item["loc"])
        if loc in unknown:
            problems.append(((owner, *loc), "unknown key", key_hint(loc[-1], known)))
        elif item["type"] == "missing" and len(loc) == 1:
            problems.append(((owner,), f"required key '{loc[0]}' is missing", None))
        else:
            message = item["msg"].removeprefix("Value error, ")
            by_place.setdefault(error_location(params, (owner, *loc))[0], []).append(
                (message, item)
            )
    return problems


#: What a value of the wrong kind should have been, by Pydantic's error type: how a
#: problem says it in confaug's words ("must be a number or a [low, high] pair, got the
#: string 'abc'") instead of Pydantic's ("Input should be a valid tuple; or: Input should
#: be a valid number, unable to parse string as a number").
_KIND_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "none_required": "null",
}
#: A tuple of another length than the value's: a union member of another length, or a pair
#: given one item ("missing": Pydantic's "Field required" for the absent second item).
_LENGTH_ERRORS = frozenset({"too_long", "too_short"})
_ITEM_WORDS = {"float": "numbers", "int": "integers", "bool": "booleans", "str": "strings"}
_SCALAR_WORDS = {"float": "a number", "int": "an integer", "bool": "a boolean", "str": "a string"}
# A parameter albumentations reads as a range: its name, or its validators, say so.
_RANGE_NAME = re.compile(r"(_range|_limit)$")
_RANGE_VALIDATORS = ("nondecreasing", "create_symmetric_range", "process_non_negative_range")


def _is_kind_error(item: Any) -> bool:
    """Whether ``item`` says only that the value is of another kind or length than wanted."""
    kind, loc = item["type"], tuple(item["loc"])
    if "input" not in item:
        return False
    if kind == "missing":
        return bool(loc) and isinstance(loc[-1], int) and isinstance(item["input"], (list, tuple))
    if kind == "is_instance_of":  # Sequence[float]: a list
        return (item.get("ctx") or {}).get("class") == "Sequence"
    return kind in _KIND_WORDS or kind in _LENGTH_ERRORS


def _type_text(annotation: Any) -> str | None:
    """A field's type as Pydantic names a union member (``tuple[float, float]``), when it
    is one type (an optional one included)."""
    members = _members(annotation)
    if len(members) != 1:
        return None
    (member,) = members
    origin, args = get_origin(member), get_args(member)
    if origin in (tuple, list) and args:
        inner = ["..." if arg is Ellipsis else (_type_text(arg) or "value") for arg in args]
        return f"{origin.__name__}[{', '.join(inner)}]"
    if origin is dict:
        return "dict[...]"
    return getattr(member, "__name__", None)


def _split_top(text: str) -> list[str]:
    """``'int, tuple[int, int]'`` → ``['int', 'tuple[int, int]']`` (commas inside brackets kept)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return parts


def _member_words(text: str, ranged: bool) -> str | None:
    """How a problem names what a union member (``'tuple[float, float]'``) takes."""
    match = re.fullmatch(r"(tuple|list)\[(.*)\]", text)
    if match is None:
        return "a mapping" if text.startswith("dict[") else _SCALAR_WORDS.get(text)
    items = _split_top(match.group(2))
    kinds = {_ITEM_WORDS.get(item, "values") for item in items if item != "..."}
    of = kinds.pop() if len(kinds) == 1 else "values"
    if match.group(1) == "list" or "..." in items:
        return f"a list of {of}"
    if len(items) == 2 and ranged and of in ("numbers", "integers"):
        # albumentations draws from [low, high]: the words its own docs use.
        return "a [low, high] pair" + (" of integers" if of == "integers" else "")
    return f"a list of {len(items)} {of}"


def _is_ranged(path: tuple[str | int, ...], fields: dict[str, Any], members: list[str]) -> bool:
    """Whether the value at ``path`` is read as a [low, high] range: its name ends in
    _range / _limit, its field's validators order or widen a range, or the union is a
    number or a pair (albumentations' ``to_tuple``, which widens the number to a range; Pad's
    ``padding`` also takes 4 sides, and its pair is two sides, not a range)."""
    names = [part for part in path if isinstance(part, str)]
    if names and _RANGE_NAME.search(names[-1]):
        return True
    field = fields.get(str(path[0])) if len(path) == 1 else None
    for check in getattr(field, "metadata", ()):
        name = getattr(getattr(check, "func", None), "__qualname__", "")
        if name.startswith(_RANGE_VALIDATORS):
            return True
    lists = [m for m in members if m.startswith(("tuple[", "list["))]
    pairs = [m for m in lists if m.startswith("tuple[") and len(_split_top(m[6:-1])) == 2]
    return bool(pairs) and pairs == lists and any(m in ("float", "int") for m in members)


def _kind_wanted(
    item: Any,
    path: tuple[str | int, ...],
    members: list[str],
    fields: dict[str, Any],
    ranged: bool,
) -> str:
    """What ``item`` (an ``_is_kind_error``) wanted: its union member's type, else the
    field's own type, else what Pydantic's error type says."""
    text = members[-1] if members else None
    if text is None and len(path) == 1 and path[0] in fields:
        text = _type_text(fields[path[0]].annotation)
    words = _member_words(text, ranged) if text is not None else None
    if words is not None:
        return words
    if item["type"] in _KIND_WORDS and item["type"] not in ("list_type", "tuple_type"):
        return _KIND_WORDS[item["type"]]
    return "a [low, high] pair" if ranged else "a list"


_WANTED_ORDER = ("a [", "a list", "a mapping", "null")


def _wanted_order(words: str) -> int:
    """Single values first, then lists, mappings, null: 'a number or a [low, high] pair'."""
    heads = [i for i, head in enumerate(_WANTED_ORDER) if words.startswith(head)]
    return heads[0] + 1 if heads else 0


def _drop_outmatched(
    params: dict[str, Any], by_place: dict[tuple[str | int, ...], list[tuple[str, Any]]]
) -> None:
    """Drop the union members' kind errors at a place where another member got further: in
    ``px: [1, 2, 3, 'a']`` the 4-list member fails at ``px.3``, so "must be an integer or a
    list of 2" at ``px`` is the other members' noise, not what is wrong."""
    for at in [at for at in by_place if at]:
        items = [item for _, item in by_place[at]]
        deeper = any(len(other) > len(at) and other[: len(at)] == at for other in by_place)
        from_members = all(_is_kind_error(i) and error_location(params, i["loc"])[1] for i in items)
        if deeper and from_members:
            del by_place[at]


def _place_problem(
    loc: tuple[str | int, ...],
    found: list[tuple[str, Any]],
    params: dict[str, Any],
    fields: dict[str, Any],
) -> ParamProblem:
    """One problem for what the schema said at one place (each member of a union adds one):
    a value of no member's kind or length in confaug's words ("must be a number or a [low,
    high] pair, got a list of 1"), else Pydantic's messages joined; a name that is not one of
    a Literal's gets the top level's did-you-mean (``literal_hint``)."""
    items = [item for _, item in found]
    hint = next((literal_hint(item) for item in items if item["type"] == "literal_error"), None)
    if all(_is_kind_error(item) for item in items):
        members = [error_location(params, item["loc"])[1] for item in items]
        ranged = _is_ranged(loc, fields, [m[-1] for m in members if m])
        wanted = [
            _kind_wanted(item, loc, named, fields, ranged)
            for item, named in zip(items, members, strict=True)
        ]
        wanted = sorted(dict.fromkeys(wanted), key=_wanted_order)
        return loc, f"must be {' or '.join(wanted)}, got {describe(items[0]['input'])}", hint
    messages = list(dict.fromkeys(message for message, _ in found))
    return loc, "; or: ".join(messages), hint


def _unknown_hint(info: TransformInfo, key: str) -> str | None:
    """The hint of an unknown parameter: albumentations 1.x's name for it, a key ``A.save``
    writes from a base class, or a close name."""
    hint = parameter_hint(info.name, key)
    if hint is None and key in inherited_keys(info.cls):
        hint = (
            f"{info.name}'s base class takes it, {info.name} does not; A.save writes it, "
            "and loading an albumentations file drops it (unless the file sets strict: true)"
        )
    if hint is None and not info.composite:
        hint = kept_hint(info.name, key, info.params) or _stem_hint(key, info.params)
    if hint is not None:
        return hint
    # A composite's children are written under 'transforms', which is no parameter of its.
    names = (*info.params, "transforms") if info.composite else info.params
    return key_hint(key, names)


#: What the end of a parameter's name says of its unit, for a hint that names several.
_SUFFIX_UNITS = {"percent": "fractions of the image size", "px": "pixels"}


def _stem_hint(key: str, names: tuple[str, ...]) -> str | None:
    """A key that several parameters begin with (Affine's ``translate``: translate_percent
    and translate_px) names them all, with the unit each name ends in: the closest one alone
    would pick a unit for the user."""
    stem = f"{key}_"
    found = [name for name in names if name.startswith(stem)]
    if len(found) < 2:
        return None
    said = []
    for name in found:
        unit = _SUFFIX_UNITS.get(name[len(stem) :])
        said.append(f"'{name}'" + (f" ({unit})" if unit else ""))
    return f"did you mean {', '.join(said[:-1])} or {said[-1]}?"


def _missing_required(info: TransformInfo, params: dict[str, Any]) -> list[str]:
    """Parameters ``__init__`` requires (no default) that ``params`` lacks."""
    return [key for key in info.params if key not in info.defaults and key not in params]


def _missing_message(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    if len(quoted) == 1:
        return f"missing required parameter {quoted[0]}"
    return f"missing required parameters {', '.join(quoted[:-1])} and {quoted[-1]}"


def unknown_transform(name: str) -> tuple[str, str | None]:
    """The message and hint for a step naming ``name``, which the catalog lacks."""
    if name in REFUSED:
        return f"'{name}' cannot be a step of a config", REFUSED[name]
    if name in TRANSFORMS:
        return f"unknown transform '{name}' (albumentations 1.x)", TRANSFORMS[name]
    module, dot, tail = name.rpartition(".")
    if dot and module and tail:
        # A class named with its module (albumentations.Blur, A.Blur,
        # albumentations.augmentations.blur.transforms.Blur): the hint is the class's own,
        # as the name alone gets it; compared whole, a long prefix found the wrong class.
        hint = unknown_transform(tail)[1] if tail in REFUSED or tail in TRANSFORMS else None
        return f"unknown transform '{name}'", hint or did_you_mean(tail, catalog())
    return f"unknown transform '{name}'", did_you_mean(name, catalog())


def _strict_problems(
    schema: type[BaseModel], full: dict[str, Any], params: dict[str, Any]
) -> list[ParamProblem]:
    """The strictness of the top level for a transform's parameters too.

    albumentations' schemas coerce: ``p: '0.5'`` and ``p: true`` become numbers, ``'yes'`` a
    boolean. A config states its types (YAML 1.2 has numbers, booleans and strings), so the
    parameters are validated again in Pydantic's strict mode, where only an int may stand
    for a float. YAML's lists stand for the schema's tuples, or for its lists where a field
    wants one. Only the parameters the config sets are judged.
    """
    from pydantic import ValidationError

    fields = schema.model_fields
    data = {
        key: _as_tuples(value) if key in params else value
        for key, value in full.items()
        if key in fields
    }
    data["strict"] = False  # albumentations' own field of that name
    for _ in range(8):  # each round gives lists back to the places that want one
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                schema.model_validate(data, strict=True)
            return []
        except ValidationError as err:
            errors = err.errors(include_url=False)
        except Exception:  # a validator that only works on lax input: the lax check passed
            return []
        wanted = [item["loc"] for item in errors if item["type"] == "list_type"]
        if not any(_list_back(data, loc) for loc in wanted):
            break
    by_place: dict[tuple[str | int, ...], list[str]] = {}
    for item in errors:
        loc = tuple(item["loc"])
        if not loc or loc[0] not in params or item["type"] in _NOT_STRICTNESS:
            continue
        messages = by_place.setdefault(error_location(params, loc)[0], [])
        message = f"{item['msg']}, got {describe(item.get('input'))}"
        if message not in messages:
            messages.append(message)
    return [
        (loc, "; or: ".join(messages) + " (parameters are typed strictly)", None)
        for loc, messages in by_place.items()
    ]


def _coerced(params: dict[str, Any], made: dict[str, Any]) -> list[ParamProblem]:
    """Values the schema turned into another kind: a string or a boolean made a number, a
    number or a string made a boolean, a float made an integer (Pydantic's strict mode lets
    ``true`` and ``1.0`` stand for the literal ``1``, so the kinds are compared here too)."""
    problems: list[ParamProblem] = []
    todo: list[tuple[tuple[str | int, ...], Any, Any]] = [
        ((key,), value, made[key])
        for key, value in params.items()
        if key in made and not (key in _NAMED and isinstance(value, str))
    ]
    while todo:
        path, given, result = todo.pop()
        if isinstance(given, (list, tuple)) and isinstance(result, (list, tuple)):
            if len(given) == len(result):
                todo.extend(
                    ((*path, i), g, r) for i, (g, r) in enumerate(zip(given, result, strict=True))
                )
            continue
        if isinstance(given, dict) and isinstance(result, dict):
            todo.extend(((*path, k), v, result[k]) for k, v in given.items() if k in result)
            continue
        results = result if isinstance(result, (list, tuple)) else (result,)
        if isinstance(given, bool) and not all(isinstance(r, bool) for r in results):
            wanted = "a number"
        elif isinstance(given, str) and not all(isinstance(r, str) for r in results):
            wanted = (
                "a number" if all(isinstance(r, (int, float)) for r in results) else "no string"
            )
        elif not isinstance(given, bool) and any(isinstance(r, bool) for r in results):
            wanted = "a boolean (true or false)"
        elif isinstance(given, float) and all(
            isinstance(r, int) and not isinstance(r, bool) for r in results
        ):
            # Pydantic's strict mode takes 1.0 for the literal 1 (an OpenCV flag).
            wanted = "an integer"
        else:
            continue
        problems.append(
            (path, f"must be {wanted}, got {describe(given)} (parameters are typed strictly)", None)
        )
    return sorted(problems)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean (true or false)"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _unchecked_kinds(
    info: TransformInfo, params: dict[str, Any], fields: dict[str, Any]
) -> list[ParamProblem]:
    """Parameters a transform's schema leaves out (``__init__`` takes them unchecked, as
    PlasmaShadow's ``plasma_size``) keep the kind of their default."""
    problems: list[ParamProblem] = []
    for key, value in params.items():
        default = info.defaults.get(key)
        if key in fields or default is None or key in _NAMED:
            continue
        if _kind(value) != _kind(default):
            message = (
                f"must be {_kind(default)}, got {describe(value)} (parameters are typed strictly)"
            )
            problems.append(((key,), message, None))
    return problems


_NAMED = frozenset((*NAMED_BORDER_PARAMS, *NAMED_INTERPOLATION_PARAMS))
# Errors of the strict pass that are not about a value's type (the lax pass judged those).
_NOT_STRICTNESS = frozenset({"value_error", "assertion_error", "missing"})


def _as_tuples(value: Any) -> Any:
    """YAML's lists as the tuples most schemas declare (see ``_list_back``)."""
    if isinstance(value, list):
        return tuple(_as_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _as_tuples(item) for key, item in value.items()}
    return value


def _list_back(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """Make the tuple at Pydantic's ``loc`` a list again; False when there is none."""
    node: Any = data
    parent: Any = None
    key: Any = None
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, tuple) and isinstance(part, int) and 0 <= part < len(node)
        ):
            parent, key, node = node, part, node[part]
        # else: a union member's name; the data stays where it is
    if not isinstance(node, tuple) or parent is None:
        return False
    if isinstance(parent, dict):
        parent[key] = list(node)
        return True
    return False  # inside a tuple: rebuilt by the caller's next round from its parent


# Magnitudes beyond which a parameter is a denial of service rather than an augmentation:
# OpenCV walks reflected borders step by step (a shift of 10^9 pixels takes minutes per
# image), sizes allocate memory, counts loop, and uniform(-1e308, 1e308) overflows to NaN.
MAX_PARAMETER = 1e9
MAX_RELATIVE = 100.0  # shifts as a fraction of the image side
_PIXEL_PARAMS = re.compile(
    r"^(height|width|size|max_size(_hw)?|min_(height|width)|min_max_height|target_size"
    r"|plasma_size|kernel_size|blur_limit|translate_px|sigma(_[xy])?_limit|tile_grid_size"
    r"|unit_size_range|hole_(height|width)_range|drop_(width|length)|magnitude|num_.*)$"
)
_RELATIVE_PARAMS = frozenset(
    {"translate_percent", "shift_limit", "shift_limit_x", "shift_limit_y", "distort_limit"}
)


def _numbers(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], float]]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _numbers(item, (*path, index))


# Bounds the transforms' schemas lack, where a legal-looking number breaks the transform
# itself (what a number costs is spec.cost's to bound): (limit, why).
_TRANSFORM_LIMITS: dict[str, dict[str, tuple[float, str]]] = {
    "HEStain": {
        "intensity_scale_range": (100.0, " (stain intensities scaled further hang the unmixing)"),
        "intensity_shift_range": (100.0, " (stain intensities shifted further hang the unmixing)"),
    },
    "PlasmaBrightnessContrast": {"roughness": (1000.0, " (a rougher plasma overflows)")},
    "PlasmaShadow": {"roughness": (1000.0, " (a rougher plasma overflows)")},
    # A displacement in pixels: farther, remap folds reflected borders ~1e6 times a pixel.
    "ElasticTransform": {"alpha": (float(MAX_PIXELS), " (a displacement in pixels)")},
    # Half the largest image: GlassBlur swaps pixels up to max_delta away inside the image.
    "GlassBlur": {"max_delta": (MAX_PIXELS // 2, " (half of the largest image side)")},
}


def _too_large(params: dict[str, Any], name: str = "") -> list[ParamProblem]:
    """Numbers too large to be an augmentation (see ``MAX_PARAMETER`` and the tables above)."""
    problems: list[ParamProblem] = []
    own = _TRANSFORM_LIMITS.get(name, {})
    for key, value in params.items():
        if key in own:
            limit, unit = own[key]
        elif _PIXEL_PARAMS.match(str(key)):
            limit, unit = float(MAX_PIXELS), " (pixels and counts stop at OpenCV's 32,767)"
        elif key in _RELATIVE_PARAMS:
            limit, unit = MAX_RELATIVE, " (100 image sides)"
        else:
            limit, unit = MAX_PARAMETER, ""
        for path, number in _numbers(value, (key,)):
            if _beyond(number, limit):
                shown = f"{number:g}" if isinstance(number, float) else _digits(number)
                problems.append((path, f"must be within ±{limit:,g}{unit}, got {shown}", None))
    return problems


def _digits(number: int) -> str:
    """An int as a problem shows it: in full, or its size when it is huge."""
    if abs(number) < 10**30:
        return str(number)
    return f"an integer of {int(abs(number).bit_length() * 0.30103) + 1:,} digits"


def _beyond(number: float, limit: float) -> bool:
    """|number| > limit, for ints of any size too (float() of 10**400 raises)."""
    if isinstance(number, int):
        return abs(number) > limit
    return math.isfinite(number) and abs(number) > limit


def _non_finite(value: Any, path: tuple[str | int, ...] = ()) -> list[ParamProblem]:
    """NaN or infinity anywhere in a transform's parameters (no parameter means either)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, f"must be a finite number, got {value}", None)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, (*path, k))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _non_finite(v, (*path, i))]
    return []


def _check_composite(
    info: TransformInfo, params: dict[str, Any], children: list[Any] | None
) -> list[ParamProblem]:
    from pydantic import ValidationError

    problems: list[ParamProblem] = []
    try:
        COMPOSITE_PARAMS[info.name].model_validate(params)
    except ValidationError as err:
        for item in err.errors(include_url=False):
            problems.append((tuple(item["loc"]), item["msg"].removeprefix("Value error, "), None))
    if info.name == "OneOf" and isinstance(children, list) and children:
        weights = [_child_p(child) for child in children]
        if all(w == 0 for w in weights):
            problems.append(
                (
                    ("transforms",),
                    "OneOf picks a child with its p as the weight, and every p here is 0",
                    None,
                )
            )
    low, high = COMPOSITE_CHILDREN.get(info.name, (1, None))
    if isinstance(children, list) and (
        len(children) < low or (high is not None and len(children) > high)
    ):
        wanted = f"exactly {low}" if low == high else f"at least {low}"
        problems.append(
            (("transforms",), f"{info.name} needs {wanted} transforms, got {len(children)}", None)
        )
    return problems


def _child_p(child: Any) -> float | None:
    """A child step's ``p`` (given, or its class default); None when it cannot be known."""
    params: Any
    if isinstance(child, str):
        name, params = child, {}
    elif isinstance(child, dict) and len(child) == 1:
        ((name, params),) = child.items()
    else:
        return None
    info = catalog().get(name) if isinstance(name, str) else None
    if info is None:
        return None
    p = (params or {}).get("p", info.defaults.get("p")) if isinstance(params, dict) else None
    return float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) else None
