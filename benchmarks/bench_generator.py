"""Folder → augmented batches: confaug's BatchGenerator against baselines in the same run.

    python benchmarks/bench_generator.py [--files 600] [--repeats 3]

Prints images/s and the ratios the project tracks, for the seed's config compiled by confaug
(``preset:keras_seed``):
- workers=2 vs workers=0 (target ≥ 1.8×). workers=0 leaves OpenCV's own thread pool on, so
  its warps already use both cores; workers ≥ 1 pin OpenCV to one thread per worker. To show
  how much room two cores leave, the run also times workers=0 with OpenCV pinned to one
  thread, workers=1, and the ceiling 2 × workers=1 (perfect scaling of one pinned worker);
- confaug workers=2 vs a hand-written thread pool that decodes with OpenCV and calls the same
  albumentations Compose (target ≥ 0.9×);
- reduced-size JPEG decoding (DCT scaling) vs full decode + resize, at half and quarter size;
- peak RSS of one epoch over 20,000 files vs 1,000 (target ≤ 1.1×), each in a subprocess.

The same ratios are printed for a plain albumentations pipeline resembling the seed config
(Affine rotate 15, translate 0.1, shear, scale 0.9–1.25, reflect; HorizontalFlip; brightness
±50 %). Absolute figures vary between machines; compare the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np

import confaug
from confaug.batching import flow_from_directory
from confaug.opencv_threads import one_thread
from confaug.sources import DecodeOptions, decode_image


def seed_like_compose() -> Any:
    """An albumentations Compose resembling the seed's ImageDataGenerator config."""
    import albumentations as A

    return A.Compose(
        [
            A.Affine(
                rotate=(-15, 15),
                translate_percent=(-0.1, 0.1),
                shear=(-0.6, 0.6),
                scale=(0.9, 1.25),
                border_mode=cv2.BORDER_REFLECT,
                p=1.0,
            ),
            A.HorizontalFlip(p=0.5),
            A.RandomBrightnessContrast(brightness_limit=0.5, contrast_limit=0.0, p=1.0),
        ]
    )


class ComposePipeline:
    """The SamplePipeline protocol over an albumentations Compose (one copy per thread).

    Seeded as ``confaug.Pipeline`` seeds: one NumPy and one ``random`` generator per call,
    shared by all steps (``set_random_state``).
    """

    data_format = "channels_last"

    def __init__(self, compose: Any = None) -> None:
        self.compose = seed_like_compose() if compose is None else compose
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        return {"compose": self.compose}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.compose = state["compose"]
        self._local = threading.local()

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        compose = getattr(self._local, "compose", None)
        if compose is None:
            compose = self._local.compose = copy.deepcopy(self.compose)
        if seed is not None:
            compose.set_random_state(np.random.default_rng(seed), random.Random(seed))
        return compose(**data)

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        return batch


def write_jpegs(root: Path, count: int, size: tuple[int, int], classes: int = 3) -> list[Path]:
    """``count`` photo-like JPEGs (blurred noise and shapes, quality 90) in class folders."""
    rng = np.random.default_rng(0)
    paths = []
    base = cv2.GaussianBlur(rng.integers(0, 256, (*size, 3), dtype=np.uint8), (0, 0), 3)
    for number in range(count):
        image = np.roll(base, number * 7, axis=1).copy()
        centre = (int(rng.integers(0, size[1])), int(rng.integers(0, size[0])))
        cv2.circle(image, centre, int(rng.integers(10, 80)), rng.integers(0, 256, 3).tolist(), -1)
        folder = root / f"class{number % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{number:05d}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def interleaved_rates(
    runs: dict[str, Any], images: dict[str, int], repeats: int
) -> dict[str, float]:
    """Median images/s per run; the runs take turns, so a load spike hits all of them."""
    for run in runs.values():
        run()  # warm-up: imports, page cache, per-thread pipeline copies
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: images[name] / statistics.median(spent) for name, spent in times.items()}


def confaug_epoch(
    root: Path, workers: int, pipeline: Any = None, batch_size: int = 32, pin: bool = False
) -> None:
    """One epoch of ``flow_from_directory``; ``pin`` holds OpenCV at one thread throughout."""
    generator = flow_from_directory(
        ComposePipeline() if pipeline is None else pipeline,
        root,
        target_size=None,
        batch_size=batch_size,
        seed=0,
        epochs=1,
        workers=workers,
    )
    with one_thread() if pin else contextlib.nullcontext():
        for _ in generator:
            pass


def hand_written_epoch(
    paths: list[Path], workers: int, compose: Any = None, batch_size: int = 32
) -> None:
    """The obvious baseline: a thread pool that decodes and augments, stacked per batch."""
    pipeline = ComposePipeline(compose)
    saved = cv2.getNumThreads()
    cv2.setNumThreads(1)

    def one(path: Path) -> np.ndarray:
        data = np.fromfile(path, np.uint8)
        image = cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return pipeline(image=image)["image"]

    try:
        with ThreadPoolExecutor(workers) as pool:
            for start in range(0, len(paths), batch_size):
                np.stack(list(pool.map(one, paths[start : start + batch_size])))
    finally:
        cv2.setNumThreads(saved)


def decode_all(paths: list[Path], target: tuple[int, int], reduced: bool) -> None:
    options = DecodeOptions(target_size=target, interpolation="area", reduced_decode=reduced)
    for path in paths:
        decode_image(path, options)


def peak_rss_mib(count: int, image_size: int) -> float:
    """Peak RSS (MiB) of a fresh process running one epoch over ``count`` files.

    Linux keeps ``ru_maxrss`` across ``exec``, so a child would report at least its parent's
    peak: run this before the parent grows (``main`` does it first).
    """
    here = Path(__file__).resolve().parent
    code = f"""
import os, resource, sys, tempfile
from pathlib import Path
sys.path[:0] = [{str(here)!r}, {str(here.parent)!r}]
import cv2, numpy as np
from bench_generator import ComposePipeline
import confaug
from confaug.batching import flow_from_directory
from confaug.opencv_threads import one_thread
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    noise = np.random.default_rng(0).integers(0, 256, ({image_size}, {image_size}, 3), np.uint8)
    cv2.imwrite(str(root / "first.jpg"), cv2.GaussianBlur(noise, (0, 0), 2))
    for number in range({count}):
        folder = root / "data" / f"class{{number % 4}}"
        folder.mkdir(parents=True, exist_ok=True)
        os.link(root / "first.jpg", folder / f"{{number:06d}}.jpg")
    generator = flow_from_directory(ComposePipeline(), root / "data", target_size=None,
                                    batch_size=32, seed=0, epochs=1, workers=2)
    seen = sum(len(batch[0]) for batch in generator)
    assert seen == {count}, seen
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rss-files", type=int, default=20_000)
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()}  opencv threads={cv2.getNumThreads()}  files={args.files}")
    rss_small, rss_large = peak_rss_mib(1_000, 128), peak_rss_mib(args.rss_files, 128)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        paths = write_jpegs(root, args.files, (400, 400))
        big = write_jpegs(Path(tmp) / "big", 60, (768, 1024))
        seed = confaug.load_pipeline("preset:keras_seed")
        runs: dict[str, Any] = {}
        for kind, pipeline, compose in (("seed", seed, seed.compose), ("albu", None, None)):
            runs[f"{kind} workers=0"] = lambda p=pipeline: confaug_epoch(root, 0, p)
            runs[f"{kind} workers=0, OpenCV 1 thread"] = lambda p=pipeline: confaug_epoch(
                root, 0, p, pin=True
            )
            runs[f"{kind} workers=1"] = lambda p=pipeline: confaug_epoch(root, 1, p)
            runs[f"{kind} workers=2"] = lambda p=pipeline: confaug_epoch(root, 2, p)
            runs[f"{kind} hand-written pool, 2 threads"] = lambda c=compose: hand_written_epoch(
                paths, 2, c
            )
        images = dict.fromkeys(runs, len(paths))
        for label, files, target in (
            ("400→200", paths[:200], (200, 200)),
            ("400→100", paths[:200], (100, 100)),
            ("1024x768→224", big, (224, 224)),
        ):
            for reduced in (False, True):
                name = f"decode {label} {'reduced' if reduced else 'full+resize'}"
                runs[name] = lambda f=files, t=target, r=reduced: decode_all(f, t, r)
                images[name] = len(files)
        rates = interleaved_rates(runs, images, args.repeats)
    for name, rate in rates.items():
        print(f"{name:<40} {rate:8.0f} images/s")
    print()
    for kind, title in (("seed", "seed preset"), ("albu", "albumentations Affine pipeline")):
        print(f"{title}:")
        two = rates[f"{kind} workers=2"]
        for baseline, note in (
            ("workers=0", "(target >= 1.8)"),
            ("workers=0, OpenCV 1 thread", ""),
            ("workers=1", ""),
        ):
            print(
                f"  workers=2 / {baseline:<28} "
                f"{two / rates[f'{kind} {baseline}']:5.2f}x  {note}".rstrip()
            )
        ceiling = 2 * rates[f"{kind} workers=1"] / rates[f"{kind} workers=0"]
        print(f"  ceiling 2 x workers=1 / workers=0      {ceiling:5.2f}x")
        hand = two / rates[f"{kind} hand-written pool, 2 threads"]
        print(f"  confaug / hand-written pool (2 threads) {hand:5.2f}x  (target >= 0.9)")
    for label in ("400→200", "400→100", "1024x768→224"):
        ratio = rates[f"decode {label} reduced"] / rates[f"decode {label} full+resize"]
        print(f"reduced JPEG decode gain, {label:<14} {ratio:5.2f}x")
    print(
        f"peak RSS 1,000 files {rss_small:.0f} MiB, {args.rss_files:,} files "
        f"{rss_large:.0f} MiB: {rss_large / rss_small:5.2f}x  (target <= 1.1)"
    )


if __name__ == "__main__":
    main()
