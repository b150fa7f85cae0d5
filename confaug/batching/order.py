"""Which samples each epoch visits, in which order, on which rank.

An epoch's order is a pure function of ``(seed, epoch)`` (through ``confaug.seeding``), so
every rank and every worker agrees on it without talking to the others.
"""

from __future__ import annotations

import numpy as np

from confaug.seeding import order_rng


def epoch_order(count: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """All sample indices in this epoch's order (a seeded permutation when shuffling)."""
    if not shuffle:
        return np.arange(count)
    return order_rng(seed, epoch).permutation(count)


def shard(order: np.ndarray, rank: int, world_size: int, *, even: bool = False) -> np.ndarray:
    """Rank ``rank``'s share of ``order``: every ``world_size``-th index.

    With ``even``, ``order`` is first extended cyclically to a multiple of ``world_size``
    (as PyTorch's ``DistributedSampler`` pads), so every rank has the same number of samples
    and the same ``len()`` — distributed training would otherwise hang on the extra step of
    the longer ranks. At most ``world_size - 1`` samples then appear twice per epoch.
    """
    if even and len(order) % world_size:
        order = np.resize(order, -(-len(order) // world_size) * world_size)
    return order[rank::world_size]


def shard_size(count: int, rank: int, world_size: int, *, even: bool = False) -> int:
    """``len(shard(range(count), rank, world_size, even=even))`` without building it."""
    if even:
        return -(-count // world_size)
    return count // world_size + (1 if rank < count % world_size else 0)


class RankOrder:
    """This rank's sample indices for each epoch, kept for the latest epoch asked.

    Holds no lock (so it pickles into worker processes); callers sharing one across threads
    serialize their calls.
    """

    def __init__(
        self,
        count: int,
        seed: int,
        shuffle: bool,
        rank: int = 0,
        world_size: int = 1,
        *,
        even: bool = False,
    ) -> None:
        self.count = count
        self.seed = seed
        self.shuffle = shuffle
        self.rank = rank
        self.world_size = world_size
        self.even = even
        #: Number of samples this rank gets per epoch.
        self.size = shard_size(count, rank, world_size, even=even)
        self._cached: tuple[int, np.ndarray] | None = None

    def __call__(self, epoch: int) -> np.ndarray:
        """The indices of ``epoch``, in order."""
        # Read once: copies of a generator (copy.copy) share this order, each with its own
        # lock, and a second read could see another epoch's entry.
        cached = self._cached
        if cached is None or cached[0] != epoch:
            order = epoch_order(self.count, self.seed, epoch, self.shuffle)
            cached = (epoch, shard(order, self.rank, self.world_size, even=self.even))
            self._cached = cached
        return cached[1]

    def batch(self, epoch: int, number: int, batch_size: int) -> np.ndarray:
        """The indices of batch ``number`` of ``epoch`` (the last one may be short)."""
        return self(epoch)[number * batch_size : (number + 1) * batch_size]
