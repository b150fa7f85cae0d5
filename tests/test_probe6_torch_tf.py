"""Probe 6 (adapters): torch epochs of iterators alive at once, per-sample targets as
tensors, object-dtype labels in torch and tf, sampler keys under torch wrappers."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import DataError

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed (pip install torch==2.13.0, the CPU wheel)"
)
from torch.utils.data import ConcatDataset, DataLoader, Subset  # noqa: E402

CONFIG = {"version": 1, "horizontal_flip": True, "rotation_range": 20}
rng = np.random.default_rng(0)
X = rng.integers(0, 255, (8, 8, 8, 3), dtype=np.uint8)
Y = np.arange(8)
WORKER_TIMEOUT = 120  # seconds a DataLoader waits for a worker's batch: never a hang


@pytest.fixture(scope="module")
def pipe() -> confaug.Pipeline:
    return confaug.load_pipeline(CONFIG)


def _images_of(batches: list[Any]) -> Any:
    return torch.cat([batch[0] for batch in batches])


def _epochs(pipe: confaug.Pipeline, count: int) -> list[Any]:
    """The images of epochs 0 .. count-1, one pass each in this process."""
    dataset = pipe.flow(X, Y, batch_size=2, shuffle=True, seed=5).as_torch()
    out = []
    for epoch in range(count):
        dataset.set_epoch(epoch)
        out.append(_images_of(list(DataLoader(dataset, batch_size=None))))
    return out


@pytest.mark.parametrize("workers", [0, 2])
def test_two_live_iterators_serve_two_whole_epochs(pipe: confaug.Pipeline, workers: int) -> None:
    # Before: with workers, the second iterator's workers recorded the epoch at their own
    # fork, some before and some after the first iterator's worker 0 counted its pass, so
    # one pass mixed epochs 0 and 1 (samples twice and missing), by timing.
    epochs = _epochs(pipe, 3)
    dataset = pipe.flow(X, Y, batch_size=2, shuffle=True, seed=5).as_torch()
    extra = {"timeout": WORKER_TIMEOUT} if workers else {}
    loader = DataLoader(dataset, batch_size=None, num_workers=workers, **extra)
    pairs = list(zip(loader, loader, strict=True))
    first = [pair[0] for pair in pairs]
    second = [pair[1] for pair in pairs]
    assert torch.equal(_images_of(first), epochs[0])
    assert torch.equal(_images_of(second), epochs[1])
    assert sorted(torch.cat([batch[1] for batch in second]).tolist()) == list(range(8))
    assert torch.equal(_images_of(list(loader)), epochs[2])  # and counting goes on


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_iterators_made_before_any_batch_take_their_epochs_in_order(
    pipe: confaug.Pipeline, start: str
) -> None:
    epochs = _epochs(pipe, 2)
    dataset = pipe.flow(X, Y, batch_size=2, shuffle=True, seed=5).as_torch()
    loader = DataLoader(
        dataset,
        batch_size=None,
        num_workers=2,
        timeout=WORKER_TIMEOUT,
        multiprocessing_context=start,
    )
    a, b = iter(loader), iter(loader)
    got_b = list(b)
    got_a = list(a)
    assert torch.equal(_images_of(got_a), epochs[0])
    assert torch.equal(_images_of(got_b), epochs[1])


def test_the_loader_iterator_is_found_where_torch_makes_its_workers() -> None:
    """The pass is counted where torch's multi-process iterator copies the dataset for its
    workers (found on the call stack): if torch renames or moves that ``__init__``, the
    count falls back to timing between workers, and this test says so."""
    from confaug.integrations import torch_epochs

    dataloader = pytest.importorskip("torch.utils.data.dataloader")
    init = dataloader._MultiProcessingDataLoaderIter.__init__
    assert hasattr(init, "__code__")
    seen: list[Any] = []

    class Probe(torch.utils.data.IterableDataset):  # type: ignore[misc]
        def __reduce__(self) -> Any:  # copied for a worker: where is the iterator?
            seen.append(torch_epochs._loader_iterator())
            return (list, ())  # the worker iterates an empty list: no batches

        def __iter__(self) -> Any:
            return iter(())

    loader = DataLoader(
        Probe(), batch_size=None, num_workers=1, multiprocessing_context="spawn", timeout=60
    )
    assert list(loader) == []
    assert seen and isinstance(seen[0], dataloader._MultiProcessingDataLoaderIter)


def test_a_moved_loader_iterator_is_said_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """If torch moves ``_MultiProcessingDataLoaderIter``, the count falls back to the
    workers' own, which two live iterators can mix: a RuntimeWarning says so, once."""
    import types

    from confaug.integrations import torch_epochs

    moved = types.ModuleType("torch.utils.data.dataloader")  # no such class in it
    monkeypatch.setitem(sys.modules, "torch.utils.data.dataloader", moved)
    monkeypatch.setattr(torch_epochs, "_warned_not_found", False)
    with pytest.warns(RuntimeWarning, match="set_epoch") as caught:
        assert torch_epochs._loader_iterator() is None
        assert torch_epochs._loader_iterator() is None
    assert len([w for w in caught if "_MultiProcessingDataLoaderIter" in str(w.message)]) == 1
    monkeypatch.setattr(torch_epochs, "_warned_not_found", False)
    monkeypatch.delitem(sys.modules, "torch.utils.data.dataloader")
    with warnings.catch_warnings():  # torch's loader not imported at all: nothing to say
        warnings.simplefilter("error")
        assert torch_epochs._loader_iterator() is None


def _detection(pipe_config: dict[str, Any], targets: dict[str, Any]) -> Any:
    pipeline = confaug.load_pipeline(pipe_config)
    return pipeline.flow(X[:3], targets=targets, batch_size=3, shuffle=False)


BOXES = {
    "version": 1,
    "horizontal_flip": True,
    "bbox_params": {"format": "pascal_voc", "label_fields": ["labels"]},
}


def test_batches_of_boxes_are_one_tensor_per_sample() -> None:
    # Before: every coordinate a 0-d tensor in nested lists.
    flow = _detection(
        BOXES,
        {"bboxes": [[[1, 1, 5, 5]], [[2, 2, 6, 6], [0, 0, 3, 3]], []], "labels": [[1], [2, 3], []]},
    )
    y = next(iter(DataLoader(flow.as_torch(), batch_size=None)))[1]
    shapes = [tuple(t.shape) for t in y["bboxes"]]
    assert shapes == [(1, 4), (2, 4), (0, 4)]
    assert all(t.dtype == torch.float32 for t in y["bboxes"])
    assert [t.tolist() for t in y["labels"]] == [[1], [2, 3], []]
    assert all(t.dtype == torch.int64 for t in y["labels"])
    samples = flow.as_torch(samples=True)
    assert torch.equal(samples[1][1]["bboxes"], y["bboxes"][1])
    assert tuple(samples[2][1]["bboxes"].shape) == (0, 4)


def test_batches_of_keypoints_are_one_tensor_per_sample() -> None:
    config = {"version": 1, "horizontal_flip": True, "keypoint_params": {"format": "xy"}}
    flow = _detection(config, {"keypoints": [[[1, 1]], [[2, 2], [3, 3]], []]})
    y = next(iter(DataLoader(flow.as_torch(), batch_size=None)))[1]
    assert [tuple(t.shape) for t in y["keypoints"]] == [(1, 2), (2, 2), (0, 2)]


def test_object_text_labels_are_refused_by_torch_like_numpy_strings(
    pipe: confaug.Pipeline,
) -> None:
    # Before: an object array of str (as pandas keeps text) came out as a Python list.
    text = np.array(list("abcdefgh"), dtype=object)
    with pytest.raises(DataError, match=r"y\[0\] is str 'a' .*cannot hold.*give numbers"):
        pipe.flow(X, text).as_torch()
    with pytest.raises(DataError, match="cannot hold"):
        pipe.flow(X, np.array(list("abcdefgh"))).as_torch()
    numbers = np.array([[1, 2]] * 8, dtype=object)  # a list column of numbers: a tensor
    y = next(iter(DataLoader(pipe.flow(X, numbers, batch_size=8).as_torch(), batch_size=None)))[1]
    assert y.dtype == torch.int64 and tuple(y.shape) == (8, 2)


def test_dataframe_raw_text_and_dates_are_refused_by_torch(tmp_path: Any) -> None:
    pd = pytest.importorskip("pandas")
    import cv2

    names = []
    for index in range(4):
        names.append(f"{index}.png")
        cv2.imwrite(str(tmp_path / names[-1]), X[index])
    frame = pd.DataFrame(
        {
            "filename": names,
            "s": list("abcd"),
            "cat": pd.Categorical(list("xyxy")),
            "dt": pd.to_datetime(["2020-01-01"] * 4),
        }
    )
    pipeline = confaug.load_pipeline(CONFIG)
    for column in ("s", "cat", "dt"):
        flow = pipeline.flow_from_dataframe(
            frame, str(tmp_path), y_col=column, class_mode="raw", batch_size=4, target_size=(8, 8)
        )
        with pytest.raises(DataError, match="torch tensor cannot hold"):
            flow.as_torch()


def test_sampler_keys_under_subset_or_concat_say_how_to_wrap(pipe: confaug.Pipeline) -> None:
    # Before: torch's own "list indices must be integers or slices, not tuple" and
    # "'<' not supported between instances of 'tuple' and 'int'".
    samples = pipe.flow(X, Y, batch_size=2).as_torch(samples=True)
    for wrapped in (Subset(samples, [0, 1]), ConcatDataset([samples, samples])):
        loader = DataLoader(wrapped, batch_size=2, sampler=samples.sampler())
        with pytest.raises(TypeError, match=r"SubsetRandomSampler"):
            next(iter(loader))
    from torch.utils.data import SubsetRandomSampler

    loader = DataLoader(samples, batch_size=2, sampler=samples.sampler(SubsetRandomSampler([0, 1])))
    assert sorted(torch.cat([batch[1] for batch in loader]).tolist()) == [0, 1]


tf = pytest.importorskip("tensorflow")


def test_as_tf_object_text_labels_become_strings(pipe: confaug.Pipeline) -> None:
    # Before: "cannot describe a batch part of dtype object" (NumPy strings became tf.string).
    text = np.array(list("abcdefgh"), dtype=object)
    _, y = next(iter(pipe.flow(X, text, batch_size=4, shuffle=False).as_tf()))
    assert y.dtype == tf.string and [v.decode() for v in y.numpy()] == list("abcd")


def test_as_tf_refuses_dates_and_dicts_in_our_words(pipe: confaug.Pipeline) -> None:
    dates = np.array([np.datetime64("2020-01-01")] * 8, dtype=object)
    with pytest.raises(DataError, match=r"as_tf\(\): y holds datetime64 values .*give numbers"):
        pipe.flow(X, dates).as_tf()
    with pytest.raises(DataError, match=r"as_tf\(\): y has dtype datetime64"):
        pipe.flow(X, np.array(["2020-01-01"] * 8, dtype="M8[D]")).as_tf()


def test_as_tf_names_per_sample_targets() -> None:
    # Before: "a batch part is a scalar; expected arrays with a batch dimension".
    flow = _detection(BOXES, {"bboxes": [[[1, 1, 5, 5]], [], []], "labels": [[1], [], []]})
    with pytest.raises(TypeError, match=r"y\['bboxes'\] holds per-sample targets.*as_torch"):
        flow.as_tf()
