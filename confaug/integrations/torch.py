"""PyTorch datasets over a confaug batch generator: tensors a torch model takes, a new epoch
on every pass, bitwise the same for any ``num_workers``.

Two views:

- ``to_torch(generator)`` — the generator's batches, an ``IterableDataset``:
  ``DataLoader(ds, batch_size=None, num_workers=2)``. Each pass is one epoch of the
  generator (its order, shuffle, ``rank``/``world_size`` shard and augmentation); worker
  ``w`` of ``W`` makes batches ``w, w + W, …`` and the DataLoader hands them on in order.
- ``to_torch(generator, samples=True)`` — single samples, a map-style ``Dataset`` for
  PyTorch's own batching and samplers: ``DataLoader(ds, batch_size=32,
  sampler=ds.sampler(), num_workers=2)``. ``ds.sampler()`` shuffles with the generator's
  seed and makes each pass a new epoch; ``ds.sampler(DistributedSampler(ds))`` wraps
  another sampler (and calls its ``set_epoch``). With a sampler that yields plain indices
  (``shuffle=True``), every pass serves the epoch ``set_epoch`` chose.

Epochs: pass ``k`` over the dataset serves epoch ``start + k`` (``start`` is the generator's
epoch, or ``epoch=``) in every worker, with or without ``persistent_workers``, forked or
spawned; a pass counts when its iterator is made, so two alive at once (``zip(dl, dl)``)
serve two whole epochs, one each (``confaug.integrations.torch_epochs``).
``ds.set_epoch(e)`` makes the next pass epoch ``e`` (the ``DistributedSampler`` habit keeps
working). An item's randomness comes
only from ``(seed, epoch, index)``, never torch's RNG.

What an item holds, by default (what ``nn.Conv2d`` and ``F.cross_entropy`` take): images as
``(N, C, H, W)`` float32 — uint8 divided by 255, the pipeline's own float output (rescaled or
standardized) kept; class indices (``class_mode="sparse"``, integer label arrays) and
single-channel integer masks as int64 (float masks keep their values); one-hot
(``categorical``) and ``binary`` labels as float32; weights as given.
``channels_first=False``, ``float32=False`` and ``int64_labels=False`` give the generator's
(Keras') layout instead. Per-sample targets come as a list of one tensor per sample, as
torchvision's detection models take them: ``(N_i, 4)`` float32 boxes (``(0, 4)`` for none),
``(N_i, 2)`` keypoints (the keypoint format's columns), ``(N_i,)`` int64 labels. Labels torch
cannot hold (text — pandas' text and category columns too — dates, dicts) are refused at
``as_torch()``.

In a DataLoader worker process OpenCV runs on one thread (set at the worker's first item), as
the workers already share the cores; the main process keeps its setting. Building a dataset
makes later forks of the process safe for OpenCV's thread pool (see
``confaug.opencv_threads.keep_usable_across_fork``).

PyTorch is imported when the first dataset is built, never when this module is imported.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from confaug.batching.collate import Batch, PerSample
from confaug.integrations.frameworks import classes_on_first_use, import_torch
from confaug.integrations.plan import GeneratorPlan
from confaug.integrations.torch_epochs import EpochClock, EpochKey, as_index, checked_epoch
from confaug.opencv_threads import keep_usable_across_fork, one_thread_for_good
from confaug.sources.errors import DataError

_CLASS_NAMES = ("TorchBatches", "TorchSamples", "EpochSampler")
_checked_pid = 0  # the process whose OpenCV thread count was last settled
_warned_pid = 0  # the process that warned about plain indices


class _Convert:
    """Batch parts to tensors in the layout chosen (see the module docstring)."""

    def __init__(
        self,
        *,
        channels_first: bool,
        float32: bool,
        int64_labels: bool,
        data_format: str,
        y_mode: str,
        class_mode: str | None,
        point_widths: dict[str, int] | None = None,
    ) -> None:
        self.move = channels_first and data_format != "channels_first"
        self.float32 = float32
        self.int64_labels = int64_labels
        self.y_mode = y_mode
        self.class_mode = class_mode
        #: Coordinates per row of each box/keypoint target (4, the keypoint format's
        #: letters): the shape ``(0, width)`` of a sample without any.
        self.point_widths = point_widths or {}

    def images(self, x: np.ndarray, batched: bool) -> Any:
        torch = import_torch()
        if self.move and x.ndim >= 3:
            x = np.moveaxis(x, -1, 1 if batched else 0)
        if self.float32:
            x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(x))

    def y(self, y: Any, batched: bool) -> Any:
        """A batch's (or a sample's) ``y`` by how it was made."""
        if y is None:
            return None
        if self.y_mode == "input":
            return self.images(y, batched)
        if self.y_mode == "mask":
            return self.value(self._mask(np.asarray(y), batched))
        if self.y_mode == "labels":
            return self.value(self._labels(y))
        if self.y_mode == "targets" and isinstance(y, dict):
            return {key: self._targets(key, value, batched) for key, value in y.items()}
        return self.value(y)

    def _targets(self, key: str, value: Any, batched: bool) -> Any:
        """One tensor per sample of a per-sample target (a list of them for a batch):
        ``(N_i, 4)`` boxes, ``(N_i, 2)`` keypoints, ``(N_i,)`` labels, as torchvision's
        detection models take them; the batch view recursed down to one 0-d tensor per
        coordinate."""
        entries = list(value) if batched else [value]
        try:
            arrays = [np.asarray(entry) for entry in entries]
        except ValueError:  # ragged rows within a sample: left as they are
            arrays = []
        if not arrays or any(array.dtype.kind not in "biuf" for array in arrays):
            # Text labels (class names) and other objects: as lists, as before.
            tensors = [self.value(entry) for entry in entries]
            return tensors if batched else tensors[0]
        filled = [array for array in arrays if array.size]
        width = filled[0].shape[1] if filled and filled[0].ndim == 2 else None
        width = width or self.point_widths.get(key)
        dtype = filled[0].dtype if filled else np.dtype(np.float64 if width else np.int64)
        torch = import_torch()
        tensors = []
        for array in arrays:
            if not array.size:  # np.asarray([]) is (0,) float64: no boxes, (0, 4)
                array = np.zeros((0, width) if width else (0,), dtype)
            if array.ndim >= 2 and self.float32:  # coordinates, as the images: float32
                array = array.astype(np.float32)
            elif array.dtype.kind in "iu" and self.int64_labels:  # class labels for the loss
                array = array.astype(np.int64)
            tensors.append(torch.from_numpy(np.ascontiguousarray(array)))
        return tensors if batched else tensors[0]

    def _labels(self, y: Any) -> Any:
        if isinstance(y, list):  # multi_output: one array per output
            return [self._labels(part) for part in y]
        if not self.int64_labels or not isinstance(y, (np.ndarray, np.generic)):
            return y
        if self.class_mode == "sparse" or (y.dtype.kind in "iu" and self.class_mode is None):
            return np.asarray(y).astype(np.int64)
        return y

    def _mask(self, mask: np.ndarray, batched: bool) -> np.ndarray:
        single = mask.ndim == (3 if batched else 2)  # (N, H, W): one class index per pixel
        if single:  # class indices as int64 for the loss; float masks keep their values
            integer = mask.dtype.kind in "iub"
            return mask.astype(np.int64) if self.int64_labels and integer else mask
        if self.move:
            mask = np.moveaxis(mask, -1, 1 if batched else 0)
        return mask

    def value(self, value: Any) -> Any:
        torch = import_torch()
        if value is None:
            return None
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                numeric = _numeric(value)  # a table column of numbers (lists per row)
                if numeric is None:
                    return [self.value(item) for item in value]
                value = numeric
            if not value.dtype.isnative:  # np.load of another machine's data: torch refuses it
                value = value.astype(value.dtype.newbyteorder("="))
            if not value.flags.c_contiguous:  # (ascontiguousarray would make a scalar 1-D)
                value = np.ascontiguousarray(value)
            return torch.from_numpy(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        if isinstance(value, (np.generic, int, float)):
            return torch.as_tensor(value)
        return value


_HINT = (
    "give numbers (class indices, or values.astype('int64') for dates), or iterate the "
    "generator itself"
)


def _numeric(values: np.ndarray) -> np.ndarray | None:
    """An object array of numbers as a numeric array (None when it holds anything else)."""
    if not all(_is_number(item) for item in values.flat):
        return None
    numeric = np.array(values.tolist())
    return numeric if numeric.dtype.kind in "biuf" else None


def _is_number(item: Any) -> bool:
    return isinstance(item, (bool, np.bool_, numbers.Real))


def _check_torch_values(source: Any) -> None:
    """A ``DataError`` at ``as_torch()`` for labels or weights torch cannot hold (dates,
    text, bytes, structured records, None entries), which failed inside torch at the first
    batch, or passed through as Python lists. Object arrays (every pandas text, category
    or date column, read by ``flow_from_dataframe(class_mode="raw")``) are checked entry by
    entry as NumPy strings are by dtype. Classification labels are class indices."""
    labels = getattr(source, "labels", None)  # a table's raw / multi_output columns
    parts = [
        ("y", getattr(source, "y", None)),
        ("sample_weight", getattr(source, "sample_weight", None)),
        *((f"y[{i}]", part) for i, part in enumerate(labels if isinstance(labels, list) else [])),
    ]
    if isinstance(labels, np.ndarray):
        parts.append(("y", labels))
    for key, values in parts:
        if not isinstance(values, np.ndarray):
            continue
        if values.dtype.kind in "MmSUV":
            raise DataError(
                f"{key} has dtype {values.dtype}, which a torch tensor cannot hold: {_HINT}"
            )
        if values.dtype == object:
            _check_objects(key, values)


def _check_objects(key: str, values: np.ndarray) -> None:
    """An object array of labels torch can hold: numbers only (not None, text, dates,
    dicts or lists, which came out as Python lists of them)."""
    missing = [index for index, item in enumerate(values.flat) if item is None]
    if missing:
        raise DataError(
            f"{key}[{missing[0]}] is None ({len(missing)} of {values.size} entries): "
            "a torch batch cannot hold a missing label"
        )
    for index, item in enumerate(values.flat):
        if _is_number(item):
            continue
        raise DataError(
            f"{key}[{index}] is {type(item).__name__} {item!r:.40} (dtype object), which a "
            f"torch tensor cannot hold: {_HINT}"
        )


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


def _worker() -> Any:
    """``torch.utils.data.get_worker_info()``: None in the main process."""
    return import_torch().utils.data.get_worker_info()


def _one_opencv_thread_in_workers() -> None:
    """In a DataLoader worker process, hold OpenCV at one thread (checked once per process)."""
    global _checked_pid
    pid = os.getpid()
    if pid == _checked_pid:
        return
    if _worker() is not None:
        one_thread_for_good()
    _checked_pid = pid


class _EpochItems:
    """What both views hold: the plan, the tensor conversion and the epoch clock."""

    #: One OpenCV thread in DataLoader worker processes (False keeps OpenCV's default there).
    one_opencv_thread_in_workers = True
    #: Whether a pass of DataLoader workers is counted when they start (see torch_epochs).
    _worker_passes = False

    def __init__(self, plan: GeneratorPlan, convert: _Convert, epoch: int) -> None:
        self.plan = plan
        self.convert = convert
        self.clock = EpochClock(epoch, worker_passes=self._worker_passes)
        keep_usable_across_fork()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        keep_usable_across_fork()

    @property
    def epoch(self) -> int:
        """The epoch the next pass serves (and that ``ds[i]`` reads)."""
        return self.clock.next_epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass epoch ``epoch`` (its order and augmentation), in every worker,
        persistent ones included; later passes count on from there."""
        self.clock.choose(checked_epoch(epoch))

    def _enter(self) -> None:
        """Called before an item is made."""
        if self.one_opencv_thread_in_workers:
            _one_opencv_thread_in_workers()

    def _batch_item(self, batch: Batch) -> Any:
        convert = self.convert
        return _output(
            convert.images(batch.x, batched=True),
            convert.y(batch.y, batched=True),
            convert.value(batch.w),
        )

    def _sample_item(self, batch: Batch) -> Any:
        convert = self.convert
        return _output(
            convert.images(batch.x[0], batched=False),
            convert.y(_pick(batch.y, 0), batched=False),
            convert.value(_pick(batch.w, 0)),
        )


def _batches_of_pass(items: Any, epoch: int, numbers: Iterable[int], count: bool) -> Iterator[Any]:
    """The items of one pass: batches ``numbers`` of ``epoch``; ``count``: the pass counts
    at its first batch (a persistent worker 0's later pass, see torch_epochs)."""
    for number in numbers:
        items._enter()
        if count:
            items.clock.started(epoch)
            count = False
        yield items._batch_item(items.plan.batch(epoch, number))


def _warn_plain_indices(clock: EpochClock) -> None:
    """Once per worker process: plain indices never move to a new epoch by themselves."""
    global _warned_pid
    if _warned_pid == os.getpid() or clock.chosen or _worker() is None:
        return
    _warned_pid = os.getpid()
    warnings.warn(
        "confaug: this DataLoader's sampler gives plain indices, so every pass serves epoch "
        f"{clock.next_epoch} (the same augmentation each time). Pass sampler=ds.sampler() "
        "(or ds.sampler(your_sampler)) for a new epoch each pass, or call ds.set_epoch(e).",
        stacklevel=3,
    )


def _build_classes() -> dict[str, type]:
    import_torch()  # the install command when PyTorch is missing
    from torch.utils.data import Dataset, IterableDataset, Sampler

    class TorchBatches(_EpochItems, IterableDataset):
        """The generator's batches, one epoch per pass (see the module docstring)."""

        _worker_passes = True

        def __len__(self) -> int:
            return self.plan.num_batches

        def __iter__(self) -> Iterator[Any]:
            worker = _worker()
            epoch, counted = self.clock.begin(worker)  # now, not at the first next()
            numbers = range(len(self))
            if worker is not None:  # worker w of W: batches w, w + W, ... (handed on in order)
                numbers = numbers[worker.id :: worker.num_workers]
            count = not counted and worker is not None and worker.id == 0
            return _batches_of_pass(self, epoch, numbers, count)

        def __getitem__(self, index: int) -> Any:
            """Batch ``index`` of :attr:`epoch` (the next pass's)."""
            if not 0 <= index < len(self):
                raise IndexError(f"batch {index} out of range; this dataset has {len(self)}")
            self._enter()
            return self._batch_item(self.plan.batch(self.epoch, index))

    class TorchSamples(_EpochItems, Dataset):
        """Sample ``i`` of the source, augmented for an epoch: item ``(epoch, i)`` as
        :meth:`sampler` yields them, or ``i`` for :attr:`epoch`."""

        def __len__(self) -> int:
            return len(self.plan.source)

        def __getitem__(self, key: Any) -> Any:
            epoch, index = as_index(key)
            if not 0 <= index < len(self):
                raise IndexError(f"sample {index} out of range; this dataset has {len(self)}")
            if epoch is None:
                _warn_plain_indices(self.clock)
                epoch = self.epoch
            self._enter()
            return self._sample_item(self.plan.sample(epoch, index))

        def sampler(self, base: Any = None) -> Any:
            """A sampler that makes each pass of the DataLoader a new epoch (see
            :class:`EpochSampler`). Its keys fit this dataset itself: for a subset, wrap
            the indices (``ds.sampler(SubsetRandomSampler(indices))``), not the dataset."""
            return EpochSampler(self, base)

    class EpochSampler(Sampler):
        """Yields ``(epoch, index)`` keys of a :class:`TorchSamples` dataset, a new epoch
        each time the DataLoader starts a pass (in the main process, so every worker
        agrees). The indices are ``base``'s — a ``DistributedSampler``, say, whose
        ``set_epoch`` it calls — or the source in the generator's order for that epoch
        (shuffled by its seed when it shuffles)."""

        def __init__(self, dataset: Any, base: Any = None) -> None:
            self.dataset = dataset
            self.base = base

        def __len__(self) -> int:
            return len(self.dataset) if self.base is None else len(self.base)

        def __iter__(self) -> Iterator[EpochKey]:
            epoch = self.dataset.clock.claim()
            if self.base is None:
                indices: Iterable[Any] = self.dataset.plan.sample_order(epoch)
            else:
                if callable(getattr(self.base, "set_epoch", None)):
                    self.base.set_epoch(epoch)
                indices = self.base
            for index in indices:
                yield EpochKey((epoch, int(index)))

    return {
        "TorchBatches": TorchBatches,
        "TorchSamples": TorchSamples,
        "EpochSampler": EpochSampler,
    }


# The classes are created on first use (importing torch then) and found here by pickle.
__getattr__ = classes_on_first_use(__name__, _CLASS_NAMES, _build_classes)


def _point_widths(pipeline: Any) -> dict[str, int]:
    """Coordinates per row of the pipeline's box and keypoint targets, by target name."""
    spec = getattr(pipeline, "spec", None)
    keypoints = getattr(spec, "keypoint_params", None) or {}
    widths = {"bboxes": 4, "keypoints": len(keypoints.get("format") or "xy")}
    for name, kind in (getattr(spec, "additional_targets", None) or {}).items():
        if kind in widths:
            widths[name] = widths[kind]
    return widths


def _class_mode(source: Any) -> str | None:
    """The Keras ``class_mode`` of a folder or table source's labels (None otherwise)."""
    return getattr(getattr(source, "label_encoder", None), "class_mode", None)


def to_torch(
    generator_or_source: Any,
    *,
    samples: bool = False,
    channels_first: bool = True,
    float32: bool = True,
    int64_labels: bool = True,
    epoch: int | None = None,
    pipeline: Any = None,
    seed: int | None = None,
) -> Any:
    """A PyTorch dataset over a ``BatchGenerator`` (see the module docstring).

    ``samples=False``: the generator's batches, an ``IterableDataset``
    (``DataLoader(ds, batch_size=None)``), with its ``on_error`` policy (a batch is shorter by
    its skipped files, each logged once per process and listed in ``ds.plan.skipped`` of the
    process that read it). ``samples=True``: single samples for PyTorch's batching and
    samplers (use ``sampler=ds.sampler()``); a bad file raises. ``channels_first``,
    ``float32`` and ``int64_labels`` (all True) choose the layout. ``epoch`` is the first
    pass's epoch (default: the generator's current one).

    A data source (``confaug.sources``: arrays, folder, table) with ``pipeline=`` and
    ``seed=`` gives the sample view directly.
    """
    generator = generator_or_source
    from confaug.keras.iterators import KerasIterator

    if isinstance(generator, KerasIterator):  # its own as_torch: it knows its labels
        return generator.as_torch(
            samples=samples,
            channels_first=channels_first,
            float32=float32,
            int64_labels=int64_labels,
            epoch=epoch,
        )
    if hasattr(generator, "load") and hasattr(generator, "describe"):
        if pipeline is None:
            raise TypeError("to_torch(source) needs pipeline= (a confaug Pipeline)")
        if not callable(pipeline) or not hasattr(pipeline, "standardize"):
            # A path, preset:NAME, mapping or Spec failed at the first item ("'str' object
            # is not callable"). Refused here rather than compiled: importing confaug.api
            # from this module closes an import cycle (generator -> torch -> api).
            raise TypeError(
                f"to_torch(source, pipeline=...) takes a compiled Pipeline, got "
                f"{type(pipeline).__name__}; compile it first: "
                f"pipeline=confaug.load_pipeline({pipeline!r:.60})"
            )
        from confaug.batching.generator import BatchGenerator

        generator = BatchGenerator(generator, pipeline, batch_size=1, shuffle=False, seed=seed)
        samples = True
    elif pipeline is not None or seed is not None:
        raise TypeError("pipeline= and seed= are for a source; a generator has its own")
    for name in ("source", "pipeline", "seed", "batch_size", "shuffle"):
        if not hasattr(generator, name):
            raise TypeError(f"to_torch needs a BatchGenerator (flow*, not wrap); got {generator!r}")
    plan = GeneratorPlan(generator)
    convert = _Convert(
        channels_first=channels_first,
        float32=float32,
        int64_labels=int64_labels,
        data_format=getattr(generator.pipeline, "data_format", "channels_last"),
        y_mode=getattr(plan.source, "y_mode", "labels"),
        class_mode=_class_mode(plan.source),
        point_widths=_point_widths(generator.pipeline),
    )
    if convert.y_mode == "labels" and convert.class_mode in (None, "raw", "multi_output"):
        _check_torch_values(plan.source)
    start = int(generator.epoch) if epoch is None else checked_epoch(epoch)
    name = "TorchSamples" if samples else "TorchBatches"
    cls = globals().get(name) or __getattr__(name)
    return cls(plan, convert, start)


__all__ = ["to_torch"]
