"""Drop-in replacement for Keras' ``ImageDataGenerator``: change only the import line.

    from confaug.keras import ImageDataGenerator

The constructor takes IDG's keywords (validated: a bad value raises ``ConfigError``), and
``flow``, ``flow_from_directory``, ``flow_from_dataframe``, ``fit``, ``standardize``,
``random_transform``, ``get_random_transform`` and ``apply_transform`` behave as in Keras,
running on confaug's one-warp pipeline. ``to_yaml()`` exports the equivalent config.

The ``flow*`` methods return a :class:`KerasIterator`: a ``keras.utils.PyDataset`` when
Keras is installed, so ``model.fit(datagen.flow(x, y))`` works as it does with Keras, and
with the legacy iterators' API (endless ``next()``, ``len()``, ``[i]``, ``on_epoch_end``,
``reset``, ``n``, ``samples``, ``class_indices``, ``filenames``, ...). Keras is imported on
the first ``flow*`` call, never by importing this module.

Keras' own behaviour is kept where confaug's core would differ: ``flow`` takes
``(x, extra_inputs)`` tuples, integer arrays, any channel count (with Keras' warning),
``ignore_class_split``, and float data of any value range (``cval`` and the channel shift
then stay in the data's own units, as in Keras); files are listed with Keras' extensions
and decoded and resized by PIL as ``load_img`` does; ``flow_from_dataframe`` takes the
deprecated ``has_ext``/``sort``/``drop_duplicates`` and ``class_mode="other"``;
``standardize`` works in place on float arrays; ``mean``/``std`` have Keras' shapes and can
be set. The documented defect fixes (shift axes, rotation centre, brightness) stay.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from confaug.api import load_spec, spec_from_keras, spec_to_yaml
from confaug.compiler.build import warp_order
from confaug.compiler.pipeline import Pipeline
from confaug.compiler.values import Scale, from_working, infer_scale, to_working
from confaug.keras_iterators import KerasIterator, make_iterator, with_saving
from confaug.spec.model import GEOMETRIC_KEYWORDS, Spec

__all__ = ["ImageDataGenerator", "KerasIterator"]

#: File suffixes Keras' legacy iterators list (compared case-insensitively).
KERAS_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
_DEPRECATED_DATAFRAME_OPTIONS = {
    "has_ext": "has_ext is deprecated: file names must match the files on disk exactly",
    "sort": "sort is deprecated: with shuffle=False batches follow the rows' order",
    "drop_duplicates": "drop_duplicates is deprecated: use pandas.DataFrame.drop_duplicates",
}
_LABEL_FREE_MODES = ("input", "multi_output", "raw", None)


class ImageDataGenerator:
    """Keras' ``ImageDataGenerator`` API on a confaug ``Pipeline`` (see the module docstring)."""

    def __init__(self, **keywords: Any) -> None:
        keywords = {k: v for k, v in keywords.items() if v is not None or k == "brightness_range"}
        keywords["dtype"] = _dtype_name(keywords.get("dtype", "float32"))  # Keras' floatx
        self.spec: Spec = spec_from_keras(**keywords)
        self.pipeline = Pipeline(self.spec)
        self._rng = np.random.default_rng()
        self._sampler: Any = None
        _warn_implied_flags(keywords)

    # ---- Keras' attribute names ---------------------------------------------------------
    @property
    def data_format(self) -> str:
        return self.spec.data_format

    @property
    def mean(self) -> np.ndarray | None:
        """Per-channel mean from ``fit``, shaped (1, 1, C) or (C, 1, 1) as Keras; settable."""
        return self._keras_layout(self._stat("mean"))

    @mean.setter
    def mean(self, value: Any) -> None:
        self._set_stat("mean", value)

    @property
    def std(self) -> np.ndarray | None:
        """Per-channel std from ``fit``, shaped as :attr:`mean`; settable."""
        return self._keras_layout(self._stat("std"))

    @std.setter
    def std(self, value: Any) -> None:
        self._set_stat("std", value)

    @property
    def zca_whitening_matrix(self) -> np.ndarray | None:
        """The ZCA matrix from ``fit`` (over values in HWC order); settable."""
        return self._stat("zca_matrix")

    @zca_whitening_matrix.setter
    def zca_whitening_matrix(self, value: Any) -> None:
        self._set_stat("zca_matrix", None if value is None else np.asarray(value, np.float32))

    def _stat(self, name: str) -> np.ndarray | None:
        stats = self.pipeline.standardizer.stats
        return None if stats is None else getattr(stats, name)

    def _set_stat(self, name: str, value: Any) -> None:
        from confaug.idg.standardize import FeaturewiseStats

        if name != "zca_matrix" and value is not None:
            value = np.asarray(value, dtype=np.float32)
            if self.spec.data_format == "channels_first" and value.ndim == 3:
                value = np.moveaxis(value, 0, -1)  # statistics are kept in HWC order
            if value.ndim == 3 and value.shape[:2] == (1, 1):
                value = value.reshape(-1)
        standardizer = self.pipeline.standardizer
        stats = standardizer.stats or FeaturewiseStats()
        standardizer.load_state(dataclasses.replace(stats, **{name: value}))

    def _keras_layout(self, value: np.ndarray | None) -> np.ndarray | None:
        if value is None:
            return None
        if value.ndim == 1:
            value = value.reshape(1, 1, -1)
        return np.moveaxis(value, -1, 0) if self.spec.data_format == "channels_first" else value

    # ---- iterators ------------------------------------------------------------------------
    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        ignore_class_split: bool = False,
        subset: str | None = None,
        **options: Any,
    ) -> KerasIterator:
        """Batches from arrays (Keras' ``flow``); ``x`` may be ``(images, extra_inputs)``.

        ``**options`` are confaug's ``BatchGenerator`` options (``workers``, ``drop_last``...).
        """
        from confaug.batching.generator import BatchGenerator
        from confaug.sources.arrays import ArraySource

        images, extra = _split_inputs(x)
        images = self._as_images(images)
        y = None if y is None else np.asarray(y)
        weights = None if sample_weight is None else np.asarray(sample_weight)
        for name, values in (("y", y), ("sample_weight", weights), *(("x[1]", e) for e in extra)):
            if values is not None and len(values) != len(images):
                raise ValueError(
                    f"x has {len(images)} samples but {name} has {len(values)}; "
                    "they must have the same length"
                )
        if y is None and weights is not None:
            warnings.warn("sample_weight is ignored when y is None (as Keras)", stacklevel=2)
            weights = None
        if subset is not None:
            cut = int(len(images) * self.spec.validation_split)
            _check_subset(subset)
            if y is not None and not ignore_class_split:
                _check_class_split(y, cut)
            part = slice(0, cut) if subset == "validation" else slice(cut, None)
            images, extra = images[part], [e[part] for e in extra]
            y = None if y is None else y[part]
            weights = None if weights is None else weights[part]
        # With extra inputs the source's labels are the sample indices; KerasIterator
        # builds ([x, *extra], y, w) from them.
        source = ArraySource(
            images,
            np.arange(len(images)) if extra else y,
            None if extra else weights,
            data_format=self.spec.data_format,
            channel_counts=None,
        )
        generator = BatchGenerator(
            source,
            self._pipeline_for(images),
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            **options,
        )
        return make_iterator(
            with_saving(generator, save_to_dir, save_prefix, save_format),
            extra=extra or None,
            labels=y,
            weights=weights,
            attributes={"x": images, "y": y, "sample_weight": weights, "subset": subset},
        )

    def flow_from_directory(
        self,
        directory: Any,
        target_size: tuple[int, int] | None = (256, 256),
        color_mode: str = "rgb",
        classes: Any = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        **options: Any,
    ) -> KerasIterator:
        """Batches from class subfolders (Keras' ``flow_from_directory``)."""
        from confaug.batching.generator import BatchGenerator
        from confaug.sources.directory import DirectorySource

        decode = _decode_options(color_mode, target_size, interpolation, keep_aspect_ratio, options)
        source = DirectorySource(
            directory,
            decode=decode,
            data_format=self.spec.data_format,
            classes=None if classes is None else list(classes),
            class_mode=class_mode,
            follow_links=follow_links,
            subset=_check_subset(subset),
            validation_split=self.spec.validation_split,
            extensions=KERAS_EXTENSIONS,
        )
        print(f"Found {source.samples} images belonging to {source.num_classes} classes.")
        generator = BatchGenerator(
            source, self.pipeline, batch_size=batch_size, shuffle=shuffle, seed=seed, **options
        )
        return make_iterator(
            with_saving(generator, save_to_dir, save_prefix, save_format),
            label_dtype=self._label_dtype(class_mode),
            attributes=self._file_attributes(decode, class_mode, subset, directory),
        )

    def flow_from_dataframe(
        self,
        dataframe: Any,
        directory: Any = None,
        x_col: str = "filename",
        y_col: Any = "class",
        weight_col: str | None = None,
        target_size: tuple[int, int] | None = (256, 256),
        color_mode: str = "rgb",
        classes: Any = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        validate_filenames: bool = True,
        keep_aspect_ratio: bool = False,
        **options: Any,
    ) -> KerasIterator:
        """Batches from a DataFrame or CSV (Keras' ``flow_from_dataframe``)."""
        from confaug.batching.generator import BatchGenerator
        from confaug.sources.dataframe import DataFrameSource

        for name, message in _DEPRECATED_DATAFRAME_OPTIONS.items():
            if name in options:
                options.pop(name)
                warnings.warn(message, DeprecationWarning, stacklevel=2)
        if class_mode == "other":
            warnings.warn('class_mode="other" is deprecated: use "raw"', DeprecationWarning, 2)
            class_mode = "raw"
        if classes and class_mode in _LABEL_FREE_MODES:
            warnings.warn(f"classes are ignored with class_mode={class_mode!r}", stacklevel=2)
            classes = None
        decode = _decode_options(color_mode, target_size, interpolation, keep_aspect_ratio, options)
        source = DataFrameSource(
            dataframe,
            decode=decode,
            data_format=self.spec.data_format,
            directory=directory,
            x_col=x_col,
            y_col=y_col,
            weight_col=weight_col,
            classes=None if classes is None else list(classes),
            class_mode=class_mode,
            subset=_check_subset(subset),
            validation_split=self.spec.validation_split,
            validate_filenames=validate_filenames,
            extensions=KERAS_EXTENSIONS,
        )
        if source.invalid_filenames:
            warnings.warn(
                f"{len(source.invalid_filenames)} invalid image file name(s) in "
                f"x_col={x_col!r} (missing, or not {'/'.join(KERAS_EXTENSIONS)}) are ignored",
                stacklevel=2,
            )
        validated = "validated" if validate_filenames else "non-validated"
        found = f"Found {source.samples} {validated} image filenames"
        if class_mode in _LABEL_FREE_MODES:
            print(f"{found}.")
        else:
            print(f"{found} belonging to {len(source.class_indices)} classes.")
        generator = BatchGenerator(
            source, self.pipeline, batch_size=batch_size, shuffle=shuffle, seed=seed, **options
        )
        return make_iterator(
            with_saving(generator, save_to_dir, save_prefix, save_format),
            label_dtype=self._label_dtype(class_mode),
            attributes=self._file_attributes(decode, class_mode, subset, directory),
        )

    def _label_dtype(self, class_mode: str | None) -> str | None:
        """Keras gives class labels the generator's dtype; confaug's are float32."""
        classification = class_mode in ("categorical", "binary", "sparse")
        return self.spec.dtype if classification and self.spec.dtype != "float32" else None

    def _file_attributes(
        self, decode: Any, class_mode: str | None, subset: str | None, directory: Any
    ) -> dict[str, Any]:
        """Keras' attributes of a file iterator (``image_shape``, ``class_mode``, ...)."""
        channels = (decode.channels,)
        size = decode.target_size
        shape = None
        if size is not None:
            first = self.spec.data_format == "channels_first"
            shape = channels + size if first else size + channels
        return {
            "image_shape": shape,
            "target_size": size,
            "color_mode": decode.color_mode,
            "class_mode": class_mode,
            "interpolation": decode.interpolation,
            "keep_aspect_ratio": decode.keep_aspect_ratio,
            "subset": subset,
            "directory": "" if directory is None else directory,
        }

    def _as_images(self, images: Any) -> np.ndarray:
        """``x`` as a rank-4 array; integers other than uint8 become floats, as Keras."""
        images = np.asarray(images)
        if images.dtype != np.uint8 and images.dtype.kind in "biu":
            images = images.astype(np.float32)
        if images.ndim != 4:
            raise ValueError(f"x must have rank 4 (a batch of images); got shape {images.shape}")
        axis = 1 if self.spec.data_format == "channels_first" else 3
        if images.shape[axis] not in (1, 3, 4):
            warnings.warn(
                f"x has shape {images.shape}: {images.shape[axis]} channels on axis {axis} "
                f"({self.spec.data_format}), where 1, 3 or 4 are expected",
                stacklevel=3,
            )
        return images

    def _pipeline_for(self, x: np.ndarray) -> Pipeline:
        """The pipeline, or for float data beyond [0, 255] one working in the data's range.

        Keras works on raw values: ``cval`` and the channel shift are in the data's units.
        The value range [low, high] of the data (``cval`` included) is mapped onto [0, 1],
        and ``cval`` and ``channel_shift_range`` are rescaled so that they stay those units.
        The standardizer (and so ``fit``'s statistics) is shared.
        """
        limits = self._raw_range(x)
        if limits is None:
            return self.pipeline
        low, high, cval = limits
        span = high - low
        shift = min(self.spec.channel_shift_range * 255.0 / span, 255.0)
        data = {**self.spec.to_data(), "value_range": [low, high]}
        data.update(cval=(cval - low) * 255.0 / span, channel_shift_range=shift)
        pipeline = Pipeline(load_spec(data))
        pipeline.standardizer = self.pipeline.standardizer
        return pipeline

    def _raw_range(self, x: np.ndarray) -> tuple[float, float, float] | None:
        """``(low, high, cval)`` for float data outside [0, 255] (cval included), else None."""
        if x.dtype.kind != "f" or x.size == 0 or self.spec.value_range != "auto":
            return None
        low, high = float(np.min(x)), float(np.max(x))
        if not (np.isfinite(low) and np.isfinite(high)) or (low >= 0.0 and high <= 255.0):
            return None
        cval = float(self.spec.cval)
        low, high = min(low, cval), max(high, cval)
        return low, max(high, low + 1.0), cval  # a constant image still needs a span

    # ---- statistics -----------------------------------------------------------------------
    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute featurewise statistics from ``x`` (Keras' ``fit``)."""
        data = np.asarray(x)
        if data.dtype.kind in "biu" and data.dtype != np.uint8:
            data = data.astype(np.float32)
        self._pipeline_for(data).fit(data, augment=augment, rounds=rounds, seed=seed)

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Keras' ``standardize`` on one image or a batch.

        As in Keras, a float array is changed in place (and returned) unless a
        ``preprocessing_function`` is set; other input gives a new array.
        """
        array = np.asarray(x)
        out = self.pipeline.standardize(array[None] if array.ndim == 3 else array)
        out = out[0] if array.ndim == 3 else out
        in_place = (
            isinstance(x, np.ndarray)
            and x.dtype.kind == "f"
            and x.flags.writeable
            and x.shape == out.shape
            and self.spec.preprocessing_function is None
        )
        if in_place and out is not x:
            x[...] = out
            return x
        return out

    # ---- one image ------------------------------------------------------------------------
    def _axes(self) -> tuple[int, int]:
        return (1, 2) if self.spec.data_format == "channels_first" else (0, 1)

    def get_random_transform(
        self, img_shape: tuple[int, ...], seed: int | None = None
    ) -> dict[str, Any]:
        """One random draw as Keras' parameter dict (theta, tx, ty, shear, zx, zy, flips, ...)."""
        from confaug.idg.params import IdgSampler

        if self._sampler is None:
            self._sampler = IdgSampler(**{k: getattr(self.spec, k) for k in GEOMETRIC_KEYWORDS})
        rng = self._rng if seed is None else np.random.default_rng(seed)
        row, col = self._axes()
        return self._sampler.sample(rng, int(img_shape[row]), int(img_shape[col])).to_keras()

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """Apply exactly the given parameters to one image (Keras' ``apply_transform``)."""
        from confaug.idg.params import IdgParams
        from confaug.idg.warp import apply_params

        image = np.asarray(x)
        channels_first = self.spec.data_format == "channels_first"
        if channels_first:
            image = np.moveaxis(image, 0, -1)
        params = dict(transform_parameters)
        cval = self.spec.cval
        limits = self._raw_range(image)
        if limits is None:
            scale = infer_scale(image, self.spec.value_range)
        else:  # raw units, as Keras: see _pipeline_for
            low, high, cval = limits
            scale = Scale(low, high, image.dtype)
            cval = (cval - low) * 255.0 / (high - low)
            if params.get("channel_shift_intensity") is not None:
                params["channel_shift_intensity"] *= 255.0 / (high - low)
        out = apply_params(
            np.ascontiguousarray(to_working(image, scale)),
            IdgParams.from_keras(params),
            fill_mode=self.spec.fill_mode,
            cval=cval,
            interpolation_order=warp_order(self.spec),
        )
        out = from_working(out, scale)
        return np.moveaxis(out, -1, 0) if channels_first else out

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """A random transform of one image (Keras' ``random_transform``)."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def to_yaml(self) -> str:
        """The equivalent confaug config."""
        return spec_to_yaml(self.spec)


def _dtype_name(dtype: Any) -> Any:
    """``np.float64``, ``np.dtype("float64")`` or ``"float"`` as the name ``"float64"``."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        return dtype  # e.g. a framework dtype with a .name, which spec_from_keras reads


def _warn_implied_flags(keywords: dict[str, Any]) -> None:
    """Keras' warnings when one normalization keyword overrides another."""
    implied = []
    if keywords.get("zca_whitening"):
        if not keywords.get("featurewise_center"):
            implied.append("zca_whitening turns featurewise_center on")
        if keywords.get("featurewise_std_normalization"):
            implied.append("zca_whitening turns featurewise_std_normalization off")
    elif keywords.get("featurewise_std_normalization") and not keywords.get("featurewise_center"):
        implied.append("featurewise_std_normalization turns featurewise_center on")
    if keywords.get("samplewise_std_normalization") and not keywords.get("samplewise_center"):
        implied.append("samplewise_std_normalization turns samplewise_center on")
    for message in implied:
        warnings.warn(f"This ImageDataGenerator specifies {message} (as Keras)", stacklevel=3)


def _split_inputs(x: Any) -> tuple[Any, list[np.ndarray]]:
    """Keras' ``x``: images, or a tuple/list ``(images, extra)`` of them and extra inputs."""
    if not isinstance(x, (tuple, list)):
        return x, []
    if len(x) != 2:
        raise ValueError(
            "x given as a tuple or list must be (images, extra_inputs), extra_inputs one "
            f"array or a list of arrays passed through unchanged; got {len(x)} elements"
        )
    extra = x[1] if isinstance(x[1], list) else [x[1]]
    return x[0], [np.asarray(values) for values in extra]


def _check_subset(subset: str | None) -> str | None:
    if subset not in (None, "training", "validation"):
        raise ValueError(f"subset={subset!r}; expected 'training', 'validation' or None")
    return subset


def _check_class_split(y: np.ndarray, cut: int) -> None:
    """Keras' guard: both subsets must hold the same labels (not checked for float targets)."""
    if y.dtype.kind in "fc":
        return  # regression targets or one-hot rows: Keras' check means nothing there
    try:
        same = np.array_equal(np.unique(y[:cut]), np.unique(y[cut:]))
    except TypeError:  # unorderable mixed labels
        return
    if same:
        return
    if cut == 0:
        raise ValueError("subset needs ImageDataGenerator(validation_split=...) above 0")
    raise ValueError(
        f"the validation subset (first {cut} samples) and the training subset hold "
        "different labels; shuffle x and y before splitting, or pass ignore_class_split=True"
    )


def _decode_options(
    color_mode: str,
    target_size: tuple[int, int] | None,
    interpolation: str,
    keep_aspect_ratio: bool,
    options: dict[str, Any],
) -> Any:
    """PIL decoding and resizing as Keras' ``load_img``; ``max_pixels`` taken from options."""
    from confaug.sources.decode import DEFAULT_MAX_PIXELS, DecodeOptions

    return DecodeOptions(
        color_mode=color_mode,  # type: ignore[arg-type]
        target_size=None if target_size is None else tuple(target_size),  # type: ignore[arg-type]
        interpolation=interpolation,  # type: ignore[arg-type]
        keep_aspect_ratio=keep_aspect_ratio,
        max_pixels=options.pop("max_pixels", DEFAULT_MAX_PIXELS),
        decoder="pil",
    )
