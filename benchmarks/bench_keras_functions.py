"""Speed of ``confaug.keras``'s free functions against Keras' own, in one process.

Each function of ``keras.preprocessing.image`` (Keras 3's
``keras.src.legacy.preprocessing.image``) and its drop-in twin is called on the same
smooth float32 image, channels last (``row_axis=0, col_axis=1, channel_axis=2``), with
Keras' default fill mode and order; the random ones after the same ``np.random.seed``, so
both draw the same parameters. Keras warps with scipy once per channel; confaug makes one
``cv2.warpAffine`` per image. Reported: median calls/s of the repeats (round-robin, so a
busy spell slows every workload of that round) and the ratio confaug / Keras.

Run: ``python benchmarks/bench_keras_functions.py [--size 224] [--repeats 5]``. Ratios
matter, not absolute figures, which drift between machines and runs.
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
from types import ModuleType
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KERAS_BACKEND", "numpy")

import confaug.keras as confaug_image

AXES = {"row_axis": 0, "col_axis": 1, "channel_axis": 2}
CALLS: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "random_rotation(30)": ("random_rotation", (30,), AXES),
    "random_shift(0.1, 0.1)": ("random_shift", (0.1, 0.1), AXES),
    "random_shear(20)": ("random_shear", (20,), AXES),
    "random_zoom((0.8, 1.2))": ("random_zoom", ((0.8, 1.2),), AXES),
    "apply_affine_transform(all)": (
        "apply_affine_transform",
        (),
        {"theta": 15, "tx": 4, "ty": -3, "shear": 8, "zx": 0.9, "zy": 1.1, **AXES},
    ),
    "  same, fill_mode=constant": (
        "apply_affine_transform",
        (),
        {"theta": 15, "tx": 4, "ty": -3, "zx": 0.9, "zy": 1.1, "fill_mode": "constant", **AXES},
    ),
    "random_channel_shift(30)": ("random_channel_shift", (30.0, 2), {}),
    "random_brightness((0.5, 1.5))": ("random_brightness", ((0.5, 1.5),), {}),
}


def keras_module() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from keras.src.legacy.preprocessing import image

    return image


def workload(module: ModuleType, name: str, args: tuple, kwargs: dict, image: np.ndarray, n: int):
    function = getattr(module, name)

    def run() -> int:
        np.random.seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # scipy.ndimage.interpolation
            for _ in range(n):
                function(image, *args, **kwargs)
        return n

    return run


def median_rates(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            count = run()
            rates[name].append(count / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="image height and width")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40, help="calls per repeat")
    parser.add_argument(
        "--threads", type=int, default=None, help="cv2.setNumThreads (default: cv2's)"
    )
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    small = np.random.default_rng(0).uniform(0, 255, (8, 8, 3)).astype(np.float32)
    image = cv2.resize(small, (args.size, args.size), interpolation=cv2.INTER_CUBIC)

    keras = keras_module()
    runs: dict[str, Callable[[], int]] = {}
    for label, (name, call_args, kwargs) in CALLS.items():
        for side, module in (("keras", keras), ("confaug", confaug_image)):
            runs[f"{side}:{label}"] = workload(module, name, call_args, kwargs, image, args.calls)
    rates = median_rates(runs, args.repeats)

    print(
        f"{args.size}x{args.size}x3 float32, median of {args.repeats} x {args.calls} calls, "
        f"cv2 threads {cv2.getNumThreads()}"
    )
    print(f"| {'function':<30} | {'Keras calls/s':>13} | {'confaug calls/s':>15} | {'ratio':>6} |")
    print(f"|{'-' * 32}|{'-' * 15}|{'-' * 17}|{'-' * 8}|")
    for label in CALLS:
        theirs, ours = rates[f"keras:{label}"], rates[f"confaug:{label}"]
        print(f"| {label:<30} | {theirs:>13.0f} | {ours:>15.0f} | {ours / theirs:>5.1f}x |")


if __name__ == "__main__":
    main()
