"""confaug — image augmentation as a reviewed, shareable YAML config.

``confaug.load_pipeline("aug.yaml")`` reads, validates and compiles a config into a
``Pipeline`` (an albumentations ``Compose`` plus Keras' ImageDataGenerator semantics);
its ``flow*`` and ``wrap`` methods stream augmented batches for Keras, PyTorch or tf.data.

Importing confaug never imports albumentations, TensorFlow, PyTorch or Keras.
"""

from confaug._version import __version__
from confaug.api import (
    flow,
    flow_from_dataframe,
    flow_from_directory,
    load_pipeline,
    load_spec,
    resolve,
    spec_from_keras,
    spec_to_yaml,
    wrap,
)
from confaug.compiler.pipeline import Pipeline
from confaug.errors import ConfigError, DataError, Problem, ValueRangeWarning
from confaug.reading.albu_format import DroppedKeysWarning
from confaug.registry import register, unregister
from confaug.seeding import sample_seed
from confaug.spec.model import KERAS_KEYWORDS, Spec
from confaug.spec.steps import TransformStep


def json_schema() -> dict[str, object]:
    """The JSON Schema of confaug configs (imports albumentations to list every transform)."""
    from confaug.spec.schema import json_schema as build

    return build()


__all__ = [
    "KERAS_KEYWORDS",
    "ConfigError",
    "DataError",
    "DroppedKeysWarning",
    "Pipeline",
    "Problem",
    "Spec",
    "TransformStep",
    "ValueRangeWarning",
    "__version__",
    "flow",
    "flow_from_dataframe",
    "flow_from_directory",
    "json_schema",
    "load_pipeline",
    "load_spec",
    "register",
    "resolve",
    "sample_seed",
    "spec_from_keras",
    "spec_to_yaml",
    "unregister",
    "wrap",
]
