"""IdgParams and IdgSampler: Keras' distributions, units, forms and validation."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from confaug.idg.params import IdgParams, IdgSampler, ShiftRange

N = 4000


def draws(sampler: IdgSampler, n: int = N, height: int = 50, width: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [sampler.sample(rng, height, width) for _ in range(n)]


def column(params: list[IdgParams], name: str) -> np.ndarray:
    return np.array([getattr(p, name) for p in params], dtype=float)


# ---- IdgParams ----------------------------------------------------------------------------


def test_params_round_trip_through_keras_dict() -> None:
    keras = {
        "theta": np.float64(12.5),
        "tx": np.int64(-3),
        "ty": 4.25,
        "shear": 0.5,
        "zx": 0.9,
        "zy": 1.1,
        "flip_horizontal": 1,  # Keras stores `(random < 0.5) * flag`, an int
        "flip_vertical": 0,
        "channel_shift_intensity": None,
        "brightness": 1.2,
    }
    params = IdgParams.from_keras(keras)
    assert params == IdgParams(12.5, -3.0, 4.25, 0.5, 0.9, 1.1, True, False, None, 1.2)
    assert IdgParams.from_keras(params.to_keras()) == params
    assert type(params.tx) is float and params.flip_horizontal is True


def test_params_from_partial_dict_uses_keras_defaults() -> None:
    assert IdgParams.from_keras({"theta": 5}) == IdgParams(theta=5.0)
    assert IdgParams.from_keras({}) == IdgParams()


def test_params_reject_unknown_keys() -> None:
    with pytest.raises(ValueError, match="rotation"):
        IdgParams.from_keras({"rotation": 5})


# ---- sampler: rotation, shear, zoom, flips, photometric ----------------------------------


def test_defaults_draw_the_identity() -> None:
    assert all(p == IdgParams() for p in draws(IdgSampler(), n=20))


def test_rotation_is_uniform_symmetric_and_pair_is_low_high() -> None:
    theta = column(draws(IdgSampler(rotation_range=15)), "theta")
    assert theta.min() >= -15 and theta.max() <= 15
    assert abs(theta.mean()) < 0.5 and theta.std() == pytest.approx(30 / np.sqrt(12), rel=0.05)
    theta = column(draws(IdgSampler(rotation_range=[5, 10])), "theta")
    assert theta.min() >= 5 and theta.max() <= 10 and theta.mean() == pytest.approx(7.5, abs=0.1)


def test_shear_is_in_degrees_and_uniform() -> None:
    shear = column(draws(IdgSampler(shear_range=20)), "shear")
    assert shear.min() >= -20 and shear.max() <= 20 and shear.max() > 19


def test_zoom_scalar_means_one_plus_minus_and_axes_are_independent() -> None:
    params = draws(IdgSampler(zoom_range=0.2))
    zx, zy = column(params, "zx"), column(params, "zy")
    assert zx.min() >= 0.8 and zx.max() <= 1.2 and zy.min() >= 0.8 and zy.max() <= 1.2
    assert abs(np.corrcoef(zx, zy)[0, 1]) < 0.05  # Keras draws zx and zy independently
    assert np.mean(np.isclose(zx, zy)) < 0.01


def test_zoom_pair_and_unit_zoom() -> None:
    zx = column(draws(IdgSampler(zoom_range=[0.9, 1.25])), "zx")
    assert zx.min() >= 0.9 and zx.max() <= 1.25 and zx.mean() == pytest.approx(1.075, abs=0.01)
    assert all(p.zx == p.zy == 1.0 for p in draws(IdgSampler(zoom_range=[1, 1]), n=10))


def test_flips_have_probability_one_half_only_when_enabled() -> None:
    params = draws(IdgSampler(horizontal_flip=True))
    assert column(params, "flip_horizontal").mean() == pytest.approx(0.5, abs=0.03)
    assert not any(p.flip_vertical for p in params)
    params = draws(IdgSampler(vertical_flip=True))
    assert column(params, "flip_vertical").mean() == pytest.approx(0.5, abs=0.03)


def test_channel_shift_and_brightness() -> None:
    params = draws(IdgSampler(channel_shift_range=30, brightness_range=[0.5, 1.5]))
    shift, bright = column(params, "channel_shift_intensity"), column(params, "brightness")
    assert shift.min() >= -30 and shift.max() <= 30 and shift.std() > 15
    assert bright.min() >= 0.5 and bright.max() <= 1.5
    assert all(
        p.channel_shift_intensity is None and p.brightness is None for p in draws(IdgSampler(), n=5)
    )


# ---- sampler: shifts ----------------------------------------------------------------------


def test_width_shift_scales_with_width_and_moves_tx_height_shift_with_height_and_ty() -> None:
    """The deliberate fix of Keras' swap: width → tx (columns), height → ty (rows)."""
    params = draws(IdgSampler(width_shift_range=0.1), height=50, width=200)
    tx, ty = column(params, "tx"), column(params, "ty")
    assert np.all(ty == 0) and tx.min() >= -20 and tx.max() <= 20 and tx.max() > 19
    params = draws(IdgSampler(height_shift_range=0.1), height=50, width=200)
    tx, ty = column(params, "tx"), column(params, "ty")
    assert np.all(tx == 0) and ty.min() >= -5 and ty.max() <= 5 and ty.max() > 4.9


def test_float_shift_of_one_or_more_is_pixels() -> None:
    tx = column(draws(IdgSampler(width_shift_range=7.5)), "tx")
    assert tx.min() >= -7.5 and tx.max() <= 7.5 and len(np.unique(tx)) > 100


def test_int_shift_draws_zero_to_r_minus_one_pixels_with_a_sign() -> None:
    """Keras: ``np.random.choice(r) * np.random.choice([-1, 1])`` — r itself never occurs."""
    tx = column(draws(IdgSampler(width_shift_range=3)), "tx")
    assert set(np.unique(tx)) == {-2.0, -1.0, 0.0, 1.0, 2.0}


def test_list_shift_draws_items_with_a_sign_in_pixels_or_fractions() -> None:
    tx = column(draws(IdgSampler(width_shift_range=[10, 20]), width=200), "tx")
    assert set(np.unique(tx)) == {-20.0, -10.0, 10.0, 20.0}
    tx = column(draws(IdgSampler(width_shift_range=[0.1, 0.2]), width=200), "tx")
    assert set(np.unique(tx)) == {-40.0, -20.0, 20.0, 40.0}


def test_shift_range_parse_forms() -> None:
    assert ShiftRange.parse(0, "w") is None and ShiftRange.parse(0.0, "w") is None
    assert ShiftRange.parse([], "w") is None
    assert ShiftRange.parse(0.1, "w") == ShiftRange(None, 0.1, True)
    assert ShiftRange.parse(np.int64(2), "w") == ShiftRange((0.0, 1.0), 0.0, False)
    assert ShiftRange.parse((0.5, 0.25), "w") == ShiftRange((0.5, 0.25), 0.0, True)


# ---- sampler: construction ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rotation_range": [10, 5]}, ValueError, "rotation_range: low must be <= high"),
        ({"rotation_range": "15"}, TypeError, "rotation_range"),
        ({"zoom_range": [0.9, 1.1, 1.2]}, ValueError, "zoom_range"),
        ({"zoom_range": 1.0}, ValueError, "above 0"),
        ({"width_shift_range": -0.1}, ValueError, "width_shift_range must be >= 0"),
        ({"height_shift_range": True}, TypeError, "height_shift_range"),
        ({"height_shift_range": ["a"]}, ValueError, "height_shift_range"),
        ({"brightness_range": 1.5}, TypeError, "brightness_range"),
        ({"brightness_range": [-0.5, 1.0]}, ValueError, "brightness_range must be >= 0"),
        ({"horizontal_flip": "yes"}, TypeError, "horizontal_flip"),
    ],
)
def test_bad_keywords_fail_at_construction(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        IdgSampler(**kwargs)


def test_sampler_keeps_written_values_is_hashable_and_pickles() -> None:
    sampler = IdgSampler(rotation_range=15, zoom_range=[0.9, 1.25], brightness_range=[0.5, 1.5])
    assert sampler.zoom_range == (0.9, 1.25)
    assert hash(sampler) == hash(
        IdgSampler(rotation_range=15, zoom_range=(0.9, 1.25), brightness_range=(0.5, 1.5))
    )
    clone = pickle.loads(pickle.dumps(sampler))
    assert clone == sampler
    assert draws(clone, n=50) == draws(sampler, n=50)


def test_same_generator_state_gives_same_draws() -> None:
    sampler = IdgSampler(rotation_range=15, width_shift_range=0.1, horizontal_flip=True)
    assert draws(sampler, n=100, seed=3) == draws(sampler, n=100, seed=3)
    assert draws(sampler, n=100, seed=3) != draws(sampler, n=100, seed=4)
