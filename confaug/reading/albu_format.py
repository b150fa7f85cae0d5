"""albumentations' own serialized pipelines (``A.save`` / ``A.to_dict``) as confaug documents.

``{__version__, transform: {__class_fullname__: Compose, transforms: [...]}}`` becomes
``{version: 1, transforms: [{ClassName: {params}}], bbox_params: ..., ...}``, with every
position carried over so errors still point into the original file.
"""

from __future__ import annotations

from typing import Any

from confaug.errors import ConfigError, Problem
from confaug.reading.document import Document, KeyPath, Mark, SourceMap, dotted, problem_at

_CLASS = "__class_fullname__"
_COMPOSE_KEYS = ("bbox_params", "keypoint_params", "additional_targets", "is_check_shapes")
_COMPOSE_DEFAULTS: dict[str, Any] = {
    "bbox_params": None,
    "keypoint_params": None,
    "additional_targets": {},
    "is_check_shapes": True,
    "p": 1.0,
    "strict": False,
    "mask_interpolation": None,
    "seed": None,
    "save_applied_params": False,
}


def is_albumentations_file(data: Any) -> bool:
    """True for the mapping that ``A.to_dict`` produces."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("transform"), dict)
        and _CLASS in data["transform"]
        and "version" not in data
    )


def _short(name: Any) -> Any:
    if isinstance(name, str) and "." in name:
        return name.rsplit(".", 1)[-1]
    return name


class _Converter:
    """Rewrites steps while carrying their positions; collects what cannot be converted."""

    def __init__(self, document: Document) -> None:
        self.file = document.file
        self.source = document.source_map
        self.target = SourceMap()
        self.problems: list[Problem] = []

    def problem(self, at: KeyPath, field: KeyPath, message: str) -> None:
        self.problems.append(
            problem_at(self.source.locate(at), dotted(field), message, file=self.file)
        )

    def step(self, raw: Any, old: KeyPath, new: KeyPath) -> Any:
        source, target = self.source, self.target
        if not isinstance(raw, dict) or _CLASS not in raw:
            target.update(source.moved(old, new))
            return raw  # validation says what is wrong with it
        name = _short(raw[_CLASS])
        if not isinstance(name, str) or not name:
            self.problem((*old, _CLASS), new, f"{_CLASS} must be a transform class name")
            return {}
        params: dict[str, Any] = {}
        step_path = (*new, name)
        mark: Mark | None = source.values.get(old)
        if mark is not None:
            target.values[new] = mark
        name_mark = source.values.get((*old, _CLASS))
        if name_mark is not None:
            target.keys[step_path] = name_mark
            target.values[step_path] = name_mark
        for key, value in raw.items():
            if key == _CLASS:
                continue
            if key == "transforms" and isinstance(value, list):
                params[key] = [
                    self.step(item, (*old, key, i), (*step_path, key, i))
                    for i, item in enumerate(value)
                ]
                for table_from, table_to in (
                    (source.keys, target.keys),
                    (source.values, target.values),
                ):
                    old_key, new_key = (*old, key), (*step_path, key)
                    if old_key in table_from:
                        table_to[new_key] = table_from[old_key]
            else:
                params[key] = value
                target.update(source.moved((*old, key), (*step_path, key)))
        return {name: params}

    def compose_options(self, root: dict[str, Any], data: dict[str, Any]) -> None:
        source, target = self.source, self.target
        for key, value in root.items():
            if key in (_CLASS, "transforms"):
                continue
            default = _COMPOSE_DEFAULTS.get(key, object())
            if value == default and isinstance(value, bool) == isinstance(default, bool):
                continue
            if key not in _COMPOSE_KEYS:
                message = f"the Compose option '{key}' has no confaug equivalent; remove it"
                if key in _COMPOSE_DEFAULTS:
                    message += f" (or set it to {default!r})"
                self.problem(("transform", key), (key,), message)
                continue
            data[key] = value
            target.update(source.moved(("transform", key), (key,)))
            if ("transform", key) in source.keys:
                target.keys[(key,)] = source.keys[("transform", key)]


def from_albumentations(document: Document) -> Document:
    """Convert an albumentations serialized pipeline into confaug's spec shape."""
    converter = _Converter(document)
    root = document.data["transform"]
    data: dict[str, Any] = {"version": 1}
    if _short(root.get(_CLASS)) == "Compose":
        steps = root.get("transforms", [])
        if not isinstance(steps, list):
            converter.problem(
                ("transform", "transforms"),
                ("transforms",),
                "a Compose's transforms must be a list",
            )
            steps = []
        data["transforms"] = [
            converter.step(step, ("transform", "transforms", i), ("transforms", i))
            for i, step in enumerate(steps)
        ]
        for path in (("transform",), ("transform", "transforms")):
            if path in document.source_map.values:
                converter.target.values[("transforms",)] = document.source_map.values[path]
        converter.compose_options(root, data)
    else:
        data["transforms"] = [converter.step(root, ("transform",), ("transforms", 0))]
    if converter.problems:
        raise ConfigError(converter.problems)
    return Document(data, converter.target, document.file, document.chain)
