"""confaug's bits do not depend on OpenCV's threads (``confaug.opencv_threads``).

Under OpenCV 5.1 a float32 bilinear ``cv2.warpAffine`` with a constant or replicated border
gives bits that depend on how OpenCV splits the rows into stripes: on ``cv2.getNumThreads()``,
and, with two threads warping at once, on which got OpenCV's pool first. confaug runs those
warps with OpenCV held at one thread, so every path, worker count and run gives the bits of
``cv2.setNumThreads(1)``. Under 4.x and 5.0 these tests pass with nothing pinned; the pin's
own mechanism is tested there too, with the version gate switched on.

Images are 300 px: the effect shows at a few pixels of most large images and of few small
ones (1 of 20 matrices at 128 px).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest

import confaug
from confaug.batching import flow
from confaug.compiler import batch_path

KEYWORDS: dict[str, Any] = {
    "rotation_range": 25,
    "zoom_range": 0.2,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
}
SIDE = 300
FILLS = ["nearest", "constant", "reflect"]  # REPLICATE, CONSTANT (affected), REFLECT (not)


@pytest.fixture(autouse=True)
def _opencv_threads_given_back() -> Iterator[None]:
    before = cv2.getNumThreads()
    yield
    cv2.setNumThreads(before)


def _images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((count, SIDE, SIDE, 3), dtype=np.float32)


def _pipeline(fill_mode: str) -> confaug.Pipeline:
    return confaug.load_pipeline({"version": 1, **KEYWORDS, "fill_mode": fill_mode, "cval": 90})


def _at(threads: int, make: Any) -> Any:
    cv2.setNumThreads(threads)
    return make()


def _equal(first: list[np.ndarray], second: list[np.ndarray]) -> bool:
    return len(first) == len(second) and all(
        np.array_equal(a, b) for a, b in zip(first, second, strict=True)
    )


# ---- the public paths give the bits of one OpenCV thread -------------------------------
@pytest.mark.parametrize("fill_mode", FILLS)
def test_apply_batch_in_halves_gives_the_bits_of_one_opencv_thread_every_time(
    fill_mode: str,
) -> None:
    pipe, x = _pipeline(fill_mode), _images(4)
    one = _at(1, lambda: pipe.apply_batch(x, seed=3))
    for threads in (2, 3):
        cv2.setNumThreads(threads)
        # 4 x 300 px: in two halves at once, each run; the halves' race must not show.
        runs = [pipe.apply_batch(x, seed=3) for _ in range(20 if threads == 2 else 3)]
        differing = [i for i, run in enumerate(runs) if not np.array_equal(run, one)]
        assert not differing, (threads, differing)
        assert cv2.getNumThreads() == threads  # given back after each batch


@pytest.mark.parametrize("fill_mode", FILLS)
def test_one_image_gives_the_bits_of_one_opencv_thread(fill_mode: str) -> None:
    pipe, x = _pipeline(fill_mode), _images(1, seed=5)[0]
    seeds = range(16)
    one = _at(1, lambda: [pipe(image=x, seed=s)["image"] for s in seeds])
    for threads in (2, 4):
        cv2.setNumThreads(threads)
        assert _equal([pipe(image=x, seed=s)["image"] for s in seeds], one), threads
        assert cv2.getNumThreads() == threads


@pytest.mark.parametrize("fill_mode", FILLS)
def test_flow_gives_the_same_batches_with_and_without_worker_threads(fill_mode: str) -> None:
    pipe, x = _pipeline(fill_mode), _images(8, seed=1)
    cv2.setNumThreads(2)

    def batches(workers: int) -> list[np.ndarray]:
        generator = flow(
            pipe, x, None, batch_size=4, seed=7, shuffle=False, epochs=1, workers=workers
        )
        return [batch for batch in generator]

    serial = batches(0)  # OpenCV at 2 threads, batches in halves
    assert _equal(batches(2), serial)  # worker threads: OpenCV at 1
    assert _equal(_at(1, lambda: batches(0)), serial)


def test_two_threads_augmenting_at_once_get_the_bits_of_one_opencv_thread() -> None:
    pipe, x = _pipeline("nearest"), _images(3, seed=2)
    one = _at(1, lambda: pipe.apply_batch(x, seed=1))
    cv2.setNumThreads(2)
    results: list[np.ndarray] = []
    start = threading.Barrier(2)

    def augment() -> None:
        start.wait()
        for _ in range(5):
            results.append(pipe.apply_batch(x, seed=1))

    threads = [threading.Thread(target=augment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10 and all(np.array_equal(r, one) for r in results)
    assert cv2.getNumThreads() == 2


# ---- which warps are pinned: the installed OpenCV agrees with the gate -----------------
def _matrices(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    centre = (SIDE - 1) / 2
    out = []
    for _ in range(count):
        matrix = cv2.getRotationMatrix2D(
            (centre, centre), rng.uniform(-30, 30), rng.uniform(0.8, 1.2)
        )
        matrix[:, 2] += rng.uniform(-5, 5, 2)
        out.append(matrix)
    return out


def _depends_on_threads(dtype: Any, interpolation: int, border: int) -> bool:
    image = np.random.default_rng(3).random((SIDE, SIDE, 3)).astype(dtype) * (
        255 if dtype == np.uint8 else 1
    )
    flags = interpolation | cv2.WARP_INVERSE_MAP
    for matrix in _matrices(8):
        outs = []
        for threads in (1, 2, 3, 4):
            cv2.setNumThreads(threads)
            outs.append(cv2.warpAffine(image, matrix, (SIDE, SIDE), flags=flags, borderMode=border))
        if any(not np.array_equal(outs[0], out) for out in outs[1:]):
            return True
    return False


@pytest.mark.parametrize(
    ("dtype", "interpolation", "border"),
    [
        (np.float32, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE),
        (np.float32, cv2.INTER_LINEAR, cv2.BORDER_CONSTANT),
        (np.float32, cv2.INTER_LINEAR, cv2.BORDER_REFLECT),
        (np.float32, cv2.INTER_LINEAR, cv2.BORDER_WRAP),
        (np.float32, cv2.INTER_NEAREST, cv2.BORDER_REPLICATE),
        (np.float32, cv2.INTER_CUBIC, cv2.BORDER_REPLICATE),
        (np.uint8, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE),
        (np.float64, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE),
    ],
)
def test_the_warps_left_unpinned_do_not_depend_on_opencv_threads_here(
    dtype: Any, interpolation: int, border: int
) -> None:
    """A warp confaug leaves at OpenCV's threads must not depend on them in the installed
    OpenCV (a new release that stripes more would fail here, not in a user's batches)."""
    from confaug import opencv_threads

    if opencv_threads.striped_warp(np.dtype(dtype), interpolation, border):
        return  # pinned: whatever OpenCV does, confaug's bits are one stripe's
    assert not _depends_on_threads(dtype, interpolation, border)


def test_the_version_gate() -> None:
    from confaug.opencv_threads import _striped_version

    assert not any(map(_striped_version, ["4.9.0", "4.14.0", "5.0.0", "5.0.1-dev"]))
    assert all(map(_striped_version, ["5.1.0", "5.2.1", "5.10.0", "6.0.0", "unreadable"]))


# ---- the pin: reference-counted, shared by workers and warps ----------------------------
def test_nested_holders_give_the_count_back_only_at_the_end() -> None:
    from confaug import opencv_threads
    from confaug.opencv_threads import one_thread

    cv2.setNumThreads(3)
    with opencv_threads.one_thread():
        assert (cv2.getNumThreads(), opencv_threads.holders()) == (1, 1)
        with one_thread():  # the workers' pin is the same one
            assert (cv2.getNumThreads(), opencv_threads.holders()) == (1, 2)
        assert (cv2.getNumThreads(), opencv_threads.holders()) == (1, 1)
    assert (cv2.getNumThreads(), opencv_threads.holders()) == (3, 0)


def test_overlapping_holders_in_two_threads_give_the_count_back_at_the_last_exit() -> None:
    from confaug import opencv_threads

    cv2.setNumThreads(2)
    entered, leave_first, first_left = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int]] = []

    def first() -> None:
        with opencv_threads.one_thread():
            entered.set()
            leave_first.wait(30)
        first_left.set()

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(30)
    with opencv_threads.one_thread():
        leave_first.set()
        assert first_left.wait(30)
        seen.append((cv2.getNumThreads(), opencv_threads.holders()))  # first one has left
    thread.join()
    assert seen == [(1, 1)]
    assert (cv2.getNumThreads(), opencv_threads.holders()) == (2, 0)


@pytest.fixture
def striped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate switched on, as under OpenCV 5.1, whatever OpenCV is installed."""
    from confaug import opencv_threads

    monkeypatch.setattr(opencv_threads, "STRIPED_WARPS", True)


def _recording_warps(monkeypatch: pytest.MonkeyPatch, during: Any = None) -> list[int]:
    """cv2.warpAffine, recording OpenCV's thread count as each call starts (after
    ``during()``, run while the call is on)."""
    seen: list[int] = []
    real = cv2.warpAffine

    def recording(*args: Any, **kwargs: Any) -> Any:
        if during is not None:
            during()
        seen.append(cv2.getNumThreads())
        return real(*args, **kwargs)

    monkeypatch.setattr(cv2, "warpAffine", recording)
    return seen


@pytest.mark.usefixtures("striped")
def test_another_threads_exit_never_unpins_a_warp(monkeypatch: pytest.MonkeyPatch) -> None:
    """While one thread's warp runs, another takes the pin and gives it back: the warp
    still sees one thread (the restore waits for the last holder)."""
    from confaug import opencv_threads

    def another_thread_pins_and_leaves() -> None:
        def pin_and_leave() -> None:
            with opencv_threads.one_thread():
                pass

        other = threading.Thread(target=pin_and_leave)
        other.start()
        other.join()

    seen = _recording_warps(monkeypatch, another_thread_pins_and_leaves)
    cv2.setNumThreads(2)
    pipe, x = _pipeline("nearest"), _images(1)[0]
    pipe(image=x, seed=0)
    pipe.apply_batch(_images(3), seed=0)  # in halves
    assert seen and set(seen) == {1}
    assert (cv2.getNumThreads(), opencv_threads.holders()) == (2, 0)


@pytest.mark.usefixtures("striped")
@pytest.mark.parametrize(
    ("config", "dtype", "pinned"),
    [
        ({"fill_mode": "nearest"}, np.float32, True),
        ({"fill_mode": "constant", "cval": 40}, np.float32, True),
        ({"fill_mode": "reflect"}, np.float32, False),
        ({"fill_mode": "nearest", "interpolation_order": 0}, np.float32, False),
        ({"fill_mode": "nearest", "interpolation_order": 3}, np.float32, False),
        ({"fill_mode": "nearest"}, np.uint8, False),
    ],
)
def test_only_the_striped_warps_are_pinned(
    config: dict[str, Any], dtype: Any, pinned: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _recording_warps(monkeypatch)
    cv2.setNumThreads(2)
    pipe = confaug.load_pipeline({"version": 1, **KEYWORDS, **config})
    x = (_images(3) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    pipe(image=x[0], seed=0)
    pipe.apply_batch(x, seed=0)
    assert len(seen) >= 4 and set(seen) == {1 if pinned else 2}
    assert cv2.getNumThreads() == 2


@pytest.mark.usefixtures("striped")
def test_a_pinned_batch_still_goes_in_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The halves are decided from OpenCV's count before the batch pins it (it reads 1
    inside); a batch in a worker, which holds the pin already, is not split."""
    from confaug import opencv_threads

    helped = []
    real = batch_path._helper
    monkeypatch.setattr(batch_path, "_helper", lambda: helped.append(1) or real())
    cv2.setNumThreads(2)
    pipe, x = _pipeline("nearest"), _images(3)
    pipe.apply_batch(x, seed=0)
    assert len(helped) == 1
    with opencv_threads.one_thread():  # as a generator's worker threads hold it
        pipe.apply_batch(x, seed=0)
    assert len(helped) == 1


@pytest.mark.usefixtures("striped")
def test_no_pin_changes_opencvs_count_in_a_child_forked_unsafely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A child forked while OpenCV's pool had threads may block for ever in its first
    cv2.setNumThreads: there the warps leave the count alone."""
    from confaug import opencv_threads

    cv2.setNumThreads(2)
    monkeypatch.setattr(opencv_threads, "_forked_unsafely", True)
    calls: list[int] = []
    real = cv2.setNumThreads
    monkeypatch.setattr(cv2, "setNumThreads", lambda n: calls.append(n) or real(n))
    pipe = _pipeline("nearest")
    pipe(image=_images(1)[0], seed=0)
    pipe.apply_batch(_images(3), seed=0)
    assert calls == [] and opencv_threads.holders() == 0


def test_a_worker_process_keeps_one_thread_after_the_holders_leave() -> None:
    """one_thread_for_good (a worker process) while the pin is held: the last holder gives
    back 1, not the count it saved."""
    from confaug import opencv_threads

    cv2.setNumThreads(2)
    with opencv_threads.one_thread():
        opencv_threads.one_thread_for_good()
    assert cv2.getNumThreads() == 1


# ---- albumentations' own warps (the per-sample path pins them, compiler/pipeline.py) -----
ALBU_WARPS = [
    {"Affine": {"rotate": [-25, 25], "scale": [0.8, 1.2]}},
    {"Rotate": {"limit": 30, "border_mode": 0, "fill": 0.5}},
    {"Perspective": {"scale": [0.05, 0.1]}},
]


@pytest.mark.parametrize("step", ALBU_WARPS, ids=lambda step: next(iter(step)))
def test_albumentations_warps_give_the_bits_of_one_opencv_thread(step: dict) -> None:
    pipe = confaug.load_pipeline({"version": 1, "transforms": [step]})
    x = _images(1, seed=4)[0]
    seeds = range(6)
    one = _at(1, lambda: [pipe(image=x, seed=s)["image"] for s in seeds])
    assert _equal(_at(2, lambda: [pipe(image=x, seed=s)["image"] for s in seeds]), one)


def test_albumentations_warps_are_the_same_for_any_number_of_workers() -> None:
    pipe = confaug.load_pipeline({"version": 1, "transforms": [ALBU_WARPS[0]]})
    x = _images(4, seed=5)

    def epoch(workers: int) -> list[np.ndarray]:
        batches = pipe.flow(x, batch_size=2, seed=3, shuffle=False, epochs=1, workers=workers)
        return list(batches)

    alone = _at(2, lambda: epoch(0))
    assert _equal(_at(2, lambda: epoch(2)), alone)
    # uint16 images are worked on as float32: the same pin
    deep = (x * 65535).astype(np.uint16)
    assert _equal(
        _at(2, lambda: [pipe(image=deep[0], seed=s)["image"] for s in range(4)]),
        _at(1, lambda: [pipe(image=deep[0], seed=s)["image"] for s in range(4)]),
    )
