"""The public entry points: load, validate, compile, export."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from confaug.compiler.pipeline import Pipeline
from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.albu_format import from_albumentations, is_albumentations_file
from confaug.reading.compose import AllowedRoots, ConfigSource, allowed_roots_of, load_document
from confaug.reading.document import Document, SourceMap
from confaug.reading.overrides import Overrides
from confaug.reading.plain import plain_copy
from confaug.registry import register_owned
from confaug.spec import KERAS_KEYWORDS, Spec, locate, validate_document
from confaug.spec.cost import DEFAULT_TIME_BUDGET, check_time_budget

if TYPE_CHECKING:
    from typing import Concatenate, ParamSpec, TypeVar

    from confaug.batching import factory as _factory

#: What ``load_pipeline`` and the ``flow*`` functions take as a pipeline.
PipelineLike = Pipeline | ConfigSource | Spec


def resolve(
    source: ConfigSource | Document | None = None,
    *,
    text: str | bytes | None = None,
    overrides: Overrides = None,
    allowed_roots: AllowedRoots = (),
) -> Document:
    """Read ``source`` with its ``extends`` chain and ``overrides`` applied, not yet validated.

    A mapping may be albumentations' own (``A.to_dict(compose)``), as a file may be ``A.save``'s.
    ``text`` is a config's YAML or JSON text instead of ``source``, read as a file is read:
    the same YAML checks (``yes``/``no``, ``010``, duplicate keys) and every problem placed
    at its line and column of the text, named ``<text>`` (bytes are decoded as a file's
    are, UTF-8). Its ``extends`` are found as a mapping's are: presets, and files under
    ``allowed_roots``.
    """
    if isinstance(source, Mapping) and is_albumentations_file(dict(source)):
        # Files are converted as they are read; a mapping is converted here, once it is
        # copied within a file's limits (the converter walks it).
        data = plain_copy(dict(source))
        source = from_albumentations(Document(data, SourceMap(), None))
    return load_document(source, text=text, overrides=overrides, allowed_roots=allowed_roots)


def _document(
    source: ConfigSource | Spec | Document | None,
    text: str | bytes | None,
    overrides: Overrides,
    allowed_roots: AllowedRoots,
) -> Document:
    if isinstance(source, Document) and overrides is None and text is None:
        return source  # already resolved, e.g. by the CLI, which shows it too
    data = source.to_data() if isinstance(source, Spec) else source
    return resolve(data, text=text, overrides=overrides, allowed_roots=allowed_roots)


def load_spec(
    source: ConfigSource | Spec | Document | None = None,
    *,
    text: str | bytes | None = None,
    overrides: Overrides = None,
    allowed_roots: AllowedRoots = (),
    time_budget: float = DEFAULT_TIME_BUDGET,
) -> Spec:
    """Read and validate a config (a path, ``preset:NAME``, a mapping, or ``text=``, its
    YAML or JSON text: see :func:`resolve`) into a ``Spec``.

    Raises ``ConfigError`` listing every problem, each with file, line, column and field,
    those only compiling finds too: a spec returned is one :func:`load_pipeline` compiles.
    ``time_budget`` is the seconds a pipeline may take for a 1024×1024 image, as estimated
    at load (SECURITY.md, "What a transform may cost"): raise it for a costly config you
    trust; a config cannot.
    """
    check_time_budget(time_budget)  # a wrong value is refused even when nothing is estimated
    # Checked even when nothing is read (a Spec): a wrong value is the caller's mistake.
    allowed_roots = allowed_roots_of(allowed_roots)
    if isinstance(source, Spec) and overrides is None and text is None:
        return source
    document = _document(source, text, overrides, allowed_roots)
    spec = validate_document(document, time_budget=time_budget)
    if not _has_steps(spec):
        return spec  # the Keras keywords alone: nothing to build, no albumentations import
    # Compiled and dropped: the checks that need the built steps (a Normalize with p < 1,
    # dtype uint8 after a Normalize, value_range against max_pixel_value, ...) live in the
    # compiler, and a spec load_spec returns must be one load_pipeline takes. Building the
    # steps costs about a third of reading and validating them.
    return _compiled(document, spec).spec


def _has_steps(spec: Spec) -> bool:
    """Whether compiling ``spec`` checks more than the spec does: listed steps or the
    Compose options the compiler checks against them (a Keras-only spec's rules, such as
    an integer dtype after rescale, are the spec's own, ``Spec._consistent``)."""
    return bool(
        spec.transforms
        or spec.bbox_params is not None
        or spec.keypoint_params is not None
        or spec.additional_targets
    )


def load_pipeline(
    source: ConfigSource | Spec | Document | None = None,
    *,
    text: str | bytes | None = None,
    overrides: Overrides = None,
    allowed_roots: AllowedRoots = (),
    time_budget: float = DEFAULT_TIME_BUDGET,
) -> Pipeline:
    """Read, validate and compile a config into a ``Pipeline`` — or raise ``ConfigError``.

    ``text=``: a config's YAML or JSON text instead of ``source`` (see :func:`resolve`).
    ``time_budget``: as for :func:`load_spec`.
    """
    check_time_budget(time_budget)
    allowed_roots = allowed_roots_of(allowed_roots)  # as in load_spec
    if isinstance(source, Spec) and overrides is None and text is None:
        return Pipeline(source)
    document = _document(source, text, overrides, allowed_roots)
    return _compiled(document, validate_document(document, time_budget=time_budget))


def _compiled(document: Document, spec: Spec) -> Pipeline:
    """``spec``, validated from ``document``, compiled; a problem placed in the file."""
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


class _MirroredSignature:
    """What ``inspect.signature`` finds behind a ``confaug.flow*`` function (its
    ``__wrapped__``): the ``Pipeline`` method's signature with the data first and the
    pipeline second. Computed when asked for, so importing confaug imports no batching."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(getattr(Pipeline, self.name))  # the factory function
        first, data, *rest = signature.parameters.values()
        positional = inspect.Parameter.POSITIONAL_ONLY
        pipeline = first.replace(kind=positional, annotation="PipelineLike")
        return signature.replace(parameters=[data.replace(kind=positional), pipeline, *rest])


def _through_pipeline(name: str, what: str) -> Callable[..., Any]:
    """``confaug.NAME(data, pipeline, ...)``: ``pipeline`` loaded if it is a config, then
    its method ``NAME`` (see :class:`_MirroredSignature` for the signature shown)."""

    def through(*args: Any, **options: Any) -> Any:
        if len(args) < 2:  # Python's own message would name this wrapper's parameters
            raise _positional_only(name, options)
        data, pipeline, *rest = args
        return getattr(_as_pipeline(pipeline), name)(data, *rest, **options)

    through.__name__ = through.__qualname__ = name
    through.__doc__ = (
        f"{what} through ``pipeline`` (a Pipeline, a config path, ``preset:NAME`` or a "
        f"Spec); the options are those of ``Pipeline.{name}``."
    )
    through.__wrapped__ = _MirroredSignature(name)  # type: ignore[attr-defined]
    return through


def _positional_only(name: str, given: Mapping[str, Any]) -> TypeError:
    """The data and the pipeline of ``confaug.NAME`` were not both given by position."""
    first, second = list(_MirroredSignature(name).__signature__.parameters)[:2]
    keywords = [key for key in (first, second) if key in given]
    also = f" (not {' and '.join(f'{key}=' for key in keywords)})" if keywords else ""
    return TypeError(
        f"{name}() takes {first} and {second} first, by position{also}: "
        f"confaug.{name}({first}, {second}, ...)"
    )


if TYPE_CHECKING:  # what mypy sees: the factory's own signatures, data first
    _P = ParamSpec("_P")
    _Data = TypeVar("_Data")
    _Result = TypeVar("_Result")

    def _data_first(
        method: Callable[Concatenate[Any, _Data, _P], _Result],
    ) -> Callable[Concatenate[_Data, PipelineLike, _P], _Result]: ...

    flow = _data_first(_factory.flow)
    flow_from_directory = _data_first(_factory.flow_from_directory)
    flow_from_dataframe = _data_first(_factory.flow_from_dataframe)
    wrap = _data_first(_factory.wrap)
else:
    flow = _through_pipeline("flow", "Batches from arrays")
    flow_from_directory = _through_pipeline(
        "flow_from_directory", "Batches from a folder of class subfolders"
    )
    flow_from_dataframe = _through_pipeline(
        "flow_from_dataframe", "Batches from a DataFrame or CSV file"
    )
    wrap = _through_pipeline("wrap", "An iterable of batches augmented")
