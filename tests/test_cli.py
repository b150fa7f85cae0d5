"""The ``confaug`` command line: every command in-process, and once as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

import confaug
from confaug import samples
from confaug.cli import build_parser
from tests.conftest import Run

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("demo", "validate", "resolve", "preview", "augment", "schema", "presets", "from-keras")
SEED_KEYWORDS = (
    "rotation_range=15, width_shift_range=0.1, height_shift_range=0.1, shear_range=0.01, "
    "zoom_range=[0.9, 1.25], horizontal_flip=True, vertical_flip=False, fill_mode='reflect', "
    "data_format='channels_last', brightness_range=[0.5, 1.5]"
)
BAD_CONFIG = """\
version: 1
rotation_rang: 15
zoom_range: [1.2, 0.9]
transforms:
  - GaussNoise: {std_range: [0.02, 0.08], p: 1.5}
  - Blurr: {}
"""


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "aug.yaml"
    path.write_text("version: 1\nrotation_range: 10\nhorizontal_flip: true\n", encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG, encoding="utf-8")
    return path


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


# ---- help and exit codes ------------------------------------------------------------------
def test_help_lists_every_command(cli: Run) -> None:
    code, out, _ = cli("--help")
    assert code == 0
    listed = set(re.findall(r"^\s{4}([a-z][a-z-]+)\s", out, flags=re.MULTILINE))
    assert set(COMMANDS) <= listed


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_an_example(cli: Run, command: str) -> None:
    code, out, _ = cli(command, "--help")
    assert code == 0
    assert "example:" in out
    example = out.split("example:", 1)[1]
    assert f"confaug {command}" in example


def test_every_example_parses() -> None:
    parser = build_parser()
    for command in COMMANDS:
        sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
        for line in sub.epilog.splitlines()[1:]:
            words = line.split("#")[0].split(">")[0].split()
            assert words[0] == "confaug"
            parser.parse_args(words[1:])  # raises SystemExit on a stale example


@pytest.mark.parametrize("command", ["validate", "resolve", "preview", "augment", "demo"])
def test_set_is_offered_wherever_a_config_is_read(cli: Run, command: str) -> None:
    _, out, _ = cli(command, "--help")
    assert "--set KEY=VALUE" in out


def test_usage_errors_exit_2(cli: Run) -> None:
    assert cli()[0] == 2
    assert cli("frobnicate")[0] == 2
    assert cli("validate")[0] == 2
    assert cli("preview", "preset:keras_seed", "-n", "0")[0] == 2
    assert cli("--version")[0] == 0


def test_missing_file_is_invalid_input(cli: Run, tmp_path: Path) -> None:
    code, out, _ = cli("validate", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "file not found" in out


# ---- validate ------------------------------------------------------------------------------
def test_validate_ok(cli: Run, good: Path) -> None:
    code, out, _ = cli("validate", str(good), "preset:keras_seed")
    assert code == 0
    assert f"{good}: ok" in out
    assert "2 valid, 0 invalid" in out


def test_validate_prints_every_problem_with_position(cli: Run, bad: Path) -> None:
    code, out, _ = cli("validate", str(bad))
    assert code == 1
    lines = out.splitlines()
    assert f"{bad}:2:1: rotation_rang: unknown key (did you mean 'rotation_range'?)" in lines
    assert any(line.startswith(f"{bad}:3:13: zoom_range: ") for line in lines)
    assert any(line.startswith(f"{bad}:5:46: transforms.0.GaussNoise.p: ") for line in lines)
    assert any(
        line.startswith(f"{bad}:6:5: transforms.1.Blurr: unknown transform") for line in lines
    )


def test_validate_json(cli: Run, bad: Path, good: Path) -> None:
    code, out, _ = cli("validate", str(bad), str(good), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["valid"] is False
    first, second = report["files"]
    assert first["valid"] is False and second["valid"] is True
    assert len(first["problems"]) == 4
    assert first["problems"][0] == {
        "file": str(bad),
        "line": 2,
        "column": 1,
        "field": "rotation_rang",
        "message": "unknown key",
        "hint": "did you mean 'rotation_range'?",
    }


def test_validate_set_overrides(cli: Run, good: Path) -> None:
    code, out, _ = cli("validate", str(good), "--set", "rotation_range=-1")
    assert code == 1
    assert "rotation_range=-1" in out and "must be ≥ 0" in out
    assert (
        cli("validate", str(good), "--set", "rotation_range=30", "--set", "zoom_range=[0.8, 1.2]")[
            0
        ]
        == 0
    )
    code, out, _ = cli("validate", str(good), "--set", "rotation_range")
    assert code == 1 and "key=value" in out


def test_validate_reports_compile_errors_at_their_line(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "crop.yaml"
    path.write_text(
        "version: 1\ntransforms:\n  - RandomCrop: {height: 64, width: 64}\n", encoding="utf-8"
    )
    assert (
        cli("validate", str(path))[0] == 0
    )  # valid until it meets a too-small image: not a config error
    path.write_text(
        "version: 1\ntransforms:\n  - RandomCrop: {height: -4, width: 64}\n", encoding="utf-8"
    )
    code, out, _ = cli("validate", str(path))
    assert code == 1
    assert out.startswith(f"{path}:3:")


def test_import_registers_preprocessing_function(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "cli_test_functions.py"
    module.write_text(
        "import confaug\nconfaug.register('cli_test_fn', lambda x: x)\n", encoding="utf-8"
    )
    config = tmp_path / "fn.yaml"
    config.write_text("version: 1\npreprocessing_function: cli_test_fn\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    try:
        code, out, _ = cli("validate", str(config))
        assert code == 1 and "no function is registered as 'cli_test_fn'" in out
        assert cli("validate", str(config), "--import", "cli_test_functions")[0] == 0
        assert cli("validate", str(config), "--import", "no_such_module_here")[0] == 2
    finally:
        confaug.unregister("cli_test_fn")
        sys.modules.pop("cli_test_functions", None)


# ---- resolve -------------------------------------------------------------------------------
def test_resolve_round_trips(cli: Run, tmp_path: Path) -> None:
    code, out, _ = cli("resolve", "preset:classification_medium", "--set", "rotation_range=5")
    assert code == 0
    assert out.startswith(
        "# resolved by confaug from: preset:classification_medium -> preset:classification_light"
    )
    data = yaml.safe_load(out)
    assert data["rotation_range"] == 5
    assert data["fill_mode"] == "reflect"  # inherited from classification_light
    assert data["interpolation"] == "bilinear"  # a default, filled in
    expected = confaug.load_spec("preset:classification_medium", overrides=["rotation_range=5"])
    assert confaug.load_spec(data) == expected
    saved = tmp_path / "resolved.yaml"
    assert (
        cli(
            "resolve", "preset:classification_medium", "--set", "rotation_range=5", "-o", str(saved)
        )[0]
        == 0
    )
    assert confaug.load_spec(str(saved)) == expected


def test_resolve_set_only_leaves_defaults_out(cli: Run) -> None:
    _, out, _ = cli("resolve", "preset:keras_seed", "--set-only")
    data = yaml.safe_load(out)
    assert "interpolation" not in data and "cval" not in data
    assert data["rotation_range"] == 15


def test_fingerprint_is_stable_and_sensitive(cli: Run, tmp_path: Path) -> None:
    code, out, _ = cli("resolve", "preset:keras_seed", "--fingerprint")
    assert code == 0
    assert re.fullmatch(r"sha256:[0-9a-f]{64} albumentations==2\.0\.8 confaug==\S+\n", out)
    # The same spec written differently (flattened, keys reordered, comments) → same hash.
    data = yaml.safe_load(Path(confaug.resources.preset_path("keras_seed")).read_text())
    flat = tmp_path / "flat.yaml"
    flat.write_text(
        "# mine\n" + yaml.safe_dump(dict(reversed(list(data.items())))), encoding="utf-8"
    )
    assert cli("resolve", str(flat), "--fingerprint")[1] == out
    # Explicit defaults do not change what runs, so they do not change the hash either.
    assert cli("resolve", str(flat), "--fingerprint", "--set", "cval=0.0")[1] == out
    assert cli("resolve", str(flat), "--fingerprint", "--set", "rotation_range=16")[1] != out


# ---- preview -------------------------------------------------------------------------------
def _png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_preview_embedded_samples(cli: Run, tmp_path: Path) -> None:
    out_path = tmp_path / "grid.png"
    code, out, _ = cli(
        "preview", "preset:keras_seed", "-n", "3", "--size", "64", "-o", str(out_path)
    )
    assert code == 0 and "wrote" in out
    grid = _png(out_path)
    rows = len(samples.names())
    # title 26 px, then per image one line of 4 cells: 64 px + 18 px caption + 4 px gap.
    assert grid.shape == (26 + rows * (64 + 18 + 4) + 4, 4 + 4 * (64 + 4), 3)


def test_diff_takes_images_as_preview_does(cli: Run, tmp_path: Path) -> None:
    """diff's --image takes several files after one flag and folders, within --max-images,
    and says when it left some out: the same reading as preview's."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        cv2.imwrite(str(folder / name), cv2.cvtColor(samples.load("scene"), cv2.COLOR_RGB2BGR))
    out_path = tmp_path / "diff.png"
    common = ("diff", "preset:keras_seed", "preset:keras_seed", "-n", "1", "--size", "32")
    code, out, err = cli(*common, "--image", str(folder), "-o", str(out_path))
    assert code == 0, err
    assert "(3 image(s), A above B" in out and "showing the first" not in out
    rows = _png(out_path).shape[0]
    files = [str(folder / "a.png"), str(folder / "b.png")]
    code, out, err = cli(*common, "--image", *files, "-o", str(out_path))
    assert code == 0, err
    assert "(2 image(s)" in out
    assert _png(out_path).shape[0] < rows
    code, out, err = cli(*common, "--image", str(folder), "--max-images", "2", "-o", str(out_path))
    assert code == 0, err
    assert "(2 image(s)" in out and "showing the first 2 of 3 images" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = cli(*common, "--image", str(empty), "-o", str(out_path))
    assert code == 1 and "no images in this folder" in err


def test_preview_is_seeded(cli: Run, tmp_path: Path) -> None:
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    args = ("preview", "preset:keras_seed", "--sample", "scene", "-n", "4", "--size", "48")
    cli(*args, "--seed", "1", "-o", str(paths[0]))
    cli(*args, "--seed", "1", "-o", str(paths[1]))
    cli(*args, "--seed", "2", "-o", str(paths[2]))
    assert np.array_equal(_png(paths[0]), _png(paths[1]))
    assert not np.array_equal(_png(paths[0]), _png(paths[2]))


def test_preview_user_images_and_errors(cli: Run, tmp_path: Path) -> None:
    image = tmp_path / "cat.jpg"
    cv2.imwrite(str(image), cv2.cvtColor(samples.load("scene"), cv2.COLOR_RGB2BGR))
    out_path = tmp_path / "grid.png"
    code, _, _ = cli(
        "preview",
        "preset:keras_seed",
        "--image",
        str(image),
        "--image",
        str(image),
        "-n",
        "2",
        "--size",
        "40",
        "-o",
        str(out_path),
    )
    assert code == 0
    assert _png(out_path).shape[:2] == (26 + 2 * (40 + 18 + 4) + 4, 4 + 3 * 44)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    code, _, err = cli("preview", "preset:keras_seed", "--image", str(broken), "-o", str(out_path))
    assert code == 1 and "broken.jpg: cannot decode image" in err
    assert cli("preview", "preset:keras_seed", "--image", str(image), "--sample", "scene")[0] == 2


def test_preview_detection_draws_boxes(cli: Run, tmp_path: Path) -> None:
    out_path = tmp_path / "boxes.png"
    assert (
        cli("preview", "preset:detection", "--sample", "shapes", "-n", "1", "-o", str(out_path))[0]
        == 0
    )
    assert (
        cli(
            "preview",
            "preset:detection",
            "--sample",
            "shapes",
            "-n",
            "1",
            "--set",
            "bbox_params.format=yolo",
            "-o",
            str(out_path),
        )[0]
        == 0
    )


# ---- augment -------------------------------------------------------------------------------
@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    src = tmp_path / "data"
    for folder, names in (("cats", ("scene", "shapes")), ("dogs", ("checkerboard", "medical"))):
        (src / folder).mkdir(parents=True)
        for name in names:
            image = samples.load(name)
            small = cv2.resize(image, (64, 48))
            if small.ndim == 3:
                small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(src / folder / f"{name}.png"), small)
    (src / "notes.txt").write_text("not an image")
    return src


def test_augment_expands_resumes_and_reports(cli: Run, dataset: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out"
    code, out, err = cli(
        "augment",
        str(dataset),
        str(dst),
        "--config",
        "preset:keras_seed",
        "--copies",
        "2",
        "--workers",
        "1",
    )
    assert code == 0, err
    written = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*.png"))
    assert written == [
        f"{folder}/{name}_aug{k}.png"
        for folder, name in [
            ("cats", "scene"),
            ("cats", "shapes"),
            ("dogs", "checkerboard"),
            ("dogs", "medical"),
        ]
        for k in (0, 1)
    ]
    assert "8 written, 0 skipped" in out and "1 non-image file(s) ignored" in out
    assert "100%" in err  # the progress bar
    gray = cv2.imread(str(dst / "dogs/medical_aug0.png"), cv2.IMREAD_UNCHANGED)
    assert gray.shape == (48, 64)  # grayscale stays grayscale, size kept
    before = {p: p.stat().st_mtime_ns for p in dst.rglob("*.png")}
    # Resume with more copies: only the new ones are written.
    (dataset / "cats" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    code, out, err = cli(
        "augment", str(dataset), str(dst), "--config", "preset:keras_seed", "--copies", "3", "-q"
    )
    assert code == 1
    assert "4 written, 8 skipped" in out and "1 image(s) failed" in out
    assert "broken.jpg" in err and "cannot decode" in err
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    assert len(list(dst.rglob("*_aug2.png"))) == 4


def test_augment_takes_linked_folders_and_names_one_it_cannot_list(
    cli: Run, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A class folder that is a link is copied as flow_from_directory reads it (it was left
    out without a word); a loop of links is walked once; a folder that cannot be listed
    stops the run naming it, instead of its images going missing."""
    elsewhere = tmp_path / "birds"
    elsewhere.mkdir()
    cv2.imwrite(str(elsewhere / "owl.png"), np.zeros((8, 8, 3), np.uint8))
    (dataset / "birds").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "loop").symlink_to(dataset, target_is_directory=True)
    dst = tmp_path / "out"
    args = ("augment", str(dataset), str(dst), "--config", "preset:keras_seed", "--copies", "1")
    code, _, err = cli(*args, "-q")
    assert code == 0, err
    written = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*.png"))
    assert "birds/owl_aug0.png" in written and len(written) == 5
    scandir = os.scandir

    def refusing(path: Any) -> Any:
        if str(path).endswith("dogs"):
            raise PermissionError(13, "Permission denied")
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    code, _, err = cli(*args, "-q", "--overwrite")
    assert code == 1 and "dogs" in err and "cannot list directory" in err


def test_augment_same_files_for_any_worker_count(cli: Run, dataset: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert (
        cli(
            "augment",
            str(dataset),
            str(one),
            "--config",
            "preset:classification_medium",
            "--copies",
            "2",
            "--workers",
            "1",
            "-q",
        )[0]
        == 0
    )
    assert (
        cli(
            "augment",
            str(dataset),
            str(two),
            "--config",
            "preset:classification_medium",
            "--copies",
            "2",
            "--workers",
            "2",
            "-q",
        )[0]
        == 0
    )
    files = sorted(p.relative_to(one) for p in one.rglob("*.png"))
    assert files and files == sorted(p.relative_to(two) for p in two.rglob("*.png"))
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    copies = [cv2.imread(str(one / f"cats/scene_aug{k}.png")) for k in range(2)]
    assert not np.array_equal(*copies)  # copies differ from each other


def test_augment_refuses_bad_paths(cli: Run, dataset: Path, tmp_path: Path) -> None:
    def augment(src: Path, dst: Path, copies: str = "1") -> tuple[int, str, str]:
        return cli(
            "augment", str(src), str(dst), "--config", "preset:keras_seed", "--copies", copies
        )

    code, _, err = augment(dataset, dataset / "cats" / "aug")
    assert code == 2 and "inside SRC" in err
    assert augment(dataset, dataset)[0] == 2
    code, _, err = augment(tmp_path / "missing", tmp_path / "o")
    assert code == 2 and f"SRC {tmp_path / 'missing'} is not a folder" in err
    assert augment(dataset, tmp_path / "o", copies="0")[0] == 2
    assert not (dataset / "cats" / "aug").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = augment(empty, tmp_path / "o")
    assert code == 1 and f"no image files under {empty}" in err


# ---- schema, presets, from-keras, demo ---------------------------------------------------
def test_schema(cli: Run, tmp_path: Path) -> None:
    from confaug.spec.schema import schema_text

    code, out, _ = cli("schema")
    assert code == 0 and out == schema_text()
    path = tmp_path / "s" / "confaug.schema.json"
    assert cli("schema", "-o", str(path))[0] == 0
    assert json.loads(path.read_text())["title"] == "confaug augmentation spec"
    assert cli("schema", "--check", str(path))[0] == 0
    path.write_text(path.read_text().replace("reflect", "reflekt"))
    assert cli("schema", "--check", str(path))[0] == 1


def test_presets_list_and_show(cli: Run) -> None:
    code, out, _ = cli("presets")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == confaug.resources.preset_names()
    assert (
        "keras_seed             "
        "The seed project's Keras ImageDataGenerator config, keyword for keyword." in out
    )
    code, out, _ = cli("presets", "show", "aerial")
    shipped = confaug.resources.preset_path("aerial").read_text().splitlines(keepends=True)
    assert code == 0 and out.splitlines(keepends=True)[1:] == shipped[1:]  # only line 1 differs
    code, _, err = cli("presets", "show", "aeriel")
    assert code == 2 and "did you mean 'aerial'" in err


MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")


def _schema_of(config: Path) -> Path:
    """The file the config's first line points editors at, resolved as they resolve it."""
    match = MODELINE.match(config.read_text(encoding="utf-8"))
    assert match, f"{config}: first line is not a schema modeline"
    return (config.parent / match.group(1)).resolve()


def _show_examples(cli: Run) -> list[tuple[list[str], str, str]]:
    """The example pairs of `presets show --help`: (show argv, config file, schema file)."""
    code, out, _ = cli("presets", "show", "--help")
    assert code == 0
    lines = [line.strip() for line in out.split("example:\n", 1)[1].splitlines() if line.strip()]
    pairs = []
    for show, schema in zip(lines[::2], lines[1::2], strict=True):
        argv, _, config = show.partition(" > ")
        assert schema.startswith("confaug schema -o "), schema
        pairs.append((argv.split()[1:], config, schema.split()[-1]))
    return pairs


def test_presets_show_points_at_the_schema_the_help_says_to_write(cli: Run, in_tmp: Path) -> None:
    examples = _show_examples(cli)
    assert examples[0] == (["presets", "show", "segmentation"], "aug.yaml", "confaug.schema.json")
    assert any("--schema" in argv for argv, _, _ in examples)
    for argv, config, schema in examples:
        code, out, _ = cli(*argv)
        assert code == 0
        (in_tmp / config).parent.mkdir(parents=True, exist_ok=True)
        (in_tmp / config).write_text(out, encoding="utf-8")
        assert cli("schema", "-o", schema)[0] == 0
        assert _schema_of(in_tmp / config) == (in_tmp / schema).resolve()
        assert cli("validate", config)[0] == 0
        assert cli("schema", "--check", str(_schema_of(in_tmp / config)))[0] == 0


@pytest.mark.parametrize("name", confaug.resources.preset_names())
def test_every_shown_preset_satisfies_the_schema_it_points_at(
    cli: Run, in_tmp: Path, name: str
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    (in_tmp / "aug.yaml").write_text(cli("presets", "show", name)[1], encoding="utf-8")
    schema = in_tmp / "confaug.schema.json"
    assert cli("schema", "-o", "confaug.schema.json")[0] == 0
    assert _schema_of(in_tmp / "aug.yaml") == schema
    data = yaml.safe_load((in_tmp / "aug.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(schema.read_text(encoding="utf-8")))
    assert cli("validate", "aug.yaml")[0] == 0


def test_presets_show_schema_and_no_modeline(cli: Run) -> None:
    shipped = confaug.resources.preset_path("detection").read_text()
    body = shipped.split("\n", 1)[1]
    for where in ("../schemas/confaug.schema.json", "https://example.org/confaug.schema.json"):
        code, out, _ = cli("presets", "show", "detection", "--schema", where)
        assert code == 0 and out == f"# yaml-language-server: $schema={where}\n{body}"
    code, out, _ = cli("presets", "show", "preset:detection", "--no-modeline")
    assert code == 0 and out == body and "yaml-language-server" not in out
    assert confaug.load_spec(yaml.safe_load(out)) == confaug.load_spec("preset:detection")
    assert cli("presets", "show", "detection", "--schema", "my schemas/s.json")[0] == 2
    assert cli("presets", "show", "detection", "--schema", "")[0] == 2
    assert cli("presets", "show", "detection", "--schema", "s.json", "--no-modeline")[0] == 2


def test_presets_show_adds_the_modeline_a_preset_lacks(cli: Run, presets: Path) -> None:
    (presets / "bare.yaml").write_text("# A preset without a modeline.\nversion: 1\n")
    code, out, _ = cli("presets", "show", "bare")
    assert code == 0
    assert out == (
        "# yaml-language-server: $schema=confaug.schema.json\n"
        "# A preset without a modeline.\nversion: 1\n"
    )
    assert cli("presets", "show", "bare", "--no-modeline")[1] == (presets / "bare.yaml").read_text()


def test_quickstart_preset_copy_points_at_the_schema_it_writes(cli: Run, in_tmp: Path) -> None:
    text = (ROOT / "docs" / "readme" / "quickstart-cli.md").read_text(encoding="utf-8")
    show = re.search(r"^\$ confaug (presets show \S+) > (\S+)$", text, flags=re.MULTILINE)
    schema = re.search(r"^\$ confaug (schema -o \S+)", text, flags=re.MULTILINE)
    assert show and schema, "the quick start copies a preset and writes the schema"
    (in_tmp / show.group(2)).write_text(cli(*show.group(1).split())[1], encoding="utf-8")
    assert cli(*schema.group(1).split())[0] == 0
    assert _schema_of(in_tmp / show.group(2)) == (in_tmp / schema.group(1).split()[-1]).resolve()


def test_presets_path_and_unknown_name(cli: Run) -> None:
    code, out, _ = cli("presets", "path", "preset:aerial")
    assert code == 0 and out == f"{confaug.resources.preset_path('aerial')}\n"
    code, out, err = cli("presets", "path", "zzz")
    assert code == 2 and out == ""
    assert err == "confaug presets: error: no preset named 'zzz'; see 'confaug presets'\n"


@pytest.mark.parametrize(
    "argv",
    [
        ("resolve", "preset:keras_seed"),
        ("from-keras", "rotation_range=3"),
        ("schema",),
    ],
)
def test_output_option_writes_the_printed_text(cli: Run, tmp_path: Path, argv: tuple) -> None:
    code, printed, _ = cli(*argv)
    assert code == 0
    target = tmp_path / "new" / "folder" / "out.txt"
    code, out, _ = cli(*argv, "-o", str(target))
    assert code == 0 and out == f"wrote {target}\n"
    assert target.read_text(encoding="utf-8") == printed


@pytest.mark.parametrize(
    "argv",
    [
        ("resolve", "preset:keras_seed", "-o"),
        ("schema", "-o"),
        ("preview", "preset:keras_seed", "-n", "1", "--sample", "scene", "-o"),
    ],
)
def test_output_to_a_folder_is_an_error_naming_it(cli: Run, tmp_path: Path, argv: tuple) -> None:
    code, _, err = cli(*argv, str(tmp_path))
    assert code == 1
    assert err == f"confaug {argv[0]}: error: [Errno 21] Is a directory: '{tmp_path}'\n"


def test_from_keras_matches_the_seed_preset(cli: Run) -> None:
    code, out, _ = cli("from-keras", SEED_KEYWORDS)
    assert code == 0
    assert confaug.load_spec(yaml.safe_load(out)) == confaug.load_spec("preset:keras_seed")
    code, out, _ = cli(
        "from-keras", "ImageDataGenerator(rotation_range=15,", "horizontal_flip=True, rescale=None)"
    )
    assert code == 0 and yaml.safe_load(out) == {
        "version": 1,
        "rotation_range": 15,
        "horizontal_flip": True,
        "rescale": None,
    }


def test_from_keras_modeline_points_at_a_schema_the_user_writes(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("from-keras", "rotation_range=5", "--modeline")
    first = out.splitlines()[0]
    assert code == 0 and first == "# yaml-language-server: $schema=confaug.schema.json"
    assert cli("schema", "-o", "confaug.schema.json")[0] == 0
    assert (tmp_path / first.split("$schema=")[1]).is_file()
    code, out, _ = cli("from-keras", "rotation_range=5", "--schema", "../s/confaug.schema.json")
    assert out.startswith("# yaml-language-server: $schema=../s/confaug.schema.json\n")
    assert yaml.safe_load(out) == {"version": 1, "rotation_range": 5}
    assert cli("from-keras", "rotation_range=5", "--schema", "a b.json")[0] == 2


def test_from_keras_never_evaluates(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("from-keras", "rotation_range=__import__('os').system('touch PWNED')")
    assert code == 1 and "not a Python literal" in err
    assert not (tmp_path / "PWNED").exists()
    code, _, err = cli("from-keras", "rotaton_range=3")
    assert code == 1 and "did you mean 'rotation_range'" in err
    assert cli("from-keras", "15")[0] == 1
    code, out, _ = cli("from-keras", "preprocessing_function=my_fn, rotation_range=3")
    assert code == 0 and "confaug.register('my_fn'" in out
    assert yaml.safe_load(out)["preprocessing_function"] == "my_fn"
    assert confaug.registry.lookup("my_fn") is None  # the placeholder is gone


def test_demo_in_process(cli: Run, tmp_path: Path) -> None:
    out_path = tmp_path / "demo.png"
    code, out, _ = cli("demo", "--size", "64", "--rounds", "2", "-o", str(out_path))
    assert code == 0
    assert re.search(r"^x \(4, 64, 64, 3\) float32 [0-9.e-]+ [0-9.e-]+$", out, flags=re.MULTILINE)
    assert "y (4, 4) float32 0.0 1.0" in out
    assert _png(out_path).shape[1] == 4 + 3 * (160 + 4)


def test_demo_channels_first(cli: Run, tmp_path: Path) -> None:
    out_path = tmp_path / "demo.png"
    code, out, _ = cli(
        "demo",
        "--size",
        "32",
        "--batch",
        "2",
        "--set",
        "data_format=channels_first",
        "-o",
        str(out_path),
    )
    assert code == 0 and "x (2, 3, 32, 32) float32" in out
    assert _png(out_path).shape[1] == 4 + 6 * (160 + 4)  # the original, then 5 rounds


def test_module_entry_point_runs_the_readme_first_command(tmp_path: Path) -> None:
    """`python -m confaug.cli demo` on a clean working directory: the README's first command."""
    result = subprocess.run(
        [sys.executable, "-m", "confaug.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NO_ALBUMENTATIONS_UPDATE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "x (4, 400, 400, 3) float32" in result.stdout
    assert (tmp_path / "confaug-demo.png").stat().st_size > 10_000
    bad = subprocess.run(
        [sys.executable, "-m", "confaug.cli", "validate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert bad.returncode == 2


def test_progress_bar_on_a_terminal() -> None:
    import io

    from confaug.cli.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with Progress(4, label="augment", unit="files", stream=stream, interval=0.0) as bar:
        bar.advance(2)
        bar.write("error: x.jpg: cannot decode image (skipped)")
        bar.advance(2)
    text = stream.getvalue()
    assert "\r" in text and text.endswith("\n")
    assert "error: x.jpg: cannot decode image (skipped)\n" in text
    assert "augment 100% |" in text and "4/4 files" in text
    quiet = Terminal()
    with Progress(3, stream=quiet, enabled=False) as bar:
        bar.advance(3)
    assert quiet.getvalue() == ""


def test_from_keras_folds_constant_arithmetic_and_takes_a_pasted_line(cli: Run) -> None:
    code, out, err = cli("from-keras", "rescale=1./255, rotation_range=15, zoom_range=[1-0.2, 1.2]")
    assert code == 0, err
    data = yaml.safe_load(out)
    assert data["rescale"] == pytest.approx(1 / 255)
    assert data["zoom_range"] == pytest.approx([0.8, 1.2])
    line = "datagen = ImageDataGenerator(rescale=1/255.0, horizontal_flip=True)"
    code, out, err = cli("from-keras", line)
    assert code == 0, err
    assert yaml.safe_load(out)["horizontal_flip"] is True


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10**10**10", "power"),
        ("2**1000", "power"),
        ("1/0", "division by zero"),
        ("1e308*10", "limited"),
        ("'a'*3", "numbers only"),
        ("abs(-1)", "not a Python literal"),
    ],
)
def test_from_keras_arithmetic_is_bounded_and_never_runs_code(
    cli: Run, value: str, reason: str
) -> None:
    code, _, err = cli("from-keras", f"rescale={value}")
    assert code == 1 and reason in err, err
    assert "rescale" in err


def test_diff_names_each_changed_key_down_to_the_step_parameter() -> None:
    from confaug.cli.diff import MISSING, changes

    old = {"rotation_range": 15, "transforms": [{"GaussNoise": {"p": 0.3}}, {"ToGray": {}}]}
    new = {"rotation_range": 15, "transforms": [{"GaussNoise": {"p": 0.5}}, {"CLAHE": {}}, "X"]}
    assert list(changes(old, new)) == [
        ("transforms.0.GaussNoise.p", 0.3, 0.5),
        ("transforms.1", {"ToGray": {}}, {"CLAHE": {}}),
        ("transforms.2", MISSING, "X"),
    ]
    assert list(changes(old, old)) == []
    assert list(changes({"a": 1}, {"a": 1.0})) == [("a", 1, 1.0)]  # types matter in a spec


def test_diff_of_two_configs_in_text_json_and_exit_code(cli: Run, tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("version: 1\nrotation_range: 10\n")
    child = tmp_path / "child.yaml"
    child.write_text("version: 1\nextends: base.yaml\ntransforms:\n  - GaussNoise: {p: 0.2}\n")
    code, out, err = cli("diff", str(base), str(child))
    assert code == 0, err
    assert "rotation_range" not in out  # inherited: the same once resolved
    assert "transforms.0: (absent) -> " in out and '"GaussNoise"' in out
    assert cli("diff", str(base), str(child), "--exit-code")[0] == 1
    code, out, _ = cli("diff", str(base), str(base), "--exit-code")
    assert code == 0 and out.startswith("no difference")
    code, out, _ = cli(
        "diff", str(base), str(base), "--set", "rotation_range=30", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["changes"] == [{"key": "rotation_range", "old": 10, "new": 30}]


def test_diff_writes_both_configs_previews_with_the_same_seeds(cli: Run, tmp_path: Path) -> None:
    from PIL import Image

    out_path = tmp_path / "diff.png"
    args = ("diff", "preset:keras_seed", "preset:keras_seed", "--sample", "scene", "-n", "2")
    code, out, err = cli(*args, "--size", "32", "-o", str(out_path))
    assert code == 0, err
    assert "wrote" in out
    same = np.asarray(Image.open(out_path))
    # Identical configs give identical rows: the B row repeats the A row, captions aside.
    step = 32 + 18 + 4
    top = 26
    row_a = same[top : top + 32]
    row_b = same[top + step : top + step + 32]
    assert np.array_equal(row_a, row_b)
    code, _, err = cli(*args, "--size", "32", "-o", str(out_path), "--set", "rotation_range=90")
    assert code == 0, err
    changed = np.asarray(Image.open(out_path))
    assert np.array_equal(changed[top : top + 32], row_a)  # A is untouched by --set
    assert not np.array_equal(changed[top + step : top + step + 32], row_b)
    assert cli("diff", "preset:keras_seed", "preset:nope")[0] == 1
