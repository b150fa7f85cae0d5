"""``confaug preview``: a PNG grid of each image's original and augmented versions.

``--image`` takes files and folders (a folder gives its images, in listing order, up to
``--max-images`` in all), several after one flag; ``--mask`` gives their masks — one file
per image, or a folder where each image's mask is found by name (``--mask-pattern``, as
``flow_from_directory`` finds it) — and they are augmented and drawn with their images.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from confaug.cli.common import (
    MAX_CELL_SIZE,
    MAX_COLUMNS,
    MAX_GRID_IMAGES,
    MAX_VERSIONS,
    UsageError,
    add_command,
    add_config_options,
    cell_size_px,
    columns_count,
    images_count,
    load_pipeline,
    mask_usage_error,
    non_negative_int,
    refuse_dash,
    refuse_output_over_inputs,
    versions_count,
)
from confaug.cli.grid import Cell, as_tile, check_grid, render_grid, stretched, write_png
from confaug.cli.imageio import WRITABLE, encode_image, write_bytes_atomic
from confaug.errors import DataError
from confaug.sources.decode import decode_as_stored, decode_mask
from confaug.sources.directory import SAME_NAME, MaskNames
from confaug.sources.errors import shown
from confaug.sources.listing import list_images

if TYPE_CHECKING:
    from confaug.compiler.pipeline import Pipeline

DEFAULT_OUTPUT = "confaug-preview.png"
DEFAULT_MAX_IMAGES = 16


@dataclass
class PreviewImage:
    """An input of the preview: a named image, with a mask and Pascal VOC boxes when known."""

    name: str
    image: np.ndarray
    mask: np.ndarray | None = None
    boxes: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def embedded_images(names: Sequence[str] | None = None) -> list[PreviewImage]:
    """The shipped sample images (all, or those named), with their masks and boxes."""
    from confaug import samples

    found = []
    for name in names or samples.names():
        sample = samples.load_sample(name)
        boxes, labels = samples.boxes(sample.mask) if sample.mask is not None else ([], [])
        found.append(PreviewImage(name, sample.image, sample.mask, boxes, labels))
    return found


def file_images(
    paths: Sequence[str], masks: Sequence[str | None] | None = None
) -> list[PreviewImage]:
    """Images decoded from files at their own size and depth, with the decoder's pixel limit
    (``DataError`` for an unreadable or oversized one); ``masks[i]``, when given, is the
    mask file of image ``i`` and must have its height and width."""
    items = []
    for index, path in enumerate(paths):
        item = PreviewImage(Path(path).name, decode_as_stored(path))
        mask_path = None if masks is None else masks[index]
        if mask_path is not None:
            item.mask = decode_mask(mask_path)  # raw values: palette indices stay indices
            if item.mask.shape[:2] != item.image.shape[:2]:
                raise DataError(
                    f"{shown(mask_path)}: the mask is {item.mask.shape[0]}x"
                    f"{item.mask.shape[1]}, its image {shown(path)} "
                    f"{item.image.shape[0]}x{item.image.shape[1]} (height x width)"
                )
        items.append(item)
    return items


@dataclass
class ImagePaths:
    """The image files an ``--image`` list names, with the folder each came from."""

    files: list[str] = field(default_factory=list)
    folders: list[str | None] = field(default_factory=list)  # None: given as a file
    left_out: int = 0


def image_paths(given: Sequence[str], limit: int) -> ImagePaths:
    """The files of ``given`` (files, and folders for the images below them, as the
    generators list them), at most ``limit`` in all (the count left out is kept)."""
    found = ImagePaths()
    for path in given:
        folder = path if Path(path).is_dir() else None
        listed = [path] if folder is None else list_images(folder)
        if not listed:
            raise DataError(f"{shown(path)}: no images in this folder")
        taken = listed[: max(limit - len(found.files), 0)]
        found.files += taken
        found.folders += [folder] * len(taken)
        found.left_out += len(listed) - len(taken)
    return found


def mask_paths(images: ImagePaths, masks: Sequence[str], pattern: str) -> list[str | None]:
    """The mask file of each image: ``masks`` one file per image, or one folder where an
    image's mask is found by ``pattern`` (relative to the folder the image was listed in,
    else by its file name); a ``UsageError`` when they do not match up."""
    if len(masks) == 1 and Path(masks[0]).is_dir():
        try:
            names = MaskNames(masks[0], pattern)
        except ValueError as err:
            raise mask_usage_error(err, "--mask") from None
        relative = [
            os.path.relpath(file, folder) if folder else os.path.basename(file)
            for file, folder in zip(images.files, images.folders, strict=True)
        ]
        found = [names.find(name) for name in relative]
        missing = [name for name, mask in zip(relative, found, strict=True) if mask is None]
        if missing:
            raise DataError(names.missing_message(missing, os.curdir, "--mask-pattern "))
        return found
    if pattern != SAME_NAME:
        raise UsageError("--mask-pattern needs --mask DIR (a folder of masks)")
    if images.left_out or len(masks) != len(images.files):
        raise UsageError(
            f"--mask: {len(masks)} file(s) for {len(images.files) + images.left_out} "
            "image(s); give one mask file per image, in order, or one folder of masks"
        )
    return list(masks)


def _voc_to(boxes: list[list[float]], fmt: str, height: int, width: int) -> list[list[float]]:
    out = []
    for x0, y0, x1, y1 in boxes:
        if fmt == "coco":
            out.append([x0, y0, x1 - x0, y1 - y0])
        elif fmt == "albumentations":
            out.append([x0 / width, y0 / height, x1 / width, y1 / height])
        elif fmt == "yolo":
            out.append(
                [
                    (x0 + x1) / 2 / width,
                    (y0 + y1) / 2 / height,
                    (x1 - x0) / width,
                    (y1 - y0) / height,
                ]
            )
        else:
            out.append([x0, y0, x1, y1])
    return out


def _to_voc(boxes: Any, fmt: str, height: int, width: int) -> list[list[float]]:
    out = []
    for box in np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if len(boxes) else []:
        a, b, c, d = (float(v) for v in box[:4])
        if fmt == "coco":
            out.append([a, b, a + c, b + d])
        elif fmt == "albumentations":
            out.append([a * width, b * height, c * width, d * height])
        elif fmt == "yolo":
            out.append(
                [
                    (a - c / 2) * width,
                    (b - d / 2) * height,
                    (a + c / 2) * width,
                    (b + d / 2) * height,
                ]
            )
        else:
            out.append([a, b, c, d])
    return out


def augment_cell(
    pipe: Pipeline, item: PreviewImage, seed: int, caption: str, *, show_masks: bool
) -> Cell:
    """One augmented version of ``item`` as a grid cell (masks and boxes moved along)."""
    spec = pipe.spec
    channels_first = spec.data_format == "channels_first"
    image = item.image
    if channels_first and image.ndim == 3:
        image = np.moveaxis(image, -1, 0)
    data: dict[str, Any] = {"image": image}
    if show_masks and item.mask is not None:
        mask = item.mask
        data["mask"] = np.moveaxis(mask, -1, 0) if channels_first and mask.ndim == 3 else mask
    bbox = spec.bbox_params
    height, width = item.image.shape[:2]
    fmt = str(bbox.get("format", "pascal_voc")) if bbox else ""
    fields = list((bbox or {}).get("label_fields") or ())
    if bbox is not None:
        boxes = _voc_to(item.boxes, fmt, height, width)
        if fields:
            for name in fields:
                data[name] = list(item.labels)
        else:  # the class id travels as a fifth value of each box
            boxes = [[*box, label] for box, label in zip(boxes, item.labels, strict=True)]
        data["bboxes"] = boxes
    out = pipe(seed=seed, **data)
    result = out["image"]
    if channels_first and result.ndim == 3:
        result = np.moveaxis(result, 0, -1)
    # A step that sets the output's range (Normalize) gives values no picture holds: each
    # cell shows its own min..max, and says which.
    display = stretched(result) if pipe.output_set_by is not None else None
    if display is not None:
        result, (low, high) = display
        caption = f"{caption} {low:.1f}..{high:.1f}"
    moved_mask = out.get("mask") if show_masks else None
    if channels_first and moved_mask is not None and moved_mask.ndim == 3:
        moved_mask = np.moveaxis(moved_mask, 0, -1)
    cell = Cell(result, caption, moved_mask, stretched=None if display is None else display[1])
    if bbox is not None:
        h, w = result.shape[:2]
        moved = [list(box) for box in out.get("bboxes", [])]
        cell.boxes = _to_voc([box[:4] for box in moved], fmt, h, w)
        if fields:
            cell.labels = list(out[fields[0]])
        else:
            cell.labels = [int(box[4]) if len(box) > 4 else 1 for box in moved]
    return cell


def preview_rows(
    pipe: Pipeline,
    items: Sequence[PreviewImage],
    *,
    count: int,
    seed: int,
    show_masks: bool = False,
    cell_size: int | None = None,
) -> list[list[Cell]]:
    """Per item: the original, then ``count`` augmented versions (seeded by item and number).
    With ``cell_size`` each cell is kept as its ``cell_size`` tile (:func:`grid.as_tile`)."""
    from confaug.seeding import sample_seed

    def kept(cell: Cell) -> Cell:
        return cell if cell_size is None else as_tile(cell, cell_size)

    rows = []
    for index, item in enumerate(items):
        original = Cell(item.image, f"original: {item.name}", item.mask if show_masks else None)
        if pipe.spec.bbox_params is not None:
            original.boxes, original.labels = item.boxes, item.labels
        row = [kept(original)]
        row.extend(
            kept(
                augment_cell(
                    pipe, item, sample_seed(seed, index, k), f"#{k + 1}", show_masks=show_masks
                )
            )
            for k in range(count)
        )
        rows.append(row)
    return rows


def stretch_note(rows: Sequence[Sequence[Cell]], *pipes: Pipeline) -> str:
    """A line saying that cells were stretched for display, and by which step's values
    (empty when none was)."""
    if not any(cell.stretched is not None for row in rows for cell in row):
        return ""
    steps = ", ".join(dict.fromkeys(p.output_set_by for p in pipes if p.output_set_by))
    return (
        f"{steps} gives values outside 0..1: each augmented cell is stretched from its "
        "min to its max (under it)"
    )


def _items(args: argparse.Namespace) -> list[PreviewImage]:
    """The images of the grid (and their masks), with a note when a folder gave more than
    ``--max-images``; a ``UsageError`` for masks that cannot be drawn."""
    if args.mask_pattern != SAME_NAME and not args.masks:
        raise UsageError("--mask-pattern needs --mask DIR (a folder of masks)")
    if not args.images:
        if args.masks:
            raise UsageError("--mask needs --image (the embedded samples have their own masks)")
        return embedded_images(args.samples or None)
    paths = image_paths(args.images, args.max_images)
    if paths.left_out:
        print(
            f"note: showing the first {len(paths.files)} of "
            f"{len(paths.files) + paths.left_out} images (--max-images {args.max_images})"
        )
    if args.masks:
        return file_images(paths.files, mask_paths(paths, args.masks, args.mask_pattern))
    if args.show_masks:
        raise UsageError(
            "--show-masks: images given with --image have no masks; pass them with "
            "--mask FILE... (one per image) or --mask DIR"
        )
    return file_images(paths.files)


def grid_format(output: str) -> str:
    """The image format ``output``'s suffix names (``.png`` without one); a ``UsageError``
    for a suffix no image is written as. ``grid.jpg`` holds a JPEG, not PNG bytes under a
    name every viewer and upload form reads as JPEG."""
    # An image on a terminal or in a pipe is no use to anyone: "-o -" is refused, not a
    # file named "-" (a text command's "-o -" prints instead).
    refuse_dash(
        output,
        "-o",
        instead="the grid is an image, not printed to stdout; name a file, e.g. grid.png",
    )
    suffix = Path(output).suffix.lower() or ".png"
    if suffix not in WRITABLE:
        others = ", ".join(sorted(WRITABLE - {".png"}))
        raise UsageError(f"-o {output}: the grid is an image; name it .png (or {others})")
    return suffix


def write_grid(output: str, picture: np.ndarray) -> int:
    """Write the grid in the format of ``output``'s suffix (:func:`grid_format`); its size."""
    suffix = grid_format(output)
    if suffix == ".png":
        return write_png(output, picture)
    data = encode_image(picture, suffix)
    write_bytes_atomic(Path(output), data)
    return len(data)


def run(args: argparse.Namespace) -> int:
    """Render and write the grid."""
    if args.images and args.samples:
        raise UsageError("use either --image or --sample, not both")
    grid_format(args.output)  # before anything is loaded or augmented
    refuse_output_over_inputs(
        args.output,
        [("--image", path) for path in args.images] + [("--mask", path) for path in args.masks],
    )
    pipe = load_pipeline(args.config, args)
    items = _items(args)
    columns = args.columns or min(args.count + 1, 9)
    check_grid(  # before augmenting: each option is bounded, and so is their product
        [args.count + 1] * len(items),
        cell_size=args.size,
        columns=columns,
        title=True,
        lower="-n, --size, --columns or the number of images",
    )
    show_masks = args.show_masks or bool(args.masks)
    rows = preview_rows(
        pipe, items, count=args.count, seed=args.seed, show_masks=show_masks, cell_size=args.size
    )
    title = f"{args.config} | seed {args.seed}" + (
        f" | {' '.join(args.overrides)}" if args.overrides else ""
    )
    note = stretch_note(rows, pipe)
    if note:
        title += " | cells stretched min..max"
        print(f"note: {note}")
    picture = render_grid(rows, cell_size=args.size, columns=columns, title=title)
    size = write_grid(args.output, picture)
    height, width = picture.shape[:2]
    print(
        f"wrote {args.output} ({len(items)} image(s) × {args.count} augmented, "
        f"{height}×{width} px (height×width), {size / 1024:.0f} KB)"
    )
    return 0


def add_image_options(parser: Any) -> None:
    """``--image`` and ``--max-images``, as ``preview`` and ``diff`` take them (read with
    :func:`image_paths`)."""
    parser.add_argument(
        "--image",
        dest="images",
        action="extend",
        nargs="+",
        default=[],
        metavar="PATH",
        help="image files or folders to augment (several after one flag, repeatable; a "
        "folder gives the images below it)",
    )
    parser.add_argument(
        "--max-images",
        type=images_count,
        default=DEFAULT_MAX_IMAGES,
        metavar="N",
        help=f"at most N images from --image in all (default {DEFAULT_MAX_IMAGES}; at most "
        f"{MAX_GRID_IMAGES})",
    )


def register(subparsers: Any) -> None:
    """Add the ``preview`` command."""
    from confaug import samples

    parser = add_command(
        subparsers,
        "preview",
        help="write a PNG grid of original and augmented images",
        description="Augment images with a config and write a labelled PNG grid: per image, the "
        "original first, then N augmented versions. Without --image the embedded sample images "
        "are used (see --sample).",
        example="confaug preview aug.yaml --image cat.jpg dog.jpg -n 8 -o grid.png\n"
        "confaug preview aug.yaml --image data/train/cats --max-images 8\n"
        "confaug preview seg.yaml --image img/ --mask masks/ --mask-pattern '{stem}_mask'\n"
        "confaug preview preset:segmentation --sample aerial --show-masks",
        run=run,
    )
    parser.add_argument("config", metavar="FILE", help="config file, or preset:NAME")
    add_image_options(parser)
    parser.add_argument(
        "--mask",
        dest="masks",
        action="extend",
        nargs="+",
        default=[],
        metavar="PATH",
        help="the images' masks, augmented and drawn with them: one file per --image file, "
        "in order, or one folder where each image's mask is found by name",
    )
    parser.add_argument(
        "--mask-pattern",
        metavar="PATTERN",
        default=SAME_NAME,
        help="with --mask DIR: a mask's file name from its image's stem, e.g. "
        "'{stem}_mask' (default '{stem}': the same name, any suffix)",
    )
    parser.add_argument(
        "--sample",
        dest="samples",
        action="append",
        default=[],
        choices=samples.names(),
        metavar="NAME",
        help="an embedded sample to use instead of all of them (repeatable): "
        + ", ".join(samples.names()),
    )
    parser.add_argument(
        "-n",
        dest="count",
        type=versions_count,
        default=16,
        help=f"augmented versions per image (default 16; at most {MAX_VERSIONS})",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of the grid (default 0); same seed, same grid",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help=f"image to write, PNG or the format its suffix names (default {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--size",
        type=cell_size_px,
        default=128,
        help=f"cell size in pixels (default 128; at most {MAX_CELL_SIZE})",
    )
    parser.add_argument(
        "--columns",
        type=columns_count,
        default=None,
        help=f"cells per line before wrapping (default: min(N + 1, 9); at most {MAX_COLUMNS})",
    )
    parser.add_argument(
        "--show-masks",
        action="store_true",
        help="augment and draw the samples' masks too (for segmentation configs); "
        "with --image, give the masks with --mask",
    )
    add_config_options(parser)
