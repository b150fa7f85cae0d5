"""A labelled picture grid (preview, demo, docs): cells with captions, optional masks and boxes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from confaug.cli.common import UsageError
from confaug.cli.imageio import to_uint8
from confaug.sources.decode import DEFAULT_MAX_PIXELS

CAPTION = 18
GAP = 4
TITLE = 26
BACKGROUND = (255, 255, 255)
# Distinct colours for class ids 1, 2, ... (RGB).
PALETTE = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
)


@dataclass
class Cell:
    """One picture of the grid and what to draw on it."""

    image: np.ndarray
    caption: str
    mask: np.ndarray | None = None
    boxes: Sequence[Sequence[float]] = ()
    labels: Sequence[int] = field(default_factory=tuple)
    #: The (min, max) a float image was stretched from for display (see :func:`stretched`).
    stretched: tuple[float, float] | None = None


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Any HxW, HxWx1, HxWx3 or HxWx4 image as HxWx3 uint8."""
    array = to_uint8(np.asarray(image))
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        return np.repeat(array[..., None], 3, axis=2)
    if array.shape[2] >= 3:
        return np.ascontiguousarray(array[..., :3])
    return np.repeat(array[..., :1], 3, axis=2)


def stretched(image: np.ndarray) -> tuple[np.ndarray, tuple[float, float]] | None:
    """A float image outside [0, 1] mapped from its own min..max onto [0, 1] (every channel
    alike, so colours keep their balance), with that min and max; None for an image that
    displays as it is. Values such as Normalize's (-2.1..2.6) would otherwise be clipped,
    negatives to black."""
    array = np.asarray(image)
    if array.dtype.kind != "f":
        return None
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return None
    low, high = float(finite.min()), float(finite.max())
    if low >= 0.0 and high <= 1.0:
        return None
    spread = high - low or 1.0  # a flat image shows as black rather than dividing by 0
    values = np.nan_to_num(array.astype(np.float32), nan=low, posinf=high, neginf=low)
    shown = (values - low) / spread
    return np.clip(shown, 0.0, 1.0), (low, high)


def _colour(label: int) -> tuple[int, int, int]:
    return PALETTE[(int(label) - 1) % len(PALETTE)]


def _draw_overlays(picture: np.ndarray, cell: Cell) -> np.ndarray:
    import cv2

    if cell.mask is None and not cell.boxes:
        return picture
    # Drawn on a copy: to_rgb gives an RGB uint8 image back as it is, which may be the
    # caller's own (an original cell's input, still to be augmented), or read-only.
    picture = picture.copy()
    if cell.mask is not None:
        mask = np.asarray(cell.mask)
        if mask.ndim == 3:
            mask = mask[..., 0]
        mask = mask.astype(np.int32)
        tint = picture.copy()
        for label in np.unique(mask):
            if label == 0:
                continue
            region = (mask == label).astype(np.uint8)
            tint[region.astype(bool)] = _colour(int(label))
            contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(picture, contours, -1, _colour(int(label)), 1)
        picture = cv2.addWeighted(picture, 0.65, tint, 0.35, 0)
    labels = list(cell.labels) or [1] * len(cell.boxes)
    for box, label in zip(cell.boxes, labels, strict=False):
        x0, y0, x1, y1 = (round(float(v)) for v in box[:4])
        cv2.rectangle(picture, (x0, y0), (x1, y1), _colour(int(label)), 2)
    return picture


def _fit(picture: np.ndarray, size: int) -> np.ndarray:
    """``picture`` scaled to fit a ``size``×``size`` square, centred on white."""
    import cv2

    h, w = picture.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(picture, (nw, nh), interpolation=interpolation)
    canvas = np.full((size, size, 3), BACKGROUND, np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[top : top + nh, left : left + nw] = resized
    return canvas


def as_tile(cell: Cell, size: int) -> Cell:
    """``cell`` as :func:`render_grid` draws it (overlays included, fitted into its
    ``size``×``size`` square), with its caption: made as soon as the cell is, a grid of large
    photos holds thumbnails rather than every augmented photo at full size."""
    picture = _fit(_draw_overlays(to_rgb(cell.image), cell), size)
    return Cell(picture, cell.caption, stretched=cell.stretched)


def _text(
    canvas: np.ndarray, text: str, x: int, y: int, *, scale: float = 0.4, bold: bool = False
) -> None:
    import cv2

    cv2.putText(
        canvas,
        text,
        (x, y),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (20, 20, 20),
        2 if bold else 1,
        cv2.LINE_AA,
    )


def _clip_text(text: str, width: int, scale: float) -> str:
    """``text`` shortened (ending in '..') until it fits ``width`` pixels; ASCII only."""
    import cv2

    text = text.encode("ascii", "replace").decode()
    fits = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] <= width
    while text and not fits:
        text = text[:-3] + ".." if len(text) > 3 else ""
        fits = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] <= width
    return text


#: The largest grid: confaug's (and PIL's) decoder refuses to open a bigger picture as a
#: decompression bomb, so a grid above it is no preview anyone can open; 268 MB of RGB.
MAX_GRID_PIXELS = DEFAULT_MAX_PIXELS
#: The largest picture written with PIL's slow ``optimize`` (the default preview is 2.5 MP).
OPTIMIZE_PIXELS = 4_000_000
#: The most cells in one grid: each cell is augmented and held at its image's own size
#: until the grid is drawn (the default preview of the 7 samples has 119).
MAX_GRID_CELLS = 2048


def _line_cells(row_lengths: Sequence[int], columns: int | None) -> int:
    """The cells on one line of the grid: ``columns``, but no more than the longest row."""
    longest = max(row_lengths, default=1)
    return min(columns or longest, longest) or 1


def grid_shape(
    row_lengths: Sequence[int], *, cell_size: int, columns: int | None, title: bool
) -> tuple[int, int]:
    """``(height, width)`` in pixels of the grid of rows of these lengths: each row wrapped
    at ``columns``, a line only as wide as its longest row."""
    columns = _line_cells(row_lengths, columns)
    lines = sum(-(-length // columns) for length in row_lengths)
    top = TITLE if title else GAP
    return top + lines * (cell_size + CAPTION + GAP) + GAP, GAP + columns * (cell_size + GAP)


def check_grid(
    row_lengths: Sequence[int], *, cell_size: int, columns: int | None, title: bool, lower: str
) -> tuple[int, int]:
    """The grid's :func:`grid_shape`; a ``UsageError`` (naming the options to ``lower``) when
    it would hold more than ``MAX_GRID_CELLS`` cells or ``MAX_GRID_PIXELS`` pixels: checked
    before any image is augmented, so a large product of options fails at once, not after
    minutes and gigabytes."""
    cells = sum(row_lengths)
    if cells > MAX_GRID_CELLS:
        raise UsageError(
            f"the grid would hold {cells:,} cells, more than {MAX_GRID_CELLS:,}; lower {lower}"
        )
    height, width = grid_shape(row_lengths, cell_size=cell_size, columns=columns, title=title)
    if height * width > MAX_GRID_PIXELS:
        raise UsageError(
            f"the grid would be {height:,}×{width:,} px (height×width) = {height * width:,} "
            f"pixels, more than {MAX_GRID_PIXELS:,}; lower {lower}"
        )
    return height, width


def render_grid(
    rows: Sequence[Sequence[Cell]],
    *,
    cell_size: int = 128,
    columns: int | None = None,
    title: str | None = None,
) -> np.ndarray:
    """One RGB uint8 picture: each row of cells (wrapped at ``columns``), captions under cells.
    A ``UsageError`` above ``MAX_GRID_CELLS`` cells or ``MAX_GRID_PIXELS`` pixels."""
    lengths = [len(row) for row in rows]
    height, width = check_grid(
        lengths,
        cell_size=cell_size,
        columns=columns,
        title=bool(title),
        lower="the number of cells or cell_size",
    )
    columns = _line_cells(lengths, columns)
    lines: list[Sequence[Cell]] = []
    for row in rows:
        for start in range(0, len(row), columns):
            lines.append(row[start : start + columns])
    step_x = cell_size + GAP
    step_y = cell_size + CAPTION + GAP
    top = TITLE if title else GAP
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    if title:
        _text(canvas, _clip_text(title, width - 2 * GAP, 0.5), GAP + 2, 18, scale=0.5, bold=True)
    for r, line in enumerate(lines):
        for c, cell in enumerate(line):
            x, y = GAP + c * step_x, top + r * step_y
            picture = _draw_overlays(to_rgb(cell.image), cell)
            canvas[y : y + cell_size, x : x + cell_size] = _fit(picture, cell_size)
            _text(canvas, _clip_text(cell.caption, cell_size, 0.4), x + 2, y + cell_size + 13)
    return canvas


def write_png(path: str, picture: np.ndarray, *, compact: bool = False) -> int:
    """Write an RGB picture as PNG; ``compact`` also tries a 256-colour palette (for docs)."""
    import io
    from pathlib import Path

    from PIL import Image

    from confaug.cli.imageio import write_bytes_atomic

    image = Image.fromarray(picture)
    candidates = [image]
    if compact:
        candidates.append(image.quantize(colors=256, method=Image.Quantize.MEDIANCUT))
    # PIL's optimize is about 12x slower than its default for ~10% fewer bytes: a large grid
    # took minutes to write (about 2 s a megapixel), so it is kept for small pictures only.
    optimize = compact or picture.shape[0] * picture.shape[1] <= OPTIMIZE_PIXELS
    best = b""
    for candidate in candidates:
        buffer = io.BytesIO()
        candidate.save(buffer, format="PNG", optimize=optimize)
        if not best or len(buffer.getvalue()) < len(best):
            best = buffer.getvalue()
    write_bytes_atomic(Path(path), best)
    return len(best)
