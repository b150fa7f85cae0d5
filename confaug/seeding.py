"""The one way confaug derives seeds: a pure function of a base seed and integer keys."""

from __future__ import annotations

import numpy as np


def sample_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed determined by ``seed`` and ``keys`` (e.g. epoch and sample index).

    Built on ``numpy.random.SeedSequence``, so nearby keys give unrelated streams and the
    result does not depend on which thread or process asks.
    """
    state = np.random.SeedSequence([seed, *keys]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))
