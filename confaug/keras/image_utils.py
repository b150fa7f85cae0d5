"""Keras' image utilities, with PIL and NumPy only (Keras is not needed).

``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``, ``list_pictures`` and
``validate_filename`` with the signatures and results of ``keras.utils`` /
``keras_preprocessing.image``. One deliberate difference, shared with the drop-in's
``flow_from_directory``: ``load_img`` applies a photo's EXIF orientation, so phone pictures
come out upright. ``data_format=None`` means ``"channels_last"`` (Keras reads it from its
own config file, which confaug does not).
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# the sources sit below the adapters: the drop-in reads files as every confaug reader does
from confaug.sources.errors import DataError, one_line, shown
from confaug.sources.file_bytes import DEFAULT_MAX_FILE_BYTES, read_data_file

#: PIL's filters, by the names ``load_img`` takes.
PIL_INTERPOLATION_METHODS: dict[str, Image.Resampling] = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "hamming": Image.Resampling.HAMMING,
    "box": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
}
_PICTURE_EXTENSIONS = ("jpg", "jpeg", "bmp", "png", "ppm", "tif", "tiff")
_ORIENTATION = 0x0112  # the EXIF tag


def _data_format(data_format: str | None) -> str:
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format={data_format!r}; expected 'channels_last' or 'channels_first'"
        )
    return data_format


def validate_filename(filename: str, white_list_formats: Iterable[str]) -> bool:
    """Whether ``filename`` is an existing file whose name ends with one of the formats
    (compared case-insensitively, e.g. ``("png", "jpg")``)."""
    return filename.lower().endswith(tuple(white_list_formats)) and os.path.isfile(filename)


def list_pictures(directory: str | os.PathLike[str], ext: Any = _PICTURE_EXTENSIONS) -> list[str]:
    """Paths of every file under ``directory`` (subfolders included) with one of the
    extensions ``ext`` (one string or several, without the dot)."""
    suffixes = tuple(f".{e}" for e in ((ext,) if isinstance(ext, str) else ext))
    return [
        os.path.join(root, name)
        for root, _, names in os.walk(directory)
        for name in names
        if name.lower().endswith(suffixes)
    ]


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
    *,
    grayscale: bool = False,
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
) -> Image.Image:
    """A PIL image from a path (str, bytes, ``pathlib.Path``) or an ``io.BytesIO``.

    ``color_mode`` is "rgb", "rgba" or "grayscale" (8-bit, and 16- or 32-bit grayscale
    files keep their depth); ``target_size=(height, width)`` resizes with the PIL filter
    named by ``interpolation``, after cropping the centre to the target's aspect ratio
    when ``keep_aspect_ratio``. ``grayscale=True`` is the deprecated spelling of
    ``color_mode="grayscale"``. The file is read at once and closed, through confaug's
    reader of data files: a FIFO, a device or a file over ``max_file_bytes`` (confaug's
    keyword, 256 MiB as the sources' default; None lifts it) raises :class:`ImageFileError`
    (a ``DataError`` and an ``OSError``) naming it, a missing file :class:`MissingImageError`
    (also a ``FileNotFoundError``).
    """
    if grayscale:
        warnings.warn('grayscale is deprecated: use color_mode="grayscale"', DeprecationWarning, 2)
        color_mode = "grayscale"
    image: Image.Image
    if isinstance(path, io.BytesIO):
        image = _opened(path, "an io.BytesIO")
    elif isinstance(path, (str, bytes, pathlib.Path)):
        name = os.fsdecode(path)
        image = _opened(io.BytesIO(_file_bytes(name, max_file_bytes)), name)
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if image.getexif().get(_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
    image = _converted(image, color_mode)
    if target_size is None:
        return image
    size = (int(target_size[1]), int(target_size[0]))  # PIL's (width, height)
    if image.size == size:
        return image
    if interpolation not in PIL_INTERPOLATION_METHODS:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods "
            f"are {', '.join(PIL_INTERPOLATION_METHODS)}"
        )
    resample = PIL_INTERPOLATION_METHODS[interpolation]
    box = _centre_crop(image.size, size) if keep_aspect_ratio else None
    return image.resize(size, resample, box=box)


class ImageFileError(DataError, OSError):
    """A file ``load_img`` cannot read or decode, named: a :class:`~confaug.DataError`, and an
    ``OSError`` as Keras' own ``load_img`` failures are (so ``except OSError`` still works)."""


class MissingImageError(ImageFileError, FileNotFoundError):
    """``load_img`` was given a path where there is no file (Keras raises FileNotFoundError)."""


def _file_bytes(name: str, max_file_bytes: int | None) -> bytes:
    """The file's bytes through the sources' one reader: a FIFO, a device (``/dev/zero``
    under an image's name) or a file over the sources' size limit is refused before any
    read, where a plain ``open().read()`` would block for ever or fill the memory."""
    if max_file_bytes is not None and (
        not isinstance(max_file_bytes, int) or isinstance(max_file_bytes, bool)
    ):
        raise TypeError(f"max_file_bytes={max_file_bytes!r}; expected an int or None")
    try:
        return read_data_file(name, max_bytes=max_file_bytes)
    except DataError as exc:
        # os.path.exists is False for a dangling symlink too: both are "no such file"
        kind = ImageFileError if os.path.exists(name) else MissingImageError
        raise kind(str(exc)) from None


def _opened(source: io.BytesIO, name: str) -> Image.Image:
    """The decoded image, or an :class:`ImageFileError` naming ``name``: PIL decodes lazily,
    so a truncated file would otherwise fail later, in ``img_to_array``, without a name."""
    try:
        image = Image.open(source)
        image.load()
    except OSError as exc:  # UnidentifiedImageError, a truncated file, a broken codec
        reason = "cannot identify the image" if isinstance(exc, UnidentifiedImageError) else exc
        raise ImageFileError(f"{shown(name)}: {one_line(reason)}") from exc
    return image


def _converted(image: Image.Image, color_mode: str) -> Image.Image:
    if color_mode == "grayscale":
        return image if image.mode in ("L", "I;16", "I") else image.convert("L")
    if color_mode == "rgba":
        return image if image.mode == "RGBA" else image.convert("RGBA")
    if color_mode == "rgb":
        return image if image.mode == "RGB" else image.convert("RGB")
    raise ValueError(f'color_mode={color_mode!r}; color_mode must be "grayscale", "rgb", or "rgba"')


def _centre_crop(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest centred box of ``size`` with the aspect ratio of ``target`` (w, h)."""
    width, height = size
    target_width, target_height = target
    crop_width = min(width, height * target_width // target_height)
    crop_height = min(height, width * target_height // target_width)
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    return left, top, left + crop_width, top + crop_height


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A PIL image (or anything ``np.asarray`` takes) as an HWC or CHW array of ``dtype``
    (default float32); a 2-D image gets a channel axis of 1."""
    data_format = _data_format(data_format)
    array = np.asarray(img, dtype=dtype or "float32")
    if array.ndim == 2:
        array = array[..., None]
    elif array.ndim != 3:
        raise ValueError(f"Unsupported image shape: {array.shape}")
    return np.moveaxis(array, -1, 0) if data_format == "channels_first" else array


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None
) -> Image.Image:
    """One HWC or CHW image array as a PIL image: RGB, RGBA or grayscale by its channels.

    With ``scale`` the values are stretched to 0–255 by their own min and max (a constant
    image becomes black); 1-channel values beyond 255 give a 32-bit ("I") image.
    """
    data_format = _data_format(data_format)
    array = np.asarray(x, dtype=dtype or "float32")
    if array.ndim != 3:
        raise ValueError(
            f"Expected image array to have rank 3 (single image). Got array with shape: "
            f"{array.shape}"
        )
    if data_format == "channels_first":
        array = np.moveaxis(array, 0, -1)
    if scale:  # in Keras' order and dtype, so that the rounding to bytes agrees
        work = array if array.dtype.kind == "f" else array.astype(np.float64)
        work = work - np.min(work)
        top = np.max(work)
        array = (work / top if top != 0 else work) * 255
    channels = array.shape[2]
    if channels in (3, 4):
        return Image.fromarray(array.astype(np.uint8), "RGBA" if channels == 4 else "RGB")
    if channels == 1:
        if np.max(array) > 255:
            return Image.fromarray(array[:, :, 0].astype(np.int32), "I")
        return Image.fromarray(array[:, :, 0].astype(np.uint8), "L")
    raise ValueError(f"Unsupported channel number: {channels} (expected 1, 3 or 4)")


def save_img(
    path: Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Write one image array to ``path`` (or a file object, with ``file_format``).

    The format comes from the file's extension unless ``file_format`` is given; RGBA is
    written as RGB to JPEG files (with a warning). ``kwargs`` go to ``PIL.Image.save``.
    """
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        image = image.convert("RGB")
    image.save(path, format=file_format, **kwargs)
