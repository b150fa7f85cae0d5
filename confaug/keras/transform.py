"""Keras' single-image API: random parameter draws, ``apply_transform`` and ``standardize``."""

from __future__ import annotations

from typing import Any

import numpy as np

from confaug.compiler.build import warp_order
from confaug.compiler.pipeline import Pipeline
from confaug.compiler.values import (
    OWN_UNITS_TOP,
    from_own_units,
    from_working,
    in_own_units,
    to_own_units,
    to_working,
)
from confaug.keras.global_seed import seed_or_global
from confaug.keras.raw_units import image_units
from confaug.spec.model import GEOMETRIC_KEYWORDS, Spec


def check_one_image(shape: tuple[int, ...], channels_first: bool) -> None:
    """A ``ValueError`` in Keras' words unless ``shape`` is one image's.

    Rank 3 (rows, cols and channels where ``data_format`` puts them), or rank 2 (rows, cols)
    under channels_last, which confaug also takes. Without it a batch reached
    ``cv2.warpAffine`` (a raw ``cv2.error``) and a 2-D channels_first image indexed past its
    shape (a bare ``IndexError``).
    """
    if len(shape) == 3 or (len(shape) == 2 and not channels_first):
        return
    layout = (
        "(channels, rows, cols)" if channels_first else "(rows, cols, channels) or (rows, cols)"
    )
    raise ValueError(
        f"Input arrays must be multi-channel 2D images: expected one image {layout}, got shape "
        f"{tuple(shape)}" + ("; a batch takes flow()" if len(shape) == 4 else "")
    )


class RandomDraws:
    """Draws of Keras' transform parameters for one generator.

    A draw with ``seed`` is that seed's; without, it is seeded from NumPy's global random
    state, as Keras draws from it (so ``np.random.seed`` reproduces a run). The sampler is
    built from the spec's geometric keywords on the first draw.
    """

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self._sampler: Any = None

    def draw(self, img_shape: tuple[int, ...], seed: int | None) -> dict[str, Any]:
        """One draw as Keras' parameter dict."""
        from confaug.idg.params import IdgSampler

        channels_first = self._spec.data_format == "channels_first"
        check_one_image(tuple(img_shape), channels_first)
        if self._sampler is None:
            keywords = {k: getattr(self._spec, k) for k in GEOMETRIC_KEYWORDS}
            self._sampler = IdgSampler(**keywords)
        rng = np.random.default_rng(seed_or_global(seed))
        row, col = (1, 2) if channels_first else (0, 1)
        return self._sampler.sample(rng, int(img_shape[row]), int(img_shape[col])).to_keras()


def transform_image(spec: Spec, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
    """Exactly the given parameters applied to one image, in the image's own units."""
    from confaug.idg.params import IdgParams
    from confaug.idg.warp import apply_params

    image = np.asarray(x)
    channels_first = spec.data_format == "channels_first"
    check_one_image(image.shape, channels_first)
    if channels_first:
        image = np.moveaxis(image, 0, -1)
    scale, cval, params = image_units(spec, image, transform_parameters)
    own = in_own_units(scale)  # as a flow works on them
    working = to_own_units(image) if own else to_working(image, scale)
    out = apply_params(
        np.ascontiguousarray(working),
        IdgParams.from_keras(params),
        fill_mode=spec.fill_mode,
        cval=cval,
        interpolation_order=warp_order(spec),
        top=OWN_UNITS_TOP if own else 1.0,
    )
    out = from_own_units(out, image.dtype) if own else from_working(out, scale)
    return np.moveaxis(out, -1, 0) if channels_first else out


def standardize_like_keras(spec: Spec, pipeline: Pipeline, x: np.ndarray) -> np.ndarray:
    """Keras' ``standardize`` on one image or a batch.

    As in Keras, a float array is changed in place (and returned) unless a
    ``preprocessing_function`` is set; other input gives a new array.
    """
    array = np.asarray(x)
    out = pipeline.standardize(array[None] if array.ndim == 3 else array)
    out = out[0] if array.ndim == 3 else out
    in_place = (
        isinstance(x, np.ndarray)
        and x.dtype.kind == "f"
        and x.flags.writeable
        and x.shape == out.shape
        and spec.preprocessing_function is None
    )
    if in_place and out is not x:
        x[...] = out
        return x
    return out
