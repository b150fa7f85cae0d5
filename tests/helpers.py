"""Plain helpers the test modules share (``from tests.helpers import ...``); fixtures live in
``conftest.py``.

Images and image folders, stand-in pipelines for the batching protocol, the seed project's
Keras keywords (read from ``preset:keras_seed``, never retyped), and the tools that bound a
test's *work* instead of its wall-clock time: counters that wrap a function and stop a
runaway past a limit, a subprocess runner whose generous timeout turns a hang into a
failure, and :func:`run_cases`, many hostile cases in one subprocess, each under its alarm.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

import confaug
from confaug import ConfigError

ROOT = Path(__file__).resolve().parents[1]

#: How long a call that takes well under a few seconds here may take before it counts as hung:
#: generous enough for a machine ten times slower and busy. Only a hang ever waits this long.
HANG_TIMEOUT = 300.0

# ---- problems and positions ---------------------------------------------------------------


def only_problem(err: pytest.ExceptionInfo[Any]) -> Any:
    """The single problem of a raised ConfigError."""
    problems = err.value.problems
    assert len(problems) == 1, str(err.value)
    return problems[0]


def problems_of(write: Callable[..., Any], text: str, name: str = "aug.yaml") -> list[Any]:
    """The problems of the ConfigError that loading ``text``, written as ``name`` by the
    ``write`` fixture, raises."""
    write(name, text)
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(name)
    return err.value.problems


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the ``occurrence``-th ``needle`` in ``text``."""
    offset = -1
    for _ in range(occurrence):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# ---- images -------------------------------------------------------------------------------


def images(
    count: int = 20,
    size: int | tuple[int, int] = 16,
    *,
    seed: int = 0,
    channels: int = 3,
    dtype: Any = np.uint8,
) -> np.ndarray:
    """Random NHWC images: uint8 on 0–255, or (any float dtype) the same pixels / 255.

    ``size`` is a side or ``(height, width)``. The same seed gives the same pixels whatever
    the dtype, and ``images(1, ...)[0]`` equals ``one_image(...)``.
    """
    height, width = (size, size) if isinstance(size, int) else size
    shape = (count, height, width, channels)
    pixels = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    if np.dtype(dtype) == np.uint8:
        return pixels
    return pixels.astype(dtype) / 255


def one_image(size: int | tuple[int, int] = 16, *, seed: int = 0, **options: Any) -> np.ndarray:
    """One random HWC image (see :func:`images`)."""
    return images(1, size, seed=seed, **options)[0]


def marked_images(count: int, size: int = 8) -> np.ndarray:
    """Black uint8 images whose first pixel holds their index (to follow samples around)."""
    x = np.zeros((count, size, size, 3), np.uint8)
    x[:, 0, 0, 0] = np.arange(count)
    return x


# ---- image files --------------------------------------------------------------------------


def save_image(path: Path, pixels: np.ndarray, **options: Any) -> Path:
    """Write an RGB (or gray) uint8 array as the format of ``path``'s suffix.

    JPEGs default to quality 95 (OpenCV's default), so that they stay close to the array.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        options.setdefault("quality", 95)
    Image.fromarray(pixels).save(path, **options)
    return path


def write_images(
    folder: Path,
    pixels: Iterable[np.ndarray],
    *,
    classes: Sequence[str] = (),
    suffix: str = ".png",
    stem: str = "{index:02d}",
) -> Path:
    """Write each image as ``folder/[class/]<stem><suffix>``; returns ``folder``.

    Image ``i`` goes to ``classes[i % len(classes)]`` (class subfolders, as Keras'
    ``flow_from_directory`` reads them), or straight into ``folder`` without classes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for index, one in enumerate(pixels):
        where = folder / classes[index % len(classes)] if classes else folder
        save_image(where / f"{stem.format(index=index)}{suffix}", one)
    return folder


def write_class_folders(root: Path, counts: Mapping[str, int], size: int = 12) -> Path:
    """Class subfolders of flat grey ``img000.png``… whose value is a running index (mod 256).

    The classes are filled in order, so a batch's pixels tell which files it holds.
    """
    number = 0
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for _ in range(count):
            flat = np.full((size, size, 3), number % 256, np.uint8)
            save_image(root / name / f"img{number:03d}.png", flat)
            number += 1
    return root


def write_indexed_files(
    folder: Path,
    count: int,
    *,
    bad: Mapping[int, bytes] | Iterable[int] = (),
    size: int | tuple[int, int] = 6,
    name: str = "img{index:02d}.png",
    bad_name: str | None = None,
) -> list[str]:
    """Flat images ``folder/img00.png``… whose pixels are their index (mod 256); the indices
    in ``bad`` hold unreadable bytes instead (``bad[i]`` when a mapping). Returns the names.

    ``bad_name`` names the bad files differently (e.g. ``.jpg``, to reach another decoder);
    a sample's first pixel then tells which file a batch read (:func:`first_pixels`).
    """
    contents = bad if isinstance(bad, Mapping) else dict.fromkeys(bad, b"not an image")
    height, width = (size, size) if isinstance(size, int) else size
    names: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        if index in contents:
            names.append((bad_name or name).format(index=index))
            (folder / names[-1]).write_bytes(contents[index])
        else:
            names.append(name.format(index=index))
            save_image(folder / names[-1], np.full((height, width, 3), index % 256, np.uint8))
    return names


def write_index_table(folder: Path, count: int, **files: Any) -> Path:
    """:func:`write_indexed_files` and ``folder/table.csv`` of them (columns ``file,index``)."""
    names = write_indexed_files(folder, count, **files)
    rows = ["file,index", *(f"{name},{index}" for index, name in enumerate(names))]
    (folder / "table.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder / "table.csv"


def first_pixels(generator: Iterable[Any]) -> list[int]:
    """The first pixel of every sample a generator yields: the index of an indexed file."""
    seen: list[int] = []
    for batch in generator:
        x = batch[0] if isinstance(batch, tuple) else batch
        seen.extend(int(v) for v in x[:, 0, 0, 0])
    return seen


def skipped_names(generator: Any) -> dict[str, str]:
    """``{file name: reason}`` of what a generator skipped (``gen.skipped`` holds paths)."""
    return {Path(path).name: reason for path, reason in generator.skipped}


def assert_every_decode_refuses(
    path: Path, reduced: tuple[int, int], match: str, stored: str
) -> None:
    """Every way a source decodes the image at ``path`` — whole, reduced to ``reduced`` (the
    DCT-scaled JPEG decode), through PIL, as grayscale — raises a ``DataError`` matching
    ``match``, and ``decode_as_stored`` one matching ``stored`` (both ``re.search``)."""
    import confaug
    from confaug.sources.decode import DecodeOptions, decode_as_stored, decode_image

    for options in (
        DecodeOptions(target_size=None),
        DecodeOptions(target_size=reduced),
        DecodeOptions(target_size=None, decoder="pil"),
        DecodeOptions(target_size=None, color_mode="grayscale"),
    ):
        with pytest.raises(confaug.DataError, match=match):
            decode_image(path, options)
    with pytest.raises(confaug.DataError, match=stored):
        decode_as_stored(path)


# ---- stand-in pipelines (the batching protocol, confaug.batching.SamplePipeline) ----------


class StandInPipeline:
    """HorizontalFlip + Affine (or ``transforms``), reseeded per call on a per-thread copy.

    A real albumentations ``Compose`` behind the ``SamplePipeline`` protocol, so batching is
    tested without confaug's compiler; picklable for worker processes.
    """

    def __init__(
        self,
        data_format: str = "channels_last",
        scale: float | None = None,
        transforms: list[Any] | None = None,
        **compose: Any,
    ) -> None:
        os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
        import albumentations as A

        self.data_format = data_format
        self.scale = scale
        if transforms is None:
            transforms = [
                A.HorizontalFlip(p=0.5),
                A.Affine(rotate=(-15, 15), translate_percent=0.1, p=1.0),
            ]
        self._compose = A.Compose(transforms, **compose)
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        compose = getattr(self._local, "compose", None)
        if compose is None:
            compose = self._local.compose = copy.deepcopy(self._compose)
        if seed is not None:  # one generator for all steps, as confaug.Pipeline seeds
            compose.set_random_state(np.random.default_rng(seed), random.Random(seed))
        if self.data_format == "channels_first":
            data["image"] = np.moveaxis(data["image"], 0, -1)
        out = compose(**data)
        if self.data_format == "channels_first":
            out["image"] = np.ascontiguousarray(np.moveaxis(out["image"], -1, 0))
        return out

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        return batch if self.scale is None else batch.astype(np.float32) * self.scale


class Identity:
    """Returns its input unchanged: batches then show exactly what the source produced."""

    data_format = "channels_last"

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        return data

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        return batch


def batches_equal(first: list[Any], second: list[Any]) -> bool:
    """Bitwise equality of two lists of (x, y[, w]) batches."""
    if len(first) != len(second):
        return False
    for a, b in zip(first, second, strict=True):
        parts_a = a if isinstance(a, tuple) else (a,)
        parts_b = b if isinstance(b, tuple) else (b,)
        if not all(np.array_equal(p, q) for p, q in zip(parts_a, parts_b, strict=True)):
            return False
    return True


# ---- the seed project's configuration -----------------------------------------------------


def seed_keywords(*, without: Iterable[str] = ()) -> dict[str, Any]:
    """The seed's ``ImageDataGenerator`` keywords, read from the shipped ``preset:keras_seed``.

    A fresh dict each call (``version`` left out), so callers may change it; ``without`` drops
    keywords a callee does not take (e.g. ``data_format`` for an albumentations transform).
    """
    from confaug import resources

    path = resources.preset_path("keras_seed")
    assert path is not None, "the shipped preset keras_seed is missing"
    keywords = yaml.safe_load(path.read_text(encoding="utf-8"))
    del keywords["version"]
    for name in without:
        del keywords[name]
    return keywords


# ---- bounding work instead of time --------------------------------------------------------


class WorkLimitExceeded(BaseException):
    """A counter passed its limit: the work is unbounded; stopped before it hangs the suite.

    A BaseException, so that no ``except Exception`` in the code under test swallows it.
    """


@dataclass
class Count:
    """How often something happened; past ``limit`` it raises :class:`WorkLimitExceeded`."""

    what: str
    limit: int | None = None
    value: int = 0

    def add(self, amount: int = 1) -> None:
        self.value += amount
        if self.limit is not None and self.value > self.limit:
            raise WorkLimitExceeded(f"{self.what}: more than {self.limit:,}")


def count_calls(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, limit: int | None = None
) -> Count:
    """Replace ``owner.name`` (a function, or a method on a class) by a counting wrapper.

    Patch the module that *calls* the function: a ``from x import f`` elsewhere keeps the
    original.
    """
    original = getattr(owner, name)
    count = Count(f"calls to {name}", limit)

    @functools.wraps(original)
    def counted(*args: Any, **kwargs: Any) -> Any:
        count.add()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return count


def count_yields(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, limit: int | None = None
) -> Count:
    """Replace the generator function ``owner.name`` by one that counts the items it yields."""
    original = getattr(owner, name)
    count = Count(f"items from {name}", limit)

    @functools.wraps(original)
    def counted(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for item in original(*args, **kwargs):
            count.add()
            yield item

    monkeypatch.setattr(owner, name, counted)
    return count


@contextmanager
def python_calls(
    *, limit: int | None = None, function: str | None = None, module: Any = None
) -> Iterator[Count]:
    """Count the Python function calls made in this thread inside the block.

    With ``function`` (and ``module``), only calls of functions of that name (defined in that
    module) count: this reaches nested functions that no monkeypatch can wrap. Calls into C
    are not counted; a resumed generator counts as a call. Uses ``sys.settrace``, so a
    coverage tracer pauses inside the block.
    """
    count = Count(f"calls of {function}" if function else "Python calls", limit)
    filename = getattr(module, "__file__", None)

    def trace(frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        if function is None or (
            code.co_name == function and (filename is None or code.co_filename == filename)
        ):
            count.add()  # past the limit this raises, and Python removes the tracer

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        yield count
    finally:
        sys.settrace(previous)


@dataclass
class ReadingWork:
    """What reading configs did while watched (see :func:`watch_reading`)."""

    reads: list[int]  # bytes returned by each read of a config file
    events: Count  # parser events (one per node, plus a few per document)
    compositions: Count  # calls to yaml.compose, which builds the whole node graph
    values_built: Count  # Python values built from nodes (aliases expanded, each counted)


def watch_reading(
    monkeypatch: pytest.MonkeyPatch,
    *,
    events: int | None = None,
    compositions: int | None = None,
    values_built: int | None = None,
) -> ReadingWork:
    """Count the work of reading configs, each count stopped past its limit (None: no limit).

    ``confaug.reading.yaml_io`` calls the parser and the composer through the ``yaml``
    module, so patching that module's functions sees every call. A limit is checked before
    the call it counts: ``compositions=0`` refuses to compose at all (composing recurses once
    per nesting level).
    """
    from confaug.reading import extends, yaml_io

    work = ReadingWork(
        reads=[],
        events=count_yields(monkeypatch, yaml, "parse", limit=events),
        compositions=count_calls(monkeypatch, yaml, "compose", limit=compositions),
        values_built=count_calls(monkeypatch, yaml_io._Builder, "build", limit=values_built),
    )
    read_bytes = extends._read_bytes

    def read(path: Path, limit: int) -> bytes:
        raw = read_bytes(path, limit)
        work.reads.append(len(raw))
        return raw

    monkeypatch.setattr(extends, "_read_bytes", read)
    return work


def _run_child(argv: list[str], *, cwd: Path | None, timeout: float) -> tuple[int | None, str]:
    """Run ``argv`` in a fresh interpreter (the checkout first on its path), stdout and stderr
    merged; ``(None, output)`` if it was still running after ``timeout`` s and was killed,
    with its whole process group (so with any worker processes it started)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        start_new_session=hasattr(os, "killpg"),
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        output, _ = process.communicate()
        return None, output
    return process.returncode, output


def run_python(
    source: str | Path,
    *args: str,
    cwd: Path | None = None,
    timeout: float = HANG_TIMEOUT,
    what: str = "the subprocess",
) -> subprocess.CompletedProcess[str]:
    """Run ``source`` (code, or a script's path) in a fresh interpreter, the checkout first on
    its path; stdout and stderr are merged into ``stdout``.

    The child runs in its own process group, so on timeout it is killed together with any
    worker processes it started, and the test fails saying that ``what`` hung.
    """
    program = ["-c", source] if isinstance(source, str) else [str(source)]
    code, output = _run_child([*program, *args], cwd=cwd, timeout=timeout)
    if code is None:
        pytest.fail(f"{what} hung: no result within {timeout:.0f} s\n{output}")
    return subprocess.CompletedProcess([sys.executable, *program, *args], code, output, None)


# Runs in the child of run_cases: argv is target, setup, cases file, results file, timeout.
_CASE_RUNNER = r"""
import importlib, json, os, signal, sys, traceback

target, setup, cases_path, results_path, timeout = sys.argv[1:6]


class CaseHung(BaseException):
    pass


def _alarm(signum, frame):
    raise CaseHung


def _load(name):
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


timed = hasattr(signal, "setitimer")
if timed:
    signal.signal(signal.SIGALRM, _alarm)
with open(cases_path, encoding="utf-8") as handle:
    cases = json.load(handle)
if setup:
    _load(setup)()
function, home = _load(target), os.getcwd()
with open(results_path, "a", encoding="utf-8") as out:
    for name, case in cases.items():
        if timed:
            signal.setitimer(signal.ITIMER_REAL, float(timeout))
        try:
            record = {"value": function(case)}
        except CaseHung:
            record = {"hung": f"no result within {float(timeout):.0f} s"}
        except BaseException:
            record = {"raised": traceback.format_exc()[-4000:]}
        finally:
            if timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
            os.chdir(home)
        out.write(json.dumps([name, record]) + "\n")
        out.flush()
"""


class CaseResults(Mapping[str, Any]):
    """What :func:`run_cases` got per case; looking up a case that raised, hung or never ran
    fails the test asking for it, with the child's traceback or output."""

    def __init__(self, records: dict[str, dict[str, Any]], output: str, what: str) -> None:
        self._records, self._output, self._what = records, output, what

    def __getitem__(self, name: str) -> Any:
        record = self._records.get(name)
        if record is None:
            pytest.fail(f"{self._what}: no result for {name!r}\n{self._output[-4000:]}")
        if "value" not in record:
            pytest.fail(f"{self._what}: {name!r} {record}")
        return record["value"]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


def run_cases(
    target: str,
    cases: Mapping[str, Any],
    *,
    setup: str | None = None,
    cwd: Path | None = None,
    case_timeout: float = HANG_TIMEOUT,
    what: str = "the cases",
) -> CaseResults:
    """Run ``target`` (``"module:function"``, taking one case) on every case in ONE fresh
    interpreter, each case under its own alarm of ``case_timeout`` s; ``setup`` (the same
    form, no arguments) runs once first, e.g. to import albumentations.

    Cases and results are JSON. One interpreter for N cases costs one start and one import
    instead of N, while a hang still fails only its case: the alarm interrupts it (and a
    hang the alarm cannot interrupt fails the cases left, when the child is killed).
    """
    with TemporaryDirectory() as folder:
        cases_path, results_path = Path(folder) / "cases.json", Path(folder) / "results.jsonl"
        cases_path.write_text(json.dumps(dict(cases)), encoding="utf-8")
        argv = [
            *("-c", _CASE_RUNNER, target, setup or "", str(cases_path)),
            *(str(results_path), str(case_timeout)),
        ]
        code, output = _run_child(argv, cwd=cwd, timeout=case_timeout + HANG_TIMEOUT)
        records: dict[str, dict[str, Any]] = {}
        if results_path.exists():
            for line in results_path.read_text(encoding="utf-8").splitlines():
                name, record = json.loads(line)
                records[name] = record
    if code is None:
        output = f"killed after {case_timeout + HANG_TIMEOUT:.0f} s (hung)\n{output}"
    elif code != 0:
        output = f"the child exited with {code}\n{output}"
    return CaseResults(records, output, what)


class _Hung(BaseException):
    """Raised by :func:`alarm` inside the block it guards (no ``except Exception`` takes it)."""


@contextmanager
def alarm(what: str, seconds: float = HANG_TIMEOUT) -> Iterator[None]:
    """Fail the test if the block has not finished after ``seconds`` (POSIX, main thread).

    SIGALRM interrupts a blocking system call (opening a FIFO, reading a pipe) in-process, so
    such a hang needs no subprocess; a loop inside C code cannot be interrupted (use
    :func:`run_python` for that).
    """

    def ring(signum: int, frame: Any) -> None:
        raise _Hung

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Hung:
        pytest.fail(f"{what} hung: not done within {seconds:.0f} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wait_until(
    condition: Callable[[], bool], what: str = "condition", timeout: float = HANG_TIMEOUT
) -> None:
    """Poll until ``condition()`` holds; fail the test only if it never does (a hang).

    Says nothing about speed: a test that cares bounds the work done, not the time taken.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: still not true after {timeout:.0f} s")
        time.sleep(0.01)
