"""``confaug.keras``'s free functions against Keras' own, on the same inputs and seeds.

Keras' ``keras.src.legacy.preprocessing.image`` functions run side by side with the
drop-in's. Both draw from NumPy's global random state, so after the same ``np.random.seed``
they draw the same parameters. Geometry is compared on square smooth images (where Keras'
centre is right): OpenCV's bilinear and scipy's agree to < 1e-3 of 255. Where confaug
differs on purpose (``random_shift``'s axes, the centre of non-square images, brightness
without 8-bit rounding) the test asserts confaug's behaviour and names Keras'.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "numpy")
legacy = pytest.importorskip(
    "keras.src.legacy.preprocessing.image",
    reason="Keras 3 (with jax or numpy as backend) is needed to compare with its functions",
)
import confaug.keras as image  # noqa: E402
from confaug.keras import functions  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
GEOMETRY_TOLERANCE = 1e-3  # on 0–255 values: the two bilinear kernels' rounding


def smooth(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth float64 image on 0–255, HWC."""
    small = np.random.default_rng(seed).uniform(0, 255, (5, 5, channels))
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return out.reshape(height, width, channels).clip(0, 255)


def both(name: str, *args, seed: int = 5, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Keras' function and the drop-in's, each after ``np.random.seed(seed)``."""
    np.random.seed(seed)
    theirs = getattr(legacy, name)(*args, **kwargs)
    np.random.seed(seed)
    ours = getattr(image, name)(*args, **kwargs)
    return np.asarray(ours), np.asarray(theirs)


def assert_equal_geometry(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, atol=GEOMETRY_TOLERANCE)


CHANNELS_FIRST = {}  # Keras' default axes: row 1, col 2, channels 0
CHANNELS_LAST = {"row_axis": 0, "col_axis": 1, "channel_axis": 2}


@pytest.mark.parametrize("axes", [CHANNELS_FIRST, CHANNELS_LAST], ids=["chw", "hwc"])
@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "constant"])
@pytest.mark.parametrize(
    ("name", "argument"),
    [("random_rotation", 40), ("random_shear", 25), ("random_zoom", (0.6, 1.4))],
)
def test_random_geometry_equals_keras(name: str, argument, fill_mode: str, axes: dict) -> None:
    hwc = smooth(32, 32)
    x = hwc if axes else np.ascontiguousarray(hwc.transpose(2, 0, 1))
    for seed in range(3):
        ours, theirs = both(name, x, argument, seed=seed, fill_mode=fill_mode, cval=17.0, **axes)
        assert_equal_geometry(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int64])
def test_apply_affine_transform_equals_keras_and_keeps_the_dtype(dtype: type) -> None:
    x = np.rint(smooth(24, 24)).astype(dtype)
    params = {"theta": 25, "tx": 3.5, "ty": -2, "shear": 12, "zx": 0.8, "zy": 1.2}
    for fill_mode in ("nearest", "reflect", "constant"):
        ours, theirs = both(
            "apply_affine_transform", x, **params, **CHANNELS_LAST, fill_mode=fill_mode, cval=9
        )
        assert ours.dtype == theirs.dtype == dtype
        # integers: both round the same interpolated value, but may tie-break apart by 1
        atol = GEOMETRY_TOLERANCE if np.issubdtype(dtype, np.floating) else 1
        np.testing.assert_allclose(ours.astype(float), theirs.astype(float), atol=atol)


def test_apply_affine_transform_axes_and_shift_directions_as_keras() -> None:
    """``tx`` moves along ``col_axis`` and ``ty`` along ``row_axis``, whatever their order."""
    x = np.zeros((1, 5, 7))
    x[0, 2, 3] = 1.0
    for axes in ({}, {"row_axis": 2, "col_axis": 1}):
        for shift in ({"tx": 2}, {"ty": -1}, {"tx": -1, "ty": 1}):
            ours, theirs = both("apply_affine_transform", x, **shift, **axes)
            np.testing.assert_array_equal(ours, theirs)
    x_last = np.ascontiguousarray(x.transpose(1, 2, 0))
    ours, theirs = both("apply_affine_transform", x_last, tx=2, ty=1, **CHANNELS_LAST)
    np.testing.assert_array_equal(ours, theirs)


def test_neutral_parameters_return_the_input_itself() -> None:
    x = smooth(6, 6)
    assert image.apply_affine_transform(x, **CHANNELS_LAST) is x
    assert legacy.apply_affine_transform(x, **CHANNELS_LAST) is x
    np.testing.assert_array_equal(image.random_zoom(x, (1, 1), **CHANNELS_LAST), x)


@pytest.mark.parametrize(
    "axes",
    [
        {"row_axis": 0, "col_axis": 0, "channel_axis": 2},
        {"row_axis": 0, "col_axis": 1, "channel_axis": 3},
        {"row_axis": 0, "col_axis": 2, "channel_axis": 1},
    ],
)
def test_bad_axes_and_ranks_raise_value_error_as_keras(axes: dict) -> None:
    x = smooth(6, 6)
    for module in (image, legacy):
        with pytest.raises(ValueError):
            module.apply_affine_transform(x, theta=10, **axes)
    with pytest.raises(ValueError):
        image.apply_affine_transform(x[..., 0], theta=10)
    with pytest.raises(ValueError, match="zoom_range"):
        image.random_zoom(x, (0.5, 1.0, 2.0))
    with pytest.raises(ValueError, match="brightness_range"):
        image.random_brightness(x, [1.0])


def test_random_shift_moves_width_horizontally_unlike_keras() -> None:
    """The deliberate fix: Keras' ``random_shift`` scales ``hrg`` by the height but moves
    the columns with it (and ``wrg`` the rows). Both draw ``hrg`` first."""
    x = np.ascontiguousarray(smooth(32, 32).transpose(2, 0, 1))
    ours, theirs = both("random_shift", x, 0.2, 0.1, seed=3)
    np.random.seed(3)
    first = np.random.uniform(-0.1, 0.1) * 32  # the hrg draw
    second = np.random.uniform(-0.2, 0.2) * 32  # the wrg draw
    keras_as_fixed = legacy.apply_affine_transform(x, tx=second, ty=first)
    keras_as_is = legacy.apply_affine_transform(x, tx=first, ty=second)
    np.testing.assert_allclose(theirs, keras_as_is, atol=1e-12)
    np.testing.assert_allclose(ours, keras_as_fixed, atol=GEOMETRY_TOLERANCE)
    marker = np.zeros((1, 40, 40))
    marker[0, 18:22, 18:22] = 1.0
    np.random.seed(0)
    moved = image.random_shift(marker, 0.25, 0.0, fill_mode="constant")
    rows, cols = np.nonzero(moved[0] > 0.5)
    assert rows.mean() == pytest.approx(19.5) and cols.mean() != pytest.approx(19.5)


def test_non_square_images_turn_about_their_centre_unlike_keras() -> None:
    x = np.zeros((20, 40, 1), np.float32)
    x[8:12, 18:22] = 1.0  # a square on the centre (9.5, 19.5)
    ours = image.apply_affine_transform(x, zx=0.5, zy=0.5, **CHANNELS_LAST, fill_mode="constant")
    rows, cols = np.nonzero(ours[..., 0] > 0.5)
    assert (rows.mean(), cols.mean()) == pytest.approx((9.5, 19.5))
    theirs = legacy.apply_affine_transform(x, zx=0.5, zy=0.5, **CHANNELS_LAST, fill_mode="constant")
    rows, cols = np.nonzero(theirs[..., 0] > 0.5)
    assert cols.mean() != pytest.approx(19.5)  # Keras takes the row count as the centre


def test_constant_fill_is_exactly_cval_outside_as_keras() -> None:
    """Issue 13, item 9, through the free function: no blend of the edge with ``cval``."""
    x = np.ones((3, 3, 3))
    corners_out = np.array([[0.0, 1, 0], [1, 1, 1], [0, 1, 0]])[..., None].repeat(3, axis=2)
    ours, theirs = both(
        "apply_affine_transform", x, theta=45, **CHANNELS_LAST, fill_mode="constant"
    )
    np.testing.assert_allclose(theirs, corners_out, atol=1e-9)
    np.testing.assert_allclose(ours, corners_out, atol=1e-6)


def test_channel_shift_equals_keras_exactly() -> None:
    for x in (smooth(8, 8), np.rint(smooth(8, 8)).astype(np.uint8), smooth(8, 8).astype("f4")):
        chw = np.ascontiguousarray(np.moveaxis(x, -1, 0))
        for seed in range(3):
            ours, theirs = both("random_channel_shift", chw, 60.0, seed=seed)
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours, theirs)
        ours, theirs = both("apply_channel_shift", x, -30.0, 2)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("scale", [True, False])
def test_brightness_as_keras_without_its_8_bit_rounding(channels: int, scale: bool) -> None:
    """Same semantics (stretch to 0–255, clip, alpha kept, map back with ``scale=False``);
    Keras truncates to 8 bits before PIL, so it sits up to ``b + 1`` steps of 0–255 below."""
    for low, high in ((0, 255), (-40, 600), (0.2, 0.9)):
        x = low + (high - low) * smooth(10, 10, channels) / 255.0
        mapped_back = not scale and (low < 0 or high > 255)
        step = (high - low) / 255.0 if mapped_back else 1.0  # one 0–255 step, in x's units
        for seed in range(3):
            ours, theirs = both("random_brightness", x, (0.5, 1.5), scale, seed=seed)
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
            np.random.seed(seed)
            gain = np.random.uniform(0.5, 1.5)
            assert np.abs(ours - theirs).max() <= (gain + 1.0) * step + 1e-3


def test_brightness_edge_cases_as_keras() -> None:
    for value in (128.0, 1024.0, -1024.0):
        x = np.full((1, 1, 3), value)
        for scale in (True, False):
            ours, theirs = both("random_brightness", x, [1, 1], scale)
            np.testing.assert_array_equal(ours, theirs)
    rgba = np.dstack([smooth(6, 6), np.full((6, 6), 77.0)])
    out = image.apply_brightness_shift(rgba, 1.4, scale=False)
    np.testing.assert_allclose(out[..., 3], 77.0, atol=1e-4)
    with pytest.raises(ValueError, match="channels"):
        image.apply_brightness_shift(smooth(6, 6, 2), 1.2)


def test_random_brightness_calls_apply_brightness_shift_as_keras(monkeypatch) -> None:
    """Code that patches ``apply_brightness_shift`` sees ``random_brightness`` use it."""
    monkeypatch.setattr(functions, "apply_brightness_shift", lambda x, b, s: (x, b, s))
    assert functions.random_brightness(0, (3, 3), False) == (0, 3.0, False)


def test_transform_matrix_offset_center_and_flip_axis_equal_keras() -> None:
    matrix = np.array([[0.9, -0.2, 3.0], [0.3, 1.1, -1.0], [0.0, 0.0, 1.0]])
    for x, y in ((4, 6), (31, 17)):
        np.testing.assert_allclose(
            image.transform_matrix_offset_center(matrix, x, y),
            legacy.transform_matrix_offset_center(matrix, x, y),
        )
    x = smooth(5, 4)
    for axis in (0, 1, 2):
        np.testing.assert_array_equal(image.flip_axis(x, axis), legacy.flip_axis(x, axis))


def test_global_seed_reproduces_the_random_functions() -> None:
    x = smooth(16, 16)
    runs = []
    for _ in range(2):
        np.random.seed(42)
        runs.append(
            [
                image.random_rotation(x, 30, **CHANNELS_LAST),
                image.random_shift(x, 0.1, 0.2, **CHANNELS_LAST),
                image.random_zoom(x, (0.8, 1.2), **CHANNELS_LAST),
                image.random_channel_shift(x, 10.0, 2),
            ]
        )
    for first, second in zip(*runs, strict=True):
        np.testing.assert_array_equal(first, second)


def test_warps_run_one_opencv_call_for_all_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four channels, channels first: one warp of the HWC image, not one per channel."""
    calls = []
    original = cv2.warpAffine

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(cv2, "warpAffine", counting)
    x = np.ascontiguousarray(smooth(12, 12, 4).transpose(2, 0, 1)).astype(np.float32)
    image.apply_affine_transform(x, theta=10)
    assert len(calls) == 1
