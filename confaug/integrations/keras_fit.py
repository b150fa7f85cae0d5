"""``model.fit(generator)``: a ``BatchGenerator`` is a ``keras.utils.PyDataset`` too when
Keras is loaded.

Keras' ``fit`` takes a ``PyDataset`` and nothing else of this shape, and confaug must not
import Keras for a generator that may never meet it. So when a generator is made while
Keras is already imported (as in any Keras script), it is an instance of a subclass with
``keras.utils.PyDataset`` as a second base (same name, built once per class): ``fit`` then
calls ``generator[i]`` — from ``generator.workers`` threads when there are more than one,
with OpenCV held at one thread — and ``on_epoch_end``, exactly as for ``as_keras()``. For
processes, or a generator made before Keras was imported, use ``generator.as_keras()``.

Nothing here imports Keras: it is only looked up in ``sys.modules``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from confaug.opencv_threads import one_thread

_BUILT: dict[type, type] = {}


def _keras_dataset_base() -> type | None:
    """``keras.utils.PyDataset`` when Keras is imported (and complete), else None."""
    keras = sys.modules.get("keras")
    base = getattr(getattr(keras, "utils", None), "PyDataset", None)
    return base if isinstance(base, type) else None


def fit_ready_class(cls: type) -> type:
    """``cls``, or its subclass that is also a ``keras.utils.PyDataset`` when Keras is
    loaded (see the module docstring)."""
    base = _keras_dataset_base()
    if base is None or issubclass(cls, base):
        return cls
    built = _BUILT.get(cls)
    if built is None:
        built = _BUILT[cls] = _with_base(cls, base)
    return built


def _with_base(cls: Any, base: type) -> type:
    plain_getitem = cls.__getitem__

    def __getitem__(self: Any, index: int) -> Any:
        if self.workers > 1:  # Keras' threads call this at once: one OpenCV thread each
            with one_thread():
                return plain_getitem(self, index)
        return plain_getitem(self, index)

    namespace = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "__getitem__": __getitem__,
        # Keras reads these; the generator's own workers and queue size are PyDataset's
        # (its __init__ sets them through PyDataset's setters). Threads only: a generator
        # holds locks and cannot be pickled into processes.
        "_use_multiprocessing": False,
    }
    return types.new_class(cls.__name__, (cls, base), exec_body=lambda ns: ns.update(namespace))


__all__ = ["fit_ready_class"]
