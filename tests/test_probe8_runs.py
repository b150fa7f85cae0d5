"""probe-streams8, the generator's runs: ``for`` over an endless flow continues it, the spec's
``seed:`` seeds every flow, ``close()`` from another thread, pickling, ``epoch`` checks, and a
file of another size skipped with ``on_error="skip"``."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import confaug
from confaug import DataError
from tests.helpers import HANG_TIMEOUT

FLIP = {"version": 1, "horizontal_flip": True}


def images(count: int, size: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (count, size, size, 3), np.uint8)


def labels_of(batches: list[Any]) -> list[list[int]]:
    return [batch[1].tolist() for batch in batches]


def worker_threads() -> int:
    return sum(t.name.startswith("confaug-worker") for t in threading.enumerate())


# ---- 1. a for loop over an endless flow continues its one run --------------------------------


@pytest.mark.parametrize("workers", [0, 2])
def test_a_for_loop_that_breaks_continues_the_endless_run(workers: int) -> None:
    pipe = confaug.load_pipeline(FLIP)
    x, y = images(20), np.arange(20)
    gen = pipe.flow(x, y, batch_size=4, seed=1, workers=workers)  # epochs=None
    seen = []
    for _ in range(3):  # a custom loop with steps_per_epoch=2
        for step, batch in enumerate(gen):
            seen.append(batch)
            if step == 1:
                break
    by_next = pipe.flow(x, y, batch_size=4, seed=1, workers=workers)
    expected = [next(by_next) for _ in range(6)]
    assert labels_of(seen) == labels_of(expected)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(seen, expected, strict=True))
    assert sorted(label for labels in labels_of(seen[:5]) for label in labels) == list(range(20))
    assert gen.epoch == 1
    gen.close()
    by_next.close()


@pytest.mark.parametrize("workers", [0, 2])
def test_a_break_pauses_the_workers_and_the_next_loop_resumes_exactly(
    tmp_path: Path, workers: int
) -> None:
    """A break stops the shared run's workers (as a loop's break always did) and keeps its
    place, also inside a batch refilled after skipped files: the batches equal next()'s."""
    (tmp_path / "a").mkdir()
    for number in range(11):
        Image.fromarray(images(1, 8, number)[0]).save(tmp_path / "a" / f"{number:02}.png")
    for number in (3, 7):
        (tmp_path / "a" / f"{number:02}.png").write_bytes(b"junk")
    pipe = confaug.load_pipeline(FLIP)

    def flow() -> Any:
        return pipe.flow_from_directory(
            str(tmp_path),
            target_size=None,
            batch_size=3,
            seed=1,
            workers=workers,
            on_error="skip",
            class_mode="sparse",
        )

    gen, before = flow(), worker_threads()
    seen = []
    for _ in range(7):
        for batch in gen:
            seen.append(batch)
            break
        assert worker_threads() == before or workers == 0
    by_next = flow()
    expected = [next(by_next) for _ in range(7)]
    assert [len(b[0]) for b in seen] == [3, 3, 3, 3, 3, 3, 3]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(seen, expected, strict=True))
    assert gen.epoch == 2
    by_next.close()


def test_iter_of_an_endless_flow_is_a_generator_over_the_next_stream() -> None:
    gen = confaug.load_pipeline(FLIP).flow(images(8), np.arange(8), batch_size=4, seed=2)
    first = next(gen)
    loop = iter(gen)
    assert isinstance(loop, types.GeneratorType)  # what Keras 3's fit takes as a generator
    assert next(loop)[1].tolist() != first[1].tolist()  # batch 1, not batch 0 again
    gen.close()


def test_with_epochs_each_for_loop_is_a_run_of_its_own() -> None:
    pipe = confaug.load_pipeline(FLIP)
    gen = pipe.flow(images(8), np.arange(8), batch_size=4, seed=3, epochs=1)
    first, second = list(gen), list(gen)
    assert len(first) == len(second) == 2
    assert gen.epoch == 2
    assert labels_of(first) == labels_of(
        list(pipe.flow(images(8), np.arange(8), batch_size=4, seed=3, epochs=1))
    )


def test_next_after_a_failed_batch_raises_again_instead_of_ending(tmp_path: Path) -> None:
    for number in range(4):
        Image.fromarray(images(1, seed=number)[0]).save(tmp_path / f"{number}.png")
    (tmp_path / "4.png").write_bytes(b"not a png")
    frame = pd.DataFrame({"filename": [f"{n}.png" for n in range(5)]})
    gen = confaug.load_pipeline(FLIP).flow_from_dataframe(
        frame, str(tmp_path), class_mode=None, batch_size=5, shuffle=False, target_size=None
    )
    for _ in range(2):  # the run that failed is not left to say StopIteration for ever
        with pytest.raises(DataError, match=r"4\.png"):
            next(gen)
    with pytest.raises(DataError, match=r"4\.png"):
        for _ in gen:
            pass


# ---- 2. seed=None takes the spec's seed: -------------------------------------------------------


def test_flows_take_the_spec_seed_when_none_is_given(tmp_path: Path) -> None:
    spec = {"version": 1, "seed": 5, "horizontal_flip": True, "rotation_range": 30}
    x = images(8, 16)
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for number in range(2):
            Image.fromarray(x[number]).save(tmp_path / label / f"{number}.png")
    frame = pd.DataFrame({"filename": ["a/0.png", "b/1.png"], "class": ["a", "b"]})
    made = []
    for _ in range(2):  # two loads: as two runs of a training script
        pipe = confaug.load_pipeline(spec)
        flow = pipe.flow(x, np.arange(8), batch_size=8)
        folder = pipe.flow_from_directory(str(tmp_path), target_size=(16, 16))
        table = pipe.flow_from_dataframe(frame, str(tmp_path), target_size=(16, 16))
        assert (flow.seed, folder.seed, table.seed) == (5, 5, 5)
        made.append(flow[0][0])
    assert np.array_equal(made[0], made[1])
    pipe = confaug.load_pipeline(spec)
    assert pipe.flow(x, seed=7).seed == 7  # a seed given wins
    # every rank shares the spec's seed, so a sharded shuffle needs no seed= of its own
    assert pipe.flow(x, batch_size=2, rank=1, world_size=2).seed == 5
    assert confaug.load_pipeline(FLIP).flow(x).seed != confaug.load_pipeline(FLIP).flow(x).seed


# ---- 8. close() from another thread while a pass is inside next() ------------------------------


class _Gate:
    """A preprocessing_function that waits at the first sample (all of its pixels 7) until
    it is let go: the consumer is then inside its first ``next()`` (making batch 0, or
    waiting for the worker that makes it) for as long as the test needs."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.go = threading.Event()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if np.all(image == 7) and not self.inside.is_set():
            self.inside.set()
            assert self.go.wait(HANG_TIMEOUT)
        return image


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("by", ["for", "next"])
def test_close_from_another_thread_stops_a_pass_inside_next(workers: int, by: str) -> None:
    gate = _Gate()
    name = f"probe8_runs_gate_{workers}_{by}"
    confaug.register(name, gate)
    pipe = confaug.load_pipeline({"version": 1, "preprocessing_function": name})
    x = images(64)
    x[0] = 7
    gen = pipe.flow(x, np.arange(64), batch_size=2, shuffle=False, seed=0, workers=workers)
    before = worker_threads() if workers == 0 else 0
    outcome: dict[str, Any] = {}

    def consume() -> None:
        count = 0
        try:
            if by == "for":
                for _ in gen:
                    count += 1
            else:
                while True:
                    next(gen)
                    count += 1
        except BaseException as exc:  # reported below
            outcome["error"] = exc
        outcome["count"] = count

    thread = threading.Thread(target=consume)
    thread.start()
    assert gate.inside.wait(HANG_TIMEOUT)
    try:
        gen.close()  # was: ValueError: generator already executing
    finally:
        gate.go.set()
    thread.join(HANG_TIMEOUT)
    assert not thread.is_alive()
    if by == "for":
        assert "error" not in outcome  # the loop ended
    else:
        assert isinstance(outcome.get("error"), StopIteration)
    assert outcome["count"] == 0  # batch 0, made while it was closed, is not handed on
    thread.join()
    assert worker_threads() == before


def test_a_stream_closed_from_another_thread_while_its_source_blocks() -> None:
    inside, go = threading.Event(), threading.Event()

    def slow() -> Iterator[np.ndarray]:
        yield images(2)
        inside.set()
        assert go.wait(HANG_TIMEOUT)
        while True:
            yield images(2)

    stream = confaug.load_pipeline(FLIP).wrap(slow(), seed=0)
    outcome: dict[str, Any] = {}

    def consume() -> None:
        try:
            outcome["count"] = sum(1 for _ in stream)
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=consume)
    thread.start()
    assert inside.wait(HANG_TIMEOUT)
    try:
        stream.close()
    finally:
        go.set()
    thread.join(HANG_TIMEOUT)
    assert not thread.is_alive()
    assert outcome == {"count": 1}


# ---- 9. pickling ------------------------------------------------------------------------------


def test_a_generator_pickles_with_its_state_and_without_its_runs() -> None:
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True, "rotation_range": 20})
    gen = pipe.flow(images(10), np.arange(10), batch_size=4, seed=4, workers=2)
    next(gen)  # a live default run with two worker threads
    gen.on_epoch_end()
    copied = pickle.loads(pickle.dumps(gen))
    assert (copied.epoch, copied.workers, copied.seed, len(copied)) == (1, 2, 4, 3)
    assert all(np.array_equal(copied[i][0], gen[i][0]) for i in range(len(gen)))
    assert np.array_equal(next(copied)[0], gen[0][0])  # its own run, from its epoch
    deep = copy.deepcopy(gen)
    assert np.array_equal(deep[2][0], gen[2][0])
    for each in (gen, copied, deep):
        each.close()


def test_a_generator_made_with_keras_loaded_pickles_into_a_fresh_process() -> None:
    pytest.importorskip("keras")
    import keras

    gen = confaug.load_pipeline(FLIP).flow(images(6), np.arange(6), batch_size=4, seed=6)
    assert isinstance(gen, keras.utils.PyDataset)
    again = pickle.loads(pickle.dumps(gen))
    assert isinstance(again, keras.utils.PyDataset)
    assert again.workers == gen.workers
    code = (
        "import pickle, sys; g = pickle.loads(sys.stdin.buffer.read()); "
        "print(type(g).__name__, g.workers, g[1][1].tolist())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(gen),
        capture_output=True,
        timeout=HANG_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["BatchGenerator", "0", *str(gen[1][1].tolist()).split()]


def test_the_drop_in_iterator_pickles() -> None:
    from confaug.keras import ImageDataGenerator

    iterator = ImageDataGenerator(horizontal_flip=True).flow(
        images(6), np.arange(6), batch_size=4, seed=1
    )
    next(iterator)
    copied = pickle.loads(pickle.dumps(iterator))
    assert type(copied) is type(iterator)
    assert np.array_equal(copied[1][0], iterator[1][0])
    assert np.array_equal(next(copied)[1], iterator[0][1])


# ---- 10. epoch checks; a file of another size with on_error="skip" ------------------------------


def test_setting_a_bad_epoch_is_refused_in_confaugs_words() -> None:
    gen = confaug.load_pipeline(FLIP).flow(images(4), batch_size=2)
    with pytest.raises(ValueError, match="epoch must be an int >= 0, got -1"):
        gen.epoch = -1
    with pytest.raises(TypeError, match=r"epoch must be an int >= 0, got float 2\.5"):
        gen.epoch = 2.5  # type: ignore[assignment]
    gen.epoch = np.int64(3)  # type: ignore[assignment]
    assert gen.epoch == 3 and type(gen.epoch) is int


def _folder_with_one_odd_size(root: Path) -> Path:
    (root / "a").mkdir()
    for number in range(5):
        Image.fromarray(images(1, 20, number)[0]).save(root / "a" / f"{number}.png")
    Image.fromarray(images(1, 40, 9)[0]).save(root / "a" / "9.png")
    return root


def test_a_file_of_another_size_is_skipped_and_named_with_on_error_skip(tmp_path: Path) -> None:
    root = _folder_with_one_odd_size(tmp_path)
    pipe = confaug.load_pipeline(FLIP)
    gen = pipe.flow_from_directory(
        str(root), target_size=None, batch_size=6, shuffle=False, epochs=1, on_error="skip"
    )
    batches = list(gen)
    assert [len(b[0]) for b in batches] == [5]
    assert batches[0][0].shape[1:] == (20, 20, 3)
    assert [path.rsplit("/", 1)[-1] for path, _ in gen.skipped] == ["9.png"]
    assert "(40, 40, 3)" in gen.skipped[0][1] and "(20, 20, 3)" in gen.skipped[0][1]
    strict = pipe.flow_from_directory(str(root), target_size=None, batch_size=6, shuffle=False)
    with pytest.raises(DataError, match="differ in shape"):
        strict[0]


def test_sizes_a_step_changes_are_still_an_error_with_on_error_skip(tmp_path: Path) -> None:
    """Images read at one size that differ after augmenting: the pipeline's doing, not the
    data's, so nothing is skipped."""
    for number in range(6):
        Image.fromarray(images(1, 20, number)[0]).save(tmp_path / f"{number}.png")
    frame = pd.DataFrame({"filename": [f"{n}.png" for n in range(6)]})
    pipe = confaug.load_pipeline(
        {"version": 1, "transforms": [{"RandomScale": {"scale_limit": 0.5, "p": 1}}]}
    )
    gen = pipe.flow_from_dataframe(
        frame,
        str(tmp_path),
        class_mode=None,
        target_size=None,
        batch_size=6,
        seed=0,
        on_error="skip",
    )
    with pytest.raises(DataError, match="differ in shape"):
        gen[0]
    assert gen.skipped == []
