"""A generator or stream dropped after ``next()`` lets go of its arrays at once.

``next(gen)`` keeps one default run going; that run must not hold its owner strongly, or the
two form a cycle that only the cyclic collector frees, and every array they hold (the
source's, the last batch) outlives the caller's last reference until it happens to run. The
seed's snippet builds a ``flow()`` per incoming batch: with the cycle, dead batches piled up
between collections, the heap grew and every batch paid for fresh pages. Here the cyclic
collector is switched off, so only reference counting can free anything.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

import confaug
from confaug.keras import ImageDataGenerator

KEYWORDS = {"rotation_range": 15, "horizontal_flip": True, "brightness_range": [0.5, 1.5]}


@pytest.fixture
def no_cyclic_collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def images(count: int = 8, size: int = 24) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (count, size, size, 3)).astype(np.float32)


@pytest.mark.usefixtures("no_cyclic_collector")
@pytest.mark.parametrize("batches", [1, 3])
def test_drop_in_flow_frees_its_input_and_batch_when_dropped(batches: int) -> None:
    generator = ImageDataGenerator(**KEYWORDS)
    # The first flow() imports Keras, whose import keeps the calling frames for good: once.
    next(generator.flow(images(4), batch_size=4))
    x = images()
    iterator = generator.flow(x, np.arange(len(x)), batch_size=4, seed=1)
    for _ in range(batches):
        batch, _ = next(iterator)
    watched = [weakref.ref(x), weakref.ref(batch), weakref.ref(iterator)]
    del x, batch, iterator
    assert [ref() is None for ref in watched] == [True, True, True]


@pytest.mark.usefixtures("no_cyclic_collector")
def test_the_seeds_per_batch_flow_holds_no_batch_of_an_earlier_call() -> None:
    generator = ImageDataGenerator(**KEYWORDS)
    upstream = images(16)
    alive: list[weakref.ref[np.ndarray]] = []
    for start in range(0, 16, 4):
        scaled = 1.0 * upstream[start : start + 4]
        flow = generator.flow(scaled, np.zeros(4), batch_size=4)
        x, _ = next(flow)
        alive.append(weakref.ref(scaled))
        alive.append(weakref.ref(x))
    del scaled, flow, x
    assert sum(ref() is not None for ref in alive) == 0


@pytest.mark.usefixtures("no_cyclic_collector")
@pytest.mark.parametrize("workers", [0, 2])
def test_batch_generator_next_then_drop_frees_the_source(workers: int) -> None:
    pipe = confaug.load_pipeline({"horizontal_flip": True})
    x = images().astype(np.uint8)
    gen = pipe.flow(x, batch_size=4, seed=0, workers=workers)
    batch = next(gen)
    assert batch.shape == (4, 24, 24, 3)
    watched = [weakref.ref(x), weakref.ref(gen)]
    del x, gen, batch
    assert [ref() is None for ref in watched] == [True, True]


@pytest.mark.usefixtures("no_cyclic_collector")
def test_a_shard_dropped_at_its_padded_batch_frees_the_source() -> None:
    """A shard's last batch comes from ``_padded``, a generator the run keeps while it
    yields: called as a bound method it would hold the owner itself (a cycle again)."""
    pipe = confaug.load_pipeline({"horizontal_flip": True})
    x = images(9).astype(np.uint8)
    gen = pipe.flow(x, batch_size=2, seed=0, rank=0, world_size=2)
    for _ in range(len(gen)):  # 5 samples of 9: the third batch is the padded tail
        batch = next(gen)
    assert batch.shape == (1, 24, 24, 3)
    watched = [weakref.ref(x), weakref.ref(gen)]
    del x, gen, batch
    assert [ref() is None for ref in watched] == [True, True]


@pytest.mark.usefixtures("no_cyclic_collector")
def test_stream_next_then_drop_frees_the_stream() -> None:
    pipe = confaug.load_pipeline({"horizontal_flip": True})
    upstream = [images(4).astype(np.uint8) for _ in range(3)]
    stream = pipe.wrap(upstream, seed=0)
    first = next(stream)
    assert first.shape == (4, 24, 24, 3)
    watched = [weakref.ref(stream), weakref.ref(first)]
    del stream, first
    assert [ref() is None for ref in watched] == [True, True]


def test_next_still_continues_one_run_and_epochs_advance() -> None:
    """The weakly held default run still behaves as one run: batches follow on, the epoch
    moves on after the last batch, and the bits equal an iteration's."""
    pipe = confaug.load_pipeline({"rotation_range": 10, "horizontal_flip": True})
    x = images(8).astype(np.uint8)
    by_next = pipe.flow(x, batch_size=4, seed=3, epochs=2)
    taken = [next(by_next) for _ in range(4)]
    assert by_next.epoch == 1  # the run waits at the second epoch's last batch
    with pytest.raises(StopIteration):
        next(by_next)
    assert by_next.epoch == 2
    iterated = list(pipe.flow(x, batch_size=4, seed=3, epochs=2))
    assert len(iterated) == 4
    assert all(np.array_equal(a, b) for a, b in zip(taken, iterated, strict=True))


def test_closing_stops_the_default_run() -> None:
    pipe = confaug.load_pipeline({"horizontal_flip": True})
    x = images(8).astype(np.uint8)
    gen = pipe.flow(x, batch_size=4, seed=0, workers=2)
    next(gen)
    gen.close()
    first_again = next(gen)  # a new default run, from the epoch it had reached
    assert first_again.shape == (4, 24, 24, 3)
    gen.close()


def worker_threads() -> int:
    return sum(t.name.startswith("confaug-worker") for t in threading.enumerate())


@pytest.mark.usefixtures("no_cyclic_collector")
@pytest.mark.parametrize("workers", [0, 2])
def test_a_folder_flow_dropped_after_next_stops_its_workers_at_once(
    tmp_path: Path, workers: int
) -> None:
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for number in range(4):
            image = np.full((16, 16, 3), 40 * number, np.uint8)
            assert cv2.imwrite(str(tmp_path / label / f"{number}.png"), image)
    pipe = confaug.load_pipeline({"horizontal_flip": True})
    before = worker_threads()
    gen = pipe.flow_from_directory(tmp_path, target_size=None, batch_size=2, workers=workers)
    next(gen)
    watched = weakref.ref(gen)
    del gen
    assert watched() is None
    deadline = time.monotonic() + 60  # generous: joining threads on a loaded machine
    while worker_threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker_threads() == before


@pytest.mark.usefixtures("no_cyclic_collector")
def test_drop_in_flow_with_workers_frees_and_stops_when_dropped() -> None:
    generator = ImageDataGenerator(**KEYWORDS)
    next(generator.flow(images(4), batch_size=4))  # the one-time Keras import, see above
    before = worker_threads()
    x = images()
    iterator = generator.flow(x, batch_size=4, workers=2)
    next(iterator)
    watched = weakref.ref(x)
    del x, iterator
    assert watched() is None
    deadline = time.monotonic() + 60
    while worker_threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker_threads() == before
