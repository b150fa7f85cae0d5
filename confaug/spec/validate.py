"""From a read document to a valid Spec, or a ConfigError listing every problem with its place."""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.document import Document, KeyPath, dotted, key_path, problem_at
from confaug.spec.catalog import COMPOSITES, catalog, check_params
from confaug.spec.model import Spec

_QUOTED = re.compile(r"'([^']*)'")


def _yaml_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Pydantic's location → the path in the YAML (composite names put back in)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if (
            part == "transforms"
            and index > 0
            and isinstance(node, dict)
            and len(node) == 1
            and "transforms" not in node
        ):
            ((name, body),) = node.items()
            path.append(name)
            node = body
        path.append(part)
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
        else:
            node = None
    return tuple(path)


class _Collector:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.problems: list[Problem] = []

    def add(
        self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False
    ) -> None:
        mark = self.document.source_map.locate(path, prefer_key=at_key)
        self.problems.append(problem_at(mark, dotted(path), message, hint, file=self.document.file))


def _literal_hint(item: Any) -> str | None:
    """A did-you-mean for a string that is not one of a Literal's values."""
    expected = _QUOTED.findall(str(item.get("ctx", {}).get("expected", "")))
    given = item.get("input")
    return did_you_mean(given, expected) if isinstance(given, str) and expected else None


def _pydantic_problems(err: ValidationError, collector: _Collector) -> None:
    data = collector.document.data
    for item in err.errors(include_url=False):
        loc = tuple(item["loc"])
        at_key = loc[-1:] == ("[key]",)  # a mapping key failed its own check
        path = _yaml_path(data, loc[:-1] if at_key else loc)
        kind = item["type"]
        message = item["msg"].removeprefix("Value error, ")
        hint = None
        if kind == "extra_forbidden":
            parent = Spec.model_fields if len(path) == 1 else {}
            message = "unknown key"
            hint = did_you_mean(str(path[-1]), parent)
            collector.add(path, message, hint, at_key=True)
            continue
        if kind == "literal_error":
            hint = _literal_hint(item)
        if kind == "missing":
            message = f"required key '{path[-1]}' is missing"
            path = path[:-1]
        if not path and isinstance(data, dict):
            # A check across keys: point at the first key its message names.
            named = [
                k for k in data if isinstance(k, str) and re.search(rf"\b{re.escape(k)}\b", message)
            ]
            if named:
                path = (min(named, key=message.index),)
        collector.add(path, message, hint, at_key=at_key)


def _split_step(raw: Any, path: KeyPath) -> tuple[str, Any, KeyPath, KeyPath] | None:
    """A step's (name, params, path of its name, path of its params) in any shape, or None."""
    if isinstance(raw, str):
        return raw, {}, path, path
    if isinstance(raw, dict) and "name" in raw and set(raw) <= {"name", "params", "transforms"}:
        # The model's own shape, {name, params, transforms}, as TransformStep dumps it in Python.
        name = raw["name"]
        if not isinstance(name, str):
            return None
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            return None
        if "transforms" in raw:
            params = {**params, "transforms": raw["transforms"]}
        return name, params, (*path, "name"), (*path, "params")
    if isinstance(raw, dict) and len(raw) == 1:
        ((name, params),) = raw.items()
        return name, {} if params is None else params, (*path, name), (*path, name)
    return None


def _check_steps(steps: Any, base: KeyPath, collector: _Collector) -> None:
    if not isinstance(steps, list):
        return
    known = catalog()
    for index, raw in enumerate(steps):
        path = (*base, index)
        split = _split_step(raw, path)
        if split is None:
            continue  # reported by the model
        name, params, name_path, params_path = split
        if not isinstance(params, dict):
            continue  # reported by the model
        info = known.get(name)
        if info is None:
            collector.add(
                name_path,
                f"unknown transform '{name}'",
                did_you_mean(name, known),
                at_key=True,
            )
            continue
        params = dict(params)
        children = params.pop("transforms", None) if name in COMPOSITES else None
        for sub, message, hint in check_params(info, params, children):
            # Unknown parameters and problems of the step as a whole point at the name.
            at_key = not sub or message.startswith("unknown parameter")
            collector.add((*params_path, *sub), message, hint, at_key=at_key)
        if isinstance(children, list):
            _check_steps(children, (*params_path, "transforms"), collector)


@cache
def _options_model(kind: str) -> tuple[type[BaseModel], list[str]]:
    """A Pydantic model of BboxParams / KeypointParams, from their typed signatures.

    albumentations stores these options unchecked and fails on the first sample instead.
    """
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
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (annotation, default)
    model = create_model(
        f"{cls.__name__}Options",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )
    return model, names


def _check_compose_options(data: dict[str, Any], collector: _Collector) -> None:
    for key in ("bbox_params", "keypoint_params"):
        options = data.get(key)
        if not isinstance(options, dict):
            continue
        model, allowed = _options_model(key)
        try:
            model.model_validate(options)
        except ValidationError as err:
            for item in err.errors(include_url=False):
                loc = tuple(item["loc"])
                if item["type"] == "extra_forbidden":
                    name = str(loc[0])
                    collector.add(
                        (key, name),
                        f"unknown option of {model.__name__.removesuffix('Options')}",
                        did_you_mean(name, allowed),
                        at_key=True,
                    )
                elif item["type"] == "missing":
                    collector.add((key,), f"required option '{loc[0]}' is missing")
                else:
                    hint = _literal_hint(item) if item["type"] == "literal_error" else None
                    collector.add((key, *loc), item["msg"].removeprefix("Value error, "), hint)
            continue
        from confaug._albu import albumentations

        A = albumentations()
        cls = A.BboxParams if key == "bbox_params" else A.KeypointParams
        try:
            cls(**options)
        except (TypeError, ValueError) as err:  # checks albumentations makes in __init__
            collector.add((key,), str(err))


def locate(error: ConfigError, document: Document) -> ConfigError:
    """``error`` with each problem that lacks a place located in ``document`` by its field."""
    collector = _Collector(document)
    for problem in error.problems:
        if problem.line is not None:
            collector.problems.append(problem)
            continue
        path = key_path(problem.field) if problem.field else ()
        collector.add(path, problem.message, problem.hint)
    return ConfigError(collector.problems)


def validate_document(document: Document) -> Spec:
    """Validate a read document; raise ConfigError naming every problem."""
    collector = _Collector(document)
    data = document.data
    if not isinstance(data, dict):
        collector.add((), f"the top level of a config must be a mapping, not {type(data).__name__}")
        raise ConfigError(collector.problems)
    spec: Spec | None = None
    try:
        spec = Spec.model_validate(data)
    except ValidationError as err:
        _pydantic_problems(err, collector)
    _check_steps(data.get("transforms"), ("transforms",), collector)
    _check_compose_options(data, collector)
    function = data.get("preprocessing_function")
    if isinstance(function, str):
        from confaug.registry import lookup, registered_names

        if lookup(function) is None:
            collector.add(
                ("preprocessing_function",),
                f"no function is registered as '{function}'; "
                f"call confaug.register('{function}', fn) "
                "in Python before loading (configs cannot import code)",
                did_you_mean(function, registered_names()),
            )
    if collector.problems or spec is None:
        raise ConfigError(collector.problems)
    return spec
