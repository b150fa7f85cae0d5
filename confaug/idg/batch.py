"""Keras' random transform over a whole batch, pixel for pixel what the one-image kernels do.

:func:`augment_into` takes a batch's draws (:class:`~confaug.idg.params.BatchDraws`) and
writes each image's result straight into its slot of a preallocated output batch: the 2×3
matrix in closed form (:func:`~confaug.idg.warp.geometries`) and one ``cv2.warpAffine`` into
the slot (:func:`warp_into`), then the photometric steps in place (:func:`adjust_into`):
OpenCV's saturating multiply or a 256-entry table per uint8 image, one multiply and one clip
over all float images at once. The border mode, interpolation and fill are decided once, in
:class:`WarpSettings`. Every value is computed by the operation
:func:`~confaug.idg.warp.apply_params` uses for it, on the same numbers, so a batch holds
the same bits as its images augmented one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from confaug.idg.affine_kernel import warp_affine
from confaug.idg.params import BatchDraws
from confaug.idg.warp import (
    adjust,
    border_mode,
    clip_brightened,
    geometries,
    geometry,
    identities,
    interpolation_flag,
    is_identity_affine,
    keeps_range,
    matrices_with_flips,
    value_scale,
    warp,
    with_flips,
)
from confaug.opencv_threads import for_warp


@dataclass(frozen=True)
class WarpSettings:
    """What every image of a pipeline is warped with, decided when it is compiled."""

    border: int
    interpolation: int
    #: The constant fill on the 0–255 scale (scaled by ``top / 255`` for float images).
    cval: float

    @property
    def keeps_range(self) -> bool:
        """Whether the warp keeps values within the input's range (``warp.keeps_range``)."""
        return keeps_range(self.border, self.interpolation, self.cval)

    @classmethod
    def of(cls, fill_mode: str, cval: float, interpolation_order: int) -> WarpSettings:
        """Settings from Keras' ``fill_mode``, ``cval`` and ``interpolation_order``."""
        return cls(border_mode(fill_mode), interpolation_flag(interpolation_order), float(cval))


def warp_into(
    images: Sequence[np.ndarray] | np.ndarray,
    draws: BatchDraws,
    settings: WarpSettings,
    out: np.ndarray,
    top: float = 1.0,
) -> None:
    """The geometry of draw ``i`` (warp and flips) on image ``i`` (HWC, uint8 or float from
    0 to ``top``) into ``out[i]``; ``out`` is an (N, H, W, C) batch of the images' dtype."""
    _, height, width, channels = out.shape
    flips_h, flips_v = draws.flip_horizontal.tolist(), draws.flip_vertical.tolist()
    # One cv2 call straight into the slot, unless warp() has more to do (scipy's constant
    # fill, channel counts OpenCV gets wrong).
    direct = settings.border != cv2.BORDER_CONSTANT and channels in (1, 3, 4)
    flags, size = settings.interpolation | cv2.WARP_INVERSE_MAP, (width, height)
    fill = settings.cval * value_scale(out.dtype, top)
    # Where OpenCV's threads would change the bits (OpenCV 5.1's float32 bilinear warps with
    # a constant or replicated border), the whole loop holds OpenCV at one thread; the batch
    # path takes that pin around its two halves already, so this one only counts.
    pin = for_warp(out.dtype, settings.interpolation, settings.border)
    with pin:
        for image, slot, (matrix, still), flip_h, flip_v in zip(
            images, out, _matrices(draws, height, width), flips_h, flips_v, strict=True
        ):
            if still:  # no warp: the flips by slicing, as apply_params does them
                np.copyto(slot, image[:: -1 if flip_v else 1, :: -1 if flip_h else 1])
            elif direct:
                warp_affine(image, matrix, size, dst=slot, flags=flags, border=settings.border)
            else:
                warp(
                    image,
                    matrix,
                    border=settings.border,
                    interpolation=settings.interpolation,
                    fill=fill,
                    out=slot,
                )


def with_matrices(draws: BatchDraws, height: int, width: int) -> BatchDraws:
    """``draws`` holding each image's 2×3 matrix for ``height`` × ``width`` images (and
    whether its geometry is the identity), computed as arrays, once: for draws made ahead
    of their batches (a whole epoch's), of which each batch takes its rows."""
    affines = geometries(
        draws.theta, draws.tx, draws.ty, draws.shear, draws.zx, draws.zy, height, width
    )
    matrices = matrices_with_flips(
        affines, draws.flip_horizontal, draws.flip_vertical, height, width
    )
    return replace(draws, geometry=(matrices, identities(affines), (height, width)))


def _matrices(draws: BatchDraws, height: int, width: int) -> Iterator[tuple[np.ndarray, bool]]:
    """Each image's 2×3 matrix (flips folded in) and whether its geometry is the identity:
    those the draws hold, or one NumPy pass over a large batch, or plain floats image by
    image for a few images (the same numbers every way, see ``warp.geometries``)."""
    if draws.geometry is not None and draws.geometry[2] == (height, width):
        matrices, identity, _ = draws.geometry
        yield from zip(matrices, identity.tolist(), strict=True)
        return
    if len(draws) < _VECTOR_MATRICES:
        for row in zip(
            draws.theta.tolist(),
            draws.tx.tolist(),
            draws.ty.tolist(),
            draws.shear.tolist(),
            draws.zx.tolist(),
            draws.zy.tolist(),
            draws.flip_horizontal.tolist(),
            draws.flip_vertical.tolist(),
            strict=True,
        ):
            theta, tx, ty, shear, zx, zy, flip_h, flip_v = row
            affine = geometry(theta, tx, ty, shear, zx, zy, height, width)
            yield with_flips(affine, flip_h, flip_v, height, width), is_identity_affine(affine)
        return
    affines = geometries(
        draws.theta, draws.tx, draws.ty, draws.shear, draws.zx, draws.zy, height, width
    )
    matrices = matrices_with_flips(
        affines, draws.flip_horizontal, draws.flip_vertical, height, width
    )
    yield from zip(matrices, identities(affines).tolist(), strict=True)


#: From this many images on, the matrices are computed as arrays (about 25 NumPy calls).
_VECTOR_MATRICES = 12


def adjust_into(out: np.ndarray, draws: BatchDraws, top: float = 1.0, kept: bool = False) -> None:
    """Channel shift then brightness (:func:`~confaug.idg.warp.adjust`) on every image of
    the (N, H, W, C) batch ``out`` (floats from 0 to ``top``), in place. ``kept``: see
    :func:`~confaug.idg.warp.clip_brightened`."""
    shifts, gains = draws.channel_shift, draws.brightness
    if shifts is None and gains is None:
        return
    if out.dtype == np.uint8:  # OpenCV per image: a saturating multiply or a table
        none = [None] * len(out)
        for slot, shift, gain in zip(
            out,
            none if shifts is None else shifts.tolist(),
            none if gains is None else gains.tolist(),
            strict=True,
        ):
            adjust(slot, shift, gain, in_place=True)
        return
    # Floats: the operations adjust() runs per image, each over the whole batch at once.
    per_image = (len(out), 1, 1, 1)
    if shifts is not None:
        low = out.min(axis=(1, 2, 3)).reshape(per_image)  # each image's own range
        high = out.max(axis=(1, 2, 3)).reshape(per_image)
        np.add(out, (shifts * (top / 255.0)).astype(out.dtype).reshape(per_image), out=out)
        np.clip(out, low, high, out=out)
    if gains is not None:
        factors = gains.astype(out.dtype).reshape(per_image)
        if out.shape[3] == 4:  # RGBA: the alpha is kept, as Keras (through PIL) keeps it
            factors = np.concatenate([np.repeat(factors, 3, axis=3), np.ones_like(factors)], 3)
        np.multiply(out, factors, out=out)
        # The same values per image as adjust() gives: a truncation at the top touches
        # only values above it, which only images with a factor above 1 hold.
        clip_brightened(out, gains, top, kept)


def augment_into(
    images: Sequence[np.ndarray] | np.ndarray,
    draws: BatchDraws,
    settings: WarpSettings,
    out: np.ndarray,
    top: float = 1.0,
    checked: bool = False,
) -> np.ndarray:
    """Apply draw ``i`` to image ``i`` (HWC, uint8 or float from 0 to ``top``) into
    ``out[i]``, a preallocated (N, H, W, C) batch of the images' shape and dtype; the
    images are only read. ``checked``: every float value is known to lie within
    [0, top]. Returns ``out``."""
    warp_into(images, draws, settings, out, top)
    adjust_into(out, draws, top, kept=checked and settings.keeps_range)
    return out
