"""Parameter values a transform's schema accepts but that fail on every image.

A sigma of 0 makes AdvancedBlur's covariance singular, a std of 1e-300 makes Normalize
divide into infinity, a zero-area region makes RandomShadow draw from an empty range, an
empty list leaves albumentations nothing to pick a size or a channel's value from: each
validates, then raises (or writes NaN) on the first image, whatever the image — or on a
random share of images, whatever they are (a kernel size drawn negative). Those are refused
here, at the parameter. What depends on the image (a crop larger than it) is the data's
problem, a ``DataError`` when it happens.
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


def not_empty(name: str, why: str, when: Callable[[Any], bool] | None = None) -> tuple[str, Check]:
    """Parameter ``name`` must not be an empty list where albumentations picks a value from
    it or reads one value per channel (``when`` says if it reads it at all)."""

    def check(transform: Any) -> str | None:
        value = getattr(transform, name, None)
        empty = isinstance(value, (list, tuple)) and len(value) == 0
        if empty and (when is None or when(transform)):
            return f"an empty list gives albumentations no value ({why})"
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


def _hole_kind(values: Any) -> str:
    """What a CoarseDropout hole range says it is: past 1 it can only be pixels, made of 0s
    and 1s it reads the same either way (the config's ints become floats on the way, so the
    type cannot tell), anything else is fractions of the image side."""
    numbers = _numbers(values)
    if max(numbers) > 1:
        return "pixels"
    return "either" if set(numbers) <= {0.0, 1.0} else "fractions"


def _hole_read(name: str) -> tuple[str, Check]:
    """albumentations 2.0.8's CoarseDropout reads *both* hole ranges as pixels when
    ``hole_height_range`` ends at 1 or more, else both as fractions, whatever the width says.
    A width in pixels beside a height in fractions becomes holes wider than any image ("high
    <= 0" on every image); a width in fractions beside a height in pixels, holes 0 px wide
    (nothing dropped, no word); a float height ending at 1.0, holes 0 to 1 px high."""

    def check(transform: Any) -> str | None:
        height = transform.hole_height_range
        values = getattr(transform, name)
        read = "pixels" if height[1] >= 1 else "fractions"
        if _hole_kind(values) in ("either", read):
            return None
        if name != "hole_height_range" and _hole_kind(height) not in ("either", read):
            return None  # the height's own problem says it
        shown = f"[{values[0]:g}, {values[1]:g}]"
        if name == "hole_height_range":
            return (
                f"{shown} ends at 1, so albumentations reads it (and hole_width_range) as "
                f"pixels: holes {int(values[0])} to 1 px high; for fractions of the image end "
                "below 1 (e.g. [0.5, 0.99]), for pixels give integers"
            )
        low, high = values
        if read == "fractions":
            meant = f"{low:g} to {high:g} times the image's width (a hole wider than it fails)"
        else:
            meant = f"{int(low)} to {int(high)} px wide (nothing dropped)"
        return (
            f"albumentations reads hole_width_range as it reads hole_height_range "
            f"[{height[0]:g}, {height[1]:g}], in {read}, so {shown} here would be {meant}; "
            f"give both ranges in pixels (integers) or both as fractions of the image (≤ 1)"
        )

    return name, check


def _randrange_pairs(name: str) -> tuple[str, Check]:
    """CropAndPad's ``px`` (all sides, or per side) and ``percent`` per side: albumentations
    2.0.8 draws a pair of px with Python's ``randrange(low, high)``, which excludes high (an
    equal or reversed pair is an empty range), and decides from the first side whether the
    four sides are numbers or ranges (a mixture fails on every image)."""

    def check(transform: Any) -> str | None:
        value = getattr(transform, name, None)
        if not isinstance(value, (list, tuple)):
            return None
        sides = len(value) == 4
        if sides and len({isinstance(item, (list, tuple)) for item in value}) > 1:
            return (
                "give the four sides all as numbers or all as [low, high] ranges "
                "(albumentations reads the first side's form for all four)"
            )
        if name != "px":
            return None  # percent is drawn with uniform(low, high): any pair is a range
        pairs = [item for item in value if isinstance(item, (list, tuple))] if sides else [value]
        for pair in pairs:
            if len(pair) == 2 and pair[0] >= pair[1]:
                low, high = pair
                if low == high:
                    # Per side, a number among the ranges would be a mixture.
                    exactly = f"[{low}, {low + 1}]" if sides else f"{low} (or [{low}, {low + 1}])"
                    return (
                        f"[{low}, {high}] is albumentations' range [low, high) with high "
                        f"excluded, so it is empty; for exactly {low} px write {exactly}"
                    )
                return f"[{low}, {high}] is an empty range: write the low end first"
        return None

    return name, check


def _hole_ranges() -> list[tuple[str, Check]]:
    # The width's problem is placed at the width when the config sets it, else at the height
    # whose kind decides how it is read.
    width = ("hole_width_range|hole_height_range", _hole_read("hole_width_range")[1])
    return [_hole_read("hole_height_range"), width]


def _gaussian_sharpen(transform: Any) -> str | None:
    # OpenCV's Gaussian kernel needs an odd size (a centre pixel); method 'kernel', the
    # default, ignores kernel_size.
    if transform.method == "gaussian" and transform.kernel_size % 2 == 0:
        size = transform.kernel_size
        return (
            f"with method 'gaussian' OpenCV needs an odd kernel_size (a centre pixel), got "
            f"{size}; write {size - 1} or {size + 1}"
        )
    return None


def _hue(transform: Any) -> str | None:
    # One number h is the range [-h, h]; albumentations bounds the [low, high] form to
    # [-0.5, 0.5] (half a turn either way already reaches every hue) but not the number, so
    # ``hue: 1`` loaded while the [-1, 1] it stands for (and A.save writes) was refused.
    high = max(_numbers(transform.hue))
    if high > 0.5:
        return (
            f"hue {high:g} shifts by up to {high:g} of a turn either way; hue shifts are within "
            "[-0.5, 0.5] (as for the [low, high] form), and 0.5 already reaches every hue: "
            "write at most 0.5"
        )
    return None


def _max_size_hw(transform: Any) -> str | None:
    sizes = transform.max_size_hw
    if isinstance(sizes, (list, tuple)) and all(size is None for size in sizes):
        return (
            "both sides are null, which leaves no size to scale to; give a height, a width "
            "or both (null leaves that side free), or use max_size"
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
    # OpenCV draws with it; a negative channel, no channel at all, or more than a Scalar's
    # four fail on every image.
    colour = getattr(transform, "src_color", None)
    numbers = _numbers(colour)
    if isinstance(colour, (list, tuple)) and not 0 < len(numbers) <= MAX_BORDER_VALUES:
        return (
            f"a colour is one value per channel, at most {MAX_BORDER_VALUES} (OpenCV draws "
            f"with it), got {len(numbers)}: e.g. [255, 255, 255]"
        )
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

#: ``fill`` and ``fill_mask`` of every transform but ``_BORDER_FILLED``'s: albumentations fills
#: holes or a canvas one value per channel (the dropouts, Mosaic, the 3D pads), and an empty
#: list fails on every image. Where OpenCV pads or warps it is OpenCV's border value of zeros,
#: and works; CropAndPad, which picks the fill from the list, has its own rule in RULES.
_EMPTY_FILL = [
    not_empty("fill", "give one number, or one per channel"),
    not_empty("fill_mask", "give one number, or one per channel"),
]
_PICKED = "albumentations picks the fill from the list: give a number, or values to pick from"
_SIZES = "it picks one of the sizes for each image: give a size, or sizes to pick from"
_PER_CHANNEL = "give one value per channel, or one for every channel"


def _standard(transform: Any) -> bool:
    # Only normalization 'standard' reads mean and std.
    return getattr(transform, "normalization", "standard") == "standard"


_SCALE = "a smaller one divides by almost zero"
RULES: dict[str, list[tuple[str, Check]]] = {
    "AdvancedBlur": [
        at_least("sigma_x_limit", TINY, "a zero sigma makes the kernel's matrix singular"),
        at_least("sigma_y_limit", TINY, "a zero sigma makes the kernel's matrix singular"),
        at_least("noise_limit", TINY, "a zero noise makes a kernel of zeros, and NaN"),
    ],
    "GaussianBlur": [
        ("sigma_limit", _gaussian_sigma),
        # randint(*blur_limit) may draw it: a negative size makes no kernel (OpenCV fails).
        at_least("blur_limit", 0, "a negative kernel size makes no kernel; 0 takes it from sigma"),
    ],
    "GlassBlur": [at_least("sigma", TINY, "OpenCV makes no kernel for sigma 0")],
    "Normalize": [
        at_least("std", TINY, _SCALE),
        at_least("max_pixel_value", TINY, _SCALE),
        ("mean|std", _mean_std),
        not_empty("mean", _PER_CHANNEL, when=_standard),
        not_empty("std", _PER_CHANNEL, when=_standard),
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
    "CoarseDropout": _hole_ranges(),
    "CropAndPad": [
        _randrange_pairs("px"),
        _randrange_pairs("percent"),
        not_empty("fill", _PICKED),
        not_empty("fill_mask", _PICKED),
    ],
    "Pad": [
        at_least("padding", 0, "Pad adds pixels: to cut some, use Crop or CropAndPad's negative px")
    ],
    "LongestMaxSize": [not_empty("max_size", _SIZES), ("max_size_hw", _max_size_hw)],
    "SmallestMaxSize": [not_empty("max_size", _SIZES), ("max_size_hw", _max_size_hw)],
    "Sharpen": [("kernel_size|method", _gaussian_sharpen)],
    "ColorJitter": [("hue", _hue)],
    "PixelDropout": [
        not_empty("drop_value", _PER_CHANNEL),
        not_empty("mask_drop_value", _PER_CHANNEL),
    ],
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
    rules = list(RULES.get(name, ()))
    if name not in _BORDER_FILLED:
        rules.extend(rule for rule in _EMPTY_FILL if rule[0] in params)
    for params_checked, check in rules:
        message = check(transform)
        if message is None:
            continue
        # Placed at the first of the parameters it is about that the config sets.
        given = [param for param in params_checked.split("|") if param in params]
        problems.append(((given[0],) if given else (), message, None))
    return problems
