"""Adapters from confaug generators and pipelines to training frameworks.

Each submodule imports its framework only when an adapter is built, so importing confaug (or
this package) never imports Keras, PyTorch, TensorFlow or Ray:

- :func:`to_keras` (``confaug.integrations.keras``) — a ``keras.utils.PyDataset``;
- :func:`to_torch` (``confaug.integrations.torch``) — a ``torch.utils.data.Dataset``;
- :func:`to_tf` (``confaug.integrations.tf``) — a ``tf.data.Dataset`` with an output signature;
- :func:`ray_augment` (``confaug.integrations.ray``) — a callable class for Ray Data's
  ``Dataset.map_batches``;
- :func:`hf_transform` (``confaug.integrations.hf_datasets``) — a transform for a Hugging Face
  ``Dataset.with_transform`` / ``set_transform``;
- :class:`GrainAugment` / :class:`GrainRandomAugment` (``confaug.integrations.grain``) — a
  ``grain.transforms.Map`` / ``RandomMap`` for JAX input pipelines.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "GrainAugment",
    "GrainRandomAugment",
    "HFTransform",
    "RayAugmenter",
    "hf_transform",
    "ray_augment",
    "to_keras",
    "to_tf",
    "to_torch",
]


def __getattr__(name: str) -> Any:
    # Each adapter module is imported when its name is first used, not with this package.
    if name == "to_keras":
        from confaug.integrations.keras import to_keras

        return to_keras
    if name == "to_torch":
        from confaug.integrations.torch import to_torch

        return to_torch
    if name == "to_tf":
        from confaug.integrations.tf import to_tf

        return to_tf
    if name in ("ray_augment", "RayAugmenter"):
        from confaug.integrations import ray

        return getattr(ray, name)
    if name in ("hf_transform", "HFTransform"):
        from confaug.integrations import hf_datasets

        return getattr(hf_datasets, name)
    if name in ("GrainAugment", "GrainRandomAugment"):
        from confaug.integrations import grain

        return getattr(grain, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
