"""The generator factory: the functions behind ``Pipeline.flow*`` and ``Pipeline.wrap``.

These functions own the signatures: ``Pipeline.flow*``/``wrap`` are these very functions
bound to the pipeline, and ``confaug.flow*``/``wrap`` mirror them (data first, then the
pipeline). Every ``flow*`` function returns a :class:`BatchGenerator`; ``**options`` are its
keyword options (:class:`GeneratorOptions`), shown in the signature with their defaults.
A misspelt keyword is a ``TypeError`` with a did-you-mean hint. Images are given to the
pipeline in its ``data_format``. ``validation_split`` defaults to the pipeline's own
``validation_split`` attribute when it has one, else 0.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import numpy as np

from confaug.batching.generator import BatchGenerator
from confaug.batching.loader import OnError
from confaug.batching.protocol import SamplePipeline, data_format_of
from confaug.batching.stream import AugmentedStream
from confaug.batching.workers import WorkerMode
from confaug.errors import DataError, did_you_mean
from confaug.sources.arrays import ArraySource
from confaug.sources.base import split_bounds
from confaug.sources.dataframe import DataFrameSource
from confaug.sources.decode import DEFAULT_MAX_PIXELS, decode_options
from confaug.sources.directory import SAME_NAME, DirectorySource, PairedDirectorySource
from confaug.sources.file_bytes import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_TABLE_BYTES

if TYPE_CHECKING:
    from typing_extensions import Unpack

_F = TypeVar("_F", bound=Callable[..., Any])


class GeneratorOptions(TypedDict, total=False):
    """The :class:`BatchGenerator` keywords every ``flow*`` function passes on; their
    defaults and meaning are the generator's (``tests/test_signatures.py`` keeps the two
    lists equal)."""

    batch_size: int
    shuffle: bool
    seed: int | None
    drop_last: bool
    epochs: int | None
    workers: int
    worker_mode: WorkerMode
    start_method: str
    max_queue_size: int
    rank: int
    world_size: int
    even_shards: bool
    on_error: OnError


class StreamOptions(TypedDict, total=False):
    """The :class:`AugmentedStream` keywords ``wrap`` passes on (defaults are the stream's;
    ``tests/test_signatures.py`` keeps the two lists equal)."""

    seed: int | None
    masks_in_y: bool
    workers: int
    worker_mode: WorkerMode
    start_method: str
    max_queue_size: int


def unexpected_keywords(
    where: str, given: Iterable[str], accepted: Iterable[str], hints: Iterable[str] = ()
) -> TypeError | None:
    """Python's own "unexpected keyword argument" error, with a did-you-mean hint among
    ``accepted`` (and ``hints``) for each name not in ``accepted``; None when all are."""
    names = set(accepted)
    wrong = [name for name in given if name not in names]
    if not wrong:
        return None
    choices = sorted(names | set(hints))
    parts = []
    for name in wrong:
        hint = did_you_mean(name, choices)
        parts.append(f"{name!r}" + (f" ({hint})" if hint else ""))
    noun = "argument" if len(wrong) == 1 else "arguments"
    return TypeError(f"{where}() got an unexpected keyword {noun} {', '.join(parts)}")


def with_options_of(target: type) -> Callable[[_F], _F]:
    """A decorator: ``function`` with its ``**options`` shown as ``target``'s keyword-only
    parameters (defaults included, for ``help()`` and editors; written once, in ``target``)
    and a misspelt keyword refused with a hint.

    mypy reads ``**options: Unpack[GeneratorOptions]``; the check here is for everyone
    else, before any work starts (Python's own error would name ``target`` and suggest
    nothing)."""

    def decorate(function: _F) -> _F:
        own = inspect.signature(function)
        kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
        extra = [
            p
            for p in inspect.signature(vars(target)["__init__"]).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name not in own.parameters
        ]
        signature = own.replace(parameters=[*kept, *extra])
        keywords = [
            p.name for p in signature.parameters.values() if p.kind is not p.POSITIONAL_ONLY
        ]

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            error = unexpected_keywords(function.__name__, kwargs, keywords)
            if error is not None:
                raise error
            return function(*args, **kwargs)

        checked.__signature__ = signature  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate


_with_generator_options = with_options_of(BatchGenerator)


class _Default(str):
    """A default value that is told apart from the same value passed explicitly (by
    identity), and shows as that value in ``help()`` and ``inspect.signature``."""

    def __repr__(self) -> str:
        return repr(str(self))


#: ``flow_from_directory``'s default ``class_mode``: Keras' "categorical", and with
#: ``mask_dir`` not a request for labels (an explicit "categorical" is refused there).
_CATEGORICAL = _Default("categorical")


@_with_generator_options
def flow(
    pipeline: SamplePipeline,
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    masks: Any = None,
    targets: Mapping[str, Sequence[Any]] | None = None,
    subset: str | None = None,
    validation_split: float | None = None,
    **options: Unpack[GeneratorOptions],
) -> BatchGenerator:
    """Batches from arrays: ``x`` (N images, uint8 or float) with optional ``y``, weights,
    ``masks`` (augmented with their images, returned as ``y``) or per-sample ``targets``
    such as ``{"bboxes": ..., "class_labels": ...}`` (returned as ``y``, a dict of lists;
    ``class_labels`` must be one of the spec's ``bbox_params.label_fields``).
    ``subset`` takes the first ``validation_split`` of the samples as validation, as Keras.
    The keywords from ``batch_size`` on are the generator's, here as in every ``flow*``."""
    check_targets = getattr(pipeline, "check_targets", None)
    if targets and check_targets is not None:  # a ConfigError now, not at the first batch
        check_targets(targets)
    source = ArraySource(
        x,
        y,
        sample_weight,
        masks=masks,
        targets=targets,
        data_format=data_format_of(pipeline),
    )
    if subset is not None:
        split = _split(pipeline, validation_split)
        if y is not None and masks is None and targets is None:
            _check_split_classes(np.asarray(y), split_bounds(len(source), "validation", split)[1])
        start, stop = split_bounds(len(source), subset, split)
        _check_subset_has_samples(stop - start, subset, pipeline, validation_split)
        source = source.part(start, stop)
    return BatchGenerator(source, pipeline, **options)


def _check_split_classes(y: np.ndarray, cut: int) -> None:
    """Keras' guard: a split that leaves a class out of one subset is an error, not a surprise."""
    if y.ndim > 2 or (y.dtype.kind not in "biuU" and not (y.ndim == 2 and y.dtype.kind == "f")):
        return  # regression targets or structured labels: nothing to compare
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    validation, training = (
        set(np.unique(labels[:cut]).tolist()),
        set(np.unique(labels[cut:]).tolist()),
    )
    if cut and validation != training:
        only = sorted(validation ^ training, key=str)
        raise DataError(
            f"the validation split (first {cut} samples) and the training split hold different "
            f"classes (only in one of them: {only[:10]}); shuffle x and y before splitting"
        )


@_with_generator_options
def flow_from_directory(
    pipeline: SamplePipeline,
    directory: str | os.PathLike[str],
    *,
    target_size: tuple[int, int] | None = (256, 256),
    color_mode: str = "rgb",
    classes: Sequence[str] | None = None,
    class_mode: str | None = _CATEGORICAL,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
    follow_links: bool = False,
    subset: str | None = None,
    validation_split: float | None = None,
    mask_dir: str | os.PathLike[str] | None = None,
    mask_pattern: str = SAME_NAME,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    reduced_decode: bool = True,
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
    **options: Unpack[GeneratorOptions],
) -> BatchGenerator:
    """Batches from one subfolder per class, as Keras' ``flow_from_directory``.

    With ``mask_dir``, ``directory`` holds images (any layout) paired by relative path and
    name (suffix aside) with the masks in ``mask_dir``; ``y`` is then the mask batch, so
    ``classes``, or a ``class_mode`` passed other than None, is refused. ``mask_pattern``
    names a mask after its image's stem: ``"{stem}_mask"`` pairs ``000.jpg`` with
    ``000_mask.png`` (``mask_dir`` may then be ``directory`` itself, or a folder inside
    it). An image without a mask is a DataError naming it; with ``on_error="skip"``, it is
    left out with a warning. ``target_size`` is ``(height, width)``, None keeps each
    image's size (a batch then needs equal sizes).
    ``max_pixels`` bounds the pixels of any one file, ``max_file_bytes`` its size;
    ``reduced_decode`` lets large JPEGs decode at 1/2, 1/4 or 1/8. With ``follow_links``, a
    folder reached twice is listed once.
    """
    decode = decode_options(
        color_mode,
        target_size,
        interpolation,
        keep_aspect_ratio,
        max_pixels=max_pixels,
        reduced_decode=reduced_decode,
        max_file_bytes=max_file_bytes,
    )
    split = _split(pipeline, validation_split)
    if mask_dir is None and mask_pattern != SAME_NAME:
        raise ValueError("mask_pattern needs mask_dir (the folder of the masks)")
    if mask_dir is not None:
        if classes is not None:
            raise ValueError("classes cannot be used with mask_dir (y is the mask batch)")
        if class_mode is not None and class_mode is not _CATEGORICAL:  # not left at its default
            raise ValueError(
                f"class_mode={class_mode!r} cannot be used with mask_dir (y is the mask batch); "
                "leave class_mode out, or pass None"
            )
        source: DirectorySource | PairedDirectorySource = PairedDirectorySource(
            directory,
            mask_dir,
            decode=decode,
            data_format=data_format_of(pipeline),
            follow_links=follow_links,
            subset=subset,
            validation_split=split,
            mask_pattern=mask_pattern,
            skip_unpaired=options.get("on_error") == "skip",
        )
    else:
        source = DirectorySource(
            directory,
            decode=decode,
            data_format=data_format_of(pipeline),
            classes=classes,
            class_mode=str(class_mode) if class_mode is _CATEGORICAL else class_mode,
            follow_links=follow_links,
            subset=subset,
            validation_split=split,
        )
    _check_subset_has_samples(len(source), subset, pipeline, validation_split)
    if isinstance(source, DirectorySource):  # what Keras users read first, in Keras' words
        print(f"Found {len(source)} images belonging to {source.num_classes} classes.")
    return BatchGenerator(source, pipeline, **options)


@_with_generator_options
def flow_from_dataframe(
    pipeline: SamplePipeline,
    dataframe: Any,
    directory: str | os.PathLike[str] | None = None,
    *,
    x_col: str = "filename",
    y_col: str | Sequence[str] = "class",
    weight_col: str | None = None,
    target_size: tuple[int, int] | None = (256, 256),
    color_mode: str = "rgb",
    classes: Sequence[str] | None = None,
    class_mode: str | None = "categorical",
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
    subset: str | None = None,
    validation_split: float | None = None,
    validate_filenames: bool = True,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    reduced_decode: bool = True,
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
    allow_outside_directory: bool = False,
    max_table_bytes: int | None = DEFAULT_MAX_TABLE_BYTES,
    **options: Unpack[GeneratorOptions],
) -> BatchGenerator:
    """Batches from a pandas DataFrame or a CSV file (read without pandas), as Keras'
    ``flow_from_dataframe``: file names in ``x_col`` (relative to ``directory``), labels in
    ``y_col`` per ``class_mode`` (also ``"raw"`` and ``"multi_output"``), weights in
    ``weight_col``; ``validate_filenames`` drops rows whose file is missing, with a warning.

    File names must stay inside ``directory`` (no absolute paths, no ``..`` out of it) unless
    ``allow_outside_directory``; a row that breaks that, or lacks a file name or a finite
    label or weight, raises a DataError naming it when loaded (skipped with
    ``on_error="skip"``). A CSV may be at most ``max_table_bytes`` long."""
    decode = decode_options(
        color_mode,
        target_size,
        interpolation,
        keep_aspect_ratio,
        max_pixels=max_pixels,
        reduced_decode=reduced_decode,
        max_file_bytes=max_file_bytes,
    )
    source = DataFrameSource(
        dataframe,
        decode=decode,
        data_format=data_format_of(pipeline),
        directory=directory,
        x_col=x_col,
        y_col=y_col,
        weight_col=weight_col,
        classes=classes,
        class_mode=class_mode,
        subset=subset,
        validation_split=_split(pipeline, validation_split),
        validate_filenames=validate_filenames,
        allow_outside_directory=allow_outside_directory,
        max_table_bytes=max_table_bytes,
    )
    _check_subset_has_samples(len(source), subset, pipeline, validation_split)
    return BatchGenerator(source, pipeline, **options)


@with_options_of(AugmentedStream)
def wrap(
    pipeline: SamplePipeline, iterable: Iterable[Any], **options: Unpack[StreamOptions]
) -> AugmentedStream:
    """Augment every ``x``, ``(x, y)`` or ``(x, y, w)`` batch of ``iterable``, keeping its
    structure, dtype and value range; with ``masks_in_y``, ``y`` holds masks that get the
    same transform as their images. ``seed=None`` takes the spec's ``seed`` when it has
    one. For an array of images use :func:`flow`. Keras 3's ``model.fit`` takes the
    stream as ``iter(stream)`` (it takes Python generators, not other iterators)."""
    return AugmentedStream(pipeline, iterable, **options)


def _check_subset_has_samples(
    count: int, subset: str | None, pipeline: SamplePipeline, validation_split: float | None
) -> None:
    """A subset left empty by the split says which number to change, not "0 samples"."""
    if subset is None or count:
        return
    split = _split(pipeline, validation_split)
    how = (
        "set validation_split in the config (e.g. --set validation_split=0.2) or pass "
        "validation_split= here"
        if split == 0
        else "use a larger validation_split, or more samples"
        if subset == "validation"
        else "use a smaller validation_split"
    )
    raise ValueError(f"subset={subset!r} has no samples with validation_split={split:g}: {how}")


def _split(pipeline: SamplePipeline, validation_split: float | None) -> float:
    if validation_split is not None:
        return float(validation_split)
    return float(getattr(pipeline, "validation_split", 0.0) or 0.0)
