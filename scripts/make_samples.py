"""Draw the embedded sample images of ``confaug/samples/`` from code (no external data).

Every picture is synthetic: NumPy gradients and noise plus OpenCV drawing primitives
(circles, polygons, lines, Hershey-font text), with a fixed random seed, so the files are
license-clean and reproducible. Run ``python scripts/make_samples.py`` to rewrite them.
Images with a ``*_mask.png`` companion also carry per-pixel class ids (0 = background).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "confaug" / "samples"
SIZE = 256
FONT = cv2.FONT_HERSHEY_SIMPLEX
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "augment",
    "config",
    "review",
    "share",
    "data",
    "model",
    "train",
    "image",
    "batch",
    "seed",
    "rotate",
    "flip",
    "zoom",
    "shift",
    "noise",
    "blur",
    "page",
    "table",
    "total",
    "invoice",
    "amount",
]


def _rgb(bgr: tuple[int, int, int]) -> tuple[int, int, int]:
    return bgr[2], bgr[1], bgr[0]


def _vertical_gradient(
    top: tuple[int, int, int], bottom: tuple[int, int, int], h: int, w: int
) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return np.ascontiguousarray(np.broadcast_to(img, (h, w, 3))).astype(np.uint8)


def scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A house, a tree and the sun: sky gradient, grass, an asymmetric layout."""
    img = _vertical_gradient((235, 190, 120), (250, 235, 210), SIZE, SIZE)  # BGR sky
    mask = np.zeros((SIZE, SIZE), np.uint8)
    grass = _vertical_gradient((60, 150, 70), (30, 100, 40), SIZE - 180, SIZE)
    img[180:] = grass
    cv2.circle(img, (205, 50), 26, (40, 200, 250), -1, cv2.LINE_AA)
    cv2.circle(mask, (205, 50), 26, 2, -1)
    cv2.rectangle(img, (40, 120), (130, 200), (60, 70, 190), -1)
    cv2.rectangle(mask, (40, 120), (130, 200), 1, -1)
    roof = np.array([[30, 122], [85, 75], [140, 122]], np.int32)
    cv2.fillPoly(img, [roof], (40, 40, 110), cv2.LINE_AA)
    cv2.fillPoly(mask, [roof], 1)
    cv2.rectangle(img, (75, 160), (97, 200), (30, 60, 100), -1)
    cv2.rectangle(img, (50, 135), (68, 152), (230, 220, 180), -1)
    cv2.rectangle(img, (172, 150), (184, 205), (30, 60, 90), -1)
    cv2.circle(img, (178, 135), 28, (40, 130, 40), -1, cv2.LINE_AA)
    cv2.rectangle(mask, (172, 150), (184, 205), 3, -1)
    cv2.circle(mask, (178, 135), 28, 3, -1)
    cv2.putText(img, "R", (12, 40), FONT, 1.1, (20, 20, 20), 2, cv2.LINE_AA)
    img = cv2.add(img, rng.integers(0, 6, img.shape, dtype=np.uint8))
    return img, mask


def shapes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Coloured circles, squares and triangles on a soft background (for boxes and masks)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    base = 200 + 25 * np.sin(xx / 23.0) * np.cos(yy / 31.0)
    img = np.stack([base, base - 10, base - 25], axis=-1).clip(0, 255).astype(np.uint8)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    cv2.circle(img, (60, 60), 32, (50, 50, 220), -1, cv2.LINE_AA)
    cv2.circle(mask, (60, 60), 32, 1, -1)
    cv2.circle(img, (190, 190), 22, (200, 80, 40), -1, cv2.LINE_AA)
    cv2.circle(mask, (190, 190), 22, 1, -1)
    cv2.rectangle(img, (150, 30), (220, 100), (60, 170, 60), -1)
    cv2.rectangle(mask, (150, 30), (220, 100), 2, -1)
    tri = np.array([[40, 220], [85, 140], [130, 220]], np.int32)
    cv2.fillPoly(img, [tri], (20, 140, 230), cv2.LINE_AA)
    cv2.fillPoly(mask, [tri], 3)
    img = cv2.add(img, rng.integers(0, 8, img.shape, dtype=np.uint8))
    return img, mask


def checkerboard(rng: np.random.Generator) -> tuple[np.ndarray, None]:
    """An 8×8 checkerboard with an arrow and a letter, so flips and rotations are obvious."""
    cell = SIZE // 8
    board = ((np.indices((8, 8)).sum(axis=0) % 2) * 200 + 30).astype(np.uint8)
    img = cv2.resize(board, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    cv2.rectangle(img, (0, 0), (SIZE - 1, SIZE - 1), (0, 0, 230), 6)
    cv2.arrowedLine(
        img,
        (cell * 2, cell * 6),
        (cell * 6, cell * 2),
        (0, 200, 255),
        9,
        cv2.LINE_AA,
        tipLength=0.25,
    )
    cv2.putText(img, "F", (cell * 5 + 4, cell * 7 + 20), FONT, 1.6, (220, 60, 0), 4, cv2.LINE_AA)
    del rng
    return img, None


def document(rng: np.random.Generator) -> tuple[np.ndarray, None]:
    """A scanned-looking page: heading, lines of text, a small table, a little paper noise."""
    h, w = 320, 240
    page = np.full((h, w, 3), 246, np.uint8)
    cv2.putText(
        page, "INVOICE 2042", (14, 34), cv2.FONT_HERSHEY_DUPLEX, 0.8, (25, 25, 25), 1, cv2.LINE_AA
    )
    cv2.line(page, (14, 44), (w - 14, 44), (60, 60, 60), 1)
    y = 64
    for _ in range(9):
        words = rng.choice(WORDS, size=5)
        cv2.putText(page, " ".join(words), (14, y), FONT, 0.38, (30, 30, 30), 1, cv2.LINE_AA)
        y += 17
    top = y + 2
    for row in range(5):
        cv2.line(page, (14, top + row * 18), (w - 14, top + row * 18), (90, 90, 90), 1)
    for col in (14, 120, 180, w - 14):
        cv2.line(page, (col, top), (col, top + 72), (90, 90, 90), 1)
    for row in range(4):
        cells = (str(rng.choice(WORDS)), f"{rng.integers(1, 99):>2}", f"{rng.integers(10, 999)}.00")
        for x, text in zip((18, 128, 186), cells, strict=True):
            y = top + 13 + row * 18
            cv2.putText(page, text, (x, y), FONT, 0.35, (30, 30, 30), 1, cv2.LINE_AA)
    noise = rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    return np.clip(page.astype(np.float32) + noise, 0, 255).astype(np.uint8), None


def medical(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A grayscale, X-ray-like slice: body ellipse, darker 'lungs', spine, a bright lesion."""
    img = np.zeros((SIZE, SIZE), np.float32)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(img, (128, 134), (108, 118), 0, 0, 360, 150, -1, cv2.LINE_AA)
    for cx in (84, 172):
        cv2.ellipse(img, (cx, 120), (34, 66), 0, 0, 360, 55, -1, cv2.LINE_AA)
        cv2.ellipse(mask, (cx, 120), (34, 66), 0, 0, 360, 2, -1)
    cv2.rectangle(img, (121, 40), (135, 230), 210, -1)
    for y in range(46, 226, 16):
        cv2.line(img, (119, y), (137, y), 170, 2)
    cv2.circle(img, (184, 96), 11, 230, -1, cv2.LINE_AA)
    cv2.circle(mask, (184, 96), 11, 1, -1)
    img = cv2.GaussianBlur(img, (0, 0), 2.0)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    vignette = 1.0 - 0.35 * (((xx - 128) / 128) ** 2 + ((yy - 128) / 128) ** 2)
    return np.clip(img * vignette, 0, 255).astype(np.uint8), mask


def aerial(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A top-down town: a road grid, roofs and a river on grass (north has no special meaning)."""
    img = np.empty((SIZE, SIZE, 3), np.uint8)
    img[:] = (70, 120, 90)
    img = cv2.add(img, rng.integers(0, 25, img.shape, dtype=np.uint8))
    mask = np.zeros((SIZE, SIZE), np.uint8)  # 0 = vegetation and everything else
    river = np.array(
        [
            [0, 200],
            [60, 185],
            [130, 215],
            [200, 190],
            [256, 205],
            [256, 240],
            [190, 228],
            [120, 250],
            [50, 225],
            [0, 236],
        ],
        np.int32,
    )
    cv2.fillPoly(img, [river], (150, 110, 50), cv2.LINE_AA)
    cv2.fillPoly(mask, [river], 3)
    for x in (0, 84, 168):
        cv2.rectangle(img, (x + 72, 0), (x + 82, 180), (150, 150, 150), -1)
        cv2.rectangle(mask, (x + 72, 0), (x + 82, 180), 2, -1)
    for y in (56, 118):
        cv2.rectangle(img, (0, y), (SIZE - 1, y + 10), (150, 150, 150), -1)
        cv2.rectangle(mask, (0, y), (SIZE - 1, y + 10), 2, -1)
    for bx in range(3):
        for by in range(3):
            x0, y0 = 10 + bx * 84, 8 + by * 62
            for _ in range(2):
                w, h = (int(v) for v in rng.integers(14, 26, 2))
                x, y = x0 + int(rng.integers(0, 40)), y0 + int(rng.integers(0, 20))
                colour = [(60, 60, 170), (120, 120, 120), (80, 100, 190)][int(rng.integers(0, 3))]
                cv2.rectangle(img, (x, y), (x + w, y + h), colour, -1)
                cv2.rectangle(img, (x, y), (x + w, y + h), (30, 30, 30), 1)
                cv2.rectangle(mask, (x, y), (x + w, y + h), 1, -1)
    return img, mask


def gradient(rng: np.random.Generator) -> tuple[np.ndarray, None]:
    """A hue wheel over a gray ramp, so colour and brightness changes are easy to see."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    hue = (np.degrees(np.arctan2(yy - 110, xx - 128)) % 360) / 2
    radius = np.hypot(yy - 110, xx - 128)
    sat = np.clip(radius / 90 * 255, 0, 255)
    hsv = np.stack([hue, sat, np.full_like(hue, 235)], axis=-1).astype(np.uint8)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    img[radius > 95] = 255
    ramp = np.linspace(0, 255, SIZE, dtype=np.float32).astype(np.uint8)
    img[216:] = ramp[None, :, None]
    cv2.putText(img, "0", (4, 212), FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "255", (222, 212), FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    del rng
    return img, None


SAMPLES: dict[
    str, tuple[Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray | None]], str]
] = {
    "scene": (scene, ".jpg"),
    "shapes": (shapes, ".jpg"),
    "checkerboard": (checkerboard, ".png"),
    "document": (document, ".jpg"),
    "medical": (medical, ".jpg"),
    "aerial": (aerial, ".jpg"),
    "gradient": (gradient, ".png"),
}


def _imwrite(path: Path, image: np.ndarray, params: list[int]) -> None:
    if not cv2.imwrite(str(path), image, params):
        raise OSError(f"cannot write {path}")


def write(out: Path = OUT) -> list[Path]:
    """Draw every sample into ``out``; return the files written."""
    png = [cv2.IMWRITE_PNG_COMPRESSION, 9]
    written: list[Path] = []
    for index, (name, (draw, ext)) in enumerate(SAMPLES.items()):
        image, mask = draw(np.random.default_rng(1000 + index))
        written.append(out / f"{name}{ext}")
        _imwrite(written[-1], image, [cv2.IMWRITE_JPEG_QUALITY, 88] if ext == ".jpg" else png)
        if mask is not None:
            written.append(out / f"{name}_mask.png")
            _imwrite(written[-1], mask, png)
    return written


def main() -> None:
    """Command line: write the samples and print their sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help="target folder (default: confaug/samples)"
    )
    args = parser.parse_args()
    for path in write(args.out):
        print(f"{path.stat().st_size / 1024:6.1f} KB  {path}")


if __name__ == "__main__":
    main()
