"""Core figures for issue 2: import time, load time, and Pipeline overhead over a bare Compose.

Run: ``python benchmarks/bench_core.py``. Ratios are taken in one run; absolute numbers drift.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time

import numpy as np


def _import_time(module: str, repeats: int = 5) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return statistics.median(runs)


def _rate(fn, images: list[np.ndarray], repeats: int = 5) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for image in images:
            fn(image)
        rates.append(len(images) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    import confaug

    print(
        f"import confaug:            {_import_time('confaug') * 1000:7.1f} ms "
        "(median of 5, fresh processes)"
    )
    start = time.perf_counter()
    confaug.load_pipeline("preset:keras_seed")
    first = time.perf_counter() - start
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        confaug.load_pipeline("preset:keras_seed")
        loads.append(time.perf_counter() - start)
    print(
        f"load_pipeline(keras_seed): {first * 1000:7.1f} ms first (imports albumentations), "
        f"{statistics.median(loads) * 1000:.1f} ms after"
    )

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (400, 400, 3), dtype=np.uint8) for _ in range(200)]
    pipe = confaug.load_pipeline("preset:keras_seed")
    compose = pipe.compose
    bare = _rate(lambda im: compose(image=im), images)
    wrapped = _rate(lambda im: pipe(image=im), images)
    seeds = itertools.count()
    seeded = _rate(lambda im: pipe(image=im, seed=next(seeds)), images)
    print(f"bare Compose:              {bare:7.0f} images/s (400x400 uint8, seed preset)")
    print(
        f"Pipeline.__call__:         {wrapped:7.0f} images/s  "
        f"overhead {100 * (bare / wrapped - 1):+.1f}%"
    )
    print(
        f"Pipeline.__call__(seed=):  {seeded:7.0f} images/s  "
        f"overhead {100 * (bare / seeded - 1):+.1f}%"
    )


if __name__ == "__main__":
    main()
