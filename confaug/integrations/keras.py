"""A ``keras.utils.PyDataset`` over a confaug batch generator, for ``model.fit``.

    model.fit(generator.as_keras(), epochs=10)   # or model.fit(generator): see keras_fit

Batch ``i`` of the dataset is ``generator[i]`` of the generator's current epoch, and Keras'
``on_epoch_end`` moves the generator to its next epoch, so every epoch gets a new order and
new augmentation, the same for any ``workers``. Keras shuffles the order in which it asks
for batches unless ``fit(..., shuffle=False)``; the batches' content does not change. (Keras 3
also signals an epoch end once when ``fit`` starts, so its first epoch uses the generator's
epoch 1; runs stay reproducible.)

Workers: by default the dataset uses the generator's own settings — ``workers=2`` threads
make Keras compute two batches at once (``workers=0`` or 1: Keras' main thread), a
``worker_mode="process"`` generator makes Keras use processes (``use_multiprocessing``),
and ``max_queue_size`` bounds how far ahead it works. While Keras' threads run, OpenCV is
held at one thread, as in the generator's own workers; a Keras worker process runs OpenCV on
one thread too.

Keras is imported when the first adapter is built, never when this module is imported.
"""

from __future__ import annotations

import os
from typing import Any

from confaug.integrations.frameworks import classes_on_first_use, import_keras
from confaug.integrations.plan import GeneratorPlan
from confaug.opencv_threads import keep_usable_across_fork, one_thread, one_thread_for_good

_CLASS_NAME = "GeneratorPyDataset"


class _Detached:
    """A generator's batches in another process: a pickled :class:`GeneratorPlan` at the
    epoch it was sent in (Keras sends the dataset again each epoch)."""

    def __init__(self, plan: GeneratorPlan, epoch: int) -> None:
        self.plan = plan
        self.epoch = epoch

    def __len__(self) -> int:
        return self.plan.num_batches

    def __getitem__(self, index: int) -> Any:
        return self.plan.batch(self.epoch, index).output()

    def on_epoch_end(self) -> None:
        self.epoch += 1


def _build_classes() -> dict[str, type]:
    import_keras()  # the install command when Keras (or its backend) is missing
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
            self._owner = os.getpid()
            keep_usable_across_fork()

        def __len__(self) -> int:
            return len(self.generator)

        def __getitem__(self, index: int) -> Any:
            if os.getpid() != self._owner:  # a Keras worker process
                _one_opencv_thread_in_this_process()
                return _as_tuple(self.generator[index])
            if self.workers > 1 and not self.use_multiprocessing:  # one of Keras' threads
                with one_thread():
                    return _as_tuple(self.generator[index])
            return _as_tuple(self.generator[index])

        def on_epoch_end(self) -> None:
            self.generator.on_epoch_end()

        def __getstate__(self) -> dict[str, Any]:
            # Keras' spawned worker processes receive the dataset pickled, and a
            # BatchGenerator holds threads and locks: they get its batches' plan instead.
            state = self.__dict__.copy()
            generator = state["generator"]
            if not isinstance(generator, _Detached):
                state["generator"] = _Detached(GeneratorPlan(generator), int(generator.epoch))
            return state

    return {_CLASS_NAME: GeneratorPyDataset}


_opencv_pid = 0


def _one_opencv_thread_in_this_process() -> None:
    global _opencv_pid
    if _opencv_pid != os.getpid():
        _opencv_pid = os.getpid()
        one_thread_for_good()


def _as_tuple(batch: Any) -> Any:
    return tuple(batch) if isinstance(batch, list) else batch  # Keras: (x, y[, w])


# The class is created on first use (importing Keras then) and found here by pickle.
__getattr__ = classes_on_first_use(__name__, (_CLASS_NAME,), _build_classes)


def to_keras(
    generator: Any,
    *,
    workers: int | None = None,
    use_multiprocessing: bool | None = None,
    max_queue_size: int | None = None,
) -> Any:
    """A ``keras.utils.PyDataset`` over ``generator`` (anything with ``len``, ``[i]`` and
    ``on_epoch_end``, such as a ``BatchGenerator``).

    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are Keras' own options; each
    defaults to the generator's (``workers``, ``worker_mode == "process"``,
    ``max_queue_size``). With ``workers > 1`` Keras calls ``generator[i]`` from that many
    threads (or processes, which receive the generator's batches pickled). Results do not
    depend on them.
    """
    for name in ("__len__", "__getitem__", "on_epoch_end"):
        if not hasattr(generator, name):
            raise TypeError(
                f"to_keras needs len(), [i] and on_epoch_end(); {generator!r} lacks {name}"
            )
    if workers is None:
        workers = max(1, int(getattr(generator, "workers", 1) or 1))
    if use_multiprocessing is None:
        processes = getattr(generator, "worker_mode", "thread") == "process"
        use_multiprocessing = processes and int(getattr(generator, "workers", 0) or 0) > 0
    if max_queue_size is None:
        max_queue_size = int(getattr(generator, "max_queue_size", 10) or 10)
    cls = globals().get(_CLASS_NAME) or __getattr__(_CLASS_NAME)
    return cls(
        generator,
        workers=workers,
        use_multiprocessing=use_multiprocessing,
        max_queue_size=max_queue_size,
    )


__all__ = ["to_keras"]
