"""The standardize stage, held against Keras' ``standardize`` and ``fit``.

Keras computes in float32 and confaug's statistics in float64, so values are compared with
a relative tolerance of 1e-4 (1e-3 after ZCA whitening, which amplifies rounding through
the inverse singular values).
"""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest

from confaug.idg.standardize import FeaturewiseStats, NotFittedError, Standardizer

os.environ.setdefault("KERAS_BACKEND", "numpy")


@pytest.fixture(scope="module")
def keras_generator():
    """Keras' ImageDataGenerator, built without its warnings about implied flags."""
    legacy = pytest.importorskip(
        "keras.src.legacy.preprocessing.image",
        reason="Keras 3 (with a backend such as jax or numpy) is needed to compare with Keras",
    )

    def build(**options):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return legacy.ImageDataGenerator(**options)

    return build


def batch(n: int = 300, height: int = 6, width: int = 5, channels: int = 3, seed: int = 0):
    """Correlated, channel-dependent values on 0–255, full rank for ZCA (n > H·W·C)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, height, width, channels)) * [20, 35, 50] + [90, 120, 160]
    mixed = base + 0.5 * np.roll(base, 1, axis=1)
    return np.clip(mixed, 0, 255).astype(np.float32)


def keras_standardize(generator, x: np.ndarray) -> np.ndarray:
    """Keras' flow calls standardize on each sample."""
    return np.stack([generator.standardize(sample.copy()) for sample in x])


KERAS_CASES = {
    "rescale": {"rescale": 1 / 255},
    "samplewise": {"samplewise_center": True, "samplewise_std_normalization": True},
    "featurewise": {"featurewise_center": True, "featurewise_std_normalization": True},
    "rescale+featurewise": {"rescale": 1 / 255, "featurewise_std_normalization": True},
    "zca": {"zca_whitening": True, "zca_epsilon": 1e-2},
}


@pytest.mark.keras
@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_matches_keras(case: str, keras_generator) -> None:
    options = KERAS_CASES[case]
    x, fit_data = batch(seed=1), batch(seed=2)
    generator = keras_generator(**options)
    generator.fit(fit_data)
    standardizer = Standardizer(**options)
    if standardizer.needs_fit:
        standardizer.fit(fit_data)
    expected = keras_standardize(generator, x)
    out = standardizer(x)
    assert out.dtype == np.float32
    rtol = 1e-3 if case == "zca" else 1e-4
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.keras
def test_fit_statistics_match_keras(keras_generator) -> None:
    x = batch(seed=3)
    generator = keras_generator(featurewise_std_normalization=True, rescale=0.5)
    generator.fit(x)
    stats = Standardizer(featurewise_std_normalization=True, rescale=0.5).fit(x).state()
    np.testing.assert_allclose(stats.mean, generator.mean.reshape(-1), rtol=1e-4)
    np.testing.assert_allclose(stats.std, generator.std.reshape(-1), rtol=1e-4)


@pytest.mark.keras
def test_preprocessing_function_runs_per_sample_before_rescale(keras_generator) -> None:
    calls: list[tuple[int, ...]] = []

    def function(sample: np.ndarray) -> np.ndarray:
        calls.append(sample.shape)
        return sample[::-1] + 10.0

    x = batch(n=4)
    generator = keras_generator(preprocessing_function=function, rescale=0.5)
    expected = keras_standardize(generator, x)
    calls.clear()
    out = Standardizer(preprocessing_function=function, rescale=0.5)(x)
    assert calls == [x.shape[1:]] * len(x)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_implied_flags_follow_keras() -> None:
    s = Standardizer(featurewise_std_normalization=True)
    assert s.featurewise_center
    s = Standardizer(zca_whitening=True, featurewise_std_normalization=True)
    assert s.featurewise_center and not s.featurewise_std_normalization
    s = Standardizer(samplewise_std_normalization=True)
    assert s.samplewise_center
    assert Standardizer().is_identity and not Standardizer(rescale=0.5).is_identity


@pytest.mark.parametrize(
    "options",
    [
        {"featurewise_center": True},
        {"featurewise_std_normalization": True},
        {"zca_whitening": True},
    ],
)
def test_featurewise_before_fit_raises_not_fitted(options: dict) -> None:
    with pytest.raises(NotFittedError, match="fit"):
        Standardizer(**options)(batch(n=2))
    assert issubclass(NotFittedError, RuntimeError)


def test_stats_missing_a_part_also_raise() -> None:
    s = Standardizer(featurewise_std_normalization=True)
    s.load_state(FeaturewiseStats(mean=np.zeros(3, np.float32)))
    with pytest.raises(NotFittedError):
        s(batch(n=2))


def test_nothing_is_written_in_place_and_identity_passes_through() -> None:
    x = batch(n=5)
    before = x.copy()
    Standardizer(rescale=0.5, samplewise_center=True, featurewise_center=True).fit(x)(x)
    np.testing.assert_array_equal(x, before)
    assert Standardizer()(x) is x
    assert Standardizer()(x, dtype="float16").dtype == np.float16


def test_single_image_and_channels_first() -> None:
    x = batch(n=50, seed=4)
    s = Standardizer(featurewise_std_normalization=True, samplewise_center=True).fit(x)
    np.testing.assert_allclose(s(x[0]), s(x)[0], rtol=1e-6)
    nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    t = Standardizer(featurewise_std_normalization=True, samplewise_center=True)
    t.fit(nchw, channels_first=True)
    np.testing.assert_allclose(t.state().mean, s.state().mean, rtol=1e-6)
    np.testing.assert_allclose(t(nchw, channels_first=True), s(x).transpose(0, 3, 1, 2), atol=1e-5)


def test_integer_output_dtype_rounds_and_clips() -> None:
    x = np.array([[[[-3.0], [2.6], [300.0]]]], np.float32)
    out = Standardizer(rescale=1.0)(x, dtype="uint8")
    np.testing.assert_array_equal(out.reshape(-1), [0, 3, 255])


def test_fit_uses_the_same_earlier_steps_as_standardize() -> None:
    """Deliberate difference from Keras: after fit, the featurewise mean of what standardize
    produces is 0 even with samplewise centering in front of it."""
    x = batch(seed=5) + np.linspace(0, 50, 300, dtype=np.float32)[:, None, None, None]
    s = Standardizer(samplewise_center=True, featurewise_center=True).fit(x)
    np.testing.assert_allclose(s(x).mean(axis=(0, 1, 2)), 0, atol=1e-3)


def test_zca_shape_mismatch_is_explained() -> None:
    s = Standardizer(zca_whitening=True).fit(batch(n=200, height=4, width=4))
    with pytest.raises(ValueError, match="ZCA matrix was fit on 48 values"):
        s(batch(n=2, height=5, width=4))


def test_statistics_pickle_and_save_to_npz(tmp_path) -> None:
    s = Standardizer(zca_whitening=True, zca_epsilon=1e-2).fit(batch(n=200, height=4, width=4))
    path = tmp_path / "stats.npz"
    s.state().to_npz(path)
    loaded = FeaturewiseStats.from_npz(path)
    assert loaded.std is None
    np.testing.assert_array_equal(loaded.zca_matrix, s.state().zca_matrix)
    fresh = Standardizer(zca_whitening=True, zca_epsilon=1e-2)
    fresh.load_state(loaded)
    x = batch(n=3, height=4, width=4, seed=9)
    np.testing.assert_array_equal(fresh(x), s(x))
    clone = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(clone(x), s(x))


def test_from_spec_reads_keyword_attributes() -> None:
    class Spec:
        rescale = 0.5
        samplewise_center = False
        samplewise_std_normalization = True
        featurewise_center = False
        featurewise_std_normalization = False
        zca_whitening = False
        zca_epsilon = 1e-6

    s = Standardizer.from_spec(Spec(), None)
    assert s.rescale == 0.5 and s.samplewise_center and s.preprocessing_function is None


@pytest.mark.parametrize(
    ("returns", "said"),
    [
        (lambda image: None, "returned None"),
        (lambda image: 3.0, r"a value of shape \(\)"),
        (lambda image: image[:4], r"a value of shape \(4, 8, 3\)"),
        (lambda image: image[..., 0], r"a value of shape \(8, 8\)"),
    ],
)
def test_a_preprocessing_function_must_return_the_image(returns: object, said: str) -> None:
    """None, a scalar or another shape would make a batch of another shape (a scalar
    one was (N,)): refused, in flow as a SampleError naming the sample."""
    from confaug.batching.loader import SampleError
    from confaug.keras import ImageDataGenerator

    x = np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)).astype(np.float32)
    standardizer = Standardizer(preprocessing_function=returns)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=said):
        standardizer(x)
    flow = ImageDataGenerator(preprocessing_function=returns).flow(x, np.arange(4), shuffle=False)
    with pytest.raises(SampleError, match=rf"x\[0\].*{said}"):
        flow[0]
    kept = Standardizer(preprocessing_function=lambda image: (image * 2).astype(np.float64))
    assert kept(x).shape == x.shape  # its dtype may change
