"""A ``keras.utils.PyDataset`` over a confaug batch generator, for ``model.fit``.

    model.fit(generator.as_keras(workers=2), epochs=10)

Batch ``i`` of the dataset is ``generator[i]`` of the generator's current epoch, and Keras'
``on_epoch_end`` moves the generator to its next epoch, so every epoch gets a new order and
new augmentation, the same for any ``workers``. Keras shuffles the order in which it asks
for batches unless ``fit(..., shuffle=False)``; the batches' content does not change. (Keras 3
also signals an epoch end once when ``fit`` starts, so its first epoch uses the generator's
epoch 1; runs stay reproducible.)

Keras is imported when the first adapter is built, never when this module is imported.
"""

from __future__ import annotations

from typing import Any

_CLASS_NAME = "GeneratorPyDataset"


def _build_class() -> type:
    import keras

    class GeneratorPyDataset(keras.utils.PyDataset):
        """Keras' view of a confaug ``BatchGenerator``: ``len``, ``[i]``, ``on_epoch_end``."""

        def __init__(
            self,
            generator: Any,
            *,
            workers: int = 1,
            use_multiprocessing: bool = False,
            max_queue_size: int = 10,
        ) -> None:
            super().__init__(
                workers=workers,
                use_multiprocessing=use_multiprocessing,
                max_queue_size=max_queue_size,
            )
            self.generator = generator

        def __len__(self) -> int:
            return len(self.generator)

        def __getitem__(self, index: int) -> Any:
            batch = self.generator[index]
            if isinstance(batch, list):  # Keras wants a tuple (x, y[, w])
                return tuple(batch)
            return batch

        def on_epoch_end(self) -> None:
            self.generator.on_epoch_end()

    GeneratorPyDataset.__module__ = __name__
    GeneratorPyDataset.__qualname__ = _CLASS_NAME
    return GeneratorPyDataset


def __getattr__(name: str) -> Any:
    # The class is created on first use (importing Keras then) and found here by pickle.
    if name == _CLASS_NAME:
        cls = _build_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_keras(
    generator: Any,
    *,
    workers: int = 1,
    use_multiprocessing: bool = False,
    max_queue_size: int = 10,
) -> Any:
    """A ``keras.utils.PyDataset`` over ``generator`` (anything with ``len``, ``[i]`` and
    ``on_epoch_end``, such as a ``BatchGenerator``).

    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are Keras' own options: with
    ``workers > 1`` Keras calls ``generator[i]`` from that many threads (or processes, which
    receive a pickled copy). Results do not depend on them.
    """
    for name in ("__len__", "__getitem__", "on_epoch_end"):
        if not hasattr(generator, name):
            raise TypeError(
                f"to_keras needs len(), [i] and on_epoch_end(); {generator!r} lacks {name}"
            )
    cls = globals().get(_CLASS_NAME) or __getattr__(_CLASS_NAME)
    return cls(
        generator,
        workers=workers,
        use_multiprocessing=use_multiprocessing,
        max_queue_size=max_queue_size,
    )


__all__ = ["to_keras"]
