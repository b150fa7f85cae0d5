"""``confaug diff``: what a change to a config does — the resolved keys that differ and, with
``-o``, both configs' augmentations of the same images with the same seeds, side by side.

Both configs are resolved completely (``extends``, overrides, defaults), so a change made in a
parent file, or one that only restates a default, shows as what it is.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from confaug.cli.common import (
    MAX_CELL_SIZE,
    MAX_VERSIONS,
    UsageError,
    add_command,
    add_config_options,
    cell_size_px,
    load_checked,
    non_negative_int,
    refuse_output_over_inputs,
    versions_count,
)
from confaug.errors import ConfigError, one_line

if TYPE_CHECKING:
    from confaug.cli.preview import ImagePaths


class _Missing:
    """Stands for a key or list item that one side does not have."""

    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()
#: A key whose value differs: the dotted path and the two values (``MISSING`` where absent).
Change = tuple[str, Any, Any]


def changes(old: Any, new: Any, path: str = "") -> Iterator[Change]:
    """Every leaf that differs between two resolved specs, in document order.

    Mappings are compared key by key and lists item by item (``transforms.2`` is the third
    step), so editing one step's parameter names that parameter, not the whole list.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        if len(old) == len(new) == 1 and set(old) != set(new):  # a step replaced by another
            yield path, old, new
            return
        for key in [*old, *(k for k in new if k not in old)]:
            yield from changes(old.get(key, MISSING), new.get(key, MISSING), _join(path, key))
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            left = old[index] if index < len(old) else MISSING
            right = new[index] if index < len(new) else MISSING
            yield from changes(left, right, _join(path, index))
    elif old != new or type(old) is not type(new):
        yield path, old, new


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _text(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    return json.dumps(value, ensure_ascii=False)


def describe(found: list[Change], old_name: str, new_name: str) -> str:
    """The changes as lines ``key: old -> new``, or a line saying there are none."""
    if not found:
        return f"no difference: {old_name} and {new_name} resolve to the same spec\n"
    lines = [f"--- {old_name}", f"+++ {new_name}"]
    lines += [f"{key}: {_text(old)} -> {_text(new)}" for key, old, new in found]
    return "\n".join(lines) + "\n"


def _grid(args: argparse.Namespace, old: Any, new: Any, paths: ImagePaths | None) -> str:
    """Write the side-by-side grid of ``paths`` (:func:`_check_grid_options`'s; None for the
    embedded samples); return the line that says so."""
    from confaug.cli.grid import render_grid
    from confaug.cli.preview import (
        embedded_images,
        file_images,
        preview_rows,
        stretch_note,
        write_grid,
    )

    items = file_images(paths.files) if paths is not None else embedded_images(args.samples or None)
    rows = []
    for item in items:  # the same image and seeds in both rows, the second config below
        (first,) = preview_rows(old, [item], count=args.count, seed=args.seed, cell_size=args.size)
        (second,) = preview_rows(new, [item], count=args.count, seed=args.seed, cell_size=args.size)
        first[0].caption, second[0].caption = f"A: {item.name}", f"B: {item.name}"
        rows += [first, second]
    overrides = "".join(f" --set {item}" for item in args.overrides)
    title = f"A: {args.old} | B: {args.new}{overrides} | seed {args.seed}"
    note = stretch_note(rows, old, new)
    if note:
        title += " | cells stretched min..max"
    picture = render_grid(rows, cell_size=args.size, columns=args.count + 1, title=title)
    size = write_grid(args.output, picture)
    wrote = f"wrote {args.output} ({len(items)} image(s), A above B, {size / 1024:.0f} KB)\n"
    if paths is not None and paths.left_out:
        total = len(paths.files) + paths.left_out
        wrote += f"note: showing the first {len(items)} of {total} images (--max-images)\n"
    return wrote + (f"note: {note}\n" if note else "")


def _check_grid_options(args: argparse.Namespace) -> ImagePaths | None:
    """A ``UsageError`` when the grid of ``-o`` would be too large (``grid.check_grid``):
    before anything is loaded, printed or augmented. Returns the files of ``--image``
    (listed once, here), or None for the embedded samples."""
    from confaug import samples
    from confaug.cli.grid import check_grid
    from confaug.cli.preview import grid_format, image_paths

    grid_format(args.output)
    refuse_output_over_inputs(args.output, [("--image", path) for path in args.images])
    paths = image_paths(args.images, args.max_images) if args.images else None
    count = len(paths.files) if paths is not None else len(args.samples or samples.names())
    check_grid(  # a row by A above a row by B, for each image
        [args.count + 1] * (2 * count),
        cell_size=args.size,
        columns=args.count + 1,
        title=True,
        lower="-n, --size or the number of images",
    )
    return paths


def _load(config: str, args: argparse.Namespace, side: str) -> tuple[Any, Any, Any]:
    """``load_checked`` of one side; a ConfigError says first which side it is about: a
    problem of a ``--set`` override, or one of a preset, does not name the config."""
    try:
        return load_checked(config, args)
    except ConfigError:
        overrides = " with --set" if args.overrides else ""
        print(f"confaug diff: {side} ({one_line(config)}{overrides}) is invalid:", file=sys.stderr)
        raise


def run(args: argparse.Namespace) -> int:
    """Print the differing keys (text or JSON) and, with ``-o``, write the grid."""
    if args.images and args.samples:
        raise UsageError("use either --image or --sample, not both")
    paths = _check_grid_options(args) if args.output else None
    _, old_spec, old = _load(args.old, argparse.Namespace(**{**vars(args), "overrides": []}), "A")
    _, new_spec, new = _load(args.new, args, "B")  # --set: "what would this override do"
    found = list(changes(old_spec.to_data(full=True), new_spec.to_data(full=True)))
    if args.format == "json":
        rows = [
            {"key": key, "old": None if a is MISSING else a, "new": None if b is MISSING else b}
            for key, a, b in found
        ]
        print(json.dumps({"old": args.old, "new": args.new, "changes": rows}, indent=2))
    else:
        print(describe(found, args.old, args.new), end="")
    if args.output:
        message = _grid(args, old, new, paths)
        # JSON on stdout stays parseable; the note goes to stderr then.
        print(message, end="", file=sys.stdout if args.format == "text" else sys.stderr)
    return 1 if args.exit_code and found else 0


def register(subparsers: Any) -> None:
    """Add the ``diff`` command."""
    from confaug import samples
    from confaug.cli.preview import add_image_options

    parser = add_command(
        subparsers,
        "diff",
        help="show what a config change does: differing keys, and a side-by-side preview",
        description="Resolve two configs completely (extends, defaults; --set overrides apply "
        "to B only) and print each key whose value differs as 'key: old -> new'. With -o, also "
        "write a PNG "
        "grid: for each image, a row augmented by A above a row augmented by B, with the same "
        "seeds, so a reviewer sees the effect of the change, not only its text.",
        example="confaug diff main/aug.yaml aug.yaml\n"
        "confaug diff aug.yaml aug.yaml --set rotation_range=30 -o what-if.png\n"
        "confaug diff preset:classification_light preset:classification_heavy -o diff.png -n 6",
        run=run,
    )
    parser.add_argument("old", metavar="A", help="the config before (a file or preset:NAME)")
    parser.add_argument("new", metavar="B", help="the config after")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="print the differing keys as lines or as one JSON object (default text)",
    )
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 1 when the configs differ (as git diff)"
    )
    grid = parser.add_argument_group("side-by-side preview")
    grid.add_argument(
        "-o",
        "--output",
        metavar="PNG",
        help="write the preview grid to PNG (or the image format its suffix names)",
    )
    add_image_options(grid)
    grid.add_argument(
        "--sample",
        dest="samples",
        action="append",
        default=[],
        choices=samples.names(),
        metavar="NAME",
        help="embedded sample instead of all of them (repeatable)",
    )
    grid.add_argument(
        "-n",
        dest="count",
        type=versions_count,
        default=6,
        help=f"versions per row (default 6; at most {MAX_VERSIONS})",
    )
    grid.add_argument("--seed", type=non_negative_int, default=0, help="seed of the grid")
    grid.add_argument(
        "--size",
        type=cell_size_px,
        default=128,
        help=f"cell size in pixels (default 128; at most {MAX_CELL_SIZE})",
    )
    add_config_options(parser)
