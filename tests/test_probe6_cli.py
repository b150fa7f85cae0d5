"""The CLI's findings of probe-adapters6: ``--import`` failures as one line (exit 2), ``-o``
of ``preview``/``diff`` never over their own inputs, ``-`` as stdout for text and refused
elsewhere, and ``presets show NAME`` of an unknown preset as a usage error."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Run
from tests.helpers import save_image

CONFIG = "version: 1\nhorizontal_flip: true\n"


@pytest.fixture
def aug(in_tmp: Path) -> Path:
    path = in_tmp / "aug.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def images(in_tmp: Path) -> Path:
    folder = in_tmp / "src"
    for index in range(2):
        save_image(folder / "a" / f"{index}.png", np.full((8, 8, 3), 40 * index, np.uint8))
    return folder


@pytest.fixture
def forget_modules() -> Iterator[None]:
    """The modules a test writes (``cli6_*``) are dropped again, so tests do not see each
    other's."""
    yield
    for name in [name for name in sys.modules if name.startswith("cli6_")]:
        sys.modules.pop(name, None)


# ---- #6 --import ------------------------------------------------------------------------------
MODULES = {
    "cli6_raises": (
        'x = 1\nraise RuntimeError("boom at import")\n',
        "cli6_raises.py:2: RuntimeError: boom at import",
    ),
    "cli6_broken": ("def f(:\n", "cli6_broken.py:1: SyntaxError: invalid syntax"),
    # raised inside confaug, but the user's call is the line to show
    "cli6_registers": (
        "import confaug\nconfaug.register(123, print)\n",
        "cli6_registers.py:2: ValueError: a registered name must be an identifier",
    ),
    "cli6_needs": ("import cli6_no_such_dependency\n", "cli6_needs.py:1: ModuleNotFoundError"),
}


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize(
    "argv",
    [
        ("validate", "aug.yaml"),
        ("validate", "aug.yaml", "--format", "json"),
        ("resolve", "aug.yaml"),
        ("preview", "aug.yaml", "-n", "1", "--size", "16", "-o", "p.png"),
        ("diff", "aug.yaml", "aug.yaml"),
        ("augment", "src", "dst", "--config", "aug.yaml", "--copies", "1"),
        ("demo", "--size", "16"),
    ],
)
def test_a_failing_import_is_one_line_naming_the_module(
    cli: Run, aug: Path, images: Path, forget_modules: None, name: str, argv: tuple[str, ...]
) -> None:
    text, expected = MODULES[name]
    (aug.parent / f"{name}.py").write_text(text, encoding="utf-8")
    code, out, err = cli(*argv, "--import", name)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"error: --import {name}: {expected}" in err
    assert "bug in confaug" not in out + err
    assert not (aug.parent / "dst").exists() and not (aug.parent / "p.png").exists()


def test_sys_exit_at_import_does_not_end_confaug_with_its_code(
    cli: Run, aug: Path, forget_modules: None
) -> None:
    (aug.parent / "cli6_exits.py").write_text("import sys\nsys.exit(5)\n", encoding="utf-8")
    code, _, err = cli("validate", "aug.yaml", "--import", "cli6_exits")
    assert code == 2
    assert "--import cli6_exits: the module called sys.exit(5)" in err


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "--import needs a module name"),
        (".rel", "relative module names cannot be imported"),
        ("cli6_prints.py", "give a module name, not a file: --import cli6_prints"),
        ("./cli6_prints.py", "give a module name, not a file: --import cli6_prints"),
        ("pkg/mod.py", "give a module name, not a file: --import pkg.mod"),
        ("/abs/where/mod.py", "--import mod, run from its folder"),
    ],
)
def test_a_name_that_is_no_module_is_refused_before_anything_runs(
    cli: Run, aug: Path, forget_modules: None, given: str, expected: str
) -> None:
    # x.py was imported as module x (running it) before failing on "x.py"
    (aug.parent / "cli6_prints.py").write_text("print('ran cli6_prints')\n", encoding="utf-8")
    code, out, err = cli("validate", "aug.yaml", "--import", given)
    assert code == 2
    assert expected in err and err.count("\n") == 1
    assert "ran cli6_prints" not in out
    assert "bug in confaug" not in out + err


def test_a_working_import_still_runs(cli: Run, aug: Path, forget_modules: None) -> None:
    (aug.parent / "cli6_ok.py").write_text("print('ran cli6_ok')\n", encoding="utf-8")
    code, out, _ = cli("validate", "aug.yaml", "--import", "cli6_ok")
    assert code == 0 and "ran cli6_ok" in out
    assert cli("validate", "aug.yaml", "--import", "cli6_no_such_module")[0] == 2


OUT = ("-o", "src/a/../a/1.png")
MASK_DST = ("--mask-dir", "src", "--mask-dst", "-")


# ---- #8 preview / diff -o over their inputs -------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("preview", "aug.yaml", "--image", "src", "-o", "src/a/0.png"), "is inside --image src"),
        (("preview", "aug.yaml", "--image", "src", "-o", "src/new.png"), "is inside --image src"),
        (
            ("preview", "aug.yaml", "--image", "src/a/0.png", "-o", "./src/a/0.png"),
            "is --image src/a/0.png: it would be written over",
        ),
        (
            ("preview", "aug.yaml", "--image", "src/a/0.png", "--mask", "src/a/1.png", *OUT),
            "is --mask src/a/1.png",
        ),
        (("diff", "aug.yaml", "aug.yaml", "--image", "src", "-o", "src/a/1.png"), "inside --image"),
    ],
)
def test_the_grid_is_not_written_over_its_inputs(
    cli: Run, aug: Path, images: Path, argv: tuple[str, ...], message: str
) -> None:
    before = {path: path.read_bytes() for path in images.rglob("*.png")}
    code, _, err = cli(*argv, "-n", "1", "--size", "16")
    assert code == 2
    assert message in err
    assert {path: path.read_bytes() for path in images.rglob("*.png")} == before


def test_the_grid_is_not_written_through_a_link_to_an_input(
    cli: Run, aug: Path, images: Path
) -> None:
    link = aug.parent / "link.png"
    link.symlink_to(images / "a" / "0.png")
    before = (images / "a" / "0.png").read_bytes()
    code, _, err = cli("preview", "aug.yaml", "--image", "link.png", "-o", "src/a/0.png")
    assert code == 2 and "it would be written over" in err
    assert (images / "a" / "0.png").read_bytes() == before
    # beside the inputs, a grid is written as before
    assert cli("preview", "aug.yaml", "--image", "src", "-n", "1", "--size", "16")[0] == 0


# ---- #9 "-" ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ("resolve", "aug.yaml"),
        ("schema",),
        ("from-keras", "rotation_range=10"),
    ],
)
def test_dash_output_of_text_is_stdout(cli: Run, aug: Path, argv: tuple[str, ...]) -> None:
    code, printed, _ = cli(*argv)
    assert code == 0
    code, out, _ = cli(*argv, "-o", "-")
    assert code == 0
    assert out == printed and "wrote" not in out
    assert not (aug.parent / "-").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("preview", "aug.yaml", "-o", "-"), "-o -: the grid is an image"),
        (("diff", "aug.yaml", "aug.yaml", "-o", "-"), "-o -: the grid is an image"),
        (("demo", "-o", "-"), "-o -: the grid is an image"),
        (("resolve", "-"), "config -: configs are not read from stdin"),
        (("validate", "aug.yaml", "-"), "config -: configs are not read from stdin"),
        (("diff", "-", "aug.yaml"), "config -: configs are not read from stdin"),
        (("preview", "-"), "config -: configs are not read from stdin"),
        (("augment", "src", "d", "--config", "-", "--copies", "1"), "config -: "),
        (("augment", "src", "-", "--config", "aug.yaml", "--copies", "1"), "DST -: "),
        (
            ("augment", "src", "d", "--config", "aug.yaml", "--copies", "1", *MASK_DST),
            "--mask-dst -: ",
        ),
        (("schema", "--check", "-"), "--check -: stdin is not read"),
    ],
)
def test_dash_elsewhere_is_refused(
    cli: Run, aug: Path, images: Path, argv: tuple[str, ...], message: str
) -> None:
    (aug.parent / "-").write_text(CONFIG, encoding="utf-8")  # a file named "-" is not read
    code, out, err = cli(*argv)
    assert code == 2, (out, err)
    assert message in err and "./- names a file called '-'" in err
    assert (aug.parent / "-").read_text(encoding="utf-8") == CONFIG
    assert not (aug.parent / "d").exists()


def test_a_file_named_dash_is_reached_as_dot_slash_dash(cli: Run, aug: Path) -> None:
    (aug.parent / "-").write_text(CONFIG, encoding="utf-8")
    code, out, _ = cli("validate", "./-")
    assert code == 0 and "./-: ok" in out


# ---- #11 presets show NAME ------------------------------------------------------------------
@pytest.mark.parametrize("action", ["show", "path"])
def test_an_unknown_preset_is_a_usage_error(cli: Run, action: str) -> None:
    code, _, err = cli("presets", action, "keras_sed")
    assert code == 2
    assert "no preset named 'keras_sed'" in err and "keras_seed" in err
    assert cli("presets", action, "keras_seed")[0] == 0
