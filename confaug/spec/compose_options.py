"""``bbox_params`` and ``keypoint_params``: albumentations' options of a Compose, checked.

albumentations stores these options unchecked and fails on the first sample instead, so
they are validated here from the classes' typed signatures, as strictly as the rest of a
config (``clip: 'yes'`` is not a boolean), and their label fields are checked for what
would break every call: a name given twice, or the name of a target.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, WithJsonSchema, create_model

from confaug.errors import did_you_mean
from confaug.reading.document import KeyPath
from confaug.spec.model import RESERVED_TARGETS
from confaug.spec.vocab import (
    CALL_KEYWORDS,
    MAX_PIXELS,
    Finite,
    describe,
    error_location,
    literal_hint,
)

#: (path, message, hint, whether the problem is about the key rather than the value)
OptionProblem = tuple[KeyPath, str, str | None, bool]

_KINDS = ("bbox_params", "keypoint_params")
# A tuple from Python is checked as a list. The JSON Schema also states what
# ``_label_problems`` refuses in one list: a name twice, or a target's name.
LabelFields = Annotated[
    list[str] | None,
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "array",
                    "items": {"type": "string", "not": {"enum": sorted(RESERVED_TARGETS)}},
                    "uniqueItems": True,
                },
                {"type": "null"},
            ]
        }
    ),
]


@cache
def options_model(kind: str) -> tuple[type[BaseModel], list[str]]:
    """A strict Pydantic model of BboxParams / KeypointParams, and their option names."""
    import inspect
    import typing

    from confaug._albu import albumentations

    A = albumentations()
    cls = A.BboxParams if kind == "bbox_params" else A.KeypointParams
    hints = typing.get_type_hints(cls.__init__)
    fields: dict[str, Any] = {}
    names: list[str] = []
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        names.append(name)
        annotation = hints.get(name, Any)
        if kind == "keypoint_params" and name == "format":
            from albumentations.core.keypoints_utils import keypoint_formats

            annotation = Literal[tuple(sorted(keypoint_formats))]
        elif name == "label_fields":
            annotation = LabelFields  # a string is a Sequence too: 'labels' is not 3 fields
        elif annotation is float:
            annotation = Finite
        elif annotation == float | None:
            annotation = Finite | None
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (annotation, default)
    model = create_model(
        f"{cls.__name__}Options",
        __config__=ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True),
        **fields,
    )
    return model, names


def compose_option_problems(data: dict[str, Any]) -> Iterator[OptionProblem]:
    """The problems of a config's ``bbox_params`` and ``keypoint_params``."""
    seen: dict[str, str] = {}  # label field → the options that named it first
    targets = data.get("additional_targets")
    extra = set(targets) if isinstance(targets, dict) else set()
    for key in _KINDS:
        options = data.get(key)
        if not isinstance(options, dict):
            continue
        problems = list(_model_problems(key, options))
        yield from problems
        if problems:
            continue
        yield from _label_problems(key, options.get("label_fields") or (), seen, extra)
        yield from _threshold_problems(key, options)
        yield from _init_problems(key, options)
    if isinstance(targets, dict):
        yield from _target_name_problems(targets)
        yield from _target_kind_problems(targets, data)


#: The largest value of each size threshold of ``bbox_params`` that can keep a box. A box
#: lies within its image (albumentations clips or refuses the rest), and no image side can
#: pass OpenCV's 32,767 pixels, so a larger minimum drops every box of every image: a
#: dataset with all its labels gone and no word said. (The thresholds are in pixels in
#: albumentations 2.x, whatever the box format.)
_MAX_THRESHOLDS: dict[str, tuple[float, str]] = {
    "min_width": (MAX_PIXELS, "pixels (OpenCV's largest image side)"),
    "min_height": (MAX_PIXELS, "pixels (OpenCV's largest image side)"),
    "min_area": (MAX_PIXELS * MAX_PIXELS, "square pixels (OpenCV's largest image)"),
}


#: ``min_visibility`` is the fraction of a box's area left in the image that keeps the box.
_VISIBILITY = (0.0, 1.0)

#: The range of each threshold option, (least, most), by Compose option: what
#: ``_threshold_problems`` refuses outside it, and what the JSON Schema states.
OPTION_BOUNDS: dict[str, dict[str, tuple[float, float]]] = {
    "bbox_params": {
        "min_visibility": _VISIBILITY,
        **{name: (0.0, limit) for name, (limit, _) in _MAX_THRESHOLDS.items()},
    },
    "keypoint_params": {},
}


def _threshold_problems(key: str, options: dict[str, Any]) -> Iterator[OptionProblem]:
    """Thresholds no box can pass: each one removes every box (and its labels) silently."""
    visibility = options.get("min_visibility")
    least, most = _VISIBILITY
    if isinstance(visibility, (int, float)) and not least <= visibility <= most:
        yield (
            (key, "min_visibility"),
            f"must be a fraction in [0, 1], got {visibility}; a box keeps its place when at "
            "least this fraction of its area is left in the image, so above 1 none is kept",
            "it is a fraction, not a percentage: 0.3 means 30 %",
            False,
        )
    for name, (limit, unit) in _MAX_THRESHOLDS.items():
        value = options.get(name)
        if not isinstance(value, (int, float)):
            continue  # the default, or refused by the model
        least, _ = OPTION_BOUNDS["bbox_params"][name]
        if value < least:
            yield (key, name), f"must be ≥ {least:g}, got {value}", None, False
        elif value > limit:
            yield (
                (key, name),
                f"must be at most {limit:,} {unit}, got {value:g}: no box can be that large, "
                "so every box would be dropped",
                None,
                False,
            )


def _target_name_problems(targets: dict[Any, Any]) -> Iterator[OptionProblem]:
    """Additional targets named like a keyword of the pipeline call itself: such a target
    can never be passed (``pipeline(image=..., seed=...)`` takes ``seed`` as the seed)."""
    for name in targets:
        if name in CALL_KEYWORDS:
            yield (
                ("additional_targets", name),
                f"'{name}' is a keyword of the pipeline call (pipeline(image=..., {name}=...)), "
                "so a target of that name could never be passed; give it another name, "
                f"e.g. '{name}_image'",
                None,
                True,
            )


#: The Compose options that give a kind of target its format, and an example of them.
_FORMATTED_BY: dict[str, tuple[str, str]] = {
    "bboxes": ("bbox_params", "{format: pascal_voc}"),
    "keypoints": ("keypoint_params", "{format: xy}"),
}


def _target_kind_problems(targets: dict[Any, Any], data: dict[str, Any]) -> Iterator[OptionProblem]:
    """Box or keypoint targets in a config without the options that give them a format:
    every call that passes one is refused (albumentations would return them unmoved), so
    the spec alone rules them out, at load."""
    for name, kind in targets.items():
        if not isinstance(kind, str) or kind not in _FORMATTED_BY:
            continue
        options, example = _FORMATTED_BY[kind]
        if data.get(options) is None:  # missing, or dropped with null; a wrong value is its own
            yield (
                ("additional_targets", name),
                f"additional target '{name}' holds {kind}, and the config has no {options}, so "
                f"their format is unknown and they could not follow the image; add e.g. "
                f"'{options}: {example}', or remove the target",
                None,
                False,
            )


def _model_problems(key: str, options: dict[str, Any]) -> Iterator[OptionProblem]:
    model, allowed = options_model(key)
    fields = options.get("label_fields")
    if isinstance(fields, tuple):
        options = {**options, "label_fields": list(fields)}
    try:
        model.model_validate(options)
    except ValidationError as err:
        for item in err.errors(include_url=False):
            loc = tuple(item["loc"])
            if item["type"] == "extra_forbidden":
                name = str(loc[0])
                message = f"unknown option of {model.__name__.removesuffix('Options')}"
                yield (key, name), message, did_you_mean(name, allowed), True
            elif item["type"] == "missing":
                yield (key,), f"required option '{loc[0]}' is missing", None, False
            else:
                hint = literal_hint(item) if item["type"] == "literal_error" else None
                message = item["msg"].removeprefix("Value error, ")
                if item["type"].endswith("_type"):  # strictness: say what was given
                    message += f", got {describe(item.get('input'))}"
                yield (key, *error_location(options, loc)[0]), message, hint, False


def _label_problems(
    key: str, fields: Any, seen: dict[str, str], extra: set[str]
) -> Iterator[OptionProblem]:
    """A label field named twice (albumentations' KeyError on every call), or named like a
    target (its TypeError on every call)."""
    own: set[str] = set()
    for index, name in enumerate(fields):
        path = (key, "label_fields", index)
        if name in own:
            yield path, f"label field '{name}' is listed twice", None, False
        elif name in RESERVED_TARGETS:
            yield (
                path,
                f"'{name}' is a target, not a label field; label fields name the labels that "
                "travel with the boxes or keypoints, e.g. 'labels'",
                None,
                False,
            )
        elif name in seen:
            yield (
                path,
                f"label field '{name}' is also a label field of {seen[name]}; give boxes and "
                "keypoints labels of their own names",
                None,
                False,
            )
        elif name not in extra:  # a clash with additional_targets is the model's problem
            own.add(name)
            seen[name] = key
            continue
        own.add(name)


def _init_problems(key: str, options: dict[str, Any]) -> Iterator[OptionProblem]:
    from confaug._albu import albumentations

    A = albumentations()
    cls = A.BboxParams if key == "bbox_params" else A.KeypointParams
    try:
        cls(**options)
    except (TypeError, ValueError) as err:  # checks albumentations makes in __init__
        yield (key,), str(err), None, False
