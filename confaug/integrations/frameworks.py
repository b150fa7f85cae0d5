"""The frameworks the adapters need, imported on first use, with the install command when
one is missing.

A bare ``ModuleNotFoundError: No module named 'torch'`` from deep inside an adapter does not
say that confaug has an extra for it; these functions raise a ``ModuleNotFoundError`` (an
``ImportError``) that names the adapter and the extra, e.g. ``pip install "confaug[torch]"``.
A framework that is installed but fails on import of one of its own dependencies keeps its
own error.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any


def missing_extra(
    error: ModuleNotFoundError, *, needed_by: str, package: str, extra: str, note: str = ""
) -> ModuleNotFoundError:
    """The error to raise when ``package`` (for ``needed_by``) cannot be imported."""
    detail = f" ({note})" if note else ""
    message = (
        f"{needed_by} needs {package}, which is not installed: "
        f'pip install "confaug[{extra}]"{detail}. The import failed with: {error}'
    )
    return ModuleNotFoundError(message, name=error.name)


def _is_missing(error: ModuleNotFoundError, *names: str) -> bool:
    """Whether ``error`` is about one of ``names`` itself, not one of its dependencies."""
    return (error.name or "").split(".")[0] in names


@contextmanager
def _naming_extra(
    owners: tuple[str, ...], *, needed_by: str, package: str, extra: str, note: str = ""
) -> Iterator[None]:
    """Turn a missing ``owners`` package inside the block into :func:`missing_extra`'s error;
    a dependency of theirs that is missing keeps its own error."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if not _is_missing(exc, *owners):
            raise
        raise missing_extra(
            exc, needed_by=needed_by, package=package, extra=extra, note=note
        ) from exc


def import_torch(needed_by: str = "as_torch()") -> ModuleType:
    """``torch``, or the error naming the ``torch`` extra."""
    with _naming_extra(("torch",), needed_by=needed_by, package="PyTorch", extra="torch"):
        import torch
    return torch


def import_keras(needed_by: str = "as_keras()") -> ModuleType:
    """``keras``, or the error naming the ``keras`` extra (Keras and a backend)."""
    with _naming_extra(
        ("keras", "jax", "jaxlib", "tensorflow", "torch"),
        needed_by=needed_by,
        package="Keras 3 and its backend",
        extra="keras",
        note="Keras with JAX: set KERAS_BACKEND=jax, or install the backend you chose",
    ):
        import keras
    return keras


def import_tensorflow(needed_by: str = "as_tf()") -> ModuleType:
    """``tensorflow``, or the error naming the ``tf`` extra."""
    with _naming_extra(("tensorflow",), needed_by=needed_by, package="TensorFlow", extra="tf"):
        import tensorflow
    return tensorflow


def import_grain(needed_by: str = "confaug.integrations.grain") -> ModuleType:
    """``grain``'s transforms module, or the error naming the ``grain`` extra."""
    with _naming_extra(("grain",), needed_by=needed_by, package="Grain", extra="grain"):
        import grain.transforms
    return grain.transforms


__all__ = [
    "import_grain",
    "import_keras",
    "import_tensorflow",
    "import_torch",
    "missing_extra",
]


def classes_on_first_use(
    module: str, names: tuple[str, ...], build: Callable[[], dict[str, type]]
) -> Callable[[str], Any]:
    """The ``__getattr__`` of adapter module ``module``, whose classes ``names`` subclass a
    framework's own and so are made by ``build`` on first use (importing the framework then,
    never when the module is imported). Each is published as ``module.NAME``, where pickle
    finds it. Built once, under a lock: threads asking at once get the same classes, as
    pickle needs the class it finds by name to be the instance's."""
    lock = threading.RLock()

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        namespace = vars(sys.modules[module])
        with lock:
            if name not in namespace:
                for key, cls in build().items():
                    cls.__module__, cls.__qualname__ = module, key
                    namespace[key] = cls
        return namespace[name]

    return __getattr__
