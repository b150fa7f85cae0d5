"""Config data handed over from Python, held to the limits a YAML file is held to.

A mapping passed to ``load_pipeline`` (or an override's value, or a ``Document``) skips the
YAML reader, so its limits are checked here instead: nesting depth, number of values and
the size of integers. The walk is iterative, so data nested thousands deep (or a mapping
that contains itself) is refused instead of raising ``RecursionError``. NumPy scalars
(``np.int64(10)``) become the Python numbers they hold.
"""

from __future__ import annotations

import copy
from typing import Any

from confaug.errors import ConfigError, Problem
from confaug.reading.document import KeyPath, clipped, dotted
from confaug.reading.yaml_io import DEFAULT_LIMITS, MAX_INTEGER_DIGITS, Limits


def too_many_digits(value: Any) -> bool:
    """Whether ``value`` is an int with more digits than a config's integers may have."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    # 10**d has about d * 3.32 bits: comparing bit lengths never builds the decimal string.
    return abs(value).bit_length() > int(MAX_INTEGER_DIGITS * 3.33) + 1


def plain_copy(
    data: Any,
    *,
    file: str | None = None,
    base: KeyPath = (),
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
) -> Any:
    """A deep copy of ``data`` (dicts, lists and tuples rebuilt, other values deep-copied).

    ``base`` is where ``data`` sits in the config and ``depth`` how many levels of
    collections hold it already (both for an override's value). A ConfigError names the
    place of the first value past the limits.
    """

    def fail(path: KeyPath, message: str) -> ConfigError:
        return ConfigError([Problem(file, None, None, dotted(path), message)])

    values = 0
    root: list[Any] = [None]
    # (source, path, depth of the collections around it, the container to fill, key there)
    todo: list[tuple[Any, KeyPath, int, Any, Any]] = [(data, base, depth, root, 0)]
    while todo:
        value, path, level, target, key = todo.pop()
        value = _python_scalar(value, limits.max_nodes)
        values += 1
        if values > limits.max_nodes:
            raise fail(path, f"more than {limits.max_nodes:,} values in one config")
        if isinstance(value, dict):
            if level + 1 > limits.max_depth:
                raise fail(path, f"nesting deeper than {limits.max_depth} levels")
            made: dict[Any, Any] = {}
            target[key] = made
            for name in value:
                if not isinstance(name, str):
                    # A file's keys are always text; a key computed in Python (an int, True,
                    # an enum) would reach checks that compare names as text. Refused here,
                    # once, where Python data comes in, naming the mapping that holds it.
                    shown = clipped(repr(name))
                    raise fail(path, f"key {shown} is not a string: the keys of a config are names")
            for name, item in value.items():
                made[name] = None  # keeps the order of the keys
                todo.append((item, (*path, str(name)), level + 1, made, name))
        elif isinstance(value, (list, tuple)):
            if level + 1 > limits.max_depth:
                raise fail(path, f"nesting deeper than {limits.max_depth} levels")
            items: list[Any] = [None] * len(value)
            target[key] = items
            if isinstance(value, tuple):
                # Filled as a list, turned back into a tuple once its items are in place.
                todo.append((_Tuple(items), path, level, target, key))
            for index, item in enumerate(value):
                todo.append((item, (*path, index), level + 1, items, index))
        elif isinstance(value, _Tuple):
            values -= 1  # not a value of the config: the marker of a tuple to finish
            target[key] = tuple(value.items)
        elif too_many_digits(value):
            digits = int(abs(value).bit_length() * 0.30103) + 1  # str() refuses 4,300 digits
            raise fail(path, f"integer of {digits:,} digits is too large")
        else:
            target[key] = value if _immutable(value) else copy.deepcopy(value)
    return root[0]


class _Tuple:
    """A tuple whose items are filled in as a list first (see plain_copy)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items


#: The NumPy kinds read as the Python scalar they hold: bool, signed and unsigned integers,
#: floats, complex (refused later as Python's complex is) and str.
_NUMPY_KINDS = frozenset("biufcU")


def _python_scalar(value: Any, most: int) -> Any:
    """A NumPy scalar (``np.int64(10)``, ``np.float32(0.1)``, ``np.bool_``) or 0-d array as
    the Python scalar it holds; any other value as it is.

    Values computed with NumPy (a sweep, ``np.arange``) are numbers to a user, and Keras'
    ImageDataGenerator takes them; the spec's strict checks would refuse them as "not a
    number". They are converted here, where Python data enters, so every field (and every
    transform parameter) reads them alike and the limits below apply to the Python value.
    ``np.float32(0.1)`` becomes the float 0.10000000149011612, the value NumPy computes with.
    """
    if not type(value).__module__.startswith("numpy"):  # plain Python data: no NumPy import
        return value
    import numpy as np

    scalar = isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0)
    if scalar and value.dtype.kind in _NUMPY_KINDS:
        return value.item()
    # A small array of numbers (zoom_range=np.array([0.9, 1.1]), as Keras takes it) is the
    # list it holds; its size is checked before tolist() builds it, against the limit of
    # values the list would then count towards.
    if isinstance(value, np.ndarray) and value.dtype.kind in _NUMPY_KINDS and value.size <= most:
        return value.tolist()
    return value


def _immutable(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, bytes))
