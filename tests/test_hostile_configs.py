"""Issue 6, configs: every hostile config gives a located ConfigError, fast and small.

Each case is a set of files; loading ``aug.yaml`` must raise ``ConfigError`` whose problem
names the file, line, column and field, with a bounded amount of work and memory.

"Fast" is checked by counting, never by timing: the Python calls made during a load must stay
within ``CALLS + CALLS_PER_BYTE * size`` (``size``: the bytes of the case's files), a fixed
cost plus a linear one, and no file may be read past the size limit. Work that grows faster
than the input (an alias expanded, a quadratic walk, a magnitude iterated over) passes that
bound and is stopped the moment it does; a load here makes at most ~1,300 calls.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import confaug
from confaug import ConfigError
from confaug.reading.yaml_io import DEFAULT_LIMITS
from tests.helpers import alarm, position, python_calls, run_python, watch_reading

CALLS = 20_000  # the fixed cost of a load: ~15x the most measured (an unknown transform)
CALLS_PER_BYTE = 2  # room for work proportional to the input (the alias bomb: 1,100 calls)
MEMORY = 32 * 1024 * 1024  # bytes of Python allocations at the peak of one load


@dataclass(frozen=True)
class Case:
    files: dict[str, str | bytes]
    file: str  # where the problem is
    needle: str | tuple[int, int]  # text at the problem's position, or (line, column)
    field: str
    words: str  # in the message
    occurrence: int = 1

    def expected_position(self) -> tuple[int, int]:
        if isinstance(self.needle, tuple):
            return self.needle
        content = self.files[self.file]
        text = content.decode("utf-8") if isinstance(content, bytes) else content
        return position(text, self.needle, self.occurrence)


def nested(levels: int = 9, width: int = 10) -> str:
    lines = ["version: 1", "l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


DEEP = "version: 1\nx: " + "[" * 10_000 + "]" * 10_000 + "\n"
CASES: dict[str, Case] = {
    "invalid syntax": Case(
        {"aug.yaml": "version: 1\nzoom_range: [0.9, 1.1\nhorizontal_flip: true\n"},
        "aug.yaml",
        ": true",  # inside the unclosed [ ], the next key's colon is where parsing fails
        "",  # a syntax error is the YAML's, at its own place: no field is blamed
        "invalid YAML",
    ),
    "empty file": Case({"aug.yaml": ""}, "aug.yaml", (1, 1), "", "empty"),
    "top level not a mapping": Case(
        {"aug.yaml": "- rotation_range: 15\n- horizontal_flip: true\n"},
        "aug.yaml",
        (1, 1),
        "",
        "mapping",
    ),
    "non-UTF-8 bytes": Case(
        {"aug.yaml": "version: 1\nfill_mode: r\xe9flect\n".encode("latin-1")},
        "aug.yaml",
        (2, 13),
        "",
        "UTF-8",
    ),
    "binary": Case(
        {"aug.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"},
        "aug.yaml",
        (1, 1),  # 0x89 cannot start a UTF-8 character
        "",
        "UTF-8",
    ),
    "NUL byte": Case(
        {"aug.yaml": b"version: 1\nfill_mode: \x00reflect\n"},
        "aug.yaml",
        (2, 12),
        "",
        "binary",
    ),
    "over the size limit": Case(
        {"aug.yaml": "version: 1\n" + "# padding\n" * 110_000},
        "aug.yaml",
        (1, 1),
        "",
        "1,048,576 bytes",
    ),
    "python object tag": Case(
        {
            "aug.yaml": "version: 1\n"
            "rotation_range: !!python/object/apply:os.system ['touch pwned']\n"
        },
        "aug.yaml",
        "!!python",
        "rotation_range",
        "not allowed",
    ),
    "unknown tag": Case(
        {"aug.yaml": "version: 1\ntransforms:\n  - !include other.yaml\n"},
        "aug.yaml",
        "!include",
        "transforms.0",
        "not allowed",
    ),
    "alias bomb": Case({"aug.yaml": nested()}, "aug.yaml", "&l3", "l3", "alias"),
    "nesting 10,000 deep": Case(
        {"aug.yaml": DEEP},
        "aug.yaml",
        (2, 4 + 63),  # root mapping is level 1, x's list (column 4) level 2: level 65 fails
        "x.0.0.….0.0.0",  # item 0 of item 0 ... of x, 63 parts: only its ends are shown
        "deeper than 64",
    ),
    "recursive alias": Case(
        {"aug.yaml": "version: 1\nx: &a [*a]\n"},
        "aug.yaml",
        "*a",
        "x.0",
        "refers to a node that contains it",
    ),
    "recursive alias through a mapping": Case(
        {"aug.yaml": "version: 1\ntransforms:\n  - &s {OneOf: {transforms: [*s]}}\n"},
        "aug.yaml",
        "*s",
        "transforms.0.OneOf.transforms.0",
        "refers to a node that contains it",
    ),
    "duplicate keys": Case(
        {"aug.yaml": "version: 1\nrotation_range: 10\nzoom_range: 0.1\nrotation_range: 20\n"},
        "aug.yaml",
        "rotation_range",
        "rotation_range",
        "duplicate key",
        occurrence=2,
    ),
    "YAML 1.1 boolean": Case(
        {"aug.yaml": "version: 1\nfill_mode: no\n"}, "aug.yaml", "no", "fill_mode", "YAML 1.1"
    ),
    "nan in a range": Case(
        {"aug.yaml": "version: 1\nbrightness_range: [.nan, 1.5]\n"},
        "aug.yaml",
        "[.nan",
        "brightness_range",
        "finite",
    ),
    "inf in a range": Case(
        {"aug.yaml": "version: 1\nzoom_range: [0.9, .inf]\n"},
        "aug.yaml",
        "[0.9",
        "zoom_range",
        "finite",
    ),
    "high before low": Case(
        {"aug.yaml": "version: 1\nbrightness_range: [1.5, 0.5]\n"},
        "aug.yaml",
        "[1.5",
        "brightness_range",
        "low ≤ high",
    ),
    "label_fields not a list": Case(
        {"aug.yaml": "version: 1\nbbox_params: {format: coco, label_fields: 3}\n"},
        "aug.yaml",
        "3}",
        "bbox_params.label_fields",
        "valid list",
    ),
    "MaskDropout inpaints on no image": Case(
        {"aug.yaml": "version: 1\ntransforms:\n  - MaskDropout: {fill: inpaint_telea}\n"},
        "aug.yaml",
        "inpaint_telea",
        "transforms.0.MaskDropout.fill",
        "OpenCV",
    ),
    "a float for an OpenCV flag": Case(
        {"aug.yaml": "version: 1\ntransforms:\n  - Affine: {interpolation: 1.0}\n"},
        "aug.yaml",
        "1.0",
        "transforms.0.Affine.interpolation",
        "integer",
    ),
    "probability 1.5": Case(
        {"aug.yaml": "version: 1\ntransforms:\n  - HorizontalFlip: {p: 1.5}\n"},
        "aug.yaml",
        "1.5",
        "transforms.0.HorizontalFlip.p",
        "less than or equal to 1",
    ),
    "unknown key with a typo": Case(
        {"aug.yaml": "version: 1\nhorizontal_flpi: true\n"},
        "aug.yaml",
        "horizontal_flpi",
        "horizontal_flpi",
        "unknown key",
    ),
    "unknown transform": Case(
        {"aug.yaml": "version: 1\ntransforms:\n  - GaussianBlurr: {blur_limit: 3}\n"},
        "aug.yaml",
        "GaussianBlurr",
        "transforms.0.GaussianBlurr",
        "unknown transform",
    ),
    "parameter of the wrong type": Case(
        {"aug.yaml": "version: 1\ntransforms:\n  - GaussNoise: {std_range: strong}\n"},
        "aug.yaml",
        "strong",
        "transforms.0.GaussNoise.std_range",
        "pair",
    ),
    "extends cycle of three files": Case(
        {
            "aug.yaml": "version: 1\nextends: b.yaml\n",
            "b.yaml": "extends: c.yaml\n",
            "c.yaml": "rotation_range: 3\nextends: aug.yaml\n",
        },
        "c.yaml",
        "aug.yaml",
        "extends",
        "aug.yaml → b.yaml → c.yaml → aug.yaml",
    ),
    "extends leaves the tree": Case(
        {"aug.yaml": "version: 1\nextends: ../../etc/passwd\n"},
        "aug.yaml",
        "../../etc/passwd",
        "extends",
        "outside the allowed roots",
    ),
    "extends a missing file": Case(
        {"aug.yaml": "version: 1\nextends: base.yaml\n"},
        "aug.yaml",
        "base.yaml",
        "extends",
        "not found",
    ),
    "unregistered preprocessing_function": Case(
        {"aug.yaml": "version: 1\npreprocessing_function: my_module.normalize\n"},
        "aug.yaml",
        "my_module",
        "preprocessing_function",
        "register",
    ),
    "unknown version": Case(
        {"aug.yaml": "version: 3\nrotation_range: 3\n"}, "aug.yaml", "3", "version", "1"
    ),
}


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Import albumentations and build its catalog once, outside the counted loads."""
    confaug.load_pipeline({"version": 1, "transforms": [{"GaussNoise": {"p": 0.1}}]})


@contextmanager
def bounded_work(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[None]:
    """Fail unless the load inside reads no file past the size limit and makes at most
    ``CALLS + CALLS_PER_BYTE * size`` Python calls, ``size`` being the bytes of the files
    in ``folder`` (stopped at that bound if it goes on)."""
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    work = watch_reading(monkeypatch)
    limit = CALLS + CALLS_PER_BYTE * size
    with python_calls(limit=limit) as calls:
        yield
    assert 0 < calls.value <= limit
    assert all(read <= DEFAULT_LIMITS.max_bytes + 1 for read in work.reads), work.reads


def write_case(folder: Path, case: Case) -> None:
    for name, content in case.files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def load_error(in_tmp: Path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("aug.yaml")
    return err.value


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_config_gives_a_located_config_error(
    in_tmp: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    write_case(in_tmp, case)
    with bounded_work(monkeypatch, in_tmp):
        err = load_error(in_tmp)
    assert len(err.problems) == 1, str(err)
    (problem,) = err.problems
    assert problem.file == case.file
    assert (problem.line, problem.column) == case.expected_position()
    assert problem.field == case.field
    assert case.words in problem.message
    rendered = str(err)
    line, column = case.expected_position()
    assert rendered.startswith(f"{case.file}:{line}:{column}: {case.field or '<root>'}: ")
    assert "\n" not in rendered
    assert not (in_tmp / "pwned").exists()


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_config_uses_bounded_memory(in_tmp: Path, name: str) -> None:
    write_case(in_tmp, CASES[name])
    tracemalloc.start()
    try:
        load_error(in_tmp)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY, f"{name}: {peak / 2**20:.1f} MiB"


def test_all_problems_of_a_hostile_file_at_once(in_tmp: Path) -> None:
    text = (
        "version: 1\n"
        "fill_mode: no\n"
        "rotation_range: !!python/name:os.system\n"
        "zoom_range: 0.1\n"
        "zoom_range: 0.2\n"
    )
    (in_tmp / "aug.yaml").write_text(text)
    err = load_error(in_tmp)
    assert [(p.line, p.field) for p in err.problems] == [
        (2, "fill_mode"),
        (3, "rotation_range"),
        (5, "zoom_range"),
    ]


# ---- beyond the list: paths that are not plain files ------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_a_fifo_is_refused_without_blocking(in_tmp: Path) -> None:
    os.mkfifo(in_tmp / "pipe.yaml")  # opening it for reading would wait for a writer
    # A blocking open is interrupted by the alarm, which fails the test instead of hanging.
    with alarm("reading a FIFO"), pytest.raises(ConfigError, match="regular file"):
        confaug.load_spec("pipe.yaml")


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ('"base\\0.yaml"', "cannot be used as a path"),
        ("loop.yaml", "cannot be used as a path"),
        ("folder", "is a directory"),  # issue 15: it used to say "not found"
        ("x" * 5000, "x"),
    ],
)
def test_extends_of_odd_paths_is_located(in_tmp: Path, target: str, words: str) -> None:
    (in_tmp / "folder").mkdir()
    os.symlink("loop.yaml", in_tmp / "loop.yaml")
    (in_tmp / "aug.yaml").write_text(f"version: 1\nextends: {target}\n")
    err = load_error(in_tmp)
    assert len(err.problems) == 1
    (problem,) = err.problems
    assert (problem.file, problem.line, problem.column, problem.field) == (
        "aug.yaml",
        2,
        10,
        "extends",
    )
    assert words in problem.message


@pytest.mark.parametrize(
    ("line", "field"),
    [
        # Each would hang OpenCV's border walk, overflow a sampler to NaN, or allocate
        # gigabytes, at run time, on the first image.
        ("rotation_range: 1.0e308", "rotation_range"),
        ("shear_range: 90", "shear_range"),
        ("width_shift_range: 1.0e12", "width_shift_range"),
        ("height_shift_range: [5, 1.0e12]", "height_shift_range"),
        ("zoom_range: [0.5, 1.0e30]", "zoom_range"),
        ("channel_shift_range: 1.0e308", "channel_shift_range"),
        (
            "transforms: [{Affine: {translate_px: [1000000000, 1000000000], "
            "border_mode: reflect}}]",
            "transforms.0.Affine.translate_px.0",
        ),
        (
            "transforms: [{Affine: {translate_percent: [1000, 1000]}}]",
            "transforms.0.Affine.translate_percent.0",
        ),
        ("transforms: [{Affine: {rotate: [-1.0e308, 1.0e308]}}]", "transforms.0.Affine.rotate.0"),
        ("transforms: [{Resize: {height: 1000000, width: 1000000}}]", "transforms.0.Resize.height"),
        (
            "transforms: [{PadIfNeeded: {min_height: 100000}}]",
            "transforms.0.PadIfNeeded.min_height",
        ),
        (
            "transforms: [{CoarseDropout: {num_holes_range: [1, 1000000000]}}]",
            "transforms.0.CoarseDropout.num_holes_range.1",
        ),
        ("transforms: [{ShiftScaleRotate: {shift_limit: 100}}]", "transforms.0.ShiftScaleRotate"),
        # Strings that albumentations' schemas coerce into numbers are checked as numbers.
        ("transforms: [{Affine: {rotate: 'nan'}}]", "transforms.0.Affine.rotate"),
        ("transforms: [{Affine: {translate_px: '1e12'}}]", "transforms.0.Affine.translate_px"),
    ],
)
def test_magnitudes_that_would_hang_or_explode_at_run_time(
    in_tmp: Path, line: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp / "aug.yaml").write_text(f"version: 1\n{line}\n")
    with bounded_work(monkeypatch, in_tmp):
        err = load_error(in_tmp)
    assert field in [p.field for p in err.problems], str(err)
    assert all(p.file == "aug.yaml" and p.line == 2 for p in err.problems)


LARGEST_ACCEPTED = """
import sys, tracemalloc
import confaug
from tests.helpers import one_image

pixels = one_image(16)
for spec in (
    {"version": 1, "width_shift_range": 32767, "fill_mode": "reflect"},
    {"version": 1, "zoom_range": [100, 100], "rotation_range": 360, "shear_range": 89},
    {
        "version": 1,
        "transforms": [
            {"Affine": {"translate_px": [32767, 32767], "border_mode": "reflect", "p": 1}},
            {"Affine": {"translate_percent": [100, 100], "border_mode": "wrap", "p": 1}},
        ],
    },
):
    pipe = confaug.load_pipeline(spec)
    tracemalloc.start()
    shapes = [pipe(image=pixels, seed=seed)["image"].shape for seed in range(3)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(shapes == [pixels.shape] * 3, peak)
"""


def test_largest_accepted_magnitudes_still_run_quickly() -> None:
    # The work is OpenCV's (its border walk for a far shift), in C where nothing can be
    # counted, so the guard is the one for a hang: a subprocess with a timeout far above the
    # well under a second it takes here. Memory is bounded by counting bytes allocated
    # (tracemalloc sees NumPy's arrays, OpenCV's outputs among them): a 16x16 image may not
    # need more than MEMORY at any magnitude accepted.
    done = run_python(LARGEST_ACCEPTED, what="augmenting with the largest accepted magnitudes")
    assert done.returncode == 0, done.stdout
    results = [line.split() for line in done.stdout.strip().splitlines()[-3:]]
    assert [same for same, _ in results] == ["True"] * 3, done.stdout
    assert all(int(peak) < MEMORY for _, peak in results), done.stdout
