"""Probe data6's findings on ``Pipeline``: fit's rounds, PIL images, one kind, CHW images."""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np
import pytest
from PIL import Image

import confaug
from confaug import DataError
from confaug.compiler import pipeline as pipeline_module
from confaug.idg import standardize

IDENTITY = {"version": 1, "transforms": []}


def _pipe(**keywords: Any) -> confaug.Pipeline:
    return confaug.load_pipeline({"version": 1, "transforms": [], **keywords})


def _rgb(seed: int = 0, size: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


# ---- #9 fit(augment=True, rounds=N): one round at a time, rounds bounded ---------------------


def _concatenated_stats(pipe: confaug.Pipeline, x: np.ndarray, rounds: int, seed: int) -> Any:
    """What fit(augment=True) gave when it concatenated its rounds (Keras' way)."""
    from confaug.seeding import resolve_seed, sample_seed

    base = resolve_seed(seed)
    rounds_data = [pipe._augment_batch(x, sample_seed(base, r)) for r in range(rounds)]
    reference = pipe.standardizer.__class__.from_spec(pipe.spec)
    return reference.fit(np.concatenate(rounds_data)).stats


@pytest.mark.parametrize(
    "keywords",
    [
        {"featurewise_center": True, "featurewise_std_normalization": True},
        {"featurewise_center": True, "samplewise_center": True, "rescale": 1 / 255},
        {"zca_whitening": True},
    ],
)
def test_fit_rounds_gives_the_statistics_of_all_rounds_together(keywords: dict) -> None:
    pipe = _pipe(rotation_range=30, width_shift_range=0.2, **keywords)
    x = np.random.default_rng(1).random((5, 6, 6, 3)).astype(np.float32) * 255
    pipe.fit(x, augment=True, rounds=4, seed=7)
    expected = _concatenated_stats(pipe, x, 4, 7)
    for name in ("mean", "std", "zca_matrix"):
        got, want = getattr(pipe.standardizer.stats, name), getattr(expected, name)
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_fit_rounds_hold_one_round_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = _pipe(featurewise_center=True, featurewise_std_normalization=True, rotation_range=10)
    made: list[weakref.ref] = []
    alive: list[int] = []
    augment = pipe._augment_batch

    def counted(batch: np.ndarray, seed: Any) -> np.ndarray:
        alive.append(sum(ref() is not None for ref in made))
        out = augment(batch, seed)
        made.append(weakref.ref(out))
        return out

    monkeypatch.setattr(pipe, "_augment_batch", counted)
    pipe.fit(np.random.default_rng(0).random((3, 4, 4, 3)).astype(np.float32), True, 8)
    assert len(alive) == 8
    assert max(alive) <= 2  # the concatenated rounds held all earlier ones: 7 at the end


def test_fit_rounds_has_a_bound() -> None:
    pipe = _pipe(featurewise_center=True, rotation_range=10)
    x = np.zeros((1, 2, 2, 1), np.float32)
    with pytest.raises(ValueError, match=r"rounds=1001; fit\(augment=True\) runs at most 1000"):
        pipe.fit(x, augment=True, rounds=pipeline_module.MAX_FIT_ROUNDS + 1)
    with pytest.raises(ValueError, match=r"rounds=0; expected an int >= 1"):
        pipe.fit(x, augment=True, rounds=0)
    pipe.fit(x, augment=False, rounds=10**9)  # rounds means nothing without augment (Keras)


def test_fit_rounds_of_zca_bounded_before_augmenting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standardize, "MAX_ZCA_ROUNDS_BYTES", 8 * 4 * 48 * 3)  # 3 rounds of x
    pipe = _pipe(zca_whitening=True, rotation_range=10)
    x = np.random.default_rng(0).random((4, 4, 4, 3)).astype(np.float32)
    calls: list[int] = []
    monkeypatch.setattr(pipe, "_augment_batch", lambda b, s: calls.append(1) or b)
    with pytest.raises(DataError, match=r"rounds=4\) holds every augmented round .* at most 3"):
        pipe.fit(x, augment=True, rounds=4)
    assert calls == []  # refused before any round was augmented
    pipe.fit(x, augment=True, rounds=3)
    pipe.fit(np.concatenate([x] * 8), augment=True, rounds=1)  # one round: the caller's data


def test_fit_rounds_of_different_sizes_are_a_data_error() -> None:
    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "featurewise_center": True,
            "transforms": [{"Resize": {"height": 4, "width": 4, "p": 0.5}}],
        }
    )
    with pytest.raises(DataError, match=r"round \d+'s augmented images have shape"):
        pipe.fit(np.zeros((1, 8, 8, 3), np.uint8), augment=True, rounds=30, seed=0)


# ---- #11 in-memory PIL images read as their mode means ---------------------------------------


@pytest.mark.parametrize(
    ("mode", "meant"),
    [
        ("CMYK", "RGB"),
        ("YCbCr", "RGB"),
        ("HSV", "RGB"),
        ("P", "RGB"),
        ("LA", "RGBA"),
        ("PA", "RGBA"),
        ("1", "L"),
    ],
)
def test_pil_images_are_read_by_their_mode(mode: str, meant: str) -> None:
    image = Image.fromarray(_rgb()).convert(mode)
    out = confaug.load_pipeline(IDENTITY)(image=image)["image"]
    np.testing.assert_array_equal(out, np.asarray(image.convert(meant)))


def test_pil_cmyk_comes_out_as_its_rgb_colours() -> None:
    rgb = _rgb(3)
    out = confaug.load_pipeline(IDENTITY)(image=Image.fromarray(rgb).convert("CMYK"))["image"]
    assert out.shape == rgb.shape  # was 4 channels of CMYK numbers
    np.testing.assert_array_equal(out, rgb)  # PIL's CMYK round trip of RGB is exact


def test_pil_palette_with_transparency_comes_out_rgba() -> None:
    image = Image.fromarray(_rgb()).convert("P")
    image.info["transparency"] = 0
    out = confaug.load_pipeline(IDENTITY)(image=image)["image"]
    np.testing.assert_array_equal(out, np.asarray(image.convert("RGBA")))


def test_pil_images_kept_modes_unchanged() -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    for array in (_rgb(), _rgb()[..., 0], np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000):
        np.testing.assert_array_equal(pipe(image=Image.fromarray(array))["image"], array)


def test_pil_image_on_channels_first_is_put_in_its_layout() -> None:
    rgb = _rgb(5)
    out = _pipe(data_format="channels_first")(image=Image.fromarray(rgb))["image"]
    np.testing.assert_array_equal(out, np.moveaxis(rgb, -1, 0))


def test_pil_members_of_images_are_read_by_their_mode() -> None:
    rgb = _rgb(2)
    out = confaug.load_pipeline(IDENTITY)(image=rgb, images=[Image.fromarray(rgb).convert("CMYK")])
    np.testing.assert_array_equal(np.asarray(out["images"])[0], rgb)


# ---- pipe(image=u8, images=[u8, f32]): one kind of image per sample ---------------------------


def test_members_of_images_must_be_of_one_kind() -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    a, b = _rgb(), np.full((8, 8, 3), 0.5, np.float32)
    with pytest.raises(DataError, match=r"images\[1\] is float32 but image is uint8"):
        pipe(image=a, images=[a, b])
    with pytest.raises(DataError, match=r"images\[1\] is float32 but images\[0\] is uint8"):
        pipe(images=[a, b])
    out = pipe(image=a, images=[a, a])
    assert all(image.dtype == np.uint8 for image in out["images"])


def test_additional_image_targets_must_be_the_image_kind() -> None:
    pipe = _pipe(additional_targets={"other": "image"})
    a = _rgb()
    with pytest.raises(DataError, match=r"other is float32 but image is uint8"):
        pipe(image=a, other=a.astype(np.float32) / 255)
    assert pipe(image=a, other=a)["other"].dtype == np.uint8


# ---- pipe(image=chw) on channels_last ----------------------------------------------------------


def test_chw_image_on_channels_last_is_refused() -> None:
    pipe = _pipe(horizontal_flip=True)
    with pytest.raises(DataError, match=r"image has shape \(3, 32, 32\): 32 channels on axis 2"):
        pipe(image=np.zeros((3, 32, 32), np.uint8))
    assert pipe(image=np.zeros((32, 32, 5), np.uint8))["image"].shape == (32, 32, 5)
    assert pipe(image=np.zeros((32, 32), np.uint8))["image"].shape == (32, 32)


def test_hwc_image_on_channels_first_is_refused() -> None:
    pipe = _pipe(data_format="channels_first")
    with pytest.raises(DataError, match=r"moveaxis\(image, -1, 0\)"):
        pipe(image=np.zeros((32, 32, 3), np.uint8))
    assert pipe(image=np.zeros((3, 32, 32), np.uint8))["image"].shape == (3, 32, 32)


def test_extra_image_target_in_the_other_layout_is_refused() -> None:
    pipe = _pipe(additional_targets={"other": "image"})
    with pytest.raises(DataError, match=r"other has shape \(3, 16, 16\): 16 channels on axis 2"):
        pipe(image=np.zeros((16, 16, 3), np.uint8), other=np.zeros((3, 16, 16), np.uint8))


def test_loader_does_not_apply_the_callers_layout_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # The drop-in takes x of 8 "channels" on channels_last with Keras' warning, and its
    # samples go through the loader: the loader calls augment_sample, not __call__.
    from confaug.keras import ImageDataGenerator

    # Sample by sample (the Keras keywords alone would take the whole-batch path).
    monkeypatch.setattr(confaug.Pipeline, "augments_batches", property(lambda self: False))
    samples: list[int] = []
    augment = confaug.Pipeline._augment
    monkeypatch.setattr(
        confaug.Pipeline, "_augment", lambda self, *a: samples.append(1) or augment(self, *a)
    )
    x = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = next(iter(ImageDataGenerator(rotation_range=10).flow(x, batch_size=2, seed=1)))
    assert batch.shape == (2, 3, 8, 8)
    assert len(samples) == 2


def test_loader_falls_back_to_call_for_other_sample_pipelines() -> None:
    from confaug.batching.protocol import augment_sample_of
    from tests.helpers import Identity

    plain = Identity()  # a SamplePipeline with a __call__ only
    assert augment_sample_of(plain) is plain
    pipe = confaug.load_pipeline(IDENTITY)
    assert augment_sample_of(pipe) == pipe.augment_sample


@pytest.mark.parametrize("mode", ["CMYK", "YCbCr", "HSV", "P", "L", "LA"])
def test_flow_over_a_list_of_pil_images_reads_them_by_their_mode(mode: str) -> None:
    """flow()'s list path reads PIL images as pipe() does: the colours a file of that mode
    decodes to, not the mode's raw bands (CMYK came out as 4 channels of CMYK numbers)."""
    rgb = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(rgb).convert(mode)
    meant = {"L": "L", "LA": "RGBA"}.get(mode, "RGB")
    expected = np.asarray(image.convert(meant))
    identity = confaug.load_pipeline({"version": 1})
    batch = identity.flow([image, image], batch_size=2, shuffle=False, epochs=1)[0]
    assert batch.shape[-1] == (1 if mode == "L" else expected.shape[-1])
    np.testing.assert_array_equal(batch[0].reshape(expected.shape), expected)


def test_flow_over_pil_images_on_channels_first_puts_channels_first() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    image = Image.fromarray(rgb).convert("CMYK")
    pipe = confaug.load_pipeline({"version": 1, "data_format": "channels_first"})
    batch = pipe.flow([image], batch_size=1, shuffle=False, epochs=1)[0]
    assert batch.shape == (1, 3, 6, 10)
    np.testing.assert_array_equal(np.moveaxis(batch[0], 0, -1), np.asarray(image.convert("RGB")))
