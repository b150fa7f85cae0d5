"""Findings of the fourth probe round: value ranges and units, and the workers' queue.

Each test fails on the code before its fix.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

import confaug
from confaug.batching import SampleError
from confaug.integrations.rows import RowAugmenter


def _floats(count: int = 4, seed: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (count, 8, 9, 3)).astype(np.float32)


# ---- pipelines that change nothing give float 0-255 values back exactly ------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: confaug.load_pipeline({"rotation_range": 20}).without_augmentation(),
        lambda: confaug.load_pipeline({}),
    ],
    ids=["without_augmentation", "empty spec"],
)
def test_a_pipeline_that_does_nothing_keeps_float_values(make: object) -> None:
    x = _floats()
    pipe = make()  # type: ignore[operator]
    assert np.array_equal(pipe.apply_batch(x), x)
    assert np.array_equal(pipe(image=x[0])["image"], x[0])


def test_the_drop_ins_plain_generator_keeps_float_values() -> None:
    from confaug.keras import ImageDataGenerator

    x = _floats()
    out = next(iter(ImageDataGenerator().flow(x, batch_size=4, shuffle=False)))
    assert np.array_equal(out, x)


# ---- zero channels -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_images_without_channels_are_a_data_error(dtype: type) -> None:
    pipe = confaug.load_pipeline({"rotation_range": 20})
    with pytest.raises(confaug.DataError, match="0 channels"):
        pipe.apply_batch(np.zeros((3, 8, 8, 0), dtype), seed=1)


def test_the_drop_in_refuses_images_without_channels() -> None:
    from confaug.keras import ImageDataGenerator

    x = np.zeros((3, 8, 8, 0), np.float32)
    for generator in (ImageDataGenerator(rotation_range=20), ImageDataGenerator()):
        with pytest.warns(UserWarning, match="0 channels"):
            flow = generator.flow(x, batch_size=3)
        with pytest.raises(confaug.DataError, match="0 channels"):
            next(iter(flow))


# ---- the drop-in's subsets are read in the whole array's range ----------------------------
def test_a_drop_in_subset_is_read_in_the_range_of_the_whole_array() -> None:
    from confaug.keras import ImageDataGenerator

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (10, 6, 6, 3)).astype(np.float32)
    x[:3] = rng.uniform(0, 1, (3, 6, 6, 3))  # a dark validation part of a 0-255 dataset
    generator = ImageDataGenerator(brightness_range=[1.5, 1.5], validation_split=0.3)
    flow = generator.flow(x, batch_size=3, shuffle=False, subset="validation")
    batch = next(iter(flow))
    assert float(batch.max()) == pytest.approx(float(x[:3].max()) * 1.5, rel=1e-5)
    assert flow.x.shape == (3, 6, 6, 3)


def test_a_drop_in_subset_keeps_its_extra_inputs_labels_and_weights() -> None:
    from confaug.keras import ImageDataGenerator

    x = _floats(10)
    extra = np.arange(10) * 10.0
    generator = ImageDataGenerator(validation_split=0.3)
    training = generator.flow(
        (x, extra),
        np.arange(10),
        batch_size=7,
        shuffle=False,
        subset="training",
        ignore_class_split=True,
    )
    (images, rows), labels = next(iter(training))
    assert rows.tolist() == [30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    assert labels.tolist() == [3, 4, 5, 6, 7, 8, 9] and images.shape == (7, 8, 9, 3)
    weighted = generator.flow(
        x,
        np.arange(10),
        sample_weight=np.arange(10) / 10,
        batch_size=3,
        shuffle=False,
        subset="validation",
        ignore_class_split=True,
    )
    _, labels, weights = next(iter(weighted))
    assert labels.tolist() == [0, 1, 2] and weights.tolist() == [0.0, 0.1, 0.2]


# ---- rows given as lists count towards the batch's range ---------------------------------
def test_a_row_given_as_lists_counts_towards_the_range() -> None:
    rng = np.random.default_rng(0)
    unit = rng.uniform(0, 1, (8, 8, 3)).astype(np.float32)
    bright = rng.uniform(0, 255, (8, 8, 3)).astype(np.float32)
    pipe = confaug.load_pipeline({"rotation_range": 20, "brightness_range": [0.5, 0.9]})
    out = RowAugmenter(pipe, seed=1).augment([unit, bright.tolist()])
    assert float(out[1]["image"].max()) > 2.0  # read as 0-255, not clipped to white
    assert float(out[0]["image"].max()) < 1.0  # the [0, 1] row is read as 0-255 too: dark


# ---- a range a caller gives is not trusted to skip clips ---------------------------------
def test_bounds_given_by_a_caller_keep_the_full_clip() -> None:
    x = np.random.default_rng(0).uniform(0, 1.5, (4, 8, 8, 3)).astype(np.float32)
    pipe = confaug.load_pipeline({"rotation_range": 20, "brightness_range": [0.5, 0.9]})
    ranged = pipe.for_value_bounds(0.0, 1.0)  # wrong: the values reach 1.5
    batch = ranged.apply_batch(x, seed=1)
    one = np.stack([ranged(image=x[i], seed=confaug.sample_seed(1, i))["image"] for i in range(4)])
    assert float(batch.max()) <= 1.0 and np.array_equal(batch, one)


# ---- the workers' queue --------------------------------------------------------------------
@pytest.mark.parametrize("option", ["max_queue_size", "workers"])
def test_queue_and_worker_counts_are_bounded(option: str) -> None:
    pipe = confaug.load_pipeline({"horizontal_flip": True})
    x = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=f"{option}=1000000000; at most"):
        pipe.flow(x, batch_size=1, **{option: 10**9})


def test_the_first_batch_is_not_held_back_behind_a_deep_queue() -> None:
    """The tasks of an iterable are its batches: a queue filled before the first result
    read max_queue_size of them first."""
    read = []

    def batches() -> Iterator[np.ndarray]:
        for number in range(1000):
            read.append(number)
            yield np.zeros((2, 8, 8, 3), np.uint8)

    pipe = confaug.load_pipeline({"horizontal_flip": True})
    stream = iter(pipe.wrap(batches(), workers=2, max_queue_size=500))
    next(stream)
    assert len(read) <= 4  # one per worker, one more per result: not 500
    for _ in range(100):
        next(stream)
    assert len(read) <= 204  # the queue grows towards its depth as results are taken


def test_a_stop_before_standardizing_skips_the_preprocessing_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A consumer gone while a batch was augmented: its preprocessing_function (a batch
    stage a closing generator would wait for) does not start."""
    from confaug.batching import loader

    calls: list[int] = []

    def slow(image: np.ndarray) -> np.ndarray:
        calls.append(1)
        return image

    confaug.register("probe4_slow", slow)
    pipe = confaug.load_pipeline({"horizontal_flip": True, "preprocessing_function": "probe4_slow"})
    source = pipe.flow(np.zeros((4, 8, 8, 3), np.uint8), batch_size=4).source
    augmented = threading.Event()
    original = loader._augment

    def then_stop(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        augmented.set()  # the consumer leaves now
        return result

    monkeypatch.setattr(loader, "_augment", then_stop)
    with pytest.raises(loader.Cancelled):
        loader.load_batch(
            source, pipe, np.arange(4), seed=0, stream=(1, 0), should_stop=augmented.is_set
        )
    assert calls == []


def test_a_spawned_worker_pool_says_what_cannot_be_pickled() -> None:
    confaug.register("probe4_lambda", lambda image: image)
    pipe = confaug.load_pipeline(
        {"horizontal_flip": True, "preprocessing_function": "probe4_lambda"}
    )
    x = np.zeros((4, 8, 8, 3), np.uint8)
    flow = pipe.flow(x, batch_size=2, workers=2, worker_mode="process", start_method="spawn")
    with pytest.raises(TypeError, match=r"cannot be pickled.*module level"):
        next(iter(flow))


def _exits(image: np.ndarray) -> np.ndarray:
    raise SystemExit(3)


def _dies(image: np.ndarray) -> np.ndarray:
    import os

    os._exit(7)


@pytest.mark.parametrize(
    "options",
    [{}, {"workers": 2}, {"workers": 2, "worker_mode": "process", "start_method": "fork"}],
    ids=["no workers", "threads", "fork processes"],
)
def test_sys_exit_in_a_preprocessing_function_is_an_error_naming_the_sample(
    options: dict[str, object],
) -> None:
    confaug.register("probe4_exits", _exits)
    pipe = confaug.load_pipeline(
        {"horizontal_flip": True, "preprocessing_function": "probe4_exits"}
    )
    flow = pipe.flow(np.zeros((4, 8, 8, 3), np.uint8), batch_size=2, shuffle=False, **options)
    with pytest.raises(SampleError, match=r"x\[0\]: the pipeline called sys.exit\(3\)"):
        next(iter(flow))


def test_a_dead_worker_process_is_named_by_its_batch() -> None:
    from confaug.batching.workers import WorkerProcessDied

    confaug.register("probe4_dies", _dies)
    pipe = confaug.load_pipeline({"horizontal_flip": True, "preprocessing_function": "probe4_dies"})
    flow = pipe.flow(
        np.zeros((4, 8, 8, 3), np.uint8),
        batch_size=2,
        shuffle=False,
        workers=2,
        worker_mode="process",
        start_method="fork",
    )
    with pytest.raises(WorkerProcessDied, match=r"batch 0 of epoch 0 \(samples 0, 1\)"):
        next(iter(flow))


# ---- Mosaic's other images are converted as the sample's own -----------------------------
@pytest.mark.parametrize("channels_first", [False, True])
def test_mosaic_images_in_the_samples_dtype_are_converted_as_the_sample(
    channels_first: bool,
) -> None:
    rng = np.random.default_rng(0)
    spec = {
        "transforms": [{"Mosaic": {"target_size": [32, 32], "p": 1}}],
        "data_format": "channels_first" if channels_first else "channels_last",
    }
    pipe = confaug.load_pipeline(spec)

    def layout(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(x, -1, 0)) if channels_first else x

    unit = [rng.uniform(0, 1, (32, 32, 3)).astype(np.float32) for _ in range(4)]
    expected = pipe(
        image=layout(unit[0]), mosaic_metadata=[{"image": layout(u)} for u in unit[1:]], seed=5
    )["image"]
    for dtype, top in ((np.float32, 255.0), (np.uint16, 65535.0)):
        scaled = [np.round(u * top).astype(dtype) if dtype == np.uint16 else u * top for u in unit]
        metadata = [{"image": layout(s)} for s in scaled[1:]]
        out = pipe(image=layout(scaled[0]), mosaic_metadata=metadata, seed=5)
        assert out["image"].dtype == dtype
        assert np.allclose(out["image"] / top, expected, atol=2 / top + 1e-6)
        assert out["mosaic_metadata"] is metadata  # the caller's items back as given


@pytest.mark.parametrize("cval", [300.0, -5.0])
def test_the_drop_in_fills_with_a_cval_beyond_0_255_as_keras_does(cval: float) -> None:
    from confaug.keras import ImageDataGenerator

    x = _floats(2)  # 0-255 data: a fill beyond it is Keras' value itself, not clipped
    generator = ImageDataGenerator(rotation_range=[45, 45], fill_mode="constant", cval=cval)
    whole = next(iter(generator.flow(x, batch_size=2, shuffle=False, seed=1)))
    one = next(iter(generator.flow(x, batch_size=1, shuffle=False, seed=1)))
    assert np.all(whole[:, 0, 0] == np.float32(cval))  # a corner reads from outside
    assert np.array_equal(whole[0], one[0])
    image = generator.apply_transform(x[0], generator.get_random_transform(x[0].shape, seed=2))
    assert np.all(image[0, 0] == np.float32(cval))
