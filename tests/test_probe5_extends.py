"""Probe configs5, the ``extends`` findings: the merge order of a diamond (C3), a mapping's
parents only inside explicit roots, long preset names, hints for a parent not found, and
``extends`` from Python (os.PathLike, a mapping's ``preset:`` errors, white space)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import confaug
from confaug import ConfigError
from tests.conftest import WriteConfig
from tests.helpers import only_problem, position


def _diamond(write: WriteConfig, top: str) -> None:
    write("base.yaml", "version: 1\nrotation_range: 10\nzoom_range: 0.1\n")
    write("left.yaml", "extends: base.yaml\nrotation_range: 20\n")
    write("right.yaml", "extends: base.yaml\nhorizontal_flip: true\n")
    write("mixin.yaml", "extends: base.yaml\n")  # changes nothing about rotation
    write("top.yaml", top)


# ---- finding 1: a diamond's shared base is merged once, first -----------------------------


@pytest.mark.parametrize(
    "parents", ["[left.yaml, mixin.yaml]", "[left.yaml, right.yaml]", "[right.yaml, left.yaml]"]
)
def test_a_sibling_extending_the_shared_base_does_not_undo_the_others_override(
    write: WriteConfig, parents: str
) -> None:
    _diamond(write, f"extends: {parents}\n")
    document = confaug.resolve("top.yaml")
    assert document.data["rotation_range"] == 20  # left's value stands, whatever the order
    assert document.data["zoom_range"] == 0.1


def test_the_chain_lists_the_files_as_they_win(write: WriteConfig) -> None:
    _diamond(write, "extends: [left.yaml, mixin.yaml]\n")
    # Most specific first: each file wins over those after it; the shared base comes last.
    assert confaug.resolve("top.yaml").chain == ("top.yaml", "mixin.yaml", "left.yaml", "base.yaml")


def test_local_order_of_a_parent_is_kept_through_another_parent(write: WriteConfig) -> None:
    # b lists [y, x]: x wins over y in b. a extends x alone. top [a, b] must not let y win
    # over x only because a brought x in earlier (keeping first occurrences would).
    write("x.yaml", "version: 1\nrotation_range: 1\n")
    write("y.yaml", "rotation_range: 2\n")
    write("a.yaml", "extends: x.yaml\nshear_range: 3\n")
    write("b.yaml", "extends: [y.yaml, x.yaml]\n")
    write("top.yaml", "extends: [a.yaml, b.yaml]\n")
    assert confaug.load_spec("b.yaml").rotation_range == 1
    spec = confaug.load_spec("top.yaml")
    assert (spec.rotation_range, spec.shear_range) == (1, 3)


def test_listing_a_base_after_a_file_extending_it_is_refused(write: WriteConfig) -> None:
    text = "extends: [left.yaml, base.yaml]\n"
    _diamond(write, text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("top.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.field) == ("top.yaml", "extends")
    assert (problem.line, problem.column) == position(text, "base.yaml")
    assert "'base.yaml' is listed after 'left.yaml', which extends it" in problem.message
    assert "leave it out" in problem.hint


def test_parents_whose_chains_disagree_are_refused(write: WriteConfig) -> None:
    write("x.yaml", "version: 1\n")
    write("y.yaml", "rotation_range: 2\n")
    write("a.yaml", "extends: [x.yaml, y.yaml]\n")
    write("b.yaml", "extends: [y.yaml, x.yaml]\n")
    write("top.yaml", "extends: [a.yaml, b.yaml]\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("top.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("top.yaml", 1, 10)
    assert "cannot be merged in one order" in problem.message
    assert "'x.yaml'" in problem.message and "'y.yaml'" in problem.message


def test_a_file_listed_twice_counts_its_last_mention(write: WriteConfig) -> None:
    write("a.yaml", "version: 1\nrotation_range: 1\n")
    write("b.yaml", "rotation_range: 2\n")
    write("top.yaml", "extends: [a.yaml, b.yaml, a.yaml]\n")
    assert confaug.load_spec("top.yaml").rotation_range == 1  # as before the C3 order


def test_a_linear_chain_keeps_its_order(write: WriteConfig) -> None:
    write("g.yaml", "version: 1\nrotation_range: 1\nshear_range: 1\nzoom_range: 0.1\n")
    write("p.yaml", "extends: [preset:keras_seed, g.yaml]\nrotation_range: 2\nshear_range: 2\n")
    write("aug.yaml", "extends: p.yaml\nrotation_range: 3\n")
    spec = confaug.load_spec("aug.yaml")
    assert (spec.rotation_range, spec.shear_range, spec.zoom_range) == (3, 2, 0.1)
    chain = confaug.resolve("aug.yaml").chain
    assert chain[:3] == ("aug.yaml", "p.yaml", "g.yaml") and len(chain) == 4


# ---- finding 2: a mapping's file parents only inside explicit roots -----------------------


def test_a_mapping_cannot_extend_files_under_the_working_directory_by_default(
    write: WriteConfig,
) -> None:
    write("secret/secret.yaml", "version: 1\nrotation_range: sk-SECRET\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline({"extends": "secret/secret.yaml"})
    problem = only_problem(err)
    assert problem.file is None and problem.field == "extends"
    assert "outside the allowed roots" in problem.message
    assert "a config given as data has no directory of its own" in problem.message
    assert "sk-SECRET" not in str(err.value)  # the file was not read
    assert problem.hint.startswith("pass allowed_roots=['secret'] to permit it")
    assert "load the config from a file" in problem.hint


def test_a_mapping_extends_files_inside_allowed_roots_and_presets(write: WriteConfig) -> None:
    write("base.yaml", "version: 1\nrotation_range: 7\n")
    spec = confaug.load_spec({"extends": "base.yaml"}, allowed_roots=["."])
    assert spec.rotation_range == 7
    assert confaug.resolve({"extends": "preset:keras_seed"}).data["rotation_range"] == 15
    with pytest.raises(ConfigError, match="outside the allowed roots"):
        confaug.load_spec({"extends": os.path.abspath("base.yaml")})


def test_a_mapping_extending_a_bare_preset_name_gets_the_preset_hint(in_tmp: Path) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"extends": "detection"})
    assert only_problem(err).hint == "did you mean 'preset:detection'?"


# ---- finding 4b: a long preset name ------------------------------------------------------


@pytest.mark.parametrize("how", ["mapping", "file", "entry"])
def test_a_long_preset_name_is_no_preset(write: WriteConfig, how: str) -> None:
    name = "a" * 300
    write("aug.yaml", f"extends: preset:{name}\n")
    source = {"mapping": {"extends": f"preset:{name}"}, "file": "aug.yaml"}.get(
        how, f"preset:{name}"
    )
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(source)
    assert only_problem(err).message == f"no preset named '{name}'"


# ---- finding 7: hints for a parent not found ---------------------------------------------


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("detection", "did you mean 'preset:detection'?"),
        ("detection.yaml", "did you mean 'preset:detection'?"),
        ("PRESET:detection", "write the prefix in lower case: 'preset:detection'"),
        ("base.yml", "did you mean 'base.yaml'?"),
        ("sub/bsae.yaml", "did you mean 'sub/base.yaml'?"),
        (".\\\\sub\\\\base.yaml", "write paths with '/', on every system: './sub/base.yaml'"),
        ("sub\\\\\\\\base.yaml", "write paths with '/', on every system: 'sub/base.yaml'"),
    ],
)
def test_a_parent_not_found_gets_a_hint(write: WriteConfig, written: str, hint: str) -> None:
    write("base.yaml", "version: 1\n")
    write("sub/base.yaml", "version: 1\n")
    write("aug.yaml", f'extends: "{written}"\n')
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert "not found" in problem.message
    assert problem.hint == hint


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        ("detection", "did you mean 'preset:detection'?"),
        ("PRESET:detection", "write the prefix in lower case: 'preset:detection'"),
        ("aug.yml", "did you mean 'aug.yaml'?"),
    ],
)
def test_an_entry_not_found_gets_a_hint(write: WriteConfig, entry: str, hint: str) -> None:
    write("aug.yaml", "version: 1\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(entry)
    problem = only_problem(err)
    assert (problem.file, problem.message, problem.hint) == (entry, "file not found", hint)


def test_a_missing_parent_without_a_close_name_gets_no_hint(write: WriteConfig) -> None:
    write("aug.yaml", "extends: zzz.yaml\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    assert only_problem(err).hint is None


# ---- finding 10: extends from Python -----------------------------------------------------


def test_a_mapping_may_name_its_parents_as_pathlib_paths(write: WriteConfig) -> None:
    write("base.yaml", "version: 1\nrotation_range: 4\n")
    one = confaug.load_spec({"extends": Path("base.yaml")}, allowed_roots=["."])
    assert one.rotation_range == 4
    many = {"extends": ["preset:keras_seed", Path("base.yaml")], "shear_range": 2}
    spec = confaug.load_spec(many, allowed_roots=["."])
    assert (spec.rotation_range, spec.shear_range) == (4, 2)


def test_a_mappings_preset_error_is_not_placed_in_a_file_named_after_it(in_tmp: Path) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"extends": "preset:a/b"})
    problem = only_problem(err)
    assert (problem.file, problem.field) == (None, "extends")
    assert problem.message == "no preset named 'a/b'"
    # The entry itself is still named as written.
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("preset:a/b")
    assert only_problem(err).file == "preset:a/b"


@pytest.mark.parametrize("source", [{"extends": "preset:detection\n"}, "preset:detection\n"])
def test_white_space_around_a_preset_name_is_refused_and_shown(
    in_tmp: Path, source: object
) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(source)  # type: ignore[arg-type]
    problem = only_problem(err)
    assert problem.message == "no preset named 'detection\\n'"
    assert problem.hint == "write 'preset:detection', without the white space"
