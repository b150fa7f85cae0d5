"""A generator's batches and samples by ``(epoch, number)``, without its threads and locks.

Adapters whose work runs in other processes (PyTorch's DataLoader workers, Keras'
``use_multiprocessing``) need what a ``BatchGenerator`` knows — source, pipeline, seed,
order, shard, error policy — in a form that pickles. :class:`GeneratorPlan` is that: it runs
the generator's own loader (``confaug.batching.loader``), so batch ``n`` of epoch ``e`` is
bitwise the generator's ``[n]`` in epoch ``e``, in any process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from confaug.batching.collate import Batch
from confaug.batching.loader import (
    BatchLoader,
    OnError,
    SkipLog,
    Task,
    require_batch,
    stand_in,
)
from confaug.batching.order import RankOrder, epoch_order


class GeneratorPlan:
    """What a batch or a sample of ``generator`` needs; picklable when its source and
    pipeline are."""

    def __init__(self, generator: Any) -> None:
        self.source = generator.source
        self.pipeline = generator.pipeline
        self.seed = int(generator.seed)
        self.batch_size = int(generator.batch_size)
        self.shuffle = bool(generator.shuffle)
        self.order = RankOrder(
            len(self.source),
            self.seed,
            self.shuffle,
            int(getattr(generator, "rank", 0)),
            int(getattr(generator, "world_size", 1)),
            even=bool(getattr(generator, "even_shards", False)),
        )
        on_error: OnError = getattr(generator, "on_error", "raise")
        self.on_error: OnError = on_error
        self.num_batches = len(generator)
        #: Loaders as the generator's: for batches, and for samples (never skipped).
        self.batches = BatchLoader(self.source, self.pipeline, self.seed, on_error)
        self.samples = BatchLoader(self.source, self.pipeline, self.seed, "raise")
        self._skips = SkipLog()

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """``(path, reason)`` of the files this process skipped (each logged once)."""
        return self._skips.entries

    def batch(self, epoch: int, number: int) -> Batch:
        """Batch ``number`` of ``epoch``, as the generator's ``[number]`` in that epoch;
        skipped files are recorded in :attr:`skipped`."""
        indices = self.order.batch(epoch, number, self.batch_size)
        result = self.batches(Task(epoch, number, False, indices))
        self._skips.add(result.skipped)
        if result.batch is None and self.on_error == "skip":
            # The generator's own stand-in (the next batch with a readable sample), so that
            # a DataLoader or a Keras process worker goes on where ``gen[number]`` does.
            result = stand_in(
                self.batches,
                lambda other: self.order.batch(epoch, other, self.batch_size),
                self.num_batches,
                epoch,
                number,
                self._skips.add,
            )
        return require_batch(result, number)

    def sample(self, epoch: int, index: int) -> Batch:
        """Sample ``index`` of the source, augmented for ``epoch``, as a batch of one."""
        task = Task(epoch, index, False, np.asarray([index]))
        return require_batch(self.samples(task), index)

    def sample_order(self, epoch: int) -> np.ndarray:
        """Every sample index of the source in ``epoch``'s order (shuffled by the
        generator's seed when it shuffles; not sharded)."""
        return epoch_order(len(self.source), self.seed, epoch, self.shuffle)


__all__ = ["GeneratorPlan"]
