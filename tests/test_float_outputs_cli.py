"""The commands with a config whose output a step sets (``Pipeline.output_set_by``).

``confaug augment`` refuses ``Normalize`` (values no image file holds) at the step's line,
before writing anything, and writes ``ToFloat``'s 0..1 as pixels; ``preview`` and
``diff -o`` show Normalize's values stretched per cell, saying so, instead of clipping
negatives to black.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

import confaug
from confaug.cli.grid import stretched, to_rgb
from confaug.cli.imageio import to_uint8
from confaug.cli.preview import PreviewImage, preview_rows
from tests.conftest import Run
from tests.helpers import save_image

NORMALIZE = "version: 1\ntransforms:\n  - HorizontalFlip: {p: 1}\n  - Normalize: {}\n"


@pytest.fixture
def src(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    for i in range(2):
        save_image(tmp_path / "src" / "a" / f"{i}.png", rng.integers(0, 255, (16, 20, 3), "u1"))
    return tmp_path / "src"


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "aug.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _augment(cli: Run, src: Path, dst: Path, config: str, *more: str) -> tuple[int, str, str]:
    return cli("augment", str(src), str(dst), "--config", config, "--copies", "1", "-q", *more)


def test_augment_refuses_normalize_at_its_line_and_writes_nothing(
    cli: Run, src: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path, NORMALIZE)
    dst = tmp_path / "out"
    code, out, err = _augment(cli, src, dst, config)
    assert code == 1 and out == ""
    assert f"{config}:4:" in err and "transforms.1.Normalize" in err
    assert "no image file holds" in err and "--set 'transforms.1={NoOp: {}}'" in err
    assert not dst.exists()
    # The fix the message gives works: the flips alone are written.
    assert _augment(cli, src, dst, config, "--set", "transforms.1={NoOp: {}}")[0] == 0
    original = cv2.imread(str(src / "a" / "0.png"))
    assert np.array_equal(cv2.imread(str(dst / "a" / "0_aug0.png")), original[:, ::-1])


def test_augment_refuses_a_normalize_inside_a_sequential(
    cli: Run, src: Path, tmp_path: Path
) -> None:
    nested = (
        "version: 1\ntransforms:\n  - Sequential:\n      p: 1\n      transforms:\n"
        "        - HorizontalFlip: {p: 1}\n        - Normalize: {}\n"
    )
    code, _, err = _augment(cli, src, tmp_path / "out", _config(tmp_path, nested))
    assert code == 1 and "transforms.0.Sequential.transforms.1.Normalize" in err
    assert "--set 'transforms.0.Sequential.transforms.1={NoOp: {}}'" in err


@pytest.mark.parametrize(
    "steps", ["  - ToFloat: {}\n", "  - ToFloat: {}\n  - FromFloat: {dtype: uint8}\n"]
)
def test_augment_writes_tofloat_and_fromfloat_outputs_as_pixels(
    cli: Run, src: Path, tmp_path: Path, steps: str
) -> None:
    config = _config(tmp_path, f"version: 1\ntransforms:\n  - HorizontalFlip: {{p: 1}}\n{steps}")
    dst = tmp_path / "out"
    code, _, err = _augment(cli, src, dst, config)
    assert code == 0, err
    for i in range(2):
        original = cv2.imread(str(src / "a" / f"{i}.png"))
        assert np.array_equal(cv2.imread(str(dst / "a" / f"{i}_aug0.png")), original[:, ::-1])


def test_augment_writes_tofloat_of_a_16_bit_image_as_16_bit(cli: Run, tmp_path: Path) -> None:
    gray = np.random.default_rng(5).integers(0, 65535, (10, 14), np.uint16)
    source = tmp_path / "src" / "g.png"
    source.parent.mkdir()
    cv2.imwrite(str(source), gray)
    config = _config(
        tmp_path, "version: 1\ntransforms:\n  - HorizontalFlip: {p: 1}\n  - ToFloat: {}\n"
    )
    code, _, err = _augment(cli, source.parent, tmp_path / "out", config)
    assert code == 0, err
    written = cv2.imread(str(tmp_path / "out" / "g_aug0.png"), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint16 and np.array_equal(written, gray[:, ::-1])


def test_stretched_maps_min_to_max_and_leaves_displayable_images() -> None:
    values = np.array([[[-2.0, 0.0, 2.0]], [[1.0, np.nan, -1.0]]], np.float32)
    shown, (low, high) = stretched(values)  # type: ignore[misc]
    assert (low, high) == (-2.0, 2.0)
    assert shown.min() == 0.0 and shown.max() == 1.0 and shown[0, 0, 1] == 0.5
    assert stretched(np.full((2, 2), 0.5, np.float32)) is None  # 0..1 shows as it is
    assert stretched(np.zeros((2, 2), np.uint8)) is None


def test_preview_cells_of_normalize_are_stretched_not_clipped() -> None:
    pipe = confaug.load_pipeline(yaml.safe_load(NORMALIZE))
    image = np.random.default_rng(0).integers(0, 255, (24, 24, 3), np.uint8)
    (row,) = preview_rows(pipe, [PreviewImage("x", image)], count=2, seed=0)
    original, first, _ = row
    assert original.stretched is None and first.stretched is not None
    low, high = first.stretched
    assert low < -1.5 and high > 1.5 and f"{low:.1f}..{high:.1f}" in first.caption
    raw = pipe(image=image, seed=0)["image"]
    clipped = to_uint8(raw)
    assert (clipped == 0).mean() > 0.3  # what the grid showed before: half black
    shown = to_rgb(first.image)
    assert shown.min() == 0 and shown.max() == 255 and (shown == 0).mean() < 0.01
    # The stretch keeps the order of the values: the flipped image, brighter where it was.
    assert np.corrcoef(shown[..., 0].ravel(), image[:, ::-1, 0].ravel())[0, 1] > 0.99
    plain = confaug.load_pipeline({"version": 1, "transforms": [{"ToFloat": {}}]})
    (row,) = preview_rows(plain, [PreviewImage("x", image)], count=1, seed=0)
    assert row[1].stretched is None and row[1].caption == "#1"


def test_preview_and_diff_say_the_cells_are_stretched(cli: Run, tmp_path: Path) -> None:
    config = _config(tmp_path, NORMALIZE)
    grid = tmp_path / "grid.png"
    args = ("--sample", "scene", "-n", "2", "--size", "48", "-o", str(grid))
    code, out, err = cli("preview", config, *args)
    assert code == 0, err
    assert "note: transforms.1.Normalize gives values outside 0..1" in out and grid.is_file()
    code, out, err = cli("diff", "preset:keras_seed", config, *args)
    assert code == 0, err
    assert "note: transforms.1.Normalize gives values outside 0..1" in out
    code, out, _ = cli("preview", "preset:keras_seed", *args)
    assert code == 0 and "stretched" not in out
