"""albumentations' own serialized pipelines (``A.save`` / ``A.to_dict``) as confaug documents.

``{__version__, transform: {__class_fullname__: Compose, transforms: [...]}}`` becomes
``{version: 1, transforms: [{ClassName: {params}}], bbox_params: ..., ...}``, with every
position carried over so errors still point into the original file.
"""

from __future__ import annotations

from typing import Any

from confaug.reading.document import Document, Mark, Path, SourceMap

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


def _convert_step(raw: Any, old: Path, new: Path, source: SourceMap, target: SourceMap) -> Any:
    if not isinstance(raw, dict) or _CLASS not in raw:
        target.update(source.moved(old, new))
        return raw
    name = _short(raw[_CLASS])
    params: dict[str, Any] = {}
    step_path = (*new, str(name))
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
                _convert_step(item, (*old, key, i), (*step_path, key, i), source, target)
                for i, item in enumerate(value)
            ]
            for table_from, table_to in (
                (source.keys, target.keys),
                (source.values, target.values),
            ):
                if (*old, key) in table_from:
                    table_to[(*step_path, key)] = table_from[(*old, key)]
        else:
            params[key] = value
            target.update(source.moved((*old, key), (*step_path, key)))
    return {name: params}


def from_albumentations(document: Document) -> Document:
    """Convert an albumentations serialized pipeline into confaug's spec shape."""
    source = document.source_map
    target = SourceMap()
    root = document.data["transform"]
    data: dict[str, Any] = {"version": 1}
    if _short(root.get(_CLASS)) == "Compose":
        steps = root.get("transforms", [])
        data["transforms"] = [
            _convert_step(step, ("transform", "transforms", i), ("transforms", i), source, target)
            for i, step in enumerate(steps if isinstance(steps, list) else [])
        ]
        for key in ("transform", ("transform", "transforms")):
            path = key if isinstance(key, tuple) else (key,)
            if path in source.values:
                target.values[("transforms",)] = source.values[path]
        for key, value in root.items():
            if key in (_CLASS, "transforms"):
                continue
            if key in _COMPOSE_DEFAULTS and value == _COMPOSE_DEFAULTS[key]:
                continue
            new_key = key if key in _COMPOSE_KEYS else f"compose_{key}"
            data[new_key] = value
            target.update(source.moved(("transform", key), (new_key,)))
            if ("transform", key) in source.keys:
                target.keys[(new_key,)] = source.keys[("transform", key)]
    else:
        data["transforms"] = [
            _convert_step(root, ("transform",), ("transforms", 0), source, target)
        ]
    return Document(data, target, document.file, document.chain)
