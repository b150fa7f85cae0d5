"""The spec (layer 2): the Pydantic models of one config and its validation.

``vocab`` holds the shared vocabulary (ranges, fill modes, interpolations, data formats and
their bounds); ``catalog`` the albumentations transforms a config may name, each checked
against its own ``InitSchema`` (as strictly as the top level), with ``degenerate`` for the
values that fail on every image; ``cost`` (with one rule per transform family in
``cost_rules``) what a valid spec costs for a 1024×1024 image, refused past its budget;
``compose_options`` checks ``bbox_params`` and ``keypoint_params``; ``steps`` and ``model``
the ``TransformStep`` and ``Spec`` models; ``validate`` turns a read document into a
``Spec`` or a ``ConfigError`` whose every problem is placed through the document's source
map; ``schema`` writes the JSON Schema that editors use. The spec knows nothing of batching
or data: it may import only ``reading`` and the foundation modules.
"""

from confaug.spec.model import GEOMETRIC_KEYWORDS, KERAS_KEYWORDS, Spec
from confaug.spec.steps import TransformStep
from confaug.spec.validate import locate, validate_document

__all__ = [
    "GEOMETRIC_KEYWORDS",
    "KERAS_KEYWORDS",
    "Spec",
    "TransformStep",
    "locate",
    "validate_document",
]
