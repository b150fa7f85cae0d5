"""The RGBA route of ``idg.affine_kernel``: the same bits as one 3-channel ``cv2.warpAffine``.

The route is a speed choice only, so everything here compares it with the plain call on the
installed OpenCV: every interpolation and border mode the Keras keywords use, OpenCV at one
and two threads, sizes on both sides of the route's threshold, and through the public API.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import confaug
from confaug.idg import affine_kernel
from confaug.idg.affine_kernel import RGBA_ROUTE_PIXELS, takes_rgba_route, warp_affine

_INTERPOLATIONS = (cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)
_BORDERS = (
    cv2.BORDER_CONSTANT,
    cv2.BORDER_REPLICATE,
    cv2.BORDER_REFLECT,
    cv2.BORDER_WRAP,
    cv2.BORDER_REFLECT_101,
)


def _matrices(rng: np.random.Generator, height: int, width: int) -> list[np.ndarray]:
    """A flip, a sub-pixel shift and random rotation-shear-zoom-shift matrices."""
    found = [
        np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]]),
        np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.25]]),
    ]
    for _ in range(3):
        angle, zoom = rng.uniform(-0.6, 0.6), rng.uniform(0.7, 1.4)
        found.append(
            np.array(
                [
                    [np.cos(angle) * zoom, np.sin(angle) * zoom * rng.uniform(0.8, 1.2), 0.0],
                    [-np.sin(angle) * zoom, np.cos(angle) * zoom, 0.0],
                ]
            )
        )
        found[-1][:, 2] = rng.uniform(-0.3, 0.3, 2) * (width, height)
    return found


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def opencv_threads(request: pytest.FixtureRequest):
    saved = cv2.getNumThreads()
    cv2.setNumThreads(request.param)
    yield request.param
    cv2.setNumThreads(saved)


@pytest.mark.parametrize("shape", [(64, 64), (37, 53), (121, 90), (200, 260)])
def test_route_gives_the_plain_warps_bits(shape: tuple[int, int], opencv_threads: int) -> None:
    height, width = shape
    rng = np.random.default_rng(height * width)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    fill = (7.0, 200.0, 31.0, 0.0)
    for matrix in _matrices(rng, height, width):
        for interpolation in _INTERPOLATIONS:
            for border in _BORDERS:
                flags = interpolation | cv2.WARP_INVERSE_MAP
                plain = cv2.warpAffine(
                    image, matrix, (width, height), flags=flags, borderMode=border, borderValue=fill
                )
                # With 4 channels whatever the route's threshold: every channel on its own.
                forced = cv2.cvtColor(
                    cv2.warpAffine(
                        cv2.cvtColor(image, cv2.COLOR_RGB2RGBA),
                        matrix,
                        (width, height),
                        flags=flags,
                        borderMode=border,
                        borderValue=fill,
                    ),
                    cv2.COLOR_RGBA2RGB,
                )
                got = warp_affine(
                    image, matrix, (width, height), flags=flags, border=border, border_value=fill
                )
                where = f"interpolation {interpolation}, border {border}, matrix {matrix.tolist()}"
                assert np.array_equal(forced, plain), where
                assert np.array_equal(got, plain), where


def test_route_writes_into_dst_and_leaves_the_image_alone() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
    before = image.copy()
    matrix = _matrices(rng, 80, 96)[3]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    plain = cv2.warpAffine(image, matrix, (96, 80), flags=flags, borderMode=cv2.BORDER_REFLECT)
    batch = np.zeros((2, 80, 96, 3), np.uint8)
    result = warp_affine(
        image, matrix, (96, 80), flags=flags, border=cv2.BORDER_REFLECT, dst=batch[1]
    )
    assert result is not None and np.shares_memory(result, batch)
    assert np.array_equal(batch[1], plain)
    assert not batch[0].any()
    assert np.array_equal(image, before)
    # A strided destination (a flipped view) still receives the pixels.
    flipped = np.zeros((80, 96, 3), np.uint8)[::-1]
    warp_affine(image, matrix, (96, 80), flags=flags, border=cv2.BORDER_REFLECT, dst=flipped)
    assert np.array_equal(flipped, plain)
    # A non-contiguous image (a crop) goes the plain way, with the same result as a copy.
    crop = rng.integers(0, 256, (90, 110, 3), dtype=np.uint8)[5:85, 7:103]
    assert np.array_equal(
        warp_affine(crop, matrix, (96, 80), flags=flags, border=cv2.BORDER_REFLECT),
        cv2.warpAffine(
            np.ascontiguousarray(crop), matrix, (96, 80), flags=flags, borderMode=cv2.BORDER_REFLECT
        ),
    )


def test_which_images_take_the_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(affine_kernel, "RGBA_ROUTE", True)
    side = int(RGBA_ROUTE_PIXELS**0.5)
    rgb = np.zeros((side, side, 3), np.uint8)
    assert takes_rgba_route(rgb, cv2.INTER_LINEAR)
    assert not takes_rgba_route(rgb[: side - 1], cv2.INTER_LINEAR)  # too small to pay
    assert not takes_rgba_route(rgb, cv2.INTER_NEAREST)
    assert not takes_rgba_route(rgb, cv2.INTER_CUBIC)
    assert not takes_rgba_route(rgb.astype(np.float32), cv2.INTER_LINEAR)
    assert not takes_rgba_route(np.zeros((side, side, 4), np.uint8), cv2.INTER_LINEAR)
    assert not takes_rgba_route(np.zeros((side, side), np.uint8), cv2.INTER_LINEAR)
    monkeypatch.setattr(affine_kernel, "RGBA_ROUTE", False)
    assert not takes_rgba_route(rgb, cv2.INTER_LINEAR)


@pytest.mark.parametrize(
    ("version", "slow"),
    [("4.14.0", False), ("4.9.0", False), ("5.0.0", True), ("5.1.0", True), ("6.0.1", True)],
)
def test_the_route_is_for_opencv_5_and_later(version: str, slow: bool) -> None:
    assert affine_kernel._slow_three_channel_kernel(version) is slow
    assert affine_kernel._slow_three_channel_kernel("unknown") is False


def test_pipeline_batches_are_the_same_with_and_without_the_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the API: the Keras keywords on uint8 batches (the batch path) and one image
    at a time (the per-sample path) give the same bits either way."""
    pipe = confaug.load_pipeline("preset:keras_seed")
    images = np.random.default_rng(5).integers(0, 256, (6, 96, 80, 3), dtype=np.uint8)
    monkeypatch.setattr(affine_kernel, "RGBA_ROUTE", True)
    routed = pipe.apply_batch(images, seed=11)
    one = pipe(image=images[0], seed=4)["image"]
    monkeypatch.setattr(affine_kernel, "RGBA_ROUTE", False)
    plain = pipe.apply_batch(images, seed=11)
    assert routed.dtype == np.uint8 and not np.array_equal(routed, images)
    assert np.array_equal(routed, plain)
    assert np.array_equal(one, pipe(image=images[0], seed=4)["image"])
