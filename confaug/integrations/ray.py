"""Run a confaug pipeline on Ray Data: a callable class for ``Dataset.map_batches``.

    import ray
    from confaug.integrations.ray import ray_augment

    ds = ray.data.read_images("data/train", include_paths=True)
    augment = ray_augment("aug.yaml", seed=7)
    ds = ds.map_batches(augment, batch_format="numpy",
                        compute=ray.data.ActorPoolStrategy(size=2), num_cpus=0.5)

:func:`ray_augment` reads, validates and compiles the config on the driver (a bad config
fails there, with file, line and column) and returns a class; Ray builds one instance per
actor, which compiles the pipeline once in ``__init__``: no worker reads the YAML file.

Determinism: row ``r`` is augmented with a seed derived from ``(seed, epoch, key(r))``, where
``key(r)`` is a BLAKE2 hash of the row's ``key_column`` value (its path, by default) — not
Python's salted ``hash`` — so the same rows give the same pixels on any number of workers,
nodes or blocks, in any order. Iterating a dataset twice gives the same images: pass
``epoch=`` (a new class per epoch) for new augmentation.

Bad rows (a file that does not decode, an array of the wrong shape: a ``DataError``) follow
``on_error``, as in the generator: ``"raise"`` stops with a ``DataError`` naming the row's key;
``"skip"`` drops the row and logs one warning per row (logger ``"confaug"``; Ray forwards
worker logs to the driver); ``"mark"`` keeps every row and adds a string column
``confaug_error`` — empty for good rows, the reason for bad ones, whose image is then an
empty array — so the bad rows can be counted or collected with ``ds.filter``. Any other
failure (a pipeline that cannot run on good data) raises ``SampleError`` naming the row.

Nothing here imports Ray: the class only sees NumPy batches.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np

from confaug.batching.loader import SampleError
from confaug.batching.seeding import resolve_seed
from confaug.compiler.pipeline import Pipeline
from confaug.errors import DataError
from confaug.seeding import sample_seed
from confaug.sources.decode import DecodeOptions, decode_image, decode_mask

logger = logging.getLogger("confaug")

OnError = Literal["raise", "skip", "mark"]
#: The column that ``on_error="mark"`` adds.
ERROR_COLUMN = "confaug_error"
_ON_ERROR = ("raise", "skip", "mark")
_PERSON = b"confaug-ray-row"


def row_key(value: Any) -> int:
    """A stable 128-bit integer for a row key (a path, bytes, an int or anything ``str``-able).

    Equal keys give equal integers in every process and on every machine.
    """
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


def row_seed(seed: int, epoch: int, key: Any) -> int:
    """The augmentation seed of the row whose key is ``key``."""
    return sample_seed(seed, epoch, row_key(key))


def _compile(pipeline: Any) -> Pipeline:
    """A Pipeline from a Pipeline, its pickled state, a config path/mapping or a Spec."""
    if isinstance(pipeline, Pipeline):
        return pipeline
    if isinstance(pipeline, Mapping) and set(pipeline) == {"spec", "function", "stats"}:
        compiled = Pipeline.__new__(Pipeline)
        compiled.__setstate__(dict(pipeline))
        return compiled
    from confaug.api import load_pipeline

    return load_pipeline(pipeline)


class RayAugmenter:
    """Augments the image column (and mask column) of NumPy batches; see the module docstring.

    Use :func:`ray_augment` to build one with the config validated on the driver; or pass this
    class to ``map_batches`` with ``fn_constructor_kwargs={"pipeline": ..., "seed": ...}``
    (a path given this way must be readable on every worker).
    """

    #: The constructor options a :func:`ray_augment` class was bound with.
    options: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        pipeline: Any,
        *,
        image_column: str = "image",
        mask_column: str | None = None,
        key_column: str | None = "path",
        seed: int | None = None,
        epoch: int = 0,
        on_error: OnError = "raise",
        standardize: bool = True,
        target_size: tuple[int, int] | None = None,
        color_mode: str = "rgb",
    ) -> None:
        self._decode = _checked_options(on_error, epoch, target_size, color_mode)
        self.pipeline = _compile(pipeline)
        if seed is None:
            seed = self.pipeline.spec.seed
        if seed is None:
            raise ValueError(
                "RayAugmenter needs a seed shared by every worker (or a spec with `seed:`); "
                "ray_augment() draws one on the driver when none is given"
            )
        self.seed = int(seed)
        self.epoch = int(epoch)
        self.image_column = image_column
        self.mask_column = mask_column
        self.key_column = key_column
        self.on_error: OnError = on_error
        self.standardize = standardize
        self.target_size = None if target_size is None else tuple(target_size)
        self.color_mode = color_mode
        self._channels_first = self.pipeline.spec.data_format == "channels_first"
        #: ``(key, reason)`` of every row this instance skipped or marked.
        self.errors: list[tuple[str, str]] = []

    # ---- one batch ----------------------------------------------------------------------
    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Augment one NumPy batch (a dict of columns); other columns are kept."""
        if not isinstance(batch, Mapping):
            raise TypeError(
                f"expected a dict of NumPy columns, got {type(batch).__name__}; "
                'call map_batches(..., batch_format="numpy")'
            )
        for column in (self.image_column, self.mask_column, self.key_column):
            if column is not None and column not in batch:
                raise KeyError(_missing_column(column, list(batch)))
        images = batch[self.image_column]
        masks = batch[self.mask_column] if self.mask_column is not None else None
        keys = batch[self.key_column] if self.key_column is not None else None
        out_images: list[np.ndarray | None] = []
        out_masks: list[np.ndarray | None] = []
        reasons: list[str] = []
        for row in range(len(images)):
            key = keys[row] if keys is not None else None
            try:
                image, mask = self._augment(images[row], None if masks is None else masks[row], key)
            except DataError as exc:
                label = self._label(key, images[row])
                if self.on_error == "raise":
                    raise DataError(f"{label}: {exc}") from exc
                reason = str(exc)
                self.errors.append((label, reason))
                reasons.append(reason)
                if self.on_error == "skip":
                    logger.warning("confaug: skipping row %s: %s", label, reason)
                image = mask = None
            except Exception as exc:  # not the data's fault: never skipped
                label = self._label(key, images[row])
                raise SampleError(f"{label}: pipeline failed: {type(exc).__name__}: {exc}") from exc
            else:
                reasons.append("")
            out_images.append(image)
            out_masks.append(mask)
        return self._assemble(batch, out_images, out_masks, reasons)

    def _augment(self, image: Any, mask: Any, key: Any) -> tuple[np.ndarray, np.ndarray | None]:
        image = self._pixels(image, is_mask=False)
        data: dict[str, Any] = {"image": image}
        if mask is not None:
            data["mask"] = self._pixels(mask, is_mask=True)
        seed = row_seed(self.seed, self.epoch, image if self.key_column is None else key)
        out = self.pipeline(seed=seed, **data)
        result = out["image"]
        if self.standardize:
            result = self.pipeline.standardize(result[None])[0]
        return result, out.get("mask") if mask is not None else None

    def _pixels(self, value: Any, *, is_mask: bool) -> np.ndarray:
        """An array as given, or encoded file bytes (``read_binary_files``) decoded."""
        if not isinstance(value, (bytes, bytearray)):
            return np.asarray(value)
        data = bytes(value)
        if is_mask:
            return decode_mask(data, self._decode.target_size)
        pixels = decode_image(data, self._decode)
        return np.ascontiguousarray(pixels.transpose(2, 0, 1)) if self._channels_first else pixels

    def _label(self, key: Any, image: Any) -> str:
        if self.key_column is not None:
            return f"{self.key_column}={_text(key)}"
        return f"row with pixel hash {row_key(np.asarray(image)):032x}"

    # ---- output -------------------------------------------------------------------------
    def _assemble(
        self,
        batch: Mapping[str, np.ndarray],
        images: list[np.ndarray | None],
        masks: list[np.ndarray | None],
        reasons: list[str],
    ) -> dict[str, np.ndarray]:
        failed = [bool(reason) for reason in reasons]
        if self.on_error == "skip" and any(failed):
            kept = np.flatnonzero(~np.asarray(failed))
            out = {name: np.asarray(values)[kept] for name, values in batch.items()}
            images = [images[i] for i in kept]
            masks = [masks[i] for i in kept]
        else:
            out = dict(batch)
        reference = batch[self.image_column]
        out[self.image_column] = _column(images, reference)
        if self.mask_column is not None:
            out[self.mask_column] = _column(masks, batch[self.mask_column])
        if self.on_error == "mark":
            out[ERROR_COLUMN] = np.asarray(reasons, dtype=object)
        return out


def _column(values: list[np.ndarray | None], like: Any) -> np.ndarray:
    """Rows as one stacked array when they share shape and dtype, else an object array."""
    good = [value for value in values if value is not None]
    if good:
        placeholder = np.zeros((0,) * good[0].ndim, dtype=good[0].dtype)
    else:
        sample = np.asarray(like[0]) if len(like) and not isinstance(like[0], bytes) else None
        placeholder = np.zeros((0,) * (3 if sample is None else sample.ndim), dtype=np.uint8)
    rows = [placeholder if value is None else value for value in values]
    if not rows:
        return np.asarray(like)[:0] if np.asarray(like).dtype != object else np.empty(0, object)
    first = rows[0]
    if all(row.shape == first.shape and row.dtype == first.dtype for row in rows):
        return np.stack(rows)
    column = np.empty(len(rows), dtype=object)
    for index, row in enumerate(rows):
        column[index] = row
    return column


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _missing_column(column: str, columns: list[str]) -> str:
    hint = ""
    if column == "path":
        hint = (
            "; read with ray.data.read_images(..., include_paths=True), or pass "
            "key_column=None to key rows by their pixels"
        )
    return f"column {column!r} is not in the batch (columns: {columns}){hint}"


def _checked_options(
    on_error: str, epoch: int, target_size: tuple[int, int] | None, color_mode: str
) -> DecodeOptions:
    """Raise ValueError for a bad option; return how encoded image bytes are decoded."""
    if on_error not in _ON_ERROR:
        raise ValueError(f"on_error={on_error!r}; expected one of {list(_ON_ERROR)}")
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch={epoch!r}; expected an int >= 0")
    return DecodeOptions(color_mode=color_mode, target_size=target_size)  # type: ignore[arg-type]


def ray_augment(
    pipeline_or_config: Any,
    *,
    image_column: str = "image",
    mask_column: str | None = None,
    key_column: str | None = "path",
    seed: int | None = None,
    epoch: int = 0,
    on_error: OnError = "raise",
    standardize: bool = True,
    target_size: tuple[int, int] | None = None,
    color_mode: str = "rgb",
) -> type[RayAugmenter]:
    """A :class:`RayAugmenter` subclass with these options bound, for ``map_batches``.

    ``pipeline_or_config`` is a ``Pipeline`` (its registered ``preprocessing_function`` and
    fitted statistics travel with it), a config path, ``preset:NAME``, a mapping or a
    ``Spec``; it is compiled here, so config errors surface on the driver. ``seed=None``
    takes the spec's ``seed``, else draws one now (see the class's ``seed`` attribute), shared
    by every worker. Keyword arguments in ``fn_constructor_kwargs`` override these.
    Image values may be arrays (``read_images``) or encoded bytes (``read_binary_files``),
    decoded with ``target_size`` / ``color_mode`` so that undecodable files follow
    ``on_error``.
    """
    _checked_options(on_error, epoch, target_size, color_mode)  # fail on the driver
    pipeline = _compile(pipeline_or_config)
    if seed is None:
        seed = pipeline.spec.seed
    if seed is None:
        seed = resolve_seed(None)  # drawn once here, shared by every worker
    bound: dict[str, Any] = {
        "pipeline": pipeline.__getstate__(),
        "image_column": image_column,
        "mask_column": mask_column,
        "key_column": key_column,
        "seed": int(seed),
        "epoch": int(epoch),
        "on_error": on_error,
        "standardize": standardize,
        "target_size": target_size,
        "color_mode": color_mode,
    }

    def __init__(self: RayAugmenter, **overrides: Any) -> None:
        unknown = set(overrides) - set(bound)
        if unknown:
            raise TypeError(f"unknown option(s) {sorted(unknown)}; expected {sorted(bound)}")
        options = {**bound, **overrides}
        RayAugmenter.__init__(self, options.pop("pipeline"), **options)

    namespace: dict[str, Any] = {
        "__init__": __init__,
        "__module__": __name__,
        "__doc__": f"confaug augmentation for map_batches (seed {seed}, epoch {epoch}).",
        "options": bound,
        "seed": int(seed),
    }
    return type("ConfaugAugment", (RayAugmenter,), namespace)


__all__ = ["ERROR_COLUMN", "RayAugmenter", "ray_augment", "row_key", "row_seed"]
