"""Keras' ``standardize`` stage, run on a batch after augmentation.

In order: ``preprocessing_function`` (per sample, as Keras calls it), ``rescale``,
samplewise centre/std (each sample over all its values), featurewise centre/std and ZCA
whitening with statistics from :meth:`Standardizer.fit`. Flags imply each other as in
Keras: ``featurewise_std_normalization`` → ``featurewise_center``; ``zca_whitening`` →
``featurewise_center`` and no featurewise std; ``samplewise_std_normalization`` →
``samplewise_center``. Batches are NHWC (or one HWC sample); the output is float32.

One deliberate difference: Keras' ``fit`` computes statistics on ``x * rescale`` only,
yet applies them after ``preprocessing_function`` and samplewise steps; confaug's ``fit``
runs those same earlier steps first, so the statistics describe what they are applied to.
Without a preprocessing function or samplewise steps the numbers are Keras'.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_EPSILON = 1e-6  # Keras adds it to every standard deviation it divides by


class NotFittedError(RuntimeError):
    """Featurewise statistics were needed but :meth:`Standardizer.fit` was never called."""


@dataclass(frozen=True)
class FeaturewiseStats:
    """Statistics from ``fit``: per-channel ``mean`` and ``std`` (shape ``(C,)``) and the
    ``zca_matrix`` (``(D, D)``, D = H·W·C); each ``None`` when not computed.
    """

    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    zca_matrix: np.ndarray | None = None

    def to_npz(self, path: str | os.PathLike[str]) -> None:
        """Save to a ``.npz`` file (no pickled objects)."""
        arrays = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        np.savez(path, **arrays)

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str]) -> FeaturewiseStats:
        """Load what :meth:`to_npz` saved."""
        with np.load(path, allow_pickle=False) as data:
            return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


def fit_featurewise(
    x: np.ndarray,
    *,
    center: bool,
    std: bool,
    zca: bool,
    zca_epsilon: float = 1e-6,
) -> FeaturewiseStats:
    """Keras' featurewise statistics of an NHWC batch, computed in float64.

    Mean and std per channel over (sample, row, column); the std of the centred data; the
    ZCA matrix ``U · diag(sqrt(n) / (s + eps)) · Uᵀ`` from the SVD of the centred,
    flattened data.
    """
    if x.ndim != 4:
        raise ValueError(f"fit needs an NHWC batch of rank 4, got shape {x.shape}")
    data = x.astype(np.float64)
    mean = stdev = zca_matrix = None
    if center:
        mean = data.mean(axis=(0, 1, 2))
        data -= mean
    if std:
        stdev = data.std(axis=(0, 1, 2))
        data /= stdev + _EPSILON
    if zca:
        flat = data.reshape(len(data), -1)
        u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
        zca_matrix = (u * (np.sqrt(len(data)) / (s + zca_epsilon))) @ u.T

    def as_float32(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a.astype(np.float32)

    return FeaturewiseStats(as_float32(mean), as_float32(stdev), as_float32(zca_matrix))


@dataclass(frozen=True)
class Standardizer:
    """Keras' ``standardize`` as a callable on NHWC batches; see the module docstring.

    Implied flags are settled at construction. :meth:`fit` returns a fitted copy; calling
    an unfitted one that needs statistics raises :class:`NotFittedError`.
    """

    preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None
    rescale: float | None = None
    samplewise_center: bool = False
    samplewise_std_normalization: bool = False
    featurewise_center: bool = False
    featurewise_std_normalization: bool = False
    zca_whitening: bool = False
    zca_epsilon: float = 1e-6
    stats: FeaturewiseStats | None = None

    def __post_init__(self) -> None:
        implied = {
            "samplewise_center": self.samplewise_center or self.samplewise_std_normalization,
            "featurewise_center": (
                self.featurewise_center
                or self.featurewise_std_normalization
                or self.zca_whitening
            ),
            "featurewise_std_normalization": (
                self.featurewise_std_normalization and not self.zca_whitening
            ),
        }
        for name, value in implied.items():
            object.__setattr__(self, name, value)

    @property
    def needs_fit(self) -> bool:
        """Whether featurewise statistics are used."""
        return self.featurewise_center or self.featurewise_std_normalization or self.zca_whitening

    @property
    def is_identity(self) -> bool:
        """Whether calling it only converts to float32."""
        return not (
            self.needs_fit
            or self.samplewise_center
            or self.rescale
            or self.preprocessing_function is not None
        )

    def fit(self, x: np.ndarray) -> Standardizer:
        """A copy holding featurewise statistics of the NHWC batch ``x``."""
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"fit needs an NHWC batch of rank 4, got shape {x.shape}")
        stats = fit_featurewise(
            self._before_featurewise(x),
            center=self.featurewise_center,
            std=self.featurewise_std_normalization,
            zca=self.zca_whitening,
            zca_epsilon=self.zca_epsilon,
        )
        return dataclasses.replace(self, stats=stats)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Standardize an NHWC batch (or one HWC sample) into a new float32 array."""
        x = np.asarray(x)
        if x.ndim not in (3, 4):
            raise ValueError(f"expected an NHWC batch or an HWC image, got shape {x.shape}")
        batch = x if x.ndim == 4 else x[None]
        out = self._featurewise(self._before_featurewise(batch))
        return out if x.ndim == 4 else out[0]

    def _before_featurewise(self, batch: np.ndarray) -> np.ndarray:
        """Preprocessing function, rescale, samplewise steps; always a fresh float32 array."""
        if self.preprocessing_function is not None:
            batch = np.stack([self.preprocessing_function(sample) for sample in batch])
            out = batch.astype(np.float32, copy=False)
        else:
            out = np.array(batch, dtype=np.float32)
        if self.rescale:
            out *= np.float32(self.rescale)
        axes = tuple(range(1, out.ndim))
        if self.samplewise_center:
            out -= out.mean(axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            out /= out.std(axis=axes, keepdims=True) + _EPSILON
        return out

    def _featurewise(self, out: np.ndarray) -> np.ndarray:
        if not self.needs_fit:
            return out
        stats = self.stats
        missing = stats is None or (
            (self.featurewise_center and stats.mean is None)
            or (self.featurewise_std_normalization and stats.std is None)
            or (self.zca_whitening and stats.zca_matrix is None)
        )
        if missing:
            raise NotFittedError(
                "featurewise_center, featurewise_std_normalization and zca_whitening need "
                "statistics of the training data: use `standardizer = standardizer.fit(x)` "
                "(or load them with FeaturewiseStats.from_npz) before standardizing"
            )
        if self.featurewise_center:
            out -= stats.mean
        if self.featurewise_std_normalization:
            out /= stats.std + np.float32(_EPSILON)
        if self.zca_whitening:
            flat = out.reshape(len(out), -1)
            if flat.shape[1] != stats.zca_matrix.shape[0]:
                raise ValueError(
                    f"the ZCA matrix was fit on {stats.zca_matrix.shape[0]} values per sample, "
                    f"these samples have {flat.shape[1]} (shape {out.shape[1:]})"
                )
            out = (flat @ stats.zca_matrix).reshape(out.shape)
        return out
