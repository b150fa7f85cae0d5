"""``confaug demo``: the seed's job on the embedded samples, on a fresh machine with no data.

Loads ``preset:keras_seed``, builds a float batch in [0, 1] from the shipped sample images
(as the seed's generator yields), augments it, prints shapes, dtypes and ranges like the
seed did, and writes a preview grid.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from confaug.cli.common import (
    add_command,
    add_config_options,
    load_pipeline,
    non_negative_int,
    positive_int,
)
from confaug.cli.grid import Cell, render_grid, write_png

DEMO_SAMPLES = ("scene", "shapes", "checkerboard", "aerial")
DEFAULT_OUTPUT = "confaug-demo.png"


def sample_batch(size: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` embedded RGB samples resized to ``size``², float32 in [0, 1], one-hot labels."""
    import cv2

    from confaug import samples

    names = [DEMO_SAMPLES[i % len(DEMO_SAMPLES)] for i in range(count)]
    images = [
        cv2.resize(samples.load(name), (size, size), interpolation=cv2.INTER_AREA) for name in names
    ]
    x = np.stack(images).astype(np.float32) / 255.0
    y = np.eye(len(DEMO_SAMPLES), dtype=np.float32)[[i % len(DEMO_SAMPLES) for i in range(count)]]
    return x, y


def grid_rows(
    originals: np.ndarray, batches: list[np.ndarray], *, channels_first: bool
) -> list[list[Cell]]:
    """Per image: the original, then its version in each augmented batch."""
    rows = []
    for i, original in enumerate(originals):
        row = [Cell(original, f"original {DEMO_SAMPLES[i % len(DEMO_SAMPLES)]}")]
        for r, batch in enumerate(batches, start=1):
            row.append(Cell(batch[i].transpose(1, 2, 0) if channels_first else batch[i], f"#{r}"))
        rows.append(row)
    return rows


def run(args: argparse.Namespace) -> int:
    """Augment a sample batch, print what came out, write the grid."""
    pipe = load_pipeline(args.config, args)
    channels_first = pipe.spec.data_format == "channels_first"
    originals, y = sample_batch(args.size, args.batch)
    x = np.ascontiguousarray(originals.transpose(0, 3, 1, 2)) if channels_first else originals
    start = time.perf_counter()
    t_x = pipe.apply_batch(x, seed=args.seed)
    elapsed = time.perf_counter() - start
    print(f"config {args.config}: {pipe!r}")
    print("x", t_x.shape, t_x.dtype, t_x.min(), t_x.max())
    print("y", y.shape, y.dtype, y.min(), y.max())
    print(f"augmented {len(t_x)} images of {args.size}×{args.size} in {elapsed * 1000:.0f} ms")
    if args.output:
        batches = [t_x] + [pipe.apply_batch(x, seed=args.seed + r) for r in range(1, args.rounds)]
        rows = grid_rows(originals, batches, channels_first=channels_first)
        title = f"confaug demo: {args.config}"
        size = write_png(args.output, render_grid(rows, cell_size=160, title=title))
        print(f"wrote {args.output} ({size / 1024:.0f} KB): originals, then augmented versions")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``demo`` command."""
    parser = add_command(
        subparsers,
        "demo",
        help="run the seed's augmentation on the embedded samples (no data needed)",
        description="Load a config (default preset:keras_seed, the seed project's Keras "
        "settings), augment a float batch of the embedded sample images, print its shape, "
        "dtype and value range, and write a preview grid. Works on a fresh install.",
        example="confaug demo\nconfaug demo --config preset:aerial --size 256 -o aerial.png",
        run=run,
    )
    parser.add_argument(
        "--config",
        default="preset:keras_seed",
        metavar="FILE",
        help="config file, or preset:NAME (default preset:keras_seed)",
    )
    parser.add_argument("--batch", type=positive_int, default=4, help="batch size (default 4)")
    parser.add_argument(
        "--size",
        type=positive_int,
        default=400,
        help="image side in pixels (default 400, as the seed)",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=5,
        help="augmented versions per image in the grid (default 5)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help=f"preview PNG (default {DEFAULT_OUTPUT}); '' for none",
    )
    add_config_options(parser)
