"""Every transform confaug can name, saved by ``A.save``, gives ``A.load``'s output (issue 14).

For each name in ``confaug.spec.catalog.catalog()`` the table below holds parameter sets
written for these tests in the manner of albumentations' own serialization suite: values away
from the defaults, non-default interpolations, fills, tuple ranges, border modes. Each set is
put in ``A.Compose``, saved with ``A.save`` as YAML and as JSON, and the file's
``confaug.load_pipeline`` pipeline is run against ``A.load``'s, seeded as the README says
(``set_random_state(np.random.default_rng(s), random.Random(s))``), on image + mask (uint8
and float32 in [0, 1]), and with boxes or keypoints where the transform moves them.

A case that does not give ``A.load``'s output is in ``EXCEPTIONS``, and each of those names
the row of SECURITY.md that lists it (the test reads SECURITY.md, so an unlisted refusal
fails). Float outputs are compared with ``np.clip`` of albumentations' (README: "Float images
are kept in their range on purpose"). ``UNSTEADY_IN_ALBUMENTATIONS`` names the one transform
whose float output albumentations itself does not repeat bit for bit.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import ConfigError, DataError
from confaug.opencv_threads import one_thread
from confaug.spec.catalog import catalog

A = pytest.importorskip("albumentations")
cv2 = pytest.importorskip("cv2")

ROOT = Path(__file__).resolve().parent.parent
H, W = 48, 56
# A one-transform Compose draws once for its own p=1, then the step draws against its p:
# with random.Random(s), the second draw is 0.758 for s=0 (a p=0.5 step stays off) and 0.103
# for s=4 (it fires). test_the_two_seeds_split_a_half_chance_step checks this.
SEEDS = (0, 4)
# Steps that set the output's dtype and range: their float outputs are not clipped (README).
RANGE_SETTING = ("Normalize", "ToFloat", "FromFloat")

# Setups: "image" = image + mask, uint8 and float32; "float"/"uint8" = only that dtype (for
# steps that need it); "bboxes" / "keypoints" = uint8 image + mask with boxes / keypoints in
# the Compose's bbox_params / keypoint_params; "volume" = volume + mask3d (3-D transforms).
IMAGE, BBOXES, KEYPOINTS, VOLUME = "image", "bboxes", "keypoints", "volume"


@dataclass(frozen=True)
class Case:
    """One parameter set of one transform, and the setups it runs on."""

    params: dict[str, Any]
    setups: tuple[str, ...] = ()  # () = image, plus bboxes/keypoints when the class moves them
    p: float = 0.5
    extra: str = ""  # a per-sample key the transform reads (see _extra_data)
    image: str = ""  # "float", "uint8" or "gray" to restrict the image setup


def _c(params: dict[str, Any] | None = None, **options: Any) -> Case:
    return Case(params or {}, **options)


# --- the parameter table (values of my own; the suite's choices of *what* to vary) ---------
CASES: dict[str, list[Case]] = {
    # image-only: colour, noise, blur, weather, compression
    "AdditiveNoise": [
        _c(
            {
                "noise_type": "gaussian",
                "spatial_mode": "per_pixel",
                "noise_params": {"mean_range": (0.0, 0.02), "std_range": (0.03, 0.08)},
            }
        ),
        _c({"noise_type": "laplace", "spatial_mode": "shared", "approximation": 0.5}),
    ],
    "AdvancedBlur": [
        _c(
            {
                "blur_limit": (3, 7),
                "sigma_x_limit": (0.3, 1.2),
                "sigma_y_limit": (0.4, 0.9),
                "rotate_limit": (-45, 30),
                "beta_limit": (0.6, 4.0),
                "noise_limit": (0.8, 1.2),
            }
        )
    ],
    "AutoContrast": [_c({"cutoff": 2, "method": "pil"}), _c({"method": "cdf", "ignore": 0})],
    "Blur": [_c({"blur_limit": (3, 7)})],
    "CLAHE": [_c({"clip_limit": (1.5, 3.0), "tile_grid_size": (4, 6)})],
    "ChannelDropout": [_c({"channel_drop_range": (1, 2), "fill": 17})],
    "ChannelShuffle": [_c()],
    "ChromaticAberration": [
        _c(
            {
                "primary_distortion_limit": 0.06,
                "secondary_distortion_limit": 0.03,
                "mode": "red_blue",
                "interpolation": cv2.INTER_CUBIC,
            }
        )
    ],
    "ColorJitter": [
        _c({"brightness": (0.8, 1.2), "contrast": 0.3, "saturation": (0.5, 1.5), "hue": 0.12})
    ],
    "Defocus": [_c({"radius": (3, 5), "alias_blur": (0.1, 0.4)})],
    "Downscale": [
        _c(
            {
                "scale_range": (0.3, 0.6),
                "interpolation_pair": {"downscale": cv2.INTER_NEAREST, "upscale": cv2.INTER_CUBIC},
            }
        )
    ],
    "Emboss": [_c({"alpha": (0.3, 0.6), "strength": (0.4, 0.9)})],
    "Equalize": [
        _c({"mode": "cv", "by_channels": True}),
        _c({"mode": "pil", "by_channels": False}),
    ],
    "FancyPCA": [_c({"alpha": 0.2})],
    "FromFloat": [_c({"dtype": "uint8", "max_value": 255.0}, p=1.0, image="float")],
    "GaussNoise": [
        _c(
            {
                "std_range": (0.1, 0.3),
                "mean_range": (-0.05, 0.05),
                "per_channel": True,
                "noise_scale_factor": 0.5,
            }
        )
    ],
    "GaussianBlur": [_c({"blur_limit": (3, 7), "sigma_limit": (0.5, 1.5)})],
    "GlassBlur": [_c({"sigma": 0.5, "max_delta": 2, "iterations": 1, "mode": "fast"})],
    "HEStain": [
        _c(
            {
                "method": "macenko",
                "intensity_scale_range": (0.7, 1.3),
                "intensity_shift_range": (-0.05, 0.05),
                "augment_background": True,
            },
            image="uint8",
        ),
        _c({"method": "random_preset", "augment_background": False}, image="uint8"),
        _c({"method": "preset", "preset": "e_heavy"}, image="uint8"),
    ],
    "HueSaturationValue": [
        _c({"hue_shift_limit": 30, "sat_shift_limit": (-40, 20), "val_shift_limit": 25})
    ],
    "ISONoise": [_c({"color_shift": (0.02, 0.06), "intensity": (0.2, 0.5)})],
    "Illumination": [
        _c({"mode": "linear", "intensity_range": (0.05, 0.15), "effect_type": "darken"}),
        _c({"mode": "corner", "intensity_range": (0.1, 0.2), "effect_type": "both"}),
        _c({"mode": "gaussian", "center_range": (0.2, 0.7), "sigma_range": (0.3, 0.6)}),
    ],
    "ImageCompression": [
        _c({"compression_type": "jpeg", "quality_range": (30, 60)}),
        _c({"compression_type": "webp", "quality_range": (50, 80)}),
    ],
    "InvertImg": [_c()],
    "MedianBlur": [_c({"blur_limit": (3, 5)})],
    "MotionBlur": [
        _c(
            {
                "blur_limit": (5, 9),
                "allow_shifted": False,
                "angle_range": (10, 80),
                "direction_range": (-0.5, 0.5),
            }
        )
    ],
    "MultiplicativeNoise": [
        _c({"multiplier": (0.8, 1.3), "per_channel": True, "elementwise": True})
    ],
    "Normalize": [
        _c({"mean": (0.4, 0.45, 0.5), "std": (0.2, 0.25, 0.22), "max_pixel_value": 255.0}, p=1.0),
        _c({"normalization": "image_per_channel"}, p=1.0),
        _c({"normalization": "min_max"}, p=1.0),
    ],
    "PlanckianJitter": [
        _c({"mode": "cied", "temperature_limit": (4000, 8000), "sampling_method": "uniform"})
    ],
    "PlasmaBrightnessContrast": [
        _c(
            {
                "brightness_range": (-0.2, 0.2),
                "contrast_range": (-0.3, 0.1),
                "plasma_size": 64,
                "roughness": 2.5,
            },
            p=1.0,  # at s=4 the drawn pattern leaves this image as it is
        )
    ],
    "PlasmaShadow": [
        _c({"shadow_intensity_range": (0.2, 0.6), "plasma_size": 64, "roughness": 3.0})
    ],
    "Posterize": [_c({"num_bits": (2, 6)})],
    "RGBShift": [_c({"r_shift_limit": 30, "g_shift_limit": (-20, 10), "b_shift_limit": 15})],
    "RandomBrightnessContrast": [
        _c(
            {
                "brightness_limit": (-0.3, 0.2),
                "contrast_limit": 0.4,
                "brightness_by_max": False,
                "ensure_safe_range": True,
            }
        )
    ],
    "RandomFog": [_c({"fog_coef_range": (0.5, 0.9), "alpha_coef": 0.1})],
    "RandomGamma": [_c({"gamma_limit": (60, 150)})],
    "RandomGravel": [_c({"gravel_roi": (0.1, 0.2, 0.8, 0.9), "number_of_patches": 3})],
    "RandomRain": [
        _c(
            {
                "slant_range": (-8, 8),
                "drop_length": 8,
                "drop_width": 1,
                "drop_color": (180, 190, 200),
                "blur_value": 3,
                "brightness_coefficient": 0.8,
                "rain_type": "drizzle",
            }
        )
    ],
    "RandomShadow": [
        _c(
            {
                "shadow_roi": (0.0, 0.3, 1.0, 1.0),
                "num_shadows_limit": (1, 3),
                "shadow_dimension": 4,
                "shadow_intensity_range": (0.3, 0.7),
            }
        )
    ],
    "RandomSnow": [
        _c({"snow_point_range": (0.1, 0.3), "brightness_coeff": 2.0, "method": "bleach"}),
        _c({"snow_point_range": (0.2, 0.4), "method": "texture"}),
    ],
    "RandomSunFlare": [
        _c(
            {
                "flare_roi": (0.2, 0.0, 0.8, 0.5),
                "src_radius": 20,
                "src_color": (250, 240, 200),
                "angle_range": (0.2, 0.7),
                "num_flare_circles_range": (3, 6),
                "method": "overlay",
            }
        ),
        _c({"src_radius": 16, "method": "physics_based"}),
    ],
    "RandomToneCurve": [_c({"scale": 0.15, "per_channel": True})],
    "RingingOvershoot": [_c({"blur_limit": (5, 9), "cutoff": (0.8, 1.4)})],
    "SaltAndPepper": [_c({"amount": (0.02, 0.08), "salt_vs_pepper": (0.3, 0.7)})],
    "Sharpen": [
        _c({"alpha": (0.1, 0.4), "lightness": (0.6, 1.1), "method": "kernel"}),
        _c({"alpha": (0.3, 0.6), "method": "gaussian", "kernel_size": 5, "sigma": 1.2}),
    ],
    "ShotNoise": [_c({"scale_range": (0.05, 0.2)})],
    "Solarize": [_c({"threshold_range": (0.4, 0.7)})],
    "Spatter": [
        _c(
            {
                "mode": "rain",
                "mean": (0.6, 0.7),
                "std": (0.2, 0.35),
                "gauss_sigma": (1.5, 2.5),
                "cutout_threshold": (0.6, 0.7),
                "intensity": (0.4, 0.7),
            }
        ),
        _c({"mode": "mud", "intensity": (0.5, 0.6), "color": (30, 60, 90)}),
    ],
    "Superpixels": [
        _c(
            {
                "p_replace": (0.2, 0.4),
                "n_segments": (10, 20),
                "max_size": 32,
                "interpolation": cv2.INTER_NEAREST,
            }
        )
    ],
    "ToFloat": [_c({"max_value": 255.0}, p=1.0, image="uint8")],
    "ToGray": [
        _c({"num_output_channels": 3, "method": "weighted_average"}),
        _c({"method": "pca"}),
        _c({"num_output_channels": 1, "method": "desaturation"}, p=1.0),
    ],
    "ToRGB": [_c({"num_output_channels": 3}, image="gray", p=1.0)],
    "ToSepia": [_c()],
    "UnsharpMask": [
        _c({"blur_limit": (3, 7), "sigma_limit": (0.4, 1.5), "alpha": (0.3, 0.8), "threshold": 8})
    ],
    "ZoomBlur": [_c({"max_factor": (1.1, 1.3), "step_factor": (0.03, 0.05)})],
    # dual: geometry, crops, dropout
    "Affine": [
        _c(
            {
                "scale": (0.7, 1.3),
                "translate_percent": (-0.1, 0.1),
                "rotate": (-40, 40),
                "shear": (-10, 10),
                "interpolation": cv2.INTER_CUBIC,
                "mask_interpolation": cv2.INTER_NEAREST,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 40,
                "fill_mask": 3,
            }
        ),
        _c({"scale": (0.8, 1.2), "keep_ratio": True, "border_mode": cv2.BORDER_WRAP}),
        _c(
            {
                "scale": {"x": (0.8, 1.1), "y": (0.9, 1.2)},
                "translate_px": {"x": (-4, 6), "y": (2, 5)},
                "rotate": (350, 370),
                "shear": {"x": (5, 12), "y": (-8, -2)},
                "interpolation": cv2.INTER_LANCZOS4,
                "border_mode": cv2.BORDER_REFLECT,
                "fit_output": True,
                "rotate_method": "ellipse",
                "balanced_scale": True,
            }
        ),
    ],
    "AtLeastOneBBoxRandomCrop": [
        _c({"height": 30, "width": 36, "erosion_factor": 0.1}, setups=(BBOXES, KEYPOINTS))
    ],
    "BBoxSafeRandomCrop": [_c({"erosion_rate": 0.1}, setups=(BBOXES,))],
    "CenterCrop": [
        _c({"height": 30, "width": 40}),
        _c(
            {
                "height": 60,
                "width": 70,
                "pad_if_needed": True,
                "pad_position": "top_left",
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 12,
                "fill_mask": 1,
            }
        ),
    ],
    "CoarseDropout": [
        _c(
            {
                "num_holes_range": (1, 4),
                "hole_height_range": (4, 9),
                "hole_width_range": (3, 7),
                "fill": 99,
                "fill_mask": 2,
            }
        ),
        _c({"hole_height_range": (0.1, 0.3), "hole_width_range": (0.05, 0.2), "fill": "random"}),
    ],
    "ConstrainedCoarseDropout": [
        _c(
            {
                "num_holes_range": (1, 2),
                "hole_height_range": (0.2, 0.4),
                "hole_width_range": (0.2, 0.4),
                "fill": 5,
                "fill_mask": 0,
                "mask_indices": [1, 2],
            },
            setups=(IMAGE, KEYPOINTS),
        ),
        # Holes in the boxes picked by their labels' values, numeric and string.
        _c({"num_holes_range": (1, 3), "bbox_labels": [1]}, setups=(BBOXES,), p=1.0),
        _c(
            {"num_holes_range": (1, 3), "bbox_labels": ["dog"]},
            setups=(BBOXES,),
            p=1.0,
            extra="string_labels",
        ),
    ],
    "Crop": [
        _c({"x_min": 5, "y_min": 3, "x_max": 45, "y_max": 40}),
        _c(
            {
                "x_min": 10,
                "x_max": 70,
                "y_max": 60,
                "pad_if_needed": True,
                "pad_position": "bottom_right",
                "border_mode": cv2.BORDER_REPLICATE,
            }
        ),
    ],
    "CropAndPad": [
        _c(
            {
                "px": (-6, 8),
                "keep_size": False,
                "sample_independently": True,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 30,
                "fill_mask": 1,
            }
        ),
        _c(
            {
                "percent": (-0.1, 0.2),
                "keep_size": True,
                "interpolation": cv2.INTER_CUBIC,
                "border_mode": cv2.BORDER_REFLECT_101,
            }
        ),
    ],
    "CropNonEmptyMaskIfExists": [_c({"height": 24, "width": 30, "ignore_values": [3]})],
    "D4": [_c()],
    "ElasticTransform": [
        _c(
            {
                "alpha": 20,
                "sigma": 6,
                "interpolation": cv2.INTER_CUBIC,
                "approximate": True,
                "same_dxdy": True,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 5,
            }
        ),
        _c({"alpha": 10, "sigma": 4, "noise_distribution": "uniform", "mask_interpolation": 1}),
    ],
    "Erasing": [_c({"scale": (0.05, 0.2), "ratio": (0.5, 2.0), "fill": 200, "fill_mask": 1})],
    "FrequencyMasking": [_c({"freq_mask_param": 12})],
    "GridDistortion": [
        _c(
            {
                "num_steps": 4,
                "distort_limit": (-0.3, 0.3),
                "interpolation": cv2.INTER_CUBIC,
                "normalized": False,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 20,
            }
        )
    ],
    "GridDropout": [
        _c({"ratio": 0.4, "unit_size_range": (10, 16), "random_offset": True, "fill": 60}),
        _c({"ratio": 0.6, "holes_number_xy": (3, 4), "shift_xy": (2, 5), "fill_mask": 3}),
    ],
    "GridElasticDeform": [
        _c({"num_grid_xy": (4, 3), "magnitude": 5, "interpolation": cv2.INTER_NEAREST})
    ],
    "HorizontalFlip": [_c()],
    "LongestMaxSize": [
        _c({"max_size": 40, "interpolation": cv2.INTER_NEAREST}),
        _c({"max_size": [30, 70], "interpolation": cv2.INTER_CUBIC}),
    ],
    "MaskDropout": [_c({"max_objects": (1, 2), "fill": 0, "fill_mask": 0})],
    "Morphological": [
        _c({"scale": (2, 4), "operation": "dilation"}),
        _c({"scale": 3, "operation": "erosion"}),
    ],
    "Mosaic": [
        _c(
            {
                "grid_yx": (2, 2),
                "target_size": (40, 48),
                "cell_shape": (40, 48),
                "fit_mode": "cover",
            },
            setups=(IMAGE,),
            extra="mosaic_metadata",
            image="uint8",
        )
    ],
    "NoOp": [_c()],
    "OpticalDistortion": [
        _c({"distort_limit": (-0.3, 0.3), "interpolation": cv2.INTER_AREA, "mode": "camera"}),
        _c({"mode": "fisheye", "border_mode": cv2.BORDER_CONSTANT, "fill": 9}),
    ],
    "OverlayElements": [_c({}, setups=(IMAGE,), extra="overlay_metadata", image="uint8")],
    "Pad": [
        _c({"padding": 5, "border_mode": cv2.BORDER_CONSTANT, "fill": 50, "fill_mask": 2}),
        _c({"padding": (2, 3, 4, 5), "border_mode": cv2.BORDER_REFLECT_101}),
    ],
    "PadIfNeeded": [
        _c(
            {
                "min_height": 64,
                "min_width": 60,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": (10, 20, 30),
                "position": "top_left",
            }
        ),
        _c(
            {
                "min_height": None,
                "min_width": None,
                "pad_height_divisor": 32,
                "pad_width_divisor": 20,
                "border_mode": cv2.BORDER_REPLICATE,
                "position": "random",
            }
        ),
    ],
    "Perspective": [
        _c(
            {
                "scale": (0.05, 0.12),
                "keep_size": True,
                "fit_output": True,
                "interpolation": cv2.INTER_CUBIC,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 30,
                "fill_mask": 1,
            }
        ),
        _c({"scale": 0.1, "keep_size": False, "border_mode": cv2.BORDER_REFLECT_101}),
    ],
    "PiecewiseAffine": [],  # refused at load whatever its parameters: see EXCEPTIONS
    "PixelDropout": [
        _c({"dropout_prob": 0.05, "per_channel": True, "drop_value": None}),
        _c({"dropout_prob": 0.1, "drop_value": 7, "mask_drop_value": 3}),
    ],
    "RandomCrop": [
        _c({"height": 30, "width": 40}),
        _c(
            {
                "height": 60,
                "width": 50,
                "pad_if_needed": True,
                "pad_position": "random",
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 3,
            }
        ),
    ],
    "RandomCropFromBorders": [
        _c({"crop_left": 0.1, "crop_right": 0.2, "crop_top": 0.15, "crop_bottom": 0.05})
    ],
    "RandomCropNearBBox": [_c({"max_part_shift": (0.1, 0.3)}, extra="cropping_bbox")],
    "RandomGridShuffle": [_c({"grid": (2, 4)})],
    "RandomResizedCrop": [
        _c(
            {
                "size": (32, 40),
                "scale": (0.3, 0.9),
                "ratio": (0.6, 1.5),
                "interpolation": cv2.INTER_AREA,
                "mask_interpolation": cv2.INTER_NEAREST,
            }
        )
    ],
    "RandomRotate90": [_c()],
    "RandomScale": [_c({"scale_limit": (-0.3, 0.2), "interpolation": cv2.INTER_CUBIC})],
    "RandomSizedBBoxSafeCrop": [
        _c(
            {"height": 32, "width": 40, "erosion_rate": 0.1, "interpolation": cv2.INTER_CUBIC},
            setups=(BBOXES,),
        )
    ],
    "RandomSizedCrop": [
        _c(
            {
                "min_max_height": (20, 40),
                "size": (32, 32),
                "w2h_ratio": 1.3,
                "interpolation": cv2.INTER_NEAREST,
            }
        )
    ],
    "Resize": [
        _c({"height": 40, "width": 30, "interpolation": cv2.INTER_CUBIC}),
        _c(
            {
                "height": 64,
                "width": 72,
                "interpolation": cv2.INTER_LANCZOS4,
                "mask_interpolation": cv2.INTER_LINEAR,
            },
            p=1.0,
        ),
    ],
    "Rotate": [
        _c(
            {
                "limit": (-60, 60),
                "interpolation": cv2.INTER_CUBIC,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": (10, 20, 30),
                "fill_mask": 2,
                "crop_border": False,
            }
        ),
        _c(
            {
                "limit": 30,
                "crop_border": True,
                "rotate_method": "ellipse",
                "border_mode": cv2.BORDER_REFLECT_101,
            }
        ),
    ],
    "SafeRotate": [
        _c(
            {
                "limit": (-90, 90),
                "interpolation": cv2.INTER_CUBIC,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 15,
            }
        )
    ],
    "ShiftScaleRotate": [
        _c(
            {
                "shift_limit": 0.1,
                "scale_limit": (-0.2, 0.1),
                "rotate_limit": 45,
                "interpolation": cv2.INTER_CUBIC,
                "border_mode": cv2.BORDER_CONSTANT,
                "fill": 8,
            }
        ),
        _c(
            {
                "shift_limit_x": (-0.2, 0.1),
                "shift_limit_y": 0.05,
                "rotate_limit": (-20, 10),
                "border_mode": cv2.BORDER_REFLECT_101,
            }
        ),
    ],
    "SmallestMaxSize": [
        _c({"max_size": 32, "interpolation": cv2.INTER_NEAREST}),
        _c({"max_size_hw": (40, 50)}),
    ],
    "SquareSymmetry": [_c()],
    "ThinPlateSpline": [
        _c({"scale_range": (0.1, 0.2), "num_control_points": 3, "interpolation": cv2.INTER_CUBIC})
    ],
    "TimeMasking": [_c({"time_mask_param": 10})],
    "TimeReverse": [_c()],
    "Transpose": [_c()],
    "VerticalFlip": [_c()],
    "XYMasking": [
        _c(
            {
                "num_masks_x": (1, 2),
                "num_masks_y": 2,
                "mask_x_length": (4, 8),
                "mask_y_length": 5,
                "fill": 77,
                "fill_mask": 1,
            }
        )
    ],
    # 3-D: volume + mask3d
    "CenterCrop3D": [_c({"size": (3, 30, 36)}, setups=(VOLUME,))],
    "CoarseDropout3D": [
        _c(
            {
                "num_holes_range": (1, 3),
                "hole_depth_range": (0.2, 0.5),
                "hole_height_range": (0.1, 0.3),
                "hole_width_range": (0.1, 0.3),
                "fill": 40,
                "fill_mask": 1,
            },
            setups=(VOLUME,),
        )
    ],
    "CubicSymmetry": [_c({}, setups=(VOLUME,))],
    "Pad3D": [_c({"padding": (1, 2, 3), "fill": 6, "fill_mask": 1}, setups=(VOLUME,))],
    "PadIfNeeded3D": [
        _c({"min_zyx": (6, 50, 60), "position": "random", "fill": 5}, setups=(VOLUME,)),
        _c({"min_zyx": None, "pad_divisor_zyx": (4, 16, 24), "fill_mask": 2}, setups=(VOLUME,)),
    ],
    "RandomCrop3D": [_c({"size": (2, 24, 30)}, setups=(VOLUME,))],
}


def _composite(name: str) -> Callable[[], Any]:
    """A composite with children of each kind (image-only, dual, a half-chance step)."""

    def build() -> Any:
        children = [A.HorizontalFlip(p=0.5), A.Blur(blur_limit=(3, 5), p=0.8), A.Affine(rotate=15)]
        if name == "OneOrOther":
            return A.OneOrOther(A.VerticalFlip(p=1.0), A.Sequential(children), p=0.9)
        if name in ("SomeOf", "RandomOrder"):
            return getattr(A, name)(children, n=2, replace=name == "SomeOf", p=0.7)
        if name == "SelectiveChannelTransform":
            return A.SelectiveChannelTransform(
                [A.GaussNoise(std_range=(0.1, 0.2), p=1.0), A.Solarize(p=0.5)],
                channels=[0, 2],
                p=0.6,
            )
        return getattr(A, name)(children, p=0.8)

    return build


COMPOSITES: tuple[str, ...] = ("OneOf", "OneOrOther", "SomeOf", "Sequential", "RandomOrder")
COMPOSITES += ("SelectiveChannelTransform",)


@dataclass(frozen=True)
class Exception_:
    """A case that does not give A.load's output, and the SECURITY.md row that says why."""

    name: str
    params: dict[str, Any]
    p: float
    raises: type[Exception]
    message: str  # in confaug's error
    security: str  # in SECURITY.md's table "albumentations files that do not load as ..."
    at_load: bool = True
    data: dict[str, Any] = field(default_factory=dict)


_COST = "a step over the cost budget"
_DTYPE = "`Normalize`, `ToFloat`, `FromFloat` with `p` < 1"
_BOXSAFE = "a box-safe crop without `bbox_params`"
_KP = "keypoints passed without `keypoint_params`"
_3D = "a 3-D transform without a `volume`"
_CHANNELS = "`ToGray` to other than 3 channels, or `ToRGB`, with `p` < 1"
EXCEPTIONS: list[Exception_] = [
    Exception_(
        "ToGray", {"num_output_channels": 1}, 0.5, ConfigError, "must run on every", _CHANNELS
    ),
    Exception_(
        "ToRGB", {"num_output_channels": 3}, 0.5, ConfigError, "must run on every", _CHANNELS
    ),
    Exception_(
        "PiecewiseAffine",
        {"scale": (0.02, 0.04), "nb_rows": 3, "nb_cols": 3},
        0.5,
        ConfigError,
        "past the budget",
        _COST,
    ),
    Exception_("HEStain", {"method": "vahadane"}, 0.5, ConfigError, "past the budget", _COST),
    Exception_(
        "RandomFog",
        {"fog_coef_range": (0.1, 0.2)},
        0.5,
        ConfigError,
        "past the budget",
        _COST,
    ),
    Exception_(
        "GlassBlur",
        {"iterations": 3, "mode": "exact"},
        0.5,
        ConfigError,
        "past the budget",
        _COST,
    ),
    Exception_("Normalize", {}, 0.5, ConfigError, "must run on every sample", _DTYPE),
    Exception_(
        "ToFloat", {"max_value": 255.0}, 0.5, ConfigError, "must run on every sample", _DTYPE
    ),
    Exception_(
        "FromFloat", {"dtype": "uint8"}, 0.5, ConfigError, "must run on every sample", _DTYPE
    ),
    Exception_(
        "BBoxSafeRandomCrop",
        {"erosion_rate": 0.2},
        0.5,
        ConfigError,
        "add bbox_params",
        _BOXSAFE,
    ),
    Exception_(
        "RandomSizedBBoxSafeCrop",
        {"height": 30, "width": 30},
        0.5,
        ConfigError,
        "add bbox_params",
        _BOXSAFE,
    ),
    Exception_(
        "HorizontalFlip",
        {},
        0.5,
        ConfigError,
        "no keypoint_params",
        _KP,
        at_load=False,
        data={"keypoints": [[3.0, 4.0]]},
    ),
    Exception_("Pad3D", {"padding": 2}, 0.5, DataError, "needs a 'volume'", _3D, at_load=False),
]
# The SECURITY.md table, and the paragraph of "What depends on the data" for 3-D transforms.
_SECURITY_SECTIONS = (
    "### albumentations files that do not load as `A.load` loads them, on purpose",
    "### What depends on the data",
)


def _security_text(heading: str) -> str:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert heading in text, heading
    section = text.split(heading, 1)[1]
    return section.split("\n#", 1)[0]


# --- data ----------------------------------------------------------------------------------
def _image(dtype: str, shape: tuple[int, ...] = (H, W, 3)) -> np.ndarray:
    pixels = np.random.default_rng(14).integers(0, 256, shape, dtype=np.uint8)
    # smooth blobs over the noise, so crops, blurs and distortions have something to move
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    blob = ((np.sin(yy / 5.0) + np.cos(xx / 7.0)) * 60).astype(np.int16)
    blob = blob[..., None] if len(shape) == 3 else blob
    pixels = np.clip(pixels.astype(np.int16) // 2 + 64 + blob, 0, 255).astype(np.uint8)
    return pixels if dtype == "uint8" else (pixels / 255.0).astype(np.float32)


def _mask() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[5:20, 6:30] = 1
    mask[25:44, 30:52] = 2
    mask[30:36, 8:14] = 3
    return mask


BOXES = [[4.0, 6.0, 30.0, 22.0], [28.0, 24.0, 54.0, 46.0]]
POINTS = [[10.0, 12.0, 30.0, 1.5], [40.0, 30.0, 200.0, 0.7], [2.0, 45.0, 0.0, 1.0]]


def _extra_data(key: str) -> dict[str, Any]:
    if key == "cropping_bbox":
        return {"cropping_bbox": [8, 6, 40, 36]}
    if key == "overlay_metadata":
        patch = _image("uint8", (10, 12, 3))
        return {"overlay_metadata": [{"image": patch, "bbox": [0.1, 0.2, 0.4, 0.5]}]}
    if key == "mosaic_metadata":
        others = [_image("uint8", (30 + 4 * i, 40 - 3 * i, 3)) for i in range(3)]
        return {"mosaic_metadata": [{"image": o, "mask": o[..., 0] // 100} for o in others]}
    return {}


def _inputs(case: Case, setup: str) -> list[dict[str, Any]]:
    """The samples one setup feeds (one per image dtype)."""
    extra = _extra_data(case.extra)
    if setup == VOLUME:
        volume = np.stack([np.roll(_image("uint8"), 3 * i, axis=1) for i in range(4)])
        return [{"volume": volume, "mask3d": np.stack([_mask()] * 4)}]
    if setup == BBOXES:
        labels = ["cat", "dog"] if case.extra == "string_labels" else [1, 2]
        return [
            {"image": _image("uint8"), "mask": _mask(), "bboxes": BOXES, "labels": labels, **extra}
        ]
    if setup == KEYPOINTS:
        return [
            {
                "image": _image("uint8"),
                "mask": _mask(),
                "keypoints": POINTS,
                "kp_labels": [5, 6, 7],
                **extra,
            }
        ]
    if case.image == "gray":
        return [{"image": _image("uint8", (H, W, 1)), **extra}]
    dtypes = [case.image] if case.image in ("uint8", "float") else ["uint8", "float"]
    return [{"image": _image(d), "mask": _mask(), **extra} for d in dtypes]


def _compose(transform: Any, setup: str) -> Any:
    if setup == BBOXES:
        return A.Compose(
            [transform], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"])
        )
    if setup == KEYPOINTS:
        params = A.KeypointParams(format="xyas", label_fields=["kp_labels"], angle_in_degrees=True)
        return A.Compose([transform], keypoint_params=params)
    return A.Compose([transform])


def _setups(name: str, case: Case) -> tuple[str, ...]:
    if case.setups:
        return case.setups
    targets = {t.name for t in getattr(A, name)._targets}
    setups = [IMAGE]
    if "BBOXES" in targets and not case.extra:
        setups.append(BBOXES)
    if "KEYPOINTS" in targets and not case.extra:
        setups.append(KEYPOINTS)
    return tuple(setups)


def _save(compose: Any, path: Path, data_format: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # albumentations' own advice on some classes
        A.save(compose, str(path), data_format=data_format)
    return path


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in data.items()}


def _same(name: str, key: str, got: Any, expected: Any, source: Any) -> str:
    """'equal' or 'clipped' (a float image equal to albumentations' clipped into [0, 1]);
    fails the test otherwise."""
    if key in ("labels", "kp_labels"):
        assert list(got) == list(expected), key
        return "equal"
    got, expected = np.asarray(got), np.asarray(expected)
    if got.ndim == 3 and expected.ndim == 2 and got.shape[-1] == 1:
        expected = expected[..., None]  # a one-channel ToGray keeps its channel axis here
    if name == "Normalize" and expected.dtype == np.float64:
        expected = expected.astype(np.float32)  # its float64 modes come back as float32 here
    assert got.shape == expected.shape, (key, got.shape, expected.shape)
    if np.array_equal(got, expected, equal_nan=got.dtype.kind == "f"):
        assert got.dtype == expected.dtype or got.size == 0, (key, got.dtype, expected.dtype)
        return "equal"
    clip_applies = (
        key in ("image", "volume")
        and name not in RANGE_SETTING
        and isinstance(source, np.ndarray)
        and source.dtype.kind == "f"
    )
    assert clip_applies, f"{key} differs from A.load's"
    np.testing.assert_array_equal(got, np.clip(expected, 0.0, 1.0).astype(got.dtype), key)
    return "clipped"


# albumentations itself is not bit-for-bit repeatable here on float images: under pytest, 30
# identically seeded calls of A.load's Illumination(mode: corner) pipeline gave two outputs
# 1 ulp apart at one pixel (OpenCV's vector loops in cv2.multiply / cv2.merge round with the
# temporaries' alignment; the same with one OpenCV thread), and confaug's output was one of
# the two; under OpenCV 5.1 the two are up to 2 ulp apart (seen in a fresh-clone CI run,
# with the reference and confaug both at one OpenCV thread). Those floats are compared to
# within this many ulp; every other value exactly.
UNSTEADY_IN_ALBUMENTATIONS = {"Illumination": 2}


def _run_file(
    name: str, path: Path, data_format: str, inputs: list[dict[str, Any]]
) -> dict[str, int]:
    """Asserts confaug's pipeline of ``path`` gives A.load's output for SEEDS and inputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropped inherited keys are tested elsewhere
        pipe = confaug.load_pipeline(path)
        reference = A.load(str(path), data_format=data_format)
    verdicts: dict[str, int] = {"equal": 0, "clipped": 0, "changed": 0}
    for data in inputs:
        for seed in SEEDS:
            reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
            # At one OpenCV thread, as confaug runs albumentations' steps on float32 images
            # under OpenCV 5.1, whose float operations round per row stripe (Illumination's
            # corner mode came out 2 ulp apart between 1 and 2 threads); integer results and
            # OpenCV 5.0's do not depend on the thread count.
            with warnings.catch_warnings(), one_thread():
                warnings.simplefilter("ignore")
                expected = reference(**_copy(data))
                got = pipe(**_copy(data), seed=seed)
            for key in data:
                if key not in expected or key.endswith("_metadata") or key == "cropping_bbox":
                    continue
                assert key in got, key
                ulp = UNSTEADY_IN_ALBUMENTATIONS.get(name)
                if ulp and np.asarray(got[key]).dtype.kind == "f":
                    np.testing.assert_array_max_ulp(got[key], expected[key], maxulp=ulp)
                    verdicts["equal"] += 1
                    continue
                verdicts[_same(name, key, got[key], expected[key], data[key])] += 1
            main = "image" if "image" in data else "volume"
            source = data[main]
            out = np.asarray(got[main])
            verdicts["changed"] += out.shape != source.shape or not np.array_equal(out, source)
    return verdicts


# --- the tests -----------------------------------------------------------------------------


def _check_case(tmp: Path, name: str, index: int, case: Case) -> int:
    """Saves one case per setup as YAML and JSON and compares; how often the data changed."""
    transform = getattr(A, name)(p=case.p, **case.params)
    changed = 0
    for setup in _setups(name, case):
        inputs = _inputs(case, setup)
        for data_format in ("yaml", "json"):
            path = tmp / f"{name}-{index}-{setup}.{data_format}"
            verdicts = _run_file(
                name, _save(_compose(transform, setup), path, data_format), data_format, inputs
            )
            assert verdicts["equal"] + verdicts["clipped"] > 0
            changed += verdicts["changed"]
    return changed


# Steps that leave the data as it is by definition.
IDENTITY = ("NoOp",)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_gives_a_loads_output(in_tmp: Path, name: str) -> None:
    cases = CASES[name]
    if not cases:
        assert any(e.name == name for e in EXCEPTIONS)  # refused whatever its parameters
        return
    changed = sum(_check_case(in_tmp, name, i, case) for i, case in enumerate(cases))
    if name not in IDENTITY:
        assert changed > 0, f"{name} never changed the data: the comparison tests nothing"


@pytest.mark.parametrize("name", COMPOSITES)
@pytest.mark.parametrize("setup", [IMAGE, BBOXES, KEYPOINTS])
def test_every_composite_gives_a_loads_output(in_tmp: Path, name: str, setup: str) -> None:
    compose = _compose(_composite(name)(), setup)
    case = Case({})
    changed = 0
    for data_format in ("yaml", "json"):
        path = _save(compose, in_tmp / f"c.{data_format}", data_format)
        changed += _run_file(name, path, data_format, _inputs(case, setup))["changed"]
    assert changed > 0


@pytest.mark.parametrize("entry", EXCEPTIONS, ids=lambda e: f"{e.name}-{e.message[:20]}")
def test_every_exception_is_a_listed_refusal(in_tmp: Path, entry: Exception_) -> None:
    listed = "".join(_security_text(h) for h in _SECURITY_SECTIONS)
    assert entry.security in listed, f"SECURITY.md does not list {entry.security!r}"
    transform = getattr(A, entry.name)(p=entry.p, **entry.params)
    path = _save(A.Compose([transform]), in_tmp / "x.yaml", "yaml")
    data = {"image": _image("uint8"), "mask": _mask(), **entry.data}
    with pytest.raises(entry.raises, match=entry.message), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = confaug.load_pipeline(path)
        assert not entry.at_load, "loaded, but the entry says it is refused at load"
        pipe(**data, seed=0)


def test_every_catalog_transform_is_covered() -> None:
    """A transform added to the catalog must get a case here (or a listed exception)."""
    names = set(catalog())
    covered = {n for n, cases in CASES.items() if cases} | set(COMPOSITES)
    excepted_only = {n for n, cases in CASES.items() if not cases}
    assert excepted_only <= {e.name for e in EXCEPTIONS}
    assert set(CASES) | set(COMPOSITES) == names
    assert len(covered) + len(excepted_only) == len(names) == len(catalog())
    assert {e.name for e in EXCEPTIONS} <= names


def test_the_two_seeds_split_a_half_chance_step(in_tmp: Path) -> None:
    path = _save(A.Compose([A.HorizontalFlip(p=0.5)]), in_tmp / "f.yaml", "yaml")
    pipe = confaug.load_pipeline(path)
    image = _image("uint8")
    flipped = [not np.array_equal(pipe(image=image, seed=s)["image"], image) for s in SEEDS]
    assert sorted(flipped) == [False, True]


# --- nested pipelines: Compose inside OneOrOther / OneOf / SomeOf, as the suite builds them ---
def _branches() -> Any:
    return A.OneOrOther(
        A.Compose(
            [A.RandomRotate90(p=0.6), A.OneOf([A.HorizontalFlip(p=0.5), A.Transpose(p=0.5)])],
            p=0.9,
        ),
        A.Compose(
            [
                A.SafeRotate(limit=25, border_mode=cv2.BORDER_CONSTANT, fill=4, p=0.7),
                A.OneOf([A.RGBShift(p=0.6), A.HueSaturationValue(p=0.4)], p=1.0),
            ]
        ),
    )


def _tail(n: int, replace: bool) -> Any:
    return A.SomeOf(
        [
            A.VerticalFlip(p=1.0),
            A.D4(p=1.0),
            A.RandomBrightnessContrast(p=0.5),
            A.Affine(translate_px=(-3, 3), p=0.5),
        ],
        n=n,
        replace=replace,
    )


def _nested_sizes() -> Any:
    inner = A.Compose(
        [
            A.Resize(64, 64, interpolation=cv2.INTER_AREA),
            A.RandomSizedCrop(min_max_height=(24, 64), size=(40, 40), p=1.0),
            A.OneOf(
                [
                    A.RandomSizedCrop(min_max_height=(20, 36), size=(28, 28), p=0.5),
                    A.RandomSizedCrop(min_max_height=(20, 36), size=(32, 24), p=0.5),
                ]
            ),
        ]
    )
    other = A.Compose(
        [A.Resize(60, 60), A.CenterCrop(36, 36, p=1.0), A.OneOf([A.Blur(), A.ToGray()], p=1.0)]
    )
    return A.Compose([A.OneOrOther(inner, other), _tail(2, replace=False)])


BOX_FORMATS = {
    "coco": [[4.0, 6.0, 26.0, 16.0], [28.0, 24.0, 20.0, 20.0]],
    "pascal_voc": [[4.0, 6.0, 30.0, 22.0], [28.0, 24.0, 46.0, 44.0]],
    "yolo": [[0.3, 0.3, 0.4, 0.3], [0.7, 0.7, 0.45, 0.4]],
    "albumentations": [[0.1, 0.1, 0.5, 0.45], [0.5, 0.5, 0.95, 0.9]],
}
POINT_FORMATS = {
    "xy": [p[:2] for p in POINTS],
    "yx": [[p[1], p[0]] for p in POINTS],
    "xya": [p[:3] for p in POINTS],
    "xys": [[p[0], p[1], p[3]] for p in POINTS],
    "xyas": POINTS,
}


def _nested_case(kind: str, fmt: str) -> tuple[Any, list[dict[str, Any]]]:
    images = [_image("uint8"), _image("float"), _image("uint8", (56, 48, 3))]
    if kind == "mask":
        return _nested_sizes(), [
            {"image": i, "mask": _mask()[: i.shape[0], : i.shape[1]]} for i in images[:2]
        ]
    if kind == BBOXES:
        compose = A.Compose(
            [_branches(), _tail(5, replace=True)],
            bbox_params=A.BboxParams(format=fmt, label_fields=["labels"], min_visibility=0.1),
        )
        return compose, [{"image": i, "bboxes": BOX_FORMATS[fmt], "labels": [3, 8]} for i in images]
    compose = A.Compose(
        [_branches(), _tail(2, replace=False)],
        keypoint_params=A.KeypointParams(format=fmt, label_fields=["kp_labels"]),
    )
    return compose, [
        {"image": i, "keypoints": POINT_FORMATS[fmt], "kp_labels": [5, 6, 7]} for i in images
    ]


NESTED = (
    [("mask", "")] + [(BBOXES, f) for f in BOX_FORMATS] + [(KEYPOINTS, f) for f in POINT_FORMATS]
)


@pytest.mark.parametrize(("kind", "fmt"), NESTED)
def test_nested_pipelines_give_a_loads_output(in_tmp: Path, kind: str, fmt: str) -> None:
    compose, inputs = _nested_case(kind, fmt)
    changed = 0
    for data_format in ("yaml", "json"):
        path = _save(compose, in_tmp / f"nested.{data_format}", data_format)
        assert path.read_text().count("Compose") >= 3  # the nested Composes are in the file
        changed += _run_file("Compose", path, data_format, inputs)["changed"]
    assert changed > 0


def test_a_file_of_one_bare_transform_is_a_loads_in_a_compose(in_tmp: Path) -> None:
    """README: a file of a single transform runs as ``A.Compose([A.load(path)])``."""
    for data_format in ("yaml", "json"):
        path = _save(
            A.Affine(rotate=(-30, 30), fill=9, p=0.5), in_tmp / f"b.{data_format}", data_format
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = A.Compose([A.load(str(path), data_format=data_format)])
        pipe = confaug.load_pipeline(path)
        image = _image("uint8")
        for seed in SEEDS:
            reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
            expected = reference(image=image)["image"]
            np.testing.assert_array_equal(pipe(image=image, seed=seed)["image"], expected)


# Names albumentations has that the catalog leaves out: refused at the step, as SECURITY.md's
# rows say. A.save cannot write the three reference-image classes (they raise
# NotImplementedError), so their files are A.save's of a HorizontalFlip with the class renamed.
REFUSED_OUTSIDE_CATALOG: tuple[str, ...] = (
    "FDA",
    "HistogramMatching",
    "PixelDistributionAdaptation",
)
REFUSED_OUTSIDE_CATALOG += ("TextImage", "ToTensorV2")


@pytest.mark.parametrize("name", REFUSED_OUTSIDE_CATALOG)
def test_names_outside_the_catalog_are_listed_refusals(in_tmp: Path, name: str) -> None:
    assert name not in catalog()
    assert f"`{name}`" in _security_text(_SECURITY_SECTIONS[0])
    if name == "TextImage":
        step = A.TextImage(font_path="font.ttf")
    elif name == "ToTensorV2":
        pytest.importorskip("torch")
        from albumentations.pytorch import ToTensorV2

        step = ToTensorV2()
    else:
        step = A.HorizontalFlip()
    path = _save(A.Compose([step]), in_tmp / "r.json", "json")
    text = path.read_text().replace('"HorizontalFlip"', f'"{name}"')
    path.write_text(text)
    assert f'"{name}"' in text
    with pytest.raises(ConfigError, match=f"'{name}' cannot be a step"):
        confaug.load_pipeline(path)
