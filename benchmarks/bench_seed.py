"""The seed's own paths, timed through the API a user calls, as ratios taken in one run.

    KERAS_BACKEND=numpy python benchmarks/bench_seed.py [--sizes 400 32] [--rounds 5]
        [--turns 4] [--seconds 0.15] [--settle 1] [--folder-files 160] [--threads N]
        [--rows flow snippet]

Each row is a path and its baseline. A round gives each row ``--turns`` short turns of its
path and of its baseline, alternating (ABBA…), each turn about ``--seconds`` long: a busy
spell on a shared machine then falls on both sides of a ratio alike. A row shows the median
images/s of the path and of its baseline over ``--rounds`` rounds, and the median of the
rounds' ratios with their range. The config is the seed's (``preset:keras_seed``: rotation
15, shifts 0.1, shear 0.01, zoom [0.9, 1.25], horizontal flip, reflect, brightness
[0.5, 1.5]); 400 px images go in batches of 4 (the seed's), 32 px ones in batches of 32.

* **snippet** — the seed's ``create_aug_gen`` (a ``flow()`` per incoming batch of float
  [0, 1] images, ``255 * x`` in, ``x / 255`` out), run with Keras' legacy
  ``ImageDataGenerator`` (``keras.src.legacy.preprocessing.image``) and with
  ``confaug.keras.ImageDataGenerator``: only the import differs;
* **flow** — ``ImageDataGenerator(...).flow(x, y, batch_size)`` over float 0–255 arrays (the
  CIFAR-sized ``(1024, 32, 32, 3)`` at 32 px), one epoch per unit, Keras and drop-in;
* **wrap** — ``pipe.wrap(batches)`` over float32 batches in [0, 1], against a bare float32
  ``cv2.warpAffine`` loop over the same images;
* **apply_batch** — ``pipe.apply_batch(x)`` on uint8, against a bare uint8 loop;
* **mixed** — ``apply_batch`` of the seed's keywords followed by two albumentations steps,
  against those two steps alone in an ``A.Compose``: what the albumentations part costs;
* **folder** (400 px JPEGs in class folders, batches of 32, an epoch per turn) —
  ``flow_from_directory`` with ``workers=2`` against ``workers=1``, and against a PyTorch
  ``DataLoader(num_workers=2, persistent_workers=True)`` over a hand-written albumentations
  ``Dataset`` of the same files and config (skipped without PyTorch).

The bare loop is one ``cv2.warpAffine`` per image (bilinear, reflect, inverse map) and nothing
else: the floor a user would write. Under OpenCV 5 confaug warps 3-channel uint8 images by way
of 4 channels (``idg.affine_kernel``: the same bits, a faster kernel), so ``apply_batch`` on
uint8 can beat that loop; the loop is kept as the user would write it. The first line gives
the load average: on a shared machine the ranges widen. Absolute figures drift between
machines and runs; compare the ratios.

Both libraries share one process, and a turn's first batches can pay for what the other
side's turn did to the heap: fresh memory pages, which the kernel zeroes (2 MB at a time
where NumPy asks for huge pages). So every turn starts with ``--settle`` (1) untimed units,
on both sides: the steady state of a loop that runs one library only. With ``--settle 0``
the snippet's turns after Keras' ones page-fault, mostly in its own ``255 * in_x`` (the
first large allocation after Keras freed its batch), while Keras' turns after confaug's
find a grown heap: that reading favours Keras.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "numpy")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
import numpy as np
from bench_generator import seed_like_compose, write_jpegs

import confaug
from confaug.spec.model import GEOMETRIC_KEYWORDS

SEED_KEYWORDS: dict[str, Any] = {
    "rotation_range": 15,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "shear_range": 0.01,
    "zoom_range": [0.9, 1.25],
    "horizontal_flip": True,
    "vertical_flip": False,
    "fill_mode": "reflect",
    "data_format": "channels_last",
    "brightness_range": [0.5, 1.5],
}
MIXED_STEPS: list[dict[str, Any]] = [
    {"RandomBrightnessContrast": {"p": 0.5}},
    {"GaussNoise": {"std_range": [0.02, 0.06], "p": 0.3}},
]
#: (row label, workload, baseline) at each size; TARGETS holds the issue's targets.
ROWS = (
    ("snippet: create_aug_gen, only the import changed", "snippet confaug", "snippet Keras"),
    ("flow(x, y, batch_size), float 0-255", "flow confaug", "flow Keras"),
    ("pipe.wrap, float32 [0, 1]", "wrap", "bare warp float32"),
    ("pipe.apply_batch, uint8", "apply_batch uint8", "bare warp uint8"),
    ("mixed spec apply_batch, uint8", "mixed apply_batch", "albumentations steps alone"),
)
TARGETS = {
    ("snippet confaug", 400): 15.0,
    ("snippet confaug", 32): 5.0,
    ("flow confaug", 32): 10.0,
    ("wrap", 400): 0.6,
    ("apply_batch uint8", 400): 0.8,
    ("apply_batch uint8", 32): 0.35,
}


@dataclass
class Workload:
    """``run(n)`` does ``n`` units of work and returns how many images it produced."""

    run: Callable[[int], int]
    units: int = 1


def smooth_images(count: int, size: int, seed: int = 0) -> np.ndarray:
    """``count`` smooth random uint8 RGB images (blurred noise: not a flat, easy case)."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 256, size=(count, size, size, 3), dtype=np.uint8)
    for image in pool:
        cv2.GaussianBlur(image, (5, 5), 0, dst=image)
    return pool


def keras_legacy() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from keras.src.legacy.preprocessing import image

    return image.ImageDataGenerator


def snippet(generator_class: type, batches: list[tuple[np.ndarray, np.ndarray]]) -> Workload:
    """The seed's create_aug_gen, verbatim but for the class."""
    image_gen = generator_class(**SEED_KEYWORDS)

    def create_aug_gen(in_gen: Iterator[tuple[np.ndarray, np.ndarray]]) -> Iterator[Any]:
        for in_x, in_y in in_gen:
            g_x = image_gen.flow(255 * in_x, in_y, batch_size=in_x.shape[0])
            x, y = next(g_x)
            yield x / 255.0, y

    def run(n: int) -> int:
        count = 0
        upstream = (batches[i % len(batches)] for i in range(n))
        for x, _ in create_aug_gen(upstream):
            count += len(x)
        return count

    return Workload(run)


def flow_epoch(generator_class: type, x: np.ndarray, y: np.ndarray, batch_size: int) -> Workload:
    """One epoch of ``ImageDataGenerator(...).flow(x, y, batch_size)`` per unit."""
    image_gen = generator_class(**SEED_KEYWORDS)
    steps = -(-len(x) // batch_size)

    def run(n: int) -> int:
        count = 0
        for _ in range(n):
            flow = image_gen.flow(x, y, batch_size=batch_size)
            for _ in range(steps):
                count += len(next(flow)[0])
        return count

    return Workload(run)


def wrap_float(pipe: Any, batches: list[tuple[np.ndarray, np.ndarray]]) -> Workload:
    def run(n: int) -> int:
        count = 0
        for _ in range(n):
            for x, _ in pipe.wrap(batches):
                count += len(x)
        return count

    return Workload(run)


def apply_batch(pipe: Any, batches: list[np.ndarray]) -> Workload:
    def run(n: int) -> int:
        count = 0
        for i in range(n):
            count += len(pipe.apply_batch(batches[i % len(batches)]))
        return count

    return Workload(run)


def compose_alone(batches: list[np.ndarray]) -> Workload:
    """The mixed spec's albumentations steps alone, in a bare ``A.Compose``, per image."""
    import albumentations as A

    compose = A.Compose(
        [
            A.RandomBrightnessContrast(p=0.5),
            A.GaussNoise(std_range=(0.02, 0.06), p=0.3),
        ],
        seed=0,
    )

    def run(n: int) -> int:
        count = 0
        for i in range(n):
            for image in batches[i % len(batches)]:
                compose(image=image)
                count += 1
        return count

    return Workload(run)


def floor_matrices(height: int, width: int, floor: str) -> list[np.ndarray]:
    """The bare loop's 2x3 matrices: ``drawn`` from the seed's geometric keywords (each image
    its own draw, the geometry the pipeline warps with: zooming out to 1.25 reads far more
    reflected border than zooming in), or one ``fixed`` rotation of 10 degrees at scale 1.1
    (the loop this benchmark timed before)."""
    if floor == "fixed":
        return [cv2.getRotationMatrix2D((width / 2, height / 2), 10, 1.1)]
    from confaug.idg.params import IdgSampler
    from confaug.idg.warp import warp_matrix

    keywords = {key: SEED_KEYWORDS[key] for key in GEOMETRIC_KEYWORDS if key in SEED_KEYWORDS}
    sampler, rng = IdgSampler(**keywords), np.random.default_rng(0)
    drawn = (warp_matrix(sampler.sample(rng, height, width), height, width) for _ in range(64))
    return [matrix for matrix in drawn if matrix is not None]


def bare_warp(batches: list[np.ndarray], floor: str) -> Workload:
    """One ``cv2.warpAffine`` per image (bilinear, reflect, inverse map), nothing else."""
    height, width = batches[0].shape[1:3]
    matrices = floor_matrices(height, width, floor)
    flags, reflect = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, cv2.BORDER_REFLECT

    def run(n: int) -> int:
        count = 0
        for i in range(n):
            for image in batches[i % len(batches)]:
                matrix = matrices[count % len(matrices)]
                cv2.warpAffine(image, matrix, (width, height), flags=flags, borderMode=reflect)
                count += 1
        return count

    return Workload(run)


def workloads(
    size: int, batch: int, flow_images: int, floor: str, names: set[str] | None = None
) -> dict[str, Workload]:
    """The workloads of one image size (only ``names``, when given: a process timing one
    side alone then never imports the other library)."""
    pool = smooth_images(max(4 * batch, 16), size)
    as_unit = pool.astype(np.float32) / 255.0
    labels = np.eye(4, dtype=np.float32)[np.arange(len(pool)) % 4]
    starts = range(0, len(pool) - batch + 1, batch)
    float_batches = [(as_unit[s : s + batch], labels[s : s + batch]) for s in starts]
    byte_batches = [pool[s : s + batch] for s in starts]
    flow_x = np.resize(pool, (flow_images, size, size, 3)).astype(np.float32)
    flow_y = np.eye(10, dtype=np.float32)[np.arange(flow_images) % 10]
    from confaug.keras import ImageDataGenerator

    def keras_class() -> Any:
        return keras_legacy()

    def pipe() -> Any:
        return confaug.load_pipeline("preset:keras_seed")

    def mixed() -> Any:
        return confaug.load_pipeline({"extends": "preset:keras_seed", "transforms": MIXED_STEPS})

    makers: dict[str, Callable[[], Workload]] = {
        "snippet Keras": lambda: snippet(keras_class(), float_batches),
        "snippet confaug": lambda: snippet(ImageDataGenerator, float_batches),
        "flow Keras": lambda: flow_epoch(keras_class(), flow_x, flow_y, batch),
        "flow confaug": lambda: flow_epoch(ImageDataGenerator, flow_x, flow_y, batch),
        "wrap": lambda: wrap_float(pipe(), float_batches),
        "bare warp float32": lambda: bare_warp([x for x, _ in float_batches], floor),
        "apply_batch uint8": lambda: apply_batch(pipe(), byte_batches),
        "bare warp uint8": lambda: bare_warp(byte_batches, floor),
        "mixed apply_batch": lambda: apply_batch(mixed(), byte_batches),
        "albumentations steps alone": lambda: compose_alone(byte_batches),
    }
    return {name: make() for name, make in makers.items() if names is None or name in names}


def shape_of(size: int) -> tuple[int, int]:
    """A size's batch and flow length: the seed's batches of 4 at 400 px, CIFAR at 32 px."""
    return (4, 32) if size >= 128 else (32, 1024)


def alone_rate(name: str, size: int, seconds: float, floor: str) -> float:
    """Images/s of workload ``name`` in this process, built alone, warmed up and timed for
    ``seconds`` (what ``--separate`` runs in a process of its own)."""
    batch, flow_images = shape_of(size)
    work = workloads(size, batch, flow_images, floor, {name})
    calibrate(work, 0.15)
    workload = work[name]
    workload.run(workload.units)  # a turn untimed: the heap and caches of a running loop
    made, start = 0, time.perf_counter()
    while (spent := time.perf_counter() - start) < seconds:
        made += workload.run(workload.units)
    return made / spent


def separate_rounds(
    pairs: list[tuple[str, str]],
    size: int,
    rounds: int,
    seconds: float,
    floor: str,
    threads: int | None,
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """:func:`paired_rounds` with each side alone in a process of its own, one process per
    side and round (in ABBA order over the rounds): nothing one library leaves in the
    process can slow or speed the other."""
    result: dict[tuple[str, str], list[tuple[float, float]]] = {pair: [] for pair in pairs}
    for number in range(rounds):
        for pair in pairs:
            rates = [0.0, 0.0]
            for side in (0, 1) if number % 2 == 0 else (1, 0):
                command = [sys.executable, __file__, "--alone", pair[side], "--sizes", str(size)]
                command += ["--seconds", str(seconds), "--floor", floor]
                command += [] if threads is None else ["--threads", str(threads)]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                rates[side] = float(done.stdout.split()[-1])
            result[pair].append((rates[0], rates[1]))
    return result


def calibrate(work: dict[str, Workload], seconds: float) -> None:
    """Warm every workload up and choose how many units make one turn last ``seconds``."""
    for workload in work.values():
        workload.run(1)
        start = time.perf_counter()
        workload.run(1)
        took = max(time.perf_counter() - start, 1e-6)
        workload.units = max(1, round(seconds / took))


def paired_rounds(
    work: dict[str, Workload],
    pairs: list[tuple[str, str]],
    rounds: int,
    turns: int,
    settle: int = 0,
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Images/s of each pair's path and baseline, per round.

    In a round every pair runs ``turns`` short turns of its path and of its baseline,
    alternating (ABBA…), so that a busy spell on a shared machine falls on both sides of a
    ratio alike; a round's rate is its images over its time on that side. ``settle``:
    units each side runs untimed at the start of its turn (see ``--settle``).
    """
    result: dict[tuple[str, str], list[tuple[float, float]]] = {pair: [] for pair in pairs}
    for _ in range(rounds):
        for pair in pairs:
            spent, made = [0.0, 0.0], [0, 0]
            for turn in range(turns):
                for side in (0, 1) if turn % 2 == 0 else (1, 0):
                    workload = work[pair[side]]
                    if settle:
                        workload.run(settle)
                    start = time.perf_counter()
                    made[side] += workload.run(workload.units)
                    spent[side] += time.perf_counter() - start
            result[pair].append((made[0] / spent[0], made[1] / spent[1]))
    return result


def print_table(
    title: str,
    rows: list[tuple[str, str, str, float | None]],
    rates: dict[tuple[str, str], list[tuple[float, float]]],
) -> None:
    """One table: median images/s of each side, and the median and range of the ratios."""
    print(f"\n{title}")
    print(
        f"| {'path':<58} | {'images/s':>9} | {'baseline/s':>10} | {'ratio':>7} "
        f"| {'rounds':>13} | target |"
    )
    print(f"|{'-' * 60}|{'-' * 10}:|{'-' * 11}:|{'-' * 8}:|{'-' * 14}:|{'-' * 8}|")
    for label, name, baseline, target in rows:
        measured = rates[(name, baseline)]
        ratios = [path / base for path, base in measured]
        ratio = statistics.median(ratios)
        wanted = "" if target is None else f">= {target:g}" + (" ok" if ratio >= target else "")
        print(
            f"| {label:<58} | {statistics.median(p for p, _ in measured):>9,.0f} "
            f"| {statistics.median(b for _, b in measured):>10,.0f} | {ratio:>6.2f}x "
            f"| {min(ratios):>5.2f}–{max(ratios):<5.2f}x | {wanted} |"
        )


def folder_workloads(root: Path, batch: int) -> dict[str, Workload]:
    """One epoch over a folder of JPEGs per unit: confaug's ``flow_from_directory`` with the
    seed preset and ``workers`` 1 and 2 (threads), and a PyTorch ``DataLoader(num_workers=2)``
    over a hand-written albumentations ``Dataset`` of the same files and config."""
    from confaug.batching import flow_from_directory

    pipe = confaug.load_pipeline("preset:keras_seed")
    count = sum(1 for _ in root.rglob("*.jpg"))

    def confaug_epoch(workers: int) -> Workload:
        generator = flow_from_directory(
            pipe, root, target_size=None, batch_size=batch, seed=0, epochs=1, workers=workers
        )

        def run(n: int) -> int:  # each pass starts its workers and ends them: nothing is
            return sum(len(x) for _ in range(n) for x, _ in generator)  # made in between

        return Workload(run)

    work = {"folder workers=1": confaug_epoch(1), "folder workers=2": confaug_epoch(2)}
    torch_epoch = torch_workload(root, batch)
    if torch_epoch is not None:
        work["torch DataLoader(num_workers=2)"] = torch_epoch
    assert count, "no JPEGs written"
    return work


def torch_workload(root: Path, batch: int) -> Workload | None:
    """A ``DataLoader(num_workers=2)`` over a ``Dataset`` written as its users write one:
    ``cv2.imread`` + RGB, an albumentations Compose of the seed's config (Affine with its
    rotation, shifts, shear and zoom and a reflect border; HorizontalFlip; brightness
    ±50 %), a CHW uint8 tensor; None without PyTorch."""
    try:
        import torch
        from torch.utils.data import DataLoader, Dataset
    except ImportError:
        return None

    paths = sorted(root.rglob("*.jpg"))
    classes = sorted({path.parent.name for path in paths})

    class Folder(Dataset):
        def __init__(self) -> None:
            self.compose = seed_like_compose()

        def __len__(self) -> int:
            return len(paths)

        def __getitem__(self, index: int) -> tuple[Any, int]:
            read: Any = cv2.imread(str(paths[index]))
            image = cv2.cvtColor(read, cv2.COLOR_BGR2RGB)
            image = self.compose(image=image)["image"]
            label = classes.index(paths[index].parent.name)
            return torch.from_numpy(image.transpose(2, 0, 1).copy()), label

    # persistent_workers: its processes stay up from one epoch to the next (not started
    # again per turn), and start on an epoch only when it is asked for.
    loader = DataLoader(
        Folder(), batch_size=batch, shuffle=True, num_workers=2, persistent_workers=True
    )

    def run(n: int) -> int:
        return sum(len(x) for _ in range(n) for x, _ in loader)

    return Workload(run)


def wanted(name: str, rows: list[str] | None) -> bool:
    """Whether ``--rows`` asks for the row whose path is ``name`` (all rows without it)."""
    return rows is None or any(name.startswith(row) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[400, 32])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=4, help="turns of each side per round")
    parser.add_argument("--seconds", type=float, default=0.15, help="length of one turn")
    parser.add_argument(
        "--settle",
        type=int,
        default=1,
        help="units each side runs untimed before each turn (default 1; 0 times every unit): "
        "both libraries share one process, so a turn's first batches can pay for fresh memory "
        "pages the other side's turn left the heap without; a training loop runs one side only",
    )
    parser.add_argument(
        "--folder-files", type=int, default=160, help="400 px JPEGs of the folder rows (0: none)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)"
    )
    parser.add_argument(
        "--rows",
        nargs="*",
        default=None,
        help="only the rows whose path names start with one of these (snippet, flow, wrap, "
        "apply_batch, mixed); the folder rows need --folder-files",
    )
    parser.add_argument(
        "--floor",
        choices=["drawn", "fixed"],
        default="drawn",
        help="the bare loop's matrices: the seed's draws, or one fixed rotation",
    )
    parser.add_argument(
        "--separate",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time each side alone, in a process of its own, for SECONDS per round (after "
        "a warm-up), instead of in alternating turns in this process; the folder rows are "
        "left out",
    )
    parser.add_argument("--alone", default=None, help=argparse.SUPPRESS)  # one side, --separate
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    if args.alone is not None:
        print(alone_rate(args.alone, args.sizes[0], args.seconds, args.floor))
        return
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"confaug {confaug.__version__}, OpenCV {cv2.__version__} ({cv2.getNumThreads()} "
        f"threads), NumPy {np.__version__}, KERAS_BACKEND={os.environ['KERAS_BACKEND']}, "
        f"OPENBLAS_CORETYPE={coretype or 'unset'}; {os.cpu_count()} CPUs, load average "
        + (
            f"{load}; medians of {args.rounds} rounds, each side alone in a process of its "
            f"own for {args.separate:g} s a round"
            if args.separate
            else f"{load}; medians of {args.rounds} rounds of {args.turns} alternating turns "
            "per side" + (f", {args.settle} untimed units before each" if args.settle else "")
        )
    )
    for size in args.sizes:
        batch, flow_images = shape_of(size)
        chosen = [row for row in ROWS if wanted(row[1], args.rows)]
        if not chosen:
            continue
        pairs = [(name, baseline) for _, name, baseline in chosen]
        if args.separate:
            rates = separate_rounds(
                pairs, size, args.rounds, args.separate, args.floor, args.threads
            )
        else:
            names = {name for pair in pairs for name in pair}
            work = workloads(size, batch, flow_images, args.floor, names)
            calibrate(work, args.seconds)
            rates = paired_rounds(work, pairs, args.rounds, args.turns, args.settle)
        rows = [(label, name, base, TARGETS.get((name, size))) for label, name, base in chosen]
        title = f"{size}x{size}x3, batches of {batch}, flow over ({flow_images}, {size}, {size}, 3)"
        print_table(title, rows, rates)
        print(
            f"(baselines: Keras' legacy IDG; a bare cv2.warpAffine loop, {args.floor} matrices; "
            "the steps in A.Compose)"
        )
    if args.folder_files and wanted("folder", args.rows) and not args.separate:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "data"
            write_jpegs(root, args.folder_files, (400, 400))
            work = folder_workloads(root, 32)
            for workload in work.values():
                workload.run(1)  # warm-up: page cache, imports, worker start-up paths
            rows = [
                (
                    "folder of 400 px JPEGs, workers=2 vs workers=1",
                    "folder workers=2",
                    "folder workers=1",
                    1.8,
                )
            ]
            if "torch DataLoader(num_workers=2)" in work:
                rows.append(
                    (
                        "folder, workers=2 vs torch DataLoader(num_workers=2)",
                        "folder workers=2",
                        "torch DataLoader(num_workers=2)",
                        1.2,
                    )
                )
            rates = paired_rounds(work, [(name, base) for _, name, base, _ in rows], args.rounds, 2)
            title = f"a folder of {args.folder_files} 400 px JPEGs, batches of 32, an epoch a turn"
            print_table(title, rows, rates)
            print("(both sides: the seed's config; torch: cv2.imread + an albumentations Compose)")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
