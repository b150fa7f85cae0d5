"""The caller's time budget: ``time_budget=`` on the loaders, ``--time-budget`` on the CLI.

A config over the default budget (2 s for the 1024×1024 reference image) is refused with a
hint naming the budget the whole pipeline needs, spelled as the caller passes it; the caller
may raise (or lower) the budget, a config or its ``extends`` parents never can, and the
bounds no budget lifts (memory, image size, counts) stay.
"""

from __future__ import annotations

import json
import math
import re

import pytest

import confaug
from confaug.errors import ConfigError, Problem
from confaug.spec.cost import DEFAULT_TIME_BUDGET, MAX_TIME_BUDGET, check_time_budget, estimate
from tests.conftest import Run, WriteConfig

#: Three steps that each pass the default budget and together do not (~3.4 s estimated).
HEAVY = "version: 1\ntransforms:\n  - GlassBlur: {iterations: 4}\n  - RandomFog\n  - Blur\n"
#: One step past the default budget on its own (~18 s), then a cheap one.
SLOW_STEP = {"version": 1, "transforms": ["PiecewiseAffine", "HorizontalFlip"]}


def _refusal(source: object, **options: object) -> Problem:
    with pytest.raises(ConfigError) as caught:
        confaug.load_spec(source, **options)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    return problem


def _granted(hint: str | None, pattern: str) -> int:
    assert hint is not None
    match = re.search(pattern, hint)
    assert match, hint
    return int(match.group(1))


def test_the_default_refuses_and_the_hint_names_the_python_keyword(write: WriteConfig) -> None:
    write("aug.yaml", HEAVY)
    problem = _refusal("aug.yaml")
    assert (problem.file, problem.line, problem.field) == ("aug.yaml", 3, "transforms")
    assert "past the budget of 2 s" in problem.message
    seconds = _granted(problem.hint, r"pass time_budget=(\d+) to load it")
    assert "--time-budget" not in (problem.hint or "")
    # The number named is enough for the whole pipeline, and the least whole second that is.
    pipe = confaug.load_pipeline("aug.yaml", time_budget=seconds)
    assert [step.name for step in pipe.spec.transforms] == ["GlassBlur", "RandomFog", "Blur"]
    assert math.ceil(estimate(pipe.spec).ms / 1000) == seconds
    with pytest.raises(ConfigError):
        confaug.load_spec("aug.yaml", time_budget=seconds - 1)


def test_a_step_over_the_budget_names_what_the_whole_pipeline_needs() -> None:
    problem = _refusal(SLOW_STEP)
    assert problem.field == "transforms.0.PiecewiseAffine"
    seconds = _granted(problem.hint, r"time_budget=(\d+)")
    spec = confaug.load_spec(SLOW_STEP, time_budget=seconds)
    assert len(spec.transforms) == 2
    # The step alone is ~18 s: the flip after it is counted in what the hint names.
    assert seconds >= estimate(spec, seconds).ms / 1000 > 2


def test_a_lower_budget_refuses_what_the_default_accepts() -> None:
    config = {"version": 1, "transforms": ["RandomFog"]}  # ~1.9 s estimated
    assert confaug.load_spec(config).transforms[0].name == "RandomFog"
    problem = _refusal(config, time_budget=0.5)
    assert "past the budget of 0.5 s" in problem.message
    assert _granted(problem.hint, r"time_budget=(\d+)") == 2


def test_overrides_and_specs_take_the_budget_too() -> None:
    base = {"version": 1, "transforms": ["HorizontalFlip"]}
    swap = ["transforms=[PiecewiseAffine]"]
    with pytest.raises(ConfigError):
        confaug.load_spec(base, overrides=swap)
    spec = confaug.load_spec(base, overrides=swap, time_budget=60)
    assert spec.transforms[0].name == "PiecewiseAffine"
    # A Spec already loaded under a raised budget is compiled as it is.
    assert confaug.load_pipeline(spec).spec is spec


def test_what_no_budget_lifts_is_refused_whatever_the_budget() -> None:
    memory = {"version": 1, "transforms": [{"CLAHE": {"tile_grid_size": [32767, 32767]}}]}
    problem = _refusal(memory, time_budget=MAX_TIME_BUDGET)
    assert "GiB of memory" in problem.message and problem.hint is None
    size = {"version": 1, "transforms": [{"Resize": {"height": 32767, "width": 32767}}]}
    problem = _refusal(size, time_budget=MAX_TIME_BUDGET)
    assert "megapixels" in problem.message and problem.hint is None


def test_a_pipeline_past_the_largest_budget_gets_no_hint_to_raise_it() -> None:
    storm = {
        "version": 1,
        "transforms": [{"SomeOf": {"n": 999, "replace": True, "transforms": ["PiecewiseAffine"]}}],
    }
    problem = _refusal(storm, time_budget=MAX_TIME_BUDGET)
    assert "past the budget of 3600 s" in problem.message
    assert problem.hint is None  # ~5 hours: no budget a caller may pass covers it


@pytest.mark.parametrize("value", [0, -1, 0.0, float("nan"), float("inf"), MAX_TIME_BUDGET + 1])
def test_a_budget_out_of_range_is_a_value_error(value: float) -> None:
    config = {"version": 1}
    for load in (confaug.load_spec, confaug.load_pipeline):
        with pytest.raises(ValueError, match="time_budget must be more than 0") as caught:
            load(config, time_budget=value)
        assert not isinstance(caught.value, ConfigError)  # the caller's mistake, not the config's
    spec = confaug.load_spec(config)
    with pytest.raises(ValueError, match="time_budget"):
        confaug.load_pipeline(spec, time_budget=value)  # refused even with nothing to estimate


@pytest.mark.parametrize("value", [True, "7", None, [7]])
def test_a_budget_that_is_not_a_number_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="time_budget must be a number of seconds"):
        confaug.load_spec({"version": 1}, time_budget=value)  # type: ignore[arg-type]


def test_the_limits_of_the_budget_itself() -> None:
    assert check_time_budget(MAX_TIME_BUDGET) == MAX_TIME_BUDGET
    assert check_time_budget(1e-3) == 1e-3
    assert check_time_budget(7) == 7.0 and isinstance(check_time_budget(7), float)
    assert DEFAULT_TIME_BUDGET == 2.0


def test_a_config_cannot_set_the_budget(write: WriteConfig) -> None:
    write("aug.yaml", HEAVY + "time_budget: 30\n")
    with pytest.raises(ConfigError) as caught:
        confaug.load_spec("aug.yaml")
    unknown = [p for p in caught.value.problems if p.field == "time_budget"]
    assert [(p.line, p.message) for p in unknown] == [(6, "unknown key")]
    # Nor can a parent it extends; and the parent's key is named in the parent's file.
    write("base.yaml", "version: 1\ntime_budget: 30\nmax_seconds_per_image: 30\n")
    write("child.yaml", "extends: base.yaml\ntransforms:\n  - GlassBlur: {iterations: 4}\n")
    with pytest.raises(ConfigError) as caught:
        confaug.load_spec("child.yaml")
    fields = {(p.file, p.field, p.message) for p in caught.value.problems}
    assert ("base.yaml", "time_budget", "unknown key") in fields
    assert ("base.yaml", "max_seconds_per_image", "unknown key") in fields


def test_the_cli_hint_names_its_flag_and_the_flag_loads_it(write: WriteConfig, cli: Run) -> None:
    write("aug.yaml", HEAVY)
    code, out, _ = cli("validate", "aug.yaml")
    assert code == 1
    seconds = _granted(out, r"\(if you trust this config, add --time-budget (\d+)\)")
    assert "time_budget=" not in out
    assert cli("validate", "aug.yaml", "--time-budget", str(seconds)) == (0, "aug.yaml: ok\n", "")
    code, out, _ = cli("validate", "aug.yaml", "--format", "json")
    (problem,) = json.loads(out)["files"][0]["problems"]
    assert problem["hint"] == f"if you trust this config, add --time-budget {seconds}"
    # Python callers in the same process still get the keyword: the flag's wording was scoped.
    assert "pass time_budget=" in (_refusal("aug.yaml").hint or "")


@pytest.mark.parametrize("command", ["resolve", "diff"])
def test_commands_that_load_a_config_take_the_flag(
    command: str, write: WriteConfig, cli: Run
) -> None:
    write("aug.yaml", HEAVY)
    configs = ["aug.yaml", "aug.yaml"] if command == "diff" else ["aug.yaml"]
    code, _, err = cli(command, *configs)
    assert code == 1 and "add --time-budget" in err
    code, _, err = cli(command, *configs, "--time-budget", "10")
    assert code == 0, err


@pytest.mark.parametrize(
    "words",
    [
        ["preview", "aug.yaml"],
        ["augment", "in", "out", "--config", "aug.yaml", "--copies", "1"],
        ["demo", "--config", "aug.yaml"],
        ["validate", "aug.yaml"],
    ],
)
def test_the_flag_is_a_config_option_of_every_command(words: list[str]) -> None:
    from confaug.cli import build_parser

    args = build_parser().parse_args([*words, "--time-budget", "7.5"])
    assert args.time_budget == 7.5


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0", "must be more than 0 and at most 3600 seconds, got 0"),
        ("-2", "must be more than 0"),
        ("nan", "must be more than 0"),
        ("inf", "must be more than 0"),
        ("3601", "must be more than 0 and at most 3600 seconds, got 3601"),
        ("seven", "expected a number of seconds, got 'seven'"),
    ],
)
def test_the_cli_refuses_a_bad_budget_as_a_usage_error(
    value: str, says: str, write: WriteConfig, cli: Run
) -> None:
    write("aug.yaml", "version: 1\n")
    code, out, err = cli("validate", "aug.yaml", "--time-budget", value)
    assert (code, out) == (2, "")
    assert f"argument --time-budget: {says}" in err
