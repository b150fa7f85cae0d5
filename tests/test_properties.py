"""Property tests: random valid specs compile and run; anything else raises ConfigError only.

``CONFAUG_FUZZ_EXAMPLES`` is the number of examples of the fuzz tests of this file in all
(default 4,000, about 30 s of one core), shared out by what an example costs. CI draws the
same examples each run, so past a few thousand a run re-checks what the last one did; raise
it for a longer hunt: ``CONFAUG_FUZZ_EXAMPLES=100000 CONFAUG_FUZZ_RANDOM=1 pytest ...``.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import confaug
from confaug import ConfigError, Problem
from confaug.errors import MAX_HINTS
from confaug.spec.catalog import catalog
from confaug.spec.cost import WORK_BUDGET_MS, estimate
from confaug.spec.model import Spec
from tests.helpers import one_image, python_calls

TOTAL = int(os.environ.get("CONFAUG_FUZZ_EXAMPLES", "4000"))
# CI draws the same examples every run, so a submission's result does not depend on luck;
# CONFAUG_FUZZ_RANDOM=1 explores new ones (run it with a large CONFAUG_FUZZ_EXAMPLES).
DERANDOMIZE = os.environ.get("CONFAUG_FUZZ_RANDOM", "") in ("", "0")
# Each test's share of TOTAL: cheap tests (bytes, text) take more examples than the ones
# that compile and run a pipeline per example. The shares add up to 1.
SHARES = {
    "bytes": 0.2,
    "text": 0.2,
    "junk_keys": 0.07,
    "mutated_text": 0.08,
    "presets": 0.08,
    "junk_steps": 0.07,
    "mutated_values": 0.08,
    "valid": 0.04,
    # Issue 15: the categories of hostile configs that stay inside the per-number bounds.
    "extends_graphs": 0.03,
    "overrides": 0.04,
    "costly_params": 0.04,
    "strict_types": 0.03,
    "storms": 0.01,
    "round_trip": 0.03,
}


def fuzz(share: str) -> settings:
    return settings(
        max_examples=max(int(TOTAL * SHARES[share]), 5),
        derandomize=DERANDOMIZE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


IMAGE = one_image(16)

# ---- strategies of valid specs --------------------------------------------------------

unit = st.floats(0.0, 1.0, allow_nan=False)


def ordered_pair(low: float, high: float) -> st.SearchStrategy[list[float]]:
    bounds = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.tuples(bounds, bounds).map(lambda pair: sorted(pair))


probability = st.one_of(st.just(0.0), st.just(1.0), unit.map(lambda p: round(p, 3)))
fill_mode = st.sampled_from(["constant", "nearest", "reflect", "wrap"])
interpolation = st.sampled_from(["nearest", "bilinear", "bicubic", "area", "lanczos"])
border_mode = st.sampled_from(
    ["constant", "nearest", "replicate", "reflect", "wrap", "reflect_101"]
)

KERAS_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "rotation_range": st.one_of(st.integers(0, 90), ordered_pair(-45, 45)),
    "width_shift_range": st.one_of(
        st.floats(0, 0.3), st.integers(0, 4), st.lists(st.integers(-3, 3), min_size=1, max_size=3)
    ),
    "height_shift_range": st.one_of(st.floats(0, 0.3), st.integers(0, 4)),
    "shear_range": st.floats(0, 20),
    "zoom_range": st.one_of(st.floats(0, 0.5), ordered_pair(0.5, 1.5)),
    "channel_shift_range": st.floats(0, 50),
    "brightness_range": st.one_of(st.none(), ordered_pair(0.3, 1.7)),
    "horizontal_flip": st.booleans(),
    "vertical_flip": st.booleans(),
    "fill_mode": fill_mode,
    "cval": st.integers(0, 255),
    "interpolation": interpolation,
    "rescale": st.sampled_from([None, "1/255", 0.5, 1]),
    "samplewise_center": st.booleans(),
    "samplewise_std_normalization": st.booleans(),
    "seed": st.one_of(st.none(), st.integers(0, 2**40)),
    "dtype": st.sampled_from([None, "float32", "float64"]),
}

LEAF_STEPS: list[st.SearchStrategy[Any]] = [
    st.sampled_from(["HorizontalFlip", "VerticalFlip", "ToGray", "Transpose", "RandomRotate90"]),
    st.builds(lambda p: {"HorizontalFlip": {"p": p}}, probability),
    st.builds(
        lambda r, p: {"GaussNoise": {"std_range": r, "p": p}}, ordered_pair(0.0, 0.3), probability
    ),
    st.builds(
        lambda a, b: {"GaussianBlur": {"blur_limit": sorted([a, b])}},
        st.sampled_from([3, 5, 7]),
        st.sampled_from([3, 5, 7]),
    ),
    st.builds(
        lambda b, c, p: {
            "RandomBrightnessContrast": {"brightness_limit": b, "contrast_limit": c, "p": p}
        },
        ordered_pair(-0.3, 0.3),
        st.floats(0, 0.3),
        probability,
    ),
    st.builds(
        lambda rotate, scale, mode, interp, p: {
            "Affine": {
                "rotate": rotate,
                "scale": scale,
                "border_mode": mode,
                "interpolation": interp,
                "p": p,
            }
        },
        ordered_pair(-30, 30),
        ordered_pair(0.8, 1.2),
        border_mode,
        interpolation,
        probability,
    ),
    st.builds(
        lambda p: {"CoarseDropout": {"num_holes_range": [1, 3], "p": p}},
        probability,
    ),
]
leaf_step = st.one_of(*LEAF_STEPS)


def weight(step: Any) -> float:
    """A step's p (the default is never 0 for the steps drawn here)."""
    if isinstance(step, dict):
        (params,) = step.values()
        return float(params.get("p", 0.5))
    return 0.5


def composite(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    kids = st.lists(children, min_size=1, max_size=3)
    # OneOf uses its children's p as weights: all 0 is invalid (tested in test_spec_errors).
    weighted = kids.filter(lambda t: any(weight(s) > 0 for s in t))
    return st.one_of(
        st.builds(lambda t, p: {"OneOf": {"transforms": t, "p": p}}, weighted, probability),
        st.builds(lambda t: {"Sequential": {"transforms": t}}, kids),
        kids.flatmap(
            lambda t: st.builds(
                lambda n, replace: {"SomeOf": {"transforms": t, "n": n, "replace": replace}},
                st.integers(1, len(t)),
                st.booleans(),
            )
        ),
    )


step = st.recursive(leaf_step, composite, max_leaves=6)


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"version": 1}
    keys = draw(st.lists(st.sampled_from(sorted(KERAS_VALUES)), unique=True, max_size=8))
    for key in keys:
        spec[key] = draw(KERAS_VALUES[key])
    if spec.get("samplewise_std_normalization"):
        spec["samplewise_center"] = True
    steps = draw(st.lists(step, max_size=4))
    if steps or draw(st.booleans()):
        spec["transforms"] = steps
    return spec


# ---- junk ------------------------------------------------------------------------------

junk_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["no", "yes", "1/0", "nan", "", "preset:x", "../x", "__class__", "-1"]),
)
junk = st.recursive(
    junk_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
SPEC_KEYS = sorted(Spec.model_fields)


def paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from paths(value, (*path, index))


def set_at(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


# ---- the properties --------------------------------------------------------------------


def run_and_check(pipe: confaug.Pipeline) -> None:
    out = pipe(image=IMAGE.copy(), seed=1)["image"]
    assert out.dtype == np.uint8 and out.shape[2] == 3
    batch = (np.stack([IMAGE, IMAGE[::-1]]) / 255.0).astype(np.float32)
    spec = pipe.spec
    if spec.featurewise_center or spec.featurewise_std_normalization or spec.zca_whitening:
        pipe.fit(batch)  # dataset statistics are the caller's to compute, as Keras' fit
    result = pipe.apply_batch(batch, seed=2)
    assert result.shape[0] == 2 and np.isfinite(result).all()
    if pipe.spec.dtype is not None:
        assert result.dtype == np.dtype(pipe.spec.dtype)
    elif not pipe.spec.has_standardization:
        assert result.dtype == np.float32
        assert result.min() >= 0.0 and result.max() <= 1.0


def assert_located(err: ConfigError, file: str | None) -> None:
    """Every problem has a message; with ``file``, also a file, line and column ("any": the
    problem may be in a parent, or in any file of the load)."""
    assert err.problems, "a ConfigError lists at least one problem"
    for problem in err.problems:
        assert isinstance(problem, Problem)
        assert problem.message
        if file is not None:
            assert problem.file is not None, problem
            assert problem.line is not None and problem.line >= 1, problem
            assert problem.column is not None and problem.column >= 1, problem
    assert str(err).count("\n") == len(err.problems) - 1


def load_or_config_error(source: Any, file: str | None = None) -> confaug.Pipeline | None:
    """Load and run ``source``; the only exception allowed is a located ConfigError."""
    try:
        pipe = confaug.load_pipeline(source)
    except ConfigError as err:
        assert_located(err, file)
        return None
    run_and_check(pipe)
    return pipe


@given(valid_specs())
@fuzz("valid")
def test_valid_specs_compile_run_and_round_trip(spec: dict[str, Any]) -> None:
    pipe = confaug.load_pipeline(spec)
    run_and_check(pipe)
    assert confaug.load_spec(yaml.safe_load(pipe.to_yaml())) == pipe.spec
    from tests.test_schema import errors

    assert errors(spec) == []


@given(valid_specs(), st.data())
@fuzz("mutated_values")
def test_mutated_values_raise_config_error_or_work(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    mutated = copy.deepcopy(spec)
    for _ in range(data.draw(st.integers(1, 3))):
        places = [p for p in paths(mutated) if p]
        if places and data.draw(st.booleans()):
            target = data.draw(st.sampled_from(places))
        else:
            target = (data.draw(st.sampled_from(SPEC_KEYS)),)
        value = data.draw(junk)
        try:
            mutated = set_at(mutated, target, value)
        except (KeyError, IndexError, TypeError):
            mutated[target[0]] = value
    load_or_config_error(mutated)


# A few fixed valid specs: drawing random ones costs more than what this test checks.
SAMPLE_SPECS: list[dict[str, Any]] = [
    {"version": 1},
    {"version": 1, "rotation_range": 10, "horizontal_flip": True, "zoom_range": [0.9, 1.1]},
    {"version": 1, "transforms": [{"GaussNoise": {"p": 0.2}}, "HorizontalFlip"]},
]


@given(st.sampled_from(SAMPLE_SPECS), st.text(min_size=1, max_size=20), junk)
@fuzz("junk_keys")
def test_junk_keys_raise_config_error(spec: dict[str, Any], key: str, value: Any) -> None:
    if key in Spec.model_fields or key == "extends":
        key = f"x_{key}"
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline({**spec, key: value})
    assert any(p.field == key and p.message == "unknown key" for p in err.value.problems)


@given(valid_specs(), st.data())
@fuzz("junk_steps")
def test_junk_transform_names_and_parameters(spec: dict[str, Any], data: st.DataObject) -> None:
    steps = spec.setdefault("transforms", [])
    bad = data.draw(
        st.one_of(
            st.text(max_size=15).map(lambda name: {f"{name}Z": {}}),
            st.dictionaries(st.text(max_size=6), junk, min_size=1, max_size=2).map(
                lambda params: {"GaussNoise": {f"q{k}": v for k, v in params.items()}}
            ),
            junk.map(lambda v: {"HorizontalFlip": {"p": v}}),
            junk.map(lambda v: {"Affine": {"rotate": v}}),
            junk.map(lambda v: {"OneOf": {"transforms": v}}),
            junk.map(lambda v: {"SomeOf": {"n": v, "transforms": ["Blur"]}}),
            junk,
        )
    )
    steps.insert(data.draw(st.integers(0, len(steps))), bad)
    load_or_config_error(spec)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


YAML_ALPHABET = st.sampled_from(
    [
        *"abcdefgpvrsionz_0123456789 \n\t:-[]{},'\"#&*!|>?%@`.~\\",
        "version: 1\n",
        "transforms:\n",
        "  - ",
        "GaussNoise",
        "p: ",
        "!!python/object:os.system",
        "&a [",
        "*a, ",
        "extends: ",
        "no",
        ".nan",
        ".inf",
        "\x00",
        "\ufeff",
        "é",
        "\x85",
    ]
)


@given(st.lists(YAML_ALPHABET, max_size=60).map("".join))
@fuzz("text")
def test_random_yaml_text_raises_config_error_only(scratch: Path, text: str) -> None:
    path = scratch / "random.yaml"
    path.write_text(text, encoding="utf-8")
    load_or_config_error(path, str(path))


@given(st.binary(max_size=200))
@fuzz("bytes")
def test_random_bytes_raise_config_error_only(scratch: Path, blob: bytes) -> None:
    path = scratch / "random.bin"
    path.write_bytes(blob)
    load_or_config_error(path, str(path))


def mutate_text(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 4))):
        if not text:
            text = data.draw(YAML_ALPHABET)
            continue
        at = data.draw(st.integers(0, len(text) - 1))
        action = data.draw(st.sampled_from(["insert", "delete", "replace", "dup_line", "indent"]))
        if action == "insert":
            text = text[:at] + data.draw(YAML_ALPHABET) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 8)) :]
        elif action == "replace":
            text = text[:at] + data.draw(YAML_ALPHABET) + text[at + 1 :]
        else:
            lines = text.split("\n")
            row = data.draw(st.integers(0, len(lines) - 1))
            if action == "dup_line":
                lines.insert(row, lines[row])
            else:
                lines[row] = " " * data.draw(st.integers(1, 4)) + lines[row]
            text = "\n".join(lines)
    return text


@given(valid_specs(), st.data())
@fuzz("mutated_text")
def test_mutated_yaml_text_raises_config_error_only(
    scratch: Path, spec: dict[str, Any], data: st.DataObject
) -> None:
    text = mutate_text(yaml.safe_dump(spec, sort_keys=False), data)
    path = scratch / "mutated.yaml"
    path.write_text(text, encoding="utf-8")
    load_or_config_error(path, str(path))


def shipped_presets() -> list[Path]:
    from confaug import resources

    return sorted(resources.presets_dir().glob("*.yaml"))


@pytest.mark.skipif(not shipped_presets(), reason="no shipped presets in presets/ yet")
@given(st.data())
@fuzz("presets")
def test_mutated_shipped_presets_raise_config_error_only(
    scratch: Path, data: st.DataObject
) -> None:
    preset = data.draw(st.sampled_from(shipped_presets()))
    text = preset.read_text(encoding="utf-8")
    if data.draw(st.booleans()):
        text = mutate_text(text, data)
    else:
        loaded = yaml.safe_load(text)
        places = [p for p in paths(loaded) if p]
        if places:
            loaded = set_at(loaded, data.draw(st.sampled_from(places)), data.draw(junk))
        text = yaml.safe_dump(loaded, sort_keys=False)
    path = scratch / "preset_mutant.yaml"
    path.write_text(text, encoding="utf-8")
    load_or_config_error(path, str(path))


def test_shipped_presets_load_and_run() -> None:
    presets = shipped_presets()
    if not presets:
        pytest.skip("no shipped presets in presets/ yet")
    for path in presets:
        pipe = confaug.load_pipeline(f"preset:{path.stem}")
        assert pipe.spec == confaug.load_spec(path)
        out = pipe(image=IMAGE.copy(), seed=0)["image"]
        assert out.ndim in (2, 3) and math.prod(out.shape) > 0


# ---- issue 15: hostile configs inside the bounds ------------------------------------------
# Each property below covers one category of the issue with generated cases, not only the
# listed ones (tests/test_hostile_configs_load.py and _run.py hold those).

#: A load's Python calls beyond its input: checks, a transform built and costed (see
#: tests/test_hostile_configs_load.py, whose bound this is).
LOAD_CALLS = 40_000
LOAD_CALLS_PER_BYTE = 5

file_name = st.sampled_from(["a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml", "aug.yaml"])
parent = st.one_of(
    file_name,
    st.sampled_from(["missing.yaml", "folder", "", " ", "../x.yaml", "preset:nothing", "a.yaml"]),
)


@st.composite
def extends_graphs(draw: st.DrawFn) -> dict[str, str]:
    """Up to six files naming each other as parents, with repeats, cycles and junk."""
    files: dict[str, str] = {}
    for name in ["aug.yaml", *draw(st.lists(file_name, max_size=5, unique=True))]:
        parents = draw(st.lists(parent, max_size=draw(st.sampled_from([0, 3, 40, 300]))))
        body = draw(st.sampled_from(["rotation_range: 3\n", "zoom_range: 0.1\n", ""]))
        if draw(st.booleans()) or name == "aug.yaml":
            body += "version: 1\n"
        shape = draw(st.sampled_from(["list", "one", "none", "empty"]))
        if shape == "list":
            body += "extends: [" + ", ".join(repr(p) for p in parents) + "]\n"
        elif shape == "one" and parents:
            body += f"extends: {parents[0]!r}\n"
        elif shape == "empty":
            body += "extends: []\n"
        files[name] = body
    return files


@given(extends_graphs())
@fuzz("extends_graphs")
def test_extends_graphs_give_a_config_or_a_located_error_in_bounded_work(
    scratch: Path, files: dict[str, str]
) -> None:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    (folder / "folder").mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    size = sum(len(text) for text in files.values())
    with python_calls(limit=LOAD_CALLS + LOAD_CALLS_PER_BYTE * size):
        try:
            confaug.load_spec(folder / "aug.yaml")
        except ConfigError as err:
            assert_located(err, "any")


key_part = st.one_of(
    st.sampled_from(["transforms", "0", "1", "GaussNoise", "p", "x", "rotation_range", "a"]),
    st.sampled_from(["-1", "", "²", "a b", "9" * 30, "0" * 7, "__class__", "extends"]),
    st.text(alphabet="abc019_-.", max_size=6),
)


@given(
    st.sampled_from(SAMPLE_SPECS),
    st.lists(key_part, min_size=1, max_size=90),
    st.one_of(junk, st.sampled_from(["[1]", "{a: 1}", "0.5", "!!python/name:os.system"])),
    st.booleans(),
)
@fuzz("overrides")
def test_dotted_overrides_give_a_config_or_a_located_error(
    spec: dict[str, Any], parts: list[str], value: Any, as_text: bool
) -> None:
    key = ".".join(parts)
    overrides: Any = [f"{key}={value}"] if as_text else {key: value}
    with python_calls(limit=LOAD_CALLS + LOAD_CALLS_PER_BYTE * len(key)):
        try:
            pipe = confaug.load_pipeline(spec, overrides=overrides)
        except ConfigError as err:
            assert_located(err, None)
            for problem in err.problems:  # an override's problem is never blamed on a file
                assert problem.file is None or problem.file.startswith("<override")
            return
    run_and_check(pipe)


def numeric_params() -> list[tuple[str, str, Any]]:
    """(transform, parameter, default) for the number-valued parameters of the catalog."""
    found = []
    for name, info in catalog().items():
        if info.composite:
            continue
        for key, default in info.defaults.items():
            numbers = default if isinstance(default, (tuple, list)) else [default]
            if key == "p" or not numbers or isinstance(default, bool):
                continue
            if all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
                found.append((name, key, default))
    return found


NUMERIC_PARAMS = numeric_params()
magnitude = st.one_of(
    st.integers(0, 15).map(lambda k: 2**k),
    st.sampled_from([32767, 1e9, 0, 1e-9, 1e-300, 0.5, 3, 255, 256, 511, 4097]),
)
SMALL = one_image(24)
SMALL_FLOAT = (SMALL / 255.0).astype(np.float32)


@given(st.sampled_from(NUMERIC_PARAMS), magnitude, st.booleans())
@fuzz("costly_params")
def test_costly_parameters_are_refused_or_within_the_budget(
    param: tuple[str, str, Any], value: float, high_only: bool
) -> None:
    name, key, default = param
    if isinstance(default, (tuple, list)):
        written: Any = [*default[:-1], value] if high_only else [value] * len(default)
        if all(isinstance(n, int) for n in default) and not isinstance(value, int):
            written = [int(v) if v >= 1 else v for v in written]
    else:
        written = int(value) if isinstance(default, int) and value >= 1 else value
    config = {"version": 1, "transforms": [{name: {key: written, "p": 1.0}}]}
    try:
        pipe = confaug.load_pipeline(config)
    except ConfigError as err:
        assert_located(err, None)
        return
    assert estimate(pipe.spec).ms <= WORK_BUDGET_MS
    # On a small image: it runs, or the sample is the problem (a DataError naming the step).
    for image in (SMALL, SMALL_FLOAT):
        try:
            out = pipe(image=image.copy(), seed=0)["image"]
        except confaug.DataError as err:
            assert f"transforms.0.{name}" in str(err) or "image" in str(err), err
            continue
        assert np.isfinite(out).all(), (config, image.dtype)


def _as_lookalike(default: Any, kind: str) -> Any:
    sample = default[0] if isinstance(default, (tuple, list)) else default
    lookalike = str(sample) if kind == "string" else True
    return [lookalike] * len(default) if isinstance(default, (tuple, list)) else lookalike


@given(st.sampled_from(NUMERIC_PARAMS), st.sampled_from(["string", "boolean"]))
@fuzz("strict_types")
def test_numbers_written_as_strings_or_booleans_are_refused(
    param: tuple[str, str, Any], kind: str
) -> None:
    name, key, default = param
    value = _as_lookalike(default, kind)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec({"version": 1, "transforms": [{name: {key: value}}]})
    assert_located(err.value, None)
    assert any(p.field.startswith(f"transforms.0.{name}") for p in err.value.problems)


@given(st.integers(1, 1200), st.sampled_from(["transforms", "params", "keys"]))
@fuzz("storms")
def test_error_storms_spend_a_bounded_work_on_hints(count: int, where: str) -> None:
    if where == "transforms":
        config: dict[str, Any] = {"version": 1, "transforms": [f"Blurr{i}" for i in range(count)]}
    elif where == "params":
        config = {
            "version": 1,
            "transforms": [{"Blur": {f"blurlimit{i}": 1 for i in range(count)}}],
        }
    else:
        config = {"version": 1, **{f"rotaton_range{i}": 1 for i in range(count)}}
    limit = LOAD_CALLS + 2_000 * min(count, MAX_HINTS) + 200 * count
    with python_calls(limit=limit), pytest.raises(ConfigError) as err:
        confaug.load_spec(config)
    assert sum(p.hint is not None for p in err.value.problems) <= MAX_HINTS


@given(st.lists(st.text(max_size=10), min_size=1, max_size=4, unique=True))
@fuzz("round_trip")
def test_any_strings_round_trip_through_spec_to_yaml(fields: list[str]) -> None:
    from confaug.reading.yaml_io import parse_yaml

    labels = [f for f in fields if f not in ("image", "mask", "masks", "bboxes", "keypoints")]
    try:
        spec = confaug.load_spec(
            {"version": 1, "bbox_params": {"format": "coco", "label_fields": labels}}
        )
    except ConfigError as err:  # a name albumentations reserves, or a string it refuses
        assert_located(err, None)
        return
    written = confaug.spec_to_yaml(spec)
    assert confaug.load_spec(parse_yaml(written).data) == spec, written
