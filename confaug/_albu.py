"""Lazy, offline import of albumentations, without PyTorch.

albumentations asks the package index for updates on import unless
``NO_ALBUMENTATIONS_UPDATE`` is set, and its ``__init__`` imports ``albumentations.pytorch``
(and so PyTorch, about two seconds) whenever torch is installed. confaug therefore never
imports it at module level, only through :func:`albumentations`, which sets the variable and
keeps ``albumentations.pytorch`` out of that first import: loading a config never imports
torch, and the transforms a config can name do not depend on whether torch is installed.
A program that wants ``albumentations.pytorch`` imports it itself; that still works.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from functools import cache
from types import ModuleType

_TORCH_PART = "albumentations.pytorch"


class _WithoutTorchPart(importlib.abc.MetaPathFinder):
    """Makes ``import albumentations.pytorch`` fail while albumentations itself is imported
    (its ``__init__`` catches the ImportError and goes on without it)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == _TORCH_PART:
            raise ImportError(f"{_TORCH_PART} is left out of confaug's import of albumentations")
        return None


@cache
def albumentations() -> ModuleType:
    """Return the albumentations module, imported without network access or PyTorch."""
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    if "albumentations" in sys.modules:
        return sys.modules["albumentations"]
    finder = _WithoutTorchPart()
    sys.meta_path.insert(0, finder)
    try:
        import albumentations as A
    finally:
        sys.meta_path.remove(finder)
    return A
