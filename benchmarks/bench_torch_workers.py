"""PyTorch DataLoader workers with OpenCV pinned to one thread against OpenCV's default.

    python benchmarks/bench_torch_workers.py [--files 400] [--workers 2] [--repeats 5]
                                             [--opencv-threads N]

A folder of 400x400 JPEGs in class folders, augmented by an albumentations Compose like the
seed config (``bench_generator.ComposePipeline``), loaded through ``to_torch`` by a
``DataLoader(num_workers=2)``: the batch view (``batch_size=None``) and the sample view
(``batch_size=32``). "pinned" is the default (one OpenCV thread per worker process);
"default" sets ``one_opencv_thread_in_workers = False`` on the dataset, so each worker keeps
the main process's OpenCV thread count (the machine's cores, or ``--opencv-threads``). The
runs take turns; each figure is the median images/s of the repeats, after a warm-up pass.
Compare the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
from bench_generator import ComposePipeline, interleaved_rates, write_jpegs
from torch.utils.data import DataLoader

from confaug.batching import flow_from_directory
from confaug.integrations.torch import to_torch

BATCH = 32


def datasets(root: Path, pinned: bool) -> tuple[Any, Any]:
    """The batch and sample views of one generator over ``root``."""
    generator = flow_from_directory(
        ComposePipeline(), root, target_size=None, batch_size=BATCH, seed=0
    )
    views = to_torch(generator), to_torch(generator, samples=True)
    for view in views:
        view.one_opencv_thread_in_workers = pinned
    return views


def epoch(dataset: Any, workers: int, batch_size: int | None) -> None:
    for _ in DataLoader(dataset, batch_size=batch_size, num_workers=workers):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--opencv-threads",
        type=int,
        default=None,
        help="OpenCV threads of the main process, which unpinned workers inherit (default: "
        "OpenCV's own); e.g. 8 shows what 8 cores per worker would oversubscribe",
    )
    args = parser.parse_args()
    if args.opencv_threads is not None:
        cv2.setNumThreads(args.opencv_threads)
    print(
        f"cpus={os.cpu_count()}  opencv threads (main)={cv2.getNumThreads()}  "
        f"files={args.files}  num_workers={args.workers}  repeats={args.repeats}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        write_jpegs(root, args.files, (400, 400))
        runs: dict[str, Any] = {}
        for pinned in (True, False):
            batches, samples = datasets(root, pinned)
            label = "pinned" if pinned else "default"
            runs[f"batches, {label}"] = lambda d=batches: epoch(d, args.workers, None)
            runs[f"samples, {label}"] = lambda d=samples: epoch(d, args.workers, BATCH)
        rates = interleaved_rates(runs, dict.fromkeys(runs, args.files), args.repeats)
    for name, rate in rates.items():
        print(f"{name:<20} {rate:8.0f} images/s")
    print()
    for view in ("batches", "samples"):
        ratio = rates[f"{view}, pinned"] / rates[f"{view}, default"]
        print(f"{view}: pinned / default  {ratio:5.2f}x")
    print(f"opencv threads (main) after: {cv2.getNumThreads()}")


if __name__ == "__main__":
    main()
