"""A Keras user's first hour (issue 17): messages that lead to the fix, all of them at once.

An optional ``version``; every problem of a file in one error, each at its line and column;
brightness and zoom messages that say what is accepted and suggest the pair meant; the knob
for ``extends`` outside the roots named for the caller; YAML syntax blamed on no field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import confaug
from confaug import ConfigError, Problem
from confaug.reading.yaml_io import parse_yaml
from tests.conftest import Run, WriteConfig
from tests.helpers import position, problems_of, seed_keywords


def by_field(problems: list[Problem]) -> dict[str, Problem]:
    fields = [p.field for p in problems]
    assert len(set(fields)) == len(fields), fields
    return {p.field: p for p in problems}


# ---- 5. version is optional --------------------------------------------------------------


def seed_yaml() -> str:
    """The seed's keywords as a user types them: no ``version``."""
    lines = []
    for key, value in seed_keywords().items():
        text = json.dumps(value)  # JSON scalars and lists are YAML too
        lines.append(f"{key}: {text}")
    return "\n".join(lines) + "\n"


def test_a_file_of_the_seeds_keywords_alone_loads(write: WriteConfig) -> None:
    write("aug.yaml", seed_yaml())
    spec = confaug.load_spec("aug.yaml")
    assert spec.version == 1
    assert spec.rotation_range == seed_keywords()["rotation_range"]
    assert "version" not in spec.model_fields_set
    confaug.load_pipeline("aug.yaml")  # compiles too


def test_the_written_spec_names_its_version(write: WriteConfig, cli: Run) -> None:
    write("aug.yaml", "rotation_range: 15\nhorizontal_flip: true\n")
    spec = confaug.load_spec("aug.yaml")
    assert spec.to_yaml().splitlines()[0] == "version: 1"
    assert spec.to_yaml(full=True).splitlines()[0] == "version: 1"
    for flags in ((), ("--set-only",)):
        code, out, _ = cli("resolve", "aug.yaml", *flags)
        assert code == 0
        body = [line for line in out.splitlines() if not line.startswith("#")]
        assert body[0] == "version: 1", out
    # What resolve wrote loads back to the same spec, version and all.
    write("resolved.yaml", cli("resolve", "aug.yaml")[1])
    assert confaug.load_spec("resolved.yaml") == confaug.load_spec("aug.yaml")


def test_python_and_mapping_sources_need_no_version() -> None:
    assert confaug.load_spec({"rotation_range": 5}).version == 1
    assert confaug.Spec(rotation_range=5).to_data() == {"version": 1, "rotation_range": 5}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2", "spec version 2 is not supported"),
        ("0", "spec version 0 is not supported"),
        ("'1'", "the string '1'"),
        ("1.0", "1.0"),
        ("true", "the boolean true"),
        ("null", "null"),
    ],
)
def test_an_unsupported_version_is_located_with_the_fix(
    write: WriteConfig, value: str, words: str
) -> None:
    text = f"rotation_range: 3\nversion: {value}\n"
    (problem,) = problems_of(write, text)
    assert (problem.line, problem.column, problem.field) == (2, 10, "version")
    assert words in problem.message
    assert problem.hint is not None and "leave version out" in problem.hint


# ---- 6. every top-level problem at once ----------------------------------------------------

TWO = "rotaton_range: 15\nhorizontal_flip: yes\n"


def test_an_unknown_key_and_a_yaml11_boolean_are_reported_together(write: WriteConfig) -> None:
    problems = by_field(problems_of(write, TWO))
    assert set(problems) == {"rotaton_range", "horizontal_flip"}
    typo = problems["rotaton_range"]
    assert (typo.line, typo.column) == (1, 1)
    assert typo.message == "unknown key" and typo.hint == "did you mean 'rotation_range'?"
    boolean = problems["horizontal_flip"]
    assert (boolean.line, boolean.column) == (2, 18)
    # Only reading's problem: not a second one for 'yes' not being a boolean.
    assert "YAML 1.1" in boolean.message and "true/false" in boolean.message


MANY = """\
rotaton_range: 15
horizontal_flip: yes
cval: "0"
fill_mode: mirorr
zoom_range: 0.1
zoom_range: 0.2
interpolation: nearest
interpolation_order: 3
vertical_flip: "true"
version: 3
"""


def test_problems_of_every_kind_come_in_one_error(write: WriteConfig) -> None:
    problems = by_field(problems_of(write, MANY))
    expected = {
        # field: (text at the problem's place, occurrence, words in the message)
        "rotaton_range": ("rotaton_range", 1, "unknown key"),
        "horizontal_flip": ("yes", 1, "YAML 1.1"),
        "cval": ('"0"', 1, "the string '0'"),
        "fill_mode": ("mirorr", 1, "'reflect'"),
        "zoom_range": ("zoom_range", 2, "duplicate key"),
        "interpolation": ("nearest", 1, "contradicts"),  # a check across keys, run anyway
        "vertical_flip": ('"true"', 1, "the string 'true'"),
        "version": ("3\n", 2, "version 3 is not supported"),
    }
    assert set(problems) == set(expected)
    for field, (needle, occurrence, words) in expected.items():
        problem = problems[field]
        assert (problem.line, problem.column) == position(MANY, needle, occurrence), field
        assert problem.file == "aug.yaml"
        assert words in problem.message, (field, problem.message)
    assert problems["rotaton_range"].hint == "did you mean 'rotation_range'?"
    # In file order, each on its own line.
    lines = [p.line or 0 for p in problems.values()]
    assert lines == sorted(lines)


def test_a_check_across_keys_never_stands_on_a_default_in_a_failed_keys_place(
    write: WriteConfig,
) -> None:
    # value_range failed its own check: the float16 check must not judge rescale against
    # the default 'auto' (255), a clash the user's [0, 1] would not make.
    text = "dtype: float16\nrescale: 1000\nvalue_range: [0, 1, 2]\n"
    (problem,) = problems_of(write, text)
    assert problem.field == "value_range"
    write("fixed.yaml", text.replace("[0, 1, 2]", "[0, 1]"))
    confaug.load_spec("fixed.yaml")  # the value the user meant makes no clash


def test_the_keys_a_check_across_keys_reads_are_all_declared() -> None:
    import inspect
    import re

    read = set(re.findall(r"self\.(\w+)", inspect.getsource(confaug.Spec._consistent)))
    assert read - {"model_fields_set"} == set(confaug.Spec.CROSS_KEY_FIELDS)


def test_yaml11_booleans_inside_steps_and_options_come_with_the_rest(write: WriteConfig) -> None:
    text = (
        "rotaton_range: 1\n"
        "transforms:\n"
        "  - HorizontalFlip: {p: yes}\n"
        "bbox_params: {format: coco, clip: no}\n"
    )
    problems = by_field(problems_of(write, text))
    assert set(problems) == {"rotaton_range", "transforms.0.HorizontalFlip.p", "bbox_params.clip"}
    flip, clip = problems["transforms.0.HorizontalFlip.p"], problems["bbox_params.clip"]
    assert (flip.line, flip.column) == position(text, "yes")
    assert (clip.line, clip.column) == position(text, "no}")
    assert "YAML 1.1" in flip.message and "YAML 1.1" in clip.message


def test_a_parents_reading_problems_come_with_the_childs(write: WriteConfig) -> None:
    write("base.yaml", "vertical_flip: no\nrotation_range: 5\n")
    problems = problems_of(write, "extends: base.yaml\nrotaton_range: 15\n")
    places = {(p.file, p.line, p.column, p.field) for p in problems}
    assert places == {("base.yaml", 1, 16, "vertical_flip"), ("aug.yaml", 2, 1, "rotaton_range")}


def test_a_parent_a_child_its_steps_and_an_override_are_reported_in_one_error(
    write: WriteConfig,
) -> None:
    write("base.yaml", "horizontal_flip: yes\nzoom_rnage: 0.1\n")
    child = (
        "extends: base.yaml\n"
        "vertical_flip: on\n"
        "transforms:\n"
        "  - GaussNoise: {std_rangee: [0.1, 0.2]}\n"
        "  - RandomCrop\n"
    )
    write("aug.yaml", child)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["shear_range=abc"])
    found = {(p.file, p.field) for p in err.value.problems}
    assert found == {
        ("base.yaml", "horizontal_flip"),
        ("base.yaml", "zoom_rnage"),
        ("aug.yaml", "vertical_flip"),
        ("aug.yaml", "transforms.0.GaussNoise.std_rangee"),
        ("aug.yaml", "transforms.1"),
        ("<override 'shear_range=abc'>", "shear_range"),
    }, found


def test_reading_problems_come_with_an_extends_or_override_failure(write: WriteConfig) -> None:
    problems = problems_of(write, "extends: nowhere.yaml\nhorizontal_flip: yes\n")
    assert {p.field for p in problems} == {"extends", "horizontal_flip"}
    write("aug.yaml", TWO)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["nokey.0=1"])
    assert {p.field for p in err.value.problems} >= {"horizontal_flip", "nokey.0"}


def test_a_resolved_document_keeps_its_reading_problems(write: WriteConfig) -> None:
    write("aug.yaml", TWO)
    document = confaug.resolve("aug.yaml")  # reading does not raise: validation reports all
    assert [p.field for p in document.problems] == ["horizontal_flip"]
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(document)
    assert {p.field for p in err.value.problems} == {"rotaton_range", "horizontal_flip"}


def test_only_reading_problems_still_fail(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "rotation_range: 10\nrotation_range: 20\n")
    assert (problem.line, problem.field) == (2, "rotation_range")
    assert "duplicate key" in problem.message


def test_parse_yaml_alone_still_raises_what_it_finds() -> None:
    # Overrides parse their values with it and rely on that.
    with pytest.raises(ConfigError, match=r"YAML 1\.1"):
        parse_yaml("horizontal_flip: yes\n", "a.yaml")
    document = parse_yaml("horizontal_flip: yes\n", "a.yaml", collect=True)
    assert document.data == {"horizontal_flip": "yes"} and len(document.problems) == 1


def test_validate_prints_every_problem_as_text_and_json(write: WriteConfig, cli: Run) -> None:
    write("aug.yaml", TWO)
    code, out, _ = cli("validate", "aug.yaml")
    assert code == 1
    assert out.splitlines() == [
        "aug.yaml:1:1: rotaton_range: unknown key (did you mean 'rotation_range'?)",
        "aug.yaml:2:18: horizontal_flip: 'yes' is a boolean in YAML 1.1 but a string in YAML "
        "1.2; write true/false for a switch, or quote it ('yes') for a string",
    ]
    code, out, _ = cli("validate", "aug.yaml", "--format", "json")
    assert code == 1
    (report,) = json.loads(out)["files"]
    assert [(p["line"], p["column"], p["field"]) for p in report["problems"]] == [
        (1, 1, "rotaton_range"),
        (2, 18, "horizontal_flip"),
    ]
    assert report["problems"][0]["hint"] == "did you mean 'rotation_range'?"


# ---- 8. brightness and the other ranges say what they take ---------------------------------


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("0.2", "write [0.8, 1.2]"),
        ("0.25", "write [0.75, 1.25]"),
        ("1.5", "write [0.667, 1.5]"),
        ("0", "leave brightness_range out"),
        ("1", "e.g. [0.8, 1.2]"),
        ("-1", "e.g. [0.8, 1.2]"),
    ],
)
def test_a_single_brightness_number_gets_the_pair_it_meant(
    write: WriteConfig, value: str, hint: str
) -> None:
    (problem,) = problems_of(write, f"brightness_range: {value}\n")
    assert (problem.line, problem.column, problem.field) == (1, 19, "brightness_range")
    assert problem.message.startswith("must be a [low, high] pair of brightness factors")
    assert "a number" not in problem.message  # a number is exactly what it does not take
    assert problem.hint is not None and hint in problem.hint


def test_the_suggested_brightness_pair_is_valid(write: WriteConfig) -> None:
    write("aug.yaml", "brightness_range: [0.8, 1.2]\n")
    assert confaug.load_spec("aug.yaml").brightness_range == [0.8, 1.2]


@pytest.mark.parametrize(
    ("line", "says", "not_says"),
    [
        ("brightness_range: [0.5, 1, 2]", "a [low, high] pair of brightness factors", "a number"),
        ("brightness_range: 'bright'", "a [low, high] pair of brightness factors", "a number"),
        ("value_range: 0.5", "'auto' or a [low, high] pair", "a number"),
        ("rotation_range: [1, 2, 3]", "a number ≥ 0 or a [low, high] pair", None),
        ("shear_range: [1, 2, 3]", "a number ≥ 0 or a [low, high] pair", None),
        ("zoom_range: [1, 2, 3]", "a number in [0, 1) or a [low, high] pair", None),
        ("width_shift_range: 'x'", "a number ≥ 0 or a list of numbers", None),
    ],
)
def test_range_messages_name_what_is_accepted(
    write: WriteConfig, line: str, says: str, not_says: str | None
) -> None:
    (problem,) = problems_of(write, line + "\n")
    assert says in problem.message
    if not_says:
        assert not_says not in problem.message


def test_a_zoom_above_one_gets_the_pair_it_meant(write: WriteConfig) -> None:
    (problem,) = problems_of(write, "zoom_range: 1.2\n")
    assert (problem.line, problem.column, problem.field) == (1, 13, "zoom_range")
    assert "[0, 1)" in problem.message
    assert problem.hint == "to zoom by factors up to 1.2, write [0.833, 1.2]"
    (problem,) = problems_of(write, "zoom_range: 1\n")
    assert problem.hint == "for explicit zoom factors write [low, high], e.g. [0.8, 1.2]"
    (problem,) = problems_of(write, "zoom_range: -0.1\n")
    assert problem.hint is None


# ---- 11. the extends knob for the caller; syntax errors blame no field ----------------------


@pytest.fixture
def outside(write: WriteConfig, in_tmp: Path) -> Path:
    """``project/aug.yaml`` extending ``shared/base.yaml``, outside its roots."""
    write("shared/base.yaml", "rotation_range: 5\n")
    write("project/aug.yaml", "extends: ../shared/base.yaml\nhorizontal_flip: true\n")
    return in_tmp / "shared"


def test_extends_outside_the_roots_names_allowed_roots_in_python(outside: Path) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("project/aug.yaml")
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.column) == ("project/aug.yaml", 1, 10)
    assert problem.field == "extends"
    assert "outside the allowed roots" in problem.message
    assert problem.hint == "pass allowed_roots=['shared'] to permit it"
    assert "--allow-root" not in str(err.value)
    # Doing what it says works.
    assert confaug.load_spec("project/aug.yaml", allowed_roots=["shared"]).rotation_range == 5


def test_extends_outside_the_roots_names_allow_root_on_the_command_line(
    outside: Path, cli: Run
) -> None:
    code, out, _ = cli("validate", "project/aug.yaml")
    assert code == 1
    assert out.strip() == (
        "project/aug.yaml:1:10: extends: '../shared/base.yaml' is outside the allowed roots: "
        "the config's own directory tree and the shipped presets "
        "(add --allow-root shared to permit it)"
    )
    assert "allowed_roots" not in out
    code, out, _ = cli("validate", "project/aug.yaml", "--format", "json")
    (problem,) = json.loads(out)["files"][0]["problems"]
    assert problem["hint"] == "add --allow-root shared to permit it"
    assert cli("validate", "project/aug.yaml", "--allow-root", "shared")[0] == 0
    # The command line's wording does not leak into Python calls made afterwards.
    with pytest.raises(ConfigError, match="allowed_roots="):
        confaug.load_spec("project/aug.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\n\trotation_range: 15\n",
        "rotation_range: 15\n\thorizontal_flip: true\n",
        "version: 1\ntransforms:\n\t- Blur\n",
    ],
)
def test_a_tab_is_a_yaml_problem_at_its_own_place(write: WriteConfig, text: str) -> None:
    (problem,) = problems_of(write, text)
    line, column = position(text, "\t")
    assert (problem.file, problem.line, problem.column) == ("aug.yaml", line, column)
    assert problem.field == ""  # not the key before it
    assert problem.message.startswith("invalid YAML") and "tab" in problem.message
    assert str(problem).startswith(f"aug.yaml:{line}:{column}: <root>: invalid YAML")


@pytest.mark.parametrize(
    ("text", "opened"),
    [
        ("rotation_range: 3\nzoom_range: [0.9, 1.1\n", "[0.9"),
        ("zoom_range: [0.9, 1.1\nhorizontal_flip: true\n", "[0.9"),
        ("bbox_params: {format: coco\n", "{format"),
        ('preprocessing_function: "scale\n', '"scale'),
    ],
)
def test_an_unclosed_bracket_or_quote_names_where_it_was_opened(
    write: WriteConfig, text: str, opened: str
) -> None:
    # PyYAML notices only where the next line or the file ends; the fix is where it began.
    (problem,) = problems_of(write, text)
    line, column = position(text, opened)
    assert problem.field == "" and problem.message.startswith("invalid YAML")
    assert f"starts at line {line}, column {column}" in problem.message, problem.message


def test_a_syntax_error_in_a_parent_blames_no_field(write: WriteConfig, cli: Run) -> None:
    write("base.yaml", "zoom_range: [0.9, 1.1\nhorizontal_flip: true\n")
    write("aug.yaml", "extends: base.yaml\n")
    code, out, _ = cli("validate", "aug.yaml", "--format", "json")
    assert code == 1
    (problem,) = json.loads(out)["files"][0]["problems"]
    assert (problem["file"], problem["field"]) == ("base.yaml", "")
    assert problem["message"].startswith("invalid YAML")


# ---- untrusted names stay on one line, escaped ---------------------------------------------


def test_names_from_the_file_are_escaped_in_every_message(write: WriteConfig, cli: Run) -> None:
    write(
        "aug.yaml",
        '"rot\\e[2Jation": 1\nhorizontal_flip: yes\ntransforms:\n  - "Blur\\u202e": {p: 1}\n',
    )
    code, out, _ = cli("validate", "aug.yaml")
    assert code == 1
    assert "\x1b" not in out and "\u202e" not in out
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert lines[0].startswith("aug.yaml:1:1: rot\\x1b[2Jation: unknown key")
    assert "'Blur\\u202e'" in lines[2]


def test_the_folder_to_allow_is_quoted_for_the_caller(write: WriteConfig, cli: Run) -> None:
    write("it's shared/base.yaml", "rotation_range: 5\n")
    write("project/aug.yaml", 'extends: "../it\'s shared/base.yaml"\n')
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("project/aug.yaml")
    assert err.value.problems[0].hint == 'pass allowed_roots=["it\'s shared"] to permit it'
    _, out, _ = cli("validate", "project/aug.yaml", "--format", "json")
    (problem,) = json.loads(out)["files"][0]["problems"]
    assert problem["hint"] == "add --allow-root 'it'\"'\"'s shared' to permit it"
    assert cli("validate", "project/aug.yaml", "--allow-root", "it's shared")[0] == 0
