"""``AugmentedStream``: augment the batches of any iterable (the seed's ``create_aug_gen``).

Each incoming ``x``, ``(x, y)`` or ``(x, y, w)`` batch comes out with the same structure,
``x`` augmented sample by sample and passed through ``pipeline.standardize``. The pipeline
keeps dtype and value range (uint8 stays uint8, floats in [0, 1] or [0, 255] keep their
range), so no ×255/÷255 round trip is needed. Sample ``i`` of batch ``b`` in pass ``p`` is
seeded from ``(seed, p, b, i)``, so results do not depend on the workers.

With workers, upstream batches are read ahead of the ones being augmented, so the arrays of
each batch are copied as it is read (:func:`_snapshot`): a source that fills one buffer and
yields it again (``cv2.VideoCapture.read(frame)``, ring-buffer loaders) would otherwise have
its earlier batches overwritten while they wait. ``workers=0`` reads the next batch only after
the last one was augmented and handed on, as iterating the source directly does: no copies.

A re-iterable input (a list, a dataset object) gives a new pass per ``iter()``; a generator
gives one pass, as iterating it directly would. Upstream batches are read in the consumer's
thread, up to ``max_queue_size`` ahead of it.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from confaug.batching.loader import load_batch
from confaug.batching.protocol import SamplePipeline, data_format_of
from confaug.batching.runs import ClosableRuns
from confaug.batching.workers import WorkerMode, check_worker_options, ordered_map
from confaug.seeding import ITERABLE_STREAM, resolve_seed
from confaug.sources.errors import DataError
from confaug.sources.iterable import unpack_batch


@dataclass(frozen=True)
class _StreamTask:
    pass_number: int
    number: int
    batch: Any


class _StreamLoader:
    """Augments one upstream batch; picklable for process workers."""

    def __init__(self, pipeline: SamplePipeline, seed: int, masks_in_y: bool) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.masks_in_y = masks_in_y
        self.data_format = data_format_of(pipeline)

    def __call__(self, task: _StreamTask, should_stop: Any = None) -> Any:
        source, rest = unpack_batch(
            task.batch,
            task.number,
            masks_in_y=self.masks_in_y,
            data_format=self.data_format,
        )
        result = load_batch(
            source,
            self.pipeline,
            np.arange(len(source)),
            seed=self.seed,
            stream=(ITERABLE_STREAM, task.pass_number, task.number),
            should_stop=should_stop,
        )
        assert result.batch is not None  # on_error="raise": nothing is skipped
        if not rest:  # x alone, or (x,): the structure it came in
            return (result.batch.x,) if isinstance(task.batch, (tuple, list)) else result.batch.x
        if self.masks_in_y:
            rest = (result.batch.y, *rest[1:])
        return (result.batch.x, *rest)


def _not_sent(exc: BaseException) -> bool:
    """Whether ``exc`` is pickle's, raised sending a task to a process or its result back
    (the remote traceback the executor attaches ends in pickle's ``dumps``), not the
    loader's or the upstream iterable's own error."""
    if isinstance(exc, pickle.PicklingError):
        return True
    cause = exc.__cause__
    return (
        isinstance(exc, (TypeError, AttributeError))
        and type(cause).__name__ == "_RemoteTraceback"
        and "reduction.py" in str(cause)
        and "dumps" in str(cause)
    )


def _snapshot(value: Any) -> Any:
    """``value`` (a batch, or a part of one) with its arrays copied: NumPy arrays and
    memoryviews as new arrays, tensors by their ``clone()``, inside tuples, lists and dicts
    (rebuilt, so a list the source refills is not shared either). Anything else is kept as
    it is (numbers and strings cannot be refilled)."""
    if isinstance(value, np.ndarray):
        return np.array(value)  # a memmap too: a plain array, read now
    if isinstance(value, memoryview):
        return np.array(value)
    if type(value) in (tuple, list):
        return type(value)(_snapshot(part) for part in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return type(value)(*(_snapshot(part) for part in value))
    if isinstance(value, dict):
        copied = copy.copy(value)  # its own class (an OrderedDict, a defaultdict)
        for key, part in value.items():
            copied[key] = _snapshot(part)
        return copied
    clone = getattr(value, "clone", None)
    if callable(clone) and hasattr(value, "__array__"):  # a torch tensor
        return clone()
    return value


def _as_it_is(batch: Any) -> Any:
    return batch


class AugmentedStream(ClosableRuns):
    """Augmented batches of ``iterable``; see the module docstring for the guarantees.

    ``iter()`` starts a pass, ``next()`` continues one; ``close()`` (or ``with``) stops every
    running pass and its workers, leaving the upstream iterable open.
    """

    def __init__(
        self,
        pipeline: SamplePipeline,
        iterable: Iterable[Any],
        *,
        seed: int | None = None,
        masks_in_y: bool = False,
        workers: int = 0,
        worker_mode: WorkerMode = "thread",
        start_method: str = "spawn",
        max_queue_size: int = 10,
    ) -> None:
        check_worker_options(workers, worker_mode, max_queue_size, start_method)
        self.pipeline = pipeline
        self.iterable = iterable
        self.seed = resolve_seed(seed)
        self.workers = workers
        self.worker_mode: WorkerMode = worker_mode
        self.start_method = start_method
        self.max_queue_size = max_queue_size
        #: Passes started so far; pass ``p`` draws its augmentation from ``(seed, p, …)``.
        self.passes = 0
        self._loader = _StreamLoader(pipeline, self.seed, masks_in_y)
        super().__init__()

    def _start(self) -> Generator[Any, None, None]:
        pass_number, self.passes = self.passes, self.passes + 1
        # Called through the class: the run then holds the ``self`` it was started with (a
        # weak proxy for ``next()``'s run, see ClosableRuns.__next__), not a bound method's.
        return AugmentedStream._run(self, pass_number)

    def _run(self, pass_number: int) -> Generator[Any, None, None]:
        # With workers, read ahead: copied now, while the batch is the one the source
        # yielded (see the module docstring); a process worker is sent the copy, pickled
        # later. Without, each batch is augmented before the next is read: as it is.
        sendable = _snapshot if self.workers else _as_it_is
        tasks = (
            _StreamTask(pass_number, number, sendable(batch))
            for number, batch in enumerate(self.iterable)
        )
        results = ordered_map(
            self._loader,
            tasks,
            workers=self.workers,
            mode=self.worker_mode,
            max_queue_size=self.max_queue_size,
            start_method=self.start_method,
        )
        done = 0
        try:
            for _, output in results:
                yield output
                done += 1
        except Exception as exc:
            if self.worker_mode == "process" and _not_sent(exc):
                raise DataError(
                    f"batch {done} cannot be sent to a worker process or back ({exc}); use "
                    "worker_mode='thread', or batches of arrays and plain labels"
                ) from exc
            raise
        finally:
            results.close()
