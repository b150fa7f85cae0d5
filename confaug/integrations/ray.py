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

Each NumPy batch becomes a small source (its rows: arrays as given, encoded bytes decoded by
``confaug.sources.decode`` with its pixel limit) that the batching layer's loader augments,
so rows get the generator's seeds, decoder and error policy. Float rows under
``value_range: auto`` are read in one value range per batch, decided from the batch's finite
extremes (as ``wrap`` reads a batch), never per row: a dark row of a 0–255 dataset is not
taken for [0, 1]. Ray has no dataset-wide extremes to offer, so give the config a fixed
``value_range`` when the pixels must not depend on how Ray cuts its batches.

Determinism: row ``r`` is augmented with ``row_seed(seed, epoch, key(r))``, the seed that the
loader gives the sample key ``row_key(key(r))`` in that epoch; ``key(r)`` is the row's
``key_column`` value (its path, by default), hashed with BLAKE2 — not Python's salted
``hash`` — so the same rows give the same pixels on any number of workers, nodes or blocks,
in any order. An integer key is its own sample key: a row keyed by index ``i`` gets the
augmentation a generator gives sample ``i`` in that epoch. Iterating a dataset twice gives
the same images: pass ``epoch=`` (a new class per epoch) for new augmentation.

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

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, get_args

import numpy as np

from confaug.batching.factory import unexpected_keywords
from confaug.batching.loader import Augmented, SkipLog
from confaug.compiler.pipeline import Pipeline, other_layout
from confaug.integrations.rows import (
    ENCODED,
    augment_rows,
    checked_pixel_dtype,
    compile_pipeline,
    float_bounds,
    integer_pixels,
    is_one_row,
)
from confaug.seeding import SAMPLE_STREAM, resolve_seed, row_key, sample_seed
from confaug.sources.base import Source, YMode, to_layout
from confaug.sources.decode import DecodeOptions, decode_image, decode_mask, decode_options
from confaug.sources.errors import DataError

#: What happens to a bad row: the loader's ``on_error`` (raise, skip), or kept and marked.
OnRowError = Literal["raise", "skip", "mark"]
#: The column that ``on_error="mark"`` adds.
ERROR_COLUMN = "confaug_error"
#: How to hand over a batch, for the message on a row that cannot be told from one.
_BATCH_CALL = 'use ds.map_batches(augment, batch_format="numpy")'


def row_seed(seed: int, epoch: int, key: Any) -> int:
    """The augmentation seed of the row whose key is ``key`` (see the module docstring)."""
    return sample_seed(seed, SAMPLE_STREAM, epoch, row_key(key))


def _compile(pipeline: Any) -> Pipeline:
    """A Pipeline from a Pipeline, its pickled state, a config path/mapping or a Spec."""
    if isinstance(pipeline, Pipeline):
        return pipeline
    if isinstance(pipeline, Mapping) and set(pipeline) == {"spec", "function", "stats"}:
        compiled = Pipeline.__new__(Pipeline)
        compiled.__setstate__(dict(pipeline))
        return compiled
    return compile_pipeline(pipeline)


class _Rows(Source):
    """The rows of one NumPy batch as a source, keyed by ``key_column`` (or by the pixels)."""

    def __init__(
        self,
        batch: Mapping[str, np.ndarray],
        augmenter: RayAugmenter,
    ) -> None:
        self.images = batch[augmenter.image_column]
        mask_column, key_column = augmenter.mask_column, augmenter.key_column
        self.masks = None if mask_column is None else batch[mask_column]
        self.keys = None if key_column is None else batch[key_column]
        self.key_column = key_column
        self.decode = augmenter.decode
        self.pixel_dtype = augmenter.pixel_dtype
        self.data_format = augmenter.pipeline.spec.data_format
        self._first = self.data_format == "channels_first"
        self.y_mode: YMode = "none" if mask_column is None else "mask"
        self.target_keys = ()
        self._sample_keys: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.images)

    def describe(self, index: int) -> str:
        """``key_column=value``, or the pixel hash without a key column."""
        if self.keys is not None:
            return f"{self.key_column}={_text(self.keys[index])}"
        return f"row with pixel hash {self.sample_key(index):032x}"

    def sample_key(self, index: int) -> int:
        """:func:`row_key` of the row's key, or of its image value (array or bytes)."""
        if index not in self._sample_keys:
            value = self.images[index] if self.keys is None else self.keys[index]
            if self.keys is None and isinstance(value, ENCODED):
                value = bytes(value)
            elif self.keys is None:
                value = np.asarray(value)
            self._sample_keys[index] = row_key(value)
        return self._sample_keys[index]

    def value_bounds(self) -> tuple[float, float] | None:
        """The batch's one value range: ``float_bounds`` of its float rows (a stacked float
        column at once); None for uint8 or encoded rows."""
        images = self.images
        if isinstance(images, np.ndarray) and images.dtype != object:
            return float_bounds([images])
        return float_bounds(images)

    def load(self, index: int) -> dict[str, Any]:
        """The row's image (and mask): arrays as given, encoded bytes decoded."""
        data = {"image": self._pixels(self.images[index], is_mask=False)}
        if self.masks is not None:
            data["mask"] = self._pixels(self.masks[index], is_mask=True)
        return data

    def labels_for(self, indices: np.ndarray) -> None:
        """None: a row's other columns pass through untouched."""
        return None

    def weights_for(self, indices: np.ndarray) -> None:
        """None: a row's other columns pass through untouched."""
        return None

    def _pixels(self, value: Any, *, is_mask: bool) -> np.ndarray:
        """An array as given (in the pipeline's layout; an H×W grayscale image as H×W×1, as
        the generator, Hugging Face and Grain give it), or encoded file bytes
        (``read_binary_files``) decoded."""
        if not isinstance(value, ENCODED):
            array = np.asarray(value)
            if is_mask:
                return array
            array = integer_pixels(array, self.pixel_dtype)
            if array.ndim == 2:  # the one channel axis every other source gives
                return to_layout(array[..., None], self.data_format)
            wrong = None if array.ndim != 3 else other_layout(array.shape, self._first)
            if wrong is not None:  # flow's and wrap's check: a CHW image on channels_last
                raise DataError(f"the image {wrong}")
            return array
        options = self.decode
        if is_mask:
            return decode_mask(bytes(value), options.target_size, max_pixels=options.max_pixels)
        return to_layout(decode_image(bytes(value), options), self.data_format)


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
        on_error: OnRowError = "raise",
        standardize: bool = True,
        target_size: tuple[int, int] | None = None,
        color_mode: str = "rgb",
        pixel_dtype: Any = None,
    ) -> None:
        #: How encoded image bytes are decoded.
        self.decode = _checked_options(on_error, epoch, target_size, color_mode)
        #: The depth of integer rows that have none of their own (see integer_pixels).
        self.pixel_dtype = checked_pixel_dtype(pixel_dtype)
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
        self.on_error: OnRowError = on_error
        self.standardize = standardize
        self.target_size = self.decode.target_size
        self.color_mode = color_mode
        self._skips = SkipLog(log=on_error == "skip")  # marked rows are reported in a column

    @property
    def errors(self) -> list[tuple[str, str]]:
        """``(key, reason)`` of every row this instance skipped or marked, each row once."""
        return self._skips.entries

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
        if is_one_row(batch, self.image_column, batch_call=_BATCH_CALL, adapter="ray_augment"):
            return self._one_row(batch)
        rows = _Rows(batch, self)
        done = augment_rows(
            self.pipeline,
            rows,
            rows.images,
            self.image_column,
            seed=self.seed,
            stream=(SAMPLE_STREAM, self.epoch),
            on_error="raise" if self.on_error == "raise" else "skip",
            standardize=self.standardize,
        )
        self._skips.add(done.skipped)
        return self._assemble(batch, done)

    def _one_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``ds.map(augment)`` hands over one row: read as a batch, each pixel line was
        augmented as an image of its own. It is augmented as a batch of one instead."""
        if self.on_error == "skip":
            raise TypeError(
                "ray_augment(on_error='skip') got one row (Dataset.map): map() cannot drop "
                f"a row; {_BATCH_CALL}, or use on_error='mark'"
            )
        done = self({name: _batch_of_one(value) for name, value in row.items()})
        out = dict(row)  # the other columns as given, not as 1-entry arrays' items
        for name in (self.image_column, self.mask_column, ERROR_COLUMN):
            if name is not None and name in done:
                out[name] = done[name][0]
        return out

    # ---- output -------------------------------------------------------------------------
    def _stand_in_dtype(self, name: str, column: Any) -> np.dtype[Any]:
        """The dtype a good row of ``column`` comes out in (``Pipeline.output_dtype``), for
        a marked row's stand-in: the input column's (uint8 for encoded files, as decoded)."""
        sample = column[0] if len(column) else None
        if sample is None or isinstance(sample, ENCODED):
            given = np.dtype(np.uint8)
        else:
            given = np.asarray(sample).dtype
            if given.kind in "iu" and given not in (np.uint8, np.uint16):
                given = self.pixel_dtype or np.dtype(np.uint8)  # as integer_pixels reads it
        if name == self.mask_column:
            return given
        return self.pipeline.output_dtype(given, standardize=self.standardize)

    def _assemble(self, batch: Mapping[str, np.ndarray], done: Augmented) -> dict[str, Any]:
        """The batch with the augmented columns; bad rows dropped (skip) or marked (mark)."""
        count = len(batch[self.image_column])
        augmented = {self.image_column: [out["image"] for out in done.outputs]}
        if self.mask_column is not None:
            augmented[self.mask_column] = [out["mask"] for out in done.outputs]
        mark = self.on_error == "mark"
        if mark or len(done.kept) == count:
            out = dict(batch)
        else:
            out = {name: np.asarray(values)[done.kept] for name, values in batch.items()}
        for name, values in augmented.items():
            rows: list[np.ndarray | None] = list(values)
            if mark:  # every row stays; a bad row's value is an empty array
                rows = [None] * count
                for index, value in zip(done.kept, values, strict=True):
                    rows[index] = value
            out[name] = _column(rows, batch[name], self._stand_in_dtype(name, batch[name]))
        if mark:
            reasons = np.full(count, "", dtype=object)
            bad = np.setdiff1d(np.arange(count), done.kept)  # in order, as done.skipped
            reasons[bad] = [reason for _, reason in done.skipped]
            out[ERROR_COLUMN] = reasons
        return out


def _column(values: list[np.ndarray | None], like: Any, dtype: np.dtype[Any]) -> np.ndarray:
    """Rows as one stacked array when they share shape and dtype, else an object array.

    A bad row (``None``) gets an empty stand-in of a good row's rank and dtype, or, with no
    good row in the block, of the input column's rank and ``dtype`` (what good rows come out
    in): Ray unifies the blocks' tensor types, and a uint8 stand-in next to float32 blocks
    stopped the job ("Can't unify tensor types") that ``mark`` is meant to let finish."""
    good = [value for value in values if value is not None]
    if good:
        placeholder = np.zeros((0,) * good[0].ndim, dtype=good[0].dtype)
    else:
        sample = np.asarray(like[0]) if len(like) and not isinstance(like[0], ENCODED) else None
        rank = 3 if sample is None or sample.ndim == 2 else sample.ndim  # H×W comes out H×W×1
        placeholder = np.zeros((0,) * rank, dtype=dtype)
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


def _batch_of_one(value: Any) -> np.ndarray:
    """A row's value as the column ``map_batches(batch_format="numpy")`` gives a batch of
    that one row: an array gets a row axis, a str or a number a 1-entry array, anything
    else (bytes, a list) a 1-entry object array."""
    if isinstance(value, np.ndarray):
        return value[None]
    if isinstance(value, (str, int, float, np.generic)) and not isinstance(value, bool):
        return np.asarray([value])
    column = np.empty(1, dtype=object)
    column[0] = value
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
    if on_error not in get_args(OnRowError):
        raise ValueError(f"on_error={on_error!r}; expected one of {list(get_args(OnRowError))}")
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch={epoch!r}; expected an int >= 0")
    return decode_options(color_mode, target_size)


def ray_augment(
    pipeline_or_config: Any,
    *,
    image_column: str = "image",
    mask_column: str | None = None,
    key_column: str | None = "path",
    seed: int | None = None,
    epoch: int = 0,
    on_error: OnRowError = "raise",
    standardize: bool = True,
    target_size: tuple[int, int] | None = None,
    color_mode: str = "rgb",
    pixel_dtype: Any = None,
) -> type[RayAugmenter]:
    """A :class:`RayAugmenter` subclass with these options bound, for ``map_batches``.

    ``pipeline_or_config`` is a ``Pipeline`` (its registered ``preprocessing_function`` and
    fitted statistics travel with it), a config path, ``preset:NAME``, a mapping or a
    ``Spec``; it is compiled here, so config errors surface on the driver. ``seed=None``
    takes the spec's ``seed``, else draws one now (see the class's ``seed`` attribute), shared
    by every worker. Keyword arguments in ``fn_constructor_kwargs`` override these.
    Image values may be arrays (``read_images``) or encoded bytes (``read_binary_files``),
    decoded with ``target_size`` / ``color_mode`` so that undecodable files follow
    ``on_error``. ``pixel_dtype`` ("uint16") is the depth of integer images that carry none
    (int64 arrays); uint8 by default, never chosen per row. ``ds.map(augment)`` (one row
    at a time) works too, except with ``on_error="skip"``.
    """
    _checked_options(on_error, epoch, target_size, color_mode)  # fail on the driver
    checked_pixel_dtype(pixel_dtype)
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
        "pixel_dtype": None if pixel_dtype is None else np.dtype(pixel_dtype).name,
    }

    def __init__(self: RayAugmenter, **overrides: Any) -> None:
        error = unexpected_keywords("ConfaugAugment", overrides, bound)
        if error is not None:  # map_batches' fn_constructor_kwargs, misspelt
            raise error
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
