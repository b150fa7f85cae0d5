"""``as_torch()``: PyTorch datasets that a real ``DataLoader`` loads identically with 0 or 2
worker processes, each running OpenCV on one thread."""

from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import confaug
from confaug.integrations.torch import to_torch
from confaug.sources import ArraySource
from tests.helpers import HANG_TIMEOUT, images, write_images

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed (pip install torch==2.13.0, the CPU wheel)"
)
from torch.utils.data import DataLoader  # noqa: E402

CONFIG: dict[str, Any] = {
    "version": 1,
    "rotation_range": 20,
    "width_shift_range": 0.1,
    "horizontal_flip": True,
    "brightness_range": [0.6, 1.4],
    "transforms": [{"GaussNoise": {"std_range": [0.02, 0.1], "p": 0.5}}],
}
SIZE = (20, 24)  # height, width of the test images


@pytest.fixture(scope="module")
def pipe() -> confaug.Pipeline:
    return confaug.load_pipeline(CONFIG)


def load_all(dataset: Any, **loader: Any) -> list[Any]:
    return list(DataLoader(dataset, **loader))


def same(a: Any, b: Any) -> bool:
    """Bitwise equality of nested tensors / arrays / lists / tuples / dicts."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    a = a.numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def test_batch_items_are_the_generators_batches(pipe: confaug.Pipeline) -> None:
    generator = pipe.flow(images(22, SIZE), np.arange(22), batch_size=4, seed=3)
    dataset = generator.as_torch()
    assert isinstance(dataset, torch.utils.data.Dataset)
    assert len(dataset) == len(generator) == 6
    for index in range(len(dataset)):
        x, y = dataset[index]
        assert isinstance(x, torch.Tensor) and x.dtype == torch.uint8
        assert same((x, y), generator[index])
    with pytest.raises(IndexError):
        dataset[len(dataset)]


def test_batches_are_bitwise_equal_for_0_and_2_dataloader_workers(
    pipe: confaug.Pipeline,
) -> None:
    generator = pipe.flow(images(22, SIZE), np.arange(22), batch_size=4, seed=3)
    dataset = generator.as_torch()
    epochs: dict[int, list[list[Any]]] = {}
    for workers in (0, 2):
        runs = []
        for epoch in (0, 1):
            dataset.set_epoch(epoch)
            runs.append(load_all(dataset, batch_size=None, num_workers=workers))
        epochs[workers] = runs
    assert same(epochs[0], epochs[2])
    first, second = epochs[0]
    assert not same(first[0][0], second[0][0])  # a new epoch: new order and augmentation
    labels = sorted(int(v) for batch in second for v in batch[1])
    assert labels == list(range(22))  # every sample exactly once per epoch


def test_samples_view_matches_the_generator_and_is_worker_independent(
    pipe: confaug.Pipeline,
) -> None:
    generator = pipe.flow(images(22, SIZE), np.arange(22), batch_size=4, seed=8, shuffle=False)
    dataset = generator.as_torch(samples=True)
    assert len(dataset) == 22
    zero = load_all(dataset, batch_size=4, num_workers=0)
    two = load_all(dataset, batch_size=4, num_workers=2)
    assert same(zero, two)
    assert len(zero) == len(generator)
    for index, (x, y) in enumerate(zero):
        expected_x, expected_y = generator[index]
        assert same(x, expected_x)
        assert same(y, expected_y)


def test_samples_shuffled_by_a_seeded_sampler_are_worker_independent(
    pipe: confaug.Pipeline,
) -> None:
    dataset = pipe.flow(images(22, SIZE), np.arange(22), seed=8).as_torch(samples=True)

    def run(workers: int) -> list[Any]:
        order = torch.Generator().manual_seed(1)
        return load_all(dataset, batch_size=5, shuffle=True, generator=order, num_workers=workers)

    assert same(run(0), run(2))


def test_set_epoch_changes_augmentation_not_labels(pipe: confaug.Pipeline) -> None:
    dataset = pipe.flow(images(22, SIZE), np.arange(22), seed=8).as_torch(samples=True)
    x0, y0 = dataset[5]
    dataset.set_epoch(3)
    x3, y3 = dataset[5]
    assert int(y0) == int(y3) == 5
    assert not torch.equal(x0, x3)
    dataset.set_epoch(0)
    assert torch.equal(dataset[5][0], x0)


def test_channels_first_float32_is_totensor_layout(pipe: confaug.Pipeline) -> None:
    generator = pipe.flow(images(22, SIZE), np.arange(22), batch_size=4, seed=1)
    raw = generator.as_torch()[0][0]
    x, _ = generator.as_torch(channels_first=True, float32=True)[0]
    assert x.shape == (4, 3, 20, 24) and x.dtype == torch.float32
    assert torch.equal(x, raw.permute(0, 3, 1, 2).float() / 255.0)
    sample, _ = generator.as_torch(samples=True, channels_first=True, float32=True)[0]
    assert sample.shape == (3, 20, 24) and 0.0 <= float(sample.min()) <= float(sample.max()) <= 1


def test_channels_first_pipeline_is_not_transposed_twice() -> None:
    pipe = confaug.load_pipeline({**CONFIG, "data_format": "channels_first"})
    x = np.ascontiguousarray(images(22, SIZE).transpose(0, 3, 1, 2))
    batch, _ = pipe.flow(x, np.arange(22), batch_size=4, seed=1).as_torch(channels_first=True)[0]
    assert batch.shape == (4, 3, 20, 24)


def test_rank_shards_are_disjoint_and_cover_the_epoch(pipe: confaug.Pipeline) -> None:
    seen = []
    for rank in (0, 1):
        generator = pipe.flow(
            images(22, SIZE),
            np.arange(22),
            batch_size=4,
            seed=2,
            rank=rank,
            world_size=2,
            even_shards=False,
        )
        for _, y in load_all(generator.as_torch(), batch_size=None, num_workers=2):
            seen.extend(int(v) for v in y)
    assert sorted(seen) == list(range(22))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("torch_folder")
    write_images(top, images(12, 32, seed=4), classes=("dog", "cat"), suffix=".jpg")
    (top / "cat" / "99_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return top


def test_folder_batches_with_workers_and_skipped_files(
    pipe: confaug.Pipeline, folder: Path
) -> None:
    generator = pipe.flow_from_directory(
        folder, target_size=(24, 24), batch_size=5, seed=6, on_error="skip"
    )
    dataset = generator.as_torch(channels_first=True, float32=True)
    zero = load_all(dataset, batch_size=None, num_workers=0)
    two = load_all(dataset, batch_size=None, num_workers=2)
    assert same(zero, two)
    assert sum(len(x) for x, _ in zero) == 12  # the broken file is left out, nothing else
    assert [Path(path).name for path, _ in dataset.plan.skipped] == ["99_broken.jpg"]
    assert zero[0][0].shape[1:] == (3, 24, 24)
    assert zero[0][1].shape[1:] == (2,)  # one-hot, as Keras' categorical mode


def test_dataset_pickles_for_spawned_workers(pipe: confaug.Pipeline) -> None:
    generator = pipe.flow(images(8, SIZE), np.arange(8), batch_size=4, seed=1)
    dataset = generator.as_torch()
    clone = pickle.loads(pickle.dumps(dataset))
    assert type(clone) is type(dataset)
    assert same(clone[1], dataset[1])
    spawned = load_all(dataset, batch_size=None, num_workers=1, multiprocessing_context="spawn")
    assert same(spawned, load_all(dataset, batch_size=None))


def test_a_source_with_a_pipeline_gives_samples(pipe: confaug.Pipeline) -> None:
    source = ArraySource(images(6, SIZE), np.arange(6))
    dataset = to_torch(source, pipeline=pipe, seed=4)
    assert len(dataset) == 6
    assert same(load_all(dataset, batch_size=3, num_workers=2), load_all(dataset, batch_size=3))
    with pytest.raises(TypeError, match="pipeline="):
        to_torch(source)
    with pytest.raises(TypeError, match="BatchGenerator"):
        to_torch([1, 2, 3])


class ThreadCountPipeline:
    """Writes its process's OpenCV thread count into the first channel of every pixel."""

    data_format = "channels_last"

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        image = data["image"].copy()
        image[..., 0] = cv2.getNumThreads()
        return {**data, "image": image}

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        return batch


def thread_counts(batches: list[Any]) -> set[int]:
    return {int(value) for x, _ in batches for value in x[..., 0].unique()}


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_run_opencv_on_one_thread_and_main_keeps_its_own(
    context: str,
) -> None:
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"start method {context!r} is not available on this platform")
    saved = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        # Start OpenCV's pool in this process: a forked worker then inherits it without its
        # threads, and pinning the worker's OpenCV used to hang (the timeout fails instead).
        warp = cv2.getRotationMatrix2D((200, 200), 10, 1.0)
        cv2.warpAffine(images(1, (400, 400))[0], warp, (400, 400))
        source = ArraySource(images(8, (6, 6)), np.arange(8))
        dataset = to_torch(source, pipeline=ThreadCountPipeline(), seed=0)
        assert thread_counts(load_all(dataset, batch_size=4)) == {3}
        in_workers = load_all(
            dataset,
            batch_size=4,
            num_workers=2,
            multiprocessing_context=context,
            timeout=HANG_TIMEOUT,  # per batch; only a hang waits this long
        )
        assert thread_counts(in_workers) == {1}
        assert len(in_workers) == 2
        assert cv2.getNumThreads() == 3
        assert thread_counts(load_all(dataset, batch_size=4)) == {3}
    finally:
        cv2.setNumThreads(saved)
