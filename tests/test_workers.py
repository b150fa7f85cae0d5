"""Workers: identical batches for any worker count or kind, bounded prefetch, prompt
shutdown (break, close, garbage collection, Ctrl-C), errors that keep their traceback, and
forked workers that do not hang on OpenCV's thread pool.

"Prompt" is checked by counting work, never by timing it: worker threads may finish the
sample they are on when the run stops, so at most one sample per thread starts after the
stop (see :class:`Watch`); worker processes are terminated, so a sample that would take
forever never completes. Waits for threads and processes to be gone fail only past a
generous timeout (helpers.HANG_TIMEOUT), which only a hang reaches.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from confaug.batching import SampleError, WorkerProcessDied, flow, flow_from_directory, wrap
from confaug.batching import workers as worker_pools
from confaug.sources import DataError
from tests.helpers import (
    StandInPipeline,
    batches_equal,
    images,
    marked_images,
    run_python,
    wait_until,
    write_class_folders,
)

_RUN = threading.local()  # in a worker thread: the should_stop of the run it works for


class Watch:
    """Watches the worker threads of a run (``workers._threaded``): the tasks taken from the
    run, and the run's stop flag, which the loader checks before each sample (the documented
    ``loader(task, should_stop)`` call). The flag is published to the worker thread, so that
    a pipeline can tell a sample that started after the stop (see SlowPipeline).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tasks_taken = 0
        self.should_stop: Callable[[], bool] | None = None  # of the latest run
        threaded = worker_pools._threaded

        def watched(loader: Any, tasks: Iterator[Any], *args: Any) -> Iterator[Any]:
            return threaded(_Published(loader, self), self._taking(tasks), *args)

        monkeypatch.setattr(worker_pools, "_threaded", watched)

    def _taking(self, tasks: Iterator[Any]) -> Iterator[Any]:
        for task in tasks:
            self.tasks_taken += 1
            yield task


class _Published:
    """A loader that makes its run's ``should_stop`` visible to the pipeline it calls."""

    def __init__(self, loader: Any, watch: Watch) -> None:
        self.loader = loader
        self.watch = watch

    def __call__(self, task: Any, should_stop: Callable[[], bool] | None = None) -> Any:
        self.watch.should_stop = _RUN.should_stop = should_stop
        try:
            return self.loader(task, should_stop)
        finally:
            _RUN.should_stop = None


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    return Watch(monkeypatch)


class SlowPipeline:
    """Sleeps per sample (releasing the GIL like OpenCV does) and counts its calls.

    Under a :class:`Watch`, ``after_stop`` counts the samples started once the run had raised
    its stop flag, and ``watched`` those that could tell (so a test knows the watch was on).
    """

    data_format = "channels_last"

    def __init__(self, delay: float = 0.02, fail_at: int | None = None) -> None:
        self.delay = delay
        self.fail_at = fail_at
        self.calls = self.after_stop = self.watched = 0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"delay": self.delay, "fail_at": self.fail_at, "calls": 0, "after_stop": 0}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, watched=0)
        self._lock = threading.Lock()

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        should_stop = getattr(_RUN, "should_stop", None)
        with self._lock:
            self.calls += 1
            if should_stop is not None:
                self.watched += 1
                self.after_stop += should_stop()
        time.sleep(self.delay)
        if self.fail_at is not None and int(data["image"][0, 0, 0]) == self.fail_at:
            explode_on_purpose(self.fail_at)
        return data

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        return batch


def explode_on_purpose(value: int) -> None:
    raise ZeroDivisionError(f"sample with marker {value} is poisoned")


def confaug_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("confaug-worker")]


def no_threads_left() -> None:
    wait_until(lambda: not confaug_threads(), "confaug worker threads still running")


def no_processes_left() -> None:
    wait_until(lambda: not multiprocessing.active_children(), "worker processes still alive")


def stopped_promptly(pipeline: SlowPipeline, watch: Watch, workers: int) -> None:
    """The run raised its stop flag, and at most one sample per worker thread started after
    it: a thread may have passed its check just before the flag went up, and checks again
    before its next sample. A pool that kept going would start every queued sample."""
    no_threads_left()
    assert pipeline.watched > 0, "the watch saw no sample: does workers._threaded still run?"
    assert watch.should_stop is not None and watch.should_stop(), "the run was never stopped"
    assert pipeline.after_stop <= workers, (pipeline.after_stop, pipeline.calls)


@pytest.fixture(scope="module")
def pipeline() -> StandInPipeline:
    return StandInPipeline()


def test_batches_are_identical_for_0_1_2_4_threads(pipeline: StandInPipeline) -> None:
    x, y = images(37), np.arange(37)
    runs = [
        list(flow(pipeline, x, y, batch_size=5, seed=11, epochs=2, workers=workers))
        for workers in (0, 1, 2, 4)
    ]
    assert len(runs[0]) == 16
    for other in runs[1:]:
        assert batches_equal(runs[0], other)


@pytest.mark.parametrize("count", [40, 37])
def test_the_runs_last_batch_is_shared_by_the_workers_and_joined(
    pipeline: StandInPipeline, count: int
) -> None:
    """Split so no worker idles through it alone; the caller still sees whole batches."""
    x, y = images(count), np.arange(count)
    inline = list(flow(pipeline, x, y, batch_size=8, seed=4, epochs=2))
    generator = flow(pipeline, x, y, batch_size=8, seed=4, epochs=2, workers=3)
    tasks = list(generator._tasks(range(2)))
    assert [len(task.indices) for task in tasks[-3:]] == ([3, 3, 2] if count == 40 else [2, 2, 1])
    assert [task.last for task in tasks[-3:]] == [False, False, True]
    threaded = list(generator)
    assert batches_equal(inline, threaded)
    assert [len(batch) for batch, _ in threaded][-5:] == [8] * 4 + [8 if count == 40 else 5]


def test_batches_are_identical_in_worker_processes(pipeline: StandInPipeline) -> None:
    x, y = images(20), np.arange(20)
    inline = list(flow(pipeline, x, y, batch_size=6, seed=5, epochs=2))
    in_processes = list(
        flow(pipeline, x, y, batch_size=6, seed=5, epochs=2, workers=2, worker_mode="process")
    )
    assert batches_equal(inline, in_processes)
    no_processes_left()


def test_directory_batches_with_skips_are_identical_across_workers(tmp_path: Path) -> None:
    write_class_folders(tmp_path, {"a": 9, "b": 8})
    (tmp_path / "a" / "img003.png").write_bytes(b"")
    (tmp_path / "b" / "img012.png").write_bytes(b"garbage")
    runs = []
    for workers in (0, 2, 4):
        generator = flow_from_directory(
            StandInPipeline(),
            tmp_path,
            target_size=(12, 12),
            batch_size=4,
            seed=2,
            epochs=2,
            workers=workers,
            on_error="skip",
        )
        runs.append(list(generator))
        assert len(generator.skipped) == 2
    assert batches_equal(runs[0], runs[1]) and batches_equal(runs[0], runs[2])
    assert [len(x) for x, _ in runs[0]] == [4, 4, 4, 3] * 2


def test_wrap_is_identical_across_workers(pipeline: StandInPipeline) -> None:
    batches = [(images(4, seed=s), np.arange(4)) for s in range(5)]
    runs = [list(wrap(pipeline, batches, seed=3, workers=w)) for w in (0, 2)]
    assert batches_equal(runs[0], runs[1])


def test_breaking_out_of_a_loop_stops_the_threads_and_restores_opencv(watch: Watch) -> None:
    threads_before = cv2.getNumThreads()
    slow = SlowPipeline()
    generator = flow(slow, marked_images(64), batch_size=4, workers=3)
    for _ in generator:
        assert cv2.getNumThreads() == 1
        break
    stopped_promptly(slow, watch, workers=3)
    assert cv2.getNumThreads() == threads_before


def test_breaking_out_of_a_wrapped_stream_stops_its_threads(watch: Watch) -> None:
    batches = ((marked_images(8), np.arange(8)) for _ in range(100))
    slow = SlowPipeline()
    for _ in wrap(slow, batches, workers=2):
        assert confaug_threads()
        break
    stopped_promptly(slow, watch, workers=2)


def test_close_and_garbage_collection_stop_the_threads(watch: Watch) -> None:
    closed = SlowPipeline()
    generator = flow(closed, marked_images(64), batch_size=4, workers=2)
    next(generator)
    assert confaug_threads()
    generator.close()
    stopped_promptly(closed, watch, workers=2)
    collected = SlowPipeline()
    iterator = iter(flow(collected, marked_images(64), batch_size=4, workers=2))
    next(iterator)
    del iterator
    gc.collect()
    stopped_promptly(collected, watch, workers=2)


BLOCKED = 60.0  # far longer than a worker can take to be stopped, even on a slow machine


class BlocksInWorkers:
    """Passes samples through, except that the first of each batch after the first (markers
    4, 8, … with batches of 4) blocks its worker for BLOCKED seconds, then notes in
    ``done_file`` that it completed."""

    data_format = "channels_last"

    def __init__(self, done_file: Path) -> None:
        self.done_file = str(done_file)

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        marker = int(data["image"][0, 0, 0])
        if marker >= 4 and marker % 4 == 0:
            time.sleep(BLOCKED)
            with open(self.done_file, "a") as done:
                done.write(f"{marker}\n")
        return data

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        return batch


def test_breaking_out_stops_worker_processes_and_their_threads(tmp_path: Path) -> None:
    # Once the first batch is out, both workers are stuck in samples that never end on their
    # own: only terminating the processes lets the loop end, and no such sample may complete.
    # If closing waited for the workers instead, the blocked samples would complete (after
    # BLOCKED seconds) and be counted.
    done = tmp_path / "done.txt"
    generator = flow(
        BlocksInWorkers(done),
        marked_images(12),
        batch_size=4,
        shuffle=False,
        workers=2,
        max_queue_size=1,
        worker_mode="process",
    )
    for _ in generator:
        assert multiprocessing.active_children() and _pool_threads()
        break
    no_processes_left()
    wait_until(lambda: not _pool_threads(), "process pool threads still running")
    assert not done.exists(), f"samples completed after the stop: {done.read_text().split()}"


def _pool_threads() -> list[threading.Thread]:
    """The helper threads of a process pool (result manager, queue feeder)."""
    names = ("_ExecutorManagerThread", "QueueFeederThread")
    return [t for t in threading.enumerate() if type(t).__name__ in names or t.name in names]


class PressesCtrlC(SlowPipeline):
    """Presses Ctrl-C (SIGINT to this process) as its first sample starts: an interrupt in
    mid-run, never before the loop has started (as a timer could on a busy machine)."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.pressed = False

    def __call__(self, **data: Any) -> dict[str, Any]:
        with self._lock:
            press, self.pressed = not self.pressed, True
        if press:
            os.kill(os.getpid(), signal.SIGINT)
        return super().__call__(**data)


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_stops_everything_promptly(watch: Watch) -> None:
    # 64 samples of 0.2 s each are queued; after Ctrl-C at most one per thread may start.
    slow = PressesCtrlC(delay=0.2)
    generator = flow(slow, marked_images(64), batch_size=8, workers=2)
    with pytest.raises(KeyboardInterrupt):
        for _ in generator:
            pass
    stopped_promptly(slow, watch, workers=2)


def test_prefetch_is_bounded_by_max_queue_size(watch: Watch) -> None:
    # Tasks are taken from the run only in the consumer's thread: after one next(), the
    # one consumed plus max_queue_size ahead, however long the workers then run.
    slow = SlowPipeline(delay=0.001)
    iterator = iter(flow(slow, marked_images(200), batch_size=2, workers=2, max_queue_size=3))
    next(iterator)
    assert watch.tasks_taken == 3 + 1
    wait_until(lambda: slow.calls == watch.tasks_taken * 2, "the prefetched batches never ran")
    assert slow.calls <= (3 + 1) * 2
    assert watch.tasks_taken == 3 + 1
    iterator.close()


@pytest.mark.parametrize("workers", [0, 2])
def test_worker_errors_keep_their_traceback_and_name_the_sample(workers: int, watch: Watch) -> None:
    slow = SlowPipeline(delay=0, fail_at=13)
    generator = flow(
        slow,
        marked_images(30),
        batch_size=4,
        shuffle=False,
        workers=workers,
    )
    with pytest.raises(SampleError, match=r"x\[13\].*ZeroDivisionError.*poisoned") as caught:
        list(generator)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    frames = traceback.extract_tb(caught.value.__cause__.__traceback__)
    assert frames[-1].name == "explode_on_purpose"
    no_threads_left()
    assert slow.after_stop <= workers


def test_worker_process_errors_carry_the_remote_traceback() -> None:
    generator = flow(
        SlowPipeline(delay=0, fail_at=5),
        marked_images(12),
        batch_size=4,
        shuffle=False,
        workers=2,
        worker_mode="process",
    )
    with pytest.raises(SampleError, match=r"x\[5\]") as caught:
        list(generator)
    assert "explode_on_purpose" in str(caught.value.__cause__)
    no_processes_left()


def test_decode_errors_in_threads_name_the_file(tmp_path: Path) -> None:
    write_class_folders(tmp_path, {"a": 8})
    (tmp_path / "a" / "img005.png").write_bytes(b"GIF89a broken")
    generator = flow_from_directory(
        StandInPipeline(), tmp_path, target_size=(12, 12), batch_size=2, workers=2
    )
    with pytest.raises(DataError, match=r"img005\.png"):
        list(generator)


FORK_SCRIPT = """
import os, sys
import multiprocessing
import cv2
import numpy as np
from confaug.batching import flow
from confaug.opencv_threads import keep_usable_across_fork


class ThreadCount:
    \"\"\"Warps a 400x400 image, then writes its process's OpenCV thread count at (0, 0, 1).\"\"\"

    data_format = "channels_last"

    def __call__(self, *, seed=None, **data):
        cv2.warpAffine(np.zeros((400, 400, 3), np.uint8), np.eye(2, 3), (400, 400))
        image = data["image"].copy()
        image[0, 0, 1] = cv2.getNumThreads()
        return {**data, "image": image}

    def standardize(self, batch):
        return batch


def threads():
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None


def child(answer):
    inherited = cv2.getNumThreads()
    cv2.setNumThreads(1)
    answer.put((inherited, cv2.getNumThreads()))


if __name__ == "__main__":
    cv2.setNumThreads(2)  # a pool with a worker thread, whatever the number of cores
    before = threads()
    image = np.random.default_rng(0).integers(0, 256, (400, 400, 3), np.uint8)
    cv2.warpAffine(image, cv2.getRotationMatrix2D((200, 200), 10, 1.0), (400, 400))
    assert before is None or threads() > before, "OpenCV's pool did not start a thread"
    if sys.argv[1] == "hooks":  # any fork, once the hooks are registered
        keep_usable_across_fork()
        fork = multiprocessing.get_context("fork")
        answer = fork.SimpleQueue()
        process = fork.Process(target=child, args=(answer,))
        process.start()
        process.join()
        assert process.exitcode == 0 and answer.get() == (2, 1), process.exitcode
        assert cv2.getNumThreads() == 2, cv2.getNumThreads()
        print("ok")
        sys.exit()
    x = np.zeros((12, 8, 8, 3), np.uint8)
    x[:, 0, 0, 0] = np.arange(12)
    generator = flow(ThreadCount(), x, np.arange(12), batch_size=4, shuffle=False, epochs=1,
                     workers=2, worker_mode="process", start_method=sys.argv[1])
    batches = []
    for batch in generator:  # the parent's OpenCV is pinned only until the workers exist
        assert cv2.getNumThreads() == 2, ("parent pinned while workers run", cv2.getNumThreads())
        batches.append(batch[0])
    seen = np.concatenate(batches)
    assert seen[:, 0, 0, 0].tolist() == list(range(12)), seen[:, 0, 0, 0]
    assert set(seen[:, 0, 0, 1].tolist()) == {1}, seen[:, 0, 0, 1]  # one thread per worker
    assert cv2.getNumThreads() == 2, cv2.getNumThreads()  # the parent's setting is back
    print("ok")
"""


@pytest.mark.parametrize("start_method", ["fork", "forkserver", "hooks"])
def test_forked_workers_do_not_hang_after_the_parent_used_opencv_threads(
    start_method: str, tmp_path: Path
) -> None:
    # The child of a fork inherits OpenCV's thread pool without its threads; changing the
    # thread count there used to block for ever. "hooks": a plain fork after
    # keep_usable_across_fork(). A subprocess keeps a regression from hanging the suite.
    method = "fork" if start_method == "hooks" else start_method
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"start method {method!r} is not available on this platform")
    script = tmp_path / "fork_after_opencv.py"
    script.write_text(FORK_SCRIPT, encoding="utf-8")
    what = f"{start_method} workers after the parent used OpenCV"
    done = run_python(script, start_method, what=what)  # killed with its workers on a hang
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout


class DiesInWorker(StandInPipeline):
    """Ends its process abruptly when called anywhere but in the process that made it."""

    def __init__(self) -> None:
        super().__init__()
        self.parent = os.getpid()

    def __call__(self, **kwargs: Any) -> Any:
        if os.getpid() != self.parent:
            os._exit(3)
        return super().__call__(**kwargs)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_dead_worker_process_is_reported_clearly_and_nothing_is_left() -> None:
    generator = flow(
        DiesInWorker(),
        images(12),
        batch_size=4,
        epochs=1,
        workers=2,
        worker_mode="process",
        start_method="fork",
    )
    with pytest.raises(
        WorkerProcessDied, match=r"ended without returning batch \d+ of epoch 0"
    ) as err:
        list(generator)
    assert "out of memory" in str(err.value) and "__main__" not in str(err.value)
    no_processes_left()
