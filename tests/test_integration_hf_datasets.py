"""``hf_transform``: a Hugging Face ``datasets`` transform with the generator's per-sample
determinism, on small local datasets (no hub)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.integrations.hf_datasets import HFTransform, hf_transform
from confaug.sources import DataError
from tests.helpers import images

datasets = pytest.importorskip("datasets", reason="pip install datasets (the hf extra)")

CONFIG: dict[str, Any] = {"version": 1, "rotation_range": 20, "horizontal_flip": True}
SIZE = (20, 24)


@pytest.fixture(scope="module")
def pipe() -> confaug.Pipeline:
    return confaug.load_pipeline(CONFIG)


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    return images(6, SIZE, seed=3)


@pytest.fixture(scope="module")
def dataset(pixels: np.ndarray) -> Any:
    """Six PNG-encoded images (as ``datasets.Image()`` stores them) with ids and labels."""
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "id": datasets.Value("int64"),
            "label": datasets.ClassLabel(names=["a", "b"]),
        }
    )
    rows = {"image": list(pixels), "id": list(range(6)), "label": [i % 2 for i in range(6)]}
    return datasets.Dataset.from_dict(rows, features=features)


def generator_samples(pipe: confaug.Pipeline, pixels: np.ndarray, epoch: int) -> np.ndarray:
    generator = pipe.flow(pixels, np.arange(6), batch_size=6, shuffle=False, seed=7)
    for _ in range(epoch):
        generator.on_epoch_end()
    return generator[0][0]


def test_rows_keyed_by_index_get_the_generators_augmentation(
    pipe: confaug.Pipeline, pixels: np.ndarray, dataset: Any
) -> None:
    augment = hf_transform(pipe, seed=7, key_column="id")
    train = dataset.with_transform(augment)
    for epoch in (0, 1):
        augment.set_epoch(epoch)
        expected = generator_samples(pipe, pixels, epoch)
        for index in range(6):
            row = train[index]
            assert np.array_equal(row["image"], expected[index])
            assert row["label"] == index % 2 and row["id"] == index  # other columns kept
    augment.set_epoch(0)
    batch = train[1:4]  # a slice is a batch: the same rows, the same pixels
    assert all(np.array_equal(batch["image"][k], train[1 + k]["image"]) for k in range(3))


def test_rows_without_a_key_are_keyed_by_their_pixels(pipe: confaug.Pipeline, dataset: Any) -> None:
    augment = hf_transform(pipe, seed=7)
    train = dataset.with_transform(augment)
    first = [train[i]["image"] for i in range(6)]
    reversed_order = [train[i]["image"] for i in reversed(range(6))][::-1]
    assert all(np.array_equal(a, b) for a, b in zip(first, reversed_order, strict=True))
    other = dataset.with_transform(hf_transform(pipe, seed=8))
    assert not np.array_equal(other[0]["image"], first[0])  # the seed matters


def test_torch_layout_into_a_dataloader_is_worker_independent(
    pipe: confaug.Pipeline, dataset: Any
) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    augment = hf_transform(
        pipe,
        seed=7,
        key_column="id",
        output_column="pixel_values",
        channels_first=True,
        float32=True,
    )
    train = dataset.with_transform(augment)
    row = train[0]
    assert row["pixel_values"].shape == (3, 20, 24) and row["pixel_values"].dtype == np.float32
    assert float(row["pixel_values"].max()) <= 1.0

    def load(workers: int) -> list[Any]:
        def collate(rows: list[dict[str, Any]]) -> Any:
            return (
                torch.stack([torch.from_numpy(r["pixel_values"]) for r in rows]),
                torch.tensor([r["label"] for r in rows]),
            )

        loader = DataLoader(train, batch_size=4, num_workers=workers, collate_fn=collate)
        return list(loader)

    zero, two = load(0), load(2)
    assert len(zero) == 2
    for (x0, y0), (x2, y2) in zip(zero, two, strict=True):
        assert torch.equal(x0, x2) and torch.equal(y0, y2)


def test_undecoded_images_and_masks_go_through_confaugs_decoder(
    pipe: confaug.Pipeline, pixels: np.ndarray
) -> None:
    from PIL import Image

    def png(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG")
        return buffer.getvalue()

    masks = (pixels[..., 0] > 127).astype(np.uint8)
    features = datasets.Features(
        {
            "image": datasets.Image(decode=False),
            "mask": datasets.Image(),
            "id": datasets.Value("int64"),
        }
    )
    rows = {
        "image": [{"bytes": png(p), "path": None} for p in pixels],
        "mask": list(masks),
        "id": list(range(6)),
    }
    raw = datasets.Dataset.from_dict(rows, features=features)
    augment = HFTransform(pipe, seed=7, key_column="id", mask_column="mask")
    row = raw.with_transform(augment)[2]
    expected = pipe.flow(pixels, masks=masks, batch_size=6, shuffle=False, seed=7)[0]
    assert np.array_equal(row["image"], expected[0][2])
    assert np.array_equal(row["mask"], expected[1][2])  # the mask got the image's warp


def test_a_bad_row_names_its_key_and_a_missing_column_says_which(
    pipe: confaug.Pipeline, pixels: np.ndarray
) -> None:
    features = datasets.Features(
        {"image": datasets.Image(decode=False), "id": datasets.Value("string")}
    )
    rows = {"image": [{"bytes": b"not an image", "path": None}], "id": ["cat-7"]}
    bad = datasets.Dataset.from_dict(rows, features=features)
    with pytest.raises(DataError, match="id=cat-7"):
        bad.with_transform(hf_transform(pipe, seed=1, key_column="id"))[0]
    with pytest.raises(KeyError, match="'photo' is not in the batch"):
        bad.with_transform(hf_transform(pipe, seed=1, image_column="photo"))[0]
    with pytest.raises(TypeError, match="with_transform"):
        hf_transform(pipe, seed=1)([1, 2])  # type: ignore[arg-type]


def test_hf_transform_shows_and_checks_the_transforms_options(pipe: confaug.Pipeline) -> None:
    """help() and editors see HFTransform's options on the function; a misspelt one is
    refused before any work, with the right name."""
    import inspect

    shown = inspect.signature(hf_transform).parameters
    wanted = inspect.signature(HFTransform.__init__).parameters
    keyword_only = [name for name, p in wanted.items() if p.kind is p.KEYWORD_ONLY]
    assert keyword_only and all(name in shown for name in keyword_only)
    assert all(shown[name].default == wanted[name].default for name in keyword_only)
    with pytest.raises(TypeError, match=r"'key_colum' \(did you mean 'key_column'\?\)"):
        hf_transform(pipe, seed=1, key_colum="id")
    assert hf_transform(pipe, seed=1, output_column="pixel_values").output_column == "pixel_values"


def test_array_image_columns_are_read_as_the_pixels_they_hold(pipe: confaug.Pipeline) -> None:
    """``with_transform`` hands an Array3D uint8 column over as Python lists (NumPy reads
    them as int64): they are uint8 pixels again, not refused."""
    pixels = np.random.default_rng(0).integers(0, 255, (8, 8, 3)).astype(np.uint8)
    features = datasets.Features({"image": datasets.Array3D((8, 8, 3), "uint8")})
    rows = datasets.Dataset.from_dict({"image": [pixels, pixels]}, features=features)
    image = np.asarray(rows.with_transform(hf_transform(pipe, seed=1))[0]["image"])
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    wide = datasets.Dataset.from_dict({"image": [pixels.astype(np.int64) * 1000]})
    with pytest.raises(DataError, match=r"integer pixels span 0\.\.\d+: beyond 0\.\.65535"):
        wide.with_transform(hf_transform(pipe, seed=1))[0]


def test_target_size_and_float32_hold_for_pil_images(pipe: confaug.Pipeline) -> None:
    """``target_size`` resized files and bytes but not the PIL images ``datasets.Image()``
    decodes (a DataLoader then failed to stack rows of different sizes); ``float32=True``
    left 16-bit images at 0..65535."""
    from PIL import Image

    rows = {"image": [Image.fromarray(np.zeros((12 + i, 16, 3), np.uint8)) for i in range(2)]}
    augment = hf_transform(pipe, seed=1, target_size=(8, 8))
    shapes = [np.asarray(augment(rows)["image"][i]).shape for i in range(2)]
    assert shapes == [(8, 8, 3), (8, 8, 3)]
    wide = {"image": [Image.fromarray(np.full((8, 8), 60000, np.uint16))]}
    keras_free = confaug.load_pipeline({"version": 1})
    out = hf_transform(keras_free, seed=1, float32=True, color_mode="grayscale")(wide)["image"][0]
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.5
