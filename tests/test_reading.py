"""Reading layer: safe YAML with the position of every node, within fixed limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import confaug
from confaug import ConfigError
from confaug.reading import yaml_io
from confaug.reading.yaml_io import DEFAULT_LIMITS, Limits, parse_yaml
from tests.conftest import WriteConfig
from tests.helpers import only_problem, position, python_calls, watch_reading

# ---- positions ------------------------------------------------------------------------


def test_every_key_and_value_has_its_position() -> None:
    text = (
        "version: 1\n"
        "zoom_range: [0.9, 1.25]\n"
        "transforms:\n"
        "  - GaussNoise:\n"
        "      std_range: [0.02, 0.08]\n"
        "      p: 0.3\n"
    )
    document = parse_yaml(text, "aug.yaml")
    values = document.source_map.values
    keys = document.source_map.keys
    assert document.data["transforms"][0]["GaussNoise"]["p"] == 0.3
    mark = values[("zoom_range", 1)]
    assert (mark.file, mark.line, mark.column) == ("aug.yaml", 2, 19)
    assert (values[("transforms", 0)].line, values[("transforms", 0)].column) == (4, 5)
    std = ("transforms", 0, "GaussNoise", "std_range")
    assert (keys[std].line, keys[std].column) == (5, 7)
    assert (values[std].line, values[std].column) == (5, 18)
    assert (values[(*std, 1)].line, values[(*std, 1)].column) == (5, 25)


def test_columns_count_characters_not_bytes() -> None:
    text = "note: 'äöü'\nrotation_range: 'x'\ncomment: 'ü' # é\nz: 3\n"
    document = parse_yaml(text, "aug.yaml")
    mark = document.source_map.values[("z",)]
    assert (mark.line, mark.column) == (4, 4)
    mark = document.source_map.values[("comment",)]
    assert (mark.line, mark.column) == (3, 10)


def test_problem_str_is_file_line_column_field_message(write: WriteConfig) -> None:
    text = "version: 1\nfill_mode: no\n"
    write("aug.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("aug.yaml", 2, 12)
    assert problem.field == "fill_mode"
    assert str(err.value) == f"aug.yaml:2:12: fill_mode: {problem.message}"
    assert str(problem) == str(err.value)
    assert problem.to_dict()["line"] == 2


# ---- YAML 1.2 scalars; YAML 1.1 booleans are errors -------------------------------------


def test_scalars_follow_yaml_1_2_core_schema() -> None:
    text = (
        "a: 1e-3\nb: 2024-01-01\nc: 0x1f\nd: 0o17\ne: .inf\nf: -.Inf\ng: ~\nh: True\n"
        "i: 1_000\nj: '0.5'\nl: null\nm: +3\n"
    )
    data = parse_yaml(text).data
    assert data["a"] == pytest.approx(0.001) and isinstance(data["a"], float)
    assert data["b"] == "2024-01-01"
    assert data["c"] == 31
    assert data["d"] == 15
    assert data["e"] == float("inf") and data["f"] == float("-inf")
    assert data["g"] is None and data["l"] is None
    assert data["h"] is True
    assert data["i"] == "1_000"  # YAML 1.1 digit separators are not numbers in 1.2
    assert data["j"] == "0.5"
    assert data["m"] == 3


@pytest.mark.parametrize("word", ["no", "No", "NO", "off", "yes", "on", "Off", "YES"])
def test_yaml_1_1_booleans_are_errors(write: WriteConfig, word: str) -> None:
    write("aug.yaml", f"version: 1\nfill_mode: {word}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column, problem.field) == (2, 12, "fill_mode")
    assert "YAML 1.1" in problem.message and f"'{word}'" in problem.message


def test_yaml_1_1_boolean_in_a_switch_is_an_error_too(write: WriteConfig) -> None:
    write("aug.yaml", "version: 1\nhorizontal_flip: yes\nvertical_flip: true\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column, problem.field) == (2, 18, "horizontal_flip")
    assert "true/false" in problem.message


def test_quoted_yaml_1_1_word_is_a_plain_string() -> None:
    assert parse_yaml("mode: 'no'\nother: \"off\"\n").data == {"mode": "no", "other": "off"}


def test_huge_integer_is_a_problem_not_a_crash(write: WriteConfig) -> None:
    write("aug.yaml", "version: 1\nrotation_range: " + "9" * 5000 + "\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column, problem.field) == (2, 17, "rotation_range")


# ---- duplicate keys, tags, merge keys ----------------------------------------------------


def test_duplicate_key_points_at_the_second_and_names_the_first(write: WriteConfig) -> None:
    text = (
        "version: 1\n"
        "rotation_range: 10\n"
        "transforms:\n"
        "  - GaussNoise: {p: 0.2, std_range: [0.1, 0.2], p: 0.3}\n"
        "rotation_range: 20\n"
    )
    write("aug.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problems = err.value.problems
    assert [(p.line, p.column, p.field) for p in problems] == [
        (4, 49, "transforms.0.GaussNoise.p"),
        (5, 1, "rotation_range"),
    ]
    assert "duplicate key 'p'" in problems[0].message and "line 4" in problems[0].message
    assert "duplicate key 'rotation_range'" in problems[1].message
    assert "line 2" in problems[1].message


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object:os.system {}", "python/object:os.system"),
        ("!!python/object/apply:os.system ['touch pwned']", "python/object/apply:os.system"),
        ("!!python/name:os.system", "python/name:os.system"),
        ("!!python/module:os", "python/module:os"),
        ("!custom 3", "!custom"),
        ("!!binary aGVsbG8=", "binary"),
        ("!!set {a, b}", "set"),
        ("!!omap [a: 1]", "omap"),
        ("!!timestamp 2024-01-01", "timestamp"),
        ("!<tag:example.com,2000:x> 1", "tag:example.com,2000:x"),
    ],
)
def test_tags_are_refused_and_nothing_runs(write: WriteConfig, value: str, tag: str) -> None:
    path = write("aug.yaml", f"version: 1\nrotation_range: {value}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column, problem.field) == (2, 17, "rotation_range")
    assert tag in problem.message and "not allowed" in problem.message
    assert not (path.parent / "pwned").exists()


def test_tag_on_a_key_or_a_collection_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("version: 1\n!!python/str key: 1\nx: !!python/tuple [1, 2]\n", "a.yaml")
    assert [(p.line, p.field) for p in err.value.problems] == [(2, ""), (3, "x")]


def test_standard_str_tag_is_plain_data() -> None:
    assert parse_yaml("mode: !!str reflect\n").data == {"mode": "reflect"}


def test_merge_keys_are_refused() -> None:
    text = "base: &b {rotation_range: 1}\nchild:\n  <<: *b\n  zoom_range: 0.1\n"
    with pytest.raises(ConfigError) as err:
        parse_yaml(text, "a.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column) == (3, 3)
    assert "extends" in problem.message


def test_more_than_one_document_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("version: 1\n---\nversion: 1\n", "a.yaml")
    assert (only_problem(err).line, only_problem(err).column) == (2, 1)


def test_non_scalar_keys_are_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("version: 1\n[a, b]: 3\n? {x: 1}\n: 2\n", "a.yaml")
    assert [p.line for p in err.value.problems] == [2, 3]


def test_aliases_within_bounds_expand() -> None:
    data = parse_yaml("a: &r [0.9, 1.1]\nb: *r\nc: {x: *r}\n").data
    assert data["b"] == [0.9, 1.1] and data["c"] == {"x": [0.9, 1.1]}
    data["b"].append(5)
    assert data["a"] == [0.9, 1.1]  # expanded into independent values


# ---- limits ---------------------------------------------------------------------------
# The limits exist to keep hostile files cheap, and the tests below check that by counting
# the work, never by timing it: bytes read, parser events, compositions of the node graph,
# steps of the alias-size walk and values built (see helpers.watch_reading). Each count has
# a limit that stops a runaway at once instead of letting it hang the suite.


def test_file_over_one_mebibyte_is_refused_before_parsing(
    write: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DEFAULT_LIMITS.max_bytes == 1 << 20
    path = write("big.yaml", "version: 1\n" + "#" * (1 << 20) + "\n")
    work = watch_reading(monkeypatch, events=0, compositions=0)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("big.yaml")
    # Cost bounded by the limit, not the file: one byte past the limit is read (enough to
    # know it is over), and the parser never sees any of it.
    assert work.reads == [DEFAULT_LIMITS.max_bytes + 1] and path.stat().st_size > work.reads[0]
    assert work.events.value == work.compositions.value == 0
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("big.yaml", 1, 1)
    assert "1,048,576 bytes" in problem.message


def test_file_of_exactly_the_limit_is_read(write: WriteConfig) -> None:
    head = "version: 1\nrotation_range: 5\n"
    write("edge.yaml", head + "#" * ((1 << 20) - len(head) - 1) + "\n")
    assert Path("edge.yaml").stat().st_size == 1 << 20
    assert confaug.load_spec("edge.yaml").rotation_range == 5


def test_limits_are_configurable() -> None:
    small = Limits(max_bytes=100, max_depth=3, max_nodes=10)
    with pytest.raises(ConfigError, match="100 bytes"):
        parse_yaml("a: '" + "x" * 200 + "'\n", limits=small)
    with pytest.raises(ConfigError, match="deeper than 3"):
        parse_yaml("a: [[[[1]]]]\n", limits=small)
    with pytest.raises(ConfigError, match="limited to 10"):
        parse_yaml("a: [" + ", ".join("1" * 12) + "]\n", limits=small)
    assert parse_yaml("a: [[1]]\n", limits=small).data == {"a": [[1]]}


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "version: 1\n" + "\n".join(lines) + "\n"


def written_nodes(text: str) -> int:
    """Nodes as written: one parser event each (an alias once, however large its anchor)."""
    return sum(isinstance(event, yaml.NodeEvent) for event in yaml.parse(text))


def test_alias_bomb_is_refused_quickly_and_named(
    write: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = alias_bomb()
    write("bomb.yaml", text)
    nodes = written_nodes(text)
    # The bomb expands to over 10^9 values. "Quickly": nothing is expanded. The size check
    # walks the composed graph once per node as written (an alias is a shared node, its size
    # remembered), and no Python value is built. Limits stop an expanding walk at once.
    work = watch_reading(monkeypatch, compositions=1, values_built=0)
    with (
        python_calls(function="size", module=yaml_io, limit=len(text)) as walked,
        pytest.raises(ConfigError) as err,
    ):
        confaug.load_spec("bomb.yaml")
    assert 0 < walked.value <= nodes
    assert work.compositions.value == 1 and work.values_built.value == 0
    problem = only_problem(err)
    assert "alias" in problem.message
    # a_k holds (10^(k+2) - 1) / 9 values and is repeated 10 times: a3 is the first
    # anchored value whose repetitions alone pass the 100,000 bound.
    assert DEFAULT_LIMITS.max_nodes == 100_000
    assert problem.field == "a3"
    assert (problem.line, problem.column) == position(text, "&a3")


def test_deep_nesting_is_refused_before_composing(
    write: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("deep.yaml", "version: 1\nx: " + "[" * 10_000 + "]" * 10_000 + "\n")
    # The parser is stopped at the first collection past the limit: its events are the few
    # that open the document and one per level, not the 20,000 of the file (twice that when
    # libyaml first stops at its own, deeper limit and the pure-Python parser reruns it).
    # Nothing is composed: a limit of 0 refuses it, as composing recurses once per level.
    bound = 2 * (DEFAULT_LIMITS.max_depth + 8)
    work = watch_reading(monkeypatch, events=bound, compositions=0)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("deep.yaml")
    assert DEFAULT_LIMITS.max_depth < work.events.value <= bound
    assert work.compositions.value == work.values_built.value == 0
    problem = only_problem(err)
    assert f"deeper than {DEFAULT_LIMITS.max_depth}" in problem.message
    # The first collection past the limit: the root mapping is level 1, x's list (column 4)
    # level 2, so level max_depth + 1 opens at column 4 + max_depth - 1.
    assert (problem.line, problem.column) == (2, 4 + DEFAULT_LIMITS.max_depth - 1)


def test_a_deep_path_is_shown_by_its_ends(write: WriteConfig) -> None:
    text = "version: 1\nx: " + "[" * 100 + "]" * 100 + "\n"
    write("deep.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("deep.yaml")
    problem = only_problem(err)
    # The full path is x.0.0. … 63 parts; the first and last three say where, in one line.
    assert problem.field == "x.0.0.….0.0.0"
    assert (problem.line, problem.column) == (2, 4 + DEFAULT_LIMITS.max_depth - 1)
    assert len(str(err.value)) < 120


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        ("version: 1\nx: &a [*a]\n", "x.0", "*a"),
        ("version: 1\nx: &a {k: [1, *a]}\n", "x.k.1", "*a"),
        ("version: 1\nx: &a\n  - y: *a\n", "x.0.y", "*a"),
        ("version: 1\nx: &a [1]\ny: &a [*a]\n", "y.0", "*a"),  # the newer &a, still open
    ],
)
def test_an_alias_inside_its_own_anchor_is_located(text: str, field: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml(text, "aug.yaml")
    problem = only_problem(err)
    assert "refers to a node that contains it" in problem.message
    assert problem.field == field
    assert (problem.line, problem.column) == position(text, needle)


def test_an_alias_to_a_closed_anchor_is_fine() -> None:
    text = "version: 1\nx: &a [1, {k: 2}]\ny: [*a, *a]\nz: {w: *a}\n"
    assert parse_yaml(text).data["y"] == [[1, {"k": 2}]] * 2


def test_a_recursive_alias_in_an_override_is_located() -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"version": 1}, overrides=["x=&a [*a]"])
    problem = only_problem(err)
    assert "refers to a node that contains it" in problem.message
    assert (problem.file, problem.line, problem.column) == ("<override 'x=&a [*a]'>", 1, 7)


def test_block_style_nesting_is_bounded_too() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n"
    with pytest.raises(ConfigError, match="deeper than"):
        parse_yaml(text)


def test_many_values_without_aliases_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "x: [" + ",".join(["0"] * (DEFAULT_LIMITS.max_nodes + 5)) + "]\n"
    # Linear work, cut off at the limit: the parser streams at most 2 * max_nodes + 8 events
    # whatever the length, the size check visits each node once, and nothing is built.
    events = 2 * DEFAULT_LIMITS.max_nodes + 9
    work = watch_reading(monkeypatch, events=events, compositions=1, values_built=0)
    with (
        python_calls(function="size", module=yaml_io, limit=events) as walked,
        pytest.raises(ConfigError, match="values"),
    ):
        parse_yaml(text)
    assert DEFAULT_LIMITS.max_nodes < work.events.value <= events
    assert 0 < walked.value <= work.events.value
    assert work.values_built.value == 0


# ---- bytes and encodings ----------------------------------------------------------------


def test_non_utf8_byte_is_located(write: WriteConfig) -> None:
    write("latin.yaml", "version: 1\n# caf\xe9\nfill_mode: reflect\n".encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("latin.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column) == (2, 6)
    assert "UTF-8" in problem.message and "0xe9" in problem.message


def test_nul_byte_is_binary(write: WriteConfig) -> None:
    write("nul.yaml", b"version: 1\nfill_mode: re\x00flect\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("nul.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column) == (2, 14)
    assert "binary" in problem.message


@pytest.mark.parametrize(
    "blob",
    [
        bytes(range(256)),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        "version: 1\n".encode("utf-16"),
        b"PK\x03\x04\x14\x00\x00\x00",
    ],
)
def test_binary_files_are_refused(write: WriteConfig, blob: bytes) -> None:
    write("blob.yaml", blob)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("blob.yaml")
    problem = only_problem(err)
    assert problem.file == "blob.yaml"
    assert problem.line is not None and problem.column is not None


def test_control_character_is_located() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("a: 1\nb: x\x07y\n", "a.yaml")
    assert (only_problem(err).line, only_problem(err).column) == (2, 5)


def test_lone_surrogate_from_python_is_a_problem() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("a: 1\nb: \ud800\n", "a.yaml")
    assert (only_problem(err).line, only_problem(err).column) == (2, 4)


def test_utf8_bom_is_accepted(write: WriteConfig) -> None:
    write("bom.yaml", "\ufeffversion: 1\nrotation_range: 4\n".encode())
    assert confaug.load_spec("bom.yaml").rotation_range == 4


# ---- the document's shape -------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "   \n", "---\n", "~\n"])
def test_empty_file(write: WriteConfig, text: str) -> None:
    write("empty.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("empty.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("empty.yaml", 1, 1)
    assert "empty" in problem.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- version: 1\n", "list"), ("version 1\n", "str"), ("42\n", "int"), ("[]\n", "list")],
)
def test_top_level_must_be_a_mapping(write: WriteConfig, text: str, kind: str) -> None:
    write("top.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("top.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("top.yaml", 1, 1)
    assert "mapping" in problem.message
    assert kind in problem.message


@pytest.mark.parametrize(
    ("text", "line", "column", "field"),
    [
        # Syntax errors are the YAML's, at their own place: no field is blamed.
        ("version: 1\nzoom_range: [0.9, 1.1\n", 3, 1, ""),
        ("version: 1\nfill_mode: reflect\n  cval: 3\n", 3, 7, ""),
        ("version: 1\ntransforms:\n  - GaussNoise: {p: 0.5]\n", 3, 24, ""),
        ("version: 1\nfill_mode: b: c\n", 2, 13, ""),
        ("version: 1\nrotation_range: 'ten\n", 3, 1, ""),
        # An alias naming no anchor is the value's own fault.
        ("version: 1\nrotation_range: *missing\n", 2, 17, "rotation_range"),
        ("- a\n- [b, c\n", 3, 1, ""),
    ],
)
def test_invalid_syntax_is_located(
    write: WriteConfig, text: str, line: int, column: int, field: str
) -> None:
    write("bad.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("bad.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("bad.yaml", line, column)
    assert problem.field == field
    assert problem.message.startswith("invalid YAML")


def test_tab_indentation_is_explained() -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml("version: 1\ntransforms:\n\t- Blur\n", "a.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.column) == (3, 1)
    assert "tab" in problem.message


def test_missing_file_and_directory(in_tmp: Path) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("nope.yaml")
    assert only_problem(err).file == "nope.yaml" and "not found" in only_problem(err).message
    (in_tmp / "folder").mkdir()
    with pytest.raises(ConfigError, match="directory"):
        confaug.load_spec("folder")
