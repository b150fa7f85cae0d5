"""The one ``cv2.warpAffine`` call every Keras-keyword warp goes through, and its RGBA route.

OpenCV 5's bilinear warp of 3-channel uint8 images is about 1.7x slower than its warp of
4-channel ones (0.88 ms against 0.49 ms for a 400 px image on one thread, measured under
5.0 and 5.1; OpenCV 4.14 warps both at about the speed of 5's 4-channel kernel). So such an
image is given an alpha channel (``cv2.cvtColor``, RGB → RGBA), warped with 4 channels and
its alpha dropped again: the two conversions cost about a tenth of what the route saves.
Every channel is interpolated on its own with the same weights, so the three colour
channels come out bit for bit as the 3-channel warp gives them; that was measured for
every interpolation, border mode and OpenCV thread count confaug warps with, under 4.14,
5.0 and 5.1 (``tests/test_affine_kernel.py`` checks the installed OpenCV).

The route is taken where it was measured to pay: bilinear, 3 channels, uint8, from 64 x 64
pixels up (1.2x there, 1.6-1.8x from 128 px), OpenCV 5 and later. Nearest-neighbour and
bicubic warps are as fast or faster with 3 channels, and float32 ones gain too little to
pay for the conversions.
"""

from __future__ import annotations

import re
from typing import Any

import cv2
import numpy as np

#: Images of at least this many pixels take the RGBA route (below, the conversions cost
#: more than the faster kernel saves: 0.9x at 32 px, 1.1x at 48 px, 1.2x at 64 px).
RGBA_ROUTE_PIXELS = 64 * 64


def _slow_three_channel_kernel(version: str) -> bool:
    """Whether an OpenCV of this ``cv2.__version__`` has the slow 3-channel uint8 bilinear
    kernel: 5.0 and later (measured under 5.0 and 5.1; 4.14's is fast)."""
    found = re.match(r"(\d+)\.", version)
    return found is not None and int(found[1]) >= 5


#: Whether this OpenCV's 3-channel uint8 bilinear warps go faster by way of 4 channels.
RGBA_ROUTE = _slow_three_channel_kernel(cv2.__version__)


def takes_rgba_route(image: np.ndarray, interpolation: int) -> bool:
    """Whether :func:`warp_affine` warps ``image`` by way of an RGBA copy."""
    return (
        RGBA_ROUTE
        and interpolation == cv2.INTER_LINEAR
        and image.dtype == np.uint8
        and image.ndim == 3
        and image.shape[2] == 3
        and image.shape[0] * image.shape[1] >= RGBA_ROUTE_PIXELS
    )


def warp_affine(
    image: np.ndarray,
    matrix: np.ndarray,
    size: tuple[int, int],
    *,
    flags: int,
    border: int,
    border_value: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    dst: np.ndarray | None = None,
) -> np.ndarray:
    """``cv2.warpAffine(image, matrix, size, dst=dst, flags=flags, borderMode=border,
    borderValue=border_value)``, the same bits, by way of 4 channels where that is faster
    (:func:`takes_rgba_route`). ``flags`` holds the interpolation (and any warp flags);
    ``dst``, when given, has the output's shape and the image's dtype."""
    interpolation = flags & cv2.INTER_MAX
    if not takes_rgba_route(image, interpolation) or not _contiguous(image):
        result: np.ndarray = cv2.warpAffine(
            image, matrix, size, dst=dst, flags=flags, borderMode=border, borderValue=border_value
        )
        return result
    rgba = cv2.cvtColor(image, cv2.COLOR_RGB2RGBA)
    warped = cv2.warpAffine(
        rgba, matrix, size, flags=flags, borderMode=border, borderValue=border_value
    )
    if dst is None or not _contiguous(dst):
        rgb: np.ndarray = cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB)
        if dst is None:
            return rgb
        np.copyto(dst, rgb)
        return dst
    cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB, dst=dst)
    return dst


def _contiguous(array: Any) -> bool:
    # cvtColor writes a fresh array when dst is a strided view (a flipped or channels-first
    # slot), and reads a non-contiguous image through a copy: such an image is left to
    # warpAffine, and such a dst is filled by np.copyto.
    return bool(array.flags.c_contiguous)
