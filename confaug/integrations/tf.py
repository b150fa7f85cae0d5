"""A ``tf.data.Dataset`` over a confaug batch generator, with an explicit output signature.

    ds = generator.as_tf()          # one epoch per pass; ds.repeat() for more
    model.fit(ds, epochs=10)

The signature is derived from the generator's first batch: ``x``, ``y`` and ``w`` keep their
dtypes and per-sample shapes, the batch dimension is ``None`` (the last batch may be short).
Each pass over the dataset is one epoch of the generator — batch ``i`` is ``generator[i]`` —
and a pass that has produced a batch moves the generator to its next epoch, whether it
completes or stops early: so a custom loop ``for epoch in range(3): for b in
ds.take(steps): ...`` sees the next epoch each time, as with ``as_torch()``, and not the
same first batches again. A pass that produced no batch does not count: tf.data may start
a pass's generator and drop it before any batch, and that must not skip an epoch.
(``as_torch()`` counts a pass when its iterator is made, as DataLoader workers run ahead of
the batches taken.) A peek at one batch (``next(iter(ds))``) is a pass too, and moves the
generator on. With ``workers`` > 0 on the generator, batches are computed ahead in that
many threads, in order.

TensorFlow is imported when the dataset is built, never when this module is imported.
"""

from __future__ import annotations

import numbers
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from confaug.batching.collate import PerSample
from confaug.integrations.frameworks import import_tensorflow
from confaug.sources.errors import DataError


@dataclass(frozen=True)
class Leaf:
    """One tensor of the signature: ``shape`` (None where it varies) and NumPy ``dtype``."""

    shape: tuple[int | None, ...]
    dtype: np.dtype[Any]


def describe(batch: Any, where: str = "") -> Any:
    """The structure of ``batch`` with each array replaced by its :class:`Leaf`.

    Tuples and lists become tuples, dicts keep their keys; the first (batch) dimension is
    None. Text (NumPy strings, or an object array of ``str`` as pandas keeps text) becomes
    ``tf.string``. Per-sample targets of varying length (bboxes, keypoints) have no fixed
    shape and raise TypeError; other values tf.data cannot carry (dates, dicts, lists per
    sample) raise DataError. ``where`` names the part in those messages (``x``/``y``/``w``
    at the top of an ``(x, y[, w])`` batch).
    """
    if isinstance(batch, PerSample):
        raise TypeError(
            f"as_tf(): {where.strip() or 'y'} holds per-sample targets (bboxes, keypoints, or "
            "their labels: a different count per image), which have no fixed tf.data "
            "signature; iterate the generator itself, use as_keras() with your own "
            "train_step, or as_torch() (a list of per-sample tensors)"
        )
    if isinstance(batch, dict):
        return {key: describe(value, f"{where or ' y'}[{key!r}]") for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        names = ("x", "y", "w") if not where and len(batch) <= 3 else None
        return tuple(
            describe(value, f" {names[index]}" if names else f"{where}[{index}]")
            for index, value in enumerate(batch)
        )
    array = np.asarray(batch)
    if array.dtype == object:
        array = _text_or_refuse(array, where)
    elif array.dtype.kind in "MmV":
        raise DataError(
            f"as_tf():{where or ' a batch part'} has dtype {array.dtype}, which tf.data "
            "cannot carry: give numbers (values.astype('int64') for dates), or iterate "
            "the generator itself"
        )
    if array.ndim == 0:
        raise TypeError(
            f"as_tf():{where or ' a batch part'} is a scalar; expected arrays with a batch "
            "dimension"
        )
    return Leaf((None, *array.shape[1:]), array.dtype)


def _text_or_refuse(array: np.ndarray, where: str) -> np.ndarray:
    """An object array of text (pandas keeps text columns so) as a NumPy string array,
    which becomes ``tf.string`` as ``<U`` labels do; other objects refused in our words
    (TensorFlow's "cannot describe" named neither the part nor a fix)."""
    if array.size and all(isinstance(item, numbers.Real) for item in array.flat):
        numeric = np.array(array.tolist())  # numbers per row (a table's list column)
        if numeric.dtype.kind in "biuf":
            return numeric
    for item in array.flat:
        if not isinstance(item, (str, bytes)):
            raise DataError(
                f"as_tf():{where or ' a batch part'} holds {type(item).__name__} values "
                f"(dtype object), which tf.data cannot carry: give numbers (class indices, "
                "or one column per number), text, or iterate the generator itself"
            )
    return array.astype(bytes if array.size and isinstance(array.flat[0], bytes) else str)


def as_structure(batch: Any) -> Any:
    """``batch`` with lists turned into tuples, as :func:`describe` shapes it (per-sample
    targets kept: :func:`describe` refuses them by their type)."""
    if isinstance(batch, dict):
        return {key: as_structure(value) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)) and not isinstance(batch, PerSample):
        return tuple(as_structure(value) for value in batch)
    return batch


def output_signature(batch: Any) -> Any:
    """The ``tf.TensorSpec`` structure for batches shaped like ``batch``."""
    return _signature(describe(batch))


def _signature(leaves: Any) -> Any:
    """The ``tf.TensorSpec`` structure for :func:`describe`'s ``leaves``."""
    tf = import_tensorflow()

    def spec(node: Any) -> Any:
        if isinstance(node, Leaf):
            return tf.TensorSpec(shape=node.shape, dtype=tf.as_dtype(node.dtype))
        if isinstance(node, dict):
            return {key: spec(value) for key, value in node.items()}
        return tuple(spec(value) for value in node)

    return spec(leaves)


def _free_sizes(leaves: Any, generator: Any) -> Any:
    """``leaves`` with None for the height and width of ``x`` (and of mask ``y``) when the
    generator's images are a list of several sizes: batch 0's sizes would be the
    signature, and TensorFlow's error at the first batch of another size named none."""
    source = getattr(generator, "source", None)
    images = getattr(source, "x", None)
    if not isinstance(images, list) or len({np.shape(image) for image in images}) < 2:
        return leaves
    first = getattr(getattr(generator, "pipeline", None), "data_format", "") == "channels_first"

    def free(leaf: Any) -> Any:
        if not isinstance(leaf, Leaf) or len(leaf.shape) < 3:
            return leaf
        axes = (2, 3) if first and len(leaf.shape) == 4 else (1, 2)
        shape = tuple(None if axis in axes else size for axis, size in enumerate(leaf.shape))
        return Leaf(shape, leaf.dtype)

    if not isinstance(leaves, tuple):
        return free(leaves)
    masks = getattr(source, "y_mode", None) == "mask" and len(leaves) > 1
    return (free(leaves[0]), free(leaves[1]) if masks else leaves[1], *leaves[2:])


def _check_shapes(batch: Any, leaves: Any, number: int, where: str = "") -> None:
    """A ``DataError`` naming the batch when a part's shape is not the signature's."""
    if isinstance(leaves, Leaf):
        shape = np.shape(batch)
        fits = len(shape) == len(leaves.shape) and all(
            want is None or want == got for want, got in zip(leaves.shape, shape, strict=True)
        )
        if not fits:
            expected = tuple("N" if size is None else size for size in leaves.shape)
            raise DataError(
                f"batch {number}{where} has shape {shape}, but as_tf()'s signature (from batch "
                f"0) is {expected}: tf.data yields one shape; end the pipeline with a "
                "fixed-size step (Resize), or give images of one size"
            )
    elif isinstance(leaves, dict) and isinstance(batch, dict):
        for key, leaf in leaves.items():
            _check_shapes(batch.get(key), leaf, number, f"{where}[{key!r}]")
    elif isinstance(leaves, tuple) and isinstance(batch, tuple) and len(batch) == len(leaves):
        names = ("x", "y", "w") if len(leaves) <= 3 and not where else None
        for index, (part, leaf) in enumerate(zip(batch, leaves, strict=True)):
            label = f" {names[index]}" if names else f"{where}[{index}]"
            _check_shapes(part, leaf, number, label)


def epoch_batches(generator: Any, leaves: Any = None) -> Iterator[Any]:
    """Batches ``0 … len-1`` of the generator's current epoch; then ``on_epoch_end()``.

    Uses the generator's thread ``workers`` to compute batches ahead, in order. The epoch
    advances only when the pass completes (a dataset's passes count otherwise: see the
    module docstring). With ``leaves`` (the signature), a batch of another shape is a
    ``DataError`` naming it.
    """
    yield from _epoch(generator, leaves)
    generator.on_epoch_end()


def _epoch(generator: Any, leaves: Any) -> Generator[Any, None, None]:
    """Batches ``0 … len-1`` of the generator's current epoch, without moving it on."""
    from confaug.batching.workers import ordered_map

    workers = int(getattr(generator, "workers", 0) or 0)
    results = ordered_map(
        lambda index, should_stop=None: generator[index],
        range(len(generator)),
        workers=workers,
        mode="thread",
        max_queue_size=int(getattr(generator, "max_queue_size", 10) or 10),
    )
    try:
        for number, batch in results:
            batch = as_structure(batch)
            if leaves is not None:
                _check_shapes(batch, leaves, number)
            yield batch
    finally:
        results.close()


class _Pass:
    """One pass of a dataset: whether it produced a batch, and whether it was counted."""

    __slots__ = ("counted", "produced")

    def __init__(self) -> None:
        self.produced = False
        self.counted = False


class _Passes:
    """The passes of one dataset over its generator; each that produced a batch moves the
    generator to its next epoch once: when it ends or is dropped, or at the latest when the
    next pass starts (tf.data closes a dropped pass's generator when it frees its iterator,
    from its own thread, and the next pass must not begin on the old epoch)."""

    def __init__(self, generator: Any) -> None:
        self._generator = generator
        self._lock = threading.Lock()
        self._current: _Pass | None = None

    def begin(self) -> _Pass:
        with self._lock:
            previous, self._current = self._current, _Pass()
            if previous is not None:
                self._count(previous)
            return self._current

    def end(self, run: _Pass) -> None:
        with self._lock:
            self._count(run)

    def _count(self, run: _Pass) -> None:
        if run.produced and not run.counted:
            run.counted = True
            self._generator.on_epoch_end()


def _counted_pass(generator: Any, leaves: Any, passes: _Passes) -> Generator[Any, None, None]:
    """One pass of the dataset: the current epoch's batches; counted by ``passes`` once it
    has produced a batch."""
    run = passes.begin()
    batches = _epoch(generator, leaves)
    try:
        for batch in batches:
            run.produced = True
            yield batch
    finally:
        batches.close()  # its workers first: they read the epoch being left
        passes.end(run)


def to_tf(generator: Any) -> Any:
    """A ``tf.data.Dataset`` of ``generator``'s batches (see the module docstring).

    When the generator raises on bad files (``on_error="raise"``) the dataset's cardinality
    is ``len(generator)``, so Keras knows the steps per epoch.
    """
    tf = import_tensorflow()

    for name in ("__len__", "__getitem__", "on_epoch_end"):
        if not hasattr(generator, name):
            raise TypeError(
                f"to_tf needs len(), [i] and on_epoch_end(); {generator!r} lacks {name}"
            )
    leaves = _free_sizes(describe(as_structure(generator[0])), generator)
    signature = _signature(leaves)
    passes = _Passes(generator)
    dataset = tf.data.Dataset.from_generator(
        lambda: _counted_pass(generator, leaves, passes), output_signature=signature
    )
    if getattr(generator, "on_error", "raise") == "raise":
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(generator)))
    return dataset


__all__ = [
    "Leaf",
    "as_structure",
    "describe",
    "epoch_batches",
    "output_signature",
    "to_tf",
]
