"""Keras' ``Iterator``: the base class of hand-written iterators over sample indices.

Code that subclasses ``keras.preprocessing.image.Iterator`` (implementing
``_get_batches_of_transformed_samples(index_array)``) runs on this class unchanged: the same
constructor ``(n, batch_size, shuffle, seed)``, the same attributes (``index_array``,
``batch_index``, ``total_batches_seen``, ``index_generator``, ``lock``) and the same order of
indices. As in Keras, a seeded iterator reseeds NumPy's global random state with
``seed + total_batches_seen`` before each batch, so the subclass's own ``np.random`` draws
(and the drop-in ``ImageDataGenerator``'s, which take their seed from there) repeat;
unseeded, the order comes from the global state as it is. It is a ``keras.utils.PyDataset``
when Keras is installed, and the drop-in's own iterators count as instances of it.
"""

from __future__ import annotations

import threading
from abc import ABCMeta
from collections.abc import Generator
from typing import Any

import numpy as np

from confaug.keras.iterators import BatchIndexError, KerasIterator
from confaug.keras.pydataset import (
    DATASET_OPTIONS,
    PyDatasetWhenInstalled,
    keras_dataset_base,
)


class Iterator(PyDatasetWhenInstalled, metaclass=ABCMeta):
    """Batches of ``n`` samples by index; subclasses build a batch from its indices."""

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None, **kwargs: Any):
        """``kwargs`` are Keras' ``PyDataset`` options (``workers``, ``use_multiprocessing``,
        ``max_queue_size``; they need Keras); any other is a TypeError with a hint."""
        from confaug.batching.factory import unexpected_keywords

        named = ("n", "batch_size", "shuffle", "seed")
        error = unexpected_keywords(type(self).__name__, kwargs, DATASET_OPTIONS, named)
        if error is not None:
            raise error
        # Checked here, as flow() checks it: a batch size of 0 divided by zero in len(). An
        # empty iterator may have one (Keras' own empty iterators yield empty batches).
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size={batch_size!r}; expected a positive int")
        if batch_size < 1 and n != 0:
            raise ValueError(f"batch_size={batch_size!r}; expected a positive int")
        if kwargs and keras_dataset_base() is None:  # object.__init__ would say "one argument"
            given = ", ".join(f"{name}=" for name in kwargs)
            raise TypeError(
                f"{type(self).__name__}(): {given} are options of keras.utils.PyDataset, which "
                "needs Keras installed (pip install keras)"
            )
        super().__init__(**kwargs)  # PyDataset's options (workers, ...) when Keras is there
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array: np.ndarray | None = None
        self.index_generator = self._flow_index()

    def _set_index_array(self) -> None:
        """A new order of the samples: shuffled by NumPy's global random state, or 0..n-1."""
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def _seed_global_state(self) -> None:
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)  # a last, shorter batch counts

    def __getitem__(self, idx: int) -> Any:
        """Batch ``idx`` of the current order (which :meth:`on_epoch_end` renews)."""
        if idx >= len(self):
            raise BatchIndexError(
                f"batch index out of range: Asked to retrieve element {idx}, but the "
                f"Sequence has length {len(self)} ({self.n} samples)"
            )
        self._seed_global_state()
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        assert self.index_array is not None
        first = idx * self.batch_size
        return self._get_batches_of_transformed_samples(
            self.index_array[first : first + self.batch_size]
        )

    def on_epoch_end(self) -> None:
        self._set_index_array()

    def reset(self) -> None:
        """Make the stream of ``next()`` start a new epoch at its next batch."""
        self.batch_index = 0

    def _flow_index(self) -> Generator[np.ndarray, None, None]:
        """Endless index batches for ``next()``: epoch after epoch, each in a new order,
        the last batch of an epoch possibly shorter."""
        self.reset()
        while True:
            self._seed_global_state()
            if self.batch_index == 0:
                self._set_index_array()
            assert self.index_array is not None
            first = (self.batch_index * self.batch_size) % self.n if self.n else 0
            more = self.n > first + self.batch_size  # does this epoch go on after this batch?
            self.batch_index = self.batch_index + 1 if more else 0
            self.total_batches_seen += 1
            yield self.index_array[first : first + self.batch_size]

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        with self.lock:  # only the indices: building the batch may run in parallel
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    def next(self) -> Any:
        """The next batch (Keras 2's spelling of ``next(iterator)``)."""
        return self.__next__()

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        """The batch of the samples ``index_array``: what a subclass implements."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _get_batches_of_transformed_samples"
        )


Iterator.register(KerasIterator)  # datagen.flow(...) is an Iterator, as in Keras
