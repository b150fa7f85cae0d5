"""A batch that is its whole dataset (``wrap``'s) finds its value range as it is augmented.

``value_range: auto`` reads the range from the largest bit pattern of the batch, image by
image inside the batch path, in the range the previous batch was in; a batch in the other
range is done again. These tests hold that route to the outputs, errors and warnings of a
pipeline told the range, and count the work it does.
"""

from __future__ import annotations

import warnings
from typing import Any

import cv2
import numpy as np
import pytest

import confaug
from confaug.compiler import batch_path
from confaug.errors import DataError
from confaug.sources import arrays

KEYWORDS: dict[str, Any] = {
    "rotation_range": 20,
    "width_shift_range": 0.1,
    "horizontal_flip": True,
    "brightness_range": [0.6, 1.4],
}
SIZE = 40  # small images, one chunk each; BIG ones go in two halves at once
BIG = 280


def _batch(rng: np.random.Generator, high: float, dtype: Any = np.float32, size: int = SIZE):
    return rng.uniform(0, high, (3, size, size, 3)).astype(dtype)


def _fixed(bounds: tuple[float, float], **spec: Any) -> confaug.Pipeline:
    return confaug.load_pipeline({**KEYWORDS, **spec, "value_range": list(bounds)})


def _expected(batches: list[np.ndarray], seed: int, **spec: Any) -> list[np.ndarray]:
    """Each batch as ``wrap`` augments it in a pipeline told the batch's range."""
    out = []
    for number, x in enumerate(batches):
        bounds = (0.0, 1.0) if float(x.max()) <= 1.0 else (0.0, 255.0)
        # wrap seeds batch ``number`` from its position: feed the same position.
        stream = list(_fixed(bounds, **spec).wrap([*batches[:number], x], seed=seed))
        out.append(stream[number])
    return out


@pytest.mark.parametrize("size", [SIZE, BIG])
def test_batches_switching_range_get_the_bits_of_their_range(size: int) -> None:
    rng = np.random.default_rng(0)
    batches = [
        _batch(rng, 1.0, size=size),
        _batch(rng, 255.0, size=size),
        _batch(rng, 255.0, size=size),
        _batch(rng, 0.9, size=size) * 1.0,  # [0, 1] again
        _batch(rng, 255.0, size=size) * 0.003,  # a dark 0-255 batch: within [0, 1]
        _batch(rng, 255.0, size=size),
    ]
    pipe = confaug.load_pipeline(KEYWORDS)
    got = list(pipe.wrap(batches, seed=3))
    for number, (mine, theirs) in enumerate(zip(got, _expected(batches, 3), strict=True)):
        assert mine.dtype == batches[number].dtype
        assert np.array_equal(mine, theirs), f"batch {number}"
    again = list(pipe.wrap(batches, seed=3))  # a second pass: same seeds, same bits
    assert all(np.array_equal(a, b) for a, b in zip(got, again, strict=True))


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_other_float_sizes(dtype: Any) -> None:
    rng = np.random.default_rng(1)
    batches = [_batch(rng, 255.0, dtype), _batch(rng, 1.0, dtype), _batch(rng, 255.0, dtype)]
    got = list(confaug.load_pipeline(KEYWORDS).wrap(batches, seed=8))
    for mine, theirs in zip(got, _expected(batches, 8), strict=True):
        assert mine.dtype == dtype and np.array_equal(mine, theirs)


def test_channels_first() -> None:
    rng = np.random.default_rng(2)
    batches = [np.moveaxis(_batch(rng, high), -1, 1).copy() for high in (255.0, 1.0, 1.0)]
    spec = {"data_format": "channels_first"}
    got = list(confaug.load_pipeline({**KEYWORDS, **spec}).wrap(batches, seed=4))
    for mine, theirs in zip(got, _expected(batches, 4, **spec), strict=True):
        assert mine.shape == batches[0].shape and np.array_equal(mine, theirs)


def test_labels_ride_along_and_workers_change_nothing() -> None:
    rng = np.random.default_rng(3)
    batches = [(_batch(rng, high), np.arange(3) + i) for i, high in enumerate([1, 255, 1, 255])]
    pipe = confaug.load_pipeline(KEYWORDS)
    alone = list(pipe.wrap(batches, seed=2))
    threads = list(confaug.load_pipeline(KEYWORDS).wrap(batches, seed=2, workers=2))
    for (x, y), (tx, ty), (_, labels) in zip(alone, threads, batches, strict=True):
        assert np.array_equal(x, tx) and np.array_equal(y, labels) and np.array_equal(ty, y)


class _Counts:
    """cv2.warpAffine calls and whole-batch scans, counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.warps = 0
        self.source_scans = 0
        warp, within = cv2.warpAffine, arrays._range_and_largest

        def counting_warp(*args: Any, **kwargs: Any) -> Any:
            self.warps += 1
            return warp(*args, **kwargs)

        def counting_within(x: Any) -> Any:
            self.source_scans += 1
            return within(x)

        monkeypatch.setattr(cv2, "warpAffine", counting_warp)
        monkeypatch.setattr(arrays, "_range_and_largest", counting_within)


def test_a_batch_is_warped_twice_only_when_its_range_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(4)
    highs = [1.0, 1.0, 255.0, 255.0, 255.0, 1.0]
    batches = [_batch(rng, high) for high in highs]
    counts = _Counts(monkeypatch)
    pipe = confaug.load_pipeline(KEYWORDS)
    warps = []
    for x in pipe.wrap(batches, seed=1):
        warps.append(counts.warps)
        assert x is not None
    per_batch = np.diff([0, *warps]).tolist()
    # The first batch: scanned, then warped; a batch in the last one's range: warped once
    # (its bits read on the way); one in the other range: warped again in its own.
    images = len(batches[0])
    assert per_batch == [images, images, 2 * images, images, images, 2 * images]
    assert counts.source_scans == 0  # no source scanned its values before the batch path


def test_a_bounded_flow_is_not_affected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A generator's source finds its range once for the whole dataset, as before: a batch
    of it is not the dataset."""
    rng = np.random.default_rng(5)
    x = np.concatenate([_batch(rng, 255.0), _batch(rng, 255.0) * 0.003])  # dark half
    pipe = confaug.load_pipeline(KEYWORDS)
    counts = _Counts(monkeypatch)
    flow = pipe.flow(x, batch_size=3, shuffle=False, seed=0)
    dark = flow[1]
    assert counts.source_scans == 1 and counts.warps == 3
    as_dataset = _fixed((0.0, 255.0)).flow(x, batch_size=3, shuffle=False, seed=0)[1]
    as_unit = _fixed((0.0, 1.0)).flow(x, batch_size=3, shuffle=False, seed=0)[1]
    assert np.array_equal(dark, as_dataset) and not np.array_equal(dark, as_unit)


def _poisoned(kind: str) -> np.ndarray:
    x = _batch(np.random.default_rng(6), 1.0)
    if kind == "nan":
        x[1, 3, 4, 0] = np.nan
    elif kind == "inf":
        x[2, 0, 0, 2] = np.inf
    elif kind == "negative":
        x[0, 5, 5, 1] = -0.5
    elif kind == "huge":
        x[1, 1, 1, 1] = 3.0e38
    elif kind == "beyond 255":
        x *= 300.0
    elif kind == "minus zero":
        x[0, 0, 0, 0] = -0.0
    return x


KINDS = ["nan", "inf", "negative", "huge", "beyond 255", "minus zero"]


def _outcome(pipe: confaug.Pipeline, batches: list[np.ndarray]) -> tuple[str, Any]:
    try:
        return "batches", list(pipe.wrap(batches, seed=7))
    except DataError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("kind", KINDS)
def test_data_outside_both_ranges_after_a_guess_ends_as_without_one(kind: str) -> None:
    """After batches that set a guess, a batch the bits cannot range ends exactly as it
    does for a pipeline that never guessed: the same error, or the same bits."""
    good = _batch(np.random.default_rng(7), 1.0)
    bad = _poisoned(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing the guessing run did may warn
        guessed = _outcome(confaug.load_pipeline(KEYWORDS), [good, good, bad])
    fresh_pipe = confaug.load_pipeline(KEYWORDS)
    fresh = _outcome(fresh_pipe, [good, good, bad])
    assert guessed[0] == fresh[0]
    if guessed[0] == "error":
        assert guessed[1] == fresh[1]
        assert "index" in guessed[1] or "[" in guessed[1]
    else:
        pairs = zip(guessed[1], fresh[1], strict=True)
        assert all(np.array_equal(a, b, equal_nan=True) for a, b in pairs)
    # Told the bad batch alone, a pipeline with no guess agrees too.
    alone = _outcome(confaug.load_pipeline(KEYWORDS), [bad])
    assert alone[0] == guessed[0]


@pytest.mark.parametrize("size", [SIZE, BIG])
def test_huge_values_under_a_guess_raise_no_floating_point_error(size: int) -> None:
    """NumPy's error state set to raise in the caller's thread, and warnings as errors: the
    guessing run over values near the float32 limit (brightness overflows them) raises
    nothing of its own — the batch ends in the DataError the values deserve."""
    rng = np.random.default_rng(8)
    pipe = confaug.load_pipeline(KEYWORDS)
    list(pipe.wrap([_batch(rng, 1.0, size=size)], seed=0))  # the guess: [0, 1]
    huge = _batch(rng, 1.0, size=size) * np.float32(3.0e38)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        with pytest.raises(DataError, match="neither"):
            list(pipe.wrap([huge], seed=0))


def test_the_guess_does_not_travel_into_the_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong guess set by hand changes the work, never the bits."""
    rng = np.random.default_rng(9)
    batches = [_batch(rng, 255.0), _batch(rng, 1.0)]
    clean = list(confaug.load_pipeline(KEYWORDS).wrap(batches, seed=5))
    for guess in [(0.0, 1.0), (0.0, 255.0)]:
        pipe = confaug.load_pipeline(KEYWORDS)
        path = pipe._batch
        assert isinstance(path, batch_path.BatchPath)
        path._range_guess = guess
        got = list(pipe.wrap(batches, seed=5))
        assert all(np.array_equal(a, b) for a, b in zip(got, clean, strict=True))
