"""``as_torch()``: PyTorch datasets that a real ``DataLoader`` loads identically with 0 or 2
worker processes, each running OpenCV on one thread; a new epoch on every pass (for any
workers, fork or spawn, persistent or not); tensors a torch model takes by default."""

from __future__ import annotations

import multiprocessing
import pickle
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import confaug
from confaug.integrations.torch import to_torch
from confaug.sources import ArraySource
from tests.helpers import HANG_TIMEOUT, images, run_python, write_images

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
#: The generator's own (Keras') layout: NHWC as the pipeline gives it, labels as they are.
KERAS_LAYOUT: dict[str, Any] = {"channels_first": False, "float32": False, "int64_labels": False}


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
    dataset = generator.as_torch(**KERAS_LAYOUT)
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
    dataset = generator.as_torch(samples=True, **KERAS_LAYOUT)
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
    raw = generator.as_torch(**KERAS_LAYOUT)[0][0]
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
    dataset.set_epoch(0)  # each pass is the next epoch: read epoch 0 again
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
    dataset.set_epoch(0)  # each pass is the next epoch: read epoch 0 again
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
        dataset = to_torch(source, pipeline=ThreadCountPipeline(), seed=0, **KERAS_LAYOUT)
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


# ---- a new epoch on every pass -------------------------------------------------------------

EPOCHS = """
import hashlib, json, sys
import numpy as np
from torch.utils.data import DataLoader, DistributedSampler
import confaug
from tests.helpers import images


def digest(items):
    return [hashlib.sha256(x.numpy().tobytes() + y.numpy().tobytes()).hexdigest()[:16]
            for x, y in items]


def main():
    context, config, short = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    pipe = confaug.load_pipeline(config)
    flow = lambda **kw: pipe.flow(images(22, (20, 24)), np.arange(22), seed=3, **kw)
    runs = {}
    for name, workers, persistent in [("0", 0, False), ("2", 2, False), ("2p", 2, True)]:
        options = {"batch_size": None}
        if workers:
            options.update(num_workers=workers, persistent_workers=persistent,
                           multiprocessing_context=context, timeout=300)
        dataset = flow(batch_size=4).as_torch()
        loader = DataLoader(dataset, **options)
        if name in short:  # two passes
            runs[name] = [digest(loader), digest(loader)]
            continue
        passes = [digest(loader) for _ in range(3)]
        dataset.set_epoch(0)                      # explicit control, then counting on
        passes += [digest(loader), digest(loader)]
        passes.append(digest([next(iter(loader))]))  # a pass that gave one batch counts
        passes.append(digest(loader))
        samples = flow(batch_size=4).as_torch(samples=True)
        options["batch_size"] = 5
        loader = DataLoader(samples, sampler=samples.sampler(), **options)
        passes += [digest(loader) for _ in range(2)]
        runs[name] = passes
    # The generator's own epochs 0..3, converted as the dataset converts them.
    generator = flow(batch_size=4, epochs=4)
    batches = [(np.moveaxis(x, -1, 1).astype(np.float32) / 255.0, y) for x, y in generator]
    reference = []
    for start in range(0, len(batches), 6):
        chunk = batches[start:start + 6]
        reference.append([hashlib.sha256(np.ascontiguousarray(x).tobytes() + y.tobytes())
                          .hexdigest()[:16] for x, y in chunk])
    print("RESULT " + json.dumps({"runs": runs, "reference": reference}))


if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_each_dataloader_pass_is_the_next_epoch_for_any_workers(
    context: str, tmp_path: Path
) -> None:
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"start method {context!r} is not available on this platform")
    script = tmp_path / "epochs.py"
    script.write_text(EPOCHS, encoding="utf-8")
    import json

    # Spawned workers start in about a second each: fresh ones every pass only for a short run.
    short = ["2"] if context == "spawn" else []
    done = run_python(
        script, context, json.dumps(CONFIG), json.dumps(short), what=f"passes ({context})"
    )
    assert done.returncode == 0, done.stdout[-4000:]
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    runs, (e0, e1, e2, e3) = result["runs"], result["reference"]
    # Passes 0, 1, 2 are the generator's epochs 0, 1, 2; set_epoch(0) goes back and counting
    # goes on from there; a pass that gave a single batch counts; the same for 0 workers, 2
    # fresh worker processes per pass and 2 persistent ones.
    expected = [e0, e1, e2, e0, e1, e2[:1], e3]
    for name in ("0", "2", "2p"):
        assert runs[name][:7] == (expected if name not in short else [e0, e1]), name
    samples = runs["0"][7:]
    assert samples[0] != samples[1]  # ds.sampler(): a new order and augmentation each pass
    assert runs["2p"][7:] == samples
    assert "2" in short or runs["2"][7:] == samples


def test_epoch_sampler_wraps_a_sampler_and_sets_its_epoch(pipe: confaug.Pipeline) -> None:
    from torch.utils.data import DistributedSampler

    dataset = pipe.flow(images(10, SIZE), np.arange(10), seed=8).as_torch(samples=True)
    sampler = dataset.sampler(DistributedSampler(dataset, num_replicas=2, rank=0, seed=7))
    assert len(sampler) == 5
    first, second = list(sampler), list(sampler)
    assert [epoch for epoch, _ in first] == [0] * 5 and [e for e, _ in second] == [1] * 5
    assert sampler.base.epoch == 1  # its set_epoch was called for the pass
    assert [i for _, i in first] != [i for _, i in second]  # DistributedSampler's new order
    x, y = dataset[first[0]]
    assert int(y) == first[0][1]
    dataset.set_epoch(0)
    assert torch.equal(dataset[first[0][1]][0], x)  # (epoch, i) is sample i of that epoch
    own = dataset.sampler()
    assert sorted(i for _, i in own) == list(range(10))  # the generator's shuffle, all once


def test_plain_indices_in_a_worker_warn_once_that_the_epoch_stays(
    pipe: confaug.Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    import confaug.integrations.torch as adapter

    dataset = pipe.flow(images(6, SIZE), np.arange(6), seed=8).as_torch(samples=True)
    dataset[0]  # the main process: no warning
    monkeypatch.setattr(adapter, "_worker", lambda: object())
    monkeypatch.setattr(adapter, "_warned_pid", 0)
    with pytest.warns(UserWarning, match=r"sampler=ds.sampler\(\)"):
        dataset[1]
    dataset.set_epoch(2)
    monkeypatch.setattr(adapter, "_warned_pid", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset[1]  # an epoch was chosen: nothing to warn about


# ---- what a torch model takes ---------------------------------------------------------------


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("torch_classes")
    return write_images(top, images(12, 24, seed=2), classes=("cat", "dog"), suffix=".png")


def test_the_default_feeds_conv2d_and_cross_entropy(pipe: confaug.Pipeline, classes: Path) -> None:
    import torch.nn.functional as F

    train = pipe.flow_from_directory(classes, target_size=(24, 24), class_mode="sparse", seed=1)
    x, y = next(iter(DataLoader(train.as_torch(), batch_size=None, num_workers=0)))
    assert x.shape == (12, 3, 24, 24) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert y.dtype == torch.int64 and sorted(y.tolist()) == [0] * 6 + [1] * 6
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, train.num_classes),
    )
    F.cross_entropy(model(x), y).backward()  # no permute, no .float(), no .long()
    sample, label = train.as_torch(samples=True)[0]
    assert sample.shape == (3, 24, 24) and label.dtype == torch.int64 and label.ndim == 0


@pytest.mark.parametrize(
    ("class_mode", "dtype", "shape"),
    [("categorical", torch.float32, (12, 2)), ("binary", torch.float32, (12,))],
)
def test_one_hot_and_binary_labels_stay_float(
    pipe: confaug.Pipeline, classes: Path, class_mode: str, dtype: Any, shape: tuple[int, ...]
) -> None:
    train = pipe.flow_from_directory(classes, target_size=(24, 24), class_mode=class_mode)
    _, y = train.as_torch()[0]
    assert y.dtype == dtype and tuple(y.shape) == shape  # what F.cross_entropy / BCE take
    keras = train.as_torch(**KERAS_LAYOUT)[0][1]
    assert keras.dtype == torch.float32  # the generator's labels as they are


def test_input_mode_targets_get_the_image_layout(pipe: confaug.Pipeline, classes: Path) -> None:
    train = pipe.flow_from_directory(classes, target_size=(24, 24), class_mode="input", seed=4)
    x, y = train.as_torch()[0]
    assert x.shape == y.shape == (12, 3, 24, 24) and torch.equal(x, y)


def test_masks_are_int64_class_maps_for_segmentation(pipe: confaug.Pipeline) -> None:
    import torch.nn.functional as F

    masks = (images(8, SIZE)[..., 0] > 127).astype(np.uint8)
    train = pipe.flow(images(8, SIZE), masks=masks, batch_size=4, seed=2)
    x, y = train.as_torch()[0]
    assert x.shape == (4, 3, 20, 24) and y.shape == (4, 20, 24) and y.dtype == torch.int64
    logits = torch.nn.Conv2d(3, 2, 1)(x)
    F.cross_entropy(logits, y).backward()
    assert train.as_torch(**KERAS_LAYOUT)[0][1].dtype == torch.uint8


def test_a_float_pipeline_output_is_kept_not_divided_again() -> None:
    pipe = confaug.load_pipeline({**CONFIG, "rescale": 1 / 255})
    generator = pipe.flow(images(8, SIZE), np.arange(8), batch_size=4, seed=5)
    x, _ = generator.as_torch()[0]
    expected = np.moveaxis(generator[0][0], -1, 1).astype(np.float32)
    assert np.array_equal(x.numpy(), expected) and float(x.max()) <= 1.0


# ---- a missing extra ------------------------------------------------------------------------


def test_a_missing_torch_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np, confaug\n"
        "pipe = confaug.load_pipeline({'version': 1})\n"
        "gen = pipe.flow(np.zeros((4, 8, 8, 3), np.uint8), np.arange(4), batch_size=2)\n"
        "try:\n"
        "    gen.as_torch()\n"
        "except ImportError as exc:\n"
        "    print('ERROR', type(exc).__name__, exc)\n"
    )
    done = run_python(code, what="as_torch without torch")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("ERROR"))
    assert "ModuleNotFoundError" in line and 'pip install "confaug[torch]"' in line, line


def test_threads_asking_for_the_classes_at_once_get_one_set() -> None:
    """The adapter's classes are built on first use; threads that ask at the same moment
    must all get the one class pickle finds by name (a second set made pickling fail)."""
    from tests.helpers import run_python

    child = run_python(
        """
import threading
import confaug.integrations.torch as adapter
barrier, seen = threading.Barrier(8), []
def ask():
    barrier.wait()
    seen.append((adapter.TorchBatches, adapter.TorchSamples, adapter.EpochSampler))
threads = [threading.Thread(target=ask) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert len(seen) == 8 and len(set(seen)) == 1, set(seen)
assert all(cls.__module__ == "confaug.integrations.torch" for cls in seen[0])
print("one set")
""",
        what="the thread race on the torch adapter's classes",
    )
    assert child.returncode == 0 and "one set" in child.stdout, child.stdout


def test_float_masks_keep_their_values(pipe: confaug.Pipeline) -> None:
    """A soft (float) mask was truncated to int64 zeros; only integer class maps are int64."""
    seg = confaug.load_pipeline("preset:segmentation")
    x = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3)).astype(np.uint8)
    soft = np.random.default_rng(1).uniform(0.1, 0.9, (4, 32, 32)).astype(np.float32)
    _, masks = next(iter(seg.flow(x, masks=soft, batch_size=4).as_torch()))
    assert masks.dtype == torch.float32 and float(masks.max()) > 0.5
