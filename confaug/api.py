"""The public entry points: load, validate, compile, export."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable
from typing import Any

from confaug.compiler.pipeline import Pipeline
from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.compose import ConfigSource, load_document
from confaug.reading.document import Document
from confaug.reading.overrides import Overrides
from confaug.registry import register_owned
from confaug.spec import KERAS_KEYWORDS, Spec, locate, validate_document

#: What ``load_pipeline`` and the ``flow*`` functions take as a pipeline.
PipelineLike = Pipeline | ConfigSource | Spec


def resolve(
    source: ConfigSource | Document,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
) -> Document:
    """Read ``source`` with its ``extends`` chain and ``overrides`` applied, not yet validated."""
    return load_document(source, overrides=overrides, allowed_roots=allowed_roots)


def _document(
    source: ConfigSource | Spec | Document,
    overrides: Overrides,
    allowed_roots: Iterable[str | os.PathLike[str]],
) -> Document:
    if isinstance(source, Document) and overrides is None:
        return source  # already resolved, e.g. by the CLI, which shows it too
    data = source.to_data() if isinstance(source, Spec) else source
    return resolve(data, overrides=overrides, allowed_roots=allowed_roots)


def load_spec(
    source: ConfigSource | Spec | Document,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
) -> Spec:
    """Read and validate a config (a path, ``preset:NAME`` or a mapping) into a ``Spec``.

    Raises ``ConfigError`` listing every problem, each with file, line, column and field.
    """
    if isinstance(source, Spec) and overrides is None:
        return source
    return validate_document(_document(source, overrides, allowed_roots))


def load_pipeline(
    source: ConfigSource | Spec | Document,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
) -> Pipeline:
    """Read, validate and compile a config into a ``Pipeline`` — or raise ``ConfigError``."""
    if isinstance(source, Spec) and overrides is None:
        return Pipeline(source)
    document = _document(source, overrides, allowed_roots)
    spec = validate_document(document)
    try:
        return Pipeline(spec)
    except ConfigError as error:  # found only when compiling: give it the file and line too
        raise locate(error, document) from None


def spec_to_yaml(spec: Spec, *, full: bool = False, modeline: bool | str = False) -> str:
    """The spec as a YAML document; see :meth:`Spec.to_yaml`."""
    return spec.to_yaml(full=full, modeline=modeline)


def spec_from_keras(**kwargs: Any) -> Spec:
    """The spec equivalent to ``ImageDataGenerator(**kwargs)``; unknown keywords: ConfigError.

    A ``preprocessing_function`` given as a function gets a private name owned by the spec
    returned (see ``confaug.registry.register_owned``): the spec, and pipelines compiled from
    it or from specs derived while it lives, find the function; no config can name it, and
    the name is released with the spec. A name (a string) must be registered already.
    """
    unknown = [k for k in kwargs if k not in KERAS_KEYWORDS]
    if unknown:
        raise ConfigError(
            Problem(
                None,
                None,
                None,
                key,
                "not an ImageDataGenerator keyword",
                did_you_mean(key, KERAS_KEYWORDS),
            )
            for key in unknown
        )
    data: dict[str, Any] = {"version": 1}
    function = kwargs.get("preprocessing_function")
    anchor = _Anchor() if callable(function) else None
    for key, value in kwargs.items():
        if key == "preprocessing_function" and anchor is not None:
            value = register_owned(value, anchor)  # owned by the anchor until the spec holds it
        if key == "data_format" and value is None:
            continue
        if key == "dtype" and value is not None:
            value = getattr(value, "name", value)
        if isinstance(value, tuple):
            value = list(value)
        data[key] = value
    spec = load_spec(data)
    if anchor is not None:
        # The anchor (and so the name) now lives as long as the spec: a finalizer holds it.
        weakref.finalize(spec, anchor.release)
    return spec


class _Anchor:
    """What owns a ``preprocessing_function``'s private name until the spec exists; the
    spec's finalizer keeps it alive, and so the name, until the spec is collected."""

    def release(self) -> None:
        """Called when the spec is collected; dropping the last reference frees the name."""


def _as_pipeline(pipeline: PipelineLike) -> Pipeline:
    return pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)


def flow(x: Any, pipeline: PipelineLike, y: Any = None, **options: Any) -> Any:
    """Batches from arrays through ``pipeline`` (a Pipeline, a config path or preset:NAME)."""
    return _as_pipeline(pipeline).flow(x, y, **options)


def flow_from_directory(directory: Any, pipeline: PipelineLike, **options: Any) -> Any:
    """Batches from a folder of class subfolders through ``pipeline``."""
    return _as_pipeline(pipeline).flow_from_directory(directory, **options)


def flow_from_dataframe(dataframe: Any, pipeline: PipelineLike, **options: Any) -> Any:
    """Batches from a DataFrame or CSV file through ``pipeline``."""
    return _as_pipeline(pipeline).flow_from_dataframe(dataframe, **options)


def wrap(batches: Iterable[Any], pipeline: PipelineLike, **options: Any) -> Any:
    """Augment an iterable of ``(x, y)`` batches through ``pipeline`` (the seed's generator)."""
    return _as_pipeline(pipeline).wrap(batches, **options)
