"""``seed=None`` as Keras has it: taken from NumPy's global random state.

Keras' legacy generator draws every random number from ``np.random``, so ``np.random.seed``
(which ``keras.utils.set_random_seed`` calls) makes a whole run reproducible. confaug's core
never reads global state; the drop-in bridges the two here: where a Keras method takes
``seed=None``, one seed is drawn from ``np.random`` at that call and handed to the core,
which derives everything else from it as usual. Explicit seeds are passed on unchanged.
"""

from __future__ import annotations

import numpy as np

from confaug.seeding import resolve_seed

_SEED_BOUND = 2**63 - 1  # confaug seeds are non-negative 63-bit integers


def seed_or_global(seed: int | None) -> int:
    """``seed``, or when it is None one drawn now from NumPy's global random state.

    The draw advances ``np.random`` by one number, as a Keras call would advance it. An
    explicit seed is checked here, with ``flow()``'s check and words, so that a method that
    hands it straight to NumPy (``get_random_transform``) does not answer in NumPy's.
    """
    if seed is not None:
        return resolve_seed(seed)
    return int(np.random.randint(_SEED_BOUND, dtype=np.int64))
