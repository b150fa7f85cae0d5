"""NumPy's seeding, computed for a whole batch of seeds at once, with NumPy's own results.

A sample is augmented from its seed ``sample_seed(seed, *stream, key)`` (``confaug.seeding``),
and the Keras keywords draw the first values of ``default_rng(that seed)``. Each of the two
builds a ``SeedSequence``, which costs about as much as warping a 32 px image, so a batch
of 32 small images spent more time seeding than warping. Here the same numbers come out of
one pass over the batch:

- :func:`sample_seeds` — ``[sample_seed(seed, *stream, key) for key in keys]``;
- :func:`first_uniforms` — ``[default_rng(s).random(count) for s in seeds]``.

Both follow NumPy's published algorithms, which NumPy keeps stable (a seeded stream is
reproducible across releases): ``SeedSequence``'s hash (on uint32 arrays, one entry per
seed; words that every seed shares stay Python ints) and PCG64's seeding and XSL-RR output
(on Python ints, 128-bit exact). ``tests/test_batch_path.py`` holds them equal to NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _POOL, _MASK32 = 0xCA01F9DD, 0x4973F715, 4, 0xFFFFFFFF
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_MASK64, _MASK128 = (1 << 64) - 1, (1 << 128) - 1
_DOUBLE = 1.0 / (1 << 53)  # next_double: the top 53 bits of a 64-bit output

Word = int | np.ndarray  # one uint32 word: the same for every seed, or one per seed


def sample_seeds(seed: int, stream: Sequence[int], keys: Sequence[int]) -> list[int]:
    """``[confaug.seeding.sample_seed(seed, *stream, key) for key in keys]``."""
    head: list[Word] = [word for value in (seed, *stream) for word in _words(int(value))]
    result = [0] * len(keys)
    for positions, tail in _by_length([int(key) for key in keys]):
        state = _generate(_pool(head + tail), len(positions), 2)
        values = (state[:, 0].astype(np.uint64) | (state[:, 1].astype(np.uint64) << 32)) >> 1
        for position, value in zip(positions, values.tolist(), strict=True):
            result[position] = value
    return result


def first_uniforms(seeds: Sequence[int], count: int) -> np.ndarray:
    """``[np.random.default_rng(s).random(count) for s in seeds]`` as an array, one row per
    seed (``default_rng(s)`` is a PCG64 seeded by ``SeedSequence(s)``)."""
    bits = np.empty((len(seeds), count), dtype=np.uint64)
    for positions, tail in _by_length([int(seed) for seed in seeds]):
        state = _generate(_pool(list(tail)), len(positions), 8).astype(np.uint64)
        words = (state[:, 0::2] | (state[:, 1::2] << np.uint64(32))).tolist()  # 4 uint64 each
        for position, (high, low, inc_high, inc_low) in zip(positions, words, strict=True):
            bits[position] = _pcg64_top_bits((high << 64) | low, (inc_high << 64) | inc_low, count)
    return bits.astype(np.float64) * _DOUBLE


def _pcg64_top_bits(initstate: int, initseq: int, count: int) -> list[int]:
    """The first ``count`` outputs of PCG64 seeded with ``(initstate, initseq)``, as
    ``pcg64_set_seed`` seeds it, each shifted right by 11 (what ``next_double`` keeps)."""
    inc = ((initseq << 1) | 1) & _MASK128
    state = (inc + initstate) & _MASK128  # the first step from state 0, then the seed added
    out = []
    for _ in range(count + 1):  # the second seeding step, then one step per output
        state = (state * _PCG_MULT + inc) & _MASK128
        high = state >> 64
        folded, rotation = (high ^ state) & _MASK64, high >> 58
        out.append((((folded >> rotation) | (folded << (64 - rotation))) & _MASK64) >> 11)
    return out[1:]


def _words(value: int) -> list[int]:
    """An int as SeedSequence reads it: uint32 words, least significant first (0 is [0])."""
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _by_length(values: list[int]) -> list[tuple[list[int], list[Word]]]:
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


def _pool(entropy: list[Word]) -> list[Word]:
    """SeedSequence's ``mix_entropy``: the pool of four uint32 words (uint32 arithmetic,
    products wrap)."""
    hash_const = _INIT_A

    def hashmix(value: Word) -> Word:
        nonlocal hash_const
        before, hash_const = hash_const, (hash_const * _MULT_A) & _MASK32
        if isinstance(value, int):
            value = ((value ^ before) * hash_const) & _MASK32
            return value ^ (value >> 16)
        value = (value ^ np.uint32(before)) * np.uint32(hash_const)
        return value ^ (value >> np.uint32(16))

    pool = [hashmix(entropy[i] if i < len(entropy) else 0) for i in range(_POOL)]
    for source in range(_POOL):  # every pool word into every other
        for target in range(_POOL):
            if source != target:
                pool[target] = _mix(pool[target], hashmix(pool[source]))
    for word in entropy[_POOL:]:  # entropy beyond the pool, into every pool word
        for target in range(_POOL):
            pool[target] = _mix(pool[target], hashmix(word))
    return pool


def _mix(x: Word, y: Word) -> Word:
    if isinstance(x, int) and isinstance(y, int):
        value = (_MIX_L * x - _MIX_R * y) & _MASK32
        return value ^ (value >> 16)
    left = np.uint32((_MIX_L * x) & _MASK32) if isinstance(x, int) else np.uint32(_MIX_L) * x
    right = np.uint32((_MIX_R * y) & _MASK32) if isinstance(y, int) else np.uint32(_MIX_R) * y
    mixed = left - right
    return mixed ^ (mixed >> np.uint32(16))


def _generate(pool: list[Word], count: int, words: int) -> np.ndarray:
    """SeedSequence's ``generate_state(words, np.uint32)``: a (count, words) uint32 array."""
    out = np.empty((count, words), dtype=np.uint32)
    hash_const = _INIT_B
    for column in range(words):
        word = pool[column % _POOL]
        before, hash_const = hash_const, (hash_const * _MULT_B) & _MASK32
        if isinstance(word, int):
            value = ((word ^ before) * hash_const) & _MASK32
            out[:, column] = value ^ (value >> 16)
        else:
            mixed = (word ^ np.uint32(before)) * np.uint32(hash_const)
            out[:, column] = mixed ^ (mixed >> np.uint32(16))
    return out
