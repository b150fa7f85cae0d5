"""probe-data5 findings for ``confaug augment``: one output name for two sources, a link in
SRC to DST, copy names too long for a file, masks' raw values, and the notes of what a
copy does not keep."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from confaug.cli import augment
from tests.conftest import Run
from tests.helpers import save_image


def _image(path: Path, value: int = 100, shape: tuple[int, ...] = (10, 12, 3)) -> Path:
    rng = np.random.default_rng(value)
    return save_image(path, rng.integers(0, 255, shape, np.uint8))


def _identity(tmp_path: Path) -> str:
    path = tmp_path / "identity.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    return str(path)


def _augment(cli: Run, src: Path, dst: Path, *more: str) -> tuple[int, str, str]:
    return cli(
        "augment", str(src), str(dst), "--config", "preset:keras_seed", "-q", "--workers", "1",
        *more,
    )  # fmt: skip


# ---- finding 4: two sources, one output name ---------------------------------------------
def test_two_sources_writing_one_name_are_refused_before_anything_is_written(
    cli: Run, tmp_path: Path
) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _image(src / "c" / "a.png", 1)
    _image(src / "c" / "a.jpg", 2)
    _image(src / "c" / "b.png", 3)
    code, out, err = _augment(cli, src, dst, "--copies", "2", "--format", "png")
    assert code == 1, out  # was: "6 written, 2 skipped (already there)" on an empty DST
    assert "a.jpg and " in err and "a.png would both write" in err
    assert f"{dst}/c/a_aug0.png" in err and "rename one" in err
    assert not dst.exists()


def test_two_images_sharing_one_mask_copy_are_refused(cli: Run, tmp_path: Path) -> None:
    src, dst, masks, mask_dst = (tmp_path / name for name in ("src", "dst", "m", "mdst"))
    _image(src / "c" / "a.png", 1)
    _image(src / "c" / "a.jpg", 2)
    save_image(masks / "c" / "a.png", np.zeros((10, 12), np.uint8))
    code, _, err = _augment(
        cli, src, dst, "--copies", "1", "--mask-dir", str(masks), "--mask-dst", str(mask_dst)
    )
    assert code == 1  # was: one mask copy for two differently rotated image copies
    assert f"the mask copy {mask_dst}/c/a_aug0.png" in err
    assert not dst.exists() and not mask_dst.exists()


def test_names_that_do_not_collide_stay_as_they_were(cli: Run, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _image(src / "c" / "a.png", 1)
    _image(src / "c" / "a.jpg", 2)  # --format same: a_aug0.png and a_aug0.jpg
    _image(src / "d" / "a.png", 3)  # another folder
    assert _augment(cli, src, dst, "--copies", "1")[0] == 0
    names = sorted(str(p.relative_to(dst)) for p in dst.rglob("*_aug*"))
    assert names == ["c/a_aug0.jpg", "c/a_aug0.png", "d/a_aug0.png"]


# ---- finding 9: a link in SRC that leads to DST ------------------------------------------
def test_a_link_in_src_to_dst_is_left_out_so_a_rerun_adds_nothing(cli: Run, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _image(src / "c" / "0.png")
    dst.mkdir()
    (src / "out").symlink_to(dst, target_is_directory=True)
    assert _augment(cli, src, dst, "--copies", "1")[0] == 0
    code, out, _ = _augment(cli, src, dst, "--copies", "1")
    assert code == 0 and "0 written, 1 skipped" in out  # was: 1 written, 1 skipped, ...
    assert f"note: {src}/out in SRC leads into DST {dst}: its 1 image(s)" in out
    assert sorted(p.name for p in dst.rglob("*.png")) == ["0_aug0.png"]


def test_a_link_into_the_mask_copies_is_left_out(cli: Run, tmp_path: Path) -> None:
    src, dst, masks, mask_dst = (tmp_path / name for name in ("src", "dst", "m", "mdst"))
    _image(src / "c" / "0.png")
    save_image(masks / "c" / "0.png", np.zeros((10, 12), np.uint8))
    mask_dst.mkdir()
    (src / "c" / "m").symlink_to(mask_dst, target_is_directory=True)
    more = ("--copies", "1", "--mask-dir", str(masks), "--mask-dst", str(mask_dst))
    assert _augment(cli, src, dst, *more)[0] == 0
    code, out, err = _augment(cli, src, dst, *more)
    assert code == 0, err
    assert "0 written, 1 skipped" in out and "leads into --mask-dst" in out


# ---- finding 14: a copy name longer than a file name may be -------------------------------
LONG = "m" + "x" * 250  # 251 characters: a valid name, but <stem>_aug0.png is 260 bytes


def test_a_copy_name_too_long_skips_that_image_and_the_run_goes_on(
    cli: Run, tmp_path: Path
) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    for name in ("a", LONG, "y", "z"):
        _image(src / "c" / f"{name}.png")
    code, out, err = _augment(cli, src, dst, "--copies", "1")
    assert code == 1
    assert "more than the 255 a file name may have" in err and err.count("(skipped)") == 1
    assert "3 written, 0 skipped (already there), 1 image(s) failed — 3 of 4 images" in out
    assert sorted(p.name for p in (dst / "c").iterdir()) == [
        "a_aug0.png",
        "y_aug0.png",
        "z_aug0.png",
    ]
    stamp = json.loads((dst / ".confaug.json").read_text("utf-8"))
    assert all(len(name) < 255 for name in stamp["written"]["copies"])
    # an earlier stamp that listed the long name (the run then stopped there): --overwrite
    # passes over it instead of failing on looking it up
    stamp["written"]["copies"][f"c/{LONG}_aug.png"] = 1
    (dst / ".confaug.json").write_text(json.dumps(stamp), "utf-8")
    code, out, _ = _augment(cli, src, dst, "--copies", "1", "--overwrite")
    assert code == 1 and "3 written" in out and "3 earlier copies removed" in out


def test_an_os_error_looking_a_copy_up_fails_only_that_image(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(augment, "NAME_MAX", 10_000)  # past the plan: the file system says no
    src, dst = tmp_path / "src", tmp_path / "dst"
    for name in ("a", LONG, "z"):
        _image(src / "c" / f"{name}.png")
    code, out, err = _augment(cli, src, dst, "--copies", "1")
    assert code == 1 and "File name too long" in err  # was: the run's error, no summary
    assert "2 written, 0 skipped (already there), 1 image(s) failed" in out


# ---- finding 3 (the part in augment): masks keep their values ----------------------------
def _mask_run(cli: Run, tmp_path: Path, mask: np.ndarray) -> tuple[tuple[int, str, str], Path]:
    src, dst, masks, mask_dst = (tmp_path / name for name in ("src", "dst", "m", "mdst"))
    _image(src / "c" / "a.png", shape=(*mask.shape[:2], 3))
    (masks / "c").mkdir(parents=True)
    Image.fromarray(mask).save(masks / "c" / "a.tif")
    result = cli(
        "augment", str(src), str(dst), "--config", _identity(tmp_path), "--copies", "1", "-q",
        "--mask-dir", str(masks), "--mask-dst", str(mask_dst),
    )  # fmt: skip
    return result, mask_dst / "c" / "a_aug0.png"


@pytest.mark.parametrize(
    "mask",
    [
        np.tile(np.array([0, 1], np.int32), (6, 4)),  # class 1 was written as 255
        np.arange(300, dtype=np.int32).reshape(15, 20),  # ids above 255 were clipped
        np.tile(np.array([0.0, 2.0, 7.0], np.float32), (6, 4)),  # whole floats were x255'd
    ],
    ids=["int32 0/1", "int32 ids to 299", "float whole numbers"],
)
def test_mask_copies_keep_their_values(cli: Run, tmp_path: Path, mask: np.ndarray) -> None:
    (code, _, err), written = _mask_run(cli, tmp_path, mask)
    assert code == 0, err
    copy = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)
    assert copy.dtype == np.uint16
    np.testing.assert_array_equal(copy, mask)


@pytest.mark.parametrize(
    ("mask", "words"),
    [
        (np.array([[0, 400_000]] * 4, np.int32), "int32 values from 0 to 400000; a PNG"),
        (np.array([[0.0, 0.25]] * 4, np.float32), "float32 values such as 0.25"),
    ],
)
def test_masks_a_png_cannot_hold_are_refused_naming_the_mask(
    cli: Run, tmp_path: Path, mask: np.ndarray, words: str
) -> None:
    (code, _, err), written = _mask_run(cli, tmp_path, mask)
    assert code == 1 and not written.exists()
    assert f"its mask {tmp_path}/m/c/a.tif holds {words}" in err


def test_uint8_masks_are_written_as_they_are(cli: Run, tmp_path: Path) -> None:
    mask = np.arange(24, dtype=np.uint8).reshape(4, 6)
    (code, _, _), written = _mask_run(cli, tmp_path, mask)
    assert code == 0
    copy = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)
    assert copy.dtype == np.uint8
    np.testing.assert_array_equal(copy, mask)


# ---- findings 10 and 16: notes of what the copies do not keep -----------------------------
def test_the_run_says_what_copies_do_not_keep(cli: Run, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    rng = np.random.default_rng(0)
    (src / "c").mkdir(parents=True)
    cv2.imwrite(str(src / "c" / "rgb16.png"), rng.integers(0, 65535, (8, 8, 3), np.uint16))
    frames = [Image.fromarray(rng.integers(0, 255, (8, 8, 3), np.uint8)) for _ in range(3)]
    frames[0].save(src / "c" / "stack.tif", save_all=True, append_images=frames[1:])
    Image.fromarray(rng.random((8, 8), np.float32), "F").save(src / "c" / "f32.tif")
    code, out, err = cli(
        "augment", str(src), str(dst), "--config", _identity(tmp_path), "--copies", "1", "-q"
    )
    assert code == 0, err
    assert "note: 1 image(s) hold several frames (pages or an animation), e.g. " in out
    assert "stack.tif: their copies hold the first frame only" in out
    assert (
        "note: 1 image(s) have float pixels" in out and "f32.tif: their copies hold integers" in out
    )
    copy16 = cv2.imread(str(dst / "c" / "rgb16_aug0.png"), cv2.IMREAD_UNCHANGED)
    if copy16.dtype == np.uint8:  # the decoder gives 16-bit colour 8 bits: said
        assert "note: 1 image(s) are 16-bit colour" in out
    else:
        assert "16-bit colour" not in out
    assert "alpha" not in out and out.count("note:") == 2 + (copy16.dtype == np.uint8)


def test_sources_without_a_trait_get_no_note(cli: Run, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _image(src / "c" / "a.png")
    cv2.imwrite(str(src / "c" / "g16.png"), np.full((8, 8), 4000, np.uint16))
    code, out, _ = _augment(cli, src, dst, "--copies", "1")
    assert code == 0 and "note:" not in out


def test_a_name_is_measured_in_bytes_of_the_file_system_encoding() -> None:
    short = augment.Job(Path("é" * 120 + ".png"), Path("x"), Path("d"), ".png", 1)
    assert augment._with_long_names(short).problem is None  # 249 bytes
    wide = augment.Job(Path("é" * 126 + ".png"), Path("x"), Path("d"), ".png", 1)
    assert len(wide.output(0).name) < 255 < len(os.fsencode(wide.output(0).name))
    assert "bytes long" in (augment._with_long_names(wide).problem or "")


# ---- demo -o writes the format its suffix names (as preview and diff, fix-overrides5) -----
def test_demo_writes_the_format_its_output_names(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "grid.jpg"
    code, stdout, err = cli("demo", "--size", "32", "--batch", "1", "--rounds", "1", "-o", str(out))
    assert code == 0, err
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"  # was: PNG bytes in a .jpg
    assert f"wrote {out}" in stdout


def test_demo_refuses_an_output_suffix_before_augmenting(cli: Run, tmp_path: Path) -> None:
    code, stdout, err = cli("demo", "--size", "32", "-o", str(tmp_path / "grid.gif"))
    assert code == 2 and "the grid is an image" in err
    assert stdout == "" and not (tmp_path / "grid.gif").exists()
