"""Keras' iterator classes, built directly with Keras' constructors.

``NumpyArrayIterator(x, y, image_data_generator, ...)``, ``DirectoryIterator(directory,
image_data_generator, ...)`` and ``DataFrameIterator(dataframe, directory, ...)`` give the
iterator that the generator's ``flow`` / ``flow_from_directory`` / ``flow_from_dataframe``
gives, with every Keras argument. ``image_data_generator`` is a drop-in
``ImageDataGenerator`` or None (no augmentation, as Keras' ``DataFrameIterator`` default);
a ``data_format`` or ``dtype`` other than the generator's gives the iterator its own copy of
the generator with that value (sharing ``fit``'s statistics). Extra keyword arguments are
Keras' ``PyDataset`` options (``workers``, ``use_multiprocessing``, ``max_queue_size``) and
confaug's generator options (``drop_last``...).

The constructors keep Keras' own signatures, which differ from the methods' (the
generator comes third, ``data_format`` and ``dtype`` are added, some defaults differ);
each hands its flow function the flow's parameters by name (:func:`flow_arguments`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from confaug.keras.flows import array_flow, dataframe_flow, directory_flow, keras_parameters
from confaug.keras.generator import ImageDataGenerator
from confaug.keras.iterators import KerasIterator
from confaug.keras.pydataset import PyDatasetWhenInstalled


def generator_for(generator: Any, data_format: str | None, dtype: Any) -> ImageDataGenerator:
    """The drop-in generator an iterator runs with (see the module docstring)."""
    if generator is None:
        generator = ImageDataGenerator()
    elif not isinstance(generator, ImageDataGenerator):
        raise TypeError(
            "image_data_generator must be a confaug.keras.ImageDataGenerator (or None); "
            f"got {type(generator).__module__}.{type(generator).__name__}"
        )
    return generator.with_options(data_format=data_format, dtype=dtype)


_SAVING = ("save_to_dir", "save_prefix", "save_format")  # kept as the iterator's attributes


def flow_arguments(flow: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """What a constructor hands ``flow``: its ``arguments`` (``locals()``) that are the
    flow's parameters, and its ``**options``."""
    return {
        **{name: arguments[name] for name in keras_parameters(flow)},
        **arguments["options"],
    }


class _FlowIterator(PyDatasetWhenInstalled, KerasIterator):
    """What the three classes share once their flow has run: the iterator over its parts,
    with Keras' constructor attributes and the ``PyDataset`` options."""

    def _start(
        self,
        parts: dict[str, Any],
        given: Any,
        generator: ImageDataGenerator,
        arguments: dict[str, Any],
    ) -> None:
        """Become the iterator over ``parts``, the flow's of ``generator`` with
        ``arguments``; ``given`` is the ``image_data_generator`` argument."""
        attributes = {
            **parts.get("attributes", {}),
            "image_data_generator": given,
            "data_format": generator.spec.data_format,
            "dtype": generator.spec.dtype,
            **{name: arguments[name] for name in _SAVING},
        }
        super().__init__(**{**parts, "attributes": attributes})


class NumpyArrayIterator(_FlowIterator):
    """Batches from arrays; Keras' ``NumpyArrayIterator`` (what ``flow`` returns)."""

    def __init__(
        self,
        x: Any,
        y: Any,
        image_data_generator: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        sample_weight: Any = None,
        seed: int | None = None,
        data_format: str | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        ignore_class_split: bool = False,
        dtype: Any = None,
        **options: Any,
    ) -> None:
        generator = generator_for(image_data_generator, data_format, dtype)
        arguments = flow_arguments(array_flow, locals())
        parts = array_flow(generator.spec, generator.pipeline, **arguments)
        self._start(parts, image_data_generator, generator, arguments)


class DirectoryIterator(_FlowIterator):
    """Batches from class subfolders; Keras' ``DirectoryIterator``."""

    allowed_class_modes: ClassVar[frozenset[str | None]] = frozenset(
        {"categorical", "binary", "sparse", "input", None}
    )

    def __init__(
        self,
        directory: Any,
        image_data_generator: Any,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: Any = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        data_format: str | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: Any = None,
        **options: Any,
    ) -> None:
        generator = generator_for(image_data_generator, data_format, dtype)
        arguments = flow_arguments(directory_flow, locals())
        parts = directory_flow(generator.spec, generator.pipeline, **arguments)
        self._start(parts, image_data_generator, generator, arguments)


class DataFrameIterator(_FlowIterator):
    """Batches from a DataFrame of file names; Keras' ``DataFrameIterator``."""

    allowed_class_modes: ClassVar[frozenset[str | None]] = frozenset(
        {"binary", "categorical", "input", "multi_output", "raw", "sparse", None}
    )

    def __init__(
        self,
        dataframe: Any,
        directory: Any = None,
        image_data_generator: Any = None,
        x_col: str = "filename",
        y_col: Any = "class",
        weight_col: str | None = None,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: Any = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        data_format: str = "channels_last",
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: Any = "float32",
        validate_filenames: bool = True,
        **options: Any,
    ) -> None:
        generator = generator_for(image_data_generator, data_format, dtype)
        arguments = flow_arguments(dataframe_flow, locals())
        parts = dataframe_flow(generator.spec, generator.pipeline, **arguments)
        self._start(parts, image_data_generator, generator, arguments)
