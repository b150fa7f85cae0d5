"""The cost of one step for one image: one model per family of transforms (see ``cost``).

Each rule takes the built albumentations transform (whose attributes hold its parameters as
albumentations reads them: ranges as tuples, defaults filled in) and the size of the image
it gets, and returns the milliseconds it takes, the image it makes, the bytes it allocates
and the parameter that drives the cost. The milliseconds are upper bounds of what
albumentations 2.0.8 measured for the reference image (1024×1024×3, the slower of uint8 and
float32) on a loaded 2-core machine; the parameters scale them as the implementation does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REFERENCE_SIDE = 1024
REFERENCE_CHANNELS = 3


@dataclass(frozen=True)
class Shape:
    """An upper bound of an image's size on its way through a pipeline."""

    height: float
    width: float
    channels: float = REFERENCE_CHANNELS

    @property
    def pixels(self) -> float:
        return self.height * self.width

    @property
    def scale(self) -> float:
        """Values relative to the reference image: what a pixel-wise step's time grows with."""
        return self.pixels * self.channels / (REFERENCE_SIDE**2 * REFERENCE_CHANNELS)

    @property
    def bytes(self) -> float:
        return self.pixels * self.channels * 4  # float32, the working type of float input

    def union(self, other: Shape) -> Shape:
        return Shape(
            max(self.height, other.height),
            max(self.width, other.width),
            max(self.channels, other.channels),
        )


REFERENCE = Shape(REFERENCE_SIDE, REFERENCE_SIDE, REFERENCE_CHANNELS)
REFERENCE_VOLUME = (64.0, 256.0, 256.0)  # depth, height, width of a volume for 3-D steps


@dataclass(frozen=True)
class StepCost:
    """One step on one image: milliseconds, the image it makes, the bytes it allocates."""

    ms: float
    shape: Shape
    memory: float = 0.0
    #: The parameter that drives the cost, where a problem is placed.
    driver: str | None = None


Rule = Callable[[Any, Shape], StepCost]


# ---- helpers --------------------------------------------------------------------------


def _high(value: Any) -> float:
    """The largest magnitude in a number, a range, or a mapping of ranges (0 for None)."""
    if value is None or isinstance(value, (bool, str)):
        return 0.0
    if isinstance(value, (int, float)):
        return abs(float(value))
    if isinstance(value, dict):
        return max((_high(v) for v in value.values()), default=0.0)
    if isinstance(value, (list, tuple)):
        return max((_high(v) for v in value), default=0.0)
    return 0.0


def _low(value: Any) -> float:
    """The smallest number in a number, a range, or a mapping of ranges."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict) and value:
        return min(_low(v) for v in value.values())
    if isinstance(value, (list, tuple)) and value:
        return min(_low(v) for v in value)
    return 0.0


#: cv2.BORDER_REFLECT, BORDER_WRAP, BORDER_REFLECT_101: for a point far outside the image,
#: OpenCV folds its coordinate back one image size at a time, per pixel.
_FOLDING_BORDERS = frozenset({2, 3, 4})


def reach_ms(reach: float, border: Any, shape: Shape) -> float:
    """What sampling up to ``reach`` image sizes away costs with a folding border: ~12 ms per
    image size for the reference image (100 sizes measured 0.7–1.2 s); nothing otherwise."""
    if border not in _FOLDING_BORDERS or reach <= 2:
        return 0.0
    return 12.0 * reach * shape.scale


def _gaussian_side(sigma: float) -> float:
    """The kernel side OpenCV derives from a sigma for float images (8σ + 1)."""
    return 2 * math.ceil(4 * sigma) + 1


def _oversized(kernel: float, shape: Shape, cliff: float = 1.0) -> float:
    """OpenCV's filters leave their fast paths once a kernel is wider than the image (the
    median filter at half of it): a factor that refuses such kernels."""
    side = min(shape.height, shape.width) * cliff
    return 1.0 if kernel <= side else 10.0 * (kernel / side) ** 2


# ---- the families ---------------------------------------------------------------------


def pixelwise(ms: float) -> Rule:
    """A step whose work is a fixed number of passes over the image: ``ms`` per reference."""

    def rule(t: Any, shape: Shape) -> StepCost:
        return StepCost(ms * shape.scale, shape, 2 * shape.bytes)

    return rule


def _gaussian_ms(side: float) -> float:
    """OpenCV's Gaussian blur of the reference image (float32) with a kernel of ``side``:
    separable, but its passes slow down with the kernel too (401: ~1.1 s, 1001: ~6 s)."""
    return 0.5 * side + 0.007 * side * side


def _filter(
    base: float,
    kernel: Callable[[Any], float],
    driver: str,
    *,
    per_side: float = 0.0,
    gaussian: float = 0.0,
    itemsize: int = 0,
    cliff: float = 1.0,
) -> Rule:
    """A filter: ``base`` ms for the reference image, plus what its kernel's side costs
    (``per_side`` ms a pixel of side, or ``gaussian`` times a Gaussian blur of that side).

    A full 2-D kernel (``itemsize`` bytes an entry, built in NumPy) needs its side squared
    in memory. Past ``cliff`` times the image's side, OpenCV leaves its fast paths.
    """

    def rule(t: Any, shape: Shape) -> StepCost:
        side = kernel(t)
        per_image = base + per_side * side + gaussian * _gaussian_ms(side)
        work = per_image * shape.scale * _oversized(side, shape, cliff)
        memory = 3 * shape.bytes + 4 * itemsize * side * side
        return StepCost(work, shape, memory, driver)

    return rule


def _morphological(t: Any, shape: Shape) -> StepCost:
    side = _high(t.scale)
    work = (10 + 0.15 * side * side) * shape.scale * _oversized(side, shape)
    return StepCost(work, shape, 2 * shape.bytes, "scale")


def _blur_limit(t: Any) -> float:
    return _high(t.blur_limit)


def _gaussian_blur(t: Any) -> float:
    """The side of a Gaussian kernel: the largest given, or what the largest sigma makes."""
    return max(_high(t.blur_limit), _gaussian_side(_high(t.sigma_limit)))


def _glass_blur(t: Any, shape: Shape) -> StepCost:
    # Fast mode draws iterations × 2 offsets (int64) for every pixel of the image less a
    # border of max_delta, and swaps pixels once per iteration. A max_delta beyond half the
    # image makes that "border" negative, and the count grows again with it. The image is
    # blurred with sigma before and after.
    delta = 2 * t.max_delta
    pixels = max(abs(shape.height - delta), delta) * max(abs(shape.width - delta), delta)
    swaps = pixels * t.iterations
    side = _gaussian_side(t.sigma)
    blur = 2 * _gaussian_ms(side) * shape.scale * _oversized(side, shape)
    # mode "exact" swaps pixel by pixel in a Python loop: about three times fast's work.
    per_swap = 1130 if getattr(t, "mode", "fast") == "exact" else 380
    work = 20 * shape.scale + per_swap * swaps / REFERENCE.pixels + blur
    memory = 16 * swaps + 4 * shape.bytes
    driver = "iterations" if t.iterations > 2 else "max_delta" if delta > 16 else "sigma"
    if per_swap > 380 and driver == "sigma":
        driver = "mode"
    return StepCost(work, shape, memory, driver)


def _zoom_blur(t: Any, shape: Shape) -> StepCost:
    # One resize by each factor in arange(1, max_factor, step_factor), cropped back.
    top, step = max(_high(t.max_factor), 1.0), max(_low(t.step_factor), 1e-12)
    zooms = max(1.0, (top - 1) / step)
    area = (top**3 - 1) / (3 * step) if top > 1 else 1.0  # Σ factor² over the zooms
    work = 8.0 * area * shape.scale + 0.05 * zooms
    memory = top * top * shape.bytes * 2
    driver = "step_factor" if zooms > 100 else "max_factor"
    return StepCost(work, shape, memory, driver)


def _defocus(t: Any, shape: Shape) -> StepCost:
    side = 2 * _high(t.radius) + 1  # a disc kernel (int64 grids, then float), then a blur
    blur = _gaussian_ms(_gaussian_side(_high(t.alias_blur)))
    work = (60 + 0.5 * side + blur) * shape.scale * _oversized(side, shape)
    return StepCost(work, shape, 3 * shape.bytes + 24 * side * side, "radius")


def _gravel(t: Any, shape: Shape) -> StepCost:
    x_min, y_min, x_max, y_max = t.gravel_roi
    roi = abs(x_max - x_min) * abs(y_max - y_min) * shape.pixels
    # Each patch places (roi_w/5 · roi_h/5) / 100 particles, one Python iteration each.
    particles = t.number_of_patches * roi / 2500
    return StepCost(
        40 * shape.scale + 0.005 * particles,
        shape,
        2 * shape.bytes + 48 * particles,
        "number_of_patches",
    )


def _grid_dropout(t: Any, shape: Shape) -> StepCost:
    if t.holes_number_xy:
        holes = t.holes_number_xy[0] * t.holes_number_xy[1]
    else:
        unit = max(_low(t.unit_size_range), 2.0) if t.unit_size_range else 10.0
        holes = shape.pixels / (unit * unit)
    driver = "holes_number_xy" if t.holes_number_xy else "unit_size_range"
    work = 15 * shape.scale + 0.004 * holes
    return StepCost(work, shape, 2 * shape.bytes + 64 * holes, driver)


def _sun_flare(t: Any, shape: Shape) -> StepCost:
    circles = _high(t.num_flare_circles_range)
    if t.method == "physics_based":
        work = (480 + 0.05 * t.src_radius) * shape.scale + 1.2 * circles * shape.scale
    else:  # overlay: one blend of the whole image per circle and per 10 px of src_radius
        work = (60 + 0.12 * t.src_radius + 1.2 * circles) * shape.scale
    driver = "src_radius" if t.src_radius / 10 > circles else "num_flare_circles_range"
    return StepCost(work, shape, 3 * shape.bytes, driver)


def _shadow(t: Any, shape: Shape) -> StepCost:
    shadows = _high(t.num_shadows_limit)
    vertices = t.shadow_dimension
    # A full-image mask per shadow; a random polygon's fill grows with its vertices squared.
    work = shadows * (30 * shape.scale + 5e-5 * vertices * vertices)
    driver = "shadow_dimension" if vertices > 100 else "num_shadows_limit"
    return StepCost(work, shape, 3 * shape.bytes, driver)


def _fog(t: Any, shape: Shape) -> StepCost:
    # Particles grow as the fog's intensity falls; below 0.3 their blending explodes.
    low = max(_low(t.fog_coef_range), 1e-6)
    factor = 0.3 / low if low >= 0.3 else (0.3 / low) ** 2
    return StepCost(1900 * factor * shape.scale, shape, 3 * shape.bytes, "fog_coef_range")


def _clahe(t: Any, shape: Shape) -> StepCost:
    tiles = t.tile_grid_size[0] * t.tile_grid_size[1]
    work = 40 * shape.scale + 0.001 * tiles
    return StepCost(work, shape, 2 * shape.bytes + 1024 * tiles, "tile_grid_size")


def _thin_plate(t: Any, shape: Shape) -> StepCost:
    points = t.num_control_points**2  # a grid of n × n control points
    # Every pixel against every point (float32, with temporaries), and a dense solve.
    work = (200 + 35 * points) * shape.pixels / REFERENCE.pixels + 1e-6 * (points + 3) ** 3
    memory = 16 * shape.pixels * points + 8 * (points + 3) ** 2
    return StepCost(work, shape, memory, "num_control_points")


def _superpixels(t: Any, shape: Shape) -> StepCost:
    segments = _high(t.n_segments)
    side = max(shape.height, shape.width)
    small = shape.pixels * min(1.0, (t.max_size / side) ** 2) if t.max_size else shape.pixels
    # SLIC on the image reduced to max_size, then one pass over it per segment.
    work = 20 * shape.scale + 1.6e-4 * segments * small
    driver = "n_segments" if segments > 100 else "max_size"
    return StepCost(work, shape, 3 * shape.bytes + 8 * segments, driver)


def _grid_shuffle(t: Any, shape: Shape) -> StepCost:
    tiles = t.grid[0] * t.grid[1]
    return StepCost(15 * shape.scale + 0.006 * tiles, shape, 2 * shape.bytes + 64 * tiles, "grid")


def _grid_elastic(t: Any, shape: Shape) -> StepCost:
    cells = t.num_grid_xy[0] * t.num_grid_xy[1]
    return StepCost(15 * cells * shape.scale, shape, 3 * shape.bytes, "num_grid_xy")


def _piecewise_affine(t: Any, shape: Shape) -> StepCost:
    # scikit-image's piecewise warp: ~17 µs a pixel whatever the grid, plus the grid.
    points = _high(t.nb_rows) * _high(t.nb_cols)
    work = 18000 * shape.pixels / REFERENCE.pixels + 0.05 * points * shape.scale
    return StepCost(work, shape, 3 * shape.bytes + 64 * points, "nb_rows")


def _coarse_dropout(t: Any, shape: Shape) -> StepCost:
    holes = _high(t.num_holes_range)
    area = _high(t.hole_height_range) * _high(t.hole_width_range)
    if area > 1:  # sizes in pixels rather than fractions of the image
        area = area / shape.pixels
    work = 10 * shape.scale + holes * (0.035 + 1.0 * min(area, 1.0) * shape.scale)
    return StepCost(work, shape, 2 * shape.bytes + 32 * holes, "num_holes_range")


def _constrained_dropout(t: Any, shape: Shape) -> StepCost:
    # Up to num_holes holes in every region of the mask's chosen classes, each a Python
    # iteration (~0.15 ms) and a hole mask held until all are drawn (~36 KB each, measured
    # at 1024×1024: 32,767 holes took 5 s and 1.2 GB). The regions depend on the data.
    holes = _high(t.num_holes_range)
    work = 10 * shape.scale + 0.15 * holes
    return StepCost(work, shape, 2 * shape.bytes + 36_000 * holes, "num_holes_range")


def _xy_masking(t: Any, shape: Shape) -> StepCost:
    # A stripe per mask, the image's height (or width) long: their area, in images.
    area = (
        _high(t.num_masks_x) * _high(t.mask_x_length) * shape.height
        + _high(t.num_masks_y) * _high(t.mask_y_length) * shape.width
    )
    masks = _high(t.num_masks_x) + _high(t.num_masks_y)
    work = 10 * shape.scale + 0.02 * masks + 0.5 * area / REFERENCE.pixels * shape.scale
    return StepCost(work, shape, 2 * shape.bytes, "num_masks_x")


def _plasma(ms: float) -> Rule:
    def rule(t: Any, shape: Shape) -> StepCost:
        size = float(t.plasma_size)
        work = ms * shape.scale + 1e-5 * size * size
        return StepCost(work, shape, 3 * shape.bytes + 8 * size * size, "plasma_size")

    return rule


def _rain(t: Any, shape: Shape) -> StepCost:
    work = (50 + 0.02 * t.blur_value) * shape.scale
    return StepCost(work, shape, 3 * shape.bytes, "blur_value")


def _elastic(t: Any, shape: Shape) -> StepCost:
    # Two displacement fields blurred with a kernel sigma sets (a small fixed one if
    # approximate).
    side = _gaussian_side(t.sigma)
    per_image = 130.0 if t.approximate else 100 + _gaussian_ms(side)
    work = per_image * shape.scale * _oversized(side, shape)
    return StepCost(work, shape, 6 * shape.bytes, "sigma")


def _spatter(t: Any, shape: Shape) -> StepCost:
    side = _gaussian_side(_high(t.gauss_sigma))
    work = (150 + _gaussian_ms(side)) * shape.scale * _oversized(side, shape)
    return StepCost(work, shape, 6 * shape.bytes, "gauss_sigma")


def _he_stain(t: Any, shape: Shape) -> StepCost:
    ms = {"vahadane": 9500.0, "macenko": 1100.0}.get(t.method, 550.0)  # dictionary learning
    return StepCost(ms * shape.scale, shape, 4 * shape.bytes, "method")


def _method(default: float, **methods: float) -> Rule:
    """A pixel-wise step whose time depends on its ``method`` (or ``mode``)."""

    def rule(t: Any, shape: Shape) -> StepCost:
        name = getattr(t, "method", None) or getattr(t, "mode", None)
        ms = methods.get(str(name), default)
        return StepCost(ms * shape.scale, shape, 3 * shape.bytes, "method")

    return rule


def _additive_noise(t: Any, shape: Shape) -> StepCost:
    ms = {"per_pixel": 200.0, "shared": 90.0}.get(t.spatial_mode, 40.0)
    return StepCost(ms * shape.scale, shape, 4 * shape.bytes, "spatial_mode")


def _compression(t: Any, shape: Shape) -> StepCost:
    ms = 400.0 if t.compression_type == "webp" else 100.0
    return StepCost(ms * shape.scale, shape, 3 * shape.bytes, "compression_type")


# ---- sizes ----------------------------------------------------------------------------


def _resized(ms: float, out: Callable[[Any, Shape], Shape], driver: str) -> Rule:
    """A step that makes an image of another size: time and memory of the larger of the two."""

    def rule(t: Any, shape: Shape) -> StepCost:
        made = out(t, shape)
        larger = shape.union(made)
        # An interpolation per output value: ~30 ms per reference image's worth of float32
        # output, ~100 ms when one side grows more than 4× (a 16× stretch measured 1.8 s).
        stretch = max(made.height / shape.height, made.width / shape.width)
        work = ms * shape.scale + (100 if stretch > 4 else 30) * made.scale
        return StepCost(work, made, shape.bytes + 2 * larger.bytes, driver)

    return rule


def _pair(value: Any) -> tuple[float, float]:
    if isinstance(value, (list, tuple)) and len(value) >= 2:
        return float(_high(value[0])), float(_high(value[1]))
    number = _high(value)
    return number, number


def _sized(t: Any, shape: Shape) -> Shape:
    height, width = _pair(getattr(t, "size", None) or (t.height, t.width))
    return Shape(height, width, shape.channels)


def _max_size(longest: bool) -> Callable[[Any, Shape], Shape]:
    def out(t: Any, shape: Shape) -> Shape:
        if t.max_size_hw is not None:
            height, width = (_high(v) or shape.height for v in t.max_size_hw)
            return Shape(max(height, shape.height), max(width, shape.width), shape.channels)
        side = _high(t.max_size)
        factor = side / (max if longest else min)(shape.height, shape.width)
        return Shape(shape.height * factor, shape.width * factor, shape.channels)

    return out


def _padded(top: float, left: float, shape: Shape) -> Shape:
    return Shape(shape.height + 2 * top, shape.width + 2 * left, shape.channels)


def _pad(t: Any, shape: Shape) -> Shape:
    amount = _high(t.padding)
    return _padded(amount, amount, shape)


def _pad_if_needed(t: Any, shape: Shape) -> Shape:
    height = max(shape.height, float(t.min_height or 0)) + float(t.pad_height_divisor or 0)
    width = max(shape.width, float(t.min_width or 0)) + float(t.pad_width_divisor or 0)
    return Shape(height, width, shape.channels)


def _crop_and_pad(t: Any, shape: Shape) -> Shape:
    if t.px is not None:
        top = left = _high(t.px)
    else:
        top, left = _high(t.percent) * shape.height, _high(t.percent) * shape.width
    return _padded(top, left, shape)


def _crop_and_pad_cost(t: Any, shape: Shape) -> StepCost:
    # The padded image is made first, then resized back when keep_size.
    padded = _crop_and_pad(t, shape)
    made = shape if t.keep_size else padded
    larger = shape.union(padded)
    return StepCost(
        30 * larger.scale, made, shape.bytes + 2 * larger.bytes, "px" if t.px else "percent"
    )


def _crop(t: Any, shape: Shape) -> Shape:
    if not getattr(t, "pad_if_needed", False):
        return shape  # a crop never grows the image (a size beyond it fails on the data)
    if hasattr(t, "x_max"):
        return Shape(
            max(shape.height, float(t.y_max - t.y_min)),
            max(shape.width, float(t.x_max - t.x_min)),
            shape.channels,
        )
    return shape.union(Shape(float(t.height), float(t.width), shape.channels))


def _random_scale(t: Any, shape: Shape) -> Shape:
    factor = 1 + max(0.0, _high(t.scale_limit) if _low(t.scale_limit) >= 0 else max(t.scale_limit))
    return Shape(shape.height * factor, shape.width * factor, shape.channels)


def _affine(t: Any, shape: Shape) -> Shape:
    if not t.fit_output:
        return shape
    scale = max(_high(t.scale), 1e-9)
    # The bounding box of a scaled, rotated and sheared image: at most √2 · (1 + shear) wider.
    shear = min(_high(t.shear), 89.0)
    grow = scale * math.sqrt(2) * (1 + math.tan(math.radians(shear)))
    side = max(shape.height, shape.width) * grow
    return Shape(side, side, shape.channels)


def _affine_cost(t: Any, shape: Shape) -> StepCost:
    # A scale s samples from 1/s image sizes away; translations add their shift.
    sized = _resized(25, _affine, "scale")(t, shape)
    side = max(min(shape.height, shape.width), 1.0)
    reach = (
        1 / max(_low(t.scale), 1e-12) + _high(t.translate_percent) + _high(t.translate_px) / side
    )
    walk = reach_ms(reach, t.border_mode, sized.shape)
    driver = (
        "translate_percent"
        if _high(t.translate_percent) > 1 / max(_low(t.scale), 1e-12)
        else "scale"
    )
    if _high(t.translate_px) / side > reach / 2:
        driver = "translate_px"
    return StepCost(sized.ms + walk, sized.shape, sized.memory, driver if walk else sized.driver)


def _shift_scale_rotate(t: Any, shape: Shape) -> StepCost:
    scale = _low(t.scale_limit)  # albumentations holds it as 1 + the limit
    shift = max(_high(t.shift_limit_x), _high(t.shift_limit_y))
    reach = 1 / max(scale, 1e-12) + shift
    work = 25 * shape.scale + reach_ms(reach, t.border_mode, shape)
    driver = "scale_limit" if 1 / max(scale, 1e-12) > shift else "shift_limit"
    return StepCost(work, shape, 3 * shape.bytes, driver)


def _perspective(t: Any, shape: Shape) -> Shape:
    if t.keep_size or not t.fit_output:
        return shape
    grow = 1 + 2 * _high(t.scale)
    return Shape(shape.height * grow, shape.width * grow, shape.channels)


def _channels(t: Any, shape: Shape) -> Shape:
    return Shape(shape.height, shape.width, float(t.num_output_channels))


def _volume(voxels: Callable[[Any, tuple[float, float, float]], float], driver: str) -> Rule:
    """3-D steps work on a ``volume`` (reference: 64 × 256 × 256), not on the image."""

    def rule(t: Any, shape: Shape) -> StepCost:
        made = voxels(t, REFERENCE_VOLUME)
        larger = max(made, math.prod(REFERENCE_VOLUME))
        work = 20 * larger / REFERENCE.pixels
        return StepCost(work, shape, 12 * larger, driver)

    return rule


def _pad_3d(t: Any, volume: tuple[float, float, float]) -> float:
    amount = _high(t.padding)
    return math.prod(side + 2 * amount for side in volume)


def _pad_if_needed_3d(t: Any, volume: tuple[float, float, float]) -> float:
    least = t.min_zyx or (0, 0, 0)
    divisor = t.pad_divisor_zyx or (0, 0, 0)
    return math.prod(
        max(side, float(low)) + float(step)
        for side, low, step in zip(volume, least, divisor, strict=True)
    )


def _crop_3d(t: Any, volume: tuple[float, float, float]) -> float:
    if not t.pad_if_needed:
        return math.prod(volume)
    return math.prod(max(side, float(size)) for side, size in zip(volume, t.size, strict=True))


def _dropout_3d(t: Any, shape: Shape) -> StepCost:
    holes = _high(t.num_holes_range)
    voxels = math.prod(REFERENCE_VOLUME)
    work = 20 * voxels / REFERENCE.pixels + 0.05 * holes
    return StepCost(work, shape, 8 * voxels + 48 * holes, "num_holes_range")


def _mosaic(t: Any, shape: Shape) -> StepCost:
    height, width = _pair(t.target_size)
    cell_h, cell_w = _pair(t.cell_shape)
    rows, cols = _pair(t.grid_yx)
    canvas = Shape(rows * cell_h, cols * cell_w, shape.channels)
    made = Shape(height, width, shape.channels)
    larger = canvas.union(made).union(shape)
    return StepCost(40 * larger.scale + 0.01 * rows * cols, made, 3 * larger.bytes, "target_size")


def _to_gray(t: Any, shape: Shape) -> StepCost:
    ms = {"pca": 190.0, "desaturation": 200.0, "average": 60.0, "max": 95.0}.get(t.method, 30.0)
    made = Shape(shape.height, shape.width, float(t.num_output_channels))
    larger = shape.union(made)
    driver = "num_output_channels" if made.channels > shape.channels else "method"
    # More channels than it got: each copied out again (96 channels measured 2.1 s).
    work = ms * shape.scale + 65 * max(0.0, made.scale - shape.scale)
    return StepCost(work, made, shape.bytes + 2 * larger.bytes, driver)


_PIXELWISE: dict[str, float] = {
    # ms for the reference image at any parameters, the slower of uint8 and float32, rounded up
    "AutoContrast": 60,
    "BBoxSafeRandomCrop": 10,
    "AtLeastOneBBoxRandomCrop": 10,
    "ChannelDropout": 12,
    "ChannelShuffle": 16,
    "ChromaticAberration": 60,
    "ColorJitter": 160,
    "CropNonEmptyMaskIfExists": 10,
    "CubicSymmetry": 40,
    "D4": 25,
    "Downscale": 35,
    "Emboss": 25,
    "Equalize": 60,
    "Erasing": 12,
    "FancyPCA": 330,
    "FrequencyMasking": 8,
    "FromFloat": 80,
    "GaussNoise": 45,
    "GridDistortion": 40,
    "HorizontalFlip": 15,
    "HueSaturationValue": 55,
    "ISONoise": 80,
    "Illumination": 50,
    "InvertImg": 18,
    "MaskDropout": 20,
    "MultiplicativeNoise": 15,
    "NoOp": 5,
    "Normalize": 65,
    "OpticalDistortion": 40,
    "OverlayElements": 20,
    "PixelDropout": 45,
    "PlanckianJitter": 40,
    "Posterize": 50,
    "RGBShift": 16,
    "RandomBrightnessContrast": 80,
    "RandomCropFromBorders": 10,
    "RandomCropNearBBox": 10,
    "RandomGamma": 25,
    "RandomRotate90": 12,
    "RandomSnow": 240,
    "RandomToneCurve": 75,
    "Rotate": 35,
    "SafeRotate": 35,
    "SaltAndPepper": 95,
    "ShotNoise": 480,
    "Solarize": 50,
    "SquareSymmetry": 250,
    "TimeMasking": 8,
    "TimeReverse": 12,
    "ToFloat": 5,
    "ToSepia": 14,
    "Transform3D": 20,
    "Transpose": 27,
    "VerticalFlip": 12,
}

RULES: dict[str, Rule] = {
    **{name: pixelwise(ms) for name, ms in _PIXELWISE.items()},
    # Filters: a kernel's side (and, for full 2-D kernels, its square in memory).
    "Blur": _filter(15, _blur_limit, "blur_limit", per_side=0.02),  # a box: running sums
    "MedianBlur": _filter(130, _blur_limit, "blur_limit", per_side=0.05, cliff=0.5),
    "GaussianBlur": _filter(15, _gaussian_blur, "blur_limit", gaussian=1),
    "UnsharpMask": _filter(100, _gaussian_blur, "blur_limit", gaussian=1.5),
    "Sharpen": _filter(30, lambda t: float(t.kernel_size), "kernel_size", gaussian=1),
    "MotionBlur": _filter(15, _blur_limit, "blur_limit", per_side=0.6, itemsize=4),
    "AdvancedBlur": _filter(25, _blur_limit, "blur_limit", per_side=0.6, itemsize=8),
    "RingingOvershoot": _filter(140, _blur_limit, "blur_limit", per_side=0.6, itemsize=8),
    "Defocus": _defocus,
    "Morphological": _morphological,
    "GlassBlur": _glass_blur,
    "ZoomBlur": _zoom_blur,
    "ElasticTransform": _elastic,
    "Spatter": _spatter,
    # Counts of drawn, iterated or tiled things.
    "RandomGravel": _gravel,
    "GridDropout": _grid_dropout,
    "RandomSunFlare": _sun_flare,
    "RandomShadow": _shadow,
    "RandomFog": _fog,
    "CLAHE": _clahe,
    "ThinPlateSpline": _thin_plate,
    "Superpixels": _superpixels,
    "RandomGridShuffle": _grid_shuffle,
    "GridElasticDeform": _grid_elastic,
    "PiecewiseAffine": _piecewise_affine,
    "CoarseDropout": _coarse_dropout,
    "ConstrainedCoarseDropout": _constrained_dropout,
    "XYMasking": _xy_masking,
    "PlasmaBrightnessContrast": _plasma(200),
    "PlasmaShadow": _plasma(80),
    "RandomRain": _rain,
    # Methods of very different costs.
    "HEStain": _he_stain,
    "ToGray": _to_gray,
    "AdditiveNoise": _additive_noise,
    "ImageCompression": _compression,
    # Sizes: the image a step makes.
    "Resize": _resized(10, _sized, "height"),
    "RandomResizedCrop": _resized(20, _sized, "size"),
    "RandomSizedCrop": _resized(20, _sized, "size"),
    "RandomSizedBBoxSafeCrop": _resized(20, _sized, "height"),
    "LongestMaxSize": _resized(15, _max_size(longest=True), "max_size"),
    "SmallestMaxSize": _resized(15, _max_size(longest=False), "max_size"),
    "Pad": _resized(15, _pad, "padding"),
    "PadIfNeeded": _resized(15, _pad_if_needed, "min_height"),
    "CropAndPad": _crop_and_pad_cost,
    "Crop": _resized(6, _crop, "x_max"),
    "CenterCrop": _resized(5, _crop, "height"),
    "RandomCrop": _resized(8, _crop, "height"),
    "RandomScale": _resized(25, _random_scale, "scale_limit"),
    "Affine": _affine_cost,
    "Perspective": _resized(40, _perspective, "scale"),
    "ShiftScaleRotate": _shift_scale_rotate,
    "ToRGB": _resized(5, _channels, "num_output_channels"),
    "Mosaic": _mosaic,
    # Volumes.
    "Pad3D": _volume(_pad_3d, "padding"),
    "PadIfNeeded3D": _volume(_pad_if_needed_3d, "min_zyx"),
    "CenterCrop3D": _volume(_crop_3d, "size"),
    "RandomCrop3D": _volume(_crop_3d, "size"),
    "CoarseDropout3D": _dropout_3d,
}
