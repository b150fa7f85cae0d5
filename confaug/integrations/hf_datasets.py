"""Augment a Hugging Face ``datasets.Dataset`` on the fly: a transform for
``ds.with_transform(...)`` / ``ds.set_transform(...)``.

    from confaug.integrations.hf_datasets import hf_transform

    augment = hf_transform("aug.yaml", seed=7, key_column="id")
    train = ds.with_transform(augment)        # train[i]["image"]: the augmented array
    for epoch in range(10):
        augment.set_epoch(epoch)              # a new augmentation each epoch
        for batch in DataLoader(train, batch_size=32, num_workers=2): ...

The transform receives the batch of rows that ``datasets`` formats (``ds[i]``, a slice,
iteration, a DataLoader's items) as a dict of column lists, and returns it with
``image_column`` (and ``mask_column``) augmented; the other columns are kept. Images may be
what ``datasets.Image()`` decodes (PIL images), arrays, ``Image(decode=False)``'s
``{"bytes", "path"}`` dicts, bytes or paths — decoded by confaug's decoder, with its pixel
limit.

Determinism (``confaug.integrations.rows``): a row is augmented with a seed derived from
``(seed, epoch, key)``, the key being its ``key_column`` value (an int key — the row's index —
gives the augmentation a generator gives that sample) or its pixels; so ``ds[i]`` gives the
same image every time within an epoch, whichever worker reads it. ``set_epoch`` moves to
another epoch; a DataLoader's worker processes copy the transform when they start, so with
``persistent_workers=True`` they keep the epoch they started with.

Nothing here imports ``datasets``: the transform only sees Python lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from confaug.batching.factory import with_options_of
from confaug.integrations.rows import RowAugmenter, is_one_row

_BATCH_CALL = "pass batched=True to map(), or use ds.with_transform(...)"


class HFTransform(RowAugmenter):
    """A ``datasets`` formatting transform that augments images; see the module docstring."""

    def __init__(
        self,
        pipeline: Any,
        *,
        image_column: str = "image",
        mask_column: str | None = None,
        key_column: str | None = None,
        output_column: str | None = None,
        seed: int | None = None,
        epoch: int = 0,
        channels_first: bool = False,
        float32: bool = False,
        standardize: bool = True,
        target_size: tuple[int, int] | None = None,
        color_mode: str = "rgb",
        pixel_dtype: Any = None,
    ) -> None:
        super().__init__(
            pipeline,
            seed=seed,
            epoch=epoch,
            standardize=standardize,
            target_size=target_size,
            color_mode=color_mode,
            pixel_dtype=pixel_dtype,
        )
        self.image_column = image_column
        self.mask_column = mask_column
        self.key_column = key_column
        #: Where the augmented images go (default: over ``image_column``).
        self.output_column = output_column or image_column
        self.channels_first = channels_first
        self.float32 = float32

    def __call__(self, batch: Mapping[str, list[Any]], *extra: Any) -> dict[str, list[Any]]:
        """Augment one formatted batch (a dict of column lists)."""
        if extra:  # ds.map(augment, with_indices=True / with_rank=True): Python's words
            raise TypeError(
                f"hf_transform takes the batch alone, got {len(extra)} more argument(s): "
                "drop with_indices / with_rank from ds.map(...); to key rows by their index, "
                "add it as a column (ds.add_column('id', range(len(ds)))) and pass "
                "key_column='id'"
            )
        if not isinstance(batch, Mapping):
            raise TypeError(
                f"expected a dict of column lists, got {type(batch).__name__}; pass this "
                "object to ds.with_transform(...) or ds.set_transform(...)"
            )
        for column in (self.image_column, self.mask_column, self.key_column):
            if column is not None and column not in batch:
                raise KeyError(
                    f"column {column!r} is not in the batch (columns: {list(batch)}); with "
                    "set_transform(columns=...), list every column the transform reads"
                )
        if is_one_row(batch, self.image_column, batch_call=_BATCH_CALL, adapter="hf_transform"):
            # ds.map(f) and IterableDataset.map(f) hand over one row (batched=False is their
            # default): read as a batch, each pixel line was augmented as an image of its
            # own. The row is augmented as a batch of one and comes back as a row.
            done = self._augment_batch({name: [value] for name, value in dict(batch).items()})
            return {name: values[0] for name, values in done.items()}
        return self._augment_batch(batch)

    def _augment_batch(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        outputs = self.augment(
            batch[self.image_column],
            masks=None if self.mask_column is None else batch[self.mask_column],
            keys=None if self.key_column is None else batch[self.key_column],
            key_name=self.key_column or "key",
            mask_name=self.mask_column or "mask",
            image_name=self.image_column,
        )
        out = dict(batch)
        out[self.output_column] = [self._layout(o["image"]) for o in outputs]
        if self.mask_column is not None:
            out[self.mask_column] = [o["mask"] for o in outputs]
        return out

    def _layout(self, image: np.ndarray) -> np.ndarray:
        if self.channels_first and self.pipeline.spec.data_format != "channels_first":
            image = np.moveaxis(image, -1, 0)
        if self.float32 and image.dtype in (np.uint8, np.uint16):  # to [0, 1], as documented
            image = image.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
        elif self.float32:
            image = image.astype(np.float32, copy=False)
        return np.ascontiguousarray(image)


@with_options_of(HFTransform)  # HFTransform's options in help() and editors; typos hinted
def hf_transform(pipeline_or_config: Any, **options: Any) -> HFTransform:
    """An :class:`HFTransform` for ``ds.with_transform`` / ``ds.set_transform``.

    ``pipeline_or_config`` is a ``Pipeline``, a config path, ``preset:NAME``, a mapping or a
    ``Spec`` (compiled now: a bad config fails here). Options: ``image_column`` ("image"),
    ``mask_column``, ``key_column`` (None: rows are keyed by their pixels; a row whose
    key is None or NaN is a DataError),
    ``output_column`` (e.g. "pixel_values"; default: ``image_column``), ``seed`` (default:
    the spec's, else one drawn now), ``epoch``, ``channels_first`` / ``float32`` (CHW float32
    in [0, 1] for a torch model), ``standardize``, ``target_size`` / ``color_mode`` for
    encoded images and paths, and ``pixel_dtype`` ("uint16" for 16-bit array columns,
    which ``datasets`` hands over as lists of ints; default 8-bit).

    Also works as ``ds.map(augment)`` without ``batched=True`` (and on an
    ``IterableDataset``): a single row is augmented as one row.
    """
    return HFTransform(pipeline_or_config, **options)


__all__ = ["HFTransform", "hf_transform"]
