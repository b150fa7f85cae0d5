"""Decode image and mask files into HWC arrays in RGB order (uint8, or uint16 on request).

One file is read once and its header parsed (size, format, mode, EXIF orientation) before any
pixels are decoded, so the decompression-bomb guard runs first. Plain JPEG headers are read
by :mod:`~confaug.sources.jpeg_header`, everything else by PIL. Plain JPEGs are decoded by
OpenCV, at 1/2, 1/4 or 1/8 scale when the target size allows (libjpeg scales in
the DCT, which is much cheaper than decoding fully and resizing); other formats go through
PIL. EXIF orientation is applied for every format. Every failure is a :class:`DataError`
that names the file.

With ``DecodeOptions(decoder="pil")`` every file is decoded, converted and resized by PIL with
PIL's filters, as Keras' ``load_img`` does (the same pixels, EXIF orientation aside), and
``"box"`` and ``"hamming"`` interpolation are available. :func:`decode_as_stored` keeps a
file's own size, channels and 16-bit depth (for ``confaug augment`` and ``preview``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from confaug.sources.errors import DataError
from confaug.sources.jpeg_header import read_jpeg_header
from confaug.spec.vocab import INTERPOLATIONS  # OpenCV's codes, by the names configs use

ColorMode = Literal["grayscale", "rgb", "rgba"]
Interpolation = Literal["nearest", "bilinear", "bicubic", "area", "lanczos", "box", "hamming"]
Decoder = Literal["opencv", "pil"]

#: File extensions listed as images (compared case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".webp")
#: Pixel limit of the decompression-bomb guard; the same default as PIL's warning limit.
DEFAULT_MAX_PIXELS = 89_478_485

CHANNELS: dict[str, int] = {"grayscale": 1, "rgb": 3, "rgba": 4}
#: OpenCV's resize flags, by the interpolation names of ``DecodeOptions``.
#: PIL's filters, by the names Keras' ``load_img`` accepts (``decoder="pil"``).
PIL_INTERPOLATIONS: dict[str, Image.Resampling] = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "hamming": Image.Resampling.HAMMING,
    "box": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
}
_EXIF_ORIENTATION = 0x0112
_HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_MASK_MODES = _HIGH_BIT_MODES | {"1", "L", "P", "RGB", "RGBA"}
_GRAY_MODES = _HIGH_BIT_MODES | {"1", "L", "LA", "La"}
_REDUCED_FLAGS = {
    ("color", 1): cv2.IMREAD_COLOR,
    ("color", 2): cv2.IMREAD_REDUCED_COLOR_2,
    ("color", 4): cv2.IMREAD_REDUCED_COLOR_4,
    ("color", 8): cv2.IMREAD_REDUCED_COLOR_8,
    ("gray", 1): cv2.IMREAD_GRAYSCALE,
    ("gray", 2): cv2.IMREAD_REDUCED_GRAYSCALE_2,
    ("gray", 4): cv2.IMREAD_REDUCED_GRAYSCALE_4,
    ("gray", 8): cv2.IMREAD_REDUCED_GRAYSCALE_8,
}
# OpenCV 5 rejects truncated JPEGs; 4.x returns the decoded part with a warning.
_CV2_ACCEPTS_TRUNCATED_JPEG = int(cv2.__version__.split(".")[0]) < 5

PathOrBytes = str | os.PathLike[str] | bytes


@dataclass(frozen=True)
class DecodeOptions:
    """How files become arrays; ``target_size`` is ``(height, width)``, None keeps the size.

    ``decoder="pil"`` decodes and resizes with PIL as Keras' ``load_img`` (no reduced decode).
    ``keep_16bit`` keeps 16-bit grayscale files (and 32-bit ones, clipped to 16 bits) as
    uint16 instead of scaling them to uint8; colour files are 8-bit as PIL reads them.
    """

    color_mode: ColorMode = "rgb"
    target_size: tuple[int, int] | None = (256, 256)
    interpolation: Interpolation = "nearest"
    keep_aspect_ratio: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    reduced_decode: bool = True
    decoder: Decoder = "opencv"
    keep_16bit: bool = False

    def __post_init__(self) -> None:
        if self.color_mode not in CHANNELS:
            raise ValueError(f"color_mode={self.color_mode!r}; expected one of {list(CHANNELS)}")
        if self.decoder not in ("opencv", "pil"):
            raise ValueError(f"decoder={self.decoder!r}; expected 'opencv' or 'pil'")
        methods = PIL_INTERPOLATIONS if self.decoder == "pil" else INTERPOLATIONS
        if self.interpolation not in methods:
            raise ValueError(
                f"interpolation={self.interpolation!r}; expected one of {list(methods)}"
                + (" (or decoder='pil')" if self.interpolation in PIL_INTERPOLATIONS else "")
            )
        if self.target_size is not None:
            size = tuple(int(v) for v in self.target_size)
            if len(size) != 2 or min(size) < 1:
                raise ValueError(f"target_size={self.target_size!r}; expected (height, width) > 0")
            object.__setattr__(self, "target_size", size)
        if self.max_pixels is not None and self.max_pixels < 1:
            raise ValueError(f"max_pixels={self.max_pixels!r}; expected a positive int or None")

    @property
    def channels(self) -> int:
        """Channels of a decoded image: 1, 3 or 4."""
        return CHANNELS[self.color_mode]


def decode_options(
    color_mode: str = "rgb",
    target_size: Sequence[int] | None = (256, 256),
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    reduced_decode: bool = True,
    decoder: str = "opencv",
) -> DecodeOptions:
    """:class:`DecodeOptions` from the keyword options users pass (``flow_from_directory``,
    ``ray_augment``, the Keras drop-in): plain strings and any sequence for ``target_size``,
    checked by ``DecodeOptions`` itself (ValueError naming the option)."""
    return DecodeOptions(
        color_mode=color_mode,  # type: ignore[arg-type]
        target_size=None if target_size is None else tuple(target_size),  # type: ignore[arg-type]
        interpolation=interpolation,  # type: ignore[arg-type]
        keep_aspect_ratio=keep_aspect_ratio,
        max_pixels=max_pixels,
        reduced_decode=reduced_decode,
        decoder=decoder,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class OpenedImage:
    """A file read into memory with its header parsed; no pixels decoded yet.

    ``format`` and ``mode`` use PIL's names ("JPEG", "PNG"; "L", "RGB", "I;16", …).
    """

    name: str
    data: bytes
    format: str | None
    mode: str
    width: int
    height: int
    orientation: int
    pil: Image.Image | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` after EXIF orientation."""
        return (self.width, self.height) if self.orientation >= 5 else (self.height, self.width)

    @property
    def header(self) -> Image.Image:
        """The file opened (lazily) by PIL, pixels not yet loaded."""
        if self.pil is None:
            object.__setattr__(self, "pil", _pil_open(self.name, self.data))
        assert self.pil is not None
        return self.pil


def open_image(source: PathOrBytes, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> OpenedImage:
    """Read a file (or bytes) and parse its header, enforcing the pixel limit."""
    name = "<bytes>" if isinstance(source, bytes) else os.fspath(source)
    data = source if isinstance(source, bytes) else _read(name)
    if not data:
        raise DataError(f"{name}: cannot decode image: empty file (0 bytes)")
    jpeg = read_jpeg_header(data)
    if jpeg is not None and not _beyond_pil_limit(jpeg.width * jpeg.height):
        _check_pixels(name, jpeg.width, jpeg.height, max_pixels)
        mode = "L" if jpeg.components == 1 else "RGB"
        orientation = jpeg.orientation if 1 <= jpeg.orientation <= 8 else 1
        return OpenedImage(name, data, "JPEG", mode, jpeg.width, jpeg.height, orientation)
    header = _pil_open(name, data)
    width, height = header.size
    _check_pixels(name, width, height, max_pixels)
    try:
        orientation = int(header.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception as exc:  # some formats decode everything to find their metadata
        raise DataError(f"{name}: cannot decode image: corrupt or truncated ({exc})") from exc
    return OpenedImage(
        name,
        data,
        header.format,
        header.mode,
        width,
        height,
        orientation if 1 <= orientation <= 8 else 1,
        header,
    )


def _pil_open(name: str, data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise DataError(
            f"{name}: cannot decode image: not a recognised image format "
            f"(starts with {data[:12]!r})"
        ) from None
    except Image.DecompressionBombError as exc:
        raise DataError(
            f"{name}: refused as a decompression bomb by PIL ({exc}); PIL's own limit "
            "PIL.Image.MAX_IMAGE_PIXELS applies beyond confaug's max_pixels"
        ) from None
    except Exception as exc:  # PIL raises many types for malformed headers
        raise DataError(f"{name}: cannot decode image: unreadable header ({exc})") from exc


def _beyond_pil_limit(pixels: int) -> bool:
    """True where PIL would refuse the image as a bomb (left to PIL to say so)."""
    limit = Image.MAX_IMAGE_PIXELS
    return limit is not None and pixels > 2 * limit


def _check_pixels(name: str, width: int, height: int, max_pixels: int | None) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise DataError(
            f"{name}: {width}x{height} = {width * height:,} pixels exceeds "
            f"max_pixels={max_pixels:,} (decompression-bomb guard); raise max_pixels to allow it"
        )


def decode_image(
    source: PathOrBytes | OpenedImage, options: DecodeOptions | None = None
) -> np.ndarray:
    """Decode an image file into a ``(H, W, C)`` uint8 RGB/RGBA/gray array per ``options``."""
    options = options or DecodeOptions()
    opened = _opened(source, options.max_pixels)
    target = options.target_size
    crop = _crop_box(opened.size, target) if target and options.keep_aspect_ratio else None
    if options.decoder == "pil":
        pixels = _orient(_convert(_load(opened), options), opened.orientation)
        return _fit_pil(pixels, target, crop, PIL_INTERPOLATIONS[options.interpolation])
    if opened.format == "JPEG" and opened.mode in ("L", "RGB"):
        factor = _reduction(opened.size, crop, target) if options.reduced_decode else 1
        pixels = _decode_jpeg(opened, options.color_mode, factor)
        if factor > 1 and crop is not None:
            crop = _crop_box(pixels.shape[:2], target)
    else:
        pixels = _orient(_convert(_load(opened), options), opened.orientation)
    return _fit(pixels, target, crop, INTERPOLATIONS[options.interpolation])


def decode_as_stored(
    source: PathOrBytes | OpenedImage, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """An image file at its own size and depth, EXIF orientation applied: ``(H, W, 1)`` for
    a grayscale file (uint16 when it has 16 bits), else ``(H, W, 3)`` RGB (alpha dropped)."""
    opened = _opened(source, max_pixels)
    gray = opened.mode in _GRAY_MODES
    options = DecodeOptions(
        color_mode="grayscale" if gray else "rgb",
        target_size=None,
        max_pixels=max_pixels,
        keep_16bit=True,
    )
    return decode_image(opened, options)


def decode_mask(
    source: PathOrBytes | OpenedImage,
    target_size: tuple[int, int] | None = None,
    *,
    keep_aspect_ratio: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode a mask keeping its raw values (palette indices stay indices); resize nearest.

    Returns ``(H, W)`` for single-channel masks, ``(H, W, C)`` otherwise.
    """
    opened = _opened(source, max_pixels)
    image = _load(opened)
    if image.mode in ("LA", "La"):
        image = image.convert("L")
    elif image.mode not in _MASK_MODES:
        image = image.convert("RGB")
    pixels = np.asarray(image)
    if pixels.dtype == bool:  # mode "1"
        pixels = pixels.astype(np.uint8)
    pixels = _orient(pixels, opened.orientation)
    crop = _crop_box(pixels.shape[:2], target_size) if target_size and keep_aspect_ratio else None
    return _fit(pixels, target_size, crop, cv2.INTER_NEAREST_EXACT)


def _read(name: str) -> bytes:
    try:
        with open(name, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise DataError(f"{name}: cannot read file ({exc.strerror or exc})") from None


def _opened(source: PathOrBytes | OpenedImage, max_pixels: int | None) -> OpenedImage:
    return source if isinstance(source, OpenedImage) else open_image(source, max_pixels)


def _load(opened: OpenedImage) -> Image.Image:
    try:
        opened.header.load()
    except Exception as exc:
        raise DataError(
            f"{opened.name}: cannot decode image: corrupt or truncated ({exc})"
        ) from exc
    return opened.header


def _reduction(
    size: tuple[int, int], crop: tuple[int, int, int, int] | None, target: tuple[int, int] | None
) -> int:
    """Largest JPEG DCT scale-down (1, 2, 4, 8) that keeps the kept region ≥ the target."""
    if target is None:
        return 1
    height, width = (crop[2] - crop[0], crop[3] - crop[1]) if crop else size
    for factor in (8, 4, 2):
        if height >= factor * target[0] and width >= factor * target[1]:
            return factor
    return 1


def _decode_jpeg(opened: OpenedImage, color_mode: str, factor: int) -> np.ndarray:
    if _CV2_ACCEPTS_TRUNCATED_JPEG and _jpeg_is_truncated(opened.data):
        raise DataError(
            f"{opened.name}: cannot decode image: truncated JPEG (no end-of-image marker)"
        )
    flags = _REDUCED_FLAGS[("gray" if color_mode == "grayscale" else "color", factor)]
    buffer = np.frombuffer(opened.data, np.uint8)
    pixels = cv2.imdecode(buffer, flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if pixels is None:
        raise DataError(f"{opened.name}: cannot decode image: corrupt or truncated JPEG")
    if color_mode == "grayscale":
        pixels = pixels[:, :, None]
    else:
        code = cv2.COLOR_BGR2RGBA if color_mode == "rgba" else cv2.COLOR_BGR2RGB
        pixels = cv2.cvtColor(pixels, code)
    return _orient(pixels, opened.orientation)


def _jpeg_is_truncated(data: bytes) -> bool:
    """True when no end-of-image marker follows the last start-of-scan marker."""
    return data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")


def _convert(image: Image.Image, options: DecodeOptions) -> np.ndarray:
    """PIL image in any mode → HWC with the channels of ``color_mode`` (uint8, or uint16 for
    a high-bit file with ``keep_16bit``)."""
    color_mode = options.color_mode
    if image.mode in _HIGH_BIT_MODES:
        wide = np.clip(np.asarray(image), 0, 65535).astype(np.uint16)
        gray = wide if options.keep_16bit else _to_uint8(wide)
        if color_mode == "grayscale":
            return gray[:, :, None]
        opaque = np.iinfo(gray.dtype).max
        planes = [gray] * 3 + ([np.full_like(gray, opaque)] if color_mode == "rgba" else [])
        return np.stack(planes, axis=-1)
    pil_mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[color_mode]
    if image.mode != pil_mode:
        image = image.convert(pil_mode)
    pixels = np.asarray(image)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Scale 16-bit samples to 0..255 with rounding."""
    wide = values.astype(np.uint32)
    return ((wide * 255 + 32767) // 65535).astype(np.uint8)


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1–8) so the array is upright."""
    if orientation in (2, 3):
        pixels = pixels[:, ::-1]
    if orientation in (3, 4):
        pixels = pixels[::-1]
    if orientation >= 5:
        pixels = np.swapaxes(pixels, 0, 1)
        if orientation in (6, 7):
            pixels = pixels[:, ::-1]
        if orientation in (7, 8):
            pixels = pixels[::-1]
    return pixels


def _crop_box(
    size: tuple[int, int], target: tuple[int, int] | None
) -> tuple[int, int, int, int] | None:
    """Centre box ``(top, left, bottom, right)`` with the target's aspect ratio, as Keras."""
    if target is None:
        return None
    height, width = size
    crop_height = min(height, (width * target[0]) // target[1])
    crop_width = min(width, (height * target[1]) // target[0])
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return top, left, top + crop_height, left + crop_width


def _fit(
    pixels: np.ndarray,
    target: tuple[int, int] | None,
    crop: tuple[int, int, int, int] | None,
    interpolation: int,
) -> np.ndarray:
    """Crop then resize to ``target``; return a C-contiguous array of the same rank."""
    if target is not None and pixels.shape[:2] != target:
        if crop is not None:
            top, left, bottom, right = crop
            pixels = pixels[top:bottom, left:right]
        resized = cv2.resize(
            np.ascontiguousarray(pixels), (target[1], target[0]), interpolation=interpolation
        )
        pixels = resized.reshape(target + pixels.shape[2:])  # cv2 drops a single channel
    return np.ascontiguousarray(pixels)


def _fit_pil(
    pixels: np.ndarray,
    target: tuple[int, int] | None,
    crop: tuple[int, int, int, int] | None,
    resample: Image.Resampling,
) -> np.ndarray:
    """:func:`_fit` with PIL's ``resize`` (``box`` = the crop), exactly as Keras' ``load_img``."""
    if target is None or pixels.shape[:2] == target:
        return np.ascontiguousarray(pixels)
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    box = None if crop is None else (crop[1], crop[0], crop[3], crop[2])
    resized = np.asarray(image.resize((target[1], target[0]), resample, box=box))
    return np.ascontiguousarray(resized.reshape(target + pixels.shape[2:]))
