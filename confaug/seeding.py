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
import re
import sys
from typing import Any

import numpy as np

from confaug.errors import DataError

ORDER_STREAM, SAMPLE_STREAM, ITERABLE_STREAM = 0, 1, 2
_PERSON = b"confaug-ray-row"  # BLAKE2's personalization: these hashes are ours alone
#: The memory address in a default repr (``<Foo object at 0x7f…>``, ``<function f at 0x…>``).
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


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
    machine. Arrays are hashed with their dtype and shape, text as UTF-8, any other value by
    its ``str``.

    A value that cannot name a row stably is a ``DataError`` (the caller names the row):
    None, NaN or NaT (NumPy's or pandas'), ``pandas.NA``: a missing key (every row without
    one would get the same augmentation, and None would be the text "None"); a value whose
    text holds a memory address (an object's default repr, another in every process), whose
    bytes are pointers (an object array) or whose order follows Python's salted ``hash``
    (a set of strings).
    """
    if _is_int(value) and value >= 0:
        return int(value)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise _unstable(value, "an object array, whose bytes are pointers")
        data = b"%s|%s|" % (str(value.dtype).encode(), str(value.shape).encode())
        data += np.ascontiguousarray(value).tobytes()
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif _is_int(value):
        data = str(int(value)).encode()
    elif isinstance(value, str):  # by its str, as always (a str subclass may print otherwise)
        data = str(value).encode("utf-8", "surrogatepass")
    else:
        if _is_missing(value):
            raise _missing(value)
        if isinstance(value, (set, frozenset)) and not all(_hashes_alike(item) for item in value):
            raise _unstable(value, "a set, whose order follows Python's salted hash")
        text = str(value)
        if _ADDRESS.search(text):
            raise _unstable(value, "a value whose text holds a memory address")
        data = text.encode("utf-8", "surrogatepass")  # as str(value) always was: no key moves
    digest = hashlib.blake2b(data, digest_size=16, person=_PERSON).digest()
    return int.from_bytes(digest, "little")


def _is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing-value marker: None, a NaN (float or complex), NumPy's
    NaT, or pandas' ``NA``/``NaT`` (whose texts "<NA>" and "NaT" would key every such row
    alike). pandas is looked up only when the value is one of its own objects."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        return bool(np.isnan(value))
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    pandas = sys.modules.get("pandas")
    if pandas is not None and type(value).__module__.split(".")[0] == "pandas":
        missing = pandas.isna(value)
        return isinstance(missing, (bool, np.bool_)) and bool(missing)
    return False


def _hashes_alike(item: Any) -> bool:
    """Whether a set item's hash is the same in every process (ints hash as themselves)."""
    return isinstance(item, (int, np.integer)) and not isinstance(item, bool)


def _is_int(value: Any) -> bool:
    """An int or NumPy integer; not a bool, nor a timedelta64 (an ``np.integer`` that
    ``int()`` refuses: it is keyed by its text, as any other value)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.timedelta64))


def _missing(value: Any) -> DataError:
    """The error for a key that marks a missing value."""
    return DataError(
        f"the row key is {value} (missing): every row without a key would get the "
        "same augmentation; give every row a key of its own"
    )


def _unstable(value: Any, what: str) -> DataError:
    """The error for a key whose hash would differ between processes."""
    return DataError(
        f"a row key of type {type(value).__name__} is {what}: it would not name the row the "
        "same way in another process; give the rows int or str keys"
    )
