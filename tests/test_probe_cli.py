"""The CLI's findings of the robustness probes: bounded size and count options, a lazy
``augment`` plan, a truthful summary, one size convention, the alpha note, and
``schema --check`` reading at most a bounded amount and never offering to overwrite a config."""

from __future__ import annotations

import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

from confaug.cli import augment, build_parser, grid, preview
from tests.conftest import Run
from tests.helpers import save_image


def _image(path: Path, height: int = 10, width: int = 12, channels: int = 3) -> Path:
    shape = (height, width, channels) if channels > 1 else (height, width)
    return save_image(path, np.full(shape, 100, np.uint8))


def _never(what: str) -> Callable[..., NoReturn]:
    """A stand-in that fails the test when it is called: ``what`` happened."""

    def never(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(what)

    return never


# ---- probe-configs #7: preview / diff -o / demo sizes are bounded ----------------------------
@pytest.mark.parametrize(
    ("argv", "option", "limit"),
    [
        (("preview", "preset:keras_seed", "--size", "100000"), "--size", "4,096"),
        (("preview", "preset:keras_seed", "--columns", "100000"), "--columns", "256"),
        (("preview", "preset:keras_seed", "-n", "2000"), "-n", "256"),
        (("preview", "preset:keras_seed", "--max-images", "100000"), "--max-images", "1,024"),
        (("diff", "preset:keras_seed", "preset:keras_seed", "--size", "100000"), "--size", "4,096"),
        (("diff", "preset:keras_seed", "preset:keras_seed", "-n", "2000"), "-n", "256"),
        (("demo", "--size", "20000"), "--size", "2,048"),
        (("demo", "--batch", "100000"), "--batch", "1,024"),
        (("demo", "--rounds", "100000"), "--rounds", "256"),
        (("augment", "s", "d", "--config", "c", "--copies", "20000000"), "--copies", "100,000"),
        (
            ("augment", "s", "d", "--config", "c", "--copies", "1", "--quality", "500"),
            "--quality",
            "100",
        ),
    ],
)
def test_size_and_count_options_are_bounded_at_parse_time(
    cli: Run, tmp_path: Path, argv: tuple[str, ...], option: str, limit: str
) -> None:
    out = tmp_path / "grid.png"
    code, _, err = cli(*argv, "-o", str(out)) if argv[0] != "augment" else cli(*argv)
    assert code == 2
    assert f"argument {option}: must be 1..{limit}, got " in err
    assert "Traceback" not in err and not out.exists()


def test_the_limits_themselves_are_accepted() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["preview", "x.yaml", "--size", "4096", "-n", "256", "--columns", "256"]
    )
    assert (args.size, args.count, args.columns) == (4096, 256, 256)
    args = parser.parse_args(["augment", "s", "d", "--config", "c", "--copies", "100000"])
    assert args.copies == augment.MAX_COPIES
    args = parser.parse_args(
        ["augment", "s", "d", "--config", "c", "--copies", "1", "--quality", "100"]
    )
    assert args.quality == 100
    # A stamp's record takes every count a run can write.
    assert augment.MAX_COPIES <= augment._MAX_RECORDED_COPIES


def test_a_grid_too_large_in_product_is_refused_before_augmenting(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        preview, "preview_rows", _never("augmented before the grid's size was checked")
    )
    out = tmp_path / "grid.png"
    code, _, err = cli("preview", "preset:keras_seed", "--size", "4096", "-o", str(out))
    assert code == 2 and "the grid would be" in err and "(height×width)" in err
    assert "lower -n, --size" in err and not out.exists()
    for i in range(8):  # 8 images x (1 + 256) cells
        _image(tmp_path / "images" / f"{i}.png")
    argv = ("preview", "preset:keras_seed", "--image", str(tmp_path / "images"), "-n", "256")
    code, _, err = cli(*argv, "--size", "1", "-o", str(out))
    assert code == 2 and "2,056 cells, more than 2,048" in err


def test_diff_and_demo_refuse_a_large_grid_before_loading(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "d.png"
    code, stdout, err = cli(
        "diff", "preset:keras_seed", "preset:nope", "--size", "4000", "-o", str(out)
    )
    assert code == 2 and "the grid would be" in err and stdout == "" and not out.exists()
    code, _, err = cli("demo", "--config", "preset:nope", "--size", "2048", "--batch", "64")
    assert code == 2 and "float32 values" in err and "lower --batch, --size or --rounds" in err


def test_diff_lists_its_image_folders_once(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size check before loading and the grid read the same listing of --image."""
    for i in range(3):
        _image(tmp_path / "images" / f"{i}.png")
    listed = []
    image_paths = preview.image_paths

    def counting(*args: object, **kwargs: object) -> preview.ImagePaths:
        listed.append(args)
        return image_paths(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(preview, "image_paths", counting)
    argv = ("diff", "preset:keras_seed", "preset:keras_seed", "-n", "1", "--size", "16")
    code, out, err = cli(*argv, "--image", str(tmp_path / "images"), "-o", str(tmp_path / "d.png"))
    assert code == 0, err
    assert "(3 image(s), A above B" in out and len(listed) == 1


def test_a_grid_is_only_as_wide_as_its_cells() -> None:
    rows = [[grid.Cell(np.zeros((8, 8, 3), np.uint8), "a")] * 2]
    picture = grid.render_grid(rows, cell_size=16, columns=200)
    assert picture.shape[1] == grid.GAP + 2 * (16 + grid.GAP)


def test_render_grid_itself_refuses_too_many_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    from confaug.cli.common import UsageError

    monkeypatch.setattr(grid, "MAX_GRID_CELLS", 3)
    rows = [[grid.Cell(np.zeros((4, 4, 3), np.uint8), "a")] * 4]
    with pytest.raises(UsageError, match="4 cells, more than 3"):
        grid.render_grid(rows, cell_size=8)


# ---- probe-data #8: augment plans copies lazily ----------------------------------------------
def test_the_augment_plan_does_not_hold_a_path_per_copy(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    images = [_image(src / "c" / f"{i}.png") for i in range(3)]
    tracemalloc.start()
    try:
        jobs = augment.plan(src, dst, images, 100_000, "same")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200_000  # a tuple of 100,000 paths per image was tens of MB
    assert jobs[2].output(99_999) == dst / "c" / "2_aug99999.png"
    assert jobs[0].mask_output(0) is None


def test_a_resumed_augment_writes_only_the_missing_copies(cli: Run, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _image(src / "c" / "0.png")
    args = ("augment", str(src), str(dst), "--config", "preset:keras_seed", "-q")
    assert cli(*args, "--copies", "2")[0] == 0
    (dst / "c" / "0_aug0.png").unlink()
    code, out, _ = cli(*args, "--copies", "3")
    assert code == 0 and "2 written, 1 skipped" in out
    assert sorted(p.name for p in (dst / "c").iterdir()) == [f"0_aug{k}.png" for k in range(3)]


# ---- probe-data #16: the summary counts the images copied ------------------------------------
def test_the_augment_summary_does_not_count_failed_images(cli: Run, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _image(src / "c" / "0.png")
    _image(src / "c" / "1.png")
    (src / "c" / "2.png").write_bytes(b"not an image")
    code, out, err = cli("augment", str(src), str(dst), "--config", "preset:keras_seed",
                         "--copies", "1", "-q")  # fmt: skip
    assert code == 1 and "2.png" in err
    assert (
        "2 written, 0 skipped (already there), 1 image(s) failed — 2 of 3 images × 1 copies" in out
    )


# ---- probe-data #17: one size convention, the alpha channel said -----------------------------
def test_the_mask_size_message_says_height_x_width(cli: Run, tmp_path: Path) -> None:
    src, masks = tmp_path / "src", tmp_path / "masks"
    _image(src / "c" / "1.png", 10, 12)
    _image(masks / "c" / "1.png", 20, 24, channels=1)
    code, _, err = cli("augment", str(src), str(tmp_path / "dst"), "--config", "preset:keras_seed",
                       "--copies", "1", "-q", "--mask-dir", str(masks),
                       "--mask-dst", str(tmp_path / "mdst"))  # fmt: skip
    assert code == 1
    assert "image is 10x12 but its mask" in err and "is 20x24 (height x width)" in err


def test_preview_writes_its_size_as_height_x_width(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    code, stdout, _ = cli("preview", "preset:keras_seed", "--sample", "scene", "-n", "1",
                          "--size", "16", "-o", str(out))  # fmt: skip
    height, width = grid.grid_shape([2], cell_size=16, columns=None, title=True)
    assert code == 0 and f"{height}×{width} px (height×width)" in stdout


def test_augment_says_when_it_drops_an_alpha_channel(cli: Run, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _image(src / "c" / "0.png")
    _image(src / "c" / "1.png", channels=4)
    code, out, _ = cli("augment", str(src), str(dst), "--config", "preset:keras_seed",
                       "--copies", "1", "-q")  # fmt: skip
    assert code == 0 and "note: 1 image(s) have an alpha channel" in out and "1.png" in out
    help_text = " ".join(cli("augment", "--help")[1].split())
    assert "alpha channel (transparency) is dropped" in help_text


def test_augment_says_nothing_of_alpha_for_opaque_images(cli: Run, tmp_path: Path) -> None:
    src = tmp_path / "src"
    _image(src / "c" / "0.png")
    _image(src / "c" / "1.png", channels=1)
    code, out, _ = cli("augment", str(src), str(tmp_path / "dst"), "--config",
                       "preset:keras_seed", "--copies", "1", "-q")  # fmt: skip
    assert code == 0 and "alpha" not in out


# ---- probe-configs #15: schema --check ------------------------------------------------------
def test_schema_check_never_offers_to_overwrite_a_config(cli: Run, tmp_path: Path) -> None:
    config = tmp_path / "aug.yaml"
    config.write_text("version: 1\nrotation_range: 10\n", encoding="utf-8")
    code, out, _ = cli("schema", "--check", str(config))
    assert code == 1 and "not confaug's JSON Schema" in out and "schema -o" not in out
    assert config.read_text(encoding="utf-8") == "version: 1\nrotation_range: 10\n"


def test_schema_check_offers_to_regenerate_a_stale_schema(cli: Run, tmp_path: Path) -> None:
    from confaug.spec.schema import json_schema

    stale = tmp_path / "s.json"
    stale.write_text(json.dumps({**json_schema(), "title": "older"}), encoding="utf-8")
    code, out, _ = cli("schema", "--check", str(stale))
    assert code == 1 and f"stale; regenerate with: confaug schema -o {stale}" in out
    missing = tmp_path / "none.json"
    code, out, _ = cli("schema", "--check", str(missing))
    assert code == 1 and f"missing; write it with: confaug schema -o {missing}" in out
    assert cli("schema", "-o", str(stale))[0] == 0
    assert cli("schema", "--check", str(stale))[:2] == (0, f"{stale}: up to date\n")


def test_schema_check_does_not_read_a_large_file(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confaug.sources import file_bytes

    never = _never("read a file that its size shows is no schema")
    monkeypatch.setattr(file_bytes, "read_data_file", never)
    monkeypatch.setattr(Path, "read_text", never)
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(64 * 2**20)  # sparse
    code, out, _ = cli("schema", "--check", str(big))
    assert code == 1 and "not confaug's JSON Schema (67,108,864 bytes" in out


def test_schema_check_of_a_folder_or_fifo_is_an_error_not_a_hint(cli: Run, tmp_path: Path) -> None:
    code, out, err = cli("schema", "--check", str(tmp_path))
    assert code == 1 and "it is a directory" in err and "schema -o" not in out


def test_a_large_grid_is_written_without_pils_slow_optimize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    seen: list[bool] = []
    save = Image.Image.save

    def recording(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        seen.append(bool(kwargs.get("optimize")))
        save(self, fp, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "save", recording)
    picture = np.full((20, 30, 3), 200, np.uint8)
    grid.write_png(str(tmp_path / "small.png"), picture)
    monkeypatch.setattr(grid, "OPTIMIZE_PIXELS", 599)  # 20 x 30 is now "large"
    grid.write_png(str(tmp_path / "large.png"), picture)
    grid.write_png(str(tmp_path / "docs.png"), picture, compact=True)  # docs keep optimize
    assert seen == [True, False, True, True]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "large.png")), picture)


def test_from_keras_refuses_arithmetic_nested_past_the_stack(cli: Run) -> None:
    chain = "+".join(["1"] * 1200)  # parses, but folding it recursed past Python's stack
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: a library imported earlier may raise it
    try:
        code, _, err = cli("from-keras", f"rotation_range={chain}")
    finally:
        sys.setrecursionlimit(limit)
    assert code == 1 and "rotation_range: arithmetic nested too deeply" in err
    assert "Traceback" not in err
    code, out, _ = cli("from-keras", "rotation_range=1+2+3")
    assert code == 0 and "rotation_range: 6" in out


@pytest.mark.parametrize("preset", ["keras_seed", "segmentation", "detection"])
def test_cells_kept_as_tiles_draw_the_same_grid(preset: str) -> None:
    """preview and diff keep each cell as its tile as soon as it is made (a grid of large
    photos held every augmented photo at full size): the grid is the same, pixel for pixel."""
    import confaug

    pipe = confaug.load_pipeline(f"preset:{preset}")
    items = preview.embedded_images(None)[:2]
    options = {"count": 3, "seed": 5, "show_masks": preset == "segmentation"}
    full = preview.preview_rows(pipe, items, **options)
    tiles = preview.preview_rows(pipe, items, cell_size=48, **options)
    assert all(cell.image.shape == (48, 48, 3) for row in tiles for cell in row)
    drawn = [grid.render_grid(rows, cell_size=48, title="t") for rows in (full, tiles)]
    assert np.array_equal(*drawn)
