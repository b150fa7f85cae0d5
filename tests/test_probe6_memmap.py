"""probe-data6 #10 and #14: memory-mapped arrays in spawned workers (a file gone or changed
is a DataError naming it, raised as that, not as a dead worker; masks and y travel as their
file too), masks of a shape no step takes, and Keras multi-input batches given to wrap()."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.batching import WorkerProcessDied
from confaug.batching.workers import ordered_map
from confaug.sources import DataError
from confaug.sources.arrays import ArraySource

IDENT = confaug.load_pipeline({"version": 1, "transforms": []})
SEG = confaug.load_pipeline("preset:segmentation")


def _mapped(path: Path, values: np.ndarray) -> np.ndarray:
    np.save(path, values)
    return np.load(path, mmap_mode="r")


def _spawned(x: Any, **options: Any) -> list[Any]:
    flow = IDENT.flow(
        x,
        batch_size=2,
        epochs=1,
        shuffle=False,
        workers=1,
        worker_mode="process",
        start_method="spawn",
        **options,
    )
    return list(flow)


def test_a_memmap_whose_file_is_gone_is_a_data_error_not_a_dead_worker(tmp_path: Path) -> None:
    path = tmp_path / "x.u8"
    mapped = np.memmap(path, np.uint8, "w+", shape=(4, 8, 8, 3))
    mapped[:] = 7
    mapped.flush()
    os.unlink(path)
    with pytest.raises(DataError, match=r"x is memory-mapped from .*x\.u8, which is gone") as err:
        _spawned(mapped)
    assert "worker_mode='thread'" in str(err.value) and "start_method='fork'" in str(err.value)
    assert not isinstance(err.value, WorkerProcessDied)


def test_a_memmap_file_replaced_or_rewritten_after_flow_is_refused(tmp_path: Path) -> None:
    """Regenerated in place (same size, new values), spawned workers read the new file
    while this process holds the old mapping, without a word."""
    path = tmp_path / "x.npy"
    flow = IDENT.flow(
        _mapped(path, np.full((4, 8, 8, 3), 5, np.uint8)),
        batch_size=2,
        workers=1,
        worker_mode="process",
        start_method="spawn",
    )
    np.save(tmp_path / "new.npy", np.full((4, 8, 8, 3), 9, np.uint8))
    os.replace(tmp_path / "new.npy", path)  # the same size, another file
    with pytest.raises(DataError, match=r"x\.npy, which has been replaced by another file"):
        next(iter(flow))
    shorter = _mapped(tmp_path / "s.npy", np.zeros((4, 8, 8, 3), np.uint8))
    source = ArraySource(shorter)
    np.save(tmp_path / "s.npy", np.zeros((2, 8, 8, 3), np.uint8))  # rewritten, shorter
    with pytest.raises(DataError, match=r"its size was 896 bytes and is 512"):
        pickle.dumps(source)
    # Rewritten shorter before flow(): the mapping already runs past the file's end, where a
    # read kills the process (SIGBUS) and a worker cannot map it ("mmap length is greater").
    with pytest.raises(DataError, match=r"s\.npy, which is 512 bytes, shorter than the mapping"):
        IDENT.flow(shorter, batch_size=2)


def test_the_worker_checks_the_file_again_where_it_opens_it(tmp_path: Path) -> None:
    """Changed between the sending and the opening: the worker's own check."""
    path = tmp_path / "x.npy"
    source = ArraySource(_mapped(path, np.full((4, 8, 8, 3), 5, np.uint8)))
    sent = pickle.dumps(source)
    with open(path, "r+b") as file:  # the same file, the same size, other values
        file.seek(-1, os.SEEK_END)
        file.write(b"\x09")
    info = os.stat(path)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    with pytest.raises(DataError, match=r"x\.npy, which has been modified since"):
        pickle.loads(sent)


class _FailsInChild:
    """A loader that cannot be unpickled in another process (as a source whose file is gone
    there): unpickled, it raises a DataError unless it is in the process that made it."""

    def __init__(self) -> None:
        self.pid = os.getpid()

    def __reduce__(self) -> tuple[Any, ...]:
        return _unpickled, (self.pid,)

    def __call__(self, task: Any, should_stop: Any) -> Any:
        return task


def _unpickled(pid: int) -> _FailsInChild:
    if os.getpid() != pid:
        raise DataError("probe6: this loader cannot be opened in a worker process")
    return _FailsInChild()


def test_a_worker_that_cannot_unpickle_its_loader_reports_the_error_itself() -> None:
    """It died with a traceback on stderr, and WorkerProcessDied blamed a missing
    `if __name__ == '__main__':` guard."""
    results = ordered_map(_FailsInChild(), range(3), workers=1, mode="process")
    with pytest.raises(DataError, match="cannot be opened in a worker process"):
        list(results)


def test_memmapped_masks_and_labels_travel_as_their_files(tmp_path: Path) -> None:
    x = _mapped(
        tmp_path / "x.npy", np.random.default_rng(1).integers(0, 255, (6, 16, 16, 3), np.uint8)
    )
    masks = _mapped(
        tmp_path / "m.npy", np.random.default_rng(2).integers(0, 3, (6, 16, 16), np.uint8)
    )
    y = _mapped(tmp_path / "y.npy", np.random.default_rng(3).random((6, 16, 16)).astype(np.float32))
    with_masks = ArraySource(x, masks=masks)
    assert len(pickle.dumps(with_masks)) < 4_000  # the files' names, not their bytes
    copy = pickle.loads(pickle.dumps(with_masks))
    assert isinstance(copy.masks, np.memmap) and np.array_equal(copy.masks, masks)
    labelled = ArraySource(x, y)
    assert len(pickle.dumps(labelled)) < 4_000
    copy = pickle.loads(pickle.dumps(labelled))
    assert type(copy.y) is np.ndarray and np.array_equal(copy.y, y)  # as flow() holds it
    part = ArraySource(x, y).part(2, 5)  # a validation_split subset: views of the files
    assert len(pickle.dumps(part)) < 4_000
    assert np.array_equal(pickle.loads(pickle.dumps(part)).x, x[2:5])
    alone = SEG.flow(x, masks=masks, batch_size=3, shuffle=False, seed=4, epochs=1)
    spawned = SEG.flow(
        x, masks=masks, batch_size=3, shuffle=False, seed=4, epochs=1, workers=1,
        worker_mode="process", start_method="spawn",
    )  # fmt: skip
    for (a_x, a_m), (s_x, s_m) in zip(alone, spawned, strict=True):
        assert np.array_equal(a_x, s_x) and np.array_equal(a_m, s_m)


@pytest.mark.parametrize(
    ("mask", "words"),
    [
        (
            np.zeros((32, 32, 1, 1), np.uint8),
            r"mask has shape \(32, 32, 1, 1\); expected H×W or H×W×C",
        ),
        (np.zeros((32, 32, 0), np.uint8), r"mask has shape \(32, 32, 0\): 0 channels"),
    ],
)
def test_masks_of_rank_4_or_no_channels_are_refused_in_confaug_words(
    mask: np.ndarray, words: str
) -> None:
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(DataError, match=words) as err:
        SEG(image=image, mask=mask)
    assert "OpenCV" not in str(err.value) and "cv::" not in str(err.value)


def test_a_list_of_masks_of_other_shapes_names_the_mask() -> None:
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(DataError, match=r"masks\[1\] has shape \(16, 16\), the image"):
        SEG(image=image, masks=[np.zeros((32, 32), np.uint8), np.zeros((16, 16), np.uint8)])
    two, three = np.zeros((32, 32, 2), np.uint8), np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(DataError, match=r"masks\[1\] has shape \(32, 32, 3\), masks\[0\]"):
        SEG(image=image, masks=[two, three])
    with pytest.raises(DataError, match=r"masks\[0\] has shape \(32, 32, 1, 1\)"):
        SEG(image=image, masks=[np.zeros((32, 32, 1, 1), np.uint8)])
    out = SEG(image=image, masks=[np.zeros((32, 32), np.uint8)] * 2, seed=1)["masks"]
    assert [m.shape for m in out] == [(32, 32), (32, 32)]


def test_wrap_refuses_a_keras_multi_input_batch_in_its_own_words() -> None:
    x, extra, y = np.zeros((4, 8, 8, 3), np.uint8), np.zeros((4, 5)), np.arange(4)
    for batch in [([x, extra], y), ((x, extra), y), ([x, x], y), ([x[..., 0], extra], y)]:
        with pytest.raises(DataError, match=r"batch 0 x is a list of 2 arrays .*multi-input"):
            next(iter(IDENT.wrap([batch])))
    # A list of images is still one: its own messages, its own output.
    mixed = [x[0], x[1].astype(np.float64)]
    with pytest.raises(DataError, match="give images of one kind"):
        next(iter(IDENT.wrap([(mixed, y[:2])])))
    images, labels = next(iter(IDENT.wrap([([x[0], x[1]], y[:2])])))
    assert images.shape == (2, 8, 8, 3) and labels.tolist() == [0, 1]
    # The way the message gives: the other input carried beside the labels.
    images, (carried, labels) = next(iter(IDENT.wrap([(x, (extra, y))])))
    assert images.shape == x.shape and carried is extra and labels.tolist() == [0, 1, 2, 3]
