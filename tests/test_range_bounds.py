"""The quick look at a float batch's bits decides its value range as its values do.

``ArraySource.range_bounds`` and the drop-in's ``flow`` read the largest bit pattern (one
pass) to find that every value is finite and within [0, 1] or [0, 255]; anything else goes
to the exact scan of the values. The range ``value_range: auto`` takes must not change.
"""

from __future__ import annotations

import numpy as np
import pytest

import confaug
from confaug.compiler.values import infer_scale
from confaug.errors import DataError
from confaug.keras import ImageDataGenerator
from confaug.sources.arrays import ArraySource, within_a_range

F32 = np.float32


def exact_range(x: np.ndarray) -> tuple[float, float] | None:
    """The range the exact scan decides, or None where it refuses (NaN, out of both)."""
    try:
        scale = infer_scale(x, "auto")
    except DataError:
        return None
    assert scale is not None
    return scale.low, scale.high


EDGE_VALUES = [
    0.0, 1.0, 255.0, 0.5, 200.0, -0.0, -1e-30, 1e-45, np.nextafter(F32(1), F32(2)),
    np.nextafter(F32(255), F32(256)), 256.0, np.inf, -np.inf, np.nan, 1e30,
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("value", EDGE_VALUES)
@pytest.mark.parametrize("base", [0.25, 100.0])
def test_bits_decide_as_the_values_do(dtype: type, value: float, base: float) -> None:
    x = np.full((3, 5, 7, 3), base, dtype)
    with np.errstate(over="ignore"):  # 1e30 is inf in float16
        x[2, 4, 6, 2] = value
    found = within_a_range(x)
    exact = exact_range(x)
    if found is not None:  # when it says, it says what the values say
        assert found == exact
    elif exact is not None:  # it may leave a batch to the exact scan only for -0.0
        assert np.signbit(x).any()


def test_random_batches_agree_with_the_exact_scan() -> None:
    rng = np.random.default_rng(0)
    for trial in range(300):
        high = rng.choice([0.5, 1.0, 1.0001, 200.0, 255.0, 255.5, 1000.0])
        low = rng.choice([0.0, 0.0, -0.5, 1e-3])
        x = rng.uniform(low, high, (2, 8, 8, 3)).astype(F32)
        if trial % 7 == 0:
            x[1, 3, 3, 1] = high  # the top of the range, exactly
        found, exact = within_a_range(x), exact_range(x)
        assert found is None or found == exact
        if exact is not None and not np.signbit(x).any():
            assert found == exact


def test_it_declines_what_it_cannot_read_in_one_pass() -> None:
    x = np.full((4, 6, 6, 3), 0.5, F32)
    assert within_a_range(x[:, ::2]) is None  # not contiguous
    assert within_a_range(x.astype(np.uint8)) is None
    assert within_a_range(np.zeros((0, 4, 4, 3), F32)) is None
    assert within_a_range([x[0], x[1]]) is None
    # The same values, bytes the other way round: 200.0 would read as a small [0, 1] number.
    swapped = (x * 400).astype(x.dtype.newbyteorder())
    assert within_a_range(swapped) is None
    assert ArraySource(swapped).range_bounds() == (200.0, 200.0)  # the exact scan's bounds


def test_range_bounds_give_the_range_and_finiteness() -> None:
    unit = np.random.default_rng(1).random((4, 16, 16, 3), dtype=F32)
    source = ArraySource(unit)
    assert source.range_bounds() == (0.0, 1.0)
    assert source.known_finite
    assert source.value_bounds() == (float(unit.min()), float(unit.max()))  # still exact
    bytes_range = ArraySource(unit * 255)
    assert bytes_range.range_bounds() == (0.0, 255.0)
    dark = unit * 0.1  # a dark [0, 1] batch is [0, 1]
    assert ArraySource(dark).range_bounds() == (0.0, 1.0)


def test_beyond_both_ranges_falls_back_to_the_exact_bounds() -> None:
    x = np.random.default_rng(2).uniform(-3, 300, (2, 8, 8, 3)).astype(F32)
    source = ArraySource(x)
    assert source.range_bounds() == (float(x.min()), float(x.max()))
    x[0, 0, 0, 0] = np.nan
    with_nan = ArraySource(x)
    bounds = with_nan.range_bounds()
    assert bounds is not None and not with_nan.known_finite


def test_a_subset_keeps_its_datasets_range() -> None:
    x = np.random.default_rng(3).uniform(0, 255, (8, 8, 8, 3)).astype(F32)
    x[:4] *= 0.003  # the first half alone would read as [0, 1]
    source = ArraySource(x)
    assert source.range_bounds() == (0.0, 255.0)
    part = source.part(0, 4)
    assert part.range_bounds() == part.value_bounds() == (float(x.min()), float(x.max()))


def test_wrap_and_the_drop_in_keep_their_outputs() -> None:
    """The range decided the quick way gives the bits the exact scan gave: the batch path
    with a fixed value_range of the same range."""
    x = np.random.default_rng(4).uniform(0, 255, (4, 24, 24, 3)).astype(F32)
    keywords = {"rotation_range": 20, "horizontal_flip": True, "brightness_range": [0.6, 1.4]}
    auto = confaug.load_pipeline(keywords)
    fixed = confaug.load_pipeline({**keywords, "value_range": [0, 255]})
    by_auto = list(auto.wrap([x], seed=5))
    by_fixed = list(fixed.wrap([x], seed=5))
    assert np.array_equal(by_auto[0], by_fixed[0])
    dark = x * 0.003  # within [0, 1]: taken as [0, 1], as the exact scan takes it
    unit = confaug.load_pipeline({**keywords, "value_range": [0, 1]})
    assert np.array_equal(
        next(iter(auto.wrap([dark], seed=5))), next(iter(unit.wrap([dark], seed=5)))
    )
    drop_in = ImageDataGenerator(**keywords)
    batch, _ = next(drop_in.flow(x, np.zeros(4), batch_size=4, shuffle=False, seed=9))
    assert batch.dtype == np.float32 and batch.min() >= 0.0 and batch.max() <= 255.0
    assert batch.max() > 1.5  # worked on as 0-255 data, not clipped into [0, 1]
