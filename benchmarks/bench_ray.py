"""Ray Data on 2 local CPUs against ``flow_from_directory(workers=2)`` on the same JPEG folder.

Run: ``python benchmarks/bench_ray.py [--images 1000] [--repeats 3]``. Needs ``ray[data]``.

Both sides decode 400x400 JPEGs and augment them with the seed's config (``preset:keras_seed``)
and every image is consumed in batches of 32. Ray reads either decoded images
(``read_images``, PIL in read tasks) or file bytes (``read_binary_files``, decoded by confaug in
the actors). Throughput is the median of the repeats after a first pass; Ray's start-up cost
is reported apart: ``ray.init``, and the first pass (actor start, pipeline compile, planning)
against later ones. Ratios are taken in one run; absolute figures drift between machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

CONFIG = "preset:keras_seed"
BATCH = 32


def make_folder(top: Path, count: int, size: int = 400) -> None:
    """``count`` photo-like JPEGs (smooth gradients plus noise, quality 90) in two classes."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    for index in range(count):
        folder = top / ("a" if index % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        base = np.stack([ramp[None, :] * np.ones((size, 1)), ramp[:, None] * np.ones(size)], -1)
        noise = rng.normal(0, 12, (size, size, 3)).astype(np.float32)
        image = np.clip(
            np.concatenate([base, base[..., :1]], -1) * 0.8 + noise + index % 40, 0, 255
        )
        cv2.imwrite(
            str(folder / f"{index:05d}.jpg"), image.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90]
        )


def timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = run()
    return time.perf_counter() - start, count


def bench_flow(folder: Path, repeats: int) -> float:
    import confaug

    pipe = confaug.load_pipeline(CONFIG)

    def run() -> int:
        generator = pipe.flow_from_directory(
            folder, target_size=(400, 400), batch_size=BATCH, seed=0, workers=2, epochs=1
        )
        with generator:
            return sum(len(x) for x, _ in generator)

    run()  # warm-up: imports, first compile, page cache
    rates = []
    for _ in range(repeats):
        seconds, count = timed(run)
        rates.append(count / seconds)
    return statistics.median(rates)


def bench_ray(folder: Path, repeats: int) -> dict[str, float]:
    import ray

    from confaug.integrations.ray import ray_augment

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    init_seconds = time.perf_counter() - start
    ray.data.DataContext.get_current().enable_progress_bars = False
    figures: dict[str, float] = {"init": init_seconds}
    try:
        variants = {
            "read_images": lambda: ray.data.read_images(str(folder), include_paths=True),
            "read_binary_files": lambda: ray.data.read_binary_files(
                str(folder), include_paths=True
            ),
        }
        for name, read in variants.items():
            column = "image" if name == "read_images" else "bytes"
            augment = ray_augment(CONFIG, seed=0, image_column=column, target_size=(400, 400))

            def run(read: Callable[[], object] = read, augment: type = augment) -> int:
                dataset = read().map_batches(  # type: ignore[attr-defined]
                    augment,
                    batch_format="numpy",
                    compute=ray.data.ActorPoolStrategy(size=2),
                    num_cpus=0.5,  # two actors leave one CPU's worth for the read tasks
                )
                return sum(
                    len(batch["path"])
                    for batch in dataset.iter_batches(batch_size=BATCH, batch_format="numpy")
                )

            first, count = timed(run)
            passes = [timed(run)[0] for _ in range(repeats)]
            figures[f"{name} rate"] = count / statistics.median(passes)
            figures[f"{name} first"] = first
            figures[f"{name} warm"] = statistics.median(passes)
    finally:
        start = time.perf_counter()
        ray.shutdown()
        figures["shutdown"] = time.perf_counter() - start
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    with tempfile.TemporaryDirectory(prefix="confaug-bench-ray-") as tmp:
        folder = Path(tmp)
        make_folder(folder, args.images)
        print(f"{args.images} JPEGs, 400x400 q90, config {CONFIG}, batches of {BATCH}, 2 CPUs")
        flow = bench_flow(folder, args.repeats)
        print(f"flow_from_directory(workers=2):            {flow:7.0f} images/s")
        ray_figures = bench_ray(folder, args.repeats)
        for name in ("read_images", "read_binary_files"):
            rate = ray_figures[f"{name} rate"]
            print(
                f"Ray {name:<17} + map_batches (2 actors): {rate:7.0f} images/s"
                f"  = {rate / flow:.2f}x flow; first pass {ray_figures[f'{name} first']:.1f} s,"
                f" later passes {ray_figures[f'{name} warm']:.1f} s"
            )
        print(
            f"Ray start-up: ray.init {ray_figures['init']:.1f} s, "
            f"ray.shutdown {ray_figures['shutdown']:.1f} s"
        )


if __name__ == "__main__":
    main()
