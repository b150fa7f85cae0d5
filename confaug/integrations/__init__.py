"""Adapters from confaug generators and pipelines to training frameworks.

Each submodule imports its framework only when an adapter is built, so importing confaug (or
this package) never imports Keras, PyTorch, TensorFlow or Ray:

- :func:`to_keras` (``confaug.integrations.keras``) — a ``keras.utils.PyDataset``;
- :func:`to_torch` (``confaug.integrations.torch``) — a ``torch.utils.data.Dataset``;
- :func:`to_tf` (``confaug.integrations.tf``) — a ``tf.data.Dataset`` with an output signature;
- :func:`ray_augment` (``confaug.integrations.ray``) — a callable class for Ray Data's
  ``Dataset.map_batches``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "to_keras": "keras",
    "to_torch": "torch",
    "to_tf": "tf",
    "ray_augment": "ray",
    "RayAugmenter": "ray",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
