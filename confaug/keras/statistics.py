"""Featurewise statistics with Keras' shapes: ``fit``, and ``mean``/``std``/ZCA read and set.

confaug's standardizer keeps ``mean`` and ``std`` in HWC order (one value per channel, or
an array per pixel); Keras shows them as (1, 1, C) or, channels first, (C, 1, 1). The ZCA
matrix (over values in HWC order) is the same in both.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np

from confaug.compiler.pipeline import Pipeline
from confaug.keras.raw_units import keras_values, pipeline_for
from confaug.spec.model import Spec

Statistic = Literal["mean", "std", "zca_matrix"]


def fit_statistics(
    spec: Spec, pipeline: Pipeline, x: Any, augment: bool, rounds: int, seed: int | None
) -> None:
    """Compute ``pipeline``'s featurewise statistics from ``x``, in the data's own units."""
    data = keras_values(x)
    pipeline_for(spec, pipeline, data).fit(data, augment=augment, rounds=rounds, seed=seed)


def read_statistic(pipeline: Pipeline, name: Statistic, data_format: str) -> np.ndarray | None:
    """One statistic from ``fit`` (or set), ``mean``/``std`` in Keras' layout."""
    stats = pipeline.standardizer.stats
    value: np.ndarray | None = None if stats is None else getattr(stats, name)
    if value is None or name == "zca_matrix":
        return value
    if value.ndim == 1:
        value = value.reshape(1, 1, -1)
    return np.moveaxis(value, -1, 0) if data_format == "channels_first" else value


def write_statistic(pipeline: Pipeline, name: Statistic, value: Any, data_format: str) -> None:
    """Set one statistic, ``mean``/``std`` given in Keras' layout; None removes it."""
    from confaug.idg.standardize import FeaturewiseStats

    if value is not None:
        try:
            value = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an array of numbers, got {value!r:.80}") from None
    if name != "zca_matrix" and value is not None:
        if data_format == "channels_first" and value.ndim == 3:
            value = np.moveaxis(value, 0, -1)  # statistics are kept in HWC order
        if value.ndim == 3 and value.shape[:2] == (1, 1):
            value = value.reshape(-1)
    standardizer = pipeline.standardizer
    stats = standardizer.stats or FeaturewiseStats()
    standardizer.load_state(dataclasses.replace(stats, **{name: value}))
