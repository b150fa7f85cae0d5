"""The iterator ``confaug.keras.ImageDataGenerator``'s ``flow*`` methods return.

:class:`KerasIterator` gives a confaug ``BatchGenerator`` the API of Keras' legacy iterators
and becomes a ``keras.utils.PyDataset`` when Keras is installed (Keras is imported on the
first iterator, not with this module). While ``model.fit`` asks for batches from several of
Keras' threads (``workers`` > 1), each holds OpenCV at one thread, as confaug's own workers
do: ``workers=2`` then uses two cores rather than two threads each spreading every warp
over OpenCV's pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from confaug.keras.pydataset import with_dataset_base
from confaug.opencv_threads import one_thread


class BatchIndexError(IndexError, ValueError):
    """A batch index beyond the end: a ``ValueError`` as Keras raises it, and an
    ``IndexError`` as confaug's generators raise it, so both kinds of ``except`` work."""


class KerasIterator:
    """Keras' legacy iterator API over a confaug ``BatchGenerator``.

    ``len()``, ``[i]`` (batch ``i`` of the current epoch) and ``on_epoch_end`` make it a
    Keras ``PyDataset`` (it is one when Keras is installed); ``next()`` (and ``.next()``, as
    Keras 2 scripts call it) continues one endless stream, and ``iter()`` returns the
    iterator itself, as Keras. ``reset()`` makes ``next()`` start again at the epoch's first
    batch. ``n`` is the number of samples; any other attribute is the generator's
    (``class_indices``, ``filenames``, ``classes``, ...).

    ``rebuild`` turns the generator's batch into Keras' (for sample indices carried as
    labels, see :mod:`~confaug.keras.arrays` and :mod:`~confaug.keras.dataframe`);
    ``label_dtype`` casts class labels; ``dataset_options`` are the ``PyDataset`` options
    given to the flow (``workers``...), which ``model.fit`` reads (through ``PyDataset``'s
    setters; plain attributes without Keras).
    """

    def __init__(
        self,
        generator: Any,
        *,
        rebuild: Callable[[Any], Any] | None = None,
        label_dtype: str | None = None,
        attributes: dict[str, Any] | None = None,
        dataset_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # PyDataset's defaults: Keras loads batches in its own thread
        self._generator = generator
        self._rebuild = rebuild
        self._label_dtype = label_dtype
        self._next_lock = threading.Lock()  # Keras' iterators allow next() from any thread
        self.__dict__.update(attributes or {})
        for name, value in (dataset_options or {}).items():
            setattr(self, name, value)

    @property
    def n(self) -> int:
        """Number of samples (Keras' ``n``)."""
        return len(self._generator.source)

    def __len__(self) -> int:
        return len(self._generator)

    def __getitem__(self, index: int) -> Any:
        from confaug.batching.generator import batch_number

        index = batch_number(index)
        if not 0 <= index < len(self):
            raise BatchIndexError(  # Keras' words, which code matches on, inside
                f"batch index out of range: Asked to retrieve element {index}, but the "
                f"Sequence has length {len(self)} ({self.n} samples)"
            )
        if self._in_keras_threads():
            with one_thread():  # reference-counted: given back by the last
                return self._finish(self._generator[index])
        return self._finish(self._generator[index])

    def _in_keras_threads(self) -> bool:
        """Whether Keras' ``PyDataset`` options ask for batches from several threads."""
        workers = getattr(self, "workers", 1) or 1
        return workers > 1 and not getattr(self, "use_multiprocessing", False)

    def __next__(self) -> Any:
        with self._next_lock:
            batch = next(self._generator)
        return self._finish(batch)

    def next(self) -> Any:
        """The next batch: ``it.next()`` as in Keras 2 and tf.keras, same as ``next(it)``."""
        return self.__next__()

    def __iter__(self) -> KerasIterator:
        return self

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # Pickled (a DataLoader or Keras under spawn, copy.deepcopy) as its state, and
        # rebuilt from the class pickle finds by its name: the PyDataset subclass made at
        # the first instance has that same name, and is made again where it is unpickled.
        from confaug.batching.generator import plain_class

        return (_revived, (plain_class(type(self)),), self.__getstate__())

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_next_lock"]  # a fresh one in the copy; the generator drops its runs
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._next_lock = threading.Lock()

    def on_epoch_end(self) -> None:
        """Move to the next epoch: new order and augmentation."""
        self._generator.on_epoch_end()

    def reset(self) -> None:
        """Make ``next()`` start again at the first batch of the current epoch."""
        getattr(self._generator, "reset", self._generator.close)()

    def as_keras(self, **options: Any) -> Any:
        """The generator's :meth:`~confaug.batching.generator.BatchGenerator.as_keras`
        (this iterator is a ``PyDataset`` itself when Keras is installed)."""
        return self._adapter("as_keras")(**options)

    def as_torch(self, **options: Any) -> Any:
        """The generator's :meth:`~confaug.batching.generator.BatchGenerator.as_torch`."""
        return self._adapter("as_torch")(**options)

    def as_tf(self, **options: Any) -> Any:
        """The generator's :meth:`~confaug.batching.generator.BatchGenerator.as_tf`."""
        return self._adapter("as_tf")(**options)

    def _adapter(self, name: str) -> Callable[..., Any]:
        """The generator's adapter ``name``; a TypeError when its batches are not yet
        Keras' (they carry sample indices that only :meth:`_finish` turns into labels or
        extra inputs): the adapter would hand those indices on as labels."""
        if self._rebuild is not None:
            raise TypeError(
                f"{name}() is not available for this flow: its labels or extra inputs "
                "(class_mode='raw' or 'multi_output', or flow((x, extra_inputs), ...)) are "
                "put together by the iterator, which the adapter would bypass. Pass the "
                "iterator itself to model.fit (it is a keras.utils.PyDataset), or build the "
                "generator with confaug's own pipe.flow(...) / flow_from_dataframe(...)"
            )
        adapter: Callable[..., Any] = getattr(self._generator, name)
        return adapter

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "_generator" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self._generator, name)

    def _finish(self, batch: Any) -> Any:
        """Keras' batch: rebuilt from carried sample indices, class labels in the
        generator's dtype (when not float32)."""
        if self._rebuild is not None:
            return self._rebuild(batch)
        if self._label_dtype is not None and isinstance(batch, tuple):
            return (batch[0], batch[1].astype(self._label_dtype), *batch[2:])
        return batch


_DATASET_CLASS = "KerasPyDatasetIterator"


def _revived(cls: type[KerasIterator]) -> KerasIterator:
    """An empty iterator of ``cls`` (a ``PyDataset`` when Keras is installed) for pickle
    to fill."""
    if cls is KerasIterator:
        cls = _iterator_class()
    iterator: KerasIterator = cls.__new__(cls)  # PyDatasetWhenInstalled's adds Keras' base
    return iterator


def _iterator_class() -> type:
    """:class:`KerasIterator`, made a ``keras.utils.PyDataset`` when Keras is installed.

    Built once and kept in this module's namespace under ``KerasPyDatasetIterator``.
    """
    cls = globals().get(_DATASET_CLASS)
    if cls is None:
        cls = with_dataset_base(KerasIterator, _DATASET_CLASS)
        if cls is not KerasIterator:
            globals()[_DATASET_CLASS] = cls
    return cls


def make_iterator(generator: Any, **options: Any) -> KerasIterator:
    """A :class:`KerasIterator` (a ``PyDataset`` when Keras is installed) over ``generator``."""
    iterator: KerasIterator = _iterator_class()(generator, **options)
    return iterator
