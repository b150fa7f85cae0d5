"""confaug's IDG warp and sampler held against the real Keras legacy ImageDataGenerator.

Pixel comparisons use one draw for both sides (Keras' ``get_random_transform`` dict through
``IdgParams.from_keras``) on square 64×64 images, where Keras' centre and shift axes are
right. Values are compared on the 0–255 scale; the tolerances and their reasons:

* geometry, float32 input: max abs diff < 0.05 — OpenCV and scipy compute the same
  bilinear samples (measured ≤ 0.001);
* geometry and channel shift, uint8 input: mean < 0.5, max ≤ 1 — confaug's uint8 output is
  rounded (±0.5) and OpenCV's uint8 bilinear weights are 1/32-pixel fixed point;
* with brightness b: mean < 0.5·b + 1, max < b + 1 (float) or 1.5·b + 1.5 (uint8) — Keras
  truncates the warped image to 8 bits before PIL and PIL's blend truncates again, so it sits
  up to b + 1 below the exact value (0.5·b + 0.5 on average over smooth content; flat fill
  areas can sit higher); confaug keeps floats exact and rounds uint8 twice (after the warp,
  then ×b, and after the lookup table).

Borders: ``nearest``, ``reflect`` and ``constant`` are held to the same bounds everywhere
(``constant`` is scipy's: exactly ``cval`` outside, no blend of the edge pixels with it).
``wrap`` differs outside the image because scipy's ``wrap`` repeats with period n - 1 — and
since the channel shift clips to the image's own range, border included, ``wrap`` is compared
to Keras' ``wrap`` without it, and everywhere, channel shift included, with scipy's
``grid-wrap`` (passed through Keras), which shares OpenCV's convention.
"""

from __future__ import annotations

import dataclasses
import os

import cv2
import numpy as np
import pytest

# Keras picks its backend at first import; the legacy generator only needs NumPy.
os.environ.setdefault("KERAS_BACKEND", "numpy")
legacy = pytest.importorskip(
    "keras.src.legacy.preprocessing.image",
    reason="Keras 3 (with a backend such as jax or numpy) is needed for the fidelity tests",
)
from scipy.stats import ks_2samp  # noqa: E402

from confaug._albu import albumentations  # noqa: E402
from confaug.idg import (  # noqa: E402
    IdgParams,
    IdgSampler,
    apply_params,
    apply_params_to_mask,
    flip_matrix,
    inverse_matrix,
)
from confaug.idg.transform import IdgTransform  # noqa: E402
from tests.helpers import seed_keywords  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.filterwarnings("ignore:Please import `affine_transform`:DeprecationWarning"),
]
ImageDataGenerator = legacy.ImageDataGenerator

SIZE = 64
CVAL = 90.0
KEYWORDS: dict[str, dict] = {
    "rotation_range": {"rotation_range": 30},
    "width_shift_range": {"width_shift_range": 0.15},
    "height_shift_range": {"height_shift_range": 0.15},
    "shear_range": {"shear_range": 20},
    "zoom_range": {"zoom_range": [0.7, 1.3]},
    "channel_shift_range": {"channel_shift_range": 40.0},
    "brightness_range": {"brightness_range": [0.5, 1.5]},
    "horizontal_flip": {"horizontal_flip": True},
    "vertical_flip": {"vertical_flip": True},
    "all": {
        "rotation_range": 30,
        "width_shift_range": 0.15,
        "height_shift_range": 0.15,
        "shear_range": 20,
        "zoom_range": [0.7, 1.3],
        "channel_shift_range": 40.0,
        "brightness_range": [0.5, 1.5],
        "horizontal_flip": True,
        "vertical_flip": True,
    },
}
FILL_MODES = ("constant", "nearest", "reflect", "wrap")
SEED_CONFIG = seed_keywords(without=("fill_mode", "data_format"))  # the sampler's keywords


def make_image(channels: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth random colours plus a bright blurred marker, integral values on 0–255."""
    noise = np.random.default_rng(seed).random((SIZE // 8 + 2, SIZE // 8 + 2, channels))
    image = cv2.resize(noise, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    image = image.reshape(SIZE, SIZE, channels)
    image = (image - image.min()) / (image.max() - image.min()) * 200 + 20
    ys, xs = np.indices((SIZE, SIZE))
    marker = np.exp(-((ys - 20) ** 2 + (xs - 40) ** 2) / (2 * 3.0**2))[..., None]
    return np.rint(image * (1 - marker) + 250 * marker).astype(np.float32)


def keras_draws(generator, shape: tuple[int, ...], n: int, seed: int) -> list[IdgParams]:
    """The first ``n`` non-identity draws of Keras' own sampler."""
    np.random.seed(seed)
    found: list[IdgParams] = []
    while len(found) < n:
        params = IdgParams.from_keras(generator.get_random_transform(shape))
        if params != IdgParams():
            found.append(params)
    return found


def keras_apply(image: np.ndarray, params: IdgParams, data_format: str, **options) -> np.ndarray:
    generator = ImageDataGenerator(data_format=data_format, **options)
    if data_format == "channels_first":
        out = generator.apply_transform(image.transpose(2, 0, 1).copy(), params.to_keras())
        return out.transpose(1, 2, 0)
    return generator.apply_transform(image.copy(), params.to_keras())


def confaug_apply(image: np.ndarray, params: IdgParams, dtype: str, **options) -> np.ndarray:
    if dtype == "uint8":
        return apply_params(image.astype(np.uint8), params, **options).astype(np.float64)
    out = apply_params(image / np.float32(255), params, **options)
    assert out.dtype == np.float32
    return out * 255.0


def source_coordinates(params: IdgParams) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel reads the input, in (x, y)."""
    matrix = inverse_matrix(params, SIZE, SIZE) @ flip_matrix(params, SIZE, SIZE)
    ys, xs = np.indices((SIZE, SIZE))
    return (
        matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2],
        matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2],
    )


def regions(params: IdgParams) -> tuple[np.ndarray, np.ndarray]:
    """Pixels read from inside the image, and from within one pixel outside it."""
    sx, sy = source_coordinates(params)
    inside = (sx >= 0) & (sx <= SIZE - 1) & (sy >= 0) & (sy <= SIZE - 1)
    near = (sx > -1) & (sx < SIZE) & (sy > -1) & (sy < SIZE)
    return inside, near & ~inside


def assert_close(ours: np.ndarray, keras: np.ndarray, where: np.ndarray, params, dtype) -> None:
    diff = np.abs(ours - keras)[where]
    if diff.size == 0:
        return
    context = f"{params} ({dtype}): mean {diff.mean():.3f}, max {diff.max():.3f}"
    if params.brightness is not None:
        bright = params.brightness
        rounding = 0.5 * bright + 0.5 if dtype == "uint8" else 0.0
        assert diff.mean() < 0.5 * bright + 1.0, context
        assert diff.max() < bright + 1.0 + rounding + 0.05, context
    elif dtype == "uint8":
        assert diff.mean() < 0.5 and diff.max() <= 1.0, context
    else:
        assert diff.max() < 0.05, context


CASES = [
    pytest.param(name, fill_mode, data_format, id=f"{name}-{fill_mode}-{data_format}")
    for name in KEYWORDS
    for fill_mode in FILL_MODES
    for data_format in ("channels_last", "channels_first")
    # Keras' brightness step crashes on channels_first images (it hands CHW to PIL).
    if not (name == "brightness_range" and data_format == "channels_first")
]


@pytest.mark.parametrize(("name", "fill_mode", "data_format"), CASES)
def test_keyword_matches_keras(name: str, fill_mode: str, data_format: str) -> None:
    config = dict(KEYWORDS[name])
    if data_format == "channels_first":
        config.pop("brightness_range", None)
    image = make_image()
    shape = image.shape if data_format == "channels_last" else image.shape[::-1]
    generator = ImageDataGenerator(data_format=data_format, **config)
    for params in keras_draws(generator, shape, n=3, seed=len(name)):
        if fill_mode == "wrap":
            params = dataclasses.replace(params, channel_shift_intensity=None)
        keras = keras_apply(image, params, data_format, fill_mode=fill_mode, cval=CVAL)
        inside, band = regions(params)
        for dtype in ("uint8", "float32"):
            ours = confaug_apply(image, params, dtype, fill_mode=fill_mode, cval=CVAL)
            assert_close(ours, keras, inside, params, dtype)
            if fill_mode in ("nearest", "reflect", "constant"):
                assert_close(ours, keras, ~inside, params, dtype)
            if fill_mode == "constant":  # the band OpenCV's own constant border would blend
                assert_close(ours, keras, band, params, dtype)


@pytest.mark.parametrize(
    ("fill_mode", "scipy_mode"), [("constant", "constant"), ("wrap", "grid-wrap")]
)
def test_constant_border_is_scipys_and_wrap_is_scipys_grid_wrap(
    fill_mode: str, scipy_mode: str
) -> None:
    """Everywhere, channel shift included: ``constant`` as Keras' own (issue 13, item 9)."""
    config = dict(KEYWORDS["all"])
    image = make_image()
    generator = ImageDataGenerator(**config)
    for params in keras_draws(generator, image.shape, n=4, seed=1):
        keras = keras_apply(image, params, "channels_last", fill_mode=scipy_mode, cval=CVAL)
        everywhere = np.ones((SIZE, SIZE), bool)
        for dtype in ("uint8", "float32"):
            ours = confaug_apply(image, params, dtype, fill_mode=fill_mode, cval=CVAL)
            assert_close(ours, keras, everywhere, params, dtype)


@pytest.mark.parametrize("order", [0, 1, 3])
def test_constant_fill_covers_exactly_the_pixels_read_from_outside(order: int) -> None:
    """Issue 13, item 9: ``cval`` exactly where scipy's ``constant`` puts it (the source
    point beyond the outermost pixel centres), the image's own values everywhere else —
    for images and masks, also on quarter turns and flips, where rows read one column."""
    rng = np.random.default_rng(4)
    image = np.full((SIZE, SIZE), 200, np.uint8)
    draws = [
        IdgParams(theta=90.0),
        IdgParams(theta=-90.0, flip_horizontal=True, tx=3.0),
        IdgParams(theta=180.0, zx=1.5, zy=0.7),
        *(
            IdgParams(
                theta=float(rng.uniform(-180, 180)),
                tx=float(rng.uniform(-9, 9)),
                shear=float(rng.uniform(-20, 20)),
                zx=float(rng.uniform(0.6, 1.4)),
                zy=float(rng.uniform(0.6, 1.4)),
                flip_vertical=bool(rng.integers(2)),
            )
            for _ in range(20)
        ),
    ]
    for params in draws:
        sx, sy = source_coordinates(params)
        tolerance = 1e-6
        outside = (sx < -tolerance) | (sx > SIZE - 1 + tolerance)
        outside |= (sy < -tolerance) | (sy > SIZE - 1 + tolerance)
        out = apply_params(image, params, fill_mode="constant", cval=9, interpolation_order=order)
        np.testing.assert_array_equal(out == 9, outside)
        assert (out[~outside] == 200).all()
        mask = apply_params_to_mask(np.ones((SIZE, SIZE), np.uint8), params, fill_mode="constant")
        np.testing.assert_array_equal(mask == 0, outside)


@pytest.mark.parametrize("channels", [1, 4])
def test_grayscale_and_rgba_match_keras(channels: int) -> None:
    """Keras' brightness goes through PIL as L or RGBA; RGBA keeps its alpha."""
    image = make_image(channels, seed=channels)
    generator = ImageDataGenerator(**KEYWORDS["all"])
    for params in keras_draws(generator, image.shape, n=3, seed=5):
        keras = keras_apply(image, params, "channels_last", fill_mode="reflect")
        for dtype in ("uint8", "float32"):
            ours = confaug_apply(image, params, dtype, fill_mode="reflect")
            assert ours.shape == keras.shape
            assert_close(ours, keras, np.ones((SIZE, SIZE), bool), params, dtype)


@pytest.mark.parametrize("order", [0, 2, 3, 4, 5])
def test_other_interpolation_orders_stay_close_to_keras(order: int) -> None:
    """OpenCV's kernels are not scipy's splines: order 0 differs only where a sample falls
    exactly half-way (rounding ties, < 10% of pixels); orders 2–5 (OpenCV bicubic and
    Lanczos-4 against scipy's spline orders) agree on smooth images to mean < 0.5, p99 < 2.
    """
    image = make_image()
    generator = ImageDataGenerator(**KEYWORDS["all"])
    for params in keras_draws(generator, image.shape, n=3, seed=2):
        geometry = dataclasses.replace(params, brightness=None, channel_shift_intensity=None)
        keras = keras_apply(image, geometry, "channels_last", interpolation_order=order)
        ours = confaug_apply(image, geometry, "float32", interpolation_order=order)
        diff = np.abs(ours - keras)
        if order == 0:
            assert np.mean(diff > 0.05) < 0.1
        else:
            assert diff.mean() < 0.5 and np.percentile(diff, 99) < 2.0, (order, diff.mean())


def test_width_shift_moves_horizontally_unlike_keras() -> None:
    """The deliberate fix: Keras moves a channels_last image vertically for width_shift."""
    image = np.zeros((SIZE, SIZE, 1), np.float32)
    image[28:36, 28:36] = 255
    np.random.seed(0)
    keras = ImageDataGenerator(width_shift_range=[20], fill_mode="constant").random_transform(
        image.copy()
    )
    ours = apply_params(
        image.astype(np.uint8),
        IdgSampler(width_shift_range=[20]).sample(np.random.default_rng(0), SIZE, SIZE),
        fill_mode="constant",
    )
    keras_rows, keras_cols = np.nonzero(keras[..., 0] > 127)
    our_rows, our_cols = np.nonzero(ours[..., 0] > 127)
    assert abs(keras_rows.mean() - 31.5) == 20 and keras_cols.mean() == 31.5
    assert abs(our_cols.mean() - 31.5) == 20 and our_rows.mean() == 31.5


# ---- distributions --------------------------------------------------------------------------


def displacement_scale_brightness(params: list[IdgParams]) -> dict[str, np.ndarray]:
    """Where a marker at (44, 20) lands, how much its area scales, and the brightness."""
    point = np.array([44.0, 20.0, 1.0])
    moved, area = [], []
    for p in params:
        forward = np.linalg.inv(inverse_matrix(p, SIZE, SIZE) @ flip_matrix(p, SIZE, SIZE))
        moved.append((forward @ point)[:2] - point[:2])
        area.append(abs(np.linalg.det(forward[:2, :2])))
    moved_array = np.array(moved)
    return {
        "dx": moved_array[:, 0],
        "dy": moved_array[:, 1],
        "area": np.array(area),
        "brightness": np.array([p.brightness for p in params]),
    }


def test_parameter_distributions_match_keras() -> None:
    n = 3000
    generator = ImageDataGenerator(**SEED_CONFIG, fill_mode="reflect")
    np.random.seed(0)
    keras = [
        IdgParams.from_keras(generator.get_random_transform((SIZE, SIZE, 3))) for _ in range(n)
    ]
    sampler = IdgSampler(**SEED_CONFIG)
    rng = np.random.default_rng(0)
    ours = [sampler.sample(rng, SIZE, SIZE) for _ in range(n)]
    keras_stats, our_stats = (
        displacement_scale_brightness(keras),
        displacement_scale_brightness(ours),
    )
    for name in keras_stats:
        result = ks_2samp(keras_stats[name], our_stats[name])
        assert result.pvalue > 0.01, (name, result)
    for name in ("theta", "tx", "ty", "shear", "zx", "zy"):
        values = [np.array([getattr(p, name) for p in draws]) for draws in (keras, ours)]
        assert ks_2samp(*values).pvalue > 0.01, name


def marker_measurements(images: list[np.ndarray], background: float) -> dict[str, np.ndarray]:
    """Centroid shift, area and brightness of a bright blob on a flat background."""
    rows = []
    for image in images:
        gray = image[..., 0].astype(np.float64)
        gain = np.median(gray) / background
        excess = np.clip(gray - np.median(gray), 0, None)
        ys, xs = np.indices(gray.shape)
        mass = excess.sum()
        rows.append(((xs * excess).sum() / mass, (ys * excess).sum() / mass, mass / gain, gain))
    values = np.array(rows)
    return {"x": values[:, 0], "y": values[:, 1], "mass": values[:, 2], "gain": values[:, 3]}


@pytest.mark.parametrize(
    ("brightness", "measured"), [(True, ("x", "y", "gain")), (False, ("x", "y", "mass"))]
)
def test_pixel_level_marker_distributions_match_keras(brightness: bool, measured: tuple) -> None:
    """A blob's position, brightness and mass over 300 images of each side.

    Keras truncates to 8 bits in its brightness step, which lowers every blob pixel by about
    0.5·b and a blob's mass by ~2%, so the mass (the scale) is compared without brightness,
    on float images where both sides are exact.
    """
    n, background = 300, 60.0
    ys, xs = np.indices((SIZE, SIZE))
    blob = np.exp(-((ys - 25.5) ** 2 + (xs - 39.5) ** 2) / (2 * 2.5**2))
    image = np.rint(background + 120 * blob)[..., None].repeat(3, axis=2).astype(np.float32)
    config = dict(SEED_CONFIG)
    if not brightness:
        del config["brightness_range"]

    generator = ImageDataGenerator(**config, fill_mode="reflect")
    np.random.seed(0)
    keras = [generator.random_transform(image.copy()) for _ in range(n)]

    A = albumentations()
    pipe = A.Compose([IdgTransform(**config, fill_mode="reflect")], seed=0)
    if brightness:
        ours = [pipe(image=image.astype(np.uint8))["image"] for _ in range(n)]
    else:
        ours = [pipe(image=image / 255)["image"] * 255 for _ in range(n)]

    keras_stats = marker_measurements(keras, background)
    our_stats = marker_measurements(ours, background)
    for name in measured:
        result = ks_2samp(keras_stats[name], our_stats[name])
        assert result.pvalue > 0.01, (name, result)
