"""NumPy's seeding, computed for a whole batch of seeds at once, with NumPy's own results.

A sample is augmented from its seed ``sample_seed(seed, *stream, key)`` (``confaug.seeding``),
and the Keras keywords draw the first values of ``default_rng(that seed)``. Each of the two
builds a ``SeedSequence``, which costs about as much as warping a 32 px image, so a batch
of 32 small images spent more time seeding than warping. Here the same numbers come out of
one pass over the batch:

- :func:`sample_seeds` — ``[sample_seed(seed, *stream, key) for key in keys]``;
- :func:`first_uniforms` — ``[default_rng(s).random(count) for s in seeds]``.

Both follow NumPy's published algorithms, which NumPy keeps stable (a seeded stream is
reproducible across releases): ``SeedSequence``'s hash on uint32 arrays, one column per
seed, with the calls that do not depend on each other (one pool word hashed for the three
others, the words of the output) made as one array operation; the draws from NumPy's own
``PCG64``, handed the state that hash gives.
``tests/test_batch_path.py`` holds them equal to NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _POOL, _MASK32 = 0xCA01F9DD, 0x4973F715, 4, 0xFFFFFFFF
_DOUBLE = 1.0 / (1 << 53)  # next_double: the top 53 bits of a 64-bit output
_SHIFT, _LEFT, _RIGHT = np.uint32(16), np.uint32(_MIX_L), np.uint32(_MIX_R)
#: For each pool word, the indices of the other three (which it is mixed into).
_OTHERS = [np.array([t for t in range(_POOL) if t != s]) for s in range(_POOL)]


class Seeds(list[int]):
    """The seeds :func:`sample_seeds` gives, a list of ints that also holds them as a
    uint64 array (``values``), so that :func:`first_uniforms` takes them as they are."""

    def __init__(self, values: np.ndarray) -> None:
        super().__init__(values.tolist())
        self.values = values


def sample_seeds(seed: int, stream: Sequence[int], keys: Sequence[int]) -> Seeds:
    """``[confaug.seeding.sample_seed(seed, *stream, key) for key in keys]``."""
    head = [word for value in (seed, *stream) for word in _words(int(value))]
    values = np.empty(len(keys), np.uint64)
    for positions, tail in _by_length([int(key) for key in keys]):
        entropy = [np.full(len(positions), word, np.uint32) for word in head] + tail
        state = _generate(_pool(entropy), 2).astype(np.uint64)
        values[positions] = (state[0] | (state[1] << np.uint64(32))) >> np.uint64(1)
    return Seeds(values)


def first_uniforms(seeds: Sequence[int], count: int) -> np.ndarray:
    """``[np.random.default_rng(s).random(count) for s in seeds]`` as an array, one row per
    seed (``default_rng(s)`` is a PCG64 seeded by ``SeedSequence(s)``)."""
    if isinstance(seeds, Seeds):  # 63-bit: one uint32 word, or two when the high one is set
        values = seeds.values
        low, high = (values & np.uint64(_MASK32)).astype(np.uint32), values >> np.uint64(32)
        one = high == 0
        groups = [
            (np.flatnonzero(one), [low[one]]),
            (np.flatnonzero(~one), [low[~one], high[~one].astype(np.uint32)]),
        ]
    else:
        groups = _by_length([int(seed) for seed in seeds])
    bits = np.empty((len(seeds), count), dtype=np.uint64)
    for positions, tail in groups:
        if not len(positions):
            continue
        state = _generate(_pool(tail), 8).astype(np.uint64)
        # The four uint64 words SeedSequence.generate_state(4, np.uint64) gives each seed.
        words = np.ascontiguousarray((state[0::2] | (state[1::2] << np.uint64(32))).T)
        for position, row in zip(np.asarray(positions).tolist(), words, strict=True):
            given: Any = _Given(row)  # an ISeedSequence, which NumPy's stubs do not list
            bits[position] = np.random.PCG64(given).random_raw(count)
    return (bits >> np.uint64(11)).astype(np.float64) * _DOUBLE


class _Given(ISeedSequence):
    """A seed sequence whose state is already known: NumPy's PCG64 seeds itself from it as
    from the ``SeedSequence`` that made it, without hashing again."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if n_words != len(self.words) or np.dtype(dtype) != self.words.dtype:
            raise ValueError("this seed sequence holds exactly the state PCG64 asks for")
        return self.words


def _words(value: int) -> list[int]:
    """An int as SeedSequence reads it: uint32 words, least significant first (0 is [0])."""
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _by_length(values: list[int]) -> list[tuple[Any, list[np.ndarray]]]:
    """The positions of the values of each length in words, and those words as arrays
    (SeedSequence's work depends on the number of words, not on their contents)."""
    groups: dict[int, list[int]] = {}
    for position, value in enumerate(values):
        groups.setdefault(len(_words(value)), []).append(position)
    return [
        (
            positions,
            [
                np.array([(values[p] >> (32 * i)) & _MASK32 for p in positions], np.uint32)
                for i in range(length)
            ],
        )
        for length, positions in groups.items()
    ]


@lru_cache(maxsize=8)
def _constants(init: int, mult: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The hash constant each of ``count`` successive hash calls XORs with and multiplies
    by (the second is the first of the next call), as (count, 1) uint32 columns."""
    values = [init]
    for _ in range(count):
        values.append((values[-1] * mult) & _MASK32)
    column = np.array(values, np.uint32)[:, None]
    return column[:-1], column[1:]


def _hash(values: np.ndarray, xors: np.ndarray, mults: np.ndarray) -> np.ndarray:
    """SeedSequence's hashmix of each row of ``values`` with its own constants."""
    mixed = values ^ xors
    mixed *= mults
    mixed ^= mixed >> _SHIFT
    return mixed


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    mixed = _LEFT * x
    mixed -= _RIGHT * y
    mixed ^= mixed >> _SHIFT
    return mixed


def _pool(entropy: list[np.ndarray]) -> np.ndarray:
    """SeedSequence's ``mix_entropy`` of ``entropy`` (uint32 words, one column per seed):
    the pool, a (4, seeds) uint32 array. Its hash calls, in NumPy's order: one per pool
    word; then each word hashed once for each of the other three (one call of 3 rows);
    then each word of entropy beyond the pool once for each pool word (one call of 4)."""
    count = len(entropy[0])
    extra = max(0, len(entropy) - _POOL)
    xors, mults = _constants(_INIT_A, _MULT_A, _POOL + _POOL * (_POOL - 1) + _POOL * extra)
    first = np.zeros((_POOL, count), np.uint32)
    for i, word in enumerate(entropy[:_POOL]):
        first[i] = word
    pool = _hash(first, xors[:_POOL], mults[:_POOL])
    call = _POOL
    for source, others in enumerate(_OTHERS):
        hashed = _hash(pool[source], xors[call : call + 3], mults[call : call + 3])
        pool[others] = _mix(pool[others], hashed)
        call += 3
    for word in entropy[_POOL:]:
        hashed = _hash(word, xors[call : call + _POOL], mults[call : call + _POOL])
        pool = _mix(pool, hashed)
        call += _POOL
    return pool


def _generate(pool: np.ndarray, words: int) -> np.ndarray:
    """SeedSequence's ``generate_state(words, np.uint32)``: a (words, seeds) uint32 array
    (word ``i`` hashes pool word ``i % 4``)."""
    xors, mults = _constants(_INIT_B, _MULT_B, words)
    return _hash(pool[np.arange(words) % _POOL], xors, mults)
