"""Drop-in replacement for Keras' ``ImageDataGenerator``: change only the import line.

    from confaug.keras import ImageDataGenerator

The constructor takes IDG's keywords (validated: a bad value raises ``ConfigError``), and
``flow``, ``flow_from_directory``, ``flow_from_dataframe``, ``fit``, ``standardize``,
``random_transform``, ``get_random_transform`` and ``apply_transform`` behave as in Keras,
running on confaug's one-warp pipeline. ``to_yaml()`` exports the equivalent config.
Nothing here imports Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from confaug.api import spec_from_keras, spec_to_yaml
from confaug.compiler.build import warp_order
from confaug.compiler.pipeline import Pipeline
from confaug.compiler.values import from_working, infer_scale, to_working
from confaug.spec.model import GEOMETRIC_KEYWORDS, Spec


class ImageDataGenerator:
    """Keras' ``ImageDataGenerator`` API on a confaug ``Pipeline`` (see the module docstring)."""

    def __init__(self, **keywords: Any) -> None:
        keywords = {k: v for k, v in keywords.items() if v is not None or k == "brightness_range"}
        keywords.setdefault("dtype", "float32")  # Keras' floatx: batches come out float32
        self.spec: Spec = spec_from_keras(**keywords)
        self.pipeline = Pipeline(self.spec)
        self._rng = np.random.default_rng()
        self._sampler: Any = None

    # ---- Keras' attribute names ---------------------------------------------------------
    @property
    def data_format(self) -> str:
        return self.spec.data_format

    @property
    def mean(self) -> np.ndarray | None:
        stats = self.pipeline.standardizer.stats
        return None if stats is None else stats.mean

    @property
    def std(self) -> np.ndarray | None:
        stats = self.pipeline.standardizer.stats
        return None if stats is None else stats.std

    @property
    def zca_whitening_matrix(self) -> np.ndarray | None:
        stats = self.pipeline.standardizer.stats
        return None if stats is None else stats.zca_matrix

    # ---- iterators ------------------------------------------------------------------------
    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        **options: Any,
    ) -> Any:
        """Batches from arrays (Keras' ``flow``)."""
        saving = _saving_options(options)
        return _maybe_saving(
            self.pipeline.flow(
                x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, seed=seed, **options
            ),
            saving,
        )

    def flow_from_directory(self, directory: Any, **options: Any) -> Any:
        """Batches from class subfolders (Keras' ``flow_from_directory``)."""
        saving = _saving_options(options)
        return _maybe_saving(self.pipeline.flow_from_directory(directory, **options), saving)

    def flow_from_dataframe(self, dataframe: Any, directory: Any = None, **options: Any) -> Any:
        """Batches from a DataFrame or CSV (Keras' ``flow_from_dataframe``)."""
        saving = _saving_options(options)
        return _maybe_saving(
            self.pipeline.flow_from_dataframe(dataframe, directory=directory, **options), saving
        )

    # ---- statistics -----------------------------------------------------------------------
    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute featurewise statistics from ``x`` (Keras' ``fit``)."""
        self.pipeline.fit(x, augment=augment, rounds=rounds, seed=seed)

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Keras' ``standardize`` on one image or a batch."""
        x = np.asarray(x)
        if x.ndim == 3:
            return self.pipeline.standardize(x[None])[0]
        return self.pipeline.standardize(x)

    # ---- one image ------------------------------------------------------------------------
    def _axes(self) -> tuple[int, int]:
        return (1, 2) if self.spec.data_format == "channels_first" else (0, 1)

    def get_random_transform(
        self, img_shape: tuple[int, ...], seed: int | None = None
    ) -> dict[str, Any]:
        """One random draw as Keras' parameter dict (theta, tx, ty, shear, zx, zy, flips, ...)."""
        from confaug.idg.params import IdgSampler

        if self._sampler is None:
            self._sampler = IdgSampler(**{k: getattr(self.spec, k) for k in GEOMETRIC_KEYWORDS})
        rng = self._rng if seed is None else np.random.default_rng(seed)
        row, col = self._axes()
        return self._sampler.sample(rng, int(img_shape[row]), int(img_shape[col])).to_keras()

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """Apply exactly the given parameters to one image (Keras' ``apply_transform``)."""
        from confaug.idg.params import IdgParams
        from confaug.idg.warp import apply_params

        image = np.asarray(x)
        channels_first = self.spec.data_format == "channels_first"
        if channels_first:
            image = np.moveaxis(image, 0, -1)
        scale = infer_scale(image, self.spec.value_range)
        out = apply_params(
            np.ascontiguousarray(to_working(image, scale)),
            IdgParams.from_keras(transform_parameters),
            fill_mode=self.spec.fill_mode,
            cval=self.spec.cval,
            interpolation_order=warp_order(self.spec),
        )
        out = from_working(out, scale)
        return np.moveaxis(out, -1, 0) if channels_first else out

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """A random transform of one image (Keras' ``random_transform``)."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def to_yaml(self) -> str:
        """The equivalent confaug config."""
        return spec_to_yaml(self.spec)


def _saving_options(options: dict[str, Any]) -> dict[str, Any]:
    """Pop Keras' ``save_to_dir`` / ``save_prefix`` / ``save_format`` from ``options``."""
    return {
        "directory": options.pop("save_to_dir", None),
        "prefix": options.pop("save_prefix", ""),
        "extension": options.pop("save_format", "png"),
    }


def _maybe_saving(generator: Any, saving: dict[str, Any]) -> Any:
    if saving["directory"] is None:
        return generator
    return SavingGenerator(generator, **saving)


class SavingGenerator:
    """A generator that also writes every batch's images to a folder (Keras' ``save_to_dir``).

    Images are scaled to 0–255 by their own min and max (as Keras' ``array_to_img``) and named
    ``{prefix}_e{epoch}_b{batch}_{position}.{format}``, so reruns overwrite, not accumulate.
    Everything else is the wrapped generator's.
    """

    def __init__(self, generator: Any, *, directory: Any, prefix: str, extension: str) -> None:
        from pathlib import Path

        if extension.lower() not in ("png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"):
            raise ValueError(f"save_format={extension!r}: use png, jpg, bmp, tif or webp")
        self._generator = generator
        self._directory = Path(directory)
        self._directory.mkdir(parents=True, exist_ok=True)
        self._prefix = prefix
        self._extension = extension.lower()
        self._served = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._generator, name)

    def __len__(self) -> int:
        return len(self._generator)

    def __getitem__(self, index: int) -> Any:
        batch = self._generator[index]
        self._save(batch, self._generator.epoch, index)
        return batch

    def __iter__(self) -> Any:
        for number, batch in enumerate(self._generator):
            epoch, index = divmod(number, len(self._generator))
            self._save(batch, epoch, index)
            yield batch

    def __next__(self) -> Any:
        batch = next(self._generator)
        epoch, index = divmod(self._served, len(self._generator))
        self._served += 1
        self._save(batch, epoch, index)
        return batch

    def _save(self, batch: Any, epoch: int, index: int) -> None:
        import cv2

        images = batch[0] if isinstance(batch, tuple) else batch
        images = np.asarray(images)
        if self._generator.pipeline.data_format == "channels_first":
            images = np.moveaxis(images, 1, -1)
        for position, image in enumerate(images):
            pixels = image.astype(np.float64)
            low, high = pixels.min(), pixels.max()
            pixels = (pixels - low) * (255.0 / (high - low)) if high > low else pixels * 0
            pixels = np.rint(pixels).astype(np.uint8)
            if pixels.ndim == 3 and pixels.shape[-1] == 3:
                pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
            elif pixels.ndim == 3 and pixels.shape[-1] == 4:
                pixels = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)
            name = f"{self._prefix}_e{epoch}_b{index}_{position}.{self._extension}"
            if not cv2.imwrite(str(self._directory / name), pixels):
                raise OSError(f"could not write {self._directory / name}")
