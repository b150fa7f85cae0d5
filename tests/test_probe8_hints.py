"""Probe share8, the hints findings: config text through confaug's own reader
(``text=``), text and paths mistaken for each other, ``name=value`` in a file, the
bare-step override hint, a capped problem list, paths with ``~``/variables/URLs, UTF-16
and UTF-32 files, module-prefixed transform names, ``preset:`` misspelt, and a mapping of
overrides whose keys nest."""

from __future__ import annotations

from pathlib import Path

import pytest

import confaug
from confaug import ConfigError
from confaug.errors import MAX_SHOWN_PROBLEMS
from tests.conftest import Run, WriteConfig
from tests.helpers import only_problem

# ---- finding 4: YAML text through confaug's reader ----------------------------------------

TEXT = "horizontal_flip: no\nrotation_range: 010\nzoom_range: 0.1\nzoom_range: 0.3\n"


def test_text_is_read_with_the_checks_a_file_gets_and_its_positions() -> None:
    """The hint said ``yaml.safe_load(text)``, which reads no as False, 010 as 8 and keeps
    the second zoom_range, silently; text= refuses all three at their line and column."""
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(text=TEXT)
    found = [(p.file, p.line, p.column, p.field) for p in err.value.problems]
    assert found == [
        ("<text>", 1, 18, "horizontal_flip"),
        ("<text>", 2, 17, "rotation_range"),
        ("<text>", 4, 1, "zoom_range"),
    ]
    with pytest.raises(ConfigError, match="<text>:4:1: zoom_range: duplicate key"):
        confaug.load_pipeline(text=TEXT)


def test_text_loads_as_its_file_does(write: WriteConfig) -> None:
    config = "rotation_range: 10\ntransforms:\n  - HorizontalFlip: {p: 0.5}\n"
    write("aug.yaml", config)
    assert confaug.load_spec(text=config) == confaug.load_spec("aug.yaml")
    assert confaug.load_spec(text=config.encode()) == confaug.load_spec("aug.yaml")
    assert confaug.load_spec(text='{"rotation_range": 10}').rotation_range == 10
    # Overrides apply on top; extends are found as a mapping's: presets, and allowed roots.
    document = confaug.resolve(text="rotation_range: 5\n", overrides=["zoom_range=0.2"])
    assert document.data == {"rotation_range": 5, "zoom_range": 0.2}
    spec = confaug.load_spec(text="extends: preset:detection\nrotation_range: 7\n")
    assert spec.rotation_range == 7 and spec.transforms
    with pytest.raises(ConfigError, match="outside the allowed roots"):
        confaug.load_spec(text="extends: aug.yaml\n")
    assert confaug.load_spec(text="extends: aug.yaml\n", allowed_roots=["."]).rotation_range == 10


def test_text_that_is_not_a_mapping_or_given_twice_is_refused_in_words() -> None:
    with pytest.raises(ConfigError, match=r"<text>:1:1: <root>: the top level .* not list"):
        confaug.load_spec(text="- Blur\n")
    with pytest.raises(TypeError, match="not both"):
        confaug.load_spec("preset:detection", text="rotation_range: 1\n")
    with pytest.raises(TypeError, match="got NoneType"):
        confaug.load_pipeline()
    with pytest.raises(TypeError, match=r"text= takes .* got int"):
        confaug.load_spec(text=5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [TEXT, "rotation_range: 10", '{"rotation_range": 10}', "transforms: [Blur]", "{a: 1}"],
)
def test_text_passed_as_a_path_points_at_text_and_not_at_safe_load(text: str) -> None:
    """One line of YAML or JSON (an environment variable, argv) was "file not found"."""
    with pytest.raises(TypeError, match="this looks like YAML text, not a path") as err:
        confaug.load_pipeline(text)
    assert "text=" in str(err.value) and "safe_load" not in str(err.value)
    # A ConfigError too: the CLI hands its argument on and reports it as a problem.
    assert isinstance(err.value, ConfigError)


def test_the_cli_reports_text_given_as_a_config_as_a_problem(in_tmp: Path, cli: Run) -> None:
    """It said "confaug could not check this config (TypeError ...) (this is a bug in
    confaug)" for the many-line text, and "file not found" for one line."""
    for text in ("rotation_range: 10", "rotation_range: 10\nzoom_range: 0.1\n"):
        code, out, err = cli("validate", text)
        assert code != 0
        assert "this looks like YAML text" in out + err and "bug in confaug" not in out + err


def test_a_path_read_whole_from_a_file_is_named_as_such(write: WriteConfig) -> None:
    write("aug.yaml", "rotation_range: 10\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("aug.yaml\n")
    problem = only_problem(err)
    assert problem.message == "file not found"
    assert (
        problem.hint
        == "the path ends with a line break (read whole from a file?): write 'aug.yaml'"
    )
    # A file whose name really ends so is read.
    write("odd.yaml\n", "rotation_range: 3\n")
    assert confaug.load_spec("odd.yaml\n").rotation_range == 3


# ---- finding 5: name=value in a file ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "said"),
    [
        ("rotation_range=20\nzoom_range: 0.1\n", 1, 1, "write 'rotation_range: 20'"),
        ("zoom_range: 0.1\nrotation_range=20\n", 2, 1, "write 'rotation_range: 20'"),
        ("zoom_range: 0.1\nrotation_range = 20\nshear_range: 2\n", 2, 1, "'rotation_range: 20'"),
        ("transforms:\n  - Blur\n  p=0.5\n", 3, 3, "write 'p: 0.5'"),
        ("transforms.0.p=0.3\nzoom_range: 1\n", 1, 1, "nest the dotted key"),
    ],
)
def test_an_override_line_in_a_file_is_placed_at_itself(
    write: WriteConfig, text: str, line: int, column: int, said: str
) -> None:
    """It was "mapping values are not allowed" at the next line, or past the end."""
    write("aug.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column) == (line, column)
    assert "override's form" in problem.message and said in problem.message


def test_an_unclosed_quote_is_not_blamed_on_a_later_assignment(write: WriteConfig) -> None:
    write("aug.yaml", 'fill_mode: "x\nrotation_range=2\n')
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    assert "quoted scalar that starts at line 1" in only_problem(err).message


@pytest.mark.parametrize(
    ("text", "line"), [("[", 2), ("a: [", 2), ("x: 1\ra=1\rb: 2\r", 2), ("a=1\r\nb: 2\r\n", 1)]
)
def test_the_slip_search_stays_inside_the_text(text: str, line: int) -> None:
    """A syntax error's mark may lie past the last line (an unclosed '['), and '\\r' ends a
    line as the parser counts them."""
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(text=text)
    assert only_problem(err).line == line


def test_an_override_alone_as_text_gets_the_hint() -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(text="rotation_range=20")
    assert "write 'rotation_range: 20'" in str(only_problem(err).hint)


# ---- finding 6: the same-name bare-step override hint --------------------------------------


def test_a_value_set_on_a_bare_steps_name_gets_a_parameter_mapping_as_example(
    write: WriteConfig,
) -> None:
    write("aug.yaml", "transforms:\n  - Blur\n  - HorizontalFlip\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["transforms.1.HorizontalFlip=5"])
    message = only_problem(err).message
    assert message.endswith("e.g. transforms.1={HorizontalFlip: {p: 0.5}}"), message
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["transforms.1.HorizontalFlip.p=5"])
    assert only_problem(err).message.endswith("transforms.1={HorizontalFlip: {p: ...}}")


# ---- finding 8 -----------------------------------------------------------------------------


def test_a_config_error_shows_its_first_problems_and_keeps_them_all(write: WriteConfig) -> None:
    write("aug.yaml", "".join(f"k{i}: {i}\n" for i in range(3000)))
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    assert len(err.value.problems) == 3000
    lines = str(err.value).splitlines()
    assert len(lines) == MAX_SHOWN_PROBLEMS + 1
    assert (
        lines[-1]
        == f"… and {3000 - MAX_SHOWN_PROBLEMS:,} more problems (3,000 in all; every one is "
        "in ConfigError.problems)"
    )
    assert lines[0] == "aug.yaml:1:1: k0: unknown key"


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        ("~/aug.yaml", "'~' is not expanded"),
        ("$HOME/aug.yaml", "environment variables are not expanded"),
        ("${PWD}/aug.yaml", "environment variables are not expanded"),
        ("https://example.com/aug.yaml", "URLs are not fetched"),
        ("s3://bucket/aug.yaml", "URLs are not fetched"),
        ("git@github.com:org/repo.git", "URLs are not fetched"),
        (
            "file:///srv/aug.yaml",
            "file:// URLs are not read: write the path itself, '/srv/aug.yaml'",
        ),
        ("presets:detection", "did you mean 'preset:detection'?"),
        (" preset:detection", "did you mean 'preset:detection'?"),
        ("Preset: detection", "did you mean 'preset:detection'?"),
        ("preset :detection", "did you mean 'preset:detection'?"),
        (" aug.yaml", "the path has white space around it: write 'aug.yaml'"),
    ],
)
def test_a_path_of_a_form_confaug_does_not_read_says_why(
    write: WriteConfig, entry: str, hint: str
) -> None:
    write("aug.yaml", "rotation_range: 1\n")
    for source in (entry, Path(entry)) if entry.startswith("~") else (entry,):
        with pytest.raises(ConfigError) as err:
            confaug.load_pipeline(source)
        problem = only_problem(err)
        assert problem.message == "file not found" and hint in str(problem.hint), problem


@pytest.mark.parametrize(
    ("encoding", "said"),
    [
        ("utf-16", "UTF-16 text (byte-order mark FF FE), not UTF-8: save the file as UTF-8"),
        ("utf-32", "UTF-32 text (byte-order mark FF FE 00 00), not UTF-8: save the file as UTF-8"),
        ("utf-16-le", "UTF-16 text without a byte-order mark, not UTF-8: save the file as UTF-8"),
    ],
)
def test_utf16_and_utf32_files_are_named_so(write: WriteConfig, encoding: str, said: str) -> None:
    """PowerShell 5's `>` writes UTF-16: it was "not UTF-8 text (byte 0xff at offset 0)"."""
    write("aug.yaml", "rotation_range: 10\n".encode(encoding))
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column, problem.message) == (1, 1, said)


@pytest.mark.parametrize(
    "name",
    ["albumentations.Blur", "A.Blur", "albumentations.augmentations.blur.transforms.Blur"],
)
def test_a_transform_named_with_its_module_gets_the_class_as_hint(name: str) -> None:
    """'albumentations.Blur' got "did you mean 'MotionBlur'?"."""
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"transforms": [name]})
    assert only_problem(err).hint == "did you mean 'Blur'?"


@pytest.mark.parametrize(
    "overrides",
    [
        {"bbox_params": {"format": "coco"}, "bbox_params.format": "yolo"},
        {"bbox_params.format": "yolo", "bbox_params": {"format": "coco"}},
        {"transforms": [], "transforms.0.HorizontalFlip.p": 1},
    ],
)
def test_a_mapping_of_overrides_whose_keys_nest_is_refused(overrides: dict[str, object]) -> None:
    """Which of the two won depended on the order of the mapping's keys, silently."""
    with pytest.raises(ConfigError) as err:
        confaug.resolve("preset:detection", overrides=overrides)
    problem = only_problem(err)
    assert "a mapping of overrides has no order to apply them in" in problem.message
    assert problem.field in ("bbox_params.format", "transforms.0.HorizontalFlip.p")


def test_a_mapping_of_overrides_side_by_side_and_a_list_in_order_still_apply() -> None:
    document = confaug.resolve(
        "preset:detection",
        overrides={"bbox_params.format": "yolo", "bbox_params.min_visibility": 0.1},
    )
    assert document.data["bbox_params"]["format"] == "yolo"
    document = confaug.resolve(
        "preset:detection", overrides=["bbox_params={format: coco}", "bbox_params.format=yolo"]
    )
    assert document.data["bbox_params"]["format"] == "yolo"
