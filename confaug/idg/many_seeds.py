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
others, the words of the output) made as one array operation; ``PCG64``'s 128-bit states
in closed form (:func:`_pcg64_doubles`), for every seed and draw at once.

:class:`SeedTable` holds the seeds of keys ``0 … n-1`` of one stream (an array source's
epoch), computed in one pass, and what a caller derives from all of them (the draws of a
whole epoch), so that a batch takes its rows instead of hashing its seeds again.
``tests/test_batch_path.py`` and ``tests/test_speed_paths.py`` hold them equal to NumPy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _POOL, _MASK32 = 0xCA01F9DD, 0x4973F715, 4, 0xFFFFFFFF
_DOUBLE = 1.0 / (1 << 53)  # next_double: the top 53 bits of a 64-bit output
#: PCG64's multiplier (NumPy's ``PCG_DEFAULT_MULTIPLIER_128``) and its modulus, 2**128.
_PCG_MULT, _MASK128 = (2549297995355413924 << 64) + 4865540595714422341, (1 << 128) - 1
#: Below this many seeds NumPy's own SeedSequence and PCG64, one seed at a time, are faster
#: than the array operations (about 70 of them, whatever the number of seeds).
_FEW = 8
#: Seeds per part in _pcg64_doubles.
_PART_SEEDS = 256
_SHIFT, _LEFT, _RIGHT = np.uint32(16), np.uint32(_MIX_L), np.uint32(_MIX_R)
#: For each pool word, the indices of the other three (which it is mixed into).
_OTHERS = [np.array([t for t in range(_POOL) if t != s]) for s in range(_POOL)]


class Seeds(list[int]):
    """The seeds :func:`sample_seeds` gives, a list of ints that also holds them as a
    uint64 array (``values``), so that :func:`first_uniforms` takes them as they are.
    Seeds taken from a :class:`SeedTable` know it (``table``) and their rows in it
    (``rows``)."""

    def __init__(
        self,
        values: np.ndarray,
        *,
        table: SeedTable | None = None,
        rows: np.ndarray | None = None,
    ) -> None:
        super().__init__(values.tolist())
        self.values = values
        self.table = table
        self.rows = rows


def sample_seeds(seed: int, stream: Sequence[int], keys: Sequence[int] | np.ndarray) -> Seeds:
    """``[confaug.seeding.sample_seed(seed, *stream, key) for key in keys]``."""
    if len(keys) < _FEW:  # NumPy's own SeedSequence, one by one
        words = [int(seed), *map(int, stream)]
        states = [
            np.random.SeedSequence([*words, int(key)]).generate_state(1, np.uint64)[0]
            for key in keys
        ]
        return Seeds(np.array(states, np.uint64) >> np.uint64(1))
    head = [word for value in (seed, *stream) for word in _words(int(value))]
    values = np.empty(len(keys), np.uint64)
    for positions, tail in _key_words(keys):
        entropy = [np.full(len(positions), word, np.uint32) for word in head] + tail
        state = _generate(_pool(entropy), 2).astype(np.uint64)
        values[positions] = (state[0] | (state[1] << np.uint64(32))) >> np.uint64(1)
    return Seeds(values)


def first_uniforms(seeds: Sequence[int], count: int) -> np.ndarray:
    """``[np.random.default_rng(s).random(count) for s in seeds]`` as an array, one row per
    seed (``default_rng(s)`` is a PCG64 seeded by ``SeedSequence(s)``)."""
    if len(seeds) < _FEW:  # NumPy's own generators, one by one
        result = np.empty((len(seeds), count), dtype=np.float64)
        for row, value in enumerate(seeds):
            result[row] = np.random.default_rng(int(value)).random(count)
        return result
    # Seeds as they are (63-bit: one uint32 word, or two when the high one is set).
    groups = _key_words(seeds.values if isinstance(seeds, Seeds) else seeds)
    result = np.empty((len(seeds), count), dtype=np.float64)
    for positions, tail in groups:
        if len(positions):
            # The eight uint32 words of SeedSequence.generate_state(4, np.uint64).
            result[positions] = _pcg64_doubles(_generate(_pool(tail), 8), count)
    return result


T = TypeVar("T")


class SeedTable:
    """The seeds ``sample_seed(seed, *stream, key)`` of keys ``0 … size-1``, made in one
    pass, and what callers derive from all of them, kept (:meth:`derived`).

    :meth:`seeds` gives a batch's seeds as :class:`Seeds` that know their rows, so that a
    caller can take its rows of a derived table rather than derive them again. Safe to
    share between threads: a table derived twice at once is the same, and one is kept.
    """

    def __init__(self, seed: int, stream: Sequence[int], size: int) -> None:
        self.size = size
        self._made_from = (int(seed), tuple(int(word) for word in stream), size)
        self.values = sample_seeds(seed, stream, np.arange(size, dtype=np.uint64)).values
        self._derived: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def holds(self, seed: int, stream: Sequence[int], size: int) -> bool:
        """Whether this is the table of ``seed``, ``stream`` and keys ``0 … size-1``."""
        return self._made_from == (seed, tuple(stream), size)

    def seeds(self, rows: np.ndarray) -> Seeds:
        """The seeds of keys ``rows`` (each in ``0 … size-1``)."""
        return Seeds(self.values[rows], table=self, rows=rows)

    def derived(self, key: Hashable, make: Callable[[Seeds], T]) -> T:
        """``make(every seed of the table)``, made once per ``key`` and kept."""
        with self._lock:
            found = self._derived.get(key)
        if found is None:
            found = make(Seeds(self.values))
            with self._lock:
                found = self._derived.setdefault(key, found)
        result: T = found
        return result


@lru_cache(maxsize=8)
def _pcg64_terms(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The constants of :func:`_pcg64_doubles` for ``count`` draws, as 16-bit limbs.

    NumPy seeds a PCG64 with ``state = 0; inc = 2 * initseq + 1``, one step, ``state +=
    initstate``, another step (a step is ``state = state * M + inc``, mod 2**128), and a
    draw steps and then reads the state. So the state of draw ``j`` (from 1) is
    ``initstate * M**(j+1) + initseq * 2B + B`` with ``B = M**0 + … + M**(j+1)``. Returned:
    the (16, count * 8) matrix that multiplies the 16 limbs of ``(initstate, initseq)`` by
    ``M**(j+1)`` and ``2B``, limb ``m`` of each product in column ``j * 8 + m`` (the
    products' limbs beyond the eighth are multiples of 2**128, left out), and ``B``'s limbs.
    """
    powers = [1]
    for _ in range(count + 1):
        powers.append(powers[-1] * _PCG_MULT & _MASK128)
    matrix = np.zeros((16, count, 8))
    added = np.zeros((count, 8))
    for j in range(count):
        total = sum(powers[: j + 3]) & _MASK128
        state_limbs, seq_limbs = _limbs(powers[j + 2]), _limbs(2 * total & _MASK128)
        for i in range(8):
            for m in range(i, 8):
                matrix[i, j, m] = state_limbs[m - i]
                matrix[8 + i, j, m] = seq_limbs[m - i]
        added[j] = _limbs(total)
    return matrix.reshape(16, count * 8), added.reshape(count * 8)


def _limbs(value: int) -> list[int]:
    """A 128-bit int as eight 16-bit limbs, least significant first."""
    return [(value >> (16 * i)) & 0xFFFF for i in range(8)]


def _pcg64_doubles(state: np.ndarray, count: int) -> np.ndarray:
    """``PCG64(SeedSequence).random(count)`` for each column of ``state``, the (8, seeds)
    uint32 words ``generate_state(8)`` gives (``initstate`` is 64-bit words 0 and 1, high
    first; ``initseq`` words 2 and 3), as a (seeds, count) array."""
    seeds = state.shape[1]
    result = np.empty((seeds, count))
    # In parts: the temporaries of a part stay in cache, and below the size from which
    # OpenBLAS spreads a matrix product over threads (20x slower for this small one on a
    # loaded 2-core machine).
    for start in range(0, seeds, _PART_SEEDS):
        part = slice(start, start + _PART_SEEDS)
        result[part] = _pcg64_part(state[:, part], count)
    return result


def _pcg64_part(state: np.ndarray, count: int) -> np.ndarray:
    """:func:`_pcg64_doubles` of a few seeds.

    The states of every draw come from one matrix product (see :func:`_pcg64_terms`): on
    16-bit limbs each column is a sum of at most 16 products below 2**32, so the float64
    product is exact whatever order the BLAS adds in; then the carries.
    """
    seeds = state.shape[1]
    if count == 0:
        return np.empty((seeds, 0))
    matrix, added = _pcg64_terms(count)
    words = state[[2, 3, 0, 1, 6, 7, 4, 5]]  # the 128-bit values' uint32 words, low first
    limbs = np.empty((seeds, 16))
    limbs[:, 0::2] = (words & np.uint32(0xFFFF)).T
    limbs[:, 1::2] = (words >> np.uint32(16)).T
    columns = np.empty((seeds, count * 8), np.int64)  # exact: every value is below 2**38
    np.add(limbs @ matrix, added, out=columns, casting="unsafe")
    # The carries: limb pairs as 32-bit positions (below 2**55), each split into its low
    # 32 bits and the rest, which belongs one position up; then the two 64-bit halves,
    # the low one's carry into the high one (what passes 2**128 is dropped: mod 2**128).
    by_limb = columns.view(np.uint64).reshape(seeds, count, 8)
    pairs = by_limb[..., 1::2] << np.uint64(16)
    pairs += by_limb[..., 0::2]
    words, over = pairs & np.uint64(_MASK32), pairs >> np.uint64(32)
    below = words[..., 0] | (words[..., 1] << np.uint64(32))
    low = below + (over[..., 0] << np.uint64(32))
    high = (words[..., 2] | (words[..., 3] << np.uint64(32))) + over[..., 1]
    high += (over[..., 2] << np.uint64(32)) + (low < below)
    # PCG64's output, XSL-RR: the halves XORed, rotated right by the state's top six bits.
    xored, turn = high ^ low, high >> np.uint64(58)
    output = (xored >> turn) | (xored << ((np.uint64(64) - turn) & np.uint64(63)))
    return (output >> np.uint64(11)).astype(np.float64) * _DOUBLE


def _words(value: int) -> list[int]:
    """An int as SeedSequence reads it: uint32 words, least significant first (0 is [0])."""
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _key_words(keys: Sequence[int] | np.ndarray) -> list[tuple[Any, list[np.ndarray]]]:
    """:func:`_by_length` of the keys; an unsigned array (an epoch's keys, the values of
    :class:`Seeds`) as it is, split into its words without Python ints."""
    if isinstance(keys, np.ndarray) and keys.dtype.kind == "u" and keys.itemsize <= 8:
        values = keys.astype(np.uint64, copy=False)
        high = values >> np.uint64(32)
        low = (values & np.uint64(_MASK32)).astype(np.uint32)
        one = high == 0
        groups = [(np.flatnonzero(one), [low[one]])]
        if not one.all():
            groups.append((np.flatnonzero(~one), [low[~one], high[~one].astype(np.uint32)]))
        return groups
    return _by_length([int(key) for key in keys])


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
