"""``IdgTransform``: Keras ImageDataGenerator's random transform as one albumentations step.

This module imports albumentations when it is imported; ``confaug.idg`` loads it only on
first use of ``confaug.idg.IdgTransform``, so ``import confaug`` stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from confaug._albu import albumentations
from confaug.idg.params import IdgParams, IdgSampler, Number, RangeLike
from confaug.idg.warp import (
    apply_params,
    apply_params_to_bboxes,
    apply_params_to_keypoints,
    apply_params_to_mask,
    border_mode,
    float_units,
    interpolation_flag,
)

A = albumentations()
_DualTransform: Any = A.DualTransform  # a base class the type checker cannot see

_SAMPLER_ARGS = tuple(f.name for f in fields(IdgSampler) if f.init)
_INIT_ARGS = (*_SAMPLER_ARGS, "fill_mode", "cval", "interpolation_order")


def _plain(value: Any) -> Any:
    """Tuples, arrays and NumPy scalars → lists and Python numbers, for ``A.to_dict``/YAML."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class IdgTransform(_DualTransform):
    """Keras ``ImageDataGenerator``'s random transform: one warp per image, then channel
    shift, flips and brightness, with Keras' distributions (see :class:`IdgSampler` for the
    deliberate differences) and ``fill_mode``/``cval``/``interpolation_order`` as in Keras.

    Images are uint8 or float in [0, 1] (``cval`` and ``channel_shift_range`` on the 0–255
    scale); a pipeline of the Keras keywords alone hands it float 0–255 images in their own
    units (``idg.warp.floats_up_to``). Masks get the same geometry with nearest
    interpolation and fill 0; keypoints and boxes follow. Randomness comes only from
    ``self.random_generator``, so ``A.Compose(seed=...)`` reproduces it. ``p`` defaults
    to 1: Keras always applies it.
    """

    def __init__(
        self,
        rotation_range: RangeLike = 0.0,
        width_shift_range: RangeLike = 0.0,
        height_shift_range: RangeLike = 0.0,
        shear_range: RangeLike = 0.0,
        zoom_range: RangeLike = 0.0,
        channel_shift_range: RangeLike = 0.0,
        brightness_range: Sequence[Number] | None = None,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        interpolation_order: int = 1,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.sampler = IdgSampler(
            rotation_range=rotation_range,
            width_shift_range=width_shift_range,
            height_shift_range=height_shift_range,
            shear_range=shear_range,
            zoom_range=zoom_range,
            channel_shift_range=channel_shift_range,
            brightness_range=brightness_range,
            horizontal_flip=horizontal_flip,
            vertical_flip=vertical_flip,
        )
        border_mode(fill_mode)  # validate now, not on the first image
        interpolation_flag(interpolation_order)
        self.fill_mode = fill_mode
        self.cval = float(cval)
        self.interpolation_order = interpolation_order
        for name in _SAMPLER_ARGS:
            setattr(self, name, _plain(getattr(self.sampler, name)))

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        """Constructor arguments, for ``A.to_dict``/``A.save``."""
        return _INIT_ARGS

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Draw one :class:`IdgParams` for this sample's height and width."""
        height, width = params["shape"][:2]
        return {"idg": self.sampler.sample(self.random_generator, height, width)}

    def apply(self, img: np.ndarray, idg: IdgParams, **params: Any) -> np.ndarray:
        """Warp, channel shift, flips, brightness."""
        top, checked = float_units()
        return apply_params(
            img,
            idg,
            fill_mode=self.fill_mode,
            cval=self.cval,
            interpolation_order=self.interpolation_order,
            top=top,
            checked=checked,
        )

    def apply_to_mask(self, mask: np.ndarray, idg: IdgParams, **params: Any) -> np.ndarray:
        """Same geometry, nearest interpolation, fill 0, no photometric steps."""
        return apply_params_to_mask(mask, idg, fill_mode=self.fill_mode)

    def apply_to_keypoints(
        self, keypoints: np.ndarray, idg: IdgParams, **params: Any
    ) -> np.ndarray:
        """Keypoints in pixels, moved with the image."""
        height, width = params["shape"][:2]
        return apply_params_to_keypoints(keypoints, idg, height, width, fill_mode=self.fill_mode)

    def apply_to_bboxes(self, bboxes: np.ndarray, idg: IdgParams, **params: Any) -> np.ndarray:
        """Normalized boxes, moved with the image."""
        height, width = params["shape"][:2]
        return apply_params_to_bboxes(bboxes, idg, height, width, fill_mode=self.fill_mode)
