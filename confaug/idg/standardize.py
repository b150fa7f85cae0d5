"""Keras' ``standardize`` stage, run on a batch after augmentation.

In order: ``preprocessing_function`` (per sample, as Keras calls it), ``rescale``,
samplewise centre/std (each sample over all its values), featurewise centre/std and ZCA
whitening with statistics from :meth:`Standardizer.fit`. Flags imply each other as in
Keras: ``featurewise_std_normalization`` → ``featurewise_center``; ``zca_whitening`` →
``featurewise_center`` and no featurewise std; ``samplewise_std_normalization`` →
``samplewise_center``. Batches are NHWC, or NCHW with ``channels_first=True`` (statistics
are kept in HWC order either way); the output is float32 unless another dtype is asked.

One deliberate difference: Keras' ``fit`` computes statistics on ``x * rescale`` only,
yet applies them after ``preprocessing_function`` and samplewise steps; confaug's ``fit``
runs those same earlier steps first, so the statistics describe what they are applied to.
Without a preprocessing function or samplewise steps the numbers are Keras'.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from confaug.errors import DataError

_EPSILON = 1e-6  # Keras adds it to every standard deviation it divides by
_KEYWORDS = (
    "rescale",
    "samplewise_center",
    "samplewise_std_normalization",
    "featurewise_center",
    "featurewise_std_normalization",
    "zca_whitening",
    "zca_epsilon",
)


#: The most memory the ZCA matrix may take while ``fit`` computes it: D × D float64 values
#: for images of D = H·W·C values (a 32×32 RGB image: 72 MiB; 64×64 RGB: 1.1 GiB, which
#: took 1.8 GB and 9 s; 96×96: NumPy's MemoryError asking for 5.7 GiB). SECURITY.md's bound
#: on the memory of one step.
MAX_ZCA_BYTES = 1 << 30


def check_zca_size(image_shape: tuple[int, ...], *, channels_first: bool = False) -> None:
    """A ``DataError`` when the ZCA matrix of images of ``image_shape`` (one image: HWC, or
    CHW with ``channels_first``) would take more than :data:`MAX_ZCA_BYTES`; its memory
    grows with the square of the values per image, so it is checked before any is made."""
    values = math.prod(image_shape)
    need = 8 * values * values
    if need <= MAX_ZCA_BYTES:
        return
    most = math.isqrt(MAX_ZCA_BYTES // 8)
    channels = image_shape[0 if channels_first else -1] if len(image_shape) == 3 else 1
    side = math.isqrt(most // max(channels, 1))
    raise DataError(
        f"zca_whitening: images of shape {tuple(image_shape)} have {values:,} values each; "
        f"their ZCA matrix ({values:,} × {values:,} float64) would take "
        f"{need / 2**30:.1f} GiB, more than the {MAX_ZCA_BYTES / 2**30:g} GiB it may; "
        f"use smaller images for ZCA (at most {most:,} values each, e.g. {side}×{side} "
        f"with {channels} channel{'s' if channels != 1 else ''}), or turn zca_whitening off"
    )


#: The most memory the rounds of ``fit(augment=True, rounds=N)`` may take when ZCA whitening,
#: whose SVD needs every value at once, holds them all: N × the data as float64 (CIFAR-10's
#: 50,000 images: 1.1 GiB a round). Mean and std need no such bound: they are summed round
#: by round (:meth:`Standardizer.fit_rounds`). One round, the caller's own data as
#: ``augment=False`` holds it, is always allowed.
MAX_ZCA_ROUNDS_BYTES = 4 << 30


def check_zca_rounds(rounds: int, batch_shape: tuple[int, ...]) -> None:
    """A ``DataError`` when ``rounds`` augmented batches of ``batch_shape`` (N images), all
    held at once as float64 for ZCA's SVD, would take more than :data:`MAX_ZCA_ROUNDS_BYTES`;
    checked before any round is augmented, as :func:`check_zca_size` is."""
    one_round = 8 * math.prod(batch_shape)
    need = rounds * one_round
    if rounds <= 1 or need <= MAX_ZCA_ROUNDS_BYTES:
        return
    most = max(1, MAX_ZCA_ROUNDS_BYTES // max(one_round, 1))
    raise DataError(
        f"zca_whitening: fit(augment=True, rounds={rounds}) holds every augmented round at "
        f"once for the ZCA matrix's SVD: {rounds} rounds × {batch_shape[0]:,} images × "
        f"{math.prod(batch_shape[1:]):,} values as float64 take {need / 2**30:.1f} GiB, more "
        f"than the {MAX_ZCA_ROUNDS_BYTES / 2**30:g} GiB it may; use at most {most} "
        f"round{'s' if most != 1 else ''} for these images, fewer images, or augment=False"
    )


class NotFittedError(RuntimeError):
    """Featurewise statistics were needed but :meth:`Standardizer.fit` was never called."""


@dataclass(frozen=True, eq=False)
class FeaturewiseStats:
    """Statistics from ``fit``: per-channel ``mean`` and ``std`` (shape ``(C,)``) and the
    ``zca_matrix`` (``(D, D)``, D = H·W·C); each ``None`` when not computed.
    """

    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    zca_matrix: np.ndarray | None = None

    def to_npz(self, path: str | os.PathLike[str]) -> None:
        """Save to a ``.npz`` file (no pickled objects)."""
        arrays = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        np.savez(path, **{name: array for name, array in arrays.items() if array is not None})

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str]) -> FeaturewiseStats:
        """Load what :meth:`to_npz` saved."""
        with np.load(path, allow_pickle=False) as data:
            return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


def _preprocessed(function: Callable[[np.ndarray], Any], sample: np.ndarray) -> Any:
    """``function(sample)``; a ValueError unless it is an image of ``sample``'s shape (Keras
    writes it back into the batch; None or a scalar would become a batch of another shape)
    holding real numbers (complex values would lose their imaginary part to a warning, text
    would be parsed and dates counted in their units)."""
    result = function(sample)
    shape = None if result is None else np.shape(result)
    if shape != sample.shape:
        got = "None" if shape is None else f"a value of shape {shape}"
        raise ValueError(
            f"preprocessing_function returned {got} for an image of shape {sample.shape}; "
            "it must return the image, of the same shape (its dtype may change)"
        )
    kind = np.asarray(result).dtype.kind
    if kind not in _REAL_KINDS:
        raise ValueError(
            f"preprocessing_function returned {np.asarray(result).dtype} values; it must "
            "return real numbers (bool, int or float)"
        )
    return result


#: The dtype kinds a preprocessing_function may return, and object arrays, whose items
#: the float32 conversion checks (a non-number there is its own error).
_REAL_KINDS = frozenset("biufO")


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
    if zca:
        check_zca_size(x.shape[1:])
    return _featurewise_of(
        x.astype(np.float64), center=center, std=std, zca=zca, zca_epsilon=zca_epsilon
    )


def _featurewise_of(
    data: np.ndarray, *, center: bool, std: bool, zca: bool, zca_epsilon: float
) -> FeaturewiseStats:
    """:func:`fit_featurewise` of an NHWC float64 batch, which it centres and scales in place."""
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


class _Moments:
    """Per-channel count, mean and sum of squared deviations of NHWC batches added one by
    one, in float64: Chan's parallel update, so their mean and std are those of the batches
    concatenated (to float rounding) while only one batch is held."""

    def __init__(self, squares: bool) -> None:
        self.squares = squares  # whether the std is wanted (the deviations' squares)
        self.count = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None

    def add(self, batch: np.ndarray) -> None:
        data = batch.reshape(-1, batch.shape[-1]).astype(np.float64)
        count = len(data)
        if count == 0:
            return
        mean = data.mean(axis=0)
        m2 = None
        if self.squares:
            data -= mean
            m2 = np.einsum("ij,ij->j", data, data)
        if self.mean is None:
            self.count, self.mean, self.m2 = count, mean, m2
            return
        total = self.count + count
        delta = mean - self.mean
        if m2 is not None and self.m2 is not None:
            self.m2 = self.m2 + m2 + delta * delta * (self.count * count / total)
        self.mean = self.mean + delta * (count / total)
        self.count = total

    def stats(self, *, center: bool, std: bool) -> FeaturewiseStats:
        mean = self.mean if center else None
        stdev = None
        if std and self.m2 is not None:
            stdev = np.sqrt(self.m2 / self.count)
        return FeaturewiseStats(
            None if mean is None else mean.astype(np.float32),
            None if stdev is None else stdev.astype(np.float32),
        )


@dataclass
class Standardizer:
    """Keras' ``standardize`` as a callable on batches; see the module docstring.

    The flags are settled at construction (implied ones included); only ``stats`` changes,
    through :meth:`fit` or :meth:`load_state`. Calling one that needs statistics before
    that raises :class:`NotFittedError`.
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
        self.samplewise_center = self.samplewise_center or self.samplewise_std_normalization
        self.featurewise_center = (
            self.featurewise_center or self.featurewise_std_normalization or self.zca_whitening
        )
        self.featurewise_std_normalization = (
            self.featurewise_std_normalization and not self.zca_whitening
        )

    @classmethod
    def from_spec(
        cls, spec: Any, function: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> Standardizer:
        """Build from any object carrying Keras' keyword names as attributes (a spec)."""
        return cls(
            preprocessing_function=function,
            **{name: getattr(spec, name) for name in _KEYWORDS},
        )

    @property
    def needs_fit(self) -> bool:
        """Whether featurewise statistics are used."""
        return self.featurewise_center or self.featurewise_std_normalization or self.zca_whitening

    @property
    def is_identity(self) -> bool:
        """Whether calling it changes nothing but, if asked, the dtype."""
        return not (
            self.needs_fit
            or self.samplewise_center
            or self.rescale
            or self.preprocessing_function is not None
        )

    def state(self) -> FeaturewiseStats | None:
        """The fitted statistics (picklable; :meth:`FeaturewiseStats.to_npz` saves them)."""
        return self.stats

    def load_state(self, stats: FeaturewiseStats | None) -> None:
        """Use statistics from :meth:`state` or :meth:`FeaturewiseStats.from_npz`."""
        self.stats = stats

    def fit(self, x: np.ndarray, *, channels_first: bool = False) -> Standardizer:
        """Compute featurewise statistics of the batch ``x``; returns ``self``."""
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"fit needs a batch of rank 4, got shape {x.shape}")
        if self.zca_whitening:  # before the earlier steps run on the batch
            check_zca_size(x.shape[1:], channels_first=channels_first)
        self.stats = fit_featurewise(
            self._before_featurewise(x, channels_first),
            center=self.featurewise_center,
            std=self.featurewise_std_normalization,
            zca=self.zca_whitening,
            zca_epsilon=self.zca_epsilon,
        )
        return self

    def fit_rounds(
        self, batches: Iterable[np.ndarray], rounds: int, *, channels_first: bool = False
    ) -> Standardizer:
        """:meth:`fit` of the ``rounds`` batches ``batches`` yields, taken together (as of
        their concatenation, to float rounding), holding one at a time where it can: the
        mean and std are summed batch by batch (:class:`_Moments`, float64), so
        ``fit(augment=True, rounds=N)`` takes one round's memory, not N times the data
        (Keras concatenates the rounds: rounds=10 of CIFAR-10 held 6 GB, twice over).
        ZCA's SVD needs every value at once: its rounds are gathered in one float64 array,
        bounded by :func:`check_zca_rounds`. The batches must share one shape."""
        flags = {
            "center": self.featurewise_center,
            "std": self.featurewise_std_normalization,
        }
        moments = _Moments(squares=self.featurewise_std_normalization)
        gathered: np.ndarray | None = None
        taken = 0
        for number, batch in enumerate(batches):
            if number >= rounds:
                raise ValueError(f"fit_rounds: more than the {rounds} rounds announced")
            if rounds == 1:  # one batch: fit's own arithmetic, bit for bit
                return self.fit(batch, channels_first=channels_first)
            data = self._before_featurewise(np.asarray(batch), channels_first)
            if not self.zca_whitening:
                moments.add(data)
                continue
            if gathered is None:
                check_zca_size(data.shape[1:])
                check_zca_rounds(rounds, data.shape)
                gathered = np.empty((rounds * len(data), *data.shape[1:]), np.float64)
            gathered[taken : taken + len(data)] = data
            taken += len(data)
        if gathered is not None:
            self.stats = _featurewise_of(
                gathered[:taken], zca=True, zca_epsilon=self.zca_epsilon, **flags
            )
        else:
            self.stats = moments.stats(**flags)
        return self

    def __call__(
        self,
        x: np.ndarray,
        *,
        channels_first: bool = False,
        dtype: DTypeLike | None = None,
    ) -> np.ndarray:
        """Standardize a batch (NHWC, or NCHW with ``channels_first``; or one image).

        Returns a new float32 array (or ``dtype``; integer dtypes are rounded and clipped),
        or ``x`` itself when there is nothing to do and no ``dtype`` asked.
        """
        x = np.asarray(x)
        if x.ndim not in (3, 4):
            raise ValueError(f"expected a batch of rank 4 or one image of rank 3, got {x.shape}")
        if self.is_identity:
            return x if dtype is None else _cast(x, np.dtype(dtype))
        batch = x if x.ndim == 4 else x[None]
        out = self._featurewise(self._before_featurewise(batch, channels_first))
        if channels_first:
            out = np.moveaxis(out, -1, 1)
        out = out if x.ndim == 4 else out[0]
        return out if dtype is None else _cast(out, np.dtype(dtype))

    def _before_featurewise(self, batch: np.ndarray, channels_first: bool) -> np.ndarray:
        """Function (per sample, in the caller's layout), rescale, samplewise steps.

        Returns a fresh NHWC float32 array.
        """
        function = self.preprocessing_function
        if function is not None:
            batch = np.stack([_preprocessed(function, sample) for sample in batch])
        if channels_first:
            batch = np.moveaxis(batch, 1, -1)
        out = np.array(batch, dtype=np.float32)
        if self.rescale:
            out *= np.float32(self.rescale)
        if self.samplewise_center:
            out -= out.mean(axis=(1, 2, 3), keepdims=True)
        if self.samplewise_std_normalization:
            out /= out.std(axis=(1, 2, 3), keepdims=True) + _EPSILON
        return out

    def _featurewise(self, out: np.ndarray) -> np.ndarray:
        if not self.needs_fit:
            return out
        stats = self.stats or FeaturewiseStats()
        missing = [
            f"{flag} needs the {what}"
            for flag, wanted, what in (
                ("featurewise_center", self.featurewise_center, "mean"),
                ("featurewise_std_normalization", self.featurewise_std_normalization, "std"),
                ("zca_whitening", self.zca_whitening, "zca_matrix"),
            )
            if wanted and getattr(stats, what) is None
        ]
        if missing:  # the flags' statistics, each named: some may have been set by hand
            raise NotFittedError(
                f"{'; '.join(missing)} of training data: call fit(x) first (pipe.fit(x)), "
                "set it (the drop-in's gen.mean, gen.std, gen.zca_whitening_matrix), or load "
                "saved ones with load_state(FeaturewiseStats.from_npz(path))"
            )
        if self.featurewise_center:
            out -= stats.mean
        if self.featurewise_std_normalization:
            out /= stats.std + np.float32(_EPSILON)
        if self.zca_whitening and stats.zca_matrix is not None:
            flat = out.reshape(len(out), -1)
            matrix = stats.zca_matrix
            if flat.shape[1] != matrix.shape[0]:
                raise ValueError(
                    f"the ZCA matrix was fit on {matrix.shape[0]} values per image, "
                    f"these images have {flat.shape[1]} (shape {out.shape[1:]}, HWC)"
                )
            out = (flat @ matrix).reshape(out.shape)
        return out


def _cast(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``astype``, rounding and clipping into an integer dtype's range."""
    if np.issubdtype(dtype, np.integer) and not np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(dtype)
        array = np.clip(np.rint(array), info.min, info.max)
    return array.astype(dtype, copy=False)
