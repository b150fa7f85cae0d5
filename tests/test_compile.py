"""Compile: a valid spec becomes a Pipeline that augments samples and batches."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import confaug
from confaug import Pipeline
from tests.conftest import Register, WriteConfig
from tests.helpers import images, one_image, seed_keywords

SIZE = 24  # sides of the test images
KERAS_AND_STEPS: dict[str, Any] = {
    "version": 1,
    **seed_keywords(),
    "transforms": [
        {"GaussNoise": {"std_range": [0.02, 0.08], "p": 0.3}},
        {
            "OneOf": {
                "p": 0.5,
                "transforms": [
                    {"MotionBlur": {"blur_limit": 5}},
                    {"GaussianBlur": {"blur_limit": [3, 5]}},
                ],
            }
        },
    ],
}
FLIP = {"version": 1, "transforms": [{"HorizontalFlip": {"p": 1.0}}]}


def test_load_pipeline_from_path_preset_mapping_and_spec(write: WriteConfig, presets: Path) -> None:
    text = yaml.safe_dump(KERAS_AND_STEPS)
    write("aug.yaml", text)
    (presets / "mine.yaml").write_text(text)
    from_path = confaug.load_pipeline("aug.yaml")
    from_pathlike = confaug.load_pipeline(Path("aug.yaml"))
    from_preset = confaug.load_pipeline("preset:mine")
    from_mapping = confaug.load_pipeline(KERAS_AND_STEPS)
    from_spec = confaug.load_pipeline(from_mapping.spec)
    for pipe in (from_path, from_pathlike, from_preset, from_mapping, from_spec):
        assert isinstance(pipe, Pipeline)
        assert pipe.spec == from_mapping.spec
    A = pytest.importorskip("albumentations")
    assert isinstance(from_path.compose, A.Compose)
    names = [type(t).__name__ for t in from_path.compose.transforms]
    assert names[1:] == ["GaussNoise", "OneOf"]  # the Keras part runs first


def test_a_sample_is_a_dict_like_albumentations() -> None:
    pipe = confaug.load_pipeline(FLIP)
    image = one_image(SIZE)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[2:6, 1:4] = 1
    out = pipe(image=image, mask=mask)
    assert isinstance(out, dict) and set(out) >= {"image", "mask"}
    np.testing.assert_array_equal(out["image"], image[:, ::-1])
    np.testing.assert_array_equal(out["mask"], mask[:, ::-1])


def test_mask_follows_the_keras_warp() -> None:
    pipe = confaug.load_pipeline(
        {"version": 1, "rotation_range": 30, "zoom_range": 0.2, "fill_mode": "constant"}
    )
    image = np.zeros((32, 32, 3), np.uint8)
    image[8:20, 10:24] = 255
    mask = (image[..., 0] > 0).astype(np.uint8)
    for seed in range(5):
        out = pipe(image=image, mask=mask, seed=seed)
        warped_image = out["image"][..., 0] > 127
        agreement = (warped_image == out["mask"].astype(bool)).mean()
        assert agreement > 0.97


def test_uint8_batch_keeps_dtype_and_shape() -> None:
    pipe = confaug.load_pipeline(KERAS_AND_STEPS)
    x = images(3, SIZE)
    out = pipe.apply_batch(x, seed=1)
    assert out.dtype == np.uint8 and out.shape == x.shape
    assert not np.array_equal(out, x)


@pytest.mark.parametrize(("scale", "dtype"), [(1.0, np.float32), (255.0, np.float32)])
def test_float_batches_stay_floats_in_their_range(scale: float, dtype: type) -> None:
    pipe = confaug.load_pipeline(KERAS_AND_STEPS)
    x = (images(4, SIZE).astype(np.float64) / 255.0 * scale).astype(dtype)
    out = pipe.apply_batch(x, seed=3)
    assert out.dtype == dtype and out.shape == x.shape
    assert out.min() >= 0.0 and out.max() <= scale
    assert out.max() > 0.5 * scale  # not squashed into [0, 1] or to black


@pytest.mark.parametrize("interpolation", ["bicubic", "lanczos"])
def test_float_output_is_clipped_to_its_range(interpolation: str) -> None:
    step = {"Affine": {"rotate": [10, 10], "interpolation": interpolation, "p": 1.0}}
    pipe = confaug.load_pipeline({"version": 1, "transforms": [step]})
    x = np.zeros((1, 16, 16, 3), np.float32)
    x[:, 4:12, 4:12] = 1.0  # sharp edges make the kernel ring
    out = pipe.apply_batch(x)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_float64_and_exact_values_survive_a_flip() -> None:
    pipe = confaug.load_pipeline(FLIP)
    x = images(2, SIZE).astype(np.float64)  # [0, 255] floats
    out = pipe.apply_batch(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, x[:, :, ::-1], atol=1e-3)
    unit = (x / 255.0).astype(np.float32)
    np.testing.assert_allclose(pipe.apply_batch(unit), unit[:, :, ::-1], atol=1e-6)


def test_channels_first_batches() -> None:
    last = confaug.load_pipeline(KERAS_AND_STEPS)
    first = confaug.load_pipeline({**KERAS_AND_STEPS, "data_format": "channels_first"})
    x = images(3, SIZE)
    nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    out = first.apply_batch(nchw, seed=5)
    assert out.shape == nchw.shape
    np.testing.assert_array_equal(out.transpose(0, 2, 3, 1), last.apply_batch(x, seed=5))
    single = first(image=nchw[0], seed=1)["image"]
    assert single.shape == nchw[0].shape


def test_grayscale_nhw_batch() -> None:
    pipe = confaug.load_pipeline(FLIP)
    x = images(2, SIZE)[..., 0]
    np.testing.assert_array_equal(pipe.apply_batch(x), x[:, :, ::-1])


def test_fixed_seed_gives_identical_output() -> None:
    pipe = confaug.load_pipeline(KERAS_AND_STEPS)
    x = images(4, SIZE)
    a = pipe.apply_batch(x, seed=11)
    pipe.apply_batch(x)  # unseeded calls in between change nothing
    np.testing.assert_array_equal(a, pipe.apply_batch(x, seed=11))
    np.testing.assert_array_equal(a[:2], pipe.apply_batch(x[:2], seed=11))
    assert not np.array_equal(a, pipe.apply_batch(x, seed=12))
    one = pipe(image=x[0], seed=4)["image"]
    np.testing.assert_array_equal(
        one, confaug.load_pipeline(KERAS_AND_STEPS)(image=x[0], seed=4)["image"]
    )


def test_spec_seed_makes_runs_repeatable() -> None:
    seeded = {**KERAS_AND_STEPS, "seed": 7}
    x = one_image(SIZE)
    a, b = confaug.load_pipeline(seeded), confaug.load_pipeline(seeded)
    runs_a = [a(image=x)["image"] for _ in range(4)]
    runs_b = [b(image=x)["image"] for _ in range(4)]
    for left, right in zip(runs_a, runs_b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert any(not np.array_equal(runs_a[0], r) for r in runs_a[1:])  # a sequence, not a repeat


def test_pipeline_pickles(registered: Register) -> None:
    pipe = confaug.load_pipeline({**KERAS_AND_STEPS, "seed": 2})
    clone = pickle.loads(pickle.dumps(pipe))
    assert clone.spec == pipe.spec
    x = images(3, SIZE)
    np.testing.assert_array_equal(clone.apply_batch(x, seed=9), pipe.apply_batch(x, seed=9))


@pytest.mark.parametrize(
    "spec",
    [
        KERAS_AND_STEPS,
        {**KERAS_AND_STEPS, "rescale": "1/255", "seed": 3, "interpolation": "bicubic"},
        {
            "version": 1,
            "data_format": "channels_first",
            "cval": 3.5,
            "value_range": [0, 255],
            "transforms": [
                "HorizontalFlip",
                {"Affine": {"rotate": [-5, 5], "border_mode": "reflect"}},
                {
                    "SomeOf": {
                        "n": 2,
                        "transforms": [
                            {"Sequential": {"transforms": ["VerticalFlip", "Transpose"]}},
                            {"OneOf": {"transforms": ["Blur", {"MedianBlur": None}]}},
                            "ToGray",
                        ],
                    }
                },
            ],
            "additional_targets": {"image2": "image"},
        },
    ],
)
def test_to_yaml_round_trips(spec: dict[str, Any], write: WriteConfig) -> None:
    pipe = confaug.load_pipeline(spec)
    text = pipe.to_yaml()
    assert confaug.load_spec(yaml.safe_load(text)) == pipe.spec
    write("round.yaml", text)
    assert confaug.load_spec("round.yaml") == pipe.spec
    full = confaug.spec_to_yaml(pipe.spec, full=True, modeline=True)
    assert full.startswith("# yaml-language-server: $schema=confaug.schema.json\n")
    elsewhere = confaug.spec_to_yaml(pipe.spec, modeline="../schemas/confaug.schema.json")
    assert elsewhere.startswith("# yaml-language-server: $schema=../schemas/confaug.schema.json\n")
    assert confaug.load_spec(yaml.safe_load(full)).model_dump() == pipe.spec.model_dump()


def test_composites_nest() -> None:
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "transforms": [
                {
                    "SomeOf": {
                        "n": 1,
                        "p": 0.9,
                        "transforms": [
                            {
                                "Sequential": {
                                    "transforms": [
                                        "VerticalFlip",
                                        {"OneOf": {"p": 1.0, "transforms": ["Blur", "ToGray"]}},
                                    ]
                                }
                            },
                            "HorizontalFlip",
                        ],
                    }
                }
            ],
        }
    )
    (some_of,) = pipe.compose.transforms
    assert type(some_of).__name__ == "SomeOf" and some_of.p == 0.9 and some_of.n == 1
    sequential, flip = some_of.transforms
    assert type(sequential).__name__ == "Sequential" and type(flip).__name__ == "HorizontalFlip"
    vertical, one_of = sequential.transforms
    assert type(vertical).__name__ == "VerticalFlip"
    assert type(one_of).__name__ == "OneOf" and one_of.p == 1.0
    assert [type(t).__name__ for t in one_of.transforms] == ["Blur", "ToGray"]
    out = pipe.apply_batch(images(2, SIZE), seed=0)
    assert out.shape == (2, 24, 24, 3)


def test_named_border_mode_and_interpolation_and_shared_fill_mode() -> None:
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "fill_mode": "wrap",
            "interpolation": "area",
            "transforms": [
                {"Affine": {"rotate": 5}},
                {"Affine": {"rotate": 5, "border_mode": "constant", "interpolation": "lanczos"}},
                {"Rotate": {"limit": 5, "border_mode": "reflect_101"}},
            ],
        }
    )
    shared, own, rotate = pipe.compose.transforms
    import cv2

    assert (shared.border_mode, shared.interpolation) == (cv2.BORDER_WRAP, cv2.INTER_AREA)
    assert (own.border_mode, own.interpolation) == (cv2.BORDER_CONSTANT, cv2.INTER_LANCZOS4)
    assert rotate.border_mode == cv2.BORDER_REFLECT_101


def test_named_border_mode_changes_pixels() -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    image[:, 8:] = 200  # right half bright; a shift right brings in what lies left of 0
    outs = {}
    for mode in ("constant", "wrap"):
        shift = {"x": [4, 4], "y": [0, 0]}
        step = {"Affine": {"translate_px": shift, "border_mode": mode, "p": 1.0}}
        outs[mode] = confaug.load_pipeline({"version": 1, "transforms": [step]})(image=image)
    assert (outs["constant"]["image"][:, :4] == 0).all()
    assert (outs["wrap"]["image"][:, :4] == 200).all()  # wrapped round from the right edge


def test_horizontal_flip_keyword_only_flips() -> None:
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True})
    image = one_image(SIZE)
    seen = set()
    for seed in range(30):
        out = pipe(image=image, seed=seed)["image"]
        if np.array_equal(out, image):
            seen.add("same")
        else:
            np.testing.assert_array_equal(out, image[:, ::-1])
            seen.add("flipped")
    assert seen == {"same", "flipped"}


def test_identity_spec_passes_images_through() -> None:
    pipe = confaug.load_pipeline({"version": 1})
    x = images(2, SIZE)
    np.testing.assert_array_equal(pipe.apply_batch(x), x)
    assert "identity" in repr(pipe)


def test_rescale_and_dtype_apply_after_augmentation() -> None:
    pipe = confaug.load_pipeline({"version": 1, "rescale": "1/255", "dtype": "float32"})
    x = images(2, SIZE)
    out = pipe.apply_batch(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x / 255.0, rtol=1e-6)


def test_without_augmentation_keeps_standardization_and_shares_fit_statistics() -> None:
    pipe = confaug.load_pipeline(
        "preset:keras_seed",
        overrides=["featurewise_center=true", "transforms=[{GaussNoise: {p: 1}}]"],
    )
    plain = pipe.without_augmentation()
    assert plain.spec.rotation_range == 0 and plain.spec.transforms == ()
    assert plain.spec.featurewise_center and plain.spec.fill_mode == pipe.spec.fill_mode
    x = np.random.default_rng(3).uniform(0, 1, (6, 12, 12, 3)).astype(np.float32)
    pipe.fit(x)  # fitted on the training pipeline, used by the evaluation one
    out = plain.apply_batch(x)
    assert np.allclose(out, x - x.mean(axis=(0, 1, 2)), atol=1e-5)
    assert np.array_equal(plain.apply_batch(x), out)  # nothing random left
    assert not np.allclose(pipe.apply_batch(x, seed=1), out, atol=1e-3)
