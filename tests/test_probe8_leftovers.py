"""Round 8's leftovers: a config's ``$schema`` key, and the CLI's cap on problems shown.

VS Code attaches a schema to a JSON file through a top-level ``"$schema"`` key (JSON has no
modeline); confaug reads such a file as if the key were not there, and the shipped schema
lets the key be, so the editor and confaug agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import confaug
from confaug import ConfigError
from confaug.cli.resolve import fingerprint

SCHEMA = Path(__file__).parent.parent / "schemas" / "confaug.schema.json"
CONFIG = {"version": 1, "rotation_range": 10, "transforms": [{"Blur": {"p": 0.5}}]}


def test_a_schema_key_is_read_and_left_out_of_the_spec(tmp_path: Path) -> None:
    plain, pointed = tmp_path / "plain.json", tmp_path / "pointed.json"
    plain.write_text(json.dumps(CONFIG))
    pointed.write_text(json.dumps({"$schema": "./confaug.schema.json", **CONFIG}))
    spec, with_key = confaug.load_spec(plain), confaug.load_spec(pointed)
    assert with_key == spec
    assert fingerprint(with_key) == fingerprint(spec)
    assert "$schema" not in confaug.load_pipeline(pointed).to_yaml()


def test_a_schema_key_that_is_no_string_is_refused_at_the_key(tmp_path: Path) -> None:
    config = tmp_path / "aug.json"
    config.write_text(json.dumps({"$schema": 5, **CONFIG}, indent=1))
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(config)
    (problem,) = err.value.problems
    assert problem.field == "$schema" and problem.line == 2
    assert "JSON Schema" in problem.message


def test_a_misspelt_schema_key_is_still_unknown(tmp_path: Path) -> None:
    config = tmp_path / "aug.json"
    config.write_text(json.dumps({"$schemas": "./x.json", **CONFIG}))
    with pytest.raises(ConfigError, match=r"\$schemas"):
        confaug.load_spec(config)


def test_the_shipped_schema_lets_the_key_be() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate({"$schema": "./confaug.schema.json", **CONFIG}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"$schema": 5, **CONFIG}, schema)


def test_the_cli_shows_the_first_problems_of_a_file_that_is_no_config(tmp_path: Path) -> None:
    """A file that is not a confaug config at all (here 300 unknown keys) is not printed as
    300 lines: the first ``MAX_SHOWN_PROBLEMS``, then how many more, in text; JSON has all."""
    from confaug.cli import main
    from confaug.errors import MAX_SHOWN_PROBLEMS

    config = tmp_path / "notes.yaml"
    config.write_text("".join(f"key{n}: {n}\n" for n in range(300)))
    text = subprocess_free(main, ["validate", str(config)])
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == MAX_SHOWN_PROBLEMS + 1
    assert lines[-1].startswith(f"… and {300 - MAX_SHOWN_PROBLEMS:,} more problems (300 in all")
    report = json.loads(subprocess_free(main, ["validate", str(config), "--format", "json"]))
    assert len(report["files"][0]["problems"]) == 300


def subprocess_free(main: Any, argv: list[str]) -> str:
    """What ``confaug ARGV`` prints on stdout, run in this process."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(argv)
    return out.getvalue()


def test_wrap_of_one_x_y_tuple_says_to_wrap_a_list() -> None:
    """``wrap((x, y))`` (one batch where an iterable of batches goes) used to fail only at
    its second "batch", the labels; it is refused at the call, naming the fix."""
    import numpy as np

    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True})
    x = np.zeros((4, 8, 8, 3), np.uint8)
    y = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"wrap\(\[\(x, y\)\]\)"):
        pipe.wrap((x, y))
    batches = list(pipe.wrap([(x, y)]))  # the fix works
    assert len(batches) == 1 and batches[0][0].shape == x.shape
    two = list(pipe.wrap((x, x)))  # two x-only batches stay two batches
    assert len(two) == 2


@pytest.mark.parametrize("workers", [0, 2])
def test_a_wrap_batch_that_raises_is_used_up_and_the_stream_goes_on(workers: int) -> None:
    """As a flow does (and Keras' iterators): ``next()`` raises for the bad batch, then
    gives the batches after it, with the pixels a stream without the failure gives them.
    Before, every later ``next()`` was ``StopIteration`` although the source had more."""
    import numpy as np

    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True, "rotation_range": 20})

    def batches(bad: int | None) -> Any:
        for number in range(5):
            x = np.random.default_rng(number).random((2, 16, 16, 3), dtype=np.float32)
            if number == bad:
                x[0, 0, 0, 0] = np.nan
            yield x, np.full((2,), number)

    clean = [x for x, _ in pipe.wrap(batches(None), seed=3, workers=workers)]
    stream = pipe.wrap(batches(2), seed=3, workers=workers)
    got = [next(stream)[0], next(stream)[0]]
    with pytest.raises(confaug.DataError):
        next(stream)
    got += [next(stream)[0], next(stream)[0]]
    with pytest.raises(StopIteration):
        next(stream)
    for have, want in zip(got, [clean[0], clean[1], clean[3], clean[4]], strict=True):
        assert np.array_equal(have, want)
    # A for loop (a run of its own) ends at the error, as a generator does.
    seen = []
    with pytest.raises(confaug.DataError):
        for _, y in pipe.wrap(list(batches(1)), seed=3, workers=workers):
            seen.append(int(y[0]))
    assert seen == [0]


def test_a_file_whose_only_line_is_key_equals_value_says_how_to_write_it(tmp_path: Path) -> None:
    """YAML reads a lone ``rotation_range=20`` as a string: the file gets the hint that text
    already got ("write 'rotation_range: 20'"), from the one check both share."""
    config = tmp_path / "aug.yaml"
    config.write_text("rotation_range=20\n")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(config)
    (problem,) = err.value.problems
    assert "mapping of keys, not str" in problem.message
    assert "rotation_range: 20" in (problem.hint or "")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(text="rotation_range=20\n")
    assert err.value.problems[0].hint == problem.hint
