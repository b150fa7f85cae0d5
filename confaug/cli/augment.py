"""``confaug augment``: offline expansion of a folder of images into N augmented copies each.

Output ``DST/<same subfolders>/<stem>_aug<k><suffix>``; copy ``k`` of an image is seeded by
(seed, the image's relative path, k), so reruns, resumed runs and any number of workers
write the same pixels. Existing outputs are skipped; files are written atomically.
"""

from __future__ import annotations

import argparse
import os
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confaug.cli.common import (
    UsageError,
    add_command,
    add_config_options,
    load_pipeline,
    non_negative_int,
    positive_int,
)
from confaug.cli.imageio import (
    WRITABLE,
    encode_image,
    is_image_file,
    read_image,
    write_bytes_atomic,
)
from confaug.cli.progress import Progress
from confaug.errors import DataError

if TYPE_CHECKING:
    from confaug.compiler.pipeline import Pipeline


@dataclass
class Tally:
    """What a run did."""

    written: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    ignored: int = 0


@dataclass(frozen=True)
class Job:
    """One source image and where its copies go."""

    source: Path
    relative: Path
    outputs: tuple[Path, ...]


def find_images(src: Path) -> tuple[list[Path], int]:
    """Image files under ``src`` (hidden files and folders left out), sorted; and the count of others."""
    images: list[Path] = []
    others = 0
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            if is_image_file(path):
                images.append(path)
            else:
                others += 1
    return images, others


def output_suffix(source: Path, fmt: str) -> str:
    """The output suffix: the source's own when writable (``fmt`` 'same'), else ``fmt``."""
    if fmt != "same":
        return f".{fmt}"
    suffix = source.suffix.lower()
    return suffix if suffix in WRITABLE else ".png"


def plan(src: Path, dst: Path, images: list[Path], copies: int, fmt: str) -> list[Job]:
    """A job per image: its relative path and the paths of its copies."""
    jobs = []
    for image in images:
        relative = image.relative_to(src)
        suffix = output_suffix(image, fmt)
        folder = dst / relative.parent
        outputs = tuple(folder / f"{image.stem}_aug{k}{suffix}" for k in range(copies))
        jobs.append(Job(image, relative, outputs))
    return jobs


def image_key(relative: Path) -> int:
    """A stable integer for a relative path (its CRC-32), part of each copy's seed."""
    return zlib.crc32(relative.as_posix().encode("utf-8"))


def process(pipe: Pipeline, job: Job, seed: int, quality: int) -> tuple[int, int, str | None]:
    """Write the missing copies of one image: (written, skipped, error message or None)."""
    from confaug.seeding import sample_seed

    todo = [
        (k, out)
        for k, out in enumerate(job.outputs)
        if not (out.is_file() and out.stat().st_size > 0)
    ]
    skipped = len(job.outputs) - len(todo)
    if not todo:
        return 0, skipped, None
    written = 0
    try:
        image = read_image(job.source)
        channels_first = pipe.spec.data_format == "channels_first" and image.ndim == 3
        key = image_key(job.relative)
        for k, out in todo:
            data = image.transpose(2, 0, 1) if channels_first else image
            result = pipe(image=data, seed=sample_seed(seed, key, k))["image"]
            if channels_first:
                result = result.transpose(1, 2, 0)
            write_bytes_atomic(out, encode_image(result, out.suffix, jpeg_quality=quality))
            written += 1
    except DataError as err:
        message = str(err)
        return (
            written,
            skipped,
            message if message.startswith(str(job.source)) else f"{job.source}: {message}",
        )
    except OSError as err:
        return written, skipped, f"{job.source}: {err}"
    except Exception as err:  # a transform rejecting this image: report it, go on with the rest
        return written, skipped, f"{job.source}: {type(err).__name__}: {err}"
    return written, skipped, None


def _run_jobs(
    pipe: Pipeline, jobs: list[Job], args: argparse.Namespace, seed: int
) -> Iterator[tuple[Job, tuple[int, int, str | None]]]:
    if args.workers <= 1:
        for job in jobs:
            yield job, process(pipe, job, seed, args.quality)
        return
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # parallel across images, not inside each warp
    try:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = pool.map(lambda job: process(pipe, job, seed, args.quality), jobs)
            yield from zip(jobs, results, strict=True)
    finally:
        cv2.setNumThreads(threads)


def check_paths(src: Path, dst: Path) -> None:
    """``UsageError`` unless SRC is a folder and DST lies outside it."""
    if not src.is_dir():
        raise UsageError(f"SRC {src} is not a folder")
    source, target = src.resolve(), dst.resolve()
    if target == source or target.is_relative_to(source):
        raise UsageError(f"DST {dst} is inside SRC {src}; choose a folder outside it")
    if target.exists() and not target.is_dir():
        raise UsageError(f"DST {dst} exists and is not a folder")


def run(args: argparse.Namespace) -> int:
    """Augment every image under SRC into DST; exit 1 when any image failed."""
    src, dst = Path(args.src), Path(args.dst)
    check_paths(src, dst)
    pipe = load_pipeline(args.config, args)
    seed = args.seed if args.seed is not None else (pipe.spec.seed or 0)
    images, others = find_images(src)
    if not images:
        raise DataError(f"no image files under {src}")
    jobs = plan(src, dst, images, args.copies, args.format)
    tally = Tally(ignored=others)
    start = time.perf_counter()
    total = len(jobs) * args.copies
    with Progress(total, label="augment", unit="files", enabled=not args.quiet) as bar:
        for job, (written, skipped, error) in _run_jobs(pipe, jobs, args, seed):
            tally.written += written
            tally.skipped += skipped
            if error is not None:
                tally.failed.append(error)
                bar.write(f"error: {error} (skipped)")
            bar.advance(len(job.outputs))
    elapsed = time.perf_counter() - start
    summary = (
        f"{tally.written} written, {tally.skipped} skipped (already there), "
        f"{len(tally.failed)} image(s) failed — {len(jobs)} images × {args.copies} copies "
        f"in {dst} (seed {seed}, {elapsed:.1f} s)"
    )
    if tally.ignored:
        summary += f"; {tally.ignored} non-image file(s) ignored"
    print(summary)
    return 1 if tally.failed else 0


def register(subparsers: Any) -> None:
    """Add the ``augment`` command."""
    parser = add_command(
        subparsers,
        "augment",
        help="write N augmented copies of every image in a folder",
        description="Offline expansion: every image under SRC (class subfolders kept) is "
        "augmented COPIES times into DST as NAME_aug0.jpg, NAME_aug1.jpg, ... Existing "
        "outputs are skipped, so an interrupted run resumes where it stopped; each copy is "
        "seeded by --seed, its path and its number, so reruns give the same files. Only "
        "the augmentation runs (no rescale or standardization). Unreadable images are "
        "reported and skipped; the exit code is then 1. DST may not lie inside SRC.",
        example="confaug augment data/train data/train_aug --config aug.yaml --copies 5 --workers 2",
        run=run,
    )
    parser.add_argument("src", metavar="SRC", help="folder of images (subfolders kept)")
    parser.add_argument("dst", metavar="DST", help="output folder, outside SRC")
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="config file, or preset:NAME"
    )
    parser.add_argument(
        "--copies", required=True, type=positive_int, metavar="N", help="augmented copies per image"
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=min(os.cpu_count() or 1, 8),
        metavar="W",
        help="worker threads (default: the number of CPUs, at most 8)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=None,
        help="base seed (default: the config's seed, else 0)",
    )
    parser.add_argument(
        "--format",
        choices=("same", "png", "jpg", "webp"),
        default="same",
        help="output format (default: the source's own)",
    )
    parser.add_argument(
        "--quality", type=positive_int, default=95, help="JPEG quality (default 95)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_config_options(parser)
