"""A pipeline of the Keras keywords alone works on float 0–255 images in their own units.

Keras warps float data as it is. confaug's Keras kernels take such images as float32 from
0 to 255 (``values.in_own_units``) instead of dividing them by 255 and multiplying back:
the per-sample path, the batch path and the drop-in's one-image API alike, so all three
give the same bits, and those bits are the kernel's own on the caller's values. Pipelines
with albumentations steps still hand those steps [0, 1].
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.idg.params import IdgParams
from confaug.idg.warp import apply_params, float_units
from confaug.seeding import sample_seed

KEYWORDS: dict[str, Any] = {
    "rotation_range": 25,
    "width_shift_range": 0.1,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "brightness_range": [0.6, 1.4],
}
CASES: dict[str, dict[str, Any]] = {
    "seed-like": KEYWORDS,
    "constant fill, cubic": {
        **KEYWORDS,
        "fill_mode": "constant",
        "cval": 90,
        "interpolation_order": 3,
    },
    "channel shift": {"rotation_range": 10, "channel_shift_range": 40.0},
    "channels first": {**KEYWORDS, "data_format": "channels_first"},
}


def _pixels(count: int = 5, size: tuple[int, int] = (23, 31), seed: int = 0) -> np.ndarray:
    """Float 0–255 images that are not whole numbers (so a divide-and-multiply shows)."""
    return np.random.default_rng(seed).uniform(0, 255, (count, *size, 3)).astype(np.float32)


def _in_own_units(pipe: confaug.Pipeline, image: np.ndarray, seed: int) -> np.ndarray:
    """What the Keras kernel gives for ``image`` (HWC, 0–255) in its own units, with the
    draw a pipeline makes for ``seed``."""
    step = pipe.compose.transforms[0]
    params = step.sampler.sample(np.random.default_rng(seed), *image.shape[:2])
    out = apply_params(
        image.astype(np.float32),
        params,
        fill_mode=step.fill_mode,
        cval=step.cval,
        interpolation_order=step.interpolation_order,
        top=255.0,
    )
    return np.clip(out, 0.0, 255.0)


def _layout(x: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    first = spec.get("data_format") == "channels_first"
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if first else x


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("count", [5, 40])  # image by image, and the matrices as arrays
def test_every_path_gives_the_kernels_bits_on_the_callers_values(name: str, count: int) -> None:
    spec = CASES[name]
    pipe = confaug.load_pipeline(spec)
    x = _pixels(count)
    expected = np.stack(
        [_in_own_units(pipe, image, sample_seed(7, i)) for i, image in enumerate(x)]
    )
    batch = pipe.apply_batch(_layout(x, spec), seed=7)
    assert batch.dtype == np.float32
    assert np.array_equal(batch, _layout(expected, spec))
    one = pipe(image=_layout(x, spec)[2], seed=sample_seed(7, 2))["image"]
    assert np.array_equal(one, _layout(expected, spec)[2])


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_other_float_dtypes_work_in_float32_in_their_own_units(dtype: Any) -> None:
    pipe = confaug.load_pipeline(KEYWORDS)
    x = _pixels().astype(dtype)
    expected = np.stack(
        [_in_own_units(pipe, image, sample_seed(3, i)) for i, image in enumerate(x)]
    )
    batch = pipe.apply_batch(x, seed=3)
    assert batch.dtype == dtype
    assert np.array_equal(batch, expected.astype(dtype))
    one = pipe(image=x[1], seed=sample_seed(3, 1))["image"]
    assert one.dtype == dtype and np.array_equal(one, batch[1])


def test_a_flip_gives_the_callers_floats_back_exactly() -> None:
    """Dividing by 255 and multiplying back moved some values by a float32 step."""
    pipe = confaug.load_pipeline({"horizontal_flip": True, "vertical_flip": True})
    x = _pixels(8)
    for out, image in zip(pipe.apply_batch(x, seed=1), x, strict=True):
        assert any(np.array_equal(out, image[::v, ::h]) for v in (1, -1) for h in (1, -1))
    one = pipe(image=x[0], seed=4)["image"]
    assert any(np.array_equal(one, x[0][::v, ::h]) for v in (1, -1) for h in (1, -1))


def test_the_constant_fill_is_cval_itself() -> None:
    pipe = confaug.load_pipeline({"rotation_range": [45, 45], "fill_mode": "constant", "cval": 37})
    x = _pixels(2, (40, 40))
    out = pipe.apply_batch(x, seed=0)
    assert np.all(out[:, 0, 0] == np.float32(37.0))  # a corner reads from outside


def test_the_drop_in_flows_and_its_one_image_api_agree() -> None:
    from confaug.keras import ImageDataGenerator

    generator = ImageDataGenerator(rotation_range=20, zoom_range=0.1, brightness_range=[0.5, 1.5])
    x = _pixels(4)
    flowed = next(generator.flow(x, batch_size=4, shuffle=False, seed=11))
    pipe = generator.pipeline
    params = generator.get_random_transform(x[0].shape, seed=5)
    by_hand = generator.apply_transform(x[0], params)
    step = pipe.compose.transforms[0]
    expected = np.clip(
        apply_params(
            x[0],
            IdgParams.from_keras(params),
            fill_mode=step.fill_mode,
            cval=step.cval,
            interpolation_order=step.interpolation_order,
            top=255.0,
        ),
        0,
        255,
    )
    assert np.array_equal(by_hand, expected)
    assert flowed.dtype == np.float32 and 1.5 < float(flowed.max()) <= 255.0


def test_steps_of_albumentations_still_get_zero_to_one() -> None:
    """InvertImg takes 1 - x of floats: handed 0-255 values it would go negative."""
    pipe = confaug.load_pipeline(
        {"horizontal_flip": True, "transforms": [{"InvertImg": {"p": 1.0}}]}
    )
    x = _pixels(3)
    for out, image in zip(pipe.apply_batch(x, seed=0), x, strict=True):
        assert min(np.abs(out - (255 - image[:, ::h])).max() for h in (1, -1)) < 1e-3


def test_the_float_top_is_the_callers_own_context_only() -> None:
    pipe = confaug.load_pipeline({**KEYWORDS, "transforms": []})
    x = _pixels(1)[0]
    tops: list[float] = []

    def other_thread() -> None:
        tops.append(float_units()[0])

    pipe(image=x, seed=1)
    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert float_units() == (1.0, False) and tops == [1.0]


def test_an_idg_transform_outside_a_pipeline_takes_zero_to_one() -> None:
    from confaug._albu import albumentations
    from confaug.idg import IdgTransform

    A = albumentations()
    compose = A.Compose([IdgTransform(brightness_range=[1.5, 1.5])], seed=0)
    x = np.full((8, 8, 3), 0.9, np.float32)
    out = compose(image=x)["image"]
    assert float(out.max()) == 1.0  # clipped at the top of [0, 1]
