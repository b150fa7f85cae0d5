"""``ImageDataGenerator``: Keras' API over a confaug ``Pipeline``, each part done elsewhere.

The class keeps Keras' names, signatures and defaults, and holds the spec and the pipeline;
the work is its collaborators': :mod:`~confaug.keras.config` (keywords to a spec),
:mod:`~confaug.keras.statistics` (``fit``, ``mean``/``std``/ZCA), :mod:`~confaug.keras.flows`
(the ``flow*`` methods) and :mod:`~confaug.keras.transform` (one image), all keeping float
data of any range in its own units (:mod:`~confaug.keras.raw_units`).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

import numpy as np

from confaug.api import load_spec, spec_from_keras, spec_to_yaml
from confaug.compiler.pipeline import Pipeline
from confaug.keras.config import (
    KERAS_DEFAULTS,
    dtype_name,
    keras_attribute,
    keras_keywords,
    warn_implied_flags,
)
from confaug.keras.flows import array_flow, dataframe_flow, directory_flow
from confaug.keras.global_seed import seed_or_global
from confaug.keras.iterators import KerasIterator, make_iterator
from confaug.keras.raw_units import KerasUnitsPipeline
from confaug.keras.statistics import fit_statistics, read_statistic, write_statistic
from confaug.keras.transform import RandomDraws, standardize_like_keras, transform_image
from confaug.spec.model import Spec

_P = ParamSpec("_P")


def _flow_method(
    flow: Callable[Concatenate[Spec, Pipeline, _P], dict[str, Any]], name: str
) -> Callable[Concatenate[ImageDataGenerator, _P], KerasIterator]:
    """The ``ImageDataGenerator`` method ``name``: ``flow`` on the generator's spec and
    pipeline, as its iterator, with ``flow``'s parameters and docstring after ``self``."""

    def method(self: ImageDataGenerator, /, *args: _P.args, **kwargs: _P.kwargs) -> KerasIterator:
        return self._iterator(flow(self.spec, self.pipeline, *args, **kwargs))

    shown = inspect.signature(flow)
    own = list(shown.parameters.values())[2:]  # spec, pipeline
    this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = shown.replace(  # type: ignore[attr-defined]
        parameters=[this, *own], return_annotation="KerasIterator"
    )
    method.__name__, method.__qualname__ = name, f"ImageDataGenerator.{name}"
    method.__doc__ = flow.__doc__
    return method


#: Keras' axis attributes, per data format.
_AXES = {
    "channel_axis": {"channels_last": 3, "channels_first": 1},
    "row_axis": {"channels_last": 1, "channels_first": 2},
    "col_axis": {"channels_last": 2, "channels_first": 3},
}


class ImageDataGenerator:
    """Keras' ``ImageDataGenerator`` API on a confaug ``Pipeline`` (see :mod:`confaug.keras`)."""

    def __init__(self, **keywords: Any) -> None:
        keywords = keras_keywords(keywords)
        self._build(keywords)
        warn_implied_flags(keywords)

    def _build(self, keywords: dict[str, Any]) -> None:
        """Spec, pipeline and draws from Keras' constructor keywords."""
        spec = spec_from_keras(**keywords)  # first: a bad value leaves the generator as it was
        object.__setattr__(self, "_keywords", keywords)
        self.spec: Spec = spec
        self.pipeline: Pipeline = KerasUnitsPipeline(spec)
        self._draws = RandomDraws(spec)

    # ---- Keras' keyword attributes ------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        """Keras keeps its keywords as attributes (``rescale``, ``rotation_range``,
        ``preprocessing_function``, ...; ``zoom_range`` as ``[low, high]``) and the axes
        ``channel_axis``, ``row_axis``, ``col_axis``: the same values here."""
        keywords = self.__dict__.get("_keywords")
        if keywords is None or name.startswith("_"):
            raise AttributeError(name)
        if name in _AXES:
            return _AXES[name][self.spec.data_format]
        if name not in KERAS_DEFAULTS:
            raise AttributeError(f"'ImageDataGenerator' object has no attribute {name!r}")
        return keras_attribute(keywords, name)

    def __setattr__(self, name: str, value: Any) -> None:
        """Setting a Keras keyword (``gen.rotation_range = 30``, as Keras code may) rebuilds
        the pipeline with it, for the flows made after; ``fit`` statistics are kept."""
        keywords = self.__dict__.get("_keywords")
        if keywords is None or name not in KERAS_DEFAULTS:  # data_format is one
            object.__setattr__(self, name, value)
            return
        stats = self.pipeline.standardizer.state()
        self._build(keras_keywords({**keywords, name: value}))
        if stats is not None:
            self.pipeline.standardizer.load_state(stats)

    # ---- Keras' attribute names ---------------------------------------------------------
    @property
    def data_format(self) -> str:
        return self.spec.data_format

    @property
    def mean(self) -> np.ndarray | None:
        """Per-channel mean from ``fit``, shaped (1, 1, C) or (C, 1, 1) as Keras; settable."""
        return read_statistic(self.pipeline, "mean", self.spec.data_format)

    @mean.setter
    def mean(self, value: Any) -> None:
        write_statistic(self.pipeline, "mean", value, self.spec.data_format)

    @property
    def std(self) -> np.ndarray | None:
        """Per-channel std from ``fit``, shaped as :attr:`mean`; settable."""
        return read_statistic(self.pipeline, "std", self.spec.data_format)

    @std.setter
    def std(self, value: Any) -> None:
        write_statistic(self.pipeline, "std", value, self.spec.data_format)

    @property
    def zca_whitening_matrix(self) -> np.ndarray | None:
        """The ZCA matrix from ``fit`` (over values in HWC order); settable."""
        return read_statistic(self.pipeline, "zca_matrix", self.spec.data_format)

    @zca_whitening_matrix.setter
    def zca_whitening_matrix(self, value: Any) -> None:
        write_statistic(self.pipeline, "zca_matrix", value, self.spec.data_format)

    #: keras-preprocessing's (tf.keras 2's) name for the ZCA matrix.
    principal_components = zca_whitening_matrix

    # ---- iterators ------------------------------------------------------------------------
    # Keras' signatures are the flow functions' own (confaug.keras.flows), written once.
    flow = _flow_method(array_flow, "flow")
    flow_from_directory = _flow_method(directory_flow, "flow_from_directory")
    flow_from_dataframe = _flow_method(dataframe_flow, "flow_from_dataframe")

    def _iterator(self, parts: dict[str, Any]) -> KerasIterator:
        """The iterator over a flow's parts, with Keras' ``image_data_generator`` attribute
        and the ``PyDataset`` options (``workers``...) that ``model.fit`` reads."""
        attributes = {**parts.get("attributes", {}), "image_data_generator": self}
        return make_iterator(**{**parts, "attributes": attributes})

    # ---- statistics -----------------------------------------------------------------------
    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute featurewise statistics from ``x`` (Keras' ``fit``); with ``augment`` and no
        ``seed``, the augmentation is seeded from NumPy's global random state, as Keras'."""
        fit_statistics(
            self.spec, self.pipeline, x, augment, rounds, seed_or_global(seed) if augment else seed
        )

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Keras' ``standardize`` on one image or a batch.

        As in Keras, a float array is changed in place (and returned) unless a
        ``preprocessing_function`` is set; other input gives a new array.
        """
        return standardize_like_keras(self.spec, self.pipeline, x)

    # ---- one image ------------------------------------------------------------------------
    def get_random_transform(
        self, img_shape: tuple[int, ...], seed: int | None = None
    ) -> dict[str, Any]:
        """One random draw as Keras' parameter dict (theta, tx, ty, shear, zx, zy, flips, ...)."""
        return self._draws.draw(img_shape, seed)

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """Apply exactly the given parameters to one image (Keras' ``apply_transform``)."""
        return transform_image(self.spec, x, transform_parameters)

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """A random transform of one image (Keras' ``random_transform``)."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def with_options(self, *, data_format: str | None, dtype: Any) -> ImageDataGenerator:
        """This generator, or a copy of it with another ``data_format`` / ``dtype`` (None:
        keep) that shares its ``fit`` statistics: what an iterator given those runs with."""
        changes = {
            name: value
            for name, value in (("data_format", data_format), ("dtype", dtype_name(dtype)))
            if value is not None and value != getattr(self.spec, name)
        }
        if not changes:
            return self
        variant = copy.copy(self)
        variant.spec = load_spec({**self.spec.to_data(), **changes})
        variant.pipeline = KerasUnitsPipeline(variant.spec)
        variant.pipeline.standardizer = self.pipeline.standardizer
        variant._draws = RandomDraws(variant.spec)
        return variant

    def to_yaml(self) -> str:
        """The equivalent confaug config."""
        return spec_to_yaml(self.spec)
