"""One batching engine (issue 11): generators, Ray rows and ``confaug augment`` copies all go
through the batching layer's loader — one seed derivation, one decoder with its pixel limit,
one error policy — and ``augment`` keeps OpenCV's thread count and its files' bytes stable.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import confaug
from confaug.batching import BatchGenerator, flow
from confaug.cli import augment as augment_command
from confaug.integrations.ray import ray_augment, row_seed
from confaug.seeding import SAMPLE_STREAM, row_key, sample_seed
from confaug.sources import ArraySource
from confaug.sources.decode import decode_as_stored
from tests.conftest import Run
from tests.helpers import images

CONFIG: dict[str, Any] = {
    "version": 1,
    "rotation_range": 20,
    "horizontal_flip": True,
    "brightness_range": [0.6, 1.4],
    "samplewise_center": True,  # so that the standardize stage is not the identity
    "transforms": [{"GaussNoise": {"std_range": [0.02, 0.1], "p": 0.5}}],
}
AUGMENT = ("--config", "preset:keras_seed", "--seed", "3", "-q")
BOMB_PIXELS = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` and holds no pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + end


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """SRC with a PNG and a JPEG in a class folder, and a 16-bit grayscale PNG."""
    src = tmp_path / "src"
    (src / "cats").mkdir(parents=True)
    pictures = images(2, (40, 48), seed=4)
    cv2.imwrite(str(src / "cats" / "a.png"), pictures[0])
    cv2.imwrite(str(src / "cats" / "b.jpg"), pictures[1])
    deep = np.random.default_rng(5).integers(0, 65536, (30, 36), dtype=np.uint16)
    cv2.imwrite(str(src / "deep.png"), deep)
    return src


def _files(top: Path) -> dict[str, bytes]:
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*.*"))}


# ---- one seed derivation -----------------------------------------------------------------
def test_a_sources_sample_key_seeds_its_augmentation() -> None:
    class Keyed(ArraySource):
        def sample_key(self, index: int) -> int:
            return 1000 + index

    pipe = confaug.load_pipeline({**CONFIG, "samplewise_center": False})
    x = images(3, (24, 32))
    batch = BatchGenerator(Keyed(x), pipe, seed=9, shuffle=False, batch_size=3)[0]
    for index in range(3):
        seed = sample_seed(9, SAMPLE_STREAM, 0, 1000 + index)
        assert np.array_equal(batch[index], pipe(image=x[index], seed=seed)["image"])


@pytest.mark.parametrize("epoch", [0, 3])
def test_a_ray_row_keyed_by_index_gets_the_generators_pixels(epoch: int) -> None:
    pipe = confaug.load_pipeline(CONFIG)
    x = images(6, (24, 32))
    generator = flow(pipe, x, seed=5, shuffle=True, batch_size=6)
    generator.epoch = epoch
    order = generator.epoch_indices(epoch)
    from_generator = np.empty_like(generator[0])
    from_generator[order] = generator[0]  # back to sample order
    rows = {"image": x, "id": np.arange(6)}
    from_ray = ray_augment(CONFIG, seed=5, epoch=epoch, key_column="id")()(rows)["image"]
    assert from_ray.dtype == from_generator.dtype == np.float32
    assert np.array_equal(from_ray, from_generator)
    assert row_seed(5, epoch, 4) == sample_seed(5, SAMPLE_STREAM, epoch, 4)


def test_an_augment_copy_is_the_ray_row_keyed_by_its_path_at_epoch_k(
    cli: Run, folder: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "out"
    assert cli("augment", str(folder), str(dst), "--copies", "2", *AUGMENT)[0] == 0
    decoded = decode_as_stored(folder / "cats" / "a.png")
    pipe = confaug.load_pipeline("preset:keras_seed")
    for k in range(2):
        written = cv2.cvtColor(cv2.imread(str(dst / f"cats/a_aug{k}.png")), cv2.COLOR_BGR2RGB)
        row = {"image": decoded[None], "path": np.asarray(["cats/a.png"], dtype=object)}
        augment = ray_augment("preset:keras_seed", seed=3, epoch=k, standardize=False)
        assert np.array_equal(written, augment()(row)["image"][0])
        seed = sample_seed(3, SAMPLE_STREAM, k, row_key("cats/a.png"))
        assert np.array_equal(written, pipe(image=decoded, seed=seed)["image"])


# ---- resumed runs --------------------------------------------------------------------------
def test_a_resumed_augment_run_writes_bit_identical_files(
    cli: Run, folder: Path, tmp_path: Path
) -> None:
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert cli("augment", str(folder), str(whole), "--copies", "3", *AUGMENT)[0] == 0
    assert cli("augment", str(folder), str(resumed), "--copies", "1", *AUGMENT)[0] == 0
    (resumed / "cats" / "b_aug0.jpg").unlink()  # as if the first run stopped before it
    code, out, _ = cli(
        "augment", str(folder), str(resumed), "--copies", "3", "--workers", "2", *AUGMENT
    )
    assert code == 0 and "7 written, 2 skipped" in out
    assert _files(resumed) == _files(whole)
    assert len([name for name in _files(whole) if name != ".confaug.json"]) == 9


def test_augment_keeps_16_bit_grayscale_and_gray_files_stay_gray(
    cli: Run, folder: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "out"
    assert cli("augment", str(folder), str(dst), "--copies", "1", *AUGMENT)[0] == 0
    deep = cv2.imread(str(dst / "deep_aug0.png"), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16 and deep.shape == (30, 36)
    assert deep.max() > 255  # the 16 bits were kept, not scaled to 8


# ---- one decoder, with its pixel limit -------------------------------------------------------
@BOMB_PIXELS
def test_augment_refuses_a_decompression_bomb_as_a_failed_image(
    cli: Run, folder: Path, tmp_path: Path
) -> None:
    (folder / "cats" / "bomb.png").write_bytes(_png_header(10_000, 10_000))  # 100 MP
    dst = tmp_path / "out"
    code, out, err = cli("augment", str(folder), str(dst), "--copies", "2", *AUGMENT)
    assert code == 1
    assert "1 image(s) failed" in out and "6 written" in out
    assert "bomb.png: 10000x10000" in err and "decompression-bomb guard" in err
    assert not list(dst.rglob("bomb_aug*"))


@BOMB_PIXELS
def test_preview_of_a_file_applies_the_pixel_limit(cli: Run, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(10_000, 10_000))
    code, _, err = cli("preview", "preset:keras_seed", "--image", str(bomb), "-o", "x.png")
    assert code == 1 and "max_pixels" in err and "decompression-bomb guard" in err


# ---- OpenCV's thread count -------------------------------------------------------------------
def test_augment_gives_opencv_its_threads_back_even_when_a_worker_raises(
    cli: Run, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def broken_encoder(image: np.ndarray, suffix: str, **options: Any) -> bytes:
        seen.append(cv2.getNumThreads())
        raise RuntimeError("the encoder broke")

    monkeypatch.setattr(augment_command, "encode_image", broken_encoder)
    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        with pytest.raises(RuntimeError, match="the encoder broke"):
            cli(
                "augment",
                str(folder),
                str(tmp_path / "out"),
                "--copies",
                "2",
                "--workers",
                "2",
                *AUGMENT,
            )
        assert seen and set(seen) == {1}  # one OpenCV thread while the workers ran
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)
