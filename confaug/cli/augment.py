"""``confaug augment``: offline expansion of a folder of images into N augmented copies each.

Output ``DST/<same subfolders>/<stem>_aug<k><suffix>``. Each image is a one-sample source for
the batching layer's loader: decoded by ``confaug.sources.decode`` (pixel limit first; its own
size, gray stays gray, 16-bit grayscale stays 16-bit, alpha dropped), keyed by its relative
path, and copy ``k`` is its augmentation in epoch ``k`` (the seed a Ray row keyed by that
path gets in epoch ``k``). So reruns, resumed runs and any number of workers write the same
pixels. Existing outputs are skipped; files are written atomically. Two sources that would
write one name (``a.png`` and ``a.jpg`` under ``--format png``) are refused before anything
is written; an image whose copies' names would be too long for a file is reported and
skipped; files a linked folder in SRC leads to inside DST (last run's copies) are left out.
What of a source the copies do not keep (an alpha channel, 16-bit colour, all frames but
the first, float pixels) is said in one note a run each (``TRAITS``). Masks are written
with their raw values (uint8, or uint16 PNG), never scaled.

DST keeps what made it in ``.confaug.json`` (the resolved config's fingerprint, as
``confaug resolve --fingerprint`` prints it, the seed, the masks' folder, ``--format``,
``--quality`` when a copy is a JPEG, the config named): a run into a DST made with another
of these is refused unless ``--overwrite``, which writes every copy again, so resuming never
mixes two datasets. Other library versions (albumentations, OpenCV, confaug) than the
stamp's are a warning, repeated by every later resume, not a refusal. The stamp also lists
the copies confaug planned there (``written``, kept across resumed runs): ``--overwrite``
first removes those, and only those, so DST holds exactly what a fresh run writes (no stale
``_aug7`` from an earlier ``--copies 8``), never a file confaug did not write. With
``--mask-dir``, each image's mask (found as ``flow_from_directory`` finds it,
``--mask-pattern`` included) gets the image's transform and is written as PNG under
``--mask-dst`` with the copy's name.

A config whose output a step sets: after ``FromFloat`` the copies are its integers, after
``ToFloat`` its 0..1 values as pixels of the source's depth; ``Normalize``'s values are no
pixels, so such a config is refused at the step's line, before anything is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from confaug.batching.loader import SampleError, StopCheck, augment_samples
from confaug.batching.workers import ordered_map
from confaug.cli.common import (
    UsageError,
    add_command,
    add_config_options,
    int_in,
    is_inside,
    load_checked,
    mask_usage_error,
    non_negative_int,
    positive_int,
    refuse_dash,
)
from confaug.cli.imageio import WRITABLE, encode_image, write_bytes_atomic
from confaug.cli.progress import Progress
from confaug.cli.resolve import fingerprint, versions
from confaug.errors import ConfigError, DataError
from confaug.seeding import SAMPLE_STREAM, row_key
from confaug.sources.base import Source, YMode, to_layout
from confaug.sources.decode import (
    OpenedImage,
    decode_as_stored,
    decode_mask,
    open_image,
    stored_bits,
)
from confaug.sources.directory import SAME_NAME, MaskNames
from confaug.sources.errors import one_line, shown
from confaug.sources.listing import walk_images

if TYPE_CHECKING:
    from confaug.compiler.pipeline import Pipeline
    from confaug.reading.document import Document

_ONLY_SAMPLE = (0,)
STAMP = ".confaug.json"
"""The file in DST that records the config, seed and masks its copies were made with."""
#: The most copies of one image. Offline expansion writes a few to a few hundred; this
#: bound is far above that and stops a typo (20000000 for 20) at once. A stamp's record
#: takes counts up to ``_MAX_RECORDED_COPIES``, which must stay at least this.
MAX_COPIES = 100_000
#: JPEG quality: OpenCV's encoder takes 0..100 (and clamps anything above to 100); 0 is
#: refused as no real choice.
MAX_QUALITY = 100
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


#: What of a source its copies do not keep, told once a run in a note (as the alpha channel
#: always was): a trait, what the images are, and what their copies are.
TRAITS = {
    "alpha": (
        "have an alpha channel (transparency)",
        "their copies are RGB or gray without it, so the pixels under transparent areas show",
    ),
    "deep colour": (
        "are 16-bit colour",
        "their copies are 8-bit colour (16-bit grayscale stays 16-bit)",
    ),
    "frames": (
        "hold several frames (pages or an animation)",
        "their copies hold the first frame only",
    ),
    "float": (
        "have float pixels",
        "their copies hold integers: [0, 1] (or the range a TIFF declares) as 0..65535, or "
        "0..255 in an 8-bit format",
    ),
}
#: Formats whose files may hold several frames (PIL's n_frames). A JPEG is left out: a
#: camera's MPO holds a preview as its second frame, and its header is read without PIL.
_MULTI_FRAME_FORMATS = frozenset({"GIF", "PNG", "TIFF", "WEBP"})


def has_alpha(opened: OpenedImage) -> bool:
    """Whether the file has an alpha channel or a transparent colour, which the decoder
    (``decode_as_stored``) drops: its copies are RGB or gray."""
    if opened.mode in _ALPHA_MODES:
        return True
    if opened.format == "JPEG":  # no alpha, and its header is read without PIL
        return False
    return "transparency" in opened.header.info


def traits(opened: OpenedImage, decoded: np.ndarray) -> frozenset[str]:
    """What of the file ``opened`` its copies (its pixels ``decoded``) do not keep (``TRAITS``)."""
    found = set()
    if has_alpha(opened):
        found.add("alpha")
    if opened.mode == "F":  # PIL's mode of float TIFFs
        found.add("float")
    elif decoded.dtype == np.uint8 and decoded.shape[-1] == 3 and stored_bits(opened) > 8:
        found.add("deep colour")  # an 8-bit result: the decoder gave the colour 8 bits
    if opened.format in _MULTI_FRAME_FORMATS and getattr(opened.header, "n_frames", 1) > 1:
        found.add("frames")
    return frozenset(found)


@dataclass
class Tally:
    """What a run did."""

    written: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    ignored: int = 0
    removed: int = 0  # copies of an earlier run that --overwrite removed


@dataclass(frozen=True)
class Job:
    """One source image and where its ``copies`` go: copy ``k`` is ``output(k)`` (its mask's
    ``mask_output(k)``). The paths are made one at a time as copies are written, never held
    all at once: a run's plan is a few objects per image, whatever ``--copies`` is."""

    source: Path
    relative: Path
    folder: Path  # where the copies go: DST / the image's subfolder
    suffix: str
    copies: int
    mask: Path | None = None
    mask_folder: Path | None = None  # where the mask's copies go, when it has a mask
    problem: str | None = None  # why none of its copies can be written (found when planning)

    def output(self, k: int) -> Path:
        """Where copy ``k`` goes: ``<stem>_aug<k><suffix>``."""
        return self.folder / f"{self.source.stem}_aug{k}{self.suffix}"

    def mask_output(self, k: int) -> Path | None:
        """Where copy ``k``'s mask goes (PNG), or None for an image without a mask."""
        if self.mask_folder is None:
            return None
        return self.mask_folder / f"{self.source.stem}_aug{k}.png"


@dataclass
class Outcome:
    """What became of one job: copies written, copies already there, the error if any."""

    written: int = 0
    skipped: int = 0
    error: str | None = None
    traits: frozenset[str] = frozenset()  # what of the source its copies do not keep: TRAITS


def find_images(src: Path) -> tuple[list[Path], int]:
    """Image files under ``src`` (suffixes as the generators list them; hidden files and
    folders left out; linked folders followed, each folder once), sorted; and the count of
    other files. A folder that cannot be listed is a ``DataError`` naming it: its images
    are not left out without a word."""
    images, others = walk_images(str(src), follow_links=True, hidden=False)
    return [Path(path) for path in images], others


def leaving_out_outputs(
    src: Path, images: list[Path], outputs: list[tuple[str, Path]]
) -> tuple[list[Path], str | None]:
    """``images`` without those that are this command's own outputs (``outputs``: DST and
    ``--mask-dst``, each with its option's name): files a linked folder in SRC leads to
    inside one of them, the paths compared resolved. Each rerun would augment the last
    run's copies again (``x_aug0_aug0.png``), so a resume would never be done. Also a note
    naming the link, when any were left out."""
    roots = [(label, folder, folder.resolve()) for label, folder in outputs]
    folders: dict[Path, Path] = {}  # each folder resolved once, not each image's path

    def inside(path: Path) -> tuple[str, Path, Path] | None:
        if path.is_symlink():  # a linked file (or folder): where it leads
            real = Path(os.path.realpath(path))
        else:
            if path.parent not in folders:
                folders[path.parent] = Path(os.path.realpath(path.parent))
            real = folders[path.parent] / path.name
        return next((root for root in roots if real.is_relative_to(root[2])), None)

    found = [(image, inside(image)) for image in images]
    kept = [image for image, root in found if root is None]
    if len(kept) == len(images):
        return images, None
    first, (label, folder, _) = next((image, root) for image, root in found if root)
    link = src
    for part in first.relative_to(src).parts:  # the first folder on its path that leads there
        link = link / part
        if inside(link) is not None:
            break
    return kept, (
        f"note: {shown(link)} in SRC leads into {label} {shown(folder)}: its "
        f"{len(images) - len(kept)} image(s) are copies this command writes, so they are "
        "not augmented"
    )


def output_suffix(source: Path, fmt: str) -> str:
    """The output suffix: the source's own when writable (``fmt`` 'same'), else ``fmt``."""
    if fmt != "same":
        return f".{fmt}"
    suffix = source.suffix.lower()
    return suffix if suffix in WRITABLE else ".png"


@dataclass(frozen=True)
class Masks:
    """Where the masks are (``names``) and where their copies go (``dst``)."""

    names: MaskNames
    dst: Path


def plan(
    src: Path, dst: Path, images: list[Path], copies: int, fmt: str, masks: Masks | None = None
) -> list[Job]:
    """A job per image: its relative path and where its copies (and its mask's) go; a
    ``DataError`` naming the images that have no mask."""
    jobs = []
    missing = []
    for image in images:
        relative = image.relative_to(src)
        job = Job(image, relative, dst / relative.parent, output_suffix(image, fmt), copies)
        if masks is None:
            jobs.append(job)
            continue
        mask = masks.names.find(str(relative))
        if mask is None:
            missing.append(str(image))
            continue
        jobs.append(replace(job, mask=Path(mask), mask_folder=masks.dst / relative.parent))
    if masks is not None and missing:
        raise DataError(masks.names.missing_message(missing, str(src), "--mask-pattern "))
    check_collisions(jobs)
    return [_with_long_names(job) for job in jobs]


#: The longest file name, in bytes of the file-system encoding (NAME_MAX of Linux, macOS
#: and Windows' file systems alike).
NAME_MAX = 255


def _name_bytes(name: str) -> int:
    return len(os.fsencode(name))


def _with_long_names(job: Job) -> Job:
    """``job``, with its ``problem`` when its copies' names are longer than a file name may
    be: ``_aug<k>`` makes a valid 251-byte source name too long, and the run then reports
    that image and goes on, as for an image it cannot read."""
    last = job.copies - 1  # the longest name: the most digits
    names = [job.output(last).name]
    mask = job.mask_output(last)
    if mask is not None:
        names.append(mask.name)
    longest = max(names, key=_name_bytes)
    if _name_bytes(longest) <= NAME_MAX:
        return job
    problem = (
        f"{shown(job.source)}: the name of its copies ({shown(longest[:40])}...) is "
        f"{_name_bytes(longest)} bytes long, more than the {NAME_MAX} a file name may have; "
        "shorten the file's name"
    )
    return replace(job, problem=problem)


def check_collisions(jobs: list[Job]) -> None:
    """A ``DataError`` when two sources would write one file, before anything is written:
    copies are named ``<stem>_aug<k>`` and a suffix, so ``a.png`` and ``a.jpg`` collide
    under ``--format png`` (and their masks, always PNG, under any ``--format``). One
    image's copies would count as "already there" and be lost, or a copy would be paired
    with another copy's mask. Refused rather than renamed: a name that depended on which
    other files SRC holds would change on a resume after a file is added, and DST would
    then hold an image twice."""
    seen: dict[tuple[Path, str, str], Job] = {}
    clashes: list[str] = []
    for job in jobs:
        keys = [(job.folder, job.source.stem, job.suffix, "")]
        if job.mask_folder is not None:
            keys.append((job.mask_folder, job.source.stem, ".png", "the mask copy "))
        for folder, stem, suffix, what in keys:
            first = seen.setdefault((folder, stem, suffix), job)
            if first is not job:
                clashes.append(
                    f"{shown(first.source)} and {shown(job.source)} would both write "
                    f"{what}{shown(folder / f'{stem}_aug0{suffix}')}"
                )
                break
    if clashes:
        more = f" (and {len(clashes) - 1} more pair(s))" if len(clashes) > 1 else ""
        raise DataError(
            f"{clashes[0]}{more}: copies are named <stem>_aug<k> and a suffix (masks' "
            "always .png), so sources that differ only in their extension collide; rename "
            "one of each pair"
        )


class OriginalImage(Source):
    """One image file as a source of one sample, decoded once, keyed by its relative path."""

    y_mode: YMode = "none"
    target_keys: tuple[str, ...] = ()

    def __init__(self, job: Job, data_format: str) -> None:
        self.path = job.source
        self.mask_path = job.mask
        self.key = row_key(job.relative.as_posix())
        self.data_format = data_format
        self.traits: frozenset[str] = frozenset()  # known once loaded: what copies do not keep
        self._sample: dict[str, Any] | None = None

    def __len__(self) -> int:
        return 1

    def describe(self, index: int) -> str:
        """The file's path."""
        return str(self.path)

    def sample_key(self, index: int) -> int:
        """:func:`~confaug.seeding.row_key` of the path relative to SRC (``/``-separated)."""
        return self.key

    def load(self, index: int) -> dict[str, Any]:
        """The decoded image, in the pipeline's layout, and its mask with its raw values
        (palette indices stay indices, as ``flow_from_directory`` reads it; decoded on the
        first call only)."""
        if self._sample is None:
            opened = open_image(self.path)
            image = decode_as_stored(opened)
            self.traits = traits(opened, image)
            self._sample = {"image": to_layout(image, self.data_format)}
            if self.mask_path is not None:  # as the folder sources decode it: raw values
                mask = decode_mask(self.mask_path)
                if mask.shape[:2] != image.shape[:2]:
                    # height x width, as the other messages of confaug write an image's size
                    raise DataError(
                        f"{shown(self.path)}: image is {image.shape[0]}x{image.shape[1]} but "
                        f"its mask {shown(self.mask_path)} is {mask.shape[0]}x{mask.shape[1]} "
                        "(height x width)"
                    )
                self._sample["mask"] = mask if mask.ndim == 2 else to_layout(mask, self.data_format)
        return dict(self._sample)

    def labels_for(self, indices: np.ndarray) -> None:
        """None: offline expansion has no labels."""
        return None

    def weights_for(self, indices: np.ndarray) -> None:
        """None: offline expansion has no weights."""
        return None


def unit_floats(pipe: Pipeline, document: Document) -> bool:
    """Whether the copies are a step's 0..1 floats (``ToFloat``), written as pixels of the
    source's depth (:func:`unit_pixels`); a ``ConfigError`` at the step when they are values
    no image file holds (``Normalize``)."""
    step = pipe.output_set_by
    if step is None:
        return False
    # SetByStep.path is the step's key in the config and its name: transforms.3.Normalize.
    key, name = step.rsplit(".", 1)
    if name in ("FromFloat", "ToFloat"):  # FromFloat's integers are written as they are
        return name == "ToFloat"
    from confaug.spec.validate import locate

    error = ConfigError.single(
        f"confaug augment writes image files, and {name} makes float values (such as "
        "-2.1..2.6) that no image file holds: the copies would be nearly black",
        field=step,
        hint=f"keep {name} for training, in the pipeline that reads DST, and augment without "
        f"it, e.g. --set '{key}={{NoOp: {{}}}}'",
    )
    raise locate(error, document)


def unit_pixels(image: np.ndarray, source: np.dtype[Any]) -> np.ndarray:
    """``ToFloat``'s 0..1 (its definition; clipped) as pixels of the source's depth:
    16-bit for a 16-bit source, else 8-bit."""
    dtype = np.uint16 if source == np.uint16 else np.uint8
    top = float(np.iinfo(dtype).max)
    return np.rint(np.clip(image, 0.0, 1.0) * top).astype(dtype)


class CopyWriter:
    """Writes the missing copies of one job; called by worker threads, one job at a time."""

    def __init__(
        self,
        pipe: Pipeline,
        seed: int,
        quality: int,
        overwrite: bool = False,
        unit_floats: bool = False,
    ) -> None:
        self.pipe = pipe
        self.seed = seed
        self.quality = quality
        self.overwrite = overwrite
        self.unit_floats = unit_floats  # ToFloat's 0..1, written as pixels
        self.channels_first = pipe.spec.data_format == "channels_first"

    def __call__(self, job: Job, should_stop: StopCheck | None = None) -> Outcome:
        """Augment and write each copy not yet on disk (all of them with ``overwrite``);
        stop at the image's first failure."""
        if job.problem is not None:  # found when planning: reported as a failed image
            return Outcome(error=job.problem)
        outcome = Outcome()
        original = OriginalImage(job, self.pipe.spec.data_format)
        for k in range(job.copies):  # one copy's paths at a time, however many copies
            out, mask_out = job.output(k), job.mask_output(k)
            try:
                # In the try: looking a path up fails too (ENAMETOOLONG, EACCES), and that
                # is this image's failure, not the run's.
                if not self.overwrite and _copy_on_disk(job, k):
                    outcome.skipped += 1
                    continue
                done = augment_samples(
                    original,
                    self.pipe,
                    _ONLY_SAMPLE,
                    seed=self.seed,
                    stream=(SAMPLE_STREAM, k),  # copy k is the image's epoch k
                    should_stop=should_stop,
                )
                image = done.outputs[0]["image"]
                if self.channels_first:
                    image = np.moveaxis(image, 0, -1)
                if self.unit_floats:
                    image = unit_pixels(image, original.load(0)["image"].dtype)
                if mask_out is not None:  # the mask first: a copy on disk means both are there
                    mask = done.outputs[0]["mask"]
                    if self.channels_first and mask.ndim == 3:
                        mask = np.moveaxis(mask, 0, -1)
                    assert job.mask is not None
                    write_bytes_atomic(mask_out, encode_image(mask_pixels(mask, job.mask), ".png"))
                write_bytes_atomic(out, encode_image(image, out.suffix, jpeg_quality=self.quality))
            except (DataError, SampleError) as err:  # both name the file
                outcome.error = _naming(one_line(err), job.source)
                break
            except OSError as err:
                outcome.error = f"{shown(job.source)}: {one_line(err)}"
                break
            outcome.written += 1
        outcome.traits = original.traits
        return outcome


#: The largest whole number a PNG sample holds (16 bits).
_PNG_TOP = 65535


def mask_pixels(mask: np.ndarray, path: Path) -> np.ndarray:
    """A mask copy's raw values as PNG samples, never scaled or clipped: uint8 as it is (and
    int8 or bool without negatives), any other whole numbers in 0..65535 as uint16; a
    ``DataError`` naming the mask ``path`` for values a PNG cannot hold. The encoder's own
    conversion (``to_uint8``) is for pictures: it would make class 1 of an int32 mask 255
    and clip instance ids above 255."""
    values = np.asarray(mask)
    if values.dtype == np.uint8:
        return values
    name = f"its mask {shown(path)}"
    if values.size == 0:
        return values.astype(np.uint16)
    if values.dtype.kind == "f":
        fraction = values[values != np.floor(values)]
        if fraction.size:
            raise DataError(
                f"{name} holds {values.dtype} values such as {float(fraction.flat[0]):g}, "
                f"which a PNG cannot hold (whole numbers 0..{_PNG_TOP}); save the masks "
                "with whole-number classes"
            )
    elif values.dtype.kind not in "biu":
        raise DataError(f"{name} holds {values.dtype} values, which a PNG cannot hold")
    low, high = (float(bound) for bound in (values.min(), values.max()))
    if low < 0 or high > _PNG_TOP:
        raise DataError(
            f"{name} holds {values.dtype} values from {low:.10g} to {high:.10g}; a PNG "
            f"holds whole numbers 0..{_PNG_TOP}"
        )
    return values.astype(np.uint8 if values.dtype.itemsize == 1 else np.uint16)


def _written(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _copy_on_disk(job: Job, k: int) -> bool:
    """Whether copy ``k`` of ``job`` is written, and its mask's when it has a mask."""
    mask = job.mask_output(k)
    return _written(job.output(k)) and (mask is None or _written(mask))


def _naming(message: str, path: Path) -> str:
    """``message`` starting with the file's (escaped) name, as every line of output names it."""
    name = shown(path)
    return message if message.startswith(name) else f"{name}: {message}"


def _run_jobs(
    writer: CopyWriter, jobs: list[Job], args: argparse.Namespace
) -> Generator[tuple[Job, Outcome], None, None]:
    # Threads share the pipeline; ordered_map holds OpenCV at one thread while they run
    # (parallel across images, not inside each warp) and gives it back when it is closed.
    return ordered_map(
        writer,
        jobs,
        workers=args.workers if args.workers > 1 else 0,
        mode="thread",
    )


def check_paths(src: Path, dst: Path) -> None:
    """``UsageError`` unless SRC is a folder and DST lies outside it."""
    if not src.is_dir():
        raise UsageError(f"SRC {src} is not a folder")
    if is_inside(dst, src):
        raise UsageError(f"DST {dst} is inside SRC {src}; choose a folder outside it")
    if dst.exists() and not dst.is_dir():
        raise UsageError(f"DST {dst} exists and is not a folder")


def _masks(args: argparse.Namespace, src: Path, dst: Path) -> Masks | None:
    """The masks' folders from ``--mask-dir``/``--mask-dst``/``--mask-pattern``, checked."""
    if args.mask_dir is None:
        if args.mask_dst is not None or args.mask_pattern != SAME_NAME:
            raise UsageError("--mask-dst and --mask-pattern need --mask-dir")
        return None
    if args.mask_dst is None:
        raise UsageError("--mask-dir needs --mask-dst, the folder for the masks' copies")
    mask_dir, mask_dst = Path(args.mask_dir), Path(args.mask_dst)
    if not mask_dir.is_dir():
        raise UsageError(f"--mask-dir {mask_dir} is not a folder")
    for name, folder in (("SRC", src), ("DST", dst), ("--mask-dir", mask_dir)):
        if is_inside(mask_dst, folder):
            raise UsageError(f"--mask-dst {mask_dst} is inside {name} {folder}; choose another")
    if is_inside(dst, mask_dst):
        raise UsageError(f"DST {dst} is inside --mask-dst {mask_dst}; choose another")
    try:
        names = MaskNames(mask_dir, args.mask_pattern)
    except ValueError as err:
        raise mask_usage_error(err, "--mask-dir") from None
    return Masks(names, mask_dst)


#: What decides DST's files: a resume must match every one (or pass ``--overwrite``).
DECISIVE = ("fingerprint", "seed", "masks", "format", "quality")
_JPEG_SUFFIXES = (".jpg", ".jpeg")  # the only copies encode_image writes with a quality


def stamp_of(
    pipe: Pipeline, args: argparse.Namespace, seed: int, jobs: list[Job]
) -> dict[str, Any]:
    """What DST records in ``.confaug.json``: what decides its files (the config's
    fingerprint, the seed, the masks' folder, ``--format``, and ``--quality`` when a copy is
    a JPEG), the library versions that draw the pixels and, for people, where they came from."""
    masks = None
    if args.mask_dir is not None:  # the folder itself: "masks", "./masks" are one folder
        masks = {"dir": os.path.realpath(args.mask_dir), "pattern": args.mask_pattern}
    jpeg = any(job.suffix in _JPEG_SUFFIXES for job in jobs)
    return {
        "fingerprint": fingerprint(pipe.spec),
        "seed": seed,
        "masks": masks,
        "format": args.format,
        "quality": args.quality if jpeg else None,
        "config": args.config,
        "overrides": list(getattr(args, "overrides", None) or []),
        "versions": library_versions(),
    }


def library_versions() -> str:
    """albumentations', confaug's and OpenCV's versions: the same seed may draw other pixels
    under another albumentations or OpenCV (their kernels and encoders change)."""
    import cv2  # the writer's encoder: imported by every run already

    return f"{versions()} opencv=={cv2.__version__}"


#: A record's entry: copies ``f"{prefix}{k}{suffix}"`` for k < count, ``prefix`` relative.
Entry = tuple[str, str, int]
_MAX_RECORDED_COPIES = 1_000_000  # a record's count above this is not confaug's


def record_of(jobs: list[Job], dst: Path, masks: Masks | None) -> dict[str, Any]:
    """What this run writes, for the stamp: per image, the name of its copies without the
    copy's number (``cats/001_aug.jpg``: ``cats/001_aug0.jpg``, ``cats/001_aug1.jpg``...)
    relative to DST, and their count; the same for the masks under ``--mask-dst``."""

    def entries(firsts: list[tuple[Path | None, int]], root: Path) -> dict[str, int]:
        found = {}
        for path, count in firsts:
            if path is not None and count:
                first = path.relative_to(root)  # <stem>_aug0<suffix>
                found[(first.parent / first.stem).as_posix()[:-1] + first.suffix] = count
        return found

    jobs = [job for job in jobs if job.problem is None]  # writes nothing
    return {
        "copies": entries([(job.output(0), job.copies) for job in jobs], dst),
        "mask_dst": None if masks is None else str(masks.dst.resolve()),
        "mask_copies": {}
        if masks is None
        else entries([(job.mask_output(0), job.copies) for job in jobs], masks.dst),
    }


def read_stamp(dst: Path, overwrite: bool) -> dict[str, Any] | None:
    """DST's stamp, or None when it has none; a ``UsageError`` naming it when it cannot be
    read (None with ``overwrite``, which writes every copy again)."""
    path = dst / STAMP
    if not path.is_file():
        return None
    try:
        made = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(made, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        if overwrite:
            return None
        raise UsageError(
            f"{shown(path)} cannot be read ({one_line(err)}); pass --overwrite to write "
            "every copy in DST again"
        ) from None
    return made


def earlier_record(made: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``written`` record of DST's stamp ``made``, or None (no stamp, unreadable, made
    before stamps listed copies)."""
    record = None if made is None else made.get("written")
    return record if isinstance(record, dict) else None


def _entries(record: dict[str, Any] | None, key: str) -> list[Entry]:
    """A record's well-formed entries as (prefix, suffix, count): a relative name without
    ``..`` ending ``_aug`` and a suffix confaug writes, a count it could have written
    (anything else is passed over)."""
    listed = (record or {}).get(key)
    found: list[Entry] = []
    for name, count in listed.items() if isinstance(listed, dict) else ():
        if not (isinstance(name, str) and type(count) is int):
            continue
        path = Path(name)
        prefix = name[: -len(path.suffix)] if path.suffix else name
        if (
            prefix.endswith("_aug")
            and not path.is_absolute()
            and ".." not in path.parts
            and path.suffix in WRITABLE
            and 0 < count <= _MAX_RECORDED_COPIES
            # a name too long to be a file (an earlier run listed it, then stopped at it):
            # looking it up would fail the run
            and _name_bytes(f"{path.stem}{count - 1}{path.suffix}") <= NAME_MAX
        ):
            found.append((prefix, path.suffix, count))
    return found


def merged(earlier: dict[str, Any] | None, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` plus the copies ``earlier`` lists that a resumed run leaves in place (the
    mask copies only when they are in the same ``--mask-dst``)."""

    def union(old: list[Entry], new: dict[str, int]) -> dict[str, int]:
        counts = {prefix + suffix: count for prefix, suffix, count in old}
        for name, count in new.items():
            counts[name] = max(count, counts.get(name, 0))
        return counts

    same_masks = earlier is not None and earlier.get("mask_dst") == record["mask_dst"]
    return {
        **record,
        "copies": union(_entries(earlier, "copies"), record["copies"]),
        "mask_copies": union(
            _entries(earlier, "mask_copies") if same_masks else [], record["mask_copies"]
        ),
    }


def remove_recorded(dst: Path, earlier: dict[str, Any] | None, masks: Masks | None) -> int:
    """Remove the copies ``earlier`` lists (in DST, and in ``--mask-dst`` when it is the
    recorded one) and the folders that leaves empty; the count of files removed. A path
    outside its folder, a folder or a file not named as a copy is never touched."""
    roots = [(dst, _entries(earlier, "copies"))]
    if masks is not None and earlier and earlier.get("mask_dst") == str(masks.dst.resolve()):
        roots.append((masks.dst, _entries(earlier, "mask_copies")))
    removed = 0
    for root, entries in roots:
        top = root.resolve()
        folders: set[Path] = set()
        for prefix, suffix, count in entries:
            for k in range(count):
                path = root / f"{prefix}{k}{suffix}"
                parent = path.parent.resolve()
                if not (parent == top or parent.is_relative_to(top)) or path.is_dir():
                    continue
                if path.is_file() or path.is_symlink():
                    path.unlink()
                    removed += 1
                    folders.add(path.parent)
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            _remove_empty(folder, root)
    return removed


def _remove_empty(folder: Path, root: Path) -> None:
    """``folder`` and its parents below ``root`` while they are empty (a fresh run makes
    only the folders its copies are in)."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone): what is left stays
            return
        folder = folder.parent


def check_stamp(
    dst: Path, made: dict[str, Any] | None, stamp: dict[str, Any], overwrite: bool
) -> list[str]:
    """``UsageError`` when DST's copies were made (its stamp ``made``) with another config,
    seed, masks, format or quality (and ``--overwrite`` is not given): resuming would mix
    two datasets.

    Returns the library versions of copies already in DST other than this run's (oldest
    first): a resume is allowed, since an upgrade need not change a pixel, but warned of.
    """
    if overwrite or made is None:
        return []
    made_masks = _recorded_masks(made.get("masks"), dst / STAMP)
    if made_masks == stamp["masks"] and all(
        _same(key, made, stamp) for key in DECISIVE if key != "masks"
    ):
        if stamp["quality"] is None and isinstance(made.get("quality"), int):
            stamp["quality"] = made["quality"]  # DST's JPEGs keep deciding a later run's
        return _other_versions(made, stamp["versions"])

    def described(record: dict[str, Any], masks: dict[str, str] | None) -> str:
        with_masks = f", masks {masks['dir']} {masks['pattern']}" if masks else ""
        quality = record.get("quality")
        return (
            f"{record.get('config')!s} ({record.get('fingerprint')}, seed "
            f"{record.get('seed')}, --format {record.get('format')}"
            f"{'' if quality is None else f', --quality {quality}'}{with_masks})"
        )

    raise UsageError(
        f"DST {dst} holds copies made with {described(made, made_masks)}; this run uses "
        f"{described(stamp, stamp['masks'])}. Resuming would mix the two: pass --overwrite to "
        "write every copy again with this config, or choose another DST"
    )


def _same(key: str, made: dict[str, Any], stamp: dict[str, Any]) -> bool:
    """Whether the stamp ``made`` and this run's agree on ``key``. A quality is None for a
    run that writes no JPEG: then there are no copies of another quality to mix with."""
    if key == "quality" and (made.get(key) is None or stamp[key] is None):
        return True
    return bool(made.get(key) == stamp[key])


def _recorded_masks(masks: Any, path: Path) -> dict[str, str] | None:
    """A stamp's ``masks`` (None, or the folder and pattern), its folder as a real path; a
    ``UsageError`` naming the stamp when it holds anything else (a hand-edited file)."""
    if masks is None:
        return None
    if (
        not isinstance(masks, dict)
        or set(masks) != {"dir", "pattern"}
        or not all(isinstance(value, str) for value in masks.values())
    ):
        raise UsageError(
            f"{shown(path)}: 'masks' holds {one_line(json.dumps(masks))[:80]}, not null or "
            '{"dir": ..., "pattern": ...}; pass --overwrite to write every copy in DST again'
        )
    return {"dir": os.path.realpath(masks["dir"]), "pattern": masks["pattern"]}


def _other_versions(made: dict[str, Any], current: str) -> list[str]:
    """The versions of the copies in DST (its stamp's, and the earlier ones it lists)
    other than ``current``, each once, oldest first."""
    listed = made.get("earlier_versions")
    seen = [*(listed if isinstance(listed, list) else []), made.get("versions")]
    other: list[str] = []
    for entry in seen:
        if isinstance(entry, str) and entry != current and entry not in other:
            other.append(entry)
    return other


def run(args: argparse.Namespace) -> int:
    """Augment every image under SRC into DST; exit 1 when any image failed."""
    # Written as given: Path("./-") is "-". Copies go to files in folders, never stdout.
    refuse_dash(args.dst, "DST", instead="augment writes its copies into a folder; name one")
    if args.mask_dst is not None:
        refuse_dash(
            args.mask_dst, "--mask-dst", instead="the masks' copies go into a folder; name one"
        )
    src, dst = Path(args.src), Path(args.dst)
    check_paths(src, dst)
    masks = _masks(args, src, dst)
    document, _, pipe = load_checked(args.config, args)
    writer_floats = unit_floats(pipe, document)
    seed = args.seed if args.seed is not None else (pipe.spec.seed or 0)
    images, others = find_images(src)
    outputs = [("DST", dst)] + ([] if masks is None else [("--mask-dst", masks.dst)])
    images, left_out = leaving_out_outputs(src, images, outputs)
    if left_out is not None:
        print(left_out)
    if masks is not None:  # masks beside their images are not images to augment
        try:
            kept = masks.names.images_among([str(image) for image in images], str(src))
        except ValueError as err:
            raise mask_usage_error(err, "--mask-dir") from None
        images = [Path(image) for image in kept]
    if not images:
        raise DataError(f"no image files under {src}")
    jobs = plan(src, dst, images, args.copies, args.format, masks)
    stamp = stamp_of(pipe, args, seed, jobs)
    made = read_stamp(dst, args.overwrite)
    earlier_versions = check_stamp(dst, made, stamp, args.overwrite)
    if earlier_versions:
        # Not refused: an upgrade need not change a pixel, and refusing would make every
        # upgrade rewrite DST. The stamp keeps the list, so each later resume says it again.
        stamp["earlier_versions"] = earlier_versions
        print(
            f"warning: DST {dst} holds copies made with {' and '.join(earlier_versions)}; "
            f"this run uses {stamp['versions']}. The same seed may give other pixels, so DST "
            "will mix the two: pass --overwrite to write every copy again",
            file=sys.stderr,
        )
    record, earlier = record_of(jobs, dst, masks), earlier_record(made)
    tally = Tally(ignored=others)
    if args.overwrite:
        # Every copy listed goes first, then the new stamp: an interrupted run leaves only
        # this config's copies, so resuming it gives a fresh run's DST.
        tally.removed = remove_recorded(dst, earlier, masks)
        if earlier is None and dst.is_dir() and any(f.name != STAMP for f in dst.iterdir()):
            print(
                f"note: {STAMP} in DST lists no earlier copies (made before it did); files "
                "this run does not write are left in place"
            )
    else:
        record = merged(earlier, record)
    stamp["written"] = record
    text = json.dumps(stamp, indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(dst / STAMP, text.encode("utf-8"))
    start = time.perf_counter()
    total = len(jobs) * args.copies
    noted: dict[str, list[Path]] = {}  # per trait (TRAITS), the sources that have it
    progress = Progress(total, label="augment", unit="files", enabled=not args.quiet)
    writer = CopyWriter(pipe, seed, args.quality, args.overwrite, writer_floats)
    with progress as bar, closing(_run_jobs(writer, jobs, args)) as results:
        for job, outcome in results:
            tally.written += outcome.written
            tally.skipped += outcome.skipped
            if outcome.error is not None:
                tally.failed.append(outcome.error)
                bar.write(f"error: {outcome.error} (skipped)")
            for trait in outcome.traits:
                noted.setdefault(trait, []).append(job.source)
            bar.advance(job.copies)
    elapsed = time.perf_counter() - start
    for trait, (what, copies) in TRAITS.items():
        if trait in noted:
            found = noted[trait]
            print(f"note: {len(found)} image(s) {what}, e.g. {shown(found[0])}: {copies}")
    # The images whose copies are in DST: a failed image's are not all there.
    copied = len(jobs) - len(tally.failed)
    counted = f"{copied} of {len(jobs)} images" if tally.failed else f"{len(jobs)} images"
    summary = (
        f"{tally.written} written, {tally.skipped} skipped (already there), "
        f"{len(tally.failed)} image(s) failed — {counted} × {args.copies} copies "
        f"in {dst} (seed {seed}, {elapsed:.1f} s)"
        + (f"; masks in {masks.dst}" if masks is not None else "")
    )
    if tally.ignored:
        summary += f"; {tally.ignored} non-image file(s) ignored"
    if tally.removed:
        copies = "copy" if tally.removed == 1 else "copies"
        summary += f"; {tally.removed} earlier {copies} removed first (--overwrite)"
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
        "seeded by --seed, its path and its number, so reruns give the same files. DST "
        "records the config's fingerprint, the seed, the masks, --format and --quality in "
        ".confaug.json, and a run with another of these is refused unless --overwrite "
        "(other library versions are a warning). With --mask-dir, each "
        "image's mask gets the same transform and goes to --mask-dst as PNG. Only "
        "the augmentation runs (no rescale or standardization); a Normalize step, whose values "
        "no image file holds, is refused. An image's alpha channel (transparency) is dropped: "
        "its copies are RGB or gray, and the run says how many of the images it "
        "augmented had one; it says so too for 16-bit colour (copies are 8-bit), several "
        "frames (copies hold the first) and float pixels (a float TIFF's copies are 16-bit "
        "integer TIFFs, [0, 1] as 0..65535). Masks keep their values: uint8, or a 16-bit PNG "
        "for whole numbers up to 65535; other masks are refused. Unreadable "
        "images, and images whose copies' names would be longer than 255 bytes, are "
        "reported and skipped; the exit code is then 1. Files and folders whose names "
        "start with a dot are not augmented (flow_from_directory lists hidden files). Two "
        "sources that would write one copy (a.png and a.jpg with --format png; their masks "
        "always) are refused before anything is written. DST may not lie inside SRC, and "
        "files a linked folder in SRC leads to inside DST are left out.",
        example="confaug augment data/train data/train_aug --config aug.yaml --copies 5 "
        "--workers 2",
        run=run,
    )
    parser.add_argument("src", metavar="SRC", help="folder of images (subfolders kept)")
    parser.add_argument("dst", metavar="DST", help="output folder, outside SRC")
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="config file, or preset:NAME"
    )
    parser.add_argument(
        "--copies",
        required=True,
        type=int_in(1, MAX_COPIES),
        metavar="N",
        help=f"augmented copies per image (at most {MAX_COPIES:,})",
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
        "--quality",
        type=int_in(1, MAX_QUALITY),
        default=95,
        help=f"JPEG quality, 1..{MAX_QUALITY} (default 95)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"remove the copies DST's {STAMP} lists, write every copy again and record "
        "this config (needed when DST was made with another config, seed, masks, format or "
        "quality); DST then holds "
        "exactly what a fresh run writes, and files confaug did not write stay",
    )
    parser.add_argument(
        "--mask-dir",
        metavar="DIR",
        default=None,
        help="folder of masks (the subfolders of SRC kept), augmented with their images",
    )
    parser.add_argument(
        "--mask-pattern",
        metavar="PATTERN",
        default=SAME_NAME,
        help="a mask's file name from its image's stem: '{stem}_mask' pairs 000.jpg with "
        "000_mask.png; with a suffix, exactly that file (default '{stem}': the same name, "
        "any suffix)",
    )
    parser.add_argument(
        "--mask-dst",
        metavar="DIR",
        default=None,
        help="output folder of the masks' copies, named as the images' copies, as PNG",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_config_options(parser)
