"""Compiling (layer 3): a valid spec becomes a ``Pipeline``.

``build`` turns the spec into one ``albumentations.Compose`` (the Keras warp first, then the
listed steps, with the spec's shared border mode and interpolation); ``targets`` decides once
which albumentations targets exist and how labels travel; ``values`` maps the caller's dtype
and value range to the working range and back; ``pipeline`` is the object users hold. Every
decision that can be taken when a spec is compiled is taken here, not per image.
"""

from confaug.compiler.build import build_compose
from confaug.compiler.pipeline import Pipeline

__all__ = ["Pipeline", "build_compose"]
