"""PyTorch datasets over a confaug batch generator, deterministic for any ``num_workers``.

Two views, both map-style ``torch.utils.data.Dataset`` objects:

- ``to_torch(generator)`` — item ``i`` is the generator's batch ``i`` (same order, shuffle,
  ``rank``/``world_size`` shard and augmentation as iterating the generator). Load it with
  ``DataLoader(ds, batch_size=None, num_workers=2)``.
- ``to_torch(generator, samples=True)`` — item ``i`` is sample ``i`` of the source, augmented
  exactly as the generator augments it; PyTorch batches, shuffles and shards it
  (``DataLoader(ds, batch_size=32, shuffle=True, num_workers=2)``, ``DistributedSampler``).

Either way an item's randomness comes only from ``(seed, epoch, index)``, so results are
bitwise identical for ``num_workers`` 0, 1, 2, … . Call ``ds.set_epoch(epoch)`` before each
epoch, as with ``DistributedSampler``; worker processes copy the dataset when an iterator
starts, so ``persistent_workers=True`` would keep serving the epoch they started with.

In a DataLoader worker process OpenCV runs on one thread (set at the worker's first item), as
the workers already share the cores; the main process keeps its setting. Building a dataset
makes later forks of the process safe for OpenCV's thread pool (see
``confaug.batching.workers.keep_opencv_usable_across_fork``): the ``fork`` workers of a
process that has used OpenCV could otherwise hang when they change its thread count.

PyTorch is imported when the first dataset is built, never when this module is imported.
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from confaug.batching.collate import Batch, PerSample
from confaug.batching.loader import BatchLoader, OnError, SkipLog, Task, require_batch
from confaug.batching.order import RankOrder
from confaug.batching.workers import keep_opencv_usable_across_fork

_CLASS_NAMES = ("TorchBatches", "TorchSamples")
_checked_pid = 0  # the process whose OpenCV thread count was last settled


class _Plan:
    """What an item needs, without the generator's threads and locks (so it pickles)."""

    def __init__(self, generator: Any) -> None:
        self.source = generator.source
        self.pipeline = generator.pipeline
        self.seed = int(generator.seed)
        self.batch_size = int(generator.batch_size)
        self.order = RankOrder(
            len(self.source),
            self.seed,
            bool(generator.shuffle),
            int(getattr(generator, "rank", 0)),
            int(getattr(generator, "world_size", 1)),
            even=bool(getattr(generator, "even_shards", False)),
        )
        on_error: OnError = getattr(generator, "on_error", "raise")
        self.num_batches = len(generator)
        #: Loaders as the generator's: for the batch view, and for samples (never skipped).
        self.batches = BatchLoader(self.source, self.pipeline, self.seed, on_error)
        self.samples = BatchLoader(self.source, self.pipeline, self.seed, "raise")
        self._skips = SkipLog()

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """``(path, reason)`` of the files this process skipped (each logged once)."""
        return self._skips.entries

    def batch(self, epoch: int, number: int) -> Batch:
        """Batch ``number`` of ``epoch``, as the generator's ``[number]``; skipped files are
        recorded in :attr:`skipped`."""
        indices = self.order.batch(epoch, number, self.batch_size)
        result = self.batches(Task(epoch, number, False, indices))
        self._skips.add(result.skipped)
        return require_batch(result, number)

    def sample(self, epoch: int, index: int) -> Batch:
        """Sample ``index`` of the source, augmented for ``epoch``, as a batch of one."""
        return require_batch(self.samples(Task(epoch, index, False, np.asarray([index]))), index)


class _Convert:
    """Batch parts to tensors: images optionally CHW and float32 in [0, 1]."""

    def __init__(self, channels_first: bool, data_format: str, float32: bool) -> None:
        self.move = channels_first and data_format != "channels_first"
        self.float32 = float32

    def images(self, x: np.ndarray, batched: bool) -> Any:
        import torch

        if self.move and x.ndim >= 3:
            x = np.moveaxis(x, -1, 1 if batched else 0)
        if self.float32:
            x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(x))

    def value(self, value: Any) -> Any:
        import torch

        if value is None:
            return None
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                return [self.value(item) for item in value]
            return torch.from_numpy(np.ascontiguousarray(value))
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        if isinstance(value, (np.generic, int, float)):
            return torch.as_tensor(value)
        return value


def _pick(value: Any, row: int) -> Any:
    """Row ``row`` of a batch's ``y`` or ``w`` (arrays, lists of arrays, dicts, PerSample)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: _pick(item, row) for key, item in value.items()}
    if isinstance(value, PerSample):
        return np.asarray(value[row])
    if isinstance(value, list):
        return [_pick(item, row) for item in value]
    return value[row]


def _output(x: Any, y: Any, w: Any) -> Any:
    if y is None:
        return x
    return (x, y) if w is None else (x, y, w)


def _one_opencv_thread_in_workers() -> None:
    """In a DataLoader worker process, hold OpenCV at one thread (checked once per process)."""
    global _checked_pid
    pid = os.getpid()
    if pid == _checked_pid:
        return
    from torch.utils.data import get_worker_info

    if get_worker_info() is not None and cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)
    _checked_pid = pid


class _EpochItems:
    """What both dataset views hold: the plan, the tensor conversion and the epoch served."""

    #: One OpenCV thread in DataLoader worker processes (False keeps OpenCV's default there).
    one_opencv_thread_in_workers = True

    def __init__(self, plan: _Plan, convert: _Convert, epoch: int) -> None:
        self.plan = plan
        self.convert = convert
        self.epoch = epoch
        keep_opencv_usable_across_fork()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        keep_opencv_usable_across_fork()

    def set_epoch(self, epoch: int) -> None:
        """Serve epoch ``epoch`` (its order and augmentation) from now on."""
        self.epoch = int(epoch)

    def _enter(self) -> None:
        """Called first by ``__getitem__``."""
        if self.one_opencv_thread_in_workers:
            _one_opencv_thread_in_workers()


def _build_classes() -> dict[str, type]:
    from torch.utils.data import Dataset

    class TorchBatches(_EpochItems, Dataset):
        """Item ``i``: batch ``i`` of the generator's epoch ``epoch`` (see the module doc)."""

        def __len__(self) -> int:
            return self.plan.num_batches

        def __getitem__(self, index: int) -> Any:
            if not 0 <= index < len(self):
                raise IndexError(f"batch {index} out of range; this dataset has {len(self)}")
            self._enter()
            batch = self.plan.batch(self.epoch, index)
            return _output(
                self.convert.images(batch.x, batched=True),
                self.convert.value(batch.y),
                self.convert.value(batch.w),
            )

    class TorchSamples(_EpochItems, Dataset):
        """Item ``i``: sample ``i`` of the source, augmented for epoch ``epoch``."""

        def __len__(self) -> int:
            return len(self.plan.source)

        def __getitem__(self, index: int) -> Any:
            if not 0 <= index < len(self):
                raise IndexError(f"sample {index} out of range; this dataset has {len(self)}")
            self._enter()
            batch = self.plan.sample(self.epoch, index)
            return _output(
                self.convert.images(batch.x[0], batched=False),
                self.convert.value(_pick(batch.y, 0)),
                self.convert.value(_pick(batch.w, 0)),
            )

    classes: dict[str, type] = {"TorchBatches": TorchBatches, "TorchSamples": TorchSamples}
    for name, cls in classes.items():
        cls.__module__ = __name__
        cls.__qualname__ = name
    return classes


def __getattr__(name: str) -> Any:
    # The classes are created on first use (importing torch then) and found here by pickle.
    if name in _CLASS_NAMES:
        globals().update(_build_classes())
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_torch(
    generator_or_source: Any,
    *,
    samples: bool = False,
    channels_first: bool = False,
    float32: bool = False,
    epoch: int | None = None,
    pipeline: Any = None,
    seed: int | None = None,
) -> Any:
    """A ``torch.utils.data.Dataset`` over a ``BatchGenerator`` (see the module docstring).

    ``samples=False``: items are the generator's batches (``DataLoader(ds, batch_size=None)``),
    with its ``on_error`` policy (a batch is shorter by its skipped files, each logged once per
    process and listed in ``ds.plan.skipped`` of the process that read it).
    ``samples=True``: items are single samples, for PyTorch's own batching and samplers; a bad
    file raises. ``channels_first`` gives images as ``(C, H, W)``; ``float32`` converts them to
    float32 (uint8 divided by 255, floats kept in their range) — both together match
    torchvision's ``ToTensor``. ``epoch`` defaults to the generator's current epoch.
    Images, labels and weights come as tensors; per-sample targets (bboxes, …) as lists.

    A data source (``confaug.sources``: arrays, folder, table) with ``pipeline=`` and
    ``seed=`` gives the sample view directly.
    """
    generator = generator_or_source
    if hasattr(generator, "load") and hasattr(generator, "describe"):
        if pipeline is None:
            raise TypeError("to_torch(source) needs pipeline= (a confaug Pipeline)")
        from confaug.batching.generator import BatchGenerator

        generator = BatchGenerator(generator, pipeline, batch_size=1, shuffle=False, seed=seed)
        samples = True
    elif pipeline is not None or seed is not None:
        raise TypeError("pipeline= and seed= are for a source; a generator has its own")
    for name in ("source", "pipeline", "seed", "batch_size", "shuffle"):
        if not hasattr(generator, name):
            raise TypeError(f"to_torch needs a BatchGenerator (flow*, not wrap); got {generator!r}")
    plan = _Plan(generator)
    data_format = getattr(generator.pipeline, "data_format", "channels_last")
    convert = _Convert(channels_first, data_format, float32)
    start = int(generator.epoch if epoch is None else epoch)
    name = "TorchSamples" if samples else "TorchBatches"
    cls = globals().get(name) or __getattr__(name)
    return cls(plan, convert, start)


__all__ = ["to_torch"]
