"""Hints for config paths that name nothing, the same for a caller's path and an ``extends``."""

from __future__ import annotations

from pathlib import Path

import pytest

import confaug
from confaug import ConfigError


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("~/team/base.yaml", "'~' is not expanded"),
        ("$HOME/team/base.yaml", "environment variables are not expanded"),
        ("${PWD}/base.yaml", "environment variables are not expanded"),
        ("https://example.org/base.yaml", "URLs are not fetched"),
        ("git@github.com:team/configs.yaml", "URLs are not fetched"),
        ("file://base.yaml", "write the path itself, 'base.yaml'"),
        ("presets:detection", "did you mean 'preset:detection'?"),
        ("Preset:detection", "lower case: 'preset:detection'"),
    ],
)
def test_an_extends_that_names_nothing_says_why(tmp_path: Path, written: str, says: str) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: '{written}'\nrotation_range: 5\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(child)
    (problem,) = err.value.problems
    assert problem.file is not None and problem.file.endswith("child.yaml")
    assert problem.line == 1
    assert says in (problem.hint or "")


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("~/aug.yaml", "'~' is not expanded"),
        ("$HOME/aug.yaml", "environment variables are not expanded"),
        ("s3://bucket/aug.yaml", "URLs are not fetched"),
        ("presets:detection", "did you mean 'preset:detection'?"),
    ],
)
def test_a_callers_path_gets_the_same_hint(written: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(written)
    assert says in (err.value.problems[0].hint or "")


def test_a_plain_missing_parent_keeps_its_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("rotation_range: 5\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yml\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(child)
    assert "base.yaml" in (err.value.problems[0].hint or "")
