"""Spec → ``albumentations.Compose``: every decision made once, here, not per image."""

from __future__ import annotations

import warnings
from typing import Any

from confaug._albu import albumentations
from confaug.errors import ConfigError, Problem
from confaug.spec.catalog import catalog, to_opencv
from confaug.spec.model import GEOMETRIC_KEYWORDS, Spec
from confaug.spec.steps import TransformStep
from confaug.spec.vocab import BORDER_MODES, INTERPOLATIONS

# scipy spline order used for the Keras warp when only a named interpolation is given.
# warpAffine has no area kernel (OpenCV treats INTER_AREA as bilinear there), so "area"
# applies to the listed transforms and the warp stays bilinear.
_NAME_TO_ORDER = {"nearest": 0, "bilinear": 1, "bicubic": 3, "area": 1, "lanczos": 4}


def keras_step(spec: Spec) -> Any | None:
    """The single albumentations transform doing the Keras keywords, or None when all are off."""
    if not spec.has_keras_augmentation:
        return None
    from confaug.idg.transform import IdgTransform

    return IdgTransform(
        **{key: getattr(spec, key) for key in GEOMETRIC_KEYWORDS},
        fill_mode=spec.fill_mode,
        cval=spec.cval,
        interpolation_order=warp_order(spec),
    )


def warp_order(spec: Spec) -> int:
    """The Keras-style spline order of the warp: ``interpolation_order``, else from the name."""
    if spec.interpolation_order is not None:
        return spec.interpolation_order
    return _NAME_TO_ORDER[spec.interpolation]


def _shared_defaults(spec: Spec, params: tuple[str, ...]) -> dict[str, Any]:
    """Top-level fill_mode / cval / interpolation, for steps that did not set their own."""
    shared: dict[str, Any] = {}
    if "fill_mode" in spec.model_fields_set and "border_mode" in params:
        shared["border_mode"] = BORDER_MODES[spec.fill_mode]
    if "interpolation" in spec.model_fields_set and "interpolation" in params:
        shared["interpolation"] = INTERPOLATIONS[spec.interpolation]
    return shared


def build_step(step: TransformStep, spec: Spec, path: str) -> Any:
    """One listed step as an albumentations object; failures become ConfigError at ``path``."""
    info = catalog().get(step.name)
    if info is None:
        raise ConfigError([Problem(None, None, None, path, f"unknown transform '{step.name}'")])
    params = {**_shared_defaults(spec, info.params), **to_opencv(step.params)}
    if step.transforms is not None:
        params["transforms"] = [
            build_step(child, spec, f"{path}.{step.name}.transforms.{i}")
            for i, child in enumerate(step.transforms)
        ]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return info.cls(**params)
    except ConfigError:
        raise
    except Exception as err:  # albumentations validates in __init__ with assorted exceptions
        message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise ConfigError([Problem(None, None, None, f"{path}.{step.name}", message)]) from None


def build_compose(spec: Spec) -> Any:
    """The albumentations ``Compose`` for ``spec``: the Keras warp first, then listed steps."""
    A = albumentations()
    steps: list[Any] = []
    keras = keras_step(spec)
    if keras is not None:
        steps.append(keras)
    steps.extend(
        build_step(step, spec, f"transforms.{i}") for i, step in enumerate(spec.transforms)
    )
    options: dict[str, Any] = {
        "bbox_params": spec.bbox_params,
        "keypoint_params": spec.keypoint_params,
        "additional_targets": dict(spec.additional_targets) or None,
        "is_check_shapes": spec.is_check_shapes,
    }
    try:
        return A.Compose(steps, **options)
    except Exception as err:
        raise ConfigError([Problem(None, None, None, "transforms", str(err))]) from None
