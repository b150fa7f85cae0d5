"""albumentations 1.x names that 2.x renamed or removed: the hints for an unknown name.

Found by comparing the ``__init__`` signatures of albumentations 1.3.1, 1.4.0 and 1.4.24
with 2.0.8's (and the 2.0 migration notes). A config written for 1.x gets "unknown
parameter" for each old name; these tables turn that into the 2.x spelling. The tables are
data only; ``spec.catalog`` asks them when a name is unknown, and a test checks that every
old name is really gone from 2.x and every new one really exists.
"""

from __future__ import annotations

# Fill values of the border and of dropped regions became fill / fill_mask everywhere.
_FILL = {"value": "fill", "mask_value": "fill_mask"}
_DROPPED_FILL = {"fill_value": "fill", "mask_fill_value": "fill_mask"}
_PAD = {"pad_mode": "border_mode", "pad_cval": "fill", "pad_cval_mask": "fill_mask"}
_AFFINE = {"mode": "border_mode", "cval": "fill", "cval_mask": "fill_mask"}


#: (2.x name, 1.x first name, 1.x second name) of each pair ``_pair`` made: other transforms
#: kept the two names (Resize's height and width beside RandomResizedCrop's size), so the 2.x
#: name written on one of those gets :func:`kept_hint`.
PAIRS: set[tuple[str, str, str]] = set()


def _pair(new: str, low: str, high: str) -> dict[str, str]:
    """Two 1.x bounds that became one ``[low, high]`` parameter."""
    PAIRS.add((new, low, high))
    text = f"{new}: [{low}, {high}]"
    return {low: text, high: text}


#: transform → {1.x parameter → what 2.x takes instead}.
RENAMED: dict[str, dict[str, str]] = {
    "AdvancedBlur": {"sigmaX_limit": "sigma_x_limit", "sigmaY_limit": "sigma_y_limit"},
    "Affine": _AFFINE,
    "CenterCrop": _PAD,
    "ChannelDropout": {"fill_value": "fill"},
    "CoarseDropout": {
        **_DROPPED_FILL,
        **_pair("num_holes_range", "min_holes", "max_holes"),
        **_pair("hole_height_range", "min_height", "max_height"),
        **_pair("hole_width_range", "min_width", "max_width"),
    },
    "Crop": _PAD,
    "CropAndPad": _PAD,
    "Downscale": {
        **_pair("scale_range", "scale_min", "scale_max"),
        "interpolation": "interpolation_pair: {downscale: ..., upscale: ...}",
    },
    "ElasticTransform": _FILL,
    "GaussNoise": {
        "var_limit": (
            "std_range: [low, high], standard deviations as fractions of the maximum value "
            "(var_limit was variances in pixel units: std = sqrt(var) / 255 for uint8)"
        ),
        "mean": "mean_range: [low, high], as fractions of the maximum value",
    },
    "GridDistortion": _FILL,
    "GridDropout": {
        **_DROPPED_FILL,
        **_pair("unit_size_range", "unit_size_min", "unit_size_max"),
        **_pair("holes_number_xy", "holes_number_x", "holes_number_y"),
        **_pair("shift_xy", "shift_x", "shift_y"),
    },
    "ImageCompression": _pair("quality_range", "quality_lower", "quality_upper"),
    "MaskDropout": {"image_fill_value": "fill", "mask_fill_value": "fill_mask"},
    "OpticalDistortion": _FILL,
    "PadIfNeeded": _FILL,
    "Perspective": {"pad_mode": "border_mode", "pad_val": "fill", "mask_pad_val": "fill_mask"},
    "PiecewiseAffine": _AFFINE,
    "RandomCrop": _PAD,
    "RandomCropNearBBox": {"cropping_box_key": "cropping_bbox_key"},
    "RandomFog": _pair("fog_coef_range", "fog_coef_lower", "fog_coef_upper"),
    "RandomRain": _pair("slant_range", "slant_lower", "slant_upper"),
    "RandomResizedCrop": _pair("size", "height", "width"),
    "RandomShadow": _pair("num_shadows_limit", "num_shadows_lower", "num_shadows_upper"),
    "RandomSizedCrop": _pair("size", "height", "width"),
    "RandomSnow": _pair("snow_point_range", "snow_point_lower", "snow_point_upper"),
    "RandomSunFlare": {
        **_pair("angle_range", "angle_lower", "angle_upper"),
        **_pair("num_flare_circles_range", "num_flare_circles_lower", "num_flare_circles_upper"),
    },
    "Rotate": _FILL,
    "SafeRotate": _FILL,
    "ShiftScaleRotate": _FILL,
    "Solarize": {
        "threshold": "threshold_range: [low, high], as fractions of the maximum value",
    },
    "XYMasking": _DROPPED_FILL,
}

#: transform → {1.x parameter → why it is gone}; "*" holds what every transform lost.
REMOVED: dict[str, dict[str, str]] = {
    "*": {"always_apply": "use p: 1 instead"},
    "ElasticTransform": {"alpha_affine": "add an Affine step for the affine part"},
    "OpticalDistortion": {"shift_limit": "add an Affine step (translate_percent) to shift"},
    "PiecewiseAffine": {"keypoints_threshold": "keypoints are remapped without a threshold"},
    "RandomGamma": {"eps": "no longer needed"},
}

#: For the tensor transforms of either version (spec.catalog.REFUSED has 2.x's).
TENSORS = "the adapters make tensors: gen.as_torch(...) gives CHW float32, gen.as_tf(...) tf.data"

#: 1.x transforms gone in 2.x → what to write instead (spec.catalog.REFUSED: 2.x names).
TRANSFORMS: dict[str, str] = {
    "Cutout": "use CoarseDropout, with num_holes_range, hole_height_range and hole_width_range",
    "JpegCompression": "use ImageCompression, with quality_range",
    "RandomBrightness": "use RandomBrightnessContrast with contrast_limit: 0",
    "RandomContrast": "use RandomBrightnessContrast with brightness_limit: 0",
    "IAAAdditiveGaussianNoise": "use GaussNoise",
    "IAAAffine": "use Affine",
    "IAACropAndPad": "use CropAndPad",
    "IAAEmboss": "use Emboss",
    "IAAFliplr": "use HorizontalFlip",
    "IAAFlipud": "use VerticalFlip",
    "IAAPerspective": "use Perspective",
    "IAAPiecewiseAffine": "use PiecewiseAffine",
    "IAASharpen": "use Sharpen",
    "IAASuperpixels": "use Superpixels",
    "ToTensor": TENSORS,
    "Flip": (
        "use OneOf over HorizontalFlip, VerticalFlip and a Sequential of both (Flip drew one "
        "of the three)"
    ),
    "PerChannel": (
        "use SelectiveChannelTransform, which runs its transforms once on the channels chosen "
        "together (PerChannel ran them on each channel alone)"
    ),
    "MixUp": "it mixed in reference images, which a config cannot name; mix batches in the loop",
    "TemplateTransform": "it blended in template images, which a config cannot name",
}


def parameter_hint(transform: str, key: str) -> str | None:
    """What to write instead of ``key``, an unknown parameter of ``transform``, if it is
    albumentations 1.x's name for something; None otherwise."""
    new = RENAMED.get(transform, {}).get(key)
    if new is not None:
        return f"'{key}' is albumentations 1.x's name; 2.x takes {new}"
    why = REMOVED.get(transform, {}).get(key) or REMOVED["*"].get(key)
    if why is not None:
        return f"albumentations 2.x removed '{key}': {why}"
    return None


def kept_hint(transform: str, key: str, takes: tuple[str, ...]) -> str | None:
    """What to write instead of ``key``, an unknown parameter of ``transform`` (which takes
    ``takes``), when ``key`` is the name 2.x gave two parameters of other transforms that
    ``transform`` kept apart: ``size`` on Resize, which still takes height and width."""
    for new, low, high in sorted(PAIRS):
        if new != key or low not in takes or high not in takes:
            continue
        text = f"{new}: [{low}, {high}]"
        owners = [name for name, table in sorted(RENAMED.items()) if table.get(low) == text]
        if owners and transform not in owners:
            whose = " / ".join(f"{owner}'s" for owner in owners)
            return f"{transform} takes {low} and {high}; {key} is {whose}"
    return None
