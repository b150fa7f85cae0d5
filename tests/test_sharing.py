"""The documented sharing pattern, end to end: a team base, a project that extends it and
overrides two values, ``confaug resolve`` showing the merge, the schema modeline for editors.

The configs and the expected ``resolve`` output are read from docs/readme/sharing.md, so the
documentation cannot drift from what confaug does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import confaug
from tests.conftest import Run
from tests.helpers import one_image

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "readme" / "sharing.md"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Run) -> Path:
    """The documented layout: my-project/ holds aug.yaml, augment/team-base.yaml and
    augment/confaug.schema.json."""
    base_text, project_text = _blocks("yaml")[:2]
    root = tmp_path / "my-project"
    (root / "augment").mkdir(parents=True)
    (root / "augment" / "team-base.yaml").write_text(base_text, encoding="utf-8")
    (root / "aug.yaml").write_text(project_text, encoding="utf-8")
    monkeypatch.chdir(root)
    assert cli("schema", "-o", "augment/confaug.schema.json")[0] == 0
    return root


def test_resolve_shows_the_documented_merge(project: Path, cli: Run) -> None:
    documented = next(
        b for b in _blocks("console") if b.startswith("$ confaug resolve aug.yaml --set-only")
    )
    expected = documented.splitlines()[1:]
    code, out, _ = cli("resolve", "aug.yaml", "--set-only")
    assert code == 0
    lines = out.splitlines()
    assert (
        lines[0]
        == expected[0]
        == (
            "# resolved by confaug from: aug.yaml -> augment/team-base.yaml -> "
            "preset:classification_light"
        )
    )
    assert re.fullmatch(
        r"# fingerprint: sha256:[0-9a-f]{64} albumentations==\S+ confaug==\S+", lines[1]
    )
    assert lines[2:] == expected[2:]


def test_project_overrides_exactly_two_values(project: Path) -> None:
    child = confaug.load_spec("aug.yaml").to_data(full=True)
    parent = confaug.load_spec("augment/team-base.yaml").to_data(full=True)
    changed = {key for key in child if child[key] != parent[key]}
    assert changed == {"rotation_range", "vertical_flip"}
    assert (child["rotation_range"], child["vertical_flip"]) == (20, True)
    assert parent["zoom_range"] == [0.9, 1.1]  # the team's own choice
    assert parent["fill_mode"] == "reflect"  # from preset:classification_light, two levels up
    assert confaug.load_spec("aug.yaml").transforms[0].name == "RandomBrightnessContrast"


def test_validate_both_files_in_ci(project: Path, cli: Run) -> None:
    code, out, _ = cli("validate", "aug.yaml", "augment/team-base.yaml")
    assert code == 0 and "2 valid, 0 invalid" in out
    assert cli("schema", "--check", "augment/confaug.schema.json")[0] == 0


def test_schema_modeline_points_at_the_schema_and_the_files_satisfy_it(project: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for config in (project / "aug.yaml", project / "augment" / "team-base.yaml"):
        first = config.read_text(encoding="utf-8").splitlines()[0]
        match = MODELINE.match(first)
        assert match, f"{config.name}: first line must be the schema modeline"
        schema_file = (config.parent / match.group(1)).resolve()
        assert schema_file == (project / "augment" / "confaug.schema.json").resolve()
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
        jsonschema.validate(yaml.safe_load(config.read_text(encoding="utf-8")), schema)
        wrong = {**yaml.safe_load(config.read_text(encoding="utf-8")), "rotation_rang": 3}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema)  # the editor flags typos too


def test_a_config_started_from_a_preset_points_at_the_project_schema(
    project: Path, cli: Run
) -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = re.search(r"`confaug (presets show NAME --schema \S+) > aug\.yaml`", text)
    assert documented, "sharing.md shows how to start a config from a preset"
    argv = documented.group(1).replace("NAME", "segmentation").split()
    code, out, _ = cli(*argv)
    assert code == 0
    (project / "started.yaml").write_text(out, encoding="utf-8")
    match = MODELINE.match(out.splitlines()[0])
    assert (
        match
        and (project / match.group(1)).resolve()
        == (project / "augment" / "confaug.schema.json").resolve()
    )
    assert cli("validate", "started.yaml")[0] == 0


def test_resolved_file_runs_like_the_original(project: Path, cli: Run) -> None:
    assert cli("resolve", "aug.yaml", "-o", "resolved.yaml")[0] == 0
    assert confaug.load_spec("resolved.yaml") == confaug.load_spec("aug.yaml")
    image = one_image(64)
    one = confaug.load_pipeline("aug.yaml")(image=image, seed=5)["image"]
    two = confaug.load_pipeline("resolved.yaml")(image=image, seed=5)["image"]
    assert np.array_equal(one, two)


def test_two_teams_compare_fingerprints(project: Path, cli: Run, tmp_path: Path) -> None:
    ours = cli("resolve", "aug.yaml", "--fingerprint")[1]
    # Another team flattened the config into one file with its keys in another order.
    theirs = tmp_path / "other-team.yaml"
    data = confaug.load_spec("aug.yaml").to_data()
    theirs.write_text(yaml.safe_dump(dict(sorted(data.items()))), encoding="utf-8")
    assert cli("resolve", str(theirs), "--fingerprint")[1] == ours
    assert cli("resolve", str(theirs), "--fingerprint", "--set", "rotation_range=25")[1] != ours
    assert cli("resolve", "aug.yaml", "--fingerprint", "--set", "rotation_range=25")[1] != ours


def test_problem_in_the_base_names_the_base_file(project: Path, cli: Run) -> None:
    base = project / "augment" / "team-base.yaml"
    base.write_text(base.read_text().replace("[0.9, 1.1]", "[1.1, 0.9]"), encoding="utf-8")
    code, out, _ = cli("validate", "aug.yaml")
    assert code == 1
    assert out.startswith("augment/team-base.yaml:6:13: zoom_range: ")


def test_try_a_change_without_editing(project: Path, cli: Run) -> None:
    code, out, _ = cli("resolve", "aug.yaml", "--set", "rotation_range=30", "--set-only")
    assert code == 0 and yaml.safe_load(out)["rotation_range"] == 30
    assert "rotation_range: 20" in (project / "aug.yaml").read_text()


def test_shared_checkout_next_to_the_project_needs_allow_root(
    project: Path, cli: Run, tmp_path: Path
) -> None:
    shared = tmp_path / "team-configs"
    shared.mkdir()
    (project / "augment" / "team-base.yaml").rename(shared / "base.yaml")
    (project / "aug.yaml").write_text(
        (project / "aug.yaml")
        .read_text()
        .replace("augment/team-base.yaml", "../team-configs/base.yaml"),
        encoding="utf-8",
    )
    code, out, _ = cli("validate", "aug.yaml")
    assert code == 1 and "outside the allowed roots" in out
    assert cli("validate", "aug.yaml", "--allow-root", str(shared))[0] == 0
    spec = confaug.load_spec("aug.yaml", allowed_roots=[shared])
    assert spec.rotation_range == 20 and spec.zoom_range == [0.9, 1.1]


def test_extends_cycle_is_reported(project: Path, cli: Run) -> None:
    base = project / "augment" / "team-base.yaml"
    base.write_text(
        base.read_text().replace("extends: preset:classification_light", "extends: ../aug.yaml")
    )
    code, out, _ = cli("validate", "aug.yaml")
    assert code == 1 and "extends cycle" in out
