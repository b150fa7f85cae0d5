"""Throughput of confaug's IdgTransform against Keras' ImageDataGenerator, in one process.

Median images/s of 5 repeats with the seed's config (rotation 15, shifts 0.1, shear 0.01,
zoom [0.9, 1.25], horizontal flip, reflect fill, brightness [0.5, 1.5]) at 400×400×3:

* Keras legacy ``ImageDataGenerator.flow``, batch 4, float32 on 0–255;
* confaug ``IdgTransform`` in an ``A.Compose``, on uint8 and on float32 in [0, 1];
* a bare ``cv2.warpAffine`` (bilinear, reflect) on the same images, uint8 and float32: the
  kernel floor each dtype is compared with.

Run: ``python benchmarks/bench_keras.py [--size 400] [--repeats 5]``. Ratios matter, not
absolute figures, which drift between machines and runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KERAS_BACKEND", "numpy")

from confaug._albu import albumentations
from confaug.idg.transform import IdgTransform

KERAS = "Keras IDG flow, batch 4, float 0-255"
WARP = "cv2.warpAffine alone"
SEED_CONFIG = {
    "rotation_range": 15,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "shear_range": 0.01,
    "zoom_range": [0.9, 1.25],
    "horizontal_flip": True,
    "vertical_flip": False,
    "fill_mode": "reflect",
    "brightness_range": [0.5, 1.5],
}


def median_rates(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Median images/s of each run (which returns how many images it did).

    Repeats go round-robin over the workloads, so that a busy spell on the machine slows
    every workload of that round rather than one of them.
    """
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            count = run()
            rates[name].append(count / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def keras_flow(images: np.ndarray, batches: int) -> Callable[[], int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from keras.src.legacy.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(**SEED_CONFIG, data_format="channels_last")
    iterator = generator.flow(images.astype(np.float32), batch_size=4, shuffle=False, seed=0)

    def run() -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # scipy.ndimage.interpolation
            return sum(len(next(iterator)) for _ in range(batches))

    return run


def confaug_compose(images: np.ndarray, count: int) -> Callable[[], int]:
    A = albumentations()
    pipe = A.Compose([IdgTransform(**SEED_CONFIG)], seed=0)

    def run() -> int:
        for i in range(count):
            pipe(image=images[i % len(images)])
        return count

    return run


def bare_warp(images: np.ndarray, count: int) -> Callable[[], int]:
    height, width = images.shape[1:3]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 10, 1.1)
    flags, reflect = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, cv2.BORDER_REFLECT

    def run() -> int:
        for i in range(count):
            image = images[i % len(images)]
            cv2.warpAffine(image, matrix, (width, height), flags=flags, borderMode=reflect)
        return count

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=400, help="image height and width")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keras-batches", type=int, default=10, help="batches of 4 per repeat")
    parser.add_argument("--images", type=int, default=300, help="images per repeat (confaug)")
    parser.add_argument(
        "--threads", type=int, default=None, help="cv2.setNumThreads (default: cv2's)"
    )
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)

    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, size=(16, args.size, args.size, 3), dtype=np.uint8)
    pool = np.ascontiguousarray(cv2.GaussianBlur(pool.reshape(-1, args.size, 3), (5, 5), 0))
    pool = pool.reshape(16, args.size, args.size, 3)
    as_float = pool.astype(np.float32) / 255

    n = args.images
    workloads = {  # name: (run, dtype of the bare warpAffine it is compared with)
        KERAS: (keras_flow(pool, args.keras_batches), "float32"),
        "confaug IdgTransform, uint8": (confaug_compose(pool, n), "uint8"),
        "confaug IdgTransform, float32 [0,1]": (confaug_compose(as_float, n), "float32"),
        f"{WARP}, uint8": (bare_warp(pool, n), "uint8"),
        f"{WARP}, float32": (bare_warp(as_float, n), "float32"),
    }
    rates = median_rates({name: run for name, (run, _) in workloads.items()}, args.repeats)
    keras = rates[KERAS]

    print(f"{args.size}x{args.size}x3, median of {args.repeats}, cv2 threads {cv2.getNumThreads()}")
    print(
        f"| {'workload':<38} | {'images/s':>9} | {'vs Keras':>8} "
        f"| {'vs warpAffine, same dtype':>25} |"
    )
    print(f"|{'-' * 40}|{'-' * 10}:|{'-' * 9}:|{'-' * 26}:|")
    for name, (_, dtype) in workloads.items():
        rate, floor = rates[name], rates[f"{WARP}, {dtype}"]
        print(f"| {name:<38} | {rate:>9,.0f} | {rate / keras:>7.1f}x | {rate / floor:>24.2f}x |")


if __name__ == "__main__":
    main()
