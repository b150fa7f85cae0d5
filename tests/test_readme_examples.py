"""The README's examples run: every ```python block, and the ``confaug`` commands of every
``console`` / ``bash`` / ``sh`` block, in a temporary folder holding the small files they
assume (``aug.yaml``, ``data/train/<class>/*.jpg``, ``train.csv``, ...).

A Python block runs in its own interpreter (Keras on JAX, Torch, TensorFlow and Ray do not
share one process well) as README.md's own lines, so a traceback names the README line. Names
a block uses without defining (``x``, ``model``, ``train_gen``) come from ``FIXTURES``; what a
block leaves unconsumed (a generator, a ``DataLoader``, a bare ``pipe.flow(...)``) is pulled
once, so lazy code is exercised too. Commands run in-process through ``confaug.cli.main`` and
their output is compared with the output the README prints.

A block or command that cannot run here is listed, with the reason, in ``SKIPPED_BLOCKS`` or
``NOT_RUN``; any other block that fails, or a new block with an unknown free name, fails here.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PYTHONS = ("python", "py", "python3")
SHELLS = ("console", "bash", "sh", "shell")

# ---- what does not run, and why --------------------------------------------------------------

#: Python blocks that are not run, by ``Block.key`` (nearest heading / first line).
SKIPPED_BLOCKS: dict[str, str] = {
    "Ray Data on a cluster / # augment_on_ray.py": (
        "joins a running multi-node Ray cluster (ray.init(address='auto')), reads "
        "/mnt/shared/train and builds a new actor pool for each of 10 epochs"
    ),
}

#: Shell commands (by their first words) that are not run, and why.
NOT_RUN: dict[str, str] = {
    "pip install": "installs the package: the tests run against this checkout",
    "python -m pip install": "installs packages: CI's job (tests/test_readme.py: same as .ci/run)",
    "npm install": (
        "installs the editor tests' yaml-language-servers: CI's job (tests/test_readme.py: "
        "same as .ci/run)"
    ),
    "ruff": "the linter: CI's job (tests/test_readme.py holds the command to .ci/run)",
    "mypy": "the type checker: CI's job (tests/test_readme.py holds the command to .ci/run)",
    "python -m pytest": "the whole test suite, this file included",
    "ray start": "starts the nodes of a multi-node Ray cluster",
    "python augment_on_ray.py": "the Ray cluster driver (skipped above)",
    "torchrun": "launches DDP over two nodes; train_ddp.py runs as one process instead",
}

BEFORE = (
    "Migrating from Keras' ImageDataGenerator / from keras.preprocessing.image import "
    "ImageDataGenerator   # Keras 2; removed in Keras 3"
)

#: Text replaced in a block before it runs, with the reason: (old, new, reason).
SUBSTITUTIONS: dict[str, list[tuple[str, str, str]]] = {
    BEFORE: [
        (
            "from keras.preprocessing.image import ImageDataGenerator",
            "from confaug.keras import ImageDataGenerator",
            "Keras 3 removed this import; the README promises the seed's snippet runs with "
            "only its import line changed to confaug.keras",
        )
    ],
    "Ray Data on a cluster / from confaug.integrations.ray import ERROR_COLUMN": [
        (
            "ActorPoolStrategy(size=8)",
            "ActorPoolStrategy(size=2)",
            "8 actors take 20 s to start here",
        ),
    ],
    "PyTorch DDP / # train_ddp.py": [
        ('"/mnt/shared/train"', '"data/train"', "the shared folder of the cluster"),
    ],
}


# ---- the README's blocks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block of README.md."""

    lang: str
    code: str
    line: int  # README line of the opening fence
    section: str  # the ``##`` heading above it
    heading: str  # the nearest ``##`` or ``###`` heading above it

    @property
    def first_line(self) -> str:
        return self.code.splitlines()[0].strip() if self.code.strip() else ""

    @property
    def key(self) -> str:
        return f"{self.heading} / {self.first_line}"


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, with the headings it sits under."""
    blocks: list[Block] = []
    section = heading = ""
    fence: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is None:
            if line.startswith("```"):
                fence = (line[3:].strip(), number, [])
            elif match := re.match(r"(#{2,3}) (.+)", line):
                heading = match[2].strip()
                if match[1] == "##":
                    section = heading
        elif line.startswith("```"):
            lang, start, lines = fence
            blocks.append(Block(lang, "\n".join(lines) + "\n", start, section, heading))
            fence = None
        else:
            fence[2].append(line)
    assert fence is None, f"README.md: the block opened on line {fence[1]} is never closed"
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
PYTHON_BLOCKS = [block for block in BLOCKS if block.lang in PYTHONS]
SHELL_BLOCKS = [block for block in BLOCKS if block.lang in SHELLS]


def yaml_block(*needles: str) -> str:
    """The README's yaml block holding every one of ``needles``."""
    found = [
        b.code for b in BLOCKS if b.lang == "yaml" and all(needle in b.code for needle in needles)
    ]
    assert len(found) == 1, f"expected one yaml block with {needles}, found {len(found)}"
    return found[0]


# ---- the files the examples assume -----------------------------------------------------------


def _image(seed: int, size: tuple[int, int] = (48, 64)) -> Any:
    """A small smooth RGB image (gradients and a disc), so JPEG keeps it recognisable."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : size[0], 0 : size[1]]
    base = rng.integers(0, 256, 3)
    image = (base + rows[..., None] * rng.integers(1, 4, 3) + cols[..., None]) % 256
    disc = (rows - size[0] / 2) ** 2 + (cols - size[1] / 3) ** 2 < (size[0] / 4) ** 2
    image[disc] = rng.integers(0, 256, 3)
    return image.astype(np.uint8)


def _write_image(path: Path, image: Any) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image), path


def build_workspace(root: Path) -> None:
    """The files the README's examples read, all small."""
    import numpy as np

    (root / "aug.yaml").write_text(yaml_block("extends: preset:keras_seed", "OneOf"), "utf-8")
    for k, klass in enumerate(("cat", "dog")):  # flow_from_directory, confaug augment
        for i in range(1, 4):
            _write_image(root / "data" / "train" / klass / f"{i}.jpg", _image(10 * k + i))
    rows = ["file,label"]
    for i in range(4):  # flow_from_dataframe, and paired image / mask folders
        _write_image(root / "img" / f"{i}.jpg", _image(100 + i))
        _write_image(root / "masks" / f"{i}.png", (_image(100 + i)[..., 0] > 127).astype(np.uint8))
        rows.append(f"{i}.jpg,{('cat', 'dog')[i % 2]}")
    (root / "train.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _write_image(root / "cat.jpg", _image(200))  # confaug preview --image
    _write_image(root / "dog.jpg", _image(201))


def configure_for(block: Block, root: Path) -> None:
    """The config files of ``block``'s section, where it is not the default ``aug.yaml``."""
    from confaug.cli import main

    if block.heading == "Check it":  # the section's config, mistakes and all
        (root / "aug.yaml").write_text(yaml_block("MotionBlurr"), encoding="utf-8")
    elif block.section == "Sharing configs across teams":  # the section's layout
        base = root / "augment" / "team-base.yaml"
        base.parent.mkdir(exist_ok=True)
        base.write_text(yaml_block("Vision team base"), encoding="utf-8")
        (root / "aug.yaml").write_text(yaml_block("extends: augment/team-base.yaml"), "utf-8")
        assert main(["schema", "-o", str(root / "augment" / "confaug.schema.json")]) == 0


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the README's files."""
    build_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- names the Python blocks take from their context -----------------------------------------
# Called in the block's own interpreter, in its working directory (the workspace).


def _x() -> Any:
    import numpy as np

    return np.stack([_image(300 + i, (64, 64)) for i in range(8)])


def _model() -> Any:
    """A tiny Keras classifier for flow_from_directory's two classes at 224×224."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((224, 224, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, strides=4, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def _batches() -> Iterator[tuple[Any, Any]]:
    """What the seed's ``train_gen`` yields: float images in [0, 1], one-hot labels."""
    import numpy as np

    x = _x().astype(np.float32) / 255.0
    y = np.eye(2, dtype=np.float32)[np.arange(len(x)) % 2]
    for _ in range(2):
        for start in range(0, len(x), 4):
            yield x[start : start + 4], y[start : start + 4]


def _ray_images() -> Any:
    """What augment_on_ray.py reads, from a local Ray instead of a cluster's shared folder."""
    import ray

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    return ray.data.read_images("data/train", include_paths=True, mode="RGB")


def _x_val() -> tuple[Any, Any]:
    import numpy as np

    images = np.stack([_image(400 + i, (224, 224)) for i in range(4)])
    return images, np.eye(2, dtype=np.float32)[np.arange(4) % 2]


FIXTURES: dict[str, Callable[[], Any]] = {
    "confaug": lambda: importlib.import_module("confaug"),
    "DataLoader": lambda: importlib.import_module("torch.utils.data").DataLoader,
    "img": lambda: _image(1, (64, 80)),
    "mask": lambda: (_image(1, (64, 80))[..., 0] > 127).astype("uint8"),
    "x": _x,
    "y": lambda: importlib.import_module("numpy").arange(8) % 2,
    "x_val": lambda: _x_val()[0],  # held-out images shaped as the README's train batches
    "y_val": lambda: _x_val()[1],
    "m": lambda: (_x()[..., 0] > 127).astype("uint8"),
    "boxes": lambda: [[[4.0, 6.0, 30.0, 40.0], [20.0, 10.0, 60.0, 50.0]] for _ in range(8)],
    "ids": lambda: [[1, 2] for _ in range(8)],
    "my_batches": lambda: list(_batches()),
    "train_gen": _batches,
    "model": _model,
    "images": _ray_images,  # the next two come from the block before, augment_on_ray.py
    "ray": lambda: importlib.import_module("ray"),
    "ray_augment": lambda: importlib.import_module("confaug.integrations.ray").ray_augment,
}


# ---- what the blocks' comments promise, checked after they ran --------------------------------


def _check_quick_start(ns: dict[str, Any]) -> None:
    confaug, img, x = ns["confaug"], ns["img"], ns["x"]
    assert ns["out"]["image"].shape == img.shape and ns["out"]["mask"].shape == ns["mask"].shape
    assert ns["x_aug"].shape == x.shape and ns["x_aug"].dtype == x.dtype
    Path("resolved.yaml").write_text(ns["pipe"].to_yaml(), encoding="utf-8")
    assert confaug.load_spec("resolved.yaml") == ns["pipe"].spec  # "round-trips"


def _check_floats_stay_in_range(ns: dict[str, Any]) -> None:
    x, y = next(iter(ns["cur_gen"]))
    assert x.dtype.kind == "f" and x.min() >= 0.0 and x.max() <= 1.0, (x.dtype, x.min(), x.max())
    assert y.shape == (4, 2)


def _check_generators(ns: dict[str, Any]) -> None:
    import keras

    assert isinstance(ns["train"].as_keras(), keras.utils.PyDataset)
    assert len(ns["dataset"].element_spec) == 2  # "tf.data with an output_signature"


def _check_ddp(ns: dict[str, Any]) -> None:
    import torch

    x, _ = next(iter(ns["loader"]))
    assert ns["train"].num_classes == 2 and x.shape[:2] == (6, 3), x.shape  # NCHW
    assert x.dtype == torch.float32 and x.min() >= 0.0 and x.max() <= 1.0  # "float32 in [0, 1]"


def _check_hf_datasets(ns: dict[str, Any]) -> None:
    import numpy as np

    image = ns["train"][0]["image"]
    assert image.shape == (3, 48, 64) and image.dtype == np.float32, image.shape  # "(3, H, W)"
    batch = next(iter(ns["loader"]))
    assert tuple(batch["image"].shape) == (4, 3, 48, 64) and len(batch["label"]) == 4


def _check_grain(ns: dict[str, Any]) -> None:
    batches = list(ns["train"])
    assert len(batches) == 4  # 8 records, 2 epochs, batches of 4
    image = batches[0]["image"]
    assert image.shape == (4, 64, 64, 3) and image.dtype.name == "uint8", image.shape


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "Quick start (Python) / import confaug": _check_quick_start,
    'Streaming batches: the generator factory / pipe = confaug.load_pipeline("aug.yaml")': (
        _check_generators
    ),
    BEFORE: _check_floats_stay_in_range,
    "Migrating from Keras' ImageDataGenerator / import confaug": _check_floats_stay_in_range,
    "PyTorch DDP / # train_ddp.py": _check_ddp,
    "Hugging Face datasets / import datasets": _check_hf_datasets,
    "Grain (JAX) / import grain": _check_grain,
}


# ---- running a Python block ------------------------------------------------------------------


def _names(node: ast.AST) -> tuple[set[str], set[str]]:
    """(names ``node`` reads that it does not bind itself, names it binds)."""
    loads: set[str] = set()
    stores: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            (loads if isinstance(child.ctx, ast.Load) else stores).add(child.id)
        elif isinstance(child, ast.arg):
            stores.add(child.arg)
        elif isinstance(child, ast.alias):
            stores.add((child.asname or child.name).split(".")[0])
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stores.add(child.name)
    return loads - stores, stores


def _scan(statements: list[ast.stmt], bound: set[str], free: set[str]) -> None:
    """Add to ``free`` what ``statements``, run in order, read before binding."""
    for statement in statements:
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            free |= _names(statement.iter)[0] - bound
            bound |= _names(statement.target)[1]
            _scan(statement.body + statement.orelse, bound, free)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound.add(statement.name)
            _scan(statement.body, bound | _names(statement.args)[1], free)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            if statement.value is not None:
                free |= _names(statement.value)[0] - bound
            bound |= _names(statement)[1]
        else:
            loads, stores = _names(statement)
            free |= loads - bound
            bound |= stores


def free_names(code: str) -> tuple[list[str], list[str]]:
    """(names ``code`` reads before binding them, names its top-level statements bind)."""
    tree = ast.parse(code)
    free: set[str] = set()
    _scan(tree.body, set(), free)
    top: dict[str, None] = {}  # in the order the block binds them
    for statement in tree.body:
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.For, ast.With)):
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    top[node.id] = None
    return sorted(free - set(dir(builtins))), list(top)


def exercise(value: Any) -> None:
    """Take one item of a lazy result: a batch generator, a generator, a loader or dataset."""
    module = type(value).__module__
    if module.startswith("confaug.batching") and hasattr(value, "__getitem__"):
        value[0]
    elif isinstance(value, (types.GeneratorType, Iterator)) or (
        module.startswith(("confaug.batching", "torch.utils.data", "tensorflow"))
        and isinstance(value, Iterable)
    ):
        next(iter(value))


def child_main(payload_path: str) -> None:
    """Run one block (in a fresh interpreter): fixtures, the block, its lazy results, checks."""
    payload = json.loads(Path(payload_path).read_text(encoding="utf-8"))
    ns: dict[str, Any] = {"__name__": "__main__", "_exercise": exercise}
    for name in payload["fixtures"]:
        ns[name] = FIXTURES[name]()
    tree = ast.parse(payload["code"])
    for index, statement in enumerate(tree.body):  # a bare `pipe.flow(...)` is pulled once
        if isinstance(statement, ast.Expr) and not isinstance(statement.value, ast.Constant):
            call = ast.Call(ast.Name("_exercise", ast.Load()), [statement.value], [])
            tree.body[index] = ast.copy_location(ast.Expr(call), statement)
    ast.fix_missing_locations(tree)
    ast.increment_lineno(tree, payload["line"])  # tracebacks name README.md's own lines
    exec(compile(tree, str(README), "exec"), ns)
    for name in payload["bound"]:
        if name in ns:  # (not a comprehension's own variable)
            exercise(ns[name])
    if payload["key"] in CHECKS:
        CHECKS[payload["key"]](ns)
    if "ray" in sys.modules and sys.modules["ray"].is_initialized():
        sys.modules["ray"].shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _torchrun_env() -> dict[str, str]:
    """What torchrun tells each process, for a world of one process."""
    return {
        "RANK": "0",
        "LOCAL_RANK": "0",
        "WORLD_SIZE": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
    }


#: Environment variables a block's launcher would set.
ENVIRONMENTS: dict[str, Callable[[], dict[str, str]]] = {
    "PyTorch DDP / # train_ddp.py": _torchrun_env,
    # datasets' cache in the workspace, and no attempt to reach the hub
    "Hugging Face datasets / import datasets": lambda: {
        "HF_DATASETS_CACHE": "hf-cache",
        "HF_HUB_OFFLINE": "1",
    },
}


def prepared_code(block: Block) -> str:
    code = block.code
    for old, new, _reason in SUBSTITUTIONS.get(block.key, []):
        assert old in code, f"{block.key}: substitution target {old!r} is gone"
        code = code.replace(old, new)
    return code


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: f"L{b.line}:{b.first_line}")
def test_python_block_runs(block: Block, workspace: Path) -> None:
    if block.key in SKIPPED_BLOCKS:
        pytest.skip(f"README.md:{block.line} {block.key}: {SKIPPED_BLOCKS[block.key]}")
    code = prepared_code(block)
    free, bound = free_names(code)
    unknown = [name for name in free if name not in FIXTURES]
    assert not unknown, f"README.md:{block.line}: no fixture for {unknown}: add it to FIXTURES"
    payload = workspace / "_block.json"
    payload.write_text(
        json.dumps(
            {"code": code, "line": block.line, "key": block.key, "fixtures": free, "bound": bound}
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
        "KERAS_BACKEND": "jax",  # trains (the numpy backend cannot)
        "NO_ALBUMENTATIONS_UPDATE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **ENVIRONMENTS.get(block.key, dict)(),
    }
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, test_readme_examples as t; t.child_main(sys.argv[1])",
            str(payload),
        ],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a hung block is ended with its helpers
    )
    try:
        _, stderr = child.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        _, stderr = child.communicate()
        pytest.fail(f"README.md:{block.line} ({block.key}) hung:\n{stderr[-6000:]}")
    assert child.returncode == 0, f"README.md:{block.line} ({block.key}) failed:\n{stderr[-6000:]}"


# ---- running a shell block -------------------------------------------------------------------


@dataclass
class Command:
    """A command of a shell block and the output the README shows for it."""

    text: str
    output: list[str]


def shell_commands(block: Block) -> list[Command]:
    """``$ ``-prefixed commands and their output (console), or every line (bash, sh)."""
    commands: list[Command] = []
    for line in block.code.splitlines():
        if block.lang == "console":
            if line.startswith("$ "):
                commands.append(Command(line[2:], []))
            elif line.strip():
                assert commands, f"README.md:{block.line}: output before any command"
                commands[-1].output.append(line)
        elif line.strip() and not line.lstrip().startswith("#"):
            commands.append(Command(line, []))
    return commands


#: Output lines whose numbers change from run to run or with the data (pattern: why).
VOLATILE: dict[str, str] = {
    r"augmented \d+ images": "the time the demo took",
    r"wrote \S+\.png \(": "the PNG's size depends on the zlib / OpenCV build",
    r"\S+ +\d+% \|": "a progress bar (stderr): counts and rate",
    r"\d+ written, ": "the counts of the workspace's data and the time taken",
}
PROGRESS = r"\S+ +\d+% \|"


def line_pattern(expected: str) -> re.Pattern[str]:
    """``expected`` as a regex: ``…`` (with any hex digits before it) elides, and the
    numbers of a volatile line may differ."""
    volatile = any(re.match(pattern, expected) for pattern in VOLATILE)
    parts = re.split(r"[0-9a-f]*…", expected)
    pieces = []
    for part in parts:
        piece = re.escape(part)
        if volatile:
            piece = re.sub(r"\d+(?:\\\.\d+)?", r"\\d+(?:\\.\\d+)?", piece)
        pieces.append(piece)
    return re.compile(".*".join(pieces))


def assert_output(command: str, expected: list[str], out: str, err: str) -> None:
    shown = [line for line in expected if not re.match(PROGRESS, line)]
    bars = [line for line in expected if re.match(PROGRESS, line)]
    actual = out.splitlines()
    assert len(actual) == len(shown), f"$ {command}\nREADME shows:\n{shown}\nprinted:\n{actual}"
    for want, got in zip(shown, actual, strict=True):
        assert line_pattern(want).fullmatch(got), f"$ {command}\nREADME: {want}\nprinted: {got}"
    if bars:
        last = err.splitlines()[-1] if err.strip() else ""
        assert line_pattern(bars[-1]).fullmatch(last), f"$ {command}\nREADME: {bars}\n{err}"


def _check_augmented_names(root: Path) -> None:
    """The README: `data/train/cat/1.jpg` → `data/train_aug/cat/1_aug0.jpg` … `1_aug4.jpg`."""
    written = sorted(p.name for p in (root / "data" / "train_aug" / "cat").iterdir())
    assert written[:5] == [f"1_aug{k}.jpg" for k in range(5)], written


#: What the prose around a shell block promises, checked after it ran (by heading).
SHELL_CHECKS: dict[str, Callable[[Path], None]] = {
    "Expand a dataset offline": _check_augmented_names,
}

#: Exit codes other than 0 that a block's commands are meant to give (by heading).
EXPECTED_EXIT: dict[str, int] = {"Check it": 1}


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: f"L{b.line}:{b.first_line[:50]}")
def test_shell_block_runs(
    block: Block, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from confaug.cli import main

    configure_for(block, workspace)
    not_run: list[str] = []
    ran = False
    for command in shell_commands(block):
        parts = command.text.split(" && ")
        for part in parts:
            words = shlex.split(part, comments=True)
            if words[0] != "confaug":
                prefix = next((k for k in NOT_RUN if part.startswith(k)), None)
                assert prefix, f"README.md:{block.line}: `{part}` neither runs nor is in NOT_RUN"
                not_run.append(f"{prefix}: {NOT_RUN[prefix]}")
                continue
            target = None
            if ">" in words:
                at = words.index(">")
                target, words = words[at + 1], words[:at]
            capsys.readouterr()
            code = main(words[1:])
            out, err = capsys.readouterr()
            wanted = EXPECTED_EXIT.get(block.heading, 0)
            assert code == wanted, f"$ {part}\nexit {code}, expected {wanted}\n{out}\n{err}"
            if target is not None:
                Path(target).write_text(out, encoding="utf-8")
            if command.output and part == parts[-1]:
                assert_output(part, command.output, out, err)
            ran = True
    if block.heading in SHELL_CHECKS:
        SHELL_CHECKS[block.heading](workspace)
    if not ran:
        pytest.skip(f"README.md:{block.line}: {'; '.join(dict.fromkeys(not_run))}")


# ---- the lists above stay true ---------------------------------------------------------------


def test_every_block_has_a_unique_key() -> None:
    keys = [block.key for block in PYTHON_BLOCKS]
    assert len(keys) == len(set(keys)), keys
    assert PYTHON_BLOCKS and SHELL_BLOCKS


def test_lists_name_blocks_that_exist() -> None:
    keys = {block.key for block in PYTHON_BLOCKS}
    for table in (SKIPPED_BLOCKS, SUBSTITUTIONS, CHECKS, ENVIRONMENTS):
        stale = set(table) - keys
        assert not stale, f"no README python block is keyed {stale}"
    headings = {block.heading for block in SHELL_BLOCKS}
    for table in (SHELL_CHECKS, EXPECTED_EXIT):
        assert set(table) <= headings, f"no README shell block under {set(table) - headings}"
    commands = " ".join(c.text for b in SHELL_BLOCKS for c in shell_commands(b))
    stale_commands = [prefix for prefix in NOT_RUN if prefix not in commands]
    assert not stale_commands, f"NOT_RUN names commands the README no longer has: {stale_commands}"
