"""Lazy, offline import of albumentations.

albumentations asks the package index for updates on import unless
``NO_ALBUMENTATIONS_UPDATE`` is set, and imports PyTorch when it is installed; confaug
therefore never imports it at module level, only through :func:`albumentations`.
"""

from __future__ import annotations

import os
from functools import cache
from types import ModuleType


@cache
def albumentations() -> ModuleType:
    """Return the albumentations module, imported without any network access."""
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    import albumentations as A

    return A
