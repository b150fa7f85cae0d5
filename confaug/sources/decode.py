"""Decode image and mask files into HWC arrays in RGB order (uint8, or uint16 on request).

One file is read once and its header parsed (size, format, mode, EXIF orientation) before any
pixels are decoded, so the decompression-bomb guard runs first. Plain JPEG headers are read
by :mod:`~confaug.sources.jpeg_header`, everything else by PIL. Plain JPEGs are decoded by
OpenCV, at 1/2, 1/4 or 1/8 scale when the target size allows (libjpeg scales in
the DCT, which is much cheaper than decoding fully and resizing); other formats go through
PIL. EXIF orientation is applied for every format. Every failure is a :class:`DataError`
that names the file.

What is read is bounded before it costs anything: a path is read by
:func:`~confaug.sources.file_bytes.read_data_file` (regular files only, ``max_file_bytes``);
PIL may only open the formats of :data:`PIL_FORMATS` (an ICO, PSD or EPS named ``.png`` is
refused before its header is parsed); a JPEG too short for the size its header claims is
refused before decoding; and a decoded image must have the size its header announced.
Decoders fill what a truncated JPEG lacks with flat grey: such a file is refused too.
High-bit files are scaled from what their pixels mean: 16-bit integers as 0..65535, 32-bit
integers only when they fit in 16 bits, floats as [0, 1] (or the range the TIFF declares);
NaN, infinity and values outside that range are a ``DataError``, never clipped.

With ``DecodeOptions(decoder="pil")`` every file is decoded, converted and resized by PIL with
PIL's filters, as Keras' ``load_img`` does (the same pixels, EXIF orientation aside), and
``"box"`` and ``"hamming"`` interpolation are available. :func:`decode_as_stored` keeps a
file's own size, channels and 16-bit depth (for ``confaug augment`` and ``preview``).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from confaug.sources.container_limits import check_container
from confaug.sources.errors import DataError, one_line, shown
from confaug.sources.file_bytes import DEFAULT_MAX_FILE_BYTES, read_data_file
from confaug.sources.jpeg_header import (
    ZIGZAG,
    JpegHeader,
    Scan,
    covers_every_coefficient,
    read_jpeg_header,
    scans,
)
from confaug.spec.vocab import INTERPOLATIONS  # OpenCV's codes, by the names configs use

ColorMode = Literal["grayscale", "rgb", "rgba"]
Interpolation = Literal["nearest", "bilinear", "bicubic", "area", "lanczos", "box", "hamming"]
Decoder = Literal["opencv", "pil"]

#: File extensions listed as images (compared case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".webp")
#: Pixel limit of the decompression-bomb guard; the same default as PIL's warning limit.
DEFAULT_MAX_PIXELS = 89_478_485
#: The only formats PIL may open (its names): what the listed extensions hold, and GIF. Any
#: other plugin (ICO, ICNS, PSD, EPS, …) could hide a larger image than its header says, or
#: run an external program.
PIL_FORMATS = ("JPEG", "PNG", "BMP", "PPM", "TIFF", "WEBP", "GIF")

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
# TIFF tags that declare the range of float samples (SMinSampleValue, SMaxSampleValue).
_SAMPLE_RANGE_TAGS = (340, 341)
_SAMPLE_FORMAT_TAG = 339  # 1 unsigned, 2 signed, 3 float
_BITS_PER_SAMPLE_TAG = 258
_EOI = b"\xff\xd9"
# Inserted before a JPEG's end marker to tell a complete file (whose pixels it cannot change)
# from one whose data ran out (whose missing blocks it fills): no 0xFF, so no marker.
_FILLER = b"\x55\xaa" * 32
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
    ``keep_16bit`` keeps high-bit grayscale files (16-bit, 32-bit within 16 bits, float) as
    uint16 instead of scaling them to uint8; colour files are 8-bit as PIL reads them.
    ``max_file_bytes`` bounds the size of a file read (None: no bound).
    """

    color_mode: ColorMode = "rgb"
    target_size: tuple[int, int] | None = (256, 256)
    interpolation: Interpolation = "nearest"
    keep_aspect_ratio: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    reduced_decode: bool = True
    decoder: Decoder = "opencv"
    keep_16bit: bool = False
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES

    def __post_init__(self) -> None:
        if self.color_mode not in CHANNELS:
            raise ValueError(f"color_mode={self.color_mode!r}; expected one of {list(CHANNELS)}")
        if self.decoder not in ("opencv", "pil"):
            raise ValueError(f"decoder={self.decoder!r}; expected 'opencv' or 'pil'")
        methods = PIL_INTERPOLATIONS if self.decoder == "pil" else INTERPOLATIONS
        if self.interpolation not in methods:
            raise ValueError(
                f"interpolation={self.interpolation!r}; expected one of {list(methods)}"
                + (
                    # The flow functions take no decoder: name where PIL's filters are read.
                    f"; {self.interpolation!r} is PIL's filter, which the Keras drop-in "
                    "(confaug.keras.ImageDataGenerator) reads files with"
                    if self.interpolation in PIL_INTERPOLATIONS
                    else ""
                )
            )
        if self.max_pixels is not None and self.max_pixels < 1:
            raise ValueError(f"max_pixels={self.max_pixels!r}; expected a positive int or None")
        if self.target_size is not None:
            size = _checked_size(self.target_size, self.max_pixels)
            object.__setattr__(self, "target_size", size)
        if self.max_file_bytes is not None and self.max_file_bytes < 1:
            raise ValueError(
                f"max_file_bytes={self.max_file_bytes!r}; expected a positive int or None"
            )

    @property
    def channels(self) -> int:
        """Channels of a decoded image: 1, 3 or 4."""
        return CHANNELS[self.color_mode]


def _checked_size(target_size: Any, max_pixels: int | None) -> tuple[int, int]:
    """``target_size`` as ``(height, width)`` of whole positive numbers (8.5, "8" and True
    were taken: True as 1), of at most the decoder's default pixel limit, or ``max_pixels``
    when that is higher (None: no limit): every image is resized to it, so a huge one would
    ask for that much memory per image before anything is checked."""
    given = tuple(target_size) if isinstance(target_size, (tuple, list)) else None
    if given is None or len(given) != 2 or not all(_whole(value) for value in given):
        raise ValueError(f"target_size={target_size!r}; expected (height, width), two integers")
    height, width = (int(value) for value in given)
    if min(height, width) < 1:
        raise ValueError(f"target_size={target_size!r}; expected (height, width) > 0")
    limit = None if max_pixels is None else max(max_pixels, DEFAULT_MAX_PIXELS)
    if limit is not None and height * width > limit:
        raise ValueError(
            f"target_size={target_size!r} is {height * width:,} pixels, more than the "
            f"decoder's limit of {limit:,} (max_pixels)"
        )
    return height, width


def _whole(value: Any) -> bool:
    """An int (NumPy's too, not a bool), or a float with no fraction (Keras' 256.0)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and float(value).is_integer()


def decode_options(
    color_mode: str = "rgb",
    target_size: Sequence[int] | None = (256, 256),
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    reduced_decode: bool = True,
    decoder: str = "opencv",
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
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
        max_file_bytes=max_file_bytes,
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


def open_image(
    source: PathOrBytes,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    *,
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
) -> OpenedImage:
    """Read a file (or bytes) and parse its header, enforcing the size and pixel limits.

    ``OpenedImage.name`` is the name as messages show it (escaped, see ``errors.shown``).
    """
    if isinstance(source, bytes):
        name, data = "<bytes>", source
    else:
        name = shown(os.fspath(source))
        data = read_data_file(source, max_bytes=max_file_bytes)
    if not data:
        raise DataError(f"{name}: cannot decode image: empty file (0 bytes)")
    check_container(name, data)
    jpeg = read_jpeg_header(data)
    if jpeg is not None and not _beyond_pil_limit(jpeg.width * jpeg.height):
        _check_pixels(name, jpeg.width, jpeg.height, max_pixels)
        _check_jpeg_length(name, jpeg, len(data))
        _check_progressive_scans(name, jpeg, data)
        mode = "L" if jpeg.components == 1 else "RGB"
        orientation = jpeg.orientation if 1 <= jpeg.orientation <= 8 else 1
        return OpenedImage(name, data, "JPEG", mode, jpeg.width, jpeg.height, orientation)
    header = _pil_open(name, data)
    width, height = header.size
    _check_pixels(name, width, height, max_pixels)
    try:
        orientation = int(header.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:
        # An EXIF block PIL cannot parse says nothing of the pixels, which PIL (and Keras'
        # load_img) still read: orientation 1, as PIL's exif_transpose takes it. Opened
        # again, as some formats decode their pixels to find the metadata and the failed
        # attempt may leave the image half-read; a file whose pixels are broken too is then
        # refused by the decode itself.
        orientation = 1
        header = _pil_open(name, data)
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
        return Image.open(io.BytesIO(data), formats=PIL_FORMATS)
    except UnidentifiedImageError:
        # Never the file's bytes: a table may name any file, and its first bytes are secret.
        raise DataError(
            f"{name}: cannot decode image: not a recognised image format "
            f"(formats read: {', '.join(PIL_FORMATS)})"
        ) from None
    except Image.DecompressionBombError as exc:
        raise DataError(
            f"{name}: refused as a decompression bomb by PIL ({_why(exc)}); PIL's own limit "
            "PIL.Image.MAX_IMAGE_PIXELS applies beyond confaug's max_pixels"
        ) from None
    except Exception as exc:  # PIL raises many types for malformed headers
        raise DataError(f"{name}: cannot decode image: unreadable header ({_why(exc)})") from exc


# A bytes literal in a decoder's message (PIL quotes header bytes: "not a TIFF file (header
# b'MM\x00\xf9...' not valid)"): the file's content, which messages never quote.
_BYTES_LITERAL = re.compile(r"""(?<![\w'"])b(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def _why(exc: BaseException) -> str:
    """An exception's text for a message: one line, bounded, without the file's bytes."""
    text = _BYTES_LITERAL.sub("<bytes>", str(exc))
    text = one_line(text) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _beyond_pil_limit(pixels: int) -> bool:
    """True where PIL would refuse the image as a bomb (left to PIL to say so)."""
    limit = Image.MAX_IMAGE_PIXELS
    return limit is not None and pixels > 2 * limit


def _check_jpeg_length(name: str, header: JpegHeader, size: int) -> None:
    """Refuse a JPEG whose data cannot hold the blocks its header claims.

    Huffman coding spends at least one bit on each 8x8 block of the first component (its DC
    code), so a file smaller than blocks / 8 bytes is truncated, or its size is forged.
    (Arithmetic coding has no such floor.)
    """
    if header.arithmetic:
        return
    blocks = -(-header.width // 8) * -(-header.height // 8)
    if size < blocks // 8:
        raise DataError(
            f"{name}: cannot decode image: a {header.width}x{header.height} JPEG needs at least "
            f"{blocks // 8:,} bytes, the file has {size:,} (truncated, or a forged size)"
        )


def _check_progressive_scans(name: str, header: JpegHeader, data: bytes) -> None:
    """Refuse a progressive JPEG cut short, its end marker appended: inserting filler before
    that marker changes its pixels, while a complete file ignores the filler.

    Scans that stop before every coefficient is complete are checked at full scale (a file
    may simply send fewer scans, and is then still read). Scans that complete every
    coefficient may still end in a cut: only the last scan can be, and it refines only its
    band, so the file is decoded at the smallest scale whose coefficients that band reaches.
    """
    if not header.progressive:
        return
    found = scans(data, header)  # walked once: the check below and the last scan use them
    if found and covers_every_coefficient(found, header.components):
        if _changed_by_filler(data, _scale_seeing(found[-1]), header.components):
            raise DataError(
                f"{name}: cannot decode image: truncated JPEG (its last scan is cut short)"
            )
    elif _changed_by_filler(data, scale=1):
        raise DataError(
            f"{name}: cannot decode image: truncated JPEG (its data ends before its last scans)"
        )


def _scale_seeing(scan: Scan) -> int:
    """The largest JPEG scale-down (4, 2, 1) whose pixels depend on a coefficient of the
    scan's band (a 1/s decode keeps the top-left 8/s × 8/s coefficients of each block)."""
    band = ZIGZAG[scan.start : scan.stop + 1]
    for scale in (4, 2):
        if any(row < 8 // scale and col < 8 // scale for row, col in band):
            return scale
    return 1


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
    opened = _opened(source, options.max_pixels, options.max_file_bytes)
    target = options.target_size
    crop = _crop_box(opened.size, target) if target and options.keep_aspect_ratio else None
    if options.decoder == "pil":
        pixels = _orient(_convert(_load(opened), options, opened.name), opened.orientation)
        return _fit_pil(pixels, target, crop, PIL_INTERPOLATIONS[options.interpolation])
    if opened.format == "JPEG" and opened.mode in ("L", "RGB"):
        factor = _reduction(opened.size, crop, target) if options.reduced_decode else 1
        pixels = _decode_jpeg(opened, options.color_mode, factor)
        if factor > 1 and crop is not None:
            crop = _crop_box(pixels.shape[:2], target)
    else:
        pixels = _orient(_convert(_load(opened), options, opened.name), opened.orientation)
    return _fit(pixels, target, crop, INTERPOLATIONS[options.interpolation])


def decode_as_stored(
    source: PathOrBytes | OpenedImage,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    *,
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
) -> np.ndarray:
    """An image file at its own size and depth, EXIF orientation applied: ``(H, W, 1)`` for
    a grayscale file (uint16 when it has more than 8 bits), else ``(H, W, 3)`` RGB (alpha
    dropped). The same limits and checks as :func:`decode_image`."""
    opened = _opened(source, max_pixels, max_file_bytes)
    gray = opened.mode in _GRAY_MODES
    options = DecodeOptions(
        color_mode="grayscale" if gray else "rgb",
        target_size=None,
        max_pixels=max_pixels,
        keep_16bit=True,
        max_file_bytes=max_file_bytes,
    )
    return decode_image(opened, options)


def decode_mask(
    source: PathOrBytes | OpenedImage,
    target_size: tuple[int, int] | None = None,
    *,
    keep_aspect_ratio: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
) -> np.ndarray:
    """Decode a mask keeping its raw values (palette indices stay indices); resize nearest.

    Returns ``(H, W)`` for single-channel masks, ``(H, W, C)`` otherwise. A float mask with
    NaN or infinity is a ``DataError``.
    """
    opened = _opened(source, max_pixels, max_file_bytes)
    image = _load(opened)
    if image.mode in ("LA", "La"):
        image = _converted(image, "L", opened.name, "mask")
    elif image.mode not in _MASK_MODES:
        image = _converted(image, "RGB", opened.name, "mask")
    pixels = np.asarray(image)
    if pixels.dtype == bool:  # mode "1"
        pixels = pixels.astype(np.uint8)
    if not pixels.dtype.isnative:
        # Big-endian 16-bit TIFFs (PIL mode I;16B, as ImageJ and MATLAB write them): the
        # same values in the machine's order, which the steps take.
        pixels = pixels.astype(pixels.dtype.newbyteorder("="))
    if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():
        raise DataError(f"{opened.name}: mask holds NaN or infinite values")
    pixels = _orient(pixels, opened.orientation)
    crop = _crop_box(pixels.shape[:2], target_size) if target_size and keep_aspect_ratio else None
    return _fit(pixels, target_size, crop, cv2.INTER_NEAREST_EXACT)


def stored_bits(opened: OpenedImage) -> int:
    """The most bits a sample of the file holds, as far as its header says (8 if unknown):
    PIL opens a 16-bit colour PNG or TIFF as 8-bit "RGB", so its mode does not tell."""
    data = opened.data
    if opened.format == "PNG" and data[12:16] == b"IHDR" and len(data) > 24:
        return data[24]  # IHDR: width, height, then the bit depth
    if opened.format == "TIFF":
        bits = _as_tuple(getattr(opened.header, "tag_v2", {}).get(_BITS_PER_SAMPLE_TAG))
        return max((b for b in bits if isinstance(b, int)), default=8)
    return 8


def mask_channels(opened: OpenedImage) -> int:
    """The channels :func:`decode_mask` gives a file of this header's mode, from the header
    alone: 1 for grey, palette, 1-bit and high-bit masks (LA too: its alpha is dropped),
    4 for RGBA, else 3 (RGB, and the modes read as RGB)."""
    if opened.mode in _GRAY_MODES or opened.mode == "P":
        return 1
    return 4 if opened.mode == "RGBA" else 3


def _opened(
    source: PathOrBytes | OpenedImage, max_pixels: int | None, max_file_bytes: int | None
) -> OpenedImage:
    if isinstance(source, OpenedImage):
        return source
    return open_image(source, max_pixels, max_file_bytes=max_file_bytes)


def _load(opened: OpenedImage) -> Image.Image:
    image = opened.header
    try:
        image.load()
    except MemoryError:
        raise DataError(f"{opened.name}: cannot decode image: not enough memory") from None
    except Exception as exc:
        raise DataError(
            f"{opened.name}: cannot decode image: corrupt or truncated ({_why(exc)})"
        ) from exc
    if image.size != (opened.width, opened.height):  # a container that hid its real size
        raise DataError(
            f"{opened.name}: cannot decode image: its header says {opened.width}x"
            f"{opened.height}, its pixels are {image.size[0]}x{image.size[1]}"
        )
    if opened.format == "JPEG" and image.mode in ("L", "RGB"):
        _refuse_grey_fill(opened, np.asarray(image.getpixel((image.width - 1, image.height - 1))))
    return image


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
    _refuse_grey_fill(opened, pixels[-1, -1])
    if color_mode == "grayscale":
        pixels = pixels[:, :, None]
    else:
        code = cv2.COLOR_BGR2RGBA if color_mode == "rgba" else cv2.COLOR_BGR2RGB
        pixels = cv2.cvtColor(pixels, code)
    return _orient(pixels, opened.orientation)


def _jpeg_is_truncated(data: bytes) -> bool:
    """True when no end-of-image marker follows the last start-of-scan marker."""
    return data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")


def _refuse_grey_fill(opened: OpenedImage, last_pixel: np.ndarray) -> None:
    """Refuse a JPEG whose data ran out before its last block (an end marker appended to a
    cut file hides that from :func:`_jpeg_is_truncated`).

    libjpeg fills the blocks it has no data for with zeros, which decode to flat grey (128),
    the last block (bottom right, as stored) first. Only when that pixel is grey is the file
    checked: decoded again (by PIL, silently, at 1/8 scale) with filler bytes inserted before
    its end marker. A complete file ignores them; a cut one decodes them into its missing
    blocks, so the two differ.
    """
    if np.abs(np.asarray(last_pixel, dtype=np.int16) - 128).max() > 3:
        return
    if _changed_by_filler(opened.data, scale=8):
        raise DataError(
            f"{opened.name}: cannot decode image: truncated JPEG (its data ends before its last "
            "blocks, which would decode as flat grey)"
        )


def _changed_by_filler(data: bytes, scale: int, components: int = 1) -> bool:
    """Whether the JPEG ``data`` decodes (by PIL, which keeps libjpeg's warnings quiet, at
    ``1/scale``, in colour when ``components`` is 3) differently with :data:`_FILLER`
    inserted before its end marker."""
    end = data.rfind(_EOI)
    if end < 0:
        return False
    mode = "RGB" if components == 3 else "L"
    whole = _decoded(data, scale, mode)
    padded = _decoded(data[:end] + _FILLER + data[end:], scale, mode)
    return whole is None or padded is None or not np.array_equal(whole, padded)


def _decoded(data: bytes, scale: int, mode: str = "L") -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as image:
            if scale > 1:
                image.draft(mode, (max(1, image.width // scale), max(1, image.height // scale)))
            return np.asarray(image)
    except Exception:  # any failure to decode counts as a difference
        return None


def pil_pixels(image: Image.Image, options: DecodeOptions, name: str = "image") -> np.ndarray:
    """An already-open PIL image (what ``datasets.Image()`` hands over) as the decoder gives
    a file of that mode: 16-bit and float modes scaled by what their values mean, not
    clipped to 8 bits as PIL's ``convert("RGB")`` clips them; resized to ``target_size``
    (cropped first with ``keep_aspect_ratio``), as a file is."""
    pixels = _convert(image, options, name)
    target = options.target_size
    crop = _crop_box(pixels.shape[:2], target) if target and options.keep_aspect_ratio else None
    return _fit(pixels, target, crop, INTERPOLATIONS[options.interpolation])


def _convert(image: Image.Image, options: DecodeOptions, name: str) -> np.ndarray:
    """PIL image in any mode → HWC with the channels of ``color_mode`` (uint8, or uint16 for
    a high-bit file with ``keep_16bit``)."""
    color_mode = options.color_mode
    if image.mode in _HIGH_BIT_MODES:
        wide = _as_uint16(image, name)
        gray = wide if options.keep_16bit else _to_uint8(wide)
        if color_mode == "grayscale":
            return gray[:, :, None]
        opaque = np.iinfo(gray.dtype).max
        planes = [gray] * 3 + ([np.full_like(gray, opaque)] if color_mode == "rgba" else [])
        return np.stack(planes, axis=-1)
    _refuse_signed_negatives(image, name)
    pil_mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[color_mode]
    pixels = np.asarray(_converted(image, pil_mode, name, "image"))
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _refuse_signed_negatives(image: Image.Image, name: str) -> None:
    """Refuse a signed 8-bit TIFF (SampleFormat 2) holding negative values, as signed 16-bit
    ones are refused: PIL reads its bytes as unsigned, so -5 would come out as 251."""
    tags = getattr(image, "tag_v2", None)
    if tags is None or image.mode not in ("L", "LA", "RGB", "RGBA"):
        return
    formats, bits = tags.get(_SAMPLE_FORMAT_TAG), tags.get(_BITS_PER_SAMPLE_TAG)
    if 2 not in _as_tuple(formats) or set(_as_tuple(bits)) != {8}:
        return
    signed = np.asarray(image).view(np.int8)
    if signed.size and int(signed.min()) < 0:
        raise DataError(
            f"{name}: cannot decode image: signed 8-bit pixels span [{int(signed.min())}, "
            f"{int(signed.max())}]; negative values are not read"
        )


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def _converted(image: Image.Image, mode: str, name: str, what: str) -> Image.Image:
    """``image`` in PIL mode ``mode``. PIL cannot take some modes straight to some others
    (LAB or HSV to L): those go through RGB, as their rgb reading already does; a mode PIL
    cannot convert at all is a DataError naming the file (PIL's ValueError would be no
    file's error, so on_error="skip" could not skip it)."""
    if image.mode == mode:
        return image
    try:
        return image.convert(mode)
    except ValueError:
        pass
    try:
        return image.convert("RGB").convert(mode)
    except ValueError:
        raise DataError(
            f"{name}: cannot decode {what}: PIL cannot convert its {image.mode} pixels to {mode}"
        ) from None


def _as_uint16(image: Image.Image, name: str) -> np.ndarray:
    """A high-bit grayscale image on 0..65535, by what its values mean (module docstring)."""
    values = np.asarray(image)
    if values.size == 0:
        return values.astype(np.uint16)
    if values.dtype.kind == "f":
        if not np.isfinite(values).all():
            raise DataError(f"{name}: cannot decode image: float pixels hold NaN or infinity")
        low, high = _declared_range(image)
        found = float(values.min()), float(values.max())
        if found[0] < low or found[1] > high:
            raise DataError(
                f"{name}: cannot decode image: float pixels span [{found[0]:g}, {found[1]:g}], "
                f"outside [{low:g}, {high:g}]; float image files are read as values in "
                "[0, 1], or in the range their TIFF tags SMinSampleValue/SMaxSampleValue declare"
            )
        return _scaled_to_uint16(values, low, 65535.0 / (high - low))
    low, high = int(values.min()), int(values.max())
    if low < 0 or high > 65535:
        raise DataError(
            f"{name}: cannot decode image: integer pixels span [{low}, {high}], beyond the 16 "
            "bits (0..65535) that are read"
        )
    return values.astype(np.uint16)


#: Values scaled per block in :func:`_scaled_to_uint16` (8 MB of float64).
_SCALE_BLOCK = 1 << 20


def _scaled_to_uint16(values: np.ndarray, low: float, factor: float) -> np.ndarray:
    """``rint((values - low) * factor)`` as uint16, in float64 as before, but a block of
    rows at a time and in place: an 88-megapixel float TIFF took about 27 bytes a pixel
    through whole-image float64 copies; now the output and one block (the same values)."""
    out = np.empty(values.shape, np.uint16)
    rows = max(1, _SCALE_BLOCK // max(1, values[0].size))
    for start in range(0, len(values), rows):
        block = values[start : start + rows].astype(np.float64)
        block -= low
        block *= factor
        np.rint(block, out=block)
        out[start : start + rows] = block
    return out


def _declared_range(image: Image.Image) -> tuple[float, float]:
    """The float range a TIFF declares (SMinSampleValue, SMaxSampleValue), else [0, 1]."""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return 0.0, 1.0
    bounds = []
    for tag in _SAMPLE_RANGE_TAGS:
        value = tags.get(tag)
        if isinstance(value, tuple):
            value = value[0] if value else None
        try:
            bounds.append(float(value))
        except (TypeError, ValueError):
            return 0.0, 1.0
    low, high = bounds
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        return 0.0, 1.0
    return low, high


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
    # At least one pixel: a 1-pixel-wide image still has a centre to crop.
    crop_height = max(1, min(height, (width * target[0]) // target[1]))
    crop_width = max(1, min(width, (height * target[1]) // target[0]))
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
