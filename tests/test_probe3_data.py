"""Findings of the third data probe: row keys, row masks, ``flow_from_directory`` with
``mask_dir``/``classes``, and the PyTorch sample view's item keys."""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.errors import DataError
from confaug.integrations.hf_datasets import hf_transform
from confaug.seeding import row_key
from tests.helpers import images, write_images

SIZE = 8


@pytest.fixture(scope="module")
def pipe() -> confaug.Pipeline:
    return confaug.load_pipeline({"version": 1, "rotation_range": 30, "horizontal_flip": True})


@pytest.fixture(scope="module")
def seg() -> confaug.Pipeline:
    return confaug.load_pipeline("preset:segmentation")


# ---- 1. row keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (None, "missing"),
        (float("nan"), "missing"),
        (np.float32("nan"), "missing"),
        (object(), "memory address"),
        (lambda: 0, "memory address"),
        ([object()], "memory address"),
        (np.array([1, "a"], dtype=object), "pointers"),
        ({"a", "b"}, "salted hash"),
    ],
)
def test_a_key_that_cannot_name_a_row_stably_is_a_data_error(key: Any, words: str) -> None:
    with pytest.raises(DataError, match=words):
        row_key(key)


def test_hf_rows_without_an_id_are_refused_naming_the_key_column(pipe: confaug.Pipeline) -> None:
    x = images(2, SIZE)
    augment = hf_transform(pipe, seed=1, key_column="id")
    with pytest.raises(DataError, match=r"^id=None: .*missing"):
        augment({"image": list(x), "id": [None, None]})
    # "None" the text is a key like any other (it used to be None's key too)
    out = augment({"image": list(x), "id": ["None", "other"]})
    assert len(out["image"]) == 2


def test_grain_element_without_an_id_is_refused() -> None:
    pytest.importorskip("grain", reason="pip install grain (the grain extra)")
    from confaug.integrations.grain import GrainAugment

    augment = GrainAugment({"version": 1, "horizontal_flip": True}, seed=1, key_field="id")
    with pytest.raises(DataError, match=r"^id=nan: .*missing"):
        augment.map({"image": images(1, SIZE)[0], "id": float("nan")})


def _blake(data: bytes) -> int:
    """The documented derivation of a hashed key (BLAKE2b-128, confaug's personalization)."""
    digest = hashlib.blake2b(data, digest_size=16, person=b"confaug-ray-row").digest()
    return int.from_bytes(digest, "little")


@pytest.mark.parametrize(
    ("key", "data"),
    [
        ("cats/001.jpg", b"cats/001.jpg"),
        (np.str_("a"), b"a"),
        ("x at 0x1f>", b"x at 0x1f>"),  # a str is its text, whatever it says
        (-3, b"-3"),
        (np.int64(-3), b"-3"),
        (True, b"True"),
        (1.5, b"1.5"),
        (float("inf"), b"inf"),
        ([1, 2], b"[1, 2]"),
        ((1, "a"), b"(1, 'a')"),
        ({"a": None}, b"{'a': None}"),
        (frozenset({3}), b"frozenset({3})"),
        (Path("a/b"), b"a/b"),
        (b"raw", b"raw"),
    ],
)
def test_every_stable_key_hashes_as_it_always_has(key: Any, data: bytes) -> None:
    assert row_key(key) == _blake(data)


def test_int_keys_and_rows_without_a_key_column_are_as_before(pipe: confaug.Pipeline) -> None:
    assert row_key(7) == 7 and row_key(np.uint8(7)) == 7
    x = images(1, SIZE)
    # without key_column, a row is keyed by its pixels: equal pixels, equal augmentation
    out = hf_transform(pipe, seed=1)({"image": [x[0], x[0].copy()]})["image"]
    assert np.array_equal(out[0], out[1])
    keyed = hf_transform(pipe, seed=1, key_column="id")({"image": [x[0]], "id": [row_key(x[0])]})
    assert np.array_equal(keyed["image"][0], out[0])


# ---- 2. a mask column shorter (or longer) than the images ------------------------------


def test_fewer_masks_than_images_is_a_data_error_naming_the_row(seg: confaug.Pipeline) -> None:
    x = images(3, SIZE)
    masks = [np.zeros((SIZE, SIZE), np.uint8)]
    augment = hf_transform(seg, seed=1, mask_column="seg", key_column="id")
    with pytest.raises(DataError, match=r"^id=8: no mask \(1 mask in 'seg' for 3 images"):
        augment({"image": list(x), "seg": masks, "id": [7, 8, 9]})
    without_keys = hf_transform(seg, seed=1, mask_column="seg")
    with pytest.raises(DataError, match=r"^row 1 of the 3 rows .*1 mask in 'seg' for 3 images"):
        without_keys({"image": list(x), "seg": masks})
    with pytest.raises(DataError, match=r"^4 masks in 'seg' for 3 images"):
        without_keys({"image": list(x), "seg": masks * 4})


# ---- 3. flow_from_directory(mask_dir=...) and class_mode ----------------------------------


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("paired")
    write_images(root / "img", images(2, SIZE))
    write_images(root / "mask", np.zeros((2, SIZE, SIZE, 3), np.uint8))
    return root / "img", root / "mask"


@pytest.mark.parametrize("mode", ["categorical", "sparse", "binary", "input"])
def test_an_explicit_class_mode_with_mask_dir_is_refused(
    seg: confaug.Pipeline, paired: tuple[Path, Path], mode: str
) -> None:
    image_dir, mask_dir = paired
    with pytest.raises(ValueError, match=f"class_mode='{mode}' cannot be used with mask_dir"):
        seg.flow_from_directory(image_dir, mask_dir=mask_dir, class_mode=mode)


def test_mask_dir_with_the_default_or_no_class_mode_works(
    seg: confaug.Pipeline, paired: tuple[Path, Path]
) -> None:
    image_dir, mask_dir = paired
    for options in ({}, {"class_mode": None}):
        generator = seg.flow_from_directory(
            image_dir, mask_dir=mask_dir, target_size=(SIZE, SIZE), **options
        )
        assert generator[0][1].shape[:1] == (2,)
    default = inspect.signature(seg.flow_from_directory).parameters["class_mode"].default
    assert default == "categorical" and repr(default) == "'categorical'"


def test_the_default_class_mode_still_gives_keras_labels(
    pipe: confaug.Pipeline, tmp_path: Path
) -> None:
    write_images(tmp_path, images(4, SIZE), classes=["a", "b"])
    generator = pipe.flow_from_directory(tmp_path, target_size=(SIZE, SIZE), shuffle=False)
    assert generator[0][1].tolist() == [[1, 0], [1, 0], [0, 1], [0, 1]]
    assert type(generator.source.label_encoder.class_mode) is str  # the sentinel stays behind
    pickle.dumps(generator.source)


# ---- 4. flow_from_directory classes= ----------------------------------------------------


def test_class_names_that_are_not_text_are_a_type_error(
    pipe: confaug.Pipeline, tmp_path: Path
) -> None:
    write_images(tmp_path, images(2, SIZE), classes=["1", "2"])
    with pytest.raises(TypeError, match=r"a class is a subfolder name \(a str\); got int 1"):
        pipe.flow_from_directory(tmp_path, classes=[1, 2])
    with pytest.raises(ValueError, match="holds a NUL character"):
        pipe.flow_from_directory(tmp_path, classes=["1\0"])
    with pytest.raises(DataError, match=r"the same folder more than once: '1'$"):
        pipe.flow_from_directory(tmp_path, classes=["1", "1"])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_class_folders_are_compared_as_resolved(pipe: confaug.Pipeline, tmp_path: Path) -> None:
    write_images(tmp_path, images(2, SIZE), classes=["b", "x/b"])
    (tmp_path / "x" / "y").mkdir()
    os.symlink(tmp_path / "b", tmp_path / "alias")
    os.symlink(tmp_path / "x" / "y", tmp_path / "a")
    with pytest.raises(DataError, match="the same folder more than once: 'b', 'alias'"):
        pipe.flow_from_directory(tmp_path, classes=["b", "alias"])
    with pytest.raises(DataError, match=r"the same folder more than once: 'x/\.\./b', 'b'"):
        pipe.flow_from_directory(tmp_path, classes=["x/../b", "b"])
    # a/.. is x (a is a link into it), so a/../b is x/b: another folder than b
    generator = pipe.flow_from_directory(tmp_path, classes=["a/../b", "b"], target_size=(4, 4))
    assert generator.samples == 2 and generator.num_classes == 2


# ---- 5. the PyTorch sample view's (epoch, index) keys -------------------------------------


def test_torch_item_keys_and_epochs_are_checked(pipe: confaug.Pipeline) -> None:
    torch = pytest.importorskip("torch")
    generator = pipe.flow(images(4, SIZE), np.arange(4), seed=3)
    dataset = generator.as_torch(samples=True)
    with pytest.raises(ValueError, match=r"the epoch of item key \(-1, 3\) is -1"):
        dataset[(-1, 3)]
    with pytest.raises(TypeError, match=r"\(epoch, index\) holds two ints"):
        dataset[(0.5, 3)]
    with pytest.raises(ValueError, match="epoch is -2; expected an int from 0"):
        dataset.set_epoch(-2)
    with pytest.raises(ValueError, match="epoch is -1; expected an int from 0"):
        generator.as_torch(samples=True, epoch=-1)
    assert dataset.epoch == 0
    # a sampler's 0-d integer tensors (torch.randperm) are keys, as for torch's datasets
    assert torch.equal(dataset[torch.tensor(3)][0], dataset[3][0])
    assert torch.equal(dataset[(2, torch.tensor(1))][0], dataset[(2, 1)][0])
