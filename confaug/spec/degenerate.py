"""Parameter values a transform's schema accepts but that fail on every image.

A sigma of 0 makes AdvancedBlur's covariance singular, a std of 1e-300 makes Normalize
divide into infinity, a zero-area region makes RandomShadow draw from an empty range: each
validates, then raises (or writes NaN) on the first image, whatever the image. Those are
refused here, at the parameter. What depends on the image (a crop larger than it) is the
data's problem, a ``DataError`` when it happens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Below this a positive scale divides into infinity or makes a matrix singular.
TINY = 1e-6
#: Aspect ratios beyond 1:1000 make a crop one pixel wide, or none.
MAX_RATIO = 1000.0
#: Downscale by less than this makes an image of no pixels, whatever its size (≤ 32,767).
MIN_DOWNSCALE = 1 / 32767

Check = Callable[[Any], str | None]


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    return []


def at_least(name: str, least: float, why: str) -> tuple[str, Check]:
    """Every number of parameter ``name`` must be ≥ ``least``."""

    def check(transform: Any) -> str | None:
        numbers = _numbers(getattr(transform, name, None))
        if numbers and min(numbers) < least:
            return f"must be at least {least:g} ({why}), got {min(numbers):g}"
        return None

    return name, check


def at_most(name: str, most: float, why: str) -> tuple[str, Check]:
    """Every number of parameter ``name`` must be ≤ ``most``."""

    def check(transform: Any) -> str | None:
        numbers = _numbers(getattr(transform, name, None))
        if numbers and max(numbers) > most:
            return f"must be at most {most:g} ({why}), got {max(numbers):g}"
        return None

    return name, check


def _gaussian_sigma(transform: Any) -> str | None:
    if (
        max(_numbers(transform.blur_limit) or [0]) == 0
        and min(_numbers(transform.sigma_limit)) < TINY
    ):
        return (
            "with blur_limit 0 the kernel comes from sigma, and a sigma of 0 makes none (NaN "
            "on every image); give sigma_limit > 0 or a blur_limit"
        )
    return None


def _region(transform: Any) -> str | None:
    x_min, y_min, x_max, y_max = transform.shadow_roi
    if x_max <= x_min or y_max <= y_min:
        return "the region [x_min, y_min, x_max, y_max] has no area: shadows need one"
    return None


def _segments(transform: Any) -> str | None:
    segments = max(_numbers(transform.n_segments))
    if transform.max_size is not None and transform.max_size**2 < 4 * segments:
        return (
            f"an image reduced to max_size {transform.max_size} has too few pixels for "
            f"{segments:g} segments (at least 4 each: max_size ≥ {int((4 * segments) ** 0.5) + 1})"
        )
    return None


def _erasing_fits(transform: Any) -> str | None:
    # An area A of an H×W image with aspect ratio r needs r·H² ≥ A and W²/r ≥ A, so at most
    # min(r_min·H/W, (W/H)/r_max) of the image, never more than sqrt(r_min / r_max) whatever
    # its shape. Past that albumentations 2.0.8 draws no rectangle and then raises.
    low = min(_numbers(transform.scale))
    r_min, r_max = min(_numbers(transform.ratio)), max(_numbers(transform.ratio))
    largest = (r_min / r_max) ** 0.5 if r_max > 0 else 0.0
    if low > largest:
        return (
            f"no image has room for an erased area of {low:g} of it with a ratio in "
            f"[{r_min:g}, {r_max:g}] (at most {largest:.3g}: sqrt(ratio low / ratio high)); "
            "lower scale or narrow the ratio"
        )
    return None


def _mask_dropout_fill(transform: Any) -> str | None:
    # albumentations 2.0.8's MaskDropout hands the fill's name to cv2.inpaint where OpenCV
    # wants its flag, so every image whose mask holds an object fails. The other dropouts
    # map the names to flags and inpaint as documented.
    if transform.fill in ("inpaint_telea", "inpaint_ns"):
        return (
            f"fill '{transform.fill}' fails in albumentations 2.0.8's MaskDropout on every "
            "image whose mask holds an object (it passes the name where OpenCV's inpaint "
            "wants a flag); use a number, or inpaint with CoarseDropout, GridDropout, "
            "XYMasking or Erasing"
        )
    return None


def _mean_std(transform: Any) -> str | None:
    # One value is every channel's; two lists of other lengths cannot both be one value per
    # channel of any image (albumentations 2.0.8 would use some values for other channels).
    if getattr(transform, "normalization", "standard") != "standard":
        return None
    mean, std = transform.mean, transform.std
    lengths = [len(v) for v in (mean, std) if isinstance(v, (list, tuple)) and len(v) > 1]
    if len(lengths) == 2 and lengths[0] != lengths[1]:
        return (
            f"mean has {lengths[0]} values and std {lengths[1]}: give one value per channel "
            "in both (or one value for every channel)"
        )
    return None


def _unit_size(transform: Any) -> str | None:
    # albumentations 2.0.8 draws the unit size with numpy's integers(low, high), which
    # excludes high: [n, n] is an empty range ("low >= high" on every image).
    sizes = transform.unit_size_range
    if sizes is not None and sizes[0] >= sizes[1]:
        low, high = sizes
        return (
            f"the unit size is drawn from [{low}, {high}) with {high} excluded, so the range "
            f"is empty; for units of exactly {low} px write [{low}, {low + 1}]"
        )
    return None


def _ordered(name: str) -> tuple[str, Check]:
    """A ``[low, high]`` parameter drawn from with Python's ``randint``: low after high is an
    empty range ("empty range for randrange()" on every image)."""

    def check(transform: Any) -> str | None:
        pair = getattr(transform, name, None)
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] > pair[1]:
            return f"[{pair[0]}, {pair[1]}] is an empty range: write the low end first"
        return None

    return name, check


def _colour(transform: Any) -> str | None:
    # OpenCV draws with it; a negative channel fails on every image.
    colour = getattr(transform, "src_color", None)
    numbers = _numbers(colour)
    if numbers and (min(numbers) < 0 or max(numbers) > 255):
        return f"a colour's channels are 0..255, got {colour}"
    return None


def _border_value(name: str) -> tuple[str, Check]:
    """``fill`` or ``fill_mask`` that OpenCV takes as the border value: at most 4 numbers."""

    def check(transform: Any) -> str | None:
        numbers = _numbers(getattr(transform, name, None))
        if len(numbers) > MAX_BORDER_VALUES:
            return (
                f"OpenCV takes at most {MAX_BORDER_VALUES} values for the border it fills, "
                f"got {len(numbers)}; give one number, or one per channel for up to "
                f"{MAX_BORDER_VALUES} channels"
            )
        return None

    return name, check


#: OpenCV's border value is a Scalar: up to 4 numbers, whatever the image's channels.
MAX_BORDER_VALUES = 4
#: The transforms whose fill and fill_mask become OpenCV's border value (those that also
#: take a border_mode): more than 4 values failed on every image, inside OpenCV.
_BORDER_FILLED = (
    "Affine",
    "CenterCrop",
    "Crop",
    "CropAndPad",
    "ElasticTransform",
    "GridDistortion",
    "OpticalDistortion",
    "Pad",
    "PadIfNeeded",
    "Perspective",
    "PiecewiseAffine",
    "RandomCrop",
    "Rotate",
    "SafeRotate",
    "ShiftScaleRotate",
    "ThinPlateSpline",
)

_SCALE = "a smaller one divides by almost zero"
RULES: dict[str, list[tuple[str, Check]]] = {
    "AdvancedBlur": [
        at_least("sigma_x_limit", TINY, "a zero sigma makes the kernel's matrix singular"),
        at_least("sigma_y_limit", TINY, "a zero sigma makes the kernel's matrix singular"),
        at_least("noise_limit", TINY, "a zero noise makes a kernel of zeros, and NaN"),
    ],
    "GaussianBlur": [("sigma_limit", _gaussian_sigma)],
    "GlassBlur": [at_least("sigma", TINY, "OpenCV makes no kernel for sigma 0")],
    "Normalize": [
        at_least("std", TINY, _SCALE),
        at_least("max_pixel_value", TINY, _SCALE),
        ("mean|std", _mean_std),
    ],
    "RingingOvershoot": [at_least("cutoff", TINY, "a zero cutoff makes a kernel of NaN")],
    "ToFloat": [at_least("max_value", TINY, "dividing by it makes every pixel NaN or infinite")],
    "ShotNoise": [at_least("scale_range", TINY, _SCALE)],
    "Downscale": [
        at_least("scale_range", MIN_DOWNSCALE, "a smaller scale leaves no pixel of any image")
    ],
    "Erasing": [
        at_least("scale", TINY, "an erased area of 0 divides by zero"),
        at_most("scale", 1.0, "the erased area is a fraction of the image"),
        at_least("ratio", 1 / MAX_RATIO, "a thinner area fits no pixel"),
        at_most("ratio", MAX_RATIO, "a thinner area fits no pixel"),
        ("scale|ratio", _erasing_fits),
    ],
    "MaskDropout": [("fill", _mask_dropout_fill)],
    "RandomResizedCrop": [
        at_least("ratio", 1 / MAX_RATIO, "a thinner crop is no pixel wide"),
        at_most("ratio", MAX_RATIO, "a thinner crop is no pixel high"),
    ],
    "RandomSizedCrop": [
        at_least("w2h_ratio", 1 / MAX_RATIO, "a thinner crop is no pixel wide"),
        at_most("w2h_ratio", MAX_RATIO, "a thinner crop is no pixel high"),
    ],
    "RandomShadow": [("shadow_roi", _region)],
    "Superpixels": [("max_size|n_segments", _segments)],
    "GridDropout": [("unit_size_range", _unit_size)],
    "ChannelDropout": [_ordered("channel_drop_range")],
    "RandomSunFlare": [("src_color", _colour)],
    # A scale of 1 + scale_limit near 0 makes an image of no pixels (OpenCV fails).
    "RandomScale": [at_least("scale_limit", -1 + 1 / 32767, "1 + scale_limit is the scale")],
}
for _name in _BORDER_FILLED:
    RULES.setdefault(_name, []).extend([_border_value("fill"), _border_value("fill_mask")])


def degenerate_problems(
    name: str, transform: Any, params: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """Problems of a built ``transform``'s parameters that fail on every image."""
    problems: list[tuple[tuple[str | int, ...], str, str | None]] = []
    for params_checked, check in RULES.get(name, ()):
        message = check(transform)
        if message is None:
            continue
        # Placed at the first of the parameters it is about that the config sets.
        given = [param for param in params_checked.split("|") if param in params]
        problems.append(((given[0],) if given else (), message, None))
    return problems
