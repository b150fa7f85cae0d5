"""Probe dropin7 #5–#7: the drop-in's one-image API and free functions answer wrong
arguments in confaug's words (not OpenCV's or NumPy's), and fit names bad samples one by one."""

from __future__ import annotations

import numpy as np
import pytest

from confaug import DataError
from confaug.keras import ImageDataGenerator, functions

BATCH = np.random.default_rng(0).random((4, 8, 8, 3), dtype=np.float32)
CHANNELS_FIRST = np.random.default_rng(1).random((3, 8, 8), dtype=np.float32)


# ---- #5: one image only ------------------------------------------------------------------
def test_random_transform_of_a_batch_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"multi-channel 2D images.*\(4, 8, 8, 3\)"):
        ImageDataGenerator(rotation_range=30).random_transform(BATCH, seed=1)


def test_apply_transform_of_a_batch_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"multi-channel 2D images.*\(4, 8, 8, 3\)"):
        ImageDataGenerator().apply_transform(BATCH, {"theta": 30})


def test_two_d_image_under_channels_first_is_a_value_error() -> None:
    generator = ImageDataGenerator(data_format="channels_first", rotation_range=10)
    with pytest.raises(ValueError, match=r"multi-channel 2D images.*\(channels, rows, cols\)"):
        generator.random_transform(BATCH[0, :, :, 0], seed=1)


def test_rank_one_shape_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"multi-channel 2D images.*\(8,\)"):
        ImageDataGenerator().get_random_transform((8,), seed=1)


def test_single_images_still_work() -> None:
    generator = ImageDataGenerator(rotation_range=30)
    assert generator.random_transform(BATCH[0], seed=1).shape == (8, 8, 3)
    assert generator.random_transform(BATCH[0, :, :, 0], seed=1).shape == (8, 8)
    first = ImageDataGenerator(data_format="channels_first", rotation_range=30)
    assert first.random_transform(CHANNELS_FIRST, seed=1).shape == (3, 8, 8)


@pytest.mark.parametrize("seed", [-1, "a", 1.5, (1, 2)])
def test_get_random_transform_checks_the_seed_as_flow_does(seed: object) -> None:
    generator = ImageDataGenerator(rotation_range=30)
    with pytest.raises(ValueError, match=r"expected a non-negative int or None"):
        generator.get_random_transform((8, 8, 3), seed=seed)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"expected a non-negative int or None"):
        generator.random_transform(BATCH[0], seed=seed)  # type: ignore[arg-type]


def test_numpy_integer_seed_draws_as_the_int() -> None:
    generator = ImageDataGenerator(rotation_range=30, zoom_range=0.2)
    shape = (8, 8, 3)
    assert generator.get_random_transform(shape, seed=np.int64(7)) == (
        generator.get_random_transform(shape, seed=7)
    )


@pytest.mark.parametrize("name", ["row_axis", "col_axis", "channel_axis"])
def test_free_function_float_axis_is_a_type_error(name: str) -> None:
    axes = {"row_axis": 1, "col_axis": 2, "channel_axis": 0}
    axes[name] = float(axes[name])
    with pytest.raises(TypeError, match=rf"{name}=\d\.0; the axis must be an int"):
        functions.apply_affine_transform(CHANNELS_FIRST, theta=10, **axes)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=rf"{name}=\d\.0; the axis must be an int"):
        functions.random_rotation(CHANNELS_FIRST, 10, **axes)  # type: ignore[arg-type]


def test_random_shift_of_a_two_d_image_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"multi-channel 2D images"):
        functions.random_shift(CHANNELS_FIRST[0], 0.1, 0.1)


# ---- #6: the channel shift's axis ----------------------------------------------------------
@pytest.mark.parametrize("axis", [5, 3, -4])
def test_channel_shift_axis_out_of_range(axis: int) -> None:
    with pytest.raises(ValueError, match=rf"channel_axis={axis} is out of range .* rank 3"):
        functions.apply_channel_shift(CHANNELS_FIRST, 0.5, channel_axis=axis)
    with pytest.raises(ValueError, match=rf"channel_axis={axis} is out of range .* rank 3"):
        functions.random_channel_shift(CHANNELS_FIRST, 0.5, channel_axis=axis)


def test_channel_shift_axis_not_an_int() -> None:
    with pytest.raises(TypeError, match=r"channel_axis=1\.0; the axis must be an int"):
        functions.apply_channel_shift(CHANNELS_FIRST, 0.5, channel_axis=1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("axis", [0, 2, -1, -3, np.int64(1)])
def test_channel_shift_valid_axes_unchanged(axis: int) -> None:
    out = functions.apply_channel_shift(CHANNELS_FIRST, 0.25, channel_axis=axis)
    expected = np.clip(CHANNELS_FIRST + 0.25, CHANNELS_FIRST.min(), CHANNELS_FIRST.max())
    np.testing.assert_array_equal(out, expected)


# ---- #7: fit names bad samples one by one -------------------------------------------------
def test_fit_names_each_non_finite_sample() -> None:
    x = BATCH.copy()
    x[1] = np.nan
    x[3] = np.inf
    with pytest.raises(DataError, match=r"^x\[1\], x\[3\]: NaN or infinite values"):
        ImageDataGenerator(featurewise_center=True).fit(x)


def test_fit_names_at_most_five_samples() -> None:
    x = np.full((7, 4, 4, 3), np.inf, np.float32)
    message = r"^x\[0\], x\[1\], x\[2\], x\[3\], x\[4\], \.\.\.: NaN or infinite values"
    with pytest.raises(DataError, match=message):
        ImageDataGenerator(featurewise_center=True).fit(x)


def test_fit_one_bad_sample_reads_as_before() -> None:
    x = BATCH.copy()
    x[2, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match=r"^x\[2\]: NaN or infinite values"):
        ImageDataGenerator(featurewise_center=True).fit(x)


@pytest.mark.parametrize("size", [0, -2, 1.5, "4", True])
def test_the_hand_written_iterator_checks_its_batch_size(size: object) -> None:
    from confaug.keras import Iterator

    with pytest.raises((ValueError, TypeError), match=r"batch_size=.*expected a positive int"):
        Iterator(4, size, False, 0)
    assert len(Iterator(5, 2, False, 0)) == 3
