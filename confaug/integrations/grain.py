"""Grain transforms for JAX input pipelines: ``grain.transforms.Map`` and ``RandomMap``.

    import grain
    from confaug.integrations.grain import GrainRandomAugment

    ds = (grain.MapDataset.source(records)      # records: dicts with an "image" (and "id")
          .shuffle(seed=7)
          .repeat(10)                           # before the augmentation: new pixels each epoch
          .random_map(GrainRandomAugment("aug.yaml", seed=7, key_field="id"), seed=7)
          .batch(32))

Two transforms, both running the batching layer's loader on the element
(``confaug.integrations.rows``), so they share the generator's seeding and decoder:

- :class:`GrainAugment` (a ``Map``) augments with a seed derived from ``(seed, epoch,
  key)``, exactly as the generator, Ray and the Hugging Face transform do: an int
  ``key_field`` value ``i`` gives the augmentation a generator gives sample ``i`` in that
  epoch. ``epoch`` is fixed: build one per epoch, or call ``set_epoch``.
- :class:`GrainRandomAugment` (a ``RandomMap``) takes Grain's per-element random generator
  for the epoch's place: a 63-bit draw from it replaces ``epoch`` in ``(seed, draw, key)``.
  Grain derives that generator from its own seed and the element's position, so every
  visit of an element (every epoch, after ``repeat``) gets new augmentation, reproducible
  from Grain's seed and the same for any number of workers.

An element is a dict (``image_key``, optional ``mask_key`` and ``key_field``; other entries are
kept) or a bare image. Images may be arrays (HWC), PIL images, encoded bytes or paths.

Grain is imported when the first transform is made, never when this module is imported.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from confaug.batching.factory import unexpected_keywords
from confaug.integrations.frameworks import classes_on_first_use, import_grain
from confaug.integrations.rows import RowAugmenter
from confaug.seeding import SAMPLE_STREAM

_CLASS_NAMES = ("GrainAugment", "GrainRandomAugment")


class _ElementAugmenter(RowAugmenter):
    """What both transforms share: reading an element and writing it back."""

    def __init__(
        self,
        pipeline: Any,
        *,
        image_key: str = "image",
        mask_key: str | None = None,
        key_field: str | None = None,
        seed: int | None = None,
        epoch: int = 0,
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
        self.image_key = image_key
        self.mask_key = mask_key
        self.key_field = key_field

    def _apply(self, element: Any, stream: tuple[int, ...]) -> Any:
        if not isinstance(element, Mapping):  # a bare image
            if self.key_field is not None or self.mask_key is not None:
                raise TypeError(
                    f"key_field / mask_key need dict elements; got {type(element).__name__}"
                )
            return self.augment([element], stream=stream)[0]["image"]
        for name in (self.image_key, self.mask_key, self.key_field):
            if name is not None and name not in element:
                raise KeyError(f"element has no {name!r} (keys: {list(element)})")
        out = self.augment(
            [element[self.image_key]],
            masks=None if self.mask_key is None else [element[self.mask_key]],
            keys=None if self.key_field is None else [element[self.key_field]],
            key_name=self.key_field or "key",
            mask_name=self.mask_key or "mask",
            image_name=self.image_key,
            stream=stream,
        )[0]
        result = dict(element)
        result[self.image_key] = out["image"]
        if self.mask_key is not None:
            result[self.mask_key] = out["mask"]
        return result


def _checked_init(name: str) -> Any:
    """``_ElementAugmenter.__init__`` under the class's own name, with a did-you-mean for a
    misspelt option (Python's error named the internal class and hinted nothing)."""
    accepted = [
        option
        for option in inspect.signature(_ElementAugmenter.__init__).parameters
        if option not in ("self", "pipeline")
    ]

    def __init__(self: _ElementAugmenter, pipeline: Any, **options: Any) -> None:
        error = unexpected_keywords(name, options, accepted)
        if error is not None:
            raise error
        _ElementAugmenter.__init__(self, pipeline, **options)

    __init__.__signature__ = inspect.signature(_ElementAugmenter.__init__)  # type: ignore[attr-defined]
    return __init__


def _build_classes() -> dict[str, type]:
    import_grain()  # the install command when Grain is missing
    from grain import transforms

    class GrainAugment(_ElementAugmenter, transforms.Map):
        """A ``grain.transforms.Map``: seeds from ``(seed, epoch, key)``."""

        __init__ = _checked_init("GrainAugment")

        def map(self, element: Any) -> Any:
            return self._apply(element, (SAMPLE_STREAM, self.epoch))

    class GrainRandomAugment(_ElementAugmenter, transforms.RandomMap):
        """A ``grain.transforms.RandomMap``: seeds from ``(seed, Grain's draw, key)``."""

        __init__ = _checked_init("GrainRandomAugment")

        def random_map(self, element: Any, rng: np.random.Generator) -> Any:
            draw = int(rng.integers(0, 2**63, dtype=np.int64))
            return self._apply(element, (SAMPLE_STREAM, draw))

    return {"GrainAugment": GrainAugment, "GrainRandomAugment": GrainRandomAugment}


# The classes are created on first use (importing Grain then) and found here by pickle.
__getattr__ = classes_on_first_use(__name__, _CLASS_NAMES, _build_classes)
