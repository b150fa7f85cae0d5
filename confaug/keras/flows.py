"""Keras' three ``flow*`` methods: their option checks, prints and warnings, then a batch
generator over a confaug source — or, where Keras finds no image, an empty one.

Each function returns the arguments of a :class:`~confaug.keras.iterators.KerasIterator`
(``generator``, ``rebuild``, ``label_dtype``, ``attributes``), so that the ``flow*``
methods and the Keras-named iterator classes build the same iterator. After ``spec`` and
``pipeline``, a function's parameters are the Keras method's, in its order and with its
defaults: ``ImageDataGenerator.flow*`` are these functions, bound (``help()`` shows their
signatures). Each is called by the method (or constructor) it serves, so a warning raised
here points two frames up (``stacklevel=3``): at the user's call. ``seed=None`` takes a
seed from NumPy's global random state (:mod:`~confaug.keras.global_seed`).
"""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from confaug.compiler.pipeline import Pipeline
from confaug.errors import DataError
from confaug.keras.arrays import (
    ExtraInputs,
    check_class_split,
    check_lengths,
    check_subset,
    images_of,
    split_inputs,
)
from confaug.keras.dataframe import (
    ROW_COLUMNS,
    TableTargets,
    check_weight_column,
    has_no_usable_rows,
    is_dataframe,
    rows_of,
)
from confaug.keras.empty import EmptyBatches
from confaug.keras.global_seed import seed_or_global
from confaug.keras.pydataset import DATASET_OPTIONS
from confaug.keras.saving import with_saving
from confaug.sources.dataframe import names_no_column
from confaug.spec.model import Spec

if TYPE_CHECKING:
    from confaug.sources.base import Source
    from confaug.sources.decode import DecodeOptions

#: File suffixes Keras' legacy iterators list (compared case-insensitively).
KERAS_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
_DEPRECATED_DATAFRAME_OPTIONS = {
    "has_ext": "has_ext is deprecated: file names must match the files on disk exactly",
    "sort": "sort is deprecated: with shuffle=False batches follow the rows' order",
    "drop_duplicates": "drop_duplicates is deprecated: use pandas.DataFrame.drop_duplicates",
}
_LABEL_FREE_MODES = ("input", "multi_output", "raw", None)
_CLASSIFICATION_MODES = ("categorical", "binary", "sparse")
_SOURCE_ATTRIBUTES = ("class_indices", "classes", "filenames", "filepaths", "labels")
_FILE_OPTIONS = ("max_pixels",)  # confaug's decode bound, taken by the two file flows


def split_options(
    where: str, named: Any, options: dict[str, Any], extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A flow's extra keywords split: Keras' ``PyDataset`` ones (``workers``,
    ``use_multiprocessing``, ``max_queue_size``) are returned, for the iterator that
    ``model.fit`` reads, and also set the generator's own workers (threads, or processes
    with ``use_multiprocessing``) that ``next()`` uses; confaug's generator options stay in
    ``options``. A misspelt keyword is a ``TypeError`` naming the closest of ``named`` (the
    method's own parameters) and the options."""
    from confaug.batching.factory import GeneratorOptions, unexpected_keywords

    accepted = {*GeneratorOptions.__optional_keys__, *DATASET_OPTIONS, *extra}
    error = unexpected_keywords(where, options, accepted, hints=named)
    if error is not None:
        raise error
    dataset = {name: options[name] for name in DATASET_OPTIONS if name in options}
    workers = options.get("workers", 0)
    # checked here, before the comparison below and before Keras' PyDataset stores it
    if not isinstance(workers, (int, np.integer)) or isinstance(workers, bool):
        raise TypeError(
            f"{where}() got workers={workers!r} ({type(workers).__name__}); "
            "expected an int (the number of workers, 0 for none)"
        )
    if workers < 0:
        raise ValueError(f"{where}() got workers={workers!r}; expected an int >= 0")
    if options.pop("use_multiprocessing", False) and workers > 1:
        options.setdefault("worker_mode", "process")
    return dataset


def array_flow(
    spec: Spec,
    pipeline: Pipeline,
    /,
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
) -> dict[str, Any]:
    """Batches from arrays (Keras' ``flow``); ``x`` may be ``(images, extra_inputs)``.

    ``**options``: Keras' ``PyDataset`` keywords (``workers``, ``use_multiprocessing``,
    ``max_queue_size``: how ``model.fit`` and ``next()`` load batches) and confaug's
    generator options (``drop_last``, ``on_error``...); a misspelt one is a TypeError
    with a did-you-mean hint. The same holds for the other ``flow*`` methods.
    """
    from confaug.batching.generator import BatchGenerator
    from confaug.sources.arrays import ArraySource

    dataset = split_options("flow", _ARRAY_NAMES, options)
    images, extra = split_inputs(x)
    y = None if y is None else np.asarray(y)
    weights = None if sample_weight is None else np.asarray(sample_weight)
    check_lengths(images, extra, y, weights)
    images = images_of(images, spec.data_format, stacklevel=4)
    if y is None and weights is not None:
        warnings.warn("sample_weight is ignored when y is None (as Keras)", stacklevel=3)
        weights = None
    # With extra inputs the source's labels are the sample indices; ExtraInputs builds
    # ([x, *extra], y, w) from them. The values are not looked at here: the loader finds
    # their range when it first needs it (a batch that is all of them, as the seed's
    # per-batch flow() makes, reads it as it is augmented), and the drop-in's pipeline
    # keeps floats beyond [0, 255] in their own units (raw_units.KerasUnitsPipeline).
    source = ArraySource(
        images,
        np.arange(len(images)) if extra else y,
        None if extra else weights,
        data_format=spec.data_format,
        channel_counts=None,
    )
    rebuild = ExtraInputs(extra, y, weights) if extra else None  # indexed by whole-array rows
    if subset is not None:
        cut = int(len(images) * spec.validation_split)
        check_subset(subset)
        if y is not None and not ignore_class_split:
            check_class_split(y, cut)
        part = slice(0, cut) if subset == "validation" else slice(cut, None)
        start, stop, _ = part.indices(len(images))
        # A part of the array, read in the range of the whole (as confaug.flow's subsets):
        # a dark validation part of a 0-255 dataset is not taken for [0, 1].
        source = source.part(start, stop)
        images, extra = images[part], [e[part] for e in extra]
        y = None if y is None else y[part]
        weights = None if weights is None else weights[part]
    batches = BatchGenerator(
        source,
        pipeline,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed_or_global(seed),
        **options,
    )
    return {
        "generator": with_saving(batches, save_to_dir, save_prefix, save_format),
        "rebuild": rebuild,
        "dataset_options": dataset,
        "attributes": {
            "x": images,
            "x_misc": extra,
            "y": y,
            "sample_weight": weights,
            "subset": subset,
        },
    }


def directory_flow(
    spec: Spec,
    pipeline: Pipeline,
    /,
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
) -> dict[str, Any]:
    """Batches from class subfolders (Keras' ``flow_from_directory``)."""
    from confaug.sources.directory import DirectorySource

    dataset = split_options("flow_from_directory", _DIRECTORY_NAMES, options, _FILE_OPTIONS)
    decode = _decode_options(color_mode, target_size, interpolation, keep_aspect_ratio, options)
    names = list(classes) if classes else None
    source: Any = None  # a DirectorySource, or None when Keras would find no image
    try:
        source = DirectorySource(
            directory,
            decode=decode,
            data_format=spec.data_format,
            classes=names,
            class_mode=class_mode,
            follow_links=follow_links,
            subset=check_subset(subset),
            validation_split=spec.validation_split,
            extensions=KERAS_EXTENSIONS,
        )
    except DataError:
        names = _class_folders_without_images(os.fspath(directory), names, follow_links)
        if names is None:
            raise
    samples = 0 if source is None else len(source)
    num_classes = len(names or []) if source is None else source.num_classes
    print(f"Found {samples} images belonging to {num_classes} classes.")
    attributes = _file_attributes(spec, decode, class_mode, subset, directory)
    attributes["num_classes"] = num_classes
    return _parts(
        spec,
        pipeline,
        source,
        class_mode=class_mode,
        class_names=names or [],
        attributes=attributes,
        batching={"batch_size": batch_size, "shuffle": shuffle, "seed": seed, **options},
        saving=(save_to_dir, save_prefix, save_format),
        dataset=dataset,
    )


def _class_folders_without_images(
    directory: str, names: list[str] | None, follow_links: bool
) -> list[str] | None:
    """The class folders (``names``, or the subfolders) when none holds an image Keras
    would list — Keras' empty case; None otherwise (or when the folder cannot be read). A
    class of ``names`` without a folder has no image (as in the source); ``directory``
    itself must be there."""
    from confaug.sources.listing import check_folder, is_missing, list_images, list_subfolders

    try:
        check_folder(directory)
        names = names or list_subfolders(directory)
        listed = [
            list_images(
                os.path.join(directory, name),
                follow_links=follow_links,
                extensions=KERAS_EXTENSIONS,
            )
            for name in names
            if not is_missing(os.path.join(directory, name))
        ]
    except DataError:
        return None
    return None if any(listed) else names


def dataframe_flow(
    spec: Spec,
    pipeline: Pipeline,
    /,
    dataframe: Any,
    directory: Any = None,
    x_col: Any = "filename",
    y_col: Any = "class",
    weight_col: Any = None,
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
) -> dict[str, Any]:
    """Batches from a DataFrame or CSV (Keras' ``flow_from_dataframe``)."""
    from confaug.sources.dataframe import DataFrameSource

    for name, message in _DEPRECATED_DATAFRAME_OPTIONS.items():
        if name in options:
            options.pop(name)
            warnings.warn(message, DeprecationWarning, stacklevel=3)
    dataset = split_options("flow_from_dataframe", _DATAFRAME_NAMES, options, _FILE_OPTIONS)
    if class_mode == "other":
        warnings.warn('class_mode="other" is deprecated: use "raw"', DeprecationWarning, 3)
        class_mode = "raw"
    if classes and class_mode in _LABEL_FREE_MODES:
        warnings.warn(f"classes are ignored with class_mode={class_mode!r}", stacklevel=3)
        classes = None
    check_weight_column(dataframe, weight_col)
    decode = _decode_options(color_mode, target_size, interpolation, keep_aspect_ratio, options)
    table, source_y, source_mode, targets = dataframe, y_col, class_mode, None
    if class_mode in ("raw", "multi_output") and is_dataframe(dataframe):
        # The source gets row numbers as raw targets; the batches' targets come from the
        # DataFrame itself, in its own dtype (see confaug.keras.dataframe).
        targets = TableTargets(dataframe, y_col, class_mode)
        table = TableTargets.carrier(dataframe, x_col, weight_col)
        source_y, source_mode = list(ROW_COLUMNS), "raw"
    folder = "" if directory is None else os.fspath(directory)
    source: Any = None  # a DataFrameSource, or None when no row is usable
    try:
        source = DataFrameSource(
            table,
            decode=decode,
            data_format=spec.data_format,
            directory=directory,
            x_col=x_col,
            y_col=source_y,
            weight_col=weight_col,
            classes=None if classes is None else list(classes),
            class_mode=source_mode,
            subset=check_subset(subset),
            validation_split=spec.validation_split,
            validate_filenames=validate_filenames,
            extensions=KERAS_EXTENSIONS,
        )
    except DataError:
        empty = has_no_usable_rows(
            table,
            directory=folder,
            x_col=x_col,
            y_col=source_y,
            classes=classes,
            class_mode=class_mode,
            validate_filenames=validate_filenames,
            extensions=KERAS_EXTENSIONS,
        )
        if not empty:
            raise
    invalid = [] if source is None else source.invalid_filenames
    if invalid:
        warnings.warn(
            f"{len(invalid)} invalid image file name(s) in x_col={x_col!r} (missing, or not "
            f"{'/'.join(KERAS_EXTENSIONS)}) are ignored",
            stacklevel=3,
        )
    names = list(dict.fromkeys(classes)) if classes else []
    if source is not None and class_mode in _CLASSIFICATION_MODES:
        names = list(source.class_indices)
    validated = "validated" if validate_filenames else "non-validated"
    # Rows whose file name or label is unusable stay samples that raise when read (skip
    # skips them; Keras drops them): they are not counted as found, and are said.
    bad = 0 if source is None else len(source.problems)
    if bad:
        warnings.warn(
            f"{bad} row(s) have no usable file name or label; they are refused when read "
            "(on_error='skip' skips them)",
            stacklevel=3,
        )
    found = f"Found {0 if source is None else len(source) - bad} {validated} image filenames"
    if class_mode in _LABEL_FREE_MODES:
        print(f"{found}.")
    else:
        print(f"{found} belonging to {len(names)} classes.")
    attributes = _file_attributes(spec, decode, class_mode, subset, directory)
    if targets is not None and source is not None:
        attributes["labels"] = targets.take(rows_of(source.labels))
    return _parts(
        spec,
        pipeline,
        source,
        class_mode=class_mode,
        class_names=names if class_mode in _CLASSIFICATION_MODES else None,
        attributes=attributes,
        batching={"batch_size": batch_size, "shuffle": shuffle, "seed": seed, **options},
        saving=(save_to_dir, save_prefix, save_format),
        rebuild=targets,
        outputs=len(y_col) if class_mode == "multi_output" else 1,
        weighted=not names_no_column(weight_col),  # weight_col=0 is a column
        dataset=dataset,
    )


def _parts(
    spec: Spec,
    pipeline: Pipeline,
    source: Source | None,
    *,
    class_mode: str | None,
    class_names: list[str] | None,
    attributes: dict[str, Any],
    batching: dict[str, Any],
    saving: tuple[Any, str, str],
    rebuild: Any = None,
    outputs: int = 1,
    weighted: bool = False,
    dataset: dict[str, Any],
) -> dict[str, Any]:
    """The iterator's arguments: batches of ``source``, or none when it has no sample."""
    from confaug.batching.generator import BatchGenerator

    if source is not None and len(source):
        batching["seed"] = seed_or_global(batching["seed"])
        batches = BatchGenerator(source, pipeline, **batching)
        return {
            "generator": with_saving(batches, *saving),
            "rebuild": rebuild,
            "label_dtype": _label_dtype(spec, class_mode),
            "attributes": attributes,
            "dataset_options": dataset,
        }
    if source is not None:  # a subset with no sample keeps the source's attributes
        found = {
            name: getattr(source, name) for name in _SOURCE_ATTRIBUTES if hasattr(source, name)
        }
        attributes = {**found, **attributes}
    elif class_names is not None:  # Keras' class_indices, from classes= (or none found)
        attributes.setdefault("class_indices", {name: i for i, name in enumerate(class_names)})
    shape = attributes["image_shape"] or (0, 0, 0)
    empty = EmptyBatches(
        image_shape=tuple(shape),
        dtype=spec.dtype or "float32",
        class_mode=class_mode,
        num_classes=len(attributes.get("class_indices") or {}),
        outputs=outputs,
        weighted=weighted,
        batch_size=batching["batch_size"],
        shuffle=batching["shuffle"],
        seed=batching["seed"],
        attributes=attributes,
    )
    return {"generator": empty, "attributes": attributes, "dataset_options": dataset}


@functools.cache
def keras_parameters(flow: Any) -> tuple[str, ...]:
    """The names of a flow's Keras parameters (all but ``spec``, ``pipeline`` and
    ``**options``): what the method and the iterator class hand it."""

    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = inspect.signature(flow).parameters.values()
    return tuple(p.name for p in parameters if p.kind in kinds)


def _keywords(flow: Any, *data: str) -> tuple[str, ...]:
    """A flow's keyword names but its data's, for did-you-mean hints."""
    return tuple(name for name in keras_parameters(flow) if name not in data)


_ARRAY_NAMES = _keywords(array_flow, "x", "y")
_DIRECTORY_NAMES = _keywords(directory_flow, "directory")
_DATAFRAME_NAMES = _keywords(dataframe_flow, "dataframe", "directory")


def _label_dtype(spec: Spec, class_mode: str | None) -> str | None:
    """Keras gives class labels the generator's dtype; confaug's are float32."""
    classification = class_mode in _CLASSIFICATION_MODES
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
