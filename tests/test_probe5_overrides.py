"""Probe 5 (configs): resolve's header, overrides (merging, positions, hints), non-string keys,
and the smaller reading and CLI output problems."""

from __future__ import annotations

from pathlib import Path

import pytest

import confaug
from confaug import ConfigError
from confaug.cli.resolve import fingerprint
from confaug.errors import did_you_mean
from tests.conftest import Run, WriteConfig


def problems(err: pytest.ExceptionInfo[ConfigError]) -> list[tuple[int | None, int | None, str]]:
    return [(p.line, p.column, p.field) for p in err.value.problems]


# --- Finding 0: resolve's header comment ----------------------------------------------------


def test_a_newline_in_a_parent_name_stays_inside_resolves_comment(
    write: WriteConfig, cli: Run
) -> None:
    write("p\nvertical_flip: true #.yaml", "rotation_range: 1\n")
    write("aug.yaml", 'extends: "p\\nvertical_flip: true #.yaml"\nzoom_range: 0.1\n')
    code, _, err = cli("resolve", "aug.yaml", "--set-only", "-o", "resolved.yaml")
    assert code == 0, err
    text = Path("resolved.yaml").read_text(encoding="utf-8")
    assert "\nvertical_flip" not in text
    original, resolved = confaug.load_spec("aug.yaml"), confaug.load_spec("resolved.yaml")
    assert resolved.vertical_flip is False
    assert resolved == original and fingerprint(resolved) == fingerprint(original)


def test_a_multi_line_set_value_stays_inside_resolves_comment(write: WriteConfig, cli: Run) -> None:
    write("aug.yaml", "rotation_range: 10\nbbox_params: {format: coco}\n")
    overrides = [
        "transforms=[Blur,\n  GaussNoise]",
        "bbox_params.label_fields=['a\nvertical_flip: 1']",
    ]
    args = [item for value in overrides for item in ("--set", value)]
    code, _, err = cli("resolve", "aug.yaml", "--set-only", *args, "-o", "resolved.yaml")
    assert code == 0, err
    original = confaug.load_spec("aug.yaml", overrides=overrides)
    resolved = confaug.load_spec("resolved.yaml")
    assert resolved.vertical_flip is False
    assert resolved == original and fingerprint(resolved) == fingerprint(original)


# --- Finding 3: a mapping override merges ---------------------------------------------------


def test_a_mapping_override_merges_as_a_child_file_does(write: WriteConfig) -> None:
    write("child.yaml", "extends: preset:detection\nbbox_params: {format: coco}\n")
    by_file = confaug.resolve("child.yaml").data["bbox_params"]
    by_set = confaug.resolve("preset:detection", overrides=["bbox_params={format: coco}"])
    by_dict = confaug.resolve("preset:detection", overrides={"bbox_params": {"format": "coco"}})
    assert by_set.data["bbox_params"] == by_dict.data["bbox_params"] == by_file
    assert by_file["format"] == "coco" and "min_visibility" in by_file


def test_a_mapping_override_of_a_step_replaces_the_step(write: WriteConfig) -> None:
    write("aug.yaml", "transforms:\n  - GaussNoise: {p: 0.2}\n")
    data = confaug.resolve("aug.yaml", overrides=["transforms.0={Blur: {p: 0.5}}"]).data
    assert data["transforms"] == [{"Blur": {"p": 0.5}}]  # list items are replaced, as lists are


def test_a_merged_override_keeps_the_files_positions_for_what_it_does_not_set(
    write: WriteConfig,
) -> None:
    write("aug.yaml", "bbox_params:\n  format: coco\n  min_visibility: 5\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["bbox_params={clip: true}"])
    assert [(p.file, p.line) for p in err.value.problems] == [("aug.yaml", 3)]


# --- Finding 4: non-string keys -------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"transforms": [{True: {}}]}, "transforms.0"),
        ({"transforms": [{"Blur": {5: 1}}]}, "transforms.0.Blur"),
        (
            {"transforms": [{"SomeOf": {"n": 1, "transforms": ["Blur"], 7: 1}}]},
            "transforms.0.SomeOf",
        ),
        ({"bbox_params": {1: "coco"}}, "bbox_params"),
        ({2: 1}, ""),
    ],
)
def test_a_key_that_is_not_a_string_is_refused_naming_its_place(
    config: dict[object, object], field: str
) -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(config)
    (problem,) = err.value.problems
    assert problem.field == field and "is not a string" in problem.message


def test_a_non_string_key_in_an_override_or_a_to_dict_mapping_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline({"rotation_range": 1}, overrides={"transforms": [{"Blur": {5: 1}}]})
    assert [p.field for p in err.value.problems] == ["transforms.0.Blur"]
    albu = {
        "__version__": "2.0.8",
        "transform": {
            "__class_fullname__": "Compose",
            "p": 1.0,
            "transforms": [{"__class_fullname__": "Blur", "p": 0.5, 5: 1}],
        },
    }
    with pytest.raises(ConfigError, match="is not a string"):
        confaug.load_pipeline(albu)


def test_did_you_mean_takes_words_that_are_not_strings() -> None:
    assert did_you_mean(5, ["Blur", "GaussNoise"]) is None
    assert did_you_mean(True, ["True", "False"]) == "did you mean 'True'?"


# --- Finding 8: positions inside an override's value ----------------------------------------


def test_problems_inside_a_flow_override_are_placed_where_written(write: WriteConfig) -> None:
    write("aug.yaml", "rotation_range: 10\n")
    text = "transforms=[{GaussNoise: {p: 5}}, {HorizntalFlip: {}}]"
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=[text])
    assert problems(err) == [
        (1, text.index("5") + 1, "transforms.0.GaussNoise.p"),
        (1, text.index("HorizntalFlip") + 1, "transforms.1.HorizntalFlip"),
    ]


def test_problems_inside_a_multi_line_override_are_placed_on_their_line(
    write: WriteConfig,
) -> None:
    write("aug.yaml", "rotation_range: 10\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["transforms=[Blur,\n  Blurr]"])
    assert problems(err) == [(2, 3, "transforms.1")]


def test_a_reading_problem_inside_an_override_names_its_field(write: WriteConfig) -> None:
    write("aug.yaml", "bbox_params: {format: coco}\n")
    text = "bbox_params={clip: yes}"
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=[text])
    assert problems(err) == [(1, text.index("yes") + 1, "bbox_params.clip")]


# --- Finding 9: hints of overrides ----------------------------------------------------------


def test_an_override_into_a_bare_step_by_another_name_says_which_step_it_is(
    write: WriteConfig,
) -> None:
    write("aug.yaml", "transforms:\n  - GaussNoise: {p: 0.2}\n  - HorizontalFlip\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["transforms.1.GaussNoise.p=0.3"])
    (problem,) = err.value.problems
    assert "transforms.1 is HorizontalFlip, not GaussNoise" in problem.message
    assert "{HorizontalFlip: {GaussNoise" not in problem.message
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml", overrides=["transforms.1.HorizontalFlp.p=0.3"])
    assert "did you mean 'HorizontalFlip'?" in err.value.problems[0].message


def test_a_list_index_with_a_leading_zero_is_refused_as_a_value_is(write: WriteConfig) -> None:
    write("aug.yaml", "transforms:\n  - GaussNoise: {p: 0.2}\n  - HorizontalFlip\n")
    with pytest.raises(ConfigError, match="leading zero; write 1"):
        confaug.load_spec("aug.yaml", overrides=["transforms.01=Blur"])


def test_diff_says_which_config_an_error_is_about(cli: Run) -> None:
    code, _, err = cli(
        "diff", "preset:keras_seed", "preset:aerial", "--set", "transforms.1.GaussNoise.p=0.3"
    )
    assert code == 1
    assert "B (preset:aerial with --set)" in err


# --- Finding 10: reading and CLI output -----------------------------------------------------


def test_an_oversized_file_is_not_given_the_size_of_what_was_read(write: WriteConfig) -> None:
    write("big.yaml", "#" * (3 << 20))
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("big.yaml")
    message = err.value.problems[0].message
    assert "1,048,577" not in message and "larger than 1,048,576 bytes" in message


def test_a_trailing_document_marker_is_named(write: WriteConfig) -> None:
    write("aug.yaml", "rotation_range: 1\n---\n")
    with pytest.raises(ConfigError, match="remove the trailing ---"):
        confaug.load_spec("aug.yaml")
    write("two.yaml", "rotation_range: 1\n---\nzoom_range: 0.1\n")
    with pytest.raises(ConfigError, match="more than one YAML document"):
        confaug.load_spec("two.yaml")


def test_a_byte_order_mark_inside_a_file_is_named(write: WriteConfig) -> None:
    write("aug.yaml", "rotation_range: 1\n\ufeffzoom_range: abc\n".encode())
    with pytest.raises(ConfigError) as err:
        confaug.load_spec("aug.yaml")
    assert problems(err) == [(2, 1, "")] and "U+FEFF" in err.value.problems[0].message
    write("ok.yaml", "\ufeffrotation_range: 1\n".encode())  # the one a file may start with
    assert confaug.load_spec("ok.yaml").rotation_range == 1


@pytest.mark.parametrize("command", ["resolve", "preview"])
def test_an_output_under_a_file_is_a_usage_error(
    write: WriteConfig, cli: Run, command: str
) -> None:
    write("afile", "")
    extra = ["--sample", "scene", "-n", "1", "--size", "32"] if command == "preview" else []
    code, _, err = cli(command, "preset:keras_seed", *extra, "-o", "afile/x.png")
    assert code == 2, err
    assert "afile exists and is not a folder" in err and "Errno" not in err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_an_unwritable_output_folder_names_the_output_not_a_temporary_file(cli: Run) -> None:
    code, _, err = cli(
        "preview", "preset:keras_seed", "--sample", "scene", "-n", "1", "--size", "32",
        "-o", "/proc/confaug-probe5.png",
    )  # fmt: skip
    assert code == 1 and "/proc/confaug-probe5.png" in err and ".part" not in err


def test_preview_writes_the_format_its_output_names(in_tmp: Path, cli: Run) -> None:
    args = ("preview", "preset:keras_seed", "--sample", "scene", "-n", "1", "--size", "32")
    assert cli(*args, "-o", "grid.jpg")[0] == 0
    assert (in_tmp / "grid.jpg").read_bytes()[:2] == b"\xff\xd8"  # JPEG, not PNG bytes
    assert cli(*args, "-o", "grid.png")[0] == 0
    assert (in_tmp / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = cli(*args, "-o", "grid.gif")
    assert code == 2 and "name it .png" in err and not (in_tmp / "grid.gif").exists()
