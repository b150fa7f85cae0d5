"""Keras ImageDataGenerator semantics: sampled parameters, one warp per image, standardize.

``IdgTransform`` (an albumentations transform) is loaded on first access, so importing
this package does not import albumentations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from confaug.idg.params import IdgParams, IdgSampler, ShiftRange
from confaug.idg.standardize import (
    FeaturewiseStats,
    NotFittedError,
    Standardizer,
    fit_featurewise,
)
from confaug.idg.warp import (
    apply_params,
    apply_params_to_bboxes,
    apply_params_to_keypoints,
    apply_params_to_mask,
    flip_matrix,
    forward_matrix,
    inverse_matrix,
)

if TYPE_CHECKING:
    from confaug.idg.transform import IdgTransform

__all__ = [
    "FeaturewiseStats",
    "IdgParams",
    "IdgSampler",
    "IdgTransform",
    "NotFittedError",
    "ShiftRange",
    "Standardizer",
    "apply_params",
    "apply_params_to_bboxes",
    "apply_params_to_keypoints",
    "apply_params_to_mask",
    "fit_featurewise",
    "flip_matrix",
    "forward_matrix",
    "inverse_matrix",
]


def __getattr__(name: str) -> Any:
    if name == "IdgTransform":
        from confaug.idg.transform import IdgTransform

        return IdgTransform
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
