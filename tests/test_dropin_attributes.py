"""A drop-in ``ImageDataGenerator`` keeps Keras' keyword attributes.

Keras code reads them (``gen.rescale``, ``gen.channel_axis``) and sometimes sets them after
construction (``gen.rotation_range = 30``). They were missing, and setting one did nothing.
Reading gives what Keras' own generator holds; setting rebuilds the pipeline.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pytest

from confaug.errors import ConfigError
from confaug.keras import ImageDataGenerator
from confaug.keras.config import KERAS_DEFAULTS

CASES: list[dict[str, Any]] = [
    {},
    {"rotation_range": 15, "zoom_range": 0.2, "rescale": 1 / 255.0, "width_shift_range": 3},
    {"zoom_range": [0.9, 1.25], "brightness_range": [0.5, 1.5], "fill_mode": "reflect"},
    {"zca_whitening": True, "featurewise_std_normalization": True},
    {"featurewise_std_normalization": True, "samplewise_std_normalization": True},
    {"data_format": "channels_first", "cval": 3.0, "horizontal_flip": True},
]


def _keras() -> type:
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    pytest.importorskip("keras", reason="pip install keras (the keras extra)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from keras.src.legacy.preprocessing.image import ImageDataGenerator as Keras
    return Keras  # type: ignore[no-any-return]


@pytest.mark.parametrize("keywords", CASES)
def test_attributes_are_what_keras_keeps(keywords: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = _keras()(**keywords), ImageDataGenerator(**keywords)
    names = [*KERAS_DEFAULTS, "channel_axis", "row_axis", "col_axis"]
    for name in (n for n in names if hasattr(theirs, n)):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_setting_a_keyword_rebuilds_the_pipeline_and_keeps_fit() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (6, 8, 8, 3)).astype(np.float32)
    gen = ImageDataGenerator(featurewise_center=True)
    gen.fit(x)
    mean = gen.mean.copy()
    still = gen.flow(x, shuffle=False)[0]
    gen.rotation_range = 90
    assert gen.rotation_range == 90 and gen.spec.rotation_range == 90
    assert np.array_equal(gen.mean, mean)  # fit's statistics survive the rebuild
    assert not np.array_equal(gen.flow(x, shuffle=False, seed=1)[0], still)
    gen.data_format = "channels_first"
    assert gen.channel_axis == 1 and gen.spec.data_format == "channels_first"


def test_a_bad_value_set_later_is_refused_and_leaves_the_generator_as_it_was() -> None:
    gen = ImageDataGenerator(rotation_range=10)
    with pytest.raises(ConfigError, match="rotation_range"):
        gen.rotation_range = "a lot"
    assert gen.rotation_range == 10 and gen.spec.rotation_range == 10


def test_other_attributes_behave_as_on_any_object() -> None:
    gen = ImageDataGenerator()
    with pytest.raises(AttributeError, match="no attribute 'rotaton_range'"):
        gen.rotaton_range  # noqa: B018
    gen.note = "mine"
    assert gen.note == "mine"
    assert gen.preprocessing_function is None and gen.dtype == "float32"


def test_statistics_set_by_hand_say_which_one_is_missing() -> None:
    from confaug.idg.standardize import NotFittedError

    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype(np.float32)
    gen = ImageDataGenerator(featurewise_std_normalization=True)  # implies the centre
    gen.std = np.full((1, 1, 3), 2.0)
    with pytest.raises(NotFittedError, match="featurewise_center needs the mean") as caught:
        gen.flow(x, batch_size=2)[0]
    assert "featurewise_std_normalization" not in str(caught.value)  # std was given
    gen.mean = np.zeros((1, 1, 3))
    assert np.allclose(gen.flow(x, batch_size=2, shuffle=False)[0], x / (2.0 + 1e-6))
    with pytest.raises(TypeError, match="mean must be an array of numbers"):
        gen.mean = "abc"


def test_principal_components_is_the_zca_matrix_as_tf_keras_2_named_it() -> None:
    gen = ImageDataGenerator(zca_whitening=True)
    gen.principal_components = np.eye(48)
    gen.mean = np.zeros((1, 1, 3))
    assert np.array_equal(gen.zca_whitening_matrix, np.eye(48))
    x = np.random.default_rng(2).uniform(0, 1, (2, 4, 4, 3)).astype(np.float32)
    assert np.allclose(gen.flow(x, batch_size=2, shuffle=False)[0], x, atol=1e-6)
