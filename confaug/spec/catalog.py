"""The albumentations transforms a spec may name, and checking their parameters.

Each transform's parameters are checked against the transform's own Pydantic
``InitSchema`` (plus its ``__init__`` signature for unknown names) before anything is built.
Transforms that read files or take callables are left out: a config cannot reach them.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from confaug._albu import albumentations
from confaug.spec.vocab import BORDER_MODES, INTERPOLATIONS

COMPOSITES = ("OneOf", "SomeOf", "Sequential", "RandomOrder", "OneOrOther", "SelectiveChannelTransform")
# Reach the file system or run code: reference_images/read_fn, font files, callables.
EXCLUDED = frozenset(
    {
        "BaseDomainAdaptation",
        "FDA",
        "HistogramMatching",
        "PixelDistributionAdaptation",
        "TextImage",
        "Lambda",
        "ToTensorV2",
    }
)
NAMED_BORDER_PARAMS = ("border_mode",)
NAMED_INTERPOLATION_PARAMS = ("interpolation", "mask_interpolation")
_SKIPPED_PARAMS = ("self", "strict", "always_apply", "args", "kwargs")


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
    for name, cls in SERIALIZABLE_REGISTRY.items():
        short = name.rsplit(".", 1)[-1]
        if short in EXCLUDED or short.startswith("Base") or short in found:
            continue
        composite = issubclass(cls, BaseCompose)
        if composite and short not in COMPOSITES:
            continue
        if not composite and not issubclass(cls, BasicTransform):
            continue
        if inspect.isabstract(cls) or getattr(A, short, None) is not cls:
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


def check_params(info: TransformInfo, params: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """Problems of ``params`` for ``info`` as (path within params, message, hint)."""
    from confaug.errors import did_you_mean

    problems: list[tuple[tuple[str | int, ...], str, str | None]] = []
    for key in params:
        if key not in info.params:
            problems.append(((key,), f"unknown parameter of {info.name}", did_you_mean(key, info.params)))
    for key in NAMED_BORDER_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value not in BORDER_MODES:
            problems.append(((key,), f"unknown border mode {value!r}; use one of {sorted(BORDER_MODES)}", did_you_mean(value, BORDER_MODES)))
    for key in NAMED_INTERPOLATION_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value not in INTERPOLATIONS:
            problems.append(((key,), f"unknown interpolation {value!r}; use one of {sorted(INTERPOLATIONS)}", did_you_mean(value, INTERPOLATIONS)))
    if problems or info.composite:
        return problems
    schema = getattr(info.cls, "InitSchema", None)
    if schema is None:
        return problems
    from pydantic import ValidationError

    full = {**info.defaults, **to_opencv(params)}
    fields = schema.model_fields
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema(
                **{k: v for k, v in full.items() if k in fields or k in info.params},
                strict=False,
            )
    except ValidationError as err:
        for item in err.errors(include_url=False):
            loc = tuple(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if loc and loc[0] not in params:
                # About a parameter left at its default: a required one, or a combination.
                if item["type"] == "missing":
                    message = f"missing required parameter '{loc[0]}'"
                else:
                    message = f"{'.'.join(map(str, loc))}: {message}"
                loc = ()
            problems.append((loc, message, None))
    except (TypeError, ValueError) as err:
        problems.append(((), str(err), None))
    return problems
