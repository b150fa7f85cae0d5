"""probe-streams8 (findings 1 and 10), second round: a batch that raised is consumed by the
raise, as in Keras' iterators (the next ``next()`` gives the batch after it), and an
``as_tf()`` pass that stopped early (``ds.take(steps)``) counts as an epoch."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import confaug
from confaug import DataError

FLIP = {"version": 1, "horizontal_flip": True}
BAD = "6.png"  # the corrupt file of every folder below

MODES = [
    pytest.param({"workers": 0}, id="workers0"),
    pytest.param({"workers": 2}, id="threads"),
    pytest.param(
        {
            "workers": 2,
            "worker_mode": "process",
            "start_method": "fork"
            if "fork" in multiprocessing.get_all_start_methods()
            else "spawn",
        },
        id="processes",
    ),
]


def images(count: int, size: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (count, size, size, 3), np.uint8)


def folder(root: Path, count: int) -> pd.DataFrame:
    """``count`` small images, ``6.png`` corrupt; their table, labelled by number."""
    for number, pixels in enumerate(images(count)):
        Image.fromarray(pixels).save(root / f"{number}.png")
    (root / BAD).write_bytes(b"not a png")
    return pd.DataFrame({"filename": [f"{n}.png" for n in range(count)], "label": range(count)})


def flow(root: Path, frame: pd.DataFrame, **options: Any) -> Any:
    options = {"batch_size": 3, "seed": 1, **options}
    return confaug.load_pipeline(FLIP).flow_from_dataframe(
        frame, str(root), y_col="label", class_mode="raw", target_size=None, **options
    )


def indexed(gen: Any, epochs: int) -> list[Any]:
    """``gen[i]`` of every batch of ``epochs`` epochs; ``"raised"`` where it raises."""
    batches: list[Any] = []
    for epoch in range(epochs):
        gen.epoch = epoch
        for index in range(len(gen)):
            try:
                batches.append(gen[index])
            except DataError:
                batches.append("raised")
    return batches


def same(got: list[Any], expected: list[Any]) -> bool:
    if len(got) != len(expected):
        return False
    for a, b in zip(got, expected, strict=True):
        if isinstance(a, str) or isinstance(b, str):
            if a != b:
                return False
        elif not (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])):
            return False
    return True


# ---- a bad batch is consumed by the raise --------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_next_after_a_bad_batch_gives_the_batch_after_it(tmp_path: Path, mode: Any) -> None:
    frame = folder(tmp_path, 12)
    gen, reference = flow(tmp_path, frame, **mode), flow(tmp_path, frame)
    expected = indexed(reference, 3)  # 4 batches an epoch, one of them with 6.png
    assert expected.count("raised") == 3
    got: list[Any] = []
    for _ in range(len(expected)):
        try:
            got.append(next(gen))
        except DataError as exc:
            assert BAD in str(exc)
            got.append("raised")
    # The batches after a failure are those that come without one, bit for bit, and the
    # epochs go on: nothing is delivered twice, nothing left out but the batch that raised.
    assert same(got, expected)
    assert gen.epoch == 2  # on its last batch: it moves on when asked for the next one
    bad = expected.index("raised")
    gen.epoch = 0
    for _ in range(2):  # indexing the bad batch raises each time
        with pytest.raises(DataError, match=BAD):
            gen[bad]
    gen.close()


@pytest.mark.parametrize("workers", [0, 2])
def test_a_for_loop_stopped_by_a_bad_batch_resumes_after_it(tmp_path: Path, workers: int) -> None:
    frame = folder(tmp_path, 12)
    gen = flow(tmp_path, frame, workers=workers)
    expected = indexed(flow(tmp_path, frame), 2)
    got: list[Any] = []
    while len(got) < len(expected):
        try:
            for batch in gen:  # endless: each loop continues the generator's one stream
                got.append(batch)
                if len(got) % 3 == 0 or len(got) == len(expected):
                    break  # a custom loop with steps per epoch
        except DataError:
            got.append("raised")
    assert same(got, expected)
    gen.close()


@pytest.mark.parametrize("mode", MODES[:2])
def test_a_loop_that_catches_each_bad_batch_ends_with_its_epochs(tmp_path: Path, mode: Any) -> None:
    frame = folder(tmp_path, 12)
    gen = flow(tmp_path, frame, epochs=2, **mode)
    got: list[Any] = []
    while len(got) < 100:  # it used to start the epoch again after each error, for ever
        try:
            got.append(next(gen))
        except DataError:
            got.append("raised")
        except StopIteration:
            break
    assert same(got, indexed(flow(tmp_path, frame), 2))
    labels = sorted(int(label) for batch in got if not isinstance(batch, str) for label in batch[1])
    # Each readable sample once an epoch but those that shared a batch with 6.png.
    assert len(labels) == 2 * (12 - 3) and len(set(labels)) <= 11


def test_the_runs_last_batch_split_between_workers_is_left_out_whole(tmp_path: Path) -> None:
    """The run's last batch is split between the workers; a piece that raised takes the
    whole batch with it (no short batch of the other pieces is handed on)."""
    frame = folder(tmp_path, 10)  # batches [0..5], [6..9] split as [6, 7], [8], [9]
    gen = flow(tmp_path, frame, batch_size=6, shuffle=False, epochs=1, workers=3)
    first = next(gen)
    assert first[1].tolist() == list(range(6))
    with pytest.raises(DataError, match=BAD):
        next(gen)
    with pytest.raises(StopIteration):
        next(gen)
    assert gen.epoch == 1


def test_on_shards_a_bad_batch_is_one_of_the_ranks_steps(tmp_path: Path) -> None:
    frame = folder(tmp_path, 10)
    steps = {}
    for rank in (0, 1):
        gen = flow(tmp_path, frame, batch_size=2, rank=rank, world_size=2, workers=2)
        got: list[Any] = []
        for _ in range(2 * len(gen)):
            try:
                got.append(next(gen))
            except DataError:
                got.append("raised")
        gen.epoch = 0
        assert same(got, indexed(gen, 2))
        steps[rank] = len(got)
        gen.close()
    assert steps[0] == steps[1] == 6


def test_an_epoch_without_a_batch_raises_once_and_the_next_epoch_follows(tmp_path: Path) -> None:
    frame = folder(tmp_path, 4)
    for number in range(4):
        (tmp_path / f"{number}.png").write_bytes(b"not a png")
    gen = flow(tmp_path, frame, on_error="skip", epochs=2, batch_size=2)
    for epoch in (0, 1):
        with pytest.raises(DataError, match=f"epoch {epoch} gave no batch"):
            next(gen)
    with pytest.raises(StopIteration):
        next(gen)


def test_the_drop_in_iterator_goes_on_after_a_bad_batch(tmp_path: Path) -> None:
    from confaug.keras import ImageDataGenerator

    frame = folder(tmp_path, 12)
    frame["label"] = frame["label"].astype(str)

    def iterator() -> Any:
        return ImageDataGenerator(horizontal_flip=True).flow_from_dataframe(
            frame, str(tmp_path), y_col="label", class_mode="sparse", target_size=(8, 8),
            batch_size=3, seed=1,
        )  # fmt: skip

    it, reference = iterator(), iterator()
    expected = []
    for _ in range(2):  # two epochs, as Keras' next() goes on into the next one
        for index in range(len(reference)):
            try:
                expected.append(reference[index])
            except (DataError, OSError, ValueError):
                expected.append("raised")
        reference.on_epoch_end()
    assert expected.count("raised") == 2 and expected[-1] != "raised"
    got: list[Any] = []
    for _ in range(len(expected)):
        try:
            got.append(next(it))
        except (DataError, OSError, ValueError):
            got.append("raised")
    assert same(got, expected)


# ---- as_tf(): a pass that produced a batch counts ------------------------------------------


@pytest.fixture(scope="module")
def tf() -> Any:
    return pytest.importorskip(
        "tensorflow", reason="TensorFlow is not installed (pip install tensorflow-cpu)"
    )


def labels_by_epoch(count: int, epochs: int, steps: int) -> list[list[int]]:
    reference = confaug.load_pipeline(FLIP).flow(
        images(count), np.arange(count), batch_size=4, seed=1
    )
    labels = []
    for epoch in range(epochs):
        reference.epoch = epoch
        labels += [reference[index][1].tolist() for index in range(steps)]
    return labels


@pytest.mark.parametrize("workers", [0, 2])
def test_as_tf_take_steps_loops_see_the_next_epoch_each_time(tf: Any, workers: int) -> None:
    gen = confaug.load_pipeline(FLIP).flow(
        images(20), np.arange(20), batch_size=4, seed=1, workers=workers
    )
    dataset = gen.as_tf()
    seen = []
    for _ in range(3):  # a custom loop with steps_per_epoch=2
        seen += [y.numpy().tolist() for _, y in dataset.take(2)]
    assert seen == labels_by_epoch(20, 3, 2)
    assert gen.epoch == 3
    for _, y in dataset:  # a break counts too
        seen.append(y.numpy().tolist())
        break
    for _, y in dataset.take(1):
        seen.append(y.numpy().tolist())
    assert seen[6:] == [labels_by_epoch(20, 5, 1)[3], labels_by_epoch(20, 5, 1)[4]]
    assert gen.epoch == 5
    assert len(list(dataset)) == 5  # a whole pass counts once
    assert gen.epoch == 6


def test_as_tf_a_pass_without_a_batch_does_not_count(tf: Any) -> None:
    gen = confaug.load_pipeline(FLIP).flow(images(8), np.arange(8), batch_size=4, seed=1)
    dataset = gen.as_tf()
    iterator = iter(dataset)
    del iterator
    assert list(dataset.take(0)) == []
    assert gen.epoch == 0
    assert len(list(dataset)) == 2
    assert gen.epoch == 1
