"""Masks named after their images: ``mask_pattern`` in ``flow_from_directory``, and the
masks of ``confaug augment --mask-dir`` and ``confaug preview --mask``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import confaug
from confaug.errors import DataError
from confaug.sources.directory import MaskNames
from tests.conftest import Run
from tests.helpers import save_image

FLIPS = {"version": 1, "horizontal_flip": True, "vertical_flip": True}


def _pairs(images: Path, masks: Path, mask_name: str = "{stem}_mask.png", count: int = 3) -> None:
    """Images ``img/a/00i.png`` with a bright, off-centre square and masks (1 inside it)."""
    for i in range(count):
        pixels = np.zeros((12, 12, 3), np.uint8)
        pixels[1 : 5 + i, 2:7] = 200
        stem = f"{i:03d}"
        save_image(images / "a" / f"{stem}.png", pixels)
        save_image(masks / "a" / mask_name.format(stem=stem), (pixels[..., 0] > 0).astype("u1"))


def test_mask_pattern_pairs_000_with_000_mask(tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    pipe = confaug.load_pipeline(FLIPS)
    generator = pipe.flow_from_directory(
        tmp_path / "img",
        mask_dir=tmp_path / "masks",
        mask_pattern="{stem}_mask",
        target_size=None,
        batch_size=3,
        shuffle=False,
    )
    assert generator.filenames == [f"a/{i:03d}.png" for i in range(3)]
    x, y = generator[0]
    assert np.array_equal(y.reshape(x.shape[:3]), (x[..., 0] > 0).astype(y.dtype))  # one flip


def test_same_name_by_default_and_a_hint_for_suffixed_masks(tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    pipe = confaug.load_pipeline(FLIPS)
    with pytest.raises(
        DataError, match=r"no mask with the same name.*mask_pattern='\{stem\}_mask'"
    ):
        pipe.flow_from_directory(tmp_path / "img", mask_dir=tmp_path / "masks")
    _pairs(tmp_path / "img2", tmp_path / "masks2", "{stem}.png")
    assert len(pipe.flow_from_directory(tmp_path / "img2", mask_dir=tmp_path / "masks2")) == 1


def test_a_pattern_with_a_suffix_names_the_file_exactly(tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks", "{stem}_mask.png")
    save_image(tmp_path / "masks" / "a" / "000_mask.jpg", np.zeros((12, 12), np.uint8))
    names = MaskNames(tmp_path / "masks", "{stem}_mask.png")
    assert names.find("a/000.png") == str(tmp_path / "masks" / "a" / "000_mask.png")
    with pytest.raises(DataError, match="two masks share the name"):
        MaskNames(tmp_path / "masks", "{stem}_mask").find("a/000.png")


def test_masks_beside_their_images(tmp_path: Path) -> None:
    _pairs(tmp_path / "both", tmp_path / "both")
    pipe = confaug.load_pipeline(FLIPS)
    generator = pipe.flow_from_directory(
        tmp_path / "both", mask_dir=tmp_path / "both", mask_pattern="{stem}_mask"
    )
    assert generator.filenames == [f"a/{i:03d}.png" for i in range(3)]  # the masks left out
    with pytest.raises(ValueError, match="mask_dir is the image folder"):
        pipe.flow_from_directory(tmp_path / "both", mask_dir=tmp_path / "both")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("mask", "must contain {stem}"),
        ("{stem}_{name}", "no other field"),
        ("../{stem}", "no other field or folder"),
        ("sub/{stem}", "folder"),
        # str.format never runs on a pattern: a field other than {stem} is refused
        ("{stem}/../../etc/passwd", "folder"),
        ("/etc/{stem}", "folder"),
        ("{0}", "must contain {stem}"),
        ("{stem.__class__}", "must contain {stem}"),
        ("{stem}{stem.__class__.__init__}", "no other field"),
        ("{stem}\x00.png", "no other field"),
    ],
)
def test_bad_patterns_say_what_is_wrong(tmp_path: Path, pattern: str, message: str) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    pipe = confaug.load_pipeline(FLIPS)
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        pipe.flow_from_directory(
            tmp_path / "img", mask_dir=tmp_path / "masks", mask_pattern=pattern
        )


def test_mask_pattern_needs_mask_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mask_pattern needs mask_dir"):
        confaug.load_pipeline(FLIPS).flow_from_directory(tmp_path, mask_pattern="{stem}_m")


# ---- confaug augment --mask-dir -----------------------------------------------------------


def test_augment_writes_each_masks_copy_with_its_images_transform(cli: Run, tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    config = tmp_path / "flips.yaml"
    config.write_text("version: 1\nhorizontal_flip: true\nvertical_flip: true\n", "utf-8")
    args = ["augment", str(tmp_path / "img"), str(tmp_path / "out"), "--config", str(config)]
    args += ["--copies", "4", "--format", "png", "-q", "--mask-dir", str(tmp_path / "masks")]
    code, _, err = cli(*args, "--mask-dst", str(tmp_path / "out_masks"))
    assert code == 1 and "--mask-pattern '{stem}_mask'" in err  # no mask named 000.png
    code, out, _ = cli(
        *args, "--mask-dst", str(tmp_path / "out_masks"), "--mask-pattern", "{stem}_mask"
    )
    assert code == 0 and "12 written" in out
    flipped = 0
    for i in range(3):
        original = cv2.imread(str(tmp_path / "img" / "a" / f"{i:03d}.png"), cv2.IMREAD_GRAYSCALE)
        for k in range(4):
            image = cv2.imread(str(tmp_path / "out" / "a" / f"{i:03d}_aug{k}.png"))
            mask = cv2.imread(str(tmp_path / "out_masks" / "a" / f"{i:03d}_aug{k}.png"), 0)
            assert np.array_equal(mask, (image[..., 0] > 0).astype(np.uint8))
            flipped += not np.array_equal(image[..., 0], original)
    assert flipped  # the copies were flipped, and their masks with them
    # the two output folders pair up for flow_from_directory by name
    pairs = confaug.load_pipeline(FLIPS).flow_from_directory(
        tmp_path / "out", mask_dir=tmp_path / "out_masks"
    )
    assert len(pairs.filenames) == 12


def test_augment_keeps_a_palette_masks_indices_and_names_a_mask_of_another_size(
    cli: Run, tmp_path: Path
) -> None:
    from PIL import Image

    labels = np.zeros((12, 12), np.uint8)
    labels[2:6, 1:5], labels[7:, 6:] = 1, 2
    save_image(tmp_path / "img" / "0.png", np.full((12, 12, 3), 90, np.uint8))
    (tmp_path / "masks").mkdir()
    palette = Image.fromarray(labels, mode="P")
    palette.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0])  # VOC's colours
    palette.save(tmp_path / "masks" / "0.png")
    args = ["augment", str(tmp_path / "img"), str(tmp_path / "out"), "--config"]
    args += ["preset:keras_seed", "--copies", "1", "-q", "--mask-dir", str(tmp_path / "masks")]
    code, _, _ = cli(*args, "--mask-dst", str(tmp_path / "out_masks"))
    assert code == 0
    written = cv2.imread(str(tmp_path / "out_masks" / "0_aug0.png"), cv2.IMREAD_UNCHANGED)
    assert written.ndim == 2 and set(np.unique(written)) <= {0, 1, 2}  # indices, no colours
    assert 2 in written  # class 2, whose colour has no red, is not lost
    save_image(tmp_path / "img" / "1.png", np.zeros((12, 12, 3), np.uint8))
    save_image(tmp_path / "masks" / "1.png", np.zeros((6, 6), np.uint8))
    code, _, err = cli(*args, "--mask-dst", str(tmp_path / "out_masks"))
    assert code == 1 and "1.png: image is 12x12 but its mask" in err and "is 6x6" in err


def test_augment_mask_options_are_checked(cli: Run, tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    base = [
        "augment",
        str(tmp_path / "img"),
        str(tmp_path / "out"),
        "--config",
        "preset:keras_seed",
    ]
    base += ["--copies", "1", "-q"]
    code, _, err = cli(*base, "--mask-dir", str(tmp_path / "masks"))
    assert code == 2 and "--mask-dir needs --mask-dst" in err
    code, _, err = cli(*base, "--mask-pattern", "{stem}_mask")
    assert code == 2 and "need --mask-dir" in err
    inside = str(tmp_path / "out" / "m")
    code, _, err = cli(*base, "--mask-dir", str(tmp_path / "masks"), "--mask-dst", inside)
    assert code == 2 and "inside DST" in err
    assert not (tmp_path / "out").exists()  # nothing written before the options were checked


# ---- confaug preview --mask, --image DIR ----------------------------------------------------


def _grid(cli: Run, tmp_path: Path, *args: str) -> tuple[int, str, str, np.ndarray | None]:
    out = tmp_path / "grid.png"
    out.unlink(missing_ok=True)
    code, stdout, err = cli(
        "preview", "preset:keras_seed", "-n", "2", "--size", "32", *args, "-o", str(out)
    )
    return code, stdout, err, cv2.imread(str(out)) if out.exists() else None


def test_preview_draws_the_masks_given(cli: Run, tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    first = str(tmp_path / "img" / "a" / "000.png")
    code, _, _, plain = _grid(cli, tmp_path, "--image", first)
    assert code == 0 and plain is not None
    mask = str(tmp_path / "masks" / "a" / "000_mask.png")
    code, _, _, drawn = _grid(cli, tmp_path, "--image", first, "--mask", mask)
    assert code == 0 and drawn is not None and drawn.shape == plain.shape
    assert not np.array_equal(drawn, plain)  # the outline of the mask
    code, _, _, by_name = _grid(
        cli, tmp_path, "--image", first, "--mask", str(tmp_path / "masks" / "a"),
        "--mask-pattern", "{stem}_mask",
    )  # fmt: skip
    assert code == 0 and np.array_equal(by_name, drawn)


def test_preview_mask_pattern_without_masks_is_refused(cli: Run, tmp_path: Path) -> None:
    """A pattern with nothing to apply it to is wrong usage, not silently ignored."""
    _pairs(tmp_path / "img", tmp_path / "masks")
    folder = str(tmp_path / "img")
    for given in (["--image", folder], []):
        code, _, err, grid = _grid(cli, tmp_path, *given, "--mask-pattern", "{stem}_mask")
        assert code == 2 and "--mask-pattern needs --mask DIR" in err and grid is None


def test_preview_reads_a_palette_mask_as_its_indices(tmp_path: Path) -> None:
    from PIL import Image

    from confaug.cli.preview import file_images

    labels = np.zeros((12, 12), np.uint8)
    labels[2:6, 1:5], labels[7:, 6:] = 1, 2
    save_image(tmp_path / "0.png", np.full((12, 12, 3), 90, np.uint8))
    palette = Image.fromarray(labels, mode="P")
    palette.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0])  # VOC's colours
    palette.save(tmp_path / "0_mask.png")
    (item,) = file_images([str(tmp_path / "0.png")], [str(tmp_path / "0_mask.png")])
    assert item.mask is not None and np.array_equal(item.mask, labels)  # drawn as 2 classes


def test_preview_refuses_masks_it_cannot_draw(cli: Run, tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    first, second = (str(tmp_path / "img" / "a" / f"00{i}.png") for i in (0, 1))
    code, _, err, _ = _grid(cli, tmp_path, "--image", first, "--show-masks")
    assert code == 2 and "--mask" in err  # was: silently no masks
    code, _, err, _ = _grid(cli, tmp_path, "--image", first, second, "--mask", first)
    assert code == 2 and "1 file(s) for 2 image(s)" in err
    code, _, err, _ = _grid(cli, tmp_path, "--mask", first)
    assert code == 2 and "--mask needs --image" in err


def test_preview_takes_folders_and_several_images_after_one_flag(cli: Run, tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks", count=5)
    files = [str(tmp_path / "img" / "a" / f"00{i}.png") for i in (0, 1)]
    code, out, _, grid = _grid(cli, tmp_path, "--image", *files)
    assert code == 0 and "2 image(s)" in out and grid is not None
    code, out, _, folder = _grid(cli, tmp_path, "--image", str(tmp_path / "img"))
    assert code == 0 and "5 image(s)" in out and folder is not None
    assert folder.shape[0] > grid.shape[0]
    code, out, _, _ = _grid(cli, tmp_path, "--image", str(tmp_path / "img"), "--max-images", "3")
    assert code == 0 and "showing the first 3 of 5" in out and "3 image(s)" in out
    (tmp_path / "empty").mkdir()
    code, _, err, _ = _grid(cli, tmp_path, "--image", str(tmp_path / "empty"))
    assert code == 1 and "no images in this folder" in err


# ---- review h11: where masks sit, and skipping ---------------------------------------------


def test_a_mask_folder_inside_the_image_folder_holds_no_images(tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "img" / "masks", "{stem}.png")
    generator = confaug.load_pipeline(FLIPS).flow_from_directory(
        tmp_path / "img", mask_dir=tmp_path / "img" / "masks", target_size=None, shuffle=False
    )
    assert generator.filenames == [f"a/{i:03d}.png" for i in range(3)]


def test_a_pattern_that_names_each_image_itself_is_refused(tmp_path: Path) -> None:
    _pairs(tmp_path / "both", tmp_path / "both", "{stem}_mask.png")
    with pytest.raises(ValueError, match="as its own mask"):
        confaug.load_pipeline(FLIPS).flow_from_directory(
            tmp_path / "both", mask_dir=tmp_path / "both", mask_pattern="{stem}.png"
        )


def test_unpaired_images_are_left_out_with_on_error_skip(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks", count=4)
    (tmp_path / "masks" / "a" / "002_mask.png").unlink()  # no mask
    save_image(tmp_path / "masks" / "a" / "003_mask.jpg", np.zeros((12, 12), np.uint8))  # two
    pipe = confaug.load_pipeline(FLIPS)
    options = {"mask_dir": tmp_path / "masks", "mask_pattern": "{stem}_mask", "target_size": None}
    with pytest.raises(DataError, match=r"two masks share the name 'a/003_mask'"):
        pipe.flow_from_directory(tmp_path / "img", **options)
    generator = pipe.flow_from_directory(
        tmp_path / "img", on_error="skip", shuffle=False, **options
    )
    assert generator.filenames == ["a/000.png", "a/001.png"]
    x, y = generator[0]
    assert np.array_equal(y.reshape(x.shape[:3]), (x[..., 0] > 0).astype(y.dtype))  # pairs kept
    logged = caplog.text
    assert "002.png" in logged and "two masks share the name" in logged
    for name in ("000", "001", "002", "003"):
        (tmp_path / "masks" / "a" / f"{name}_mask.png").unlink(missing_ok=True)
    (tmp_path / "masks" / "a" / "003_mask.jpg").unlink()
    save_image(tmp_path / "masks" / "a" / "other.png", np.zeros((12, 12), np.uint8))
    with pytest.raises(DataError, match="no image has a mask"):
        pipe.flow_from_directory(tmp_path / "img", on_error="skip", **options)


def test_a_mask_of_another_size_names_both_and_skips(tmp_path: Path) -> None:
    _pairs(tmp_path / "img", tmp_path / "masks")
    save_image(tmp_path / "masks" / "a" / "001_mask.png", np.zeros((6, 8), np.uint8))
    pipe = confaug.load_pipeline(FLIPS)
    options = {"mask_dir": tmp_path / "masks", "mask_pattern": "{stem}_mask", "batch_size": 3}
    with pytest.raises(
        DataError, match=r"001\.png: image is 12x12 but its mask .*is 6x8 \(height x width\)"
    ):
        pipe.flow_from_directory(tmp_path / "img", shuffle=False, **options)[0]
    skipping = pipe.flow_from_directory(tmp_path / "img", on_error="skip", shuffle=False, **options)
    x, y = skipping[0]
    assert len(x) == len(y) == 2
    assert [name.rsplit("/", 1)[-1] for name, _ in skipping.skipped] == ["001.png"]
