"""Iterator classes that become ``keras.utils.PyDataset`` subclasses when Keras is installed.

``model.fit`` accepts a ``PyDataset`` (Keras 3) or ``Sequence`` (Keras 2) and nothing else
of this shape, but confaug must not import Keras before it is used. So a class is made a
``PyDataset`` at its first instance: :class:`PyDatasetWhenInstalled` hands out instances of
a subclass with Keras' base added (built once per class, same name), or of the class itself
when Keras is missing.
"""

from __future__ import annotations

import types
from typing import Any

_BUILT: dict[type, type] = {}


def keras_dataset_base() -> type | None:
    """``keras.utils.PyDataset`` (or Keras 2's ``Sequence``); None without Keras."""
    try:
        import keras
    except ImportError:
        return None
    utils = keras.utils
    base: type | None = getattr(utils, "PyDataset", None) or getattr(utils, "Sequence", None)
    return base


def with_dataset_base(cls: type, name: str | None = None) -> type:
    """A subclass of ``cls`` and Keras' dataset base (``cls`` itself without Keras)."""
    base = keras_dataset_base()
    if base is None or issubclass(cls, base):
        return cls
    name = name or cls.__name__
    namespace = {"__module__": cls.__module__, "__qualname__": name, "__doc__": cls.__doc__}
    # new_class picks the metaclass (an ABC's, say) as a class statement would
    return types.new_class(name, (cls, base), exec_body=lambda ns: ns.update(namespace))


class PyDatasetWhenInstalled:
    """Mixin: instances are ``keras.utils.PyDataset`` too when Keras is installed.

    The class's ``__init__`` must call ``super().__init__()`` so that ``PyDataset`` sets
    its defaults (workers, queue size) when it is a base.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        built = _BUILT.get(cls)
        if built is None:
            built = _BUILT[cls] = with_dataset_base(cls)
        return object.__new__(built)


#: Keras' ``PyDataset`` keywords, which the drop-in's flows and iterators accept as Keras'
#: do: how many workers ``model.fit`` asks for batches with, whether they are processes,
#: and how many batches they may prepare ahead.
DATASET_OPTIONS = ("workers", "use_multiprocessing", "max_queue_size")
