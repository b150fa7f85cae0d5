"""The one place confaug derives seeds: pure functions of a base seed and integer keys.

Every seed comes from ``numpy.random.SeedSequence([seed, STREAM, …])``; the first key names
the stream, so no two uses ever share a seed sequence:

- ``ORDER_STREAM, epoch`` — an epoch's shuffled order (:func:`order_rng`);
- ``SAMPLE_STREAM, epoch, key`` — the sample with this stable key: a generator's sample
  index, a Ray row's :func:`row_key`, the :func:`row_key` of a ``confaug augment`` image's
  relative path (with the copy number as the epoch);
- ``ITERABLE_STREAM, pass, batch, index`` — a sample of a batch that ``wrap`` receives.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

ORDER_STREAM, SAMPLE_STREAM, ITERABLE_STREAM = 0, 1, 2
_PERSON = b"confaug-ray-row"  # BLAKE2's personalization: these hashes are ours alone


def sample_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed determined by ``seed`` and ``keys`` (e.g. epoch and sample index).

    Built on ``numpy.random.SeedSequence``, so nearby keys give unrelated streams and the
    result does not depend on which thread or process asks.
    """
    state = np.random.SeedSequence([seed, *keys]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def order_rng(seed: int, epoch: int) -> np.random.Generator:
    """The random generator that shuffles epoch ``epoch``."""
    return np.random.default_rng(np.random.SeedSequence([seed, ORDER_STREAM, epoch]))


def resolve_seed(seed: int | None) -> int:
    """``seed`` checked, or a fresh random one (fixed for the object's lifetime)."""
    if seed is None:
        entropy = np.random.SeedSequence().entropy  # a fresh 128-bit int
        assert isinstance(entropy, int)
        return entropy % 2**63
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}; expected a non-negative int or None")
    return int(seed)


def row_key(value: Any) -> int:
    """The sample key of the value that names a sample (a path, bytes, an int, an array…).

    A non-negative int is its own key, so a row keyed by index ``i`` is augmented as a
    generator augments sample ``i``. Anything else is hashed with BLAKE2 (128 bits; not
    Python's salted ``hash``): equal values give equal keys in every process and on every
    machine. Arrays are hashed with their dtype and shape, text as UTF-8.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    if isinstance(value, np.ndarray):
        data = b"%s|%s|" % (str(value.dtype).encode(), str(value.shape).encode())
        data += np.ascontiguousarray(value).tobytes()
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        data = str(int(value)).encode()
    else:
        data = str(value).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=16, person=_PERSON).digest()
    return int.from_bytes(digest, "little")
