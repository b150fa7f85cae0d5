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
    MAX_GRID_IMAGES,
    MAX_VERSIONS,
    UsageError,
    add_command,
    add_config_options,
    images_count,
    int_in,
    load_pipeline,
    non_negative_int,
    versions_count,
)
from confaug.cli.grid import Cell, check_grid, render_grid
from confaug.cli.preview import grid_format, write_grid

DEMO_SAMPLES = ("scene", "shapes", "checkerboard", "aerial")
DEFAULT_OUTPUT = "confaug-demo.png"
CELL = 160  # the grid's cell size
#: The largest --size: the samples are 256-320 px, so a larger side only upscales them, and
#: 2048 is twice the cost model's 1024 px reference image.
MAX_DEMO_SIZE = 2048
#: The most float32 values the demo holds (2 GiB): the batch and each augmented round of it,
#: all kept for the grid. The default (4 images of 400 px, 5 rounds) holds 11.5 million.
MAX_DEMO_VALUES = 2**29


def check_demo_size(args: argparse.Namespace) -> None:
    """A ``UsageError`` when the batches the demo holds, or its grid, would be too large:
    checked before anything is made, so a large product of options fails at once."""
    held = (args.rounds + 1) if args.output else 2  # the batch, and its augmented rounds
    values = args.batch * args.size * args.size * 3 * held
    if values > MAX_DEMO_VALUES:
        raise UsageError(
            f"--batch {args.batch} of {args.size}×{args.size} RGB images, {held} batches held "
            f"(the batch and {held - 1} augmented), is {values:,} float32 values "
            f"({values * 4 / 2**30:.1f} GiB), more than {MAX_DEMO_VALUES:,}; lower --batch, "
            "--size or --rounds"
        )
    if args.output:
        check_grid(
            [args.rounds + 1] * args.batch,
            cell_size=CELL,
            columns=None,
            title=True,
            lower="--batch or --rounds",
        )


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
    if args.output:
        grid_format(args.output)  # -o grid.gif: refused before anything is made
    check_demo_size(args)
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
        # In the format the suffix names, as preview and diff write theirs: PNG bytes
        # under a .jpg name are refused by upload forms and tools that trust the name.
        size = write_grid(args.output, render_grid(rows, cell_size=CELL, title=title))
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
    parser.add_argument(
        "--batch",
        type=images_count,
        default=4,
        help=f"batch size (default 4; at most {MAX_GRID_IMAGES})",
    )
    parser.add_argument(
        "--size",
        type=int_in(1, MAX_DEMO_SIZE),
        default=400,
        help=f"image side in pixels (default 400, as the seed; at most {MAX_DEMO_SIZE})",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--rounds",
        type=versions_count,
        default=5,
        help=f"augmented versions per image in the grid (default 5; at most {MAX_VERSIONS})",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help=f"preview grid (default {DEFAULT_OUTPUT}), in the format its suffix names "
        "(.png, .jpg, .webp, ...); '' for none",
    )
    add_config_options(parser)
