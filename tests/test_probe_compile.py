"""Findings of the configs probe fixed in the compiler, the Keras stage, the registry and
``spec.degenerate`` (probe-configs #2, #3, #8, #9, #10, #11)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import confaug
from confaug.errors import ConfigError, DataError
from confaug.idg.standardize import MAX_ZCA_BYTES, Standardizer, fit_featurewise
from confaug.registry import registered_names

RNG = np.random.default_rng(0)
X = RNG.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)


def _problem(config: dict) -> confaug.Problem:
    with pytest.raises(ConfigError) as info:
        confaug.load_pipeline(config)
    (problem,) = info.value.problems
    return problem


# ---- #2: an integer dtype after rescale or standardization ---------------------------
@pytest.mark.parametrize(
    "config",
    [
        {"dtype": "uint8", "rescale": "1/255"},
        {"dtype": "uint8", "samplewise_center": True},
        {"dtype": "uint8", "samplewise_std_normalization": True},
        {"dtype": "uint16", "rescale": -1},
        {"dtype": "uint8", "featurewise_center": True},
        {"dtype": "uint8", "zca_whitening": True},
    ],
)
def test_integer_dtype_after_float_stage_is_refused_at_dtype(config: dict) -> None:
    problem = _problem(config)
    assert problem.field == "dtype"
    assert "round and clip" in problem.message
    assert "float32" in (problem.hint or "")


def test_integer_dtype_refusal_is_located_in_the_file(tmp_path) -> None:
    path = tmp_path / "aug.yaml"
    path.write_text("rescale: 1/255\ndtype: uint8\n")
    with pytest.raises(ConfigError) as info:
        confaug.load_pipeline(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (2, "dtype")


@pytest.mark.parametrize(
    "config",
    [
        {"dtype": "uint8"},
        {"dtype": "uint8", "rescale": 1},
        {"dtype": "float32", "rescale": "1/255"},
    ],
)
def test_integer_dtype_alone_or_with_float_dtype_still_loads(config: dict) -> None:
    out = confaug.load_pipeline(config).flow(X, batch_size=4, shuffle=False, seed=0)[0]
    assert out.dtype == np.dtype(config["dtype"])


# ---- #3: FromFloat on uint8 images -----------------------------------------------------
def test_from_float_on_uint8_gives_the_bytes_back() -> None:
    every = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    out = confaug.load_pipeline({"transforms": ["FromFloat"]})(image=every, seed=0)["image"]
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, every)  # was float16, 95 -> 161


def test_from_float_uint16_on_uint8_scales_as_for_floats() -> None:
    img = X[0]
    pipe = confaug.load_pipeline({"transforms": [{"FromFloat": {"dtype": "uint16"}}]})
    out = pipe(image=img, seed=0)["image"]  # was OverflowError
    from_floats = pipe(image=img.astype(np.float32) / 255, seed=0)["image"]
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, img.astype(np.uint16) * 257)
    np.testing.assert_array_equal(out, from_floats)
    again = pickle.loads(pickle.dumps(pipe))(image=img, seed=0)["image"]
    np.testing.assert_array_equal(again, out)


def test_from_float_after_to_float_is_unchanged() -> None:
    img = X[0]
    out = confaug.load_pipeline({"transforms": ["ToFloat", "FromFloat"]})(image=img, seed=0)
    np.testing.assert_array_equal(out["image"], img)


# ---- #8: register takes callables only -------------------------------------------------
def test_register_refuses_a_non_callable() -> None:
    with pytest.raises(TypeError, match="takes a function"):
        confaug.register("probe_compile_not_callable", 5)
    assert "probe_compile_not_callable" not in registered_names()
    with pytest.raises(TypeError, match="register takes"):
        confaug.register(5)


# ---- #9: values that fail on every image ----------------------------------------------
@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"GridDropout": {"unit_size_range": [4, 4], "p": 1}}, "unit_size_range"),
        ({"Rotate": {"fill": [1, 2, 3, 4, 5], "p": 1}}, "fill"),
        ({"Rotate": {"fill_mask": [1, 2, 3, 4, 5], "p": 1}}, "fill_mask"),
        ({"PadIfNeeded": {"fill": [1, 2, 3, 4, 5]}}, "fill"),
        ({"Normalize": {"mean": [0.1, 0.2], "std": [1, 2, 3]}}, "mean"),
    ],
)
def test_degenerate_values_are_refused_at_the_parameter(step: dict, field: str) -> None:
    problem = _problem({"transforms": [step]})
    (name,) = step
    assert problem.field == f"transforms.0.{name}.{field}"


@pytest.mark.parametrize(
    "step",
    [
        {"GridDropout": {"unit_size_range": [2, 3], "p": 1}},
        {"Rotate": {"fill": [1, 2, 3, 4], "p": 1}},
        {"Normalize": {"mean": [0.1, 0.2, 0.3], "std": 0.5}},
    ],
)
def test_neighbouring_values_still_run(step: dict) -> None:
    out = confaug.load_pipeline({"transforms": [step]})(image=X[0], seed=0)["image"]
    assert out.shape == X[0].shape


def test_selective_channel_child_that_resizes_is_refused() -> None:
    config = {
        "transforms": [
            {
                "SelectiveChannelTransform": {
                    "channels": [0],
                    "transforms": [
                        {"Blur": {"p": 1}},
                        {"Sequential": {"transforms": [{"Resize": {"height": 4, "width": 4}}]}},
                    ],
                }
            }
        ]
    }
    problem = _problem(config)
    assert problem.field == (
        "transforms.0.SelectiveChannelTransform.transforms.1.Sequential.transforms.0.Resize"
    )
    assert "size" in problem.message


def test_selective_channel_pixel_children_still_run() -> None:
    step = {"SelectiveChannelTransform": {"channels": [0], "transforms": ["HorizontalFlip"]}}
    out = confaug.load_pipeline({"transforms": [step]})(image=X[0], seed=0)["image"]
    assert out.shape == X[0].shape


def test_normalize_mean_of_other_length_than_the_channels_is_a_data_error() -> None:
    pipe = confaug.load_pipeline({"transforms": [{"Normalize": {"mean": [0.1, 0.2], "std": 1}}]})
    with pytest.raises(DataError, match=r"transforms\.0\.Normalize\.mean has 2 values"):
        pipe(image=X[0], seed=0)  # was: mean[0] for every channel, without a word
    two = RNG.integers(0, 256, (8, 8, 2), dtype=np.uint8)
    assert pipe(image=two, seed=0)["image"].shape == (8, 8, 2)
    floats = X[0].astype(np.float32)  # 0-255 floats: the Normalize also sees input values
    with pytest.raises(DataError, match="has 2 values"):
        pickle.loads(pickle.dumps(pipe))(image=floats, seed=0)


# ---- #10: steps that change the number of channels -----------------------------------
@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"ToGray": {"num_output_channels": 1, "p": 0.5}}, "transforms.0.ToGray.p"),
        ({"ToRGB": {"p": 0.5}}, "transforms.0.ToRGB.p"),
        (
            {"OneOf": {"transforms": [{"ToGray": {"num_output_channels": 1}}, "Blur"]}},
            "transforms.0.OneOf",
        ),
    ],
)
def test_channel_changing_step_that_may_not_run_is_refused(step: dict, field: str) -> None:
    problem = _problem({"transforms": [step]})
    assert problem.field == field
    assert "numbers of channels" in problem.message


def test_to_gray_that_keeps_three_channels_may_skip() -> None:
    pipe = confaug.load_pipeline({"transforms": [{"ToGray": {"p": 0.5}}]})
    assert pipe.flow(X, batch_size=4, shuffle=False, seed=0)[0].shape == X.shape


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_to_gray_to_one_channel_keeps_the_channel_axis(data_format: str) -> None:
    step = {"ToGray": {"num_output_channels": 1, "p": 1}}
    config = {"transforms": [step], "data_format": data_format}
    pipe = confaug.load_pipeline(config)
    x = X if data_format == "channels_last" else np.ascontiguousarray(X.transpose(0, 3, 1, 2))
    want = (4, 8, 8, 1) if data_format == "channels_last" else (4, 1, 8, 8)
    assert pipe.flow(x, batch_size=4, shuffle=False, seed=0)[0].shape == want
    # Validation data gets the training data's channels too.
    assert pipe.without_augmentation()(image=x[0])["image"].shape == want[1:]
    gray = X[0, :, :, 0]
    with pytest.warns(UserWarning, match="already gray"):  # albumentations' own
        assert confaug.load_pipeline(config)(image=gray)["image"].ndim == 2  # 2-D stays 2-D


# ---- #11: the ZCA matrix's memory ------------------------------------------------------
def test_zca_fit_on_images_too_large_is_refused_before_allocating() -> None:
    # 64×64 RGB: a 12,288² float64 matrix (1.1 GiB) took 1.8 GB; 96×96 a NumPy MemoryError.
    big = np.zeros((2, 64, 64, 3), dtype=np.uint8)
    assert MAX_ZCA_BYTES < 8 * (64 * 64 * 3) ** 2
    pipe = confaug.load_pipeline({"zca_whitening": True})
    with pytest.raises(DataError, match=r"zca_whitening: images of shape \(64, 64, 3\)") as info:
        pipe.fit(big)
    assert "smaller images" in str(info.value)
    with pytest.raises(DataError, match="GiB"):
        fit_featurewise(big, center=True, std=False, zca=True)
    with pytest.raises(DataError, match=r"\(3, 64, 64\)"):
        Standardizer(zca_whitening=True).fit(big.transpose(0, 3, 1, 2), channels_first=True)


def test_zca_fit_on_small_images_still_works() -> None:
    pipe = confaug.load_pipeline({"zca_whitening": True})
    pipe.fit(X)
    assert pipe.standardizer.stats.zca_matrix.shape == (192, 192)


@pytest.mark.parametrize(
    ("step", "said"),
    [
        ({"ChannelDropout": {"channel_drop_range": [2, 1]}}, r"\[2, 1\] is an empty range"),
        ({"RandomSunFlare": {"src_color": [-5, 0, 0]}}, "a colour's channels are 0..255"),
        ({"RandomScale": {"scale_limit": -0.99999}}, "1 \\+ scale_limit is the scale"),
    ],
)
def test_more_values_that_fail_on_every_image(step: dict[str, object], said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        confaug.load_pipeline({"transforms": [step]})
