"""Keras' three ``flow*`` methods: their option checks, prints and warnings, then a batch
generator over a confaug source, wrapped in a :class:`KerasIterator`.

Each function is called by the ``ImageDataGenerator`` method it serves, so a warning
raised here points two frames up (``stacklevel=3``): at the user's ``flow*`` call.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from confaug.compiler.pipeline import Pipeline
from confaug.keras.arrays import check_class_split, check_subset, images_of, split_inputs
from confaug.keras.iterators import KerasIterator, make_iterator, with_saving
from confaug.keras.raw_units import pipeline_for
from confaug.spec.model import Spec

if TYPE_CHECKING:
    from confaug.sources.decode import DecodeOptions

#: File suffixes Keras' legacy iterators list (compared case-insensitively).
KERAS_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
_DEPRECATED_DATAFRAME_OPTIONS = {
    "has_ext": "has_ext is deprecated: file names must match the files on disk exactly",
    "sort": "sort is deprecated: with shuffle=False batches follow the rows' order",
    "drop_duplicates": "drop_duplicates is deprecated: use pandas.DataFrame.drop_duplicates",
}
_LABEL_FREE_MODES = ("input", "multi_output", "raw", None)


def array_flow(
    spec: Spec,
    pipeline: Pipeline,
    x: Any,
    y: Any,
    *,
    batch_size: int,
    shuffle: bool,
    sample_weight: Any,
    seed: int | None,
    save_to_dir: Any,
    save_prefix: str,
    save_format: str,
    ignore_class_split: bool,
    subset: str | None,
    options: dict[str, Any],
) -> KerasIterator:
    """Batches from arrays (Keras' ``flow``); ``x`` may be ``(images, extra_inputs)``."""
    from confaug.batching.generator import BatchGenerator
    from confaug.sources.arrays import ArraySource

    images, extra = split_inputs(x)
    images = images_of(images, spec.data_format, stacklevel=4)
    y = None if y is None else np.asarray(y)
    weights = None if sample_weight is None else np.asarray(sample_weight)
    for name, values in (("y", y), ("sample_weight", weights), *(("x[1]", e) for e in extra)):
        if values is not None and len(values) != len(images):
            raise ValueError(
                f"x has {len(images)} samples but {name} has {len(values)}; "
                "they must have the same length"
            )
    if y is None and weights is not None:
        warnings.warn("sample_weight is ignored when y is None (as Keras)", stacklevel=3)
        weights = None
    if subset is not None:
        cut = int(len(images) * spec.validation_split)
        check_subset(subset)
        if y is not None and not ignore_class_split:
            check_class_split(y, cut)
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
        data_format=spec.data_format,
        channel_counts=None,
    )
    batches = BatchGenerator(
        source,
        pipeline_for(spec, pipeline, images),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        **options,
    )
    return make_iterator(
        with_saving(batches, save_to_dir, save_prefix, save_format),
        extra=extra or None,
        labels=y,
        weights=weights,
        attributes={"x": images, "y": y, "sample_weight": weights, "subset": subset},
    )


def directory_flow(
    spec: Spec,
    pipeline: Pipeline,
    directory: Any,
    *,
    target_size: tuple[int, int] | None,
    color_mode: str,
    classes: Any,
    class_mode: str | None,
    batch_size: int,
    shuffle: bool,
    seed: int | None,
    save_to_dir: Any,
    save_prefix: str,
    save_format: str,
    follow_links: bool,
    subset: str | None,
    interpolation: str,
    keep_aspect_ratio: bool,
    options: dict[str, Any],
) -> KerasIterator:
    """Batches from class subfolders (Keras' ``flow_from_directory``)."""
    from confaug.batching.generator import BatchGenerator
    from confaug.sources.directory import DirectorySource

    decode = _decode_options(color_mode, target_size, interpolation, keep_aspect_ratio, options)
    source = DirectorySource(
        directory,
        decode=decode,
        data_format=spec.data_format,
        classes=None if classes is None else list(classes),
        class_mode=class_mode,
        follow_links=follow_links,
        subset=check_subset(subset),
        validation_split=spec.validation_split,
        extensions=KERAS_EXTENSIONS,
    )
    print(f"Found {source.samples} images belonging to {source.num_classes} classes.")
    batches = BatchGenerator(
        source, pipeline, batch_size=batch_size, shuffle=shuffle, seed=seed, **options
    )
    return make_iterator(
        with_saving(batches, save_to_dir, save_prefix, save_format),
        label_dtype=_label_dtype(spec, class_mode),
        attributes=_file_attributes(spec, decode, class_mode, subset, directory),
    )


def dataframe_flow(
    spec: Spec,
    pipeline: Pipeline,
    dataframe: Any,
    directory: Any,
    *,
    x_col: str,
    y_col: Any,
    weight_col: str | None,
    target_size: tuple[int, int] | None,
    color_mode: str,
    classes: Any,
    class_mode: str | None,
    batch_size: int,
    shuffle: bool,
    seed: int | None,
    save_to_dir: Any,
    save_prefix: str,
    save_format: str,
    subset: str | None,
    interpolation: str,
    validate_filenames: bool,
    keep_aspect_ratio: bool,
    options: dict[str, Any],
) -> KerasIterator:
    """Batches from a DataFrame or CSV (Keras' ``flow_from_dataframe``)."""
    from confaug.batching.generator import BatchGenerator
    from confaug.sources.dataframe import DataFrameSource

    for name, message in _DEPRECATED_DATAFRAME_OPTIONS.items():
        if name in options:
            options.pop(name)
            warnings.warn(message, DeprecationWarning, stacklevel=3)
    if class_mode == "other":
        warnings.warn('class_mode="other" is deprecated: use "raw"', DeprecationWarning, 3)
        class_mode = "raw"
    if classes and class_mode in _LABEL_FREE_MODES:
        warnings.warn(f"classes are ignored with class_mode={class_mode!r}", stacklevel=3)
        classes = None
    decode = _decode_options(color_mode, target_size, interpolation, keep_aspect_ratio, options)
    source = DataFrameSource(
        dataframe,
        decode=decode,
        data_format=spec.data_format,
        directory=directory,
        x_col=x_col,
        y_col=y_col,
        weight_col=weight_col,
        classes=None if classes is None else list(classes),
        class_mode=class_mode,
        subset=check_subset(subset),
        validation_split=spec.validation_split,
        validate_filenames=validate_filenames,
        extensions=KERAS_EXTENSIONS,
    )
    if source.invalid_filenames:
        warnings.warn(
            f"{len(source.invalid_filenames)} invalid image file name(s) in "
            f"x_col={x_col!r} (missing, or not {'/'.join(KERAS_EXTENSIONS)}) are ignored",
            stacklevel=3,
        )
    validated = "validated" if validate_filenames else "non-validated"
    found = f"Found {source.samples} {validated} image filenames"
    if class_mode in _LABEL_FREE_MODES:
        print(f"{found}.")
    else:
        print(f"{found} belonging to {len(source.class_indices)} classes.")
    batches = BatchGenerator(
        source, pipeline, batch_size=batch_size, shuffle=shuffle, seed=seed, **options
    )
    return make_iterator(
        with_saving(batches, save_to_dir, save_prefix, save_format),
        label_dtype=_label_dtype(spec, class_mode),
        attributes=_file_attributes(spec, decode, class_mode, subset, directory),
    )


def _label_dtype(spec: Spec, class_mode: str | None) -> str | None:
    """Keras gives class labels the generator's dtype; confaug's are float32."""
    classification = class_mode in ("categorical", "binary", "sparse")
    return spec.dtype if classification and spec.dtype != "float32" else None


def _file_attributes(
    spec: Spec, decode: DecodeOptions, class_mode: str | None, subset: str | None, directory: Any
) -> dict[str, Any]:
    """Keras' attributes of a file iterator (``image_shape``, ``class_mode``, ...)."""
    channels = (decode.channels,)
    size = decode.target_size
    shape = None
    if size is not None:
        first = spec.data_format == "channels_first"
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


def _decode_options(
    color_mode: str,
    target_size: tuple[int, int] | None,
    interpolation: str,
    keep_aspect_ratio: bool,
    options: dict[str, Any],
) -> DecodeOptions:
    """PIL decoding and resizing as Keras' ``load_img``; ``max_pixels`` taken from options."""
    from confaug.sources.decode import DEFAULT_MAX_PIXELS, decode_options

    return decode_options(
        color_mode,
        target_size,
        interpolation,
        keep_aspect_ratio,
        max_pixels=options.pop("max_pixels", DEFAULT_MAX_PIXELS),
        decoder="pil",
    )
