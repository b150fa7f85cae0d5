"""From a read document to a valid Spec, or a ConfigError listing every problem with its place."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.document import Document, Path, dotted
from confaug.spec.catalog import COMPOSITES, catalog, check_params
from confaug.spec.model import Spec

_QUOTED = re.compile(r"'([^']*)'")


def _yaml_path(data: Any, loc: tuple[Any, ...]) -> Path:
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
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(path)


class _Collector:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str, hint: str | None = None, *, at_key: bool = False) -> None:
        mark = self.document.source_map.locate(path, prefer_key=at_key)
        self.problems.append(
            Problem(
                mark.file if mark else self.document.file,
                mark.line if mark else None,
                mark.column if mark else None,
                dotted(path),
                message,
                hint,
            )
        )


def _pydantic_problems(err: ValidationError, collector: _Collector) -> None:
    data = collector.document.data
    for item in err.errors(include_url=False):
        loc = tuple(item["loc"])
        path = _yaml_path(data, loc)
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
            expected = _QUOTED.findall(str(item.get("ctx", {}).get("expected", "")))
            given = item.get("input")
            if isinstance(given, str) and expected:
                hint = did_you_mean(given, expected)
        if kind == "missing":
            message = f"required key '{path[-1]}' is missing"
            path = path[:-1]
        collector.add(path, message, hint)


def _check_steps(steps: Any, base: Path, collector: _Collector) -> None:
    if not isinstance(steps, list):
        return
    known = catalog()
    for index, raw in enumerate(steps):
        path = (*base, index)
        if isinstance(raw, str):
            name, params = raw, {}
            name_path = path
        elif isinstance(raw, dict) and len(raw) == 1:
            ((name, params),) = raw.items()
            name_path = (*path, name)
            if params is None:
                params = {}
            if not isinstance(params, dict):
                continue  # reported by the model
        else:
            continue
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
        for sub, message, hint in check_params(info, params):
            collector.add((*name_path, *sub), message, hint, at_key=message.startswith("unknown parameter"))
        if children is not None:
            _check_steps(children, (*name_path, "transforms"), collector)


def _check_compose_options(data: dict[str, Any], collector: _Collector) -> None:
    import inspect

    from confaug._albu import albumentations

    A = albumentations()
    for key, cls in (("bbox_params", A.BboxParams), ("keypoint_params", A.KeypointParams)):
        options = data.get(key)
        if not isinstance(options, dict):
            continue
        allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        unknown = [k for k in options if k not in allowed]
        for name in unknown:
            collector.add((key, name), f"unknown option of {cls.__name__}", did_you_mean(name, allowed), at_key=True)
        if unknown:
            continue
        try:
            cls(**options)
        except Exception as err:  # albumentations raises ValueError or TypeError here
            collector.add((key,), str(err))


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
                f"no function is registered as '{function}'; call confaug.register('{function}', fn) "
                "in Python before loading (configs cannot import code)",
                did_you_mean(function, registered_names()),
            )
    if collector.problems or spec is None:
        raise ConfigError(collector.problems)
    return spec
