"""The batch path (issue 12): a Keras-only pipeline augments a whole batch at once, with the
same bits, the same random stream and the same errors as one image at a time.

Each comparison runs one pipeline twice: as compiled, and with its batch path switched off
(``_batch = None``), which is the per-sample path the batch path replaces.
"""

from __future__ import annotations

import random
from typing import Any

import cv2
import numpy as np
import pytest

import confaug
from confaug.batching import flow
from confaug.compiler.batch_path import BatchPath
from confaug.errors import DataError
from confaug.idg.many_seeds import first_uniforms, sample_seeds
from confaug.idg.params import IdgSampler
from confaug.seeding import SAMPLE_STREAM, sample_seed
from tests.helpers import batches_equal, count_calls, images, seed_keywords

SEED = {"version": 1, **seed_keywords()}
CONFIGS: dict[str, dict[str, Any]] = {
    "seed": SEED,
    "channel shift, wrap, vertical flip": {
        **SEED,
        "channel_shift_range": 30.0,
        "fill_mode": "wrap",
        "vertical_flip": True,
    },
    "constant fill, cubic": {**SEED, "fill_mode": "constant", "cval": 90, "interpolation_order": 3},
    "flips alone": {"version": 1, "horizontal_flip": True, "vertical_flip": True},
    "zoom and brightness": {"version": 1, "zoom_range": 0.3, "brightness_range": [0.7, 1.0]},
    "shifts from a list": {"version": 1, "width_shift_range": 3, "height_shift_range": [1, 2]},
    "channels first": {**SEED, "data_format": "channels_first"},
}


def _one_by_one(config: dict[str, Any]) -> confaug.Pipeline:
    pipe = confaug.load_pipeline(config)
    pipe._batch = None  # the per-sample path
    return pipe


def _layout(x: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    first = config.get("data_format") == "channels_first"
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if first else x


# ---- the same numbers as NumPy's seeding ---------------------------------------------------
def test_sample_seeds_are_sample_seed_for_every_kind_of_key() -> None:
    rng = random.Random(0)
    for _ in range(100):
        seed = rng.choice([0, 7, 2**32 - 1, 2**32, rng.getrandbits(63)])
        stream = rng.choice([(SAMPLE_STREAM, 0), (2, 3, 4), (), (1, 2**40)])
        keys = [
            rng.choice([0, rng.getrandbits(8), rng.getrandbits(33), rng.getrandbits(128)])
            for _ in range(rng.randint(1, 12))
        ]
        assert sample_seeds(seed, stream, keys) == [sample_seed(seed, *stream, k) for k in keys]


def test_first_uniforms_are_default_rng_draws() -> None:
    rng = random.Random(1)
    for _ in range(60):
        seeds = [rng.choice([0, 5, rng.getrandbits(32), rng.getrandbits(63)]) for _ in range(7)]
        count = rng.randint(0, 11)
        expected = [np.random.default_rng(seed).random(count) for seed in seeds]
        np.testing.assert_array_equal(first_uniforms(seeds, count), np.array(expected))


def test_one_call_for_all_keywords_draws_what_one_call_per_keyword_drew() -> None:
    sampler = IdgSampler(
        rotation_range=[3, 40],
        width_shift_range=5.0,
        height_shift_range=0.3,
        shear_range=8,
        zoom_range=0.3,
        horizontal_flip=True,
        vertical_flip=True,
        channel_shift_range=[-10, 30],
        brightness_range=[0.2, 1.0],
    )
    for seed in range(200):
        rng = np.random.default_rng(seed)
        zx, zy = rng.uniform(0.7, 1.3, size=2)
        expected = (
            float(rng.uniform(3, 40)),
            float(rng.uniform(-5.0, 5.0)),
            float(rng.uniform(-0.3, 0.3) * 37),
            float(rng.uniform(-8, 8)),
            float(zx),
            float(zy),
            bool(rng.random() < 0.5),
            bool(rng.random() < 0.5),
            float(rng.uniform(-10, 30)),
            float(rng.uniform(0.2, 1.0)),
        )
        params = sampler.sample(np.random.default_rng(seed), 37, 91)
        drawn = (params.theta, params.tx, params.ty, params.shear, params.zx, params.zy)
        flips = (params.flip_horizontal, params.flip_vertical)
        assert (*drawn, *flips, params.channel_shift_intensity, params.brightness) == expected


# ---- the same pixels -----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("dtype", ["uint8", "float32 [0, 1]", "float32 0-255", "float64", "uint16"])
@pytest.mark.parametrize("count", [5, 40])  # a few images, and enough for array matrices
def test_apply_batch_is_bitwise_the_per_sample_path(name: str, dtype: str, count: int) -> None:
    config = CONFIGS[name]
    pixels = images(count, (21, 26), seed=count)
    x = {
        "uint8": pixels,
        "float32 [0, 1]": pixels.astype(np.float32) / 255,
        "float32 0-255": pixels.astype(np.float32),
        "float64": pixels / 255.0,
        "uint16": pixels.astype(np.uint16) * 257,
    }[dtype]
    x = _layout(x, config)
    fast, slow = confaug.load_pipeline(config), _one_by_one(config)
    assert fast._batch is not None
    for seed in (3, None, None):  # unseeded: the pipelines' own streams, continued
        a, b = fast.apply_batch(x, seed=seed), slow.apply_batch(x, seed=seed)
        assert a.dtype == b.dtype == x.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("channels", [1, 2, 4, 5])
def test_other_channel_counts_are_bitwise_the_per_sample_path(channels: int) -> None:
    config = {**CONFIGS["channel shift, wrap, vertical flip"], "seed": 4}
    x = images(6, (17, 23), channels=channels, dtype=np.float32)
    fast, slow = confaug.load_pipeline(config), _one_by_one(config)
    for seed in (None, 8):
        assert np.array_equal(fast.apply_batch(x, seed=seed), slow.apply_batch(x, seed=seed))


def test_after_a_seeded_batch_the_pipeline_continues_as_it_did_one_image_at_a_time() -> None:
    config = {**SEED, "seed": 11}
    x = images(4, 20)
    fast, slow = confaug.load_pipeline(config), _one_by_one(config)
    fast.apply_batch(x, seed=2)
    slow.apply_batch(x, seed=2)
    assert np.array_equal(fast(image=x[0])["image"], slow(image=x[0])["image"])
    assert np.array_equal(fast.apply_batch(x), slow.apply_batch(x))


@pytest.mark.parametrize("name", ["seed", "channels first", "shifts from a list"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_generator_batches_are_bitwise_the_per_sample_path(name: str, dtype: Any) -> None:
    config = CONFIGS[name]
    x = _layout(images(37, (19, 22), seed=5).astype(dtype), config)  # floats on 0-255
    fast, slow = confaug.load_pipeline(config), _one_by_one(config)

    def epochs(pipe: confaug.Pipeline) -> list[Any]:
        generator = flow(pipe, x, np.arange(len(x)), batch_size=16, seed=9)
        batches = [generator[i] for i in range(len(generator))]
        generator.on_epoch_end()
        return batches + [generator[i] for i in range(len(generator))]

    assert batches_equal(epochs(fast), epochs(slow))
    wrapped = [(x[:16], np.arange(16)), (x[16:], np.arange(len(x) - 16))]
    assert batches_equal(list(fast.wrap(wrapped, seed=1)), list(slow.wrap(wrapped, seed=1)))


def test_a_sample_of_a_batch_is_the_pipeline_called_with_its_seed() -> None:
    pipe = confaug.load_pipeline(SEED)
    x = images(6, 24)
    batch = flow(pipe, x, seed=9, shuffle=False, batch_size=6)[0]
    for index in range(6):
        seed = sample_seed(9, SAMPLE_STREAM, 0, index)
        assert np.array_equal(batch[index], pipe(image=x[index], seed=seed)["image"])


@pytest.mark.parametrize("workers", [1, 2])
def test_batches_are_the_same_with_thread_workers(workers: int) -> None:
    pipe = confaug.load_pipeline(SEED)
    x = images(40, 20, dtype=np.float32)

    def epoch(count: int) -> list[Any]:
        return list(flow(pipe, x, np.arange(40), batch_size=8, seed=3, epochs=1, workers=count))

    assert batches_equal(epoch(0), epoch(workers))


# ---- when it runs, and when it steps aside -------------------------------------------------
def test_the_batch_path_runs_for_keras_keywords_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = count_calls(monkeypatch, BatchPath, "run_array")
    samples = count_calls(monkeypatch, BatchPath, "run_samples")
    pipe = confaug.load_pipeline(SEED)
    x = images(8, 16)
    pipe.apply_batch(x)
    flow(pipe, x, np.arange(8), batch_size=4)[0]
    list(pipe.wrap([(x, np.arange(8))]))
    assert (arrays.value, samples.value) == (1, 2)


@pytest.mark.parametrize(
    "config",
    [
        {**SEED, "transforms": [{"GaussNoise": {"p": 0.5}}]},
        {"version": 1, "transforms": [{"HorizontalFlip": {}}]},
    ],
)
def test_a_spec_with_albumentations_steps_goes_sample_by_sample(config: dict[str, Any]) -> None:
    assert not confaug.load_pipeline(config).augments_batches


def test_masks_go_sample_by_sample_and_follow_their_images() -> None:
    pipe = confaug.load_pipeline({**SEED, "seed": 1})
    x = images(4, 20)
    masks = (x[..., 0] > 128).astype(np.uint8)
    out, warped = flow(pipe, x, masks=masks, batch_size=4, seed=2, shuffle=False)[0]
    for index in range(4):
        seed = sample_seed(2, SAMPLE_STREAM, 0, index)
        alone = pipe(image=x[index], mask=masks[index], seed=seed)
        assert np.array_equal(out[index], alone["image"])
        assert np.array_equal(warped[index], alone["mask"])


@pytest.mark.parametrize("value_range", ["auto", [0, 255], [0, 1]])
@pytest.mark.parametrize("seed", [None, 5])
def test_a_nan_raises_what_the_per_sample_path_raises(value_range: Any, seed: int | None) -> None:
    config = {"version": 1, "rotation_range": 10, "value_range": value_range, "seed": 3}
    x = images(4, 20, dtype=np.float32)
    x[2, 3, 3, 1] = np.nan
    messages = []
    for pipe in (confaug.load_pipeline(config), _one_by_one(config)):
        with pytest.raises(DataError) as err:
            pipe.apply_batch(x, seed=seed)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "x[2]" in messages[0]


def test_a_declined_batch_leaves_the_pipelines_stream_where_it_was() -> None:
    config = {"version": 1, "rotation_range": 10, "value_range": [0, 1], "seed": 3}
    x = images(4, 20, dtype=np.float32)
    bad = x.copy()
    bad[1, 0, 0, 0] = np.inf
    fast, slow = confaug.load_pipeline(config), _one_by_one(config)
    for pipe in (fast, slow):
        with pytest.raises(DataError):
            pipe.apply_batch(bad)
    assert np.array_equal(fast.apply_batch(x), slow.apply_batch(x))


def test_a_folder_of_images_takes_the_batch_path(tmp_path: Any) -> None:
    for index, image in enumerate(images(5, (30, 40))):
        folder = tmp_path / ("a" if index % 2 else "b")
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / f"{index}.png"), image)
    fast, slow = confaug.load_pipeline(SEED), _one_by_one(SEED)
    batches = [
        pipe.flow_from_directory(tmp_path, target_size=(24, 24), batch_size=5, seed=4)[0]
        for pipe in (fast, slow)
    ]
    assert batches_equal(batches[:1], batches[1:])


# ---- the drop-in: a flow() that costs next to nothing ---------------------------------------
def test_a_flow_looks_at_no_value_until_a_batch_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed builds a flow() per batch: making one reads no value; a batch that is the
    whole array finds its range as it is augmented (no scan of the source), and a flow of
    several batches scans its source once, with the range the bits give."""
    from confaug.compiler import batch_path
    from confaug.keras import ImageDataGenerator
    from confaug.sources import arrays

    generator = ImageDataGenerator(rotation_range=10, horizontal_flip=True)
    x = images(6, 12, dtype=np.float32) * 255
    scans = count_calls(monkeypatch, arrays, "_range_and_largest")
    exact = count_calls(monkeypatch, arrays, "_finite_bounds")
    read_in_place = count_calls(monkeypatch, batch_path, "range_of_bits")
    flows = [generator.flow(x, np.arange(6), batch_size=6, shuffle=False, seed=3) for _ in range(3)]
    assert (scans.value, exact.value, read_in_place.value) == (0, 0, 0)
    whole = [next(flow)[0] for flow in flows]
    assert (scans.value, exact.value, read_in_place.value) == (0, 0, 3)
    assert whole[0].max() > 1.5  # read as 0-255, as Keras keeps it
    several = generator.flow(x, np.arange(6), batch_size=2, shuffle=False, seed=3)
    parts = [batch for batch, _ in (several[i] for i in range(3))]
    assert (scans.value, exact.value) == (1, 0)
    assert all(np.array_equal(batch, whole[0]) for batch in whole)
    assert np.array_equal(np.concatenate(parts), whole[0])  # the same bits either way


def test_flows_over_raw_values_compile_one_pipeline_per_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from confaug.keras import ImageDataGenerator, raw_units

    generator = ImageDataGenerator(rotation_range=10, cval=-50)
    compiled = count_calls(monkeypatch, raw_units, "Pipeline")
    x = images(4, 12, dtype=np.float32) * 600 - 100
    first = [next(generator.flow(x, np.arange(4), batch_size=4, seed=1))[0] for _ in range(3)]
    assert compiled.value == 1
    assert all(np.array_equal(batch, first[0]) for batch in first)
    next(generator.flow(x * 2, np.arange(4), batch_size=4, seed=1))
    assert compiled.value == 2
