"""probe-streams8's findings on ``pipe.wrap(...)`` (AugmentedStream): read-ahead kept across
a ``break`` (4), the iterable's own errors in their place (5), Keras 3's ``model.fit`` (3),
the spec's seed (2, the wrap side), a range switch within a stream (7), and the small ones
(10: what wrap() refuses at the call, the batch number of the range error, ``len()``)."""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.errors import DataError, ValueRangeWarning

IDENTITY: dict[str, Any] = {"version": 1, "transforms": []}
FLIP: dict[str, Any] = {"version": 1, "horizontal_flip": True, "rotation_range": 20}
MODES = [
    {"workers": 0},
    {"workers": 1},
    {"workers": 2},
    {"workers": 2, "max_queue_size": 1},
    {"workers": 2, "max_queue_size": 6},
]


def _images(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (count, 8, 8, 3), np.uint8)


def _numbered(limit: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batch k holds labels k (and images of its own)."""
    k = 0
    while limit is None or k < limit:
        yield _images(2, k), np.full(2, k)
        k += 1


def _broken_at(at: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for k in range(6):
        if k == at:
            raise KeyError(f"user error at {k}")
        yield _images(2, k), np.full(2, k)


def _passes_of_three(stream: Any, passes: int = 3) -> list[tuple[int, bytes]]:
    """A custom loop with steps_per_epoch = 3: ``break`` out of each pass."""
    seen = []
    for _ in range(passes):
        for step, (x, y) in enumerate(stream):
            seen.append((int(y[0]), x.tobytes()))
            if step == 2:
                break
    return seen


# ---- 4: a break keeps what was read ahead ----------------------------------------------------
@pytest.mark.parametrize("mode", MODES[1:], ids=str)
def test_a_break_loses_no_batch_read_ahead_and_pixels_match_workers_0(mode: dict) -> None:
    pipe = confaug.load_pipeline(FLIP)
    alone = _passes_of_three(pipe.wrap(_numbered(), seed=3))
    ahead = _passes_of_three(pipe.wrap(_numbered(), seed=3, **mode))
    assert [label for label, _ in alone] == list(range(9))
    assert [label for label, _ in ahead] == list(range(9))  # was [0, 1, 2, 8, 9, 10, ...]
    assert [pixels for _, pixels in ahead] == [pixels for _, pixels in alone]


def test_a_finite_generator_is_delivered_whole_across_breaks_and_close() -> None:
    stream = confaug.load_pipeline(IDENTITY).wrap(_numbered(7), workers=2, max_queue_size=5)
    first = [int(y[0]) for _, y in itertools.islice(stream, 2)]  # a pass stopped early
    stream.close()
    rest = [int(y[0]) for _, y in stream]
    assert first + rest == list(range(7))


def test_a_re_iterable_input_still_starts_over_each_pass() -> None:
    batches = list(_numbered(5))
    stream = confaug.load_pipeline(IDENTITY).wrap(batches, workers=2)
    assert [label for label, _ in _passes_of_three(stream, 2)] == [0, 1, 2, 0, 1, 2]


# ---- 5: the iterable's own error comes after the batches before it -----------------------
@pytest.mark.parametrize("mode", MODES, ids=str)
def test_an_error_of_the_iterable_comes_after_every_batch_before_it(mode: dict) -> None:
    got = []
    stream = confaug.load_pipeline(IDENTITY).wrap(_broken_at(3), **mode)
    with pytest.raises(KeyError, match="user error at 3") as caught:
        for _, y in stream:
            got.append(int(y[0]))
    assert got == [0, 1, 2]  # workers=2 delivered [] before
    notes = getattr(caught.value, "__notes__", None)
    if hasattr(caught.value, "add_note"):
        assert notes and "batch 3 of pass 0" in notes[0] and "wrap()" in notes[0]


@pytest.mark.parametrize("mode", MODES[1:], ids=str)
def test_an_error_past_where_the_caller_stops_is_not_raised_there(mode: dict) -> None:
    stream = confaug.load_pipeline(IDENTITY).wrap(_broken_at(3), **mode)
    for step, _ in enumerate(stream):  # raised here, at step 0 or 1, before
        if step == 1:
            break
    # ... and the next pass gives the batch left and then the error, as workers=0 does.
    got = []
    with pytest.raises(KeyError) as caught:
        for _, y in stream:
            got.append(int(y[0]))
    assert got == [2]
    if hasattr(caught.value, "add_note"):
        assert "batch 1 of pass 1" in caught.value.__notes__[-1]


def test_the_workers_pool_keeps_finished_results_before_a_failing_task() -> None:
    from confaug.batching.workers import ordered_map

    def tasks() -> Iterator[int]:
        yield from range(3)
        raise OSError("torn record")

    got = []
    with pytest.raises(OSError, match="torn record"):
        for task, value in ordered_map(lambda t, _: t * 10, tasks(), workers=2):
            got.append((task, value))
    assert got == [(0, 0), (1, 10), (2, 20)]


# ---- 2: the spec's seed --------------------------------------------------------------------
def test_wrap_takes_the_specs_seed_when_none_is_given() -> None:
    pipe = confaug.load_pipeline({**FLIP, "seed": 5})
    x = _images(4, 0)
    assert pipe.wrap([x]).seed == 5
    assert pipe.wrap([x], seed=8).seed == 8
    first, second = next(iter(pipe.wrap([x]))), next(iter(pipe.wrap([x])))
    assert np.array_equal(first, second)
    assert confaug.load_pipeline(FLIP).wrap([x]).seed != confaug.load_pipeline(FLIP).wrap([x]).seed


# ---- 7: a range switch within a stream -----------------------------------------------------
@pytest.mark.parametrize("config", [IDENTITY, FLIP], ids=["per-sample", "batch path"])
@pytest.mark.parametrize("workers", [0, 2])
def test_a_dark_frame_in_a_0_255_stream_warns_once_naming_both_batches(
    config: dict, workers: int
) -> None:
    bright = _images(1, 1).astype(np.float32) / 2 + 10
    dark = np.full((1, 8, 8, 3), 0.5, np.float32)
    pipe = confaug.load_pipeline(config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(pipe.wrap([bright, bright, dark, bright, dark], seed=1, workers=workers))
    switched = [w for w in caught if issubclass(w.category, ValueRangeWarning)]
    assert len(switched) == 1
    text = str(switched[0].message)
    assert "batch 2" in text and "batch 0" in text and "value_range" in text
    assert switched[0].filename == __file__  # points at the caller's line


def test_a_stream_of_one_range_does_not_warn() -> None:
    pipe = confaug.load_pipeline(FLIP)
    unit = [np.random.default_rng(k).random((2, 8, 8, 3), np.float32) for k in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValueRangeWarning)
        list(pipe.wrap(unit, seed=1))
        list(pipe.wrap([x * 255 for x in unit], seed=1))


# ---- 10: small ones ------------------------------------------------------------------------
@pytest.mark.parametrize("given", [None, 5, 2.5, "abc", np.float32(1)])
def test_wrap_refuses_what_is_not_an_iterable_at_the_call(given: Any) -> None:
    with pytest.raises(TypeError, match=r"wrap\(\) takes an iterable of batches"):
        confaug.load_pipeline(IDENTITY).wrap(given)


def test_wrap_of_an_array_of_images_points_to_flow() -> None:
    with pytest.raises(ValueError, match=r"pipe\.flow\(x, y"):
        confaug.load_pipeline(IDENTITY).wrap(_images(4, 0))
    # An array of batches (rank 5) is an iterable of batches.
    batches = _images(8, 0).reshape(2, 4, 8, 8, 3)
    assert len(list(confaug.load_pipeline(IDENTITY).wrap(batches))) == 2


def test_the_float_range_error_names_the_batch() -> None:
    good = np.ones((2, 8, 8, 3), np.float32)
    with pytest.raises(DataError, match=r"^batch 1 x: float values span \[0, 1016\]"):
        list(confaug.load_pipeline(IDENTITY).wrap([good, _images(2, 0).astype(np.float32) * 4]))


def test_len_is_the_iterables_when_it_has_one() -> None:
    pipe = confaug.load_pipeline(IDENTITY)
    assert len(pipe.wrap(list(_numbered(3)))) == 3
    with pytest.raises(TypeError, match="has no len"):
        len(pipe.wrap(_numbered(3)))
    assert pipe.wrap([]) and pipe.wrap(_numbered(3))  # truthy, as before
    assert len(list(pipe.wrap(_numbered(3)))) == 3  # list() is not put off by the TypeError


# ---- 3: Keras 3's model.fit ------------------------------------------------------------------
def test_keras_3_takes_iter_of_the_stream_as_a_generator() -> None:
    """Keras 3 takes Python generators only; ``iter(stream)`` is one (the README says so)."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    pytest.importorskip("keras")
    adapters = pytest.importorskip("keras.src.trainers.data_adapters")
    stream = confaug.load_pipeline(IDENTITY).wrap(_numbered(), workers=2)
    adapter = adapters.get_data_adapter(iter(stream))
    labels = [int(y[0]) for _, y in itertools.islice(adapter.get_numpy_iterator(), 5)]
    assert labels == [0, 1, 2, 3, 4]
