"""``ImageDataGenerator``: Keras' API over a confaug ``Pipeline``, each part done elsewhere.

The class keeps Keras' names, signatures and defaults, and holds the spec and the pipeline;
the work is its collaborators': :mod:`~confaug.keras.config` (keywords to a spec),
:mod:`~confaug.keras.statistics` (``fit``, ``mean``/``std``/ZCA), :mod:`~confaug.keras.flows`
(the ``flow*`` methods) and :mod:`~confaug.keras.transform` (one image), all keeping float
data of any range in its own units (:mod:`~confaug.keras.raw_units`).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from confaug.api import load_spec, spec_from_keras, spec_to_yaml
from confaug.compiler.pipeline import Pipeline
from confaug.keras.config import dtype_name, keras_keywords, warn_implied_flags
from confaug.keras.flows import array_flow, dataframe_flow, directory_flow
from confaug.keras.global_seed import seed_or_global
from confaug.keras.iterators import KerasIterator, make_iterator
from confaug.keras.pydataset import set_dataset_options
from confaug.keras.statistics import fit_statistics, read_statistic, write_statistic
from confaug.keras.transform import RandomDraws, standardize_like_keras, transform_image
from confaug.spec.model import Spec


class ImageDataGenerator:
    """Keras' ``ImageDataGenerator`` API on a confaug ``Pipeline`` (see :mod:`confaug.keras`)."""

    def __init__(self, **keywords: Any) -> None:
        keywords = keras_keywords(keywords)
        self.spec: Spec = spec_from_keras(**keywords)
        self.pipeline = Pipeline(self.spec)
        self._draws = RandomDraws(self.spec)
        warn_implied_flags(keywords)

    # ---- Keras' attribute names ---------------------------------------------------------
    @property
    def data_format(self) -> str:
        return self.spec.data_format

    @property
    def mean(self) -> np.ndarray | None:
        """Per-channel mean from ``fit``, shaped (1, 1, C) or (C, 1, 1) as Keras; settable."""
        return read_statistic(self.pipeline, "mean", self.spec.data_format)

    @mean.setter
    def mean(self, value: Any) -> None:
        write_statistic(self.pipeline, "mean", value, self.spec.data_format)

    @property
    def std(self) -> np.ndarray | None:
        """Per-channel std from ``fit``, shaped as :attr:`mean`; settable."""
        return read_statistic(self.pipeline, "std", self.spec.data_format)

    @std.setter
    def std(self, value: Any) -> None:
        write_statistic(self.pipeline, "std", value, self.spec.data_format)

    @property
    def zca_whitening_matrix(self) -> np.ndarray | None:
        """The ZCA matrix from ``fit`` (over values in HWC order); settable."""
        return read_statistic(self.pipeline, "zca_matrix", self.spec.data_format)

    @zca_whitening_matrix.setter
    def zca_whitening_matrix(self, value: Any) -> None:
        write_statistic(self.pipeline, "zca_matrix", value, self.spec.data_format)

    # ---- iterators ------------------------------------------------------------------------
    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        ignore_class_split: bool = False,
        subset: str | None = None,
        **options: Any,
    ) -> KerasIterator:
        """Batches from arrays (Keras' ``flow``); ``x`` may be ``(images, extra_inputs)``.

        ``**options``: Keras' ``PyDataset`` keywords (``workers``, ``use_multiprocessing``,
        ``max_queue_size``: how ``model.fit`` and ``next()`` load batches) and confaug's
        generator options (``drop_last``, ``on_error``...); a misspelt one is a TypeError
        with a did-you-mean hint. The same holds for the other ``flow*`` methods.
        """
        return self._iterator(
            array_flow(
                self.spec,
                self.pipeline,
                x,
                y,
                batch_size=batch_size,
                shuffle=shuffle,
                sample_weight=sample_weight,
                seed=seed,
                save_to_dir=save_to_dir,
                save_prefix=save_prefix,
                save_format=save_format,
                ignore_class_split=ignore_class_split,
                subset=subset,
                options=options,
            )
        )

    def flow_from_directory(
        self,
        directory: Any,
        target_size: tuple[int, int] | None = (256, 256),
        color_mode: str = "rgb",
        classes: Any = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        **options: Any,
    ) -> KerasIterator:
        """Batches from class subfolders (Keras' ``flow_from_directory``)."""
        return self._iterator(
            directory_flow(
                self.spec,
                self.pipeline,
                directory,
                target_size=target_size,
                color_mode=color_mode,
                classes=classes,
                class_mode=class_mode,
                batch_size=batch_size,
                shuffle=shuffle,
                seed=seed,
                save_to_dir=save_to_dir,
                save_prefix=save_prefix,
                save_format=save_format,
                follow_links=follow_links,
                subset=subset,
                interpolation=interpolation,
                keep_aspect_ratio=keep_aspect_ratio,
                options=options,
            ),
        )

    def flow_from_dataframe(
        self,
        dataframe: Any,
        directory: Any = None,
        x_col: str = "filename",
        y_col: Any = "class",
        weight_col: str | None = None,
        target_size: tuple[int, int] | None = (256, 256),
        color_mode: str = "rgb",
        classes: Any = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        validate_filenames: bool = True,
        keep_aspect_ratio: bool = False,
        **options: Any,
    ) -> KerasIterator:
        """Batches from a DataFrame or CSV (Keras' ``flow_from_dataframe``)."""
        return self._iterator(
            dataframe_flow(
                self.spec,
                self.pipeline,
                dataframe,
                directory,
                x_col=x_col,
                y_col=y_col,
                weight_col=weight_col,
                target_size=target_size,
                color_mode=color_mode,
                classes=classes,
                class_mode=class_mode,
                batch_size=batch_size,
                shuffle=shuffle,
                seed=seed,
                save_to_dir=save_to_dir,
                save_prefix=save_prefix,
                save_format=save_format,
                subset=subset,
                interpolation=interpolation,
                validate_filenames=validate_filenames,
                keep_aspect_ratio=keep_aspect_ratio,
                options=options,
            ),
        )

    def _iterator(self, parts: dict[str, Any]) -> KerasIterator:
        """The iterator over a flow's parts, with Keras' ``image_data_generator`` attribute
        and the ``PyDataset`` options (``workers``...) that ``model.fit`` reads."""
        dataset = parts.pop("dataset_options", {})
        attributes = {**parts.get("attributes", {}), "image_data_generator": self}
        iterator = make_iterator(**{**parts, "attributes": attributes})
        set_dataset_options(iterator, dataset)
        return iterator

    # ---- statistics -----------------------------------------------------------------------
    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute featurewise statistics from ``x`` (Keras' ``fit``); with ``augment`` and no
        ``seed``, the augmentation is seeded from NumPy's global random state, as Keras'."""
        fit_statistics(
            self.spec, self.pipeline, x, augment, rounds, seed_or_global(seed) if augment else seed
        )

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Keras' ``standardize`` on one image or a batch.

        As in Keras, a float array is changed in place (and returned) unless a
        ``preprocessing_function`` is set; other input gives a new array.
        """
        return standardize_like_keras(self.spec, self.pipeline, x)

    # ---- one image ------------------------------------------------------------------------
    def get_random_transform(
        self, img_shape: tuple[int, ...], seed: int | None = None
    ) -> dict[str, Any]:
        """One random draw as Keras' parameter dict (theta, tx, ty, shear, zx, zy, flips, ...)."""
        return self._draws.draw(img_shape, seed)

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """Apply exactly the given parameters to one image (Keras' ``apply_transform``)."""
        return transform_image(self.spec, x, transform_parameters)

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """A random transform of one image (Keras' ``random_transform``)."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def with_options(self, *, data_format: str | None, dtype: Any) -> ImageDataGenerator:
        """This generator, or a copy of it with another ``data_format`` / ``dtype`` (None:
        keep) that shares its ``fit`` statistics: what an iterator given those runs with."""
        changes = {
            name: value
            for name, value in (("data_format", data_format), ("dtype", dtype_name(dtype)))
            if value is not None and value != getattr(self.spec, name)
        }
        if not changes:
            return self
        variant = copy.copy(self)
        variant.spec = load_spec({**self.spec.to_data(), **changes})
        variant.pipeline = Pipeline(variant.spec)
        variant.pipeline.standardizer = self.pipeline.standardizer
        variant._draws = RandomDraws(variant.spec)
        return variant

    def to_yaml(self) -> str:
        """The equivalent confaug config."""
        return spec_to_yaml(self.spec)
