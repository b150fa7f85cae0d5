"""``extends`` (relative paths, presets, deep merge, cycles, roots) and dotted overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import confaug
from confaug import ConfigError
from confaug.reading.extends import MAX_EXTENDS_DEPTH
from confaug.reading.merge import deep_merge
from tests.conftest import WriteConfig
from tests.helpers import only_problem, position

BASE = """\
version: 1
fill_mode: reflect
rotation_range: 10
zoom_range: [0.9, 1.1]
bbox_params: {format: coco, label_fields: [labels], min_area: 4}
transforms:
  - HorizontalFlip: {p: 0.5}
  - GaussNoise: {std_range: [0.1, 0.2]}
"""


def test_child_wins_mappings_merge_lists_replace(write: WriteConfig) -> None:
    write("base/base.yaml", BASE)
    write(
        "aug.yaml",
        "extends: base/base.yaml\nrotation_range: 20\nzoom_range: [0.8, 1.0]\n"
        "bbox_params: {min_area: 9}\ntransforms:\n  - VerticalFlip\n",
    )
    spec = confaug.load_spec("aug.yaml")
    assert spec.version == 1  # inherited
    assert spec.fill_mode == "reflect"
    assert spec.rotation_range == 20
    assert spec.zoom_range == [0.8, 1.0]
    assert spec.bbox_params == {"format": "coco", "label_fields": ["labels"], "min_area": 9}
    assert [step.name for step in spec.transforms] == ["VerticalFlip"]


def test_deep_merge_unit() -> None:
    parent = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    child = {"a": {"c": [3], "e": {"f": 1}}, "d": None}
    assert deep_merge(parent, child) == {"a": {"b": 1, "c": [3], "e": {"f": 1}}, "d": None}
    assert parent == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_list_of_parents_later_wins(write: WriteConfig) -> None:
    write("one.yaml", "version: 1\nrotation_range: 1\nshear_range: 1\n")
    write("two.yaml", "version: 1\nrotation_range: 2\nzoom_range: 0.2\n")
    write("aug.yaml", "extends: [one.yaml, two.yaml]\nzoom_range: 0.3\n")
    spec = confaug.load_spec("aug.yaml")
    assert (spec.rotation_range, spec.shear_range, spec.zoom_range) == (2, 1, 0.3)


def test_diamond_is_not_a_cycle(write: WriteConfig) -> None:
    write("root.yaml", "version: 1\nrotation_range: 5\n")
    write("left.yaml", "extends: root.yaml\nshear_range: 2\n")
    write("right.yaml", "extends: root.yaml\nzoom_range: 0.1\n")
    write("aug.yaml", "extends: [left.yaml, right.yaml]\n")
    spec = confaug.load_spec("aug.yaml")
    assert (spec.rotation_range, spec.shear_range, spec.zoom_range) == (5, 2, 0.1)


def test_parent_problems_name_the_parent_file(write: WriteConfig) -> None:
    parent = BASE.replace("[0.1, 0.2]", "[0.2, 0.1]")
    write("base/base.yaml", parent)
    child = "extends: base/base.yaml\nrotaton_range: 3\n"
    write("aug.yaml", child)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    got = [(p.file, p.line, p.column, p.field) for p in err.value.problems]
    assert got == [
        ("aug.yaml", 2, 1, "rotaton_range"),
        (
            os.path.join("base", "base.yaml"),
            *position(parent, "[0.2"),
            "transforms.1.GaussNoise.std_range",
        ),
    ]
    assert str(err.value).splitlines()[1].startswith("base/base.yaml:8:")


def test_grandparent_problem_and_absolute_names_outside_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs = tmp_path / "configs"
    (configs / "deep").mkdir(parents=True)
    (configs / "deep" / "g.yaml").write_text("version: 1\nfill_mode: mirror\n")
    (configs / "p.yaml").write_text("extends: deep/g.yaml\n")
    (configs / "aug.yaml").write_text("extends: p.yaml\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(configs / "aug.yaml")
    problem = only_problem(err)
    # Outside the working directory a file is named by its absolute path, never ../../
    assert problem.file == str((configs / "deep" / "g.yaml").resolve())
    assert (problem.line, problem.column, problem.field) == (2, 12, "fill_mode")


def test_cycle_of_three_files_shows_the_chain(write: WriteConfig) -> None:
    write("a.yaml", "version: 1\nextends: b.yaml\n")
    write("b.yaml", "extends: sub/c.yaml\n")
    c_text = "rotation_range: 3\nextends: ../a.yaml\n"
    write("sub/c.yaml", c_text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("a.yaml")
    problem = only_problem(err)
    assert problem.file == os.path.join("sub", "c.yaml")
    assert (problem.line, problem.column) == position(c_text, "../a.yaml")
    assert problem.field == "extends"
    assert "cycle" in problem.message
    assert "a.yaml → b.yaml → sub/c.yaml → a.yaml" in problem.message


def test_file_extending_itself(write: WriteConfig) -> None:
    write("self.yaml", "version: 1\nextends: ./self.yaml\n")
    with pytest.raises(ConfigError, match=r"cycle: self\.yaml → self\.yaml"):
        confaug.load_spec("self.yaml")


def test_chain_length_is_bounded(write: WriteConfig) -> None:
    count = MAX_EXTENDS_DEPTH + 2
    for i in range(count):
        write(f"c{i}.yaml", f"extends: c{i + 1}.yaml\n" if i + 1 < count else "version: 1\n")
    with pytest.raises(ConfigError, match="longer than"):
        confaug.load_spec("c0.yaml")
    assert confaug.load_spec(f"c{count - MAX_EXTENDS_DEPTH}.yaml").version == 1


@pytest.mark.parametrize(
    "target", ["../../etc/passwd", "/etc/passwd", "../outside.yaml", "sub/../../outside.yaml"]
)
def test_paths_leaving_the_roots_are_refused(write: WriteConfig, target: str) -> None:
    write("../outside.yaml", "version: 1\n")
    text = f"version: 1\nextends: {target}\n"
    write("aug.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column, problem.field) == (
        "aug.yaml",
        2,
        10,
        "extends",
    )
    assert "outside the allowed roots" in problem.message


def test_symlink_out_of_the_tree_is_refused(write: WriteConfig, in_tmp: Path) -> None:
    outside = write("../secret.yaml", "version: 1\n")
    (in_tmp / "link.yaml").symlink_to(outside)
    write("aug.yaml", "version: 1\nextends: link.yaml\n")
    with pytest.raises(ConfigError, match="outside the allowed roots"):
        confaug.load_spec("aug.yaml")


def test_allowed_roots_permit_a_shared_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    project = tmp_path / "project"
    shared.mkdir()
    project.mkdir()
    (shared / "team.yaml").write_text("version: 1\nrotation_range: 7\n")
    (project / "aug.yaml").write_text("extends: ../shared/team.yaml\n")
    with pytest.raises(ConfigError, match="allowed_roots"):
        confaug.load_spec(project / "aug.yaml")
    spec = confaug.load_spec(project / "aug.yaml", allowed_roots=[shared])
    assert spec.rotation_range == 7


def test_missing_parent_is_located(write: WriteConfig) -> None:
    text = "version: 1\nextends: nothere.yaml\n"
    write("aug.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column, problem.field) == (
        "aug.yaml",
        2,
        10,
        "extends",
    )
    assert "not found" in problem.message


@pytest.mark.parametrize("value", ["3", "{a: 1}", "[a.yaml, 3]", "''", "null"])
def test_extends_must_be_paths(write: WriteConfig, value: str) -> None:
    write("aug.yaml", f"version: 1\nextends: {value}\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.line, problem.field) == (2, "extends")


def test_parent_syntax_error_names_the_parent(write: WriteConfig) -> None:
    write("base.yaml", "version: 1\nzoom_range: [0.9\n")
    write("aug.yaml", "extends: base.yaml\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    assert only_problem(err).file == "base.yaml"


# ---- presets -------------------------------------------------------------------------


def test_extends_a_preset(write: WriteConfig, presets: Path) -> None:
    (presets / "light.yaml").write_text("version: 1\nrotation_range: 5\nhorizontal_flip: true\n")
    (presets / "heavier.yaml").write_text("extends: preset:light\nrotation_range: 30\n")
    write("aug.yaml", "extends: preset:heavier\nvertical_flip: true\n")
    spec = confaug.load_spec("aug.yaml")
    assert (spec.rotation_range, spec.horizontal_flip, spec.vertical_flip) == (30, True, True)
    assert confaug.load_spec("preset:light").rotation_range == 5
    assert confaug.load_pipeline("preset:heavier").spec.rotation_range == 30


def test_preset_problems_name_the_preset_file(write: WriteConfig, presets: Path) -> None:
    (presets / "broken.yaml").write_text("version: 1\nfill_mode: mirror\n")
    write("aug.yaml", "extends: preset:broken\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert problem.file is not None and problem.file.endswith("broken.yaml")
    assert (problem.line, problem.column) == (2, 12)


def test_unknown_preset_suggests_a_name(write: WriteConfig, presets: Path) -> None:
    (presets / "classification.yaml").write_text("version: 1\n")
    write("aug.yaml", "version: 1\nextends: preset:clasification\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    problem = only_problem(err)
    assert (problem.file, problem.line, problem.column) == ("aug.yaml", 2, 10)
    assert problem.hint == "did you mean 'classification'?"
    with pytest.raises(ConfigError, match="no preset named"):
        confaug.load_spec("preset:nothing")


@pytest.mark.parametrize("name", ["../aug", "/etc/passwd", "a/b", "UPPER", ""])
def test_preset_names_cannot_be_paths(write: WriteConfig, presets: Path, name: str) -> None:
    write("aug.yaml", f"version: 1\nextends: 'preset:{name}'\n")
    with pytest.raises(ConfigError, match="no preset named"):
        confaug.load_spec("aug.yaml")


def test_shipped_keras_seed_preset_reads_as_the_seed() -> None:
    from confaug import resources

    if not (resources.presets_dir() / "keras_seed.yaml").is_file():
        pytest.skip("presets/keras_seed.yaml is not written yet")
    spec = confaug.load_spec("preset:keras_seed")
    assert spec.rotation_range == 15
    assert spec.width_shift_range == 0.1 and spec.height_shift_range == 0.1
    assert spec.shear_range == 0.01
    assert spec.zoom_range == [0.9, 1.25]
    assert spec.horizontal_flip is True and spec.vertical_flip is False
    assert spec.fill_mode == "reflect" and spec.data_format == "channels_last"
    assert spec.brightness_range == [0.5, 1.5]


# ---- overrides -----------------------------------------------------------------------


def test_overrides_apply_after_extends_as_yaml_scalars(write: WriteConfig) -> None:
    write("base.yaml", BASE)
    write("aug.yaml", "extends: base.yaml\nrotation_range: 12\n")
    spec = confaug.load_spec(
        "aug.yaml",
        overrides=[
            "rotation_range=20",
            "transforms.1.GaussNoise.p=0.1",
            "zoom_range=[0.8, 1.2]",
            "fill_mode=wrap",
            "horizontal_flip=true",
            "rescale='1/255'",
            "seed=0x10",
            "bbox_params.min_visibility=0.5",
        ],
    )
    assert spec.rotation_range == 20 and isinstance(spec.rotation_range, int)
    assert spec.transforms[1].params == {"std_range": [0.1, 0.2], "p": 0.1}
    assert spec.zoom_range == [0.8, 1.2]
    assert spec.fill_mode == "wrap"
    assert spec.horizontal_flip is True
    assert spec.rescale == pytest.approx(1 / 255)
    assert spec.seed == 16
    assert spec.bbox_params is not None and spec.bbox_params["min_visibility"] == 0.5
    assert spec.bbox_params["format"] == "coco"


def test_override_forms(write: WriteConfig) -> None:
    write("aug.yaml", BASE)
    assert confaug.load_spec("aug.yaml", overrides="rotation_range=3").rotation_range == 3
    spaced = confaug.load_spec("aug.yaml", overrides=[" rotation_range = 4 "])
    assert spaced.rotation_range == 4
    mapping = confaug.load_spec("aug.yaml", overrides={"transforms.0.HorizontalFlip.p": 1.0})
    assert mapping.transforms[0].params["p"] == 1.0
    assert confaug.load_spec("aug.yaml", overrides=["brightness_range="]).brightness_range is None
    pipe = confaug.load_pipeline({"version": 1}, overrides=["horizontal_flip=true"])
    assert pipe.spec.horizontal_flip is True


@pytest.mark.parametrize(
    ("override", "field", "column", "words"),
    [
        ("rotation_range", "rotation_range", 1, "key=value"),
        ("a..b=1", "a..b", 1, "key=value"),
        ("transforms.-1.p=1", "transforms.-1.p", 1, "key=value"),
        ("transforms.9.Blur.p=1", "transforms.9.Blur.p", 21, "existing list item"),
        ("rotation_range=[1", "rotation_range", 18, "invalid YAML"),
        ("rotation_range=!!python/object:os.system {}", "rotation_range", 16, "not allowed"),
        ("transforms.0.HorizontalFlip.p=yes", "transforms.0.HorizontalFlip.p", 31, "YAML 1.1"),
        ("version=2", "version", 9, "1"),
        ("seed=abc", "seed", 6, "integer"),
        ("zoom_range=[0.5, 0.2]", "zoom_range", 12, "low ≤ high"),
        ("extends=other.yaml", "extends", 1, "cannot be overridden"),
        ("rotation_range.deg=1", "rotation_range", 20, "mapping"),
    ],
)
def test_bad_overrides_are_located_in_the_override(
    write: WriteConfig, override: str, field: str, column: int, words: str
) -> None:
    write("aug.yaml", BASE)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["fill_mode=constant", override])
    problem = only_problem(err)
    assert problem.file == f"<override '{override}'>"
    assert (problem.line, problem.column, problem.field) == (1, column, field)
    assert words in problem.message


def test_bad_mapping_override_is_not_blamed_on_the_file(write: WriteConfig) -> None:
    write("aug.yaml", BASE)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides={"rotation_range": float("nan")})
    problem = only_problem(err)
    assert problem.file == "<override 'rotation_range'>"
    assert problem.field == "rotation_range" and "finite" in problem.message
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides={"transforms.1.GaussNoise.p": 7})
    assert only_problem(err).file == "<override 'transforms.1.GaussNoise.p'>"
    with pytest.raises(ConfigError):
        confaug.load_spec("aug.yaml", overrides={"extends": "x.yaml"})
    with pytest.raises(ConfigError):
        confaug.load_spec("aug.yaml", overrides={3: 1})  # type: ignore[dict-item]


def test_every_bad_override_is_reported(write: WriteConfig) -> None:
    write("aug.yaml", BASE)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["nokey", "rotation_range=[1", "x..y=2"])
    assert len(err.value.problems) == 3
