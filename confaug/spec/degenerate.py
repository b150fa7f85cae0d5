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
}


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
