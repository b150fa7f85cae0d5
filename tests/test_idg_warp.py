"""warp.py kernels and the IdgTransform albumentations step."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from confaug._albu import albumentations
from confaug.idg import (
    IdgParams,
    apply_params,
    apply_params_to_bboxes,
    apply_params_to_keypoints,
    apply_params_to_mask,
    flip_matrix,
    forward_matrix,
    inverse_matrix,
)
from confaug.idg.transform import IdgTransform
from tests.helpers import seed_keywords

SEED_CONFIG = seed_keywords(without=("data_format",))  # IdgTransform's keywords
GEOMETRY = IdgParams(theta=-17, tx=4.2, ty=-3.1, shear=8, zx=1.15, zy=0.9)


def smooth_image(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    """A smooth uint8 image, so that interpolation kernels agree closely."""
    noise = np.random.default_rng(seed).random((height // 8 + 2, width // 8 + 2, channels))
    image = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    image = image.reshape(height, width, channels)
    return np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)


def marker_image(height: int = 48, width: int = 64, top: int = 10, left: int = 40) -> np.ndarray:
    image = np.zeros((height, width), np.uint8)
    image[top : top + 4, left : left + 4] = 255
    return image


def centroid(image: np.ndarray) -> np.ndarray:
    """(x, y) centre of mass of a 2-D image."""
    weights = image.astype(float)
    ys, xs = np.indices(image.shape)
    return np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()


# ---- matrices -------------------------------------------------------------------------------


def test_identity_params_give_the_identity_matrix() -> None:
    np.testing.assert_allclose(inverse_matrix(IdgParams(), 30, 70), np.eye(3), atol=1e-12)
    np.testing.assert_allclose(flip_matrix(IdgParams(), 30, 70), np.eye(3))


def test_shift_moves_along_columns_for_tx_and_rows_for_ty() -> None:
    """Output→input: output (x, y) reads input (x + tx, y + ty), so content moves by -t."""
    matrix = inverse_matrix(IdgParams(tx=5, ty=-2), 48, 64)
    np.testing.assert_allclose(matrix @ [10, 20, 1], [15, 18, 1])
    out = apply_params(marker_image(), IdgParams(tx=5), fill_mode="constant")
    np.testing.assert_allclose(centroid(out), centroid(marker_image()) - np.array([5, 0]))
    out = apply_params(marker_image(), IdgParams(ty=-3), fill_mode="constant")
    np.testing.assert_allclose(centroid(out), centroid(marker_image()) + np.array([0, 3]))


@pytest.mark.parametrize(
    "params", [IdgParams(theta=90), IdgParams(zx=0.5, zy=0.5), replace(GEOMETRY, tx=0, ty=0)]
)
def test_the_true_centre_of_a_non_square_image_is_fixed(params: IdgParams) -> None:
    """Rotation, shear and zoom turn about ((w-1)/2, (h-1)/2); Keras' centre is wrong here."""
    height, width = 100, 200
    matrix = inverse_matrix(params, height, width)
    np.testing.assert_allclose(matrix @ [99.5, 49.5, 1], [99.5, 49.5, 1], atol=1e-9)
    image = np.zeros((height, width), np.uint8)
    image[40:60, 90:110] = 255  # a square centred on the image
    out = apply_params(image, IdgParams(zx=0.5, zy=0.5), fill_mode="constant")
    np.testing.assert_allclose(centroid(out), [99.5, 49.5], atol=1e-6)


def test_zoom_above_one_zooms_out() -> None:
    image = np.zeros((64, 64), np.uint8)
    image[22:42, 22:42] = 255
    out = apply_params(image, IdgParams(zx=2, zy=2), fill_mode="constant")
    assert np.count_nonzero(out > 127) == pytest.approx(100, abs=12)  # 20×20 → 10×10


def test_forward_matrix_inverts_and_flips_are_involutions() -> None:
    np.testing.assert_allclose(
        forward_matrix(GEOMETRY, 40, 50) @ inverse_matrix(GEOMETRY, 40, 50), np.eye(3), atol=1e-12
    )
    flips = IdgParams(flip_horizontal=True, flip_vertical=True)
    np.testing.assert_allclose(flip_matrix(flips, 40, 50) @ [0, 0, 1], [49, 39, 1])
    np.testing.assert_allclose(flip_matrix(flips, 40, 50) @ flip_matrix(flips, 40, 50), np.eye(3))


# ---- images ---------------------------------------------------------------------------------


def test_identity_returns_the_input_and_nothing_is_written_in_place() -> None:
    image = smooth_image(20, 30, 3)
    assert apply_params(image, IdgParams()) is image
    before = image.copy()
    for params in (GEOMETRY, IdgParams(flip_horizontal=True), IdgParams(brightness=1.4)):
        assert apply_params(image, params) is not image
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize(
    "params",
    [
        IdgParams(flip_horizontal=True),
        IdgParams(flip_vertical=True),
        IdgParams(flip_horizontal=True, flip_vertical=True),
    ],
)
def test_flips_alone_are_exact(params: IdgParams) -> None:
    image = smooth_image(20, 30, 3)
    expected = image[:: -1 if params.flip_vertical else 1, :: -1 if params.flip_horizontal else 1]
    np.testing.assert_array_equal(apply_params(image, params), expected)


def test_flips_folded_into_the_warp_equal_warp_then_flip() -> None:
    image = smooth_image(40, 50, 3).astype(np.float32) / 255
    warped = apply_params(image, GEOMETRY, fill_mode="reflect")
    flipped = apply_params(
        image,
        replace(GEOMETRY, flip_horizontal=True, flip_vertical=True),
        fill_mode="reflect",
    )
    np.testing.assert_allclose(flipped, warped[::-1, ::-1], atol=2e-3)


@pytest.mark.parametrize("channels", [None, 1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("order", [0, 1, 3, 5])
def test_every_channel_count_warps_like_each_channel_alone(
    channels: int | None, dtype: type, order: int
) -> None:
    """OpenCV 5 mis-warps 2 and >4 channels in one call; confaug splits them."""
    image = smooth_image(30, 40, channels or 1, seed=channels or 0)
    image = image[..., 0] if channels is None else image
    image = image if dtype is np.uint8 else (image / 255).astype(np.float32)
    out = apply_params(image, GEOMETRY, fill_mode="reflect", interpolation_order=order)
    assert out.shape == image.shape and out.dtype == image.dtype
    planes = image[..., None] if image.ndim == 2 else image
    outs = out[..., None] if out.ndim == 2 else out
    for c in range(planes.shape[2]):
        alone = apply_params(
            np.ascontiguousarray(planes[..., c]),
            GEOMETRY,
            fill_mode="reflect",
            interpolation_order=order,
        )
        np.testing.assert_array_equal(outs[..., c], alone)


@pytest.mark.parametrize("channels", [None, 1, 2, 3, 5])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("shift", [None, 25.0])
def test_photometric_steps_act_per_value_for_any_channel_count(
    channels: int | None, dtype: type, shift: float | None
) -> None:
    image = smooth_image(20, 24, channels or 1)
    image = image[..., 0] if channels is None else image
    image = image if dtype is np.uint8 else image / np.float32(255)
    params = replace(GEOMETRY, brightness=1.3, channel_shift_intensity=shift)
    before = image.copy()
    out = apply_params(image, params, fill_mode="reflect")
    np.testing.assert_array_equal(image, before)
    geometry = replace(params, brightness=None, channel_shift_intensity=None)
    warped = apply_params(image, geometry, fill_mode="reflect").astype(np.float64)
    scale = 255.0 if dtype is np.uint8 else 1.0
    if shift is not None:
        warped = np.clip(warped + shift / 255 * scale, warped.min(), warped.max())
    expected = np.clip(warped * 1.3, 0, scale)
    assert out.shape == image.shape and out.dtype == image.dtype
    np.testing.assert_allclose(out, expected, atol=0.5 + 1e-6 if dtype is np.uint8 else 1e-5)


def test_uint8_and_float32_agree() -> None:
    image = smooth_image(40, 40, 3)
    params = replace(GEOMETRY, brightness=1.3, channel_shift_intensity=20.0)
    as_uint8 = apply_params(image, params, fill_mode="constant", cval=70).astype(float)
    as_float = apply_params(image / np.float32(255), params, fill_mode="constant", cval=70)
    assert as_float.dtype == np.float32
    # uint8 rounds after the warp (±0.5, then × brightness) and after the lookup (±0.5).
    assert np.abs(as_uint8 - as_float * 255).max() <= 0.5 * 1.3 + 0.5 + 1e-3


@pytest.mark.parametrize(
    ("fill_mode", "pad_mode"),
    [("constant", "constant"), ("nearest", "edge"), ("reflect", "symmetric"), ("wrap", "wrap")],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_fill_modes_extend_the_image_like_numpy_pad(
    fill_mode: str, pad_mode: str, dtype: type
) -> None:
    """An integer shift is exact, so the revealed strip is exactly the extension."""
    image = smooth_image(12, 16, 3)
    cval = 90
    kwargs = {"constant_values": cval} if pad_mode == "constant" else {}
    expected = np.pad(image, ((0, 0), (3, 0), (0, 0)), mode=pad_mode, **kwargs)[:, :16]
    image = image if dtype is np.uint8 else image / np.float32(255)
    out = apply_params(image, IdgParams(tx=-3), fill_mode=fill_mode, cval=cval)
    scale = 1 if dtype is np.uint8 else 255
    np.testing.assert_allclose(out * scale, expected, atol=1e-4)


def test_nearest_order_keeps_the_input_values() -> None:
    image = np.random.default_rng(1).choice([0, 100, 200], size=(30, 30)).astype(np.uint8)
    out = apply_params(image, GEOMETRY, interpolation_order=0)
    assert set(np.unique(out)) <= {0, 100, 200}


def test_bad_fill_mode_and_order_and_dtype_are_clear_errors() -> None:
    image = smooth_image(8, 8, 3)
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        apply_params(image, GEOMETRY, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation_order"):
        apply_params(image, GEOMETRY, interpolation_order=7)
    with pytest.raises(TypeError, match="uint8 or float"):
        apply_params(image.astype(np.int32), GEOMETRY)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_channel_shift_is_on_the_255_scale_and_clips_to_the_image_range(dtype: type) -> None:
    image = np.array([[[10, 100, 200]]], np.uint8).repeat(4, axis=0).repeat(4, axis=1)
    scale = 1 if dtype is np.uint8 else 255
    image = image if dtype is np.uint8 else image / np.float32(255)
    out = apply_params(image, IdgParams(channel_shift_intensity=30)) * scale
    np.testing.assert_allclose(out[0, 0], [40, 130, 200], atol=1e-4)
    out = apply_params(image, IdgParams(channel_shift_intensity=-30)) * scale
    np.testing.assert_allclose(out[0, 0], [10, 70, 170], atol=1e-4)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_brightness_multiplies_clips_and_keeps_alpha(dtype: type) -> None:
    image = np.array([[[60, 100, 200, 128]]], np.uint8).repeat(3, axis=0).repeat(3, axis=1)
    scale = 1 if dtype is np.uint8 else 255
    image = image if dtype is np.uint8 else image / np.float32(255)
    out = apply_params(image, IdgParams(brightness=1.5)) * scale
    np.testing.assert_allclose(out[1, 1], [90, 150, 255, 128], atol=1e-4)
    out = apply_params(image[..., :3], IdgParams(brightness=0.5)) * scale
    np.testing.assert_allclose(out[1, 1], [30, 50, 100], atol=1e-4)


# ---- masks, keypoints, boxes ----------------------------------------------------------------


def test_masks_get_nearest_interpolation_fill_zero_and_no_photometry() -> None:
    mask = np.zeros((40, 40), np.uint8)
    mask[5:20, 5:30], mask[22:35, 10:25] = 1, 2
    params = replace(GEOMETRY, tx=15.0, brightness=1.5, channel_shift_intensity=40.0)
    out = apply_params_to_mask(mask, params, fill_mode="constant")
    assert set(np.unique(out)) == {0, 1, 2}
    # Same geometry as the image: the mask of a label image is that image's label map.
    geometry = replace(params, brightness=None, channel_shift_intensity=None)
    labels = apply_params(mask * 100, geometry, fill_mode="constant", interpolation_order=0)
    np.testing.assert_array_equal(out * 100, labels)
    as_bool = apply_params_to_mask(mask == 1, params, fill_mode="reflect")
    assert as_bool.dtype == np.bool_ and as_bool.any()


@pytest.mark.parametrize("flip", [False, True])
def test_keypoints_follow_the_image(flip: bool) -> None:
    params = replace(GEOMETRY, flip_horizontal=flip)
    image = marker_image(48, 64, top=20, left=30)
    out = apply_params(image, params, fill_mode="constant")
    keypoints = np.array([[*centroid(image), 0.0, 0.0, 1.0]])
    moved = apply_params_to_keypoints(keypoints, params, 48, 64, fill_mode="constant")
    np.testing.assert_allclose(moved[0, :2], centroid(out), atol=0.3)


def test_boxes_follow_a_shift_and_a_flip_exactly() -> None:
    boxes = np.array([[20 / 64, 10 / 48, 30 / 64, 20 / 48]])
    moved = apply_params_to_bboxes(boxes, IdgParams(tx=-5), 48, 64, fill_mode="constant")
    np.testing.assert_allclose(moved * [64, 48, 64, 48], [[25, 10, 35, 20]], atol=1e-5)
    flipped = apply_params_to_bboxes(
        boxes, IdgParams(flip_horizontal=True), 48, 64, fill_mode="constant"
    )
    np.testing.assert_allclose(flipped * [64, 48, 64, 48], [[34, 10, 44, 20]], atol=1e-5)
    zoomed = apply_params_to_bboxes(boxes, IdgParams(zx=0.5, zy=0.5), 48, 64, fill_mode="constant")
    np.testing.assert_allclose(zoomed * [64, 48, 64, 48], [[8, -4, 28, 16]], atol=1e-5)


# ---- the albumentations transform -----------------------------------------------------------


def compose(seed: int | None = 7, **kwargs):
    A = albumentations()
    return A.Compose([IdgTransform(**{**SEED_CONFIG, **kwargs})], seed=seed)


def test_compose_seed_makes_it_reproducible() -> None:
    image = smooth_image(60, 80, 3)
    first = [compose(seed=7)(image=image)["image"] for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])
    pipe = compose(seed=7)
    outputs = [pipe(image=image)["image"] for _ in range(3)]
    assert not np.array_equal(outputs[0], outputs[1])
    pipe.set_random_seed(7)
    np.testing.assert_array_equal(pipe(image=image)["image"], outputs[0])
    assert not np.array_equal(compose(seed=8)(image=image)["image"], outputs[0])


def test_draws_come_from_the_transforms_generator_not_global_state() -> None:
    image = smooth_image(60, 80, 3)
    pipe = compose(seed=3)
    np.random.seed(0)
    a = pipe(image=image)["image"]
    pipe.set_random_seed(3)
    np.random.seed(1)
    np.testing.assert_array_equal(pipe(image=image)["image"], a)


def test_transform_applies_always_by_default_and_validates_at_construction() -> None:
    transform = IdgTransform(rotation_range=10)
    assert transform.p == 1.0
    with pytest.raises(ValueError, match="fill_mode"):
        IdgTransform(fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation_order"):
        IdgTransform(interpolation_order=9)
    with pytest.raises(ValueError, match="zoom_range"):
        IdgTransform(zoom_range=[1.2, 0.8])


def test_transform_moves_mask_keypoints_and_boxes_with_the_image() -> None:
    A = albumentations()
    pipe = A.Compose(
        [
            IdgTransform(
                rotation_range=20,
                width_shift_range=0.1,
                fill_mode="constant",
                horizontal_flip=True,
                brightness_range=[0.8, 1.2],
            )
        ],
        seed=5,
        keypoint_params=A.KeypointParams(format="xy", remove_invisible=False),
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )
    image = np.dstack([marker_image(48, 64, top=20, left=30)] * 3)
    mask = (image[..., 0] > 0).astype(np.uint8)
    for _ in range(5):
        out = pipe(
            image=image,
            mask=mask,
            keypoints=[tuple(centroid(image[..., 0]))],
            bboxes=[(30, 20, 34, 24)],
            labels=[1],
        )
        assert set(np.unique(out["mask"])) <= {0, 1}
        np.testing.assert_allclose(out["keypoints"][0], centroid(out["image"][..., 0]), atol=0.5)
        np.testing.assert_allclose(out["keypoints"][0], centroid(out["mask"]), atol=0.7)
        x0, y0, x1, y1 = out["bboxes"][0]
        ys, xs = np.nonzero(out["mask"])
        assert x0 <= xs.min() + 0.5 and xs.max() + 0.5 <= x1 + 0.5
        assert y0 <= ys.min() + 0.5 and ys.max() + 0.5 <= y1 + 0.5


def test_transform_pickles_and_keeps_its_stream() -> None:
    image = smooth_image(40, 40, 3)
    pipe = compose(seed=11)
    clone = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(clone(image=image)["image"], pipe(image=image)["image"])


def test_to_dict_save_and_load_round_trip(tmp_path) -> None:
    A = albumentations()
    pipe = compose(seed=None, zoom_range=(0.9, 1.25), width_shift_range=np.array([2, 4]))
    data = A.to_dict(pipe)
    step = data["transform"]["transforms"][0]
    assert step["__class_fullname__"] == "confaug.idg.transform.IdgTransform"
    assert step["zoom_range"] == [0.9, 1.25] and step["width_shift_range"] == [2, 4]
    assert step["fill_mode"] == "reflect" and step["p"] == 1.0
    path = tmp_path / "pipe.yaml"
    A.save(pipe, str(path), data_format="yaml")
    loaded = A.load(str(path), data_format="yaml")
    assert A.to_dict(loaded) == data
    image = smooth_image(40, 40, 3)
    pipe.set_random_seed(2)
    loaded.set_random_seed(2)
    np.testing.assert_array_equal(loaded(image=image)["image"], pipe(image=image)["image"])


def test_importing_confaug_idg_does_not_import_albumentations() -> None:
    code = "import sys, confaug.idg; print('albumentations' in sys.modules, 'cv2' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"
