"""Batches from any iterable, unpacked into a per-batch array source for augmentation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from confaug.compiler.values import check_one_kind
from confaug.sources.arrays import ArraySource, per_sample_count, refuse_non_finite
from confaug.sources.errors import DataError


def unpack_batch(
    batch: Any, number: int, *, masks_in_y: bool = False, data_format: str = "channels_last"
) -> tuple[ArraySource, tuple[Any, ...]]:
    """Split ``x``, ``(x, y)`` or ``(x, y, w)`` into a source for ``x`` and the rest.

    With ``masks_in_y`` the source also holds ``y`` as masks, so they get the same transform.
    ``y`` and ``w`` hold one entry per sample, or are Keras multi-output values (a dict of
    arrays, or a list of them) holding one per sample in each array.
    Errors name the batch number and, for per-sample problems, the index in the batch.
    """
    if isinstance(batch, Mapping):  # tf.data / tfds / HF dict batches
        raise DataError(
            f"batch {number} is a dict (keys {list(batch)[:5]}); a batch is x, (x, y) or "
            "(x, y, w): wrap e.g. ((b['image'], b['label']) for b in batches)"
        )
    if isinstance(batch, (tuple, list)):
        if not 1 <= len(batch) <= 3:
            raise DataError(
                f"batch {number}: expected x, (x, y) or (x, y, w); got {len(batch)} items"
            )
        x, rest = batch[0], tuple(batch[1:])
    else:
        x, rest = batch, ()
    if masks_in_y and not rest:
        raise DataError(f"batch {number}: masks_in_y needs (x, y) batches")
    if isinstance(x, (list, tuple)):  # np.asarray would stack uint8 and floats as one
        _refuse_multi_input(x, rest, number)
        check_one_kind(x, f"batch {number} x")
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except ValueError as exc:  # ragged: images of different shapes
            raise DataError(f"batch {number}: x is not one array of images ({exc})") from None
    source = ArraySource(
        x,
        masks=rest[0] if masks_in_y else None,
        data_format=data_format,
        name=f"batch {number} x",
    )
    count = len(source)
    for key, values in zip(("y", "w"), rest, strict=False):
        # With masks_in_y, y is the masks (the source checked them) and w goes with them.
        outputs = None if masks_in_y else _outputs(values, key, count)
        for name, value in outputs if outputs is not None else [(key, values)]:
            if value is not None and per_sample_count(value, f"batch {number} {name}") != count:
                raise DataError(
                    f"batch {number} x has {count} samples but {name} has {len(value)}"
                    + (": each output's array holds one entry per sample" if outputs else "")
                )
            # flow()'s check of labels and weights: a NaN would reach the loss as it is.
            numbers = None if masks_in_y and key == "y" else _floats(value)
            if numbers is not None:
                refuse_non_finite(numbers, f"batch {number} {name}")
    return source, rest


def _refuse_multi_input(x: list[Any] | tuple[Any, ...], rest: tuple[Any, ...], number: int) -> None:
    """A ``DataError`` for a Keras multi-input ``x`` (``[images, other_input]``): a list of
    whole batches, not of images, which was read as images and refused with a hint that did
    not apply ("x[1] is float64 but x[0] is uint8: give images of one kind").

    Its members are arrays of rank 2 or more with one first dimension, the batch's sample
    count: told from a list of images by a member of rank 4 or more (a batch of images), or
    by ``y`` holding that many entries rather than one per member (a list of grey and colour
    images has members of different ranks too, so ranks and dtypes alone do not tell)."""
    try:
        shapes = [_shape(member) for member in x]
        labels = _shape(rest[0]) if rest else ()
    except (AttributeError, TypeError, ValueError):  # not arrays (nested lists), or no shape
        return
    if len(x) < 2 or any(len(shape) < 2 for shape in shapes):
        return
    firsts = {shape[0] for shape in shapes}
    if len(firsts) != 1:
        return
    samples = firsts.pop()
    labelled = bool(labels) and labels[0] == samples != len(x)
    if not (labelled or any(len(shape) >= 4 for shape in shapes)):
        return
    listed = ", ".join(str(shape) for shape in shapes)
    raise DataError(
        f"batch {number} x is a list of {len(x)} arrays of shapes {listed}, each with "
        f"{samples} entries: a Keras multi-input batch, which wrap() does not take (it "
        "augments x as one batch of images). Give the image input alone as x and carry the "
        "others beside the labels, e.g. wrap((x[0], (x[1], y)) for x, y in batches) and "
        "rebuild ([images, x1], y) from each (images, (x1, y)) it yields; or augment the "
        "image input yourself with pipe.apply_batch(x[0])"
    )


def _shape(value: Any) -> tuple[int, ...]:
    """``value.shape`` as ints: an array's or a tensor's (AttributeError without one,
    TypeError for a dimension that is not known)."""
    return tuple(int(size) for size in value.shape)


def _floats(value: Any) -> np.ndarray | None:
    """``value`` as a float (or complex) array when it is one, or a list, tuple or CPU
    tensor of numbers that reads as one without a copy of anything else; else None (ints,
    strings, objects: nothing to check)."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "fc" else None
    if not isinstance(value, (list, tuple)) and not hasattr(value, "__array__"):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # ragged, or a tensor NumPy cannot read (on a GPU): not checked here
        return None
    return array if array.dtype.kind in "fc" else None


def _outputs(values: Any, key: str, count: int) -> list[tuple[str, Any]] | None:
    """The arrays of a Keras multi-output ``y`` (or ``w``), named for errors: a dict of
    arrays, or a list or tuple of arrays whose number is not ``count`` (as many entries as
    samples are read as one entry a sample); None for any other value. Each array holds one
    entry per sample, so counting the keys (or arrays) as samples would refuse a valid
    batch; the value itself is passed on as it is."""
    if isinstance(values, Mapping):
        return [(f"{key}[{name!r}]", value) for name, value in values.items()]
    if (
        isinstance(values, (list, tuple))
        and values
        and len(values) != count
        and all(getattr(value, "ndim", 0) >= 1 for value in values)
    ):
        return [(f"{key}[{index}]", value) for index, value in enumerate(values)]
    return None
