"""The public entry points: load, validate, compile, export."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from confaug.compiler.pipeline import Pipeline
from confaug.errors import ConfigError, Problem
from confaug.reading.document import Document
from confaug.reading.loader import Overrides, Source, load_document
from confaug.spec.model import KERAS_KEYWORDS, Spec
from confaug.spec.validate import locate, validate_document


def resolve(
    source: Source | Document,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
) -> Document:
    """Read ``source`` with its ``extends`` chain and ``overrides`` applied, not yet validated."""
    return load_document(source, overrides=overrides, allowed_roots=allowed_roots)


def load_spec(
    source: Source | Spec,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
) -> Spec:
    """Read and validate a config (a path, ``preset:NAME`` or a mapping) into a ``Spec``.

    Raises ``ConfigError`` listing every problem, each with file, line, column and field.
    """
    if isinstance(source, Spec):
        if overrides is None:
            return source
        source = source.to_data()
    return validate_document(resolve(source, overrides=overrides, allowed_roots=allowed_roots))


def load_pipeline(
    source: Source | Spec,
    *,
    overrides: Overrides = None,
    allowed_roots: Iterable[str | os.PathLike[str]] = (),
) -> Pipeline:
    """Read, validate and compile a config into a ``Pipeline`` — or raise ``ConfigError``."""
    if isinstance(source, Spec) and overrides is None:
        return Pipeline(source)
    data = source.to_data() if isinstance(source, Spec) else source
    document = resolve(data, overrides=overrides, allowed_roots=allowed_roots)
    spec = validate_document(document)
    try:
        return Pipeline(spec)
    except ConfigError as error:  # found only when compiling: give it the file and line too
        raise locate(error, document) from None


def spec_to_yaml(spec: Spec, *, full: bool = False, modeline: bool | str = False) -> str:
    """The spec as a YAML document (only the keys that were set, unless ``full``).

    ``modeline`` starts it with the editor schema line: ``True`` points at
    ``confaug.schema.json`` next to the config (write it with ``confaug schema -o``), a string
    at that path or URL.
    """
    body = yaml.safe_dump(spec.to_data(full=full), sort_keys=False, allow_unicode=True)
    if modeline is False:
        return body
    from confaug.resources import SCHEMA_FILE, schema_modeline

    return f"{schema_modeline(SCHEMA_FILE if modeline is True else modeline)}\n{body}"


def spec_from_keras(**kwargs: Any) -> Spec:
    """The spec equivalent to ``ImageDataGenerator(**kwargs)``; unknown keywords raise ConfigError."""
    unknown = [k for k in kwargs if k not in KERAS_KEYWORDS]
    if unknown:
        from confaug.errors import did_you_mean

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
    for key, value in kwargs.items():
        if key == "preprocessing_function" and callable(value):
            from confaug.registry import register_as_available

            value = register_as_available(value)
        if key == "data_format" and value is None:
            continue
        if key == "dtype" and value is not None:
            value = getattr(value, "name", value)
        if isinstance(value, tuple):
            value = list(value)
        data[key] = value
    return load_spec(data)


def _as_pipeline(pipeline: Pipeline | Source | Spec) -> Pipeline:
    return pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)


def flow(x: Any, pipeline: Pipeline | Source | Spec, y: Any = None, **options: Any) -> Any:
    """Batches from arrays through ``pipeline`` (a Pipeline, a config path or preset:NAME)."""
    return _as_pipeline(pipeline).flow(x, y, **options)


def flow_from_directory(directory: Any, pipeline: Pipeline | Source | Spec, **options: Any) -> Any:
    """Batches from a folder of class subfolders through ``pipeline``."""
    return _as_pipeline(pipeline).flow_from_directory(directory, **options)


def flow_from_dataframe(dataframe: Any, pipeline: Pipeline | Source | Spec, **options: Any) -> Any:
    """Batches from a DataFrame or CSV file through ``pipeline``."""
    return _as_pipeline(pipeline).flow_from_dataframe(dataframe, **options)


def wrap(batches: Iterable[Any], pipeline: Pipeline | Source | Spec, **options: Any) -> Any:
    """Augment an iterable of ``(x, y)`` batches through ``pipeline`` (the seed's create_aug_gen)."""
    return _as_pipeline(pipeline).wrap(batches, **options)
