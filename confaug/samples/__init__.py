"""Small sample images shipped inside the package, so previews and the demo need no data.

Every image here is synthetic and license-clean: drawn from code by ``scripts/make_samples.py``
with NumPy (gradients, seeded noise) and OpenCV drawing primitives (circles, polygons,
lines, Hershey-font text). No photograph or third-party file is involved. Each file is a
few KB to ~25 KB. Images with a ``NAME_mask.png`` companion also carry per-pixel class ids
(0 = background), from which :func:`boxes` derives bounding boxes.

>>> from confaug import samples
>>> samples.names()[:3]
['aerial', 'checkerboard', 'document']
>>> samples.load("scene").shape
(256, 256, 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent

DESCRIPTIONS: dict[str, str] = {
    "aerial": "top-down town: road grid, roofs, a river on grass (mask: building, road, water)",
    "checkerboard": "8×8 checkerboard with an arrow and a letter: flips and rotations are obvious",
    "document": "a scanned-looking invoice page: heading, text lines, a table",
    "gradient": "hue wheel over a gray ramp: colour and brightness changes are obvious",
    "medical": "grayscale X-ray-like slice with lungs and a bright lesion (mask: lesion, lungs)",
    "scene": "a house, a tree and the sun on a sky gradient (mask: house, sun, tree)",
    "shapes": "coloured circles, a square and a triangle (mask: circle, square, triangle)",
}
"""One line per sample: what it shows."""

CLASSES: dict[str, tuple[str, ...]] = {
    "aerial": ("background", "building", "road", "water"),
    "medical": ("background", "lesion", "lungs"),
    "scene": ("background", "house", "sun", "tree"),
    "shapes": ("background", "circle", "square", "triangle"),
}
"""Class names of each mask's ids, index = id."""


@dataclass(frozen=True)
class Sample:
    """One embedded sample: an RGB (or single-channel) uint8 image and an optional mask."""

    name: str
    image: np.ndarray
    mask: np.ndarray | None

    @property
    def grayscale(self) -> bool:
        """True for single-channel images."""
        return self.image.ndim == 2


def names() -> list[str]:
    """The names of the embedded samples, sorted."""
    return sorted(DESCRIPTIONS)


def path(name: str) -> Path:
    """The file of sample ``name``; ``KeyError`` for an unknown name."""
    if name not in DESCRIPTIONS:
        raise KeyError(f"no sample named {name!r}; choose from {', '.join(names())}")
    for ext in (".png", ".jpg"):
        candidate = _HERE / f"{name}{ext}"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"sample {name!r} is missing from {_HERE}")


def _read(file: Path, *, gray: bool) -> np.ndarray:
    import cv2

    data = np.fromfile(file, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot decode {file}")
    return image if gray else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def load(name: str) -> np.ndarray:
    """Sample ``name`` as a uint8 array: HxWx3 RGB, or HxW for grayscale samples."""
    return _read(path(name), gray=name == "medical")


def load_mask(name: str) -> np.ndarray | None:
    """The uint8 class-id mask of sample ``name``, or None when it has none."""
    path(name)
    file = _HERE / f"{name}_mask.png"
    return _read(file, gray=True) if file.is_file() else None


def load_sample(name: str) -> Sample:
    """Image and mask of sample ``name``."""
    return Sample(name, load(name), load_mask(name))


def load_all() -> list[Sample]:
    """Every embedded sample, in name order."""
    return [load_sample(name) for name in names()]


def boxes(mask: np.ndarray, *, min_area: int = 16) -> tuple[list[list[float]], list[int]]:
    """Pascal VOC boxes ``[x_min, y_min, x_max, y_max]`` of each connected region, and class ids."""
    import cv2

    found: list[list[float]] = []
    labels: list[int] = []
    for class_id in (int(v) for v in np.unique(mask) if v):
        count, _, stats, _ = cv2.connectedComponentsWithStats((mask == class_id).astype(np.uint8))
        for x, y, w, h, area in stats[1:count]:
            if area >= min_area:
                found.append([float(x), float(y), float(x + w), float(y + h)])
                labels.append(class_id)
    return found, labels


__all__ = [
    "CLASSES",
    "DESCRIPTIONS",
    "Sample",
    "boxes",
    "load",
    "load_all",
    "load_mask",
    "load_sample",
    "names",
    "path",
]
