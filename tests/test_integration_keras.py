"""``as_keras()``: a ``keras.utils.PyDataset`` that ``model.fit`` trains on.

In-process tests use whatever Keras backend the session has (other modules pin ``numpy``,
which cannot train); training runs in a subprocess with ``KERAS_BACKEND=jax``.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.integrations.keras import to_keras
from tests.helpers import images, run_python, write_images

os.environ.setdefault("KERAS_BACKEND", "numpy")
keras = pytest.importorskip("keras", reason="Keras is not installed: pip install -e '.[keras]'")

ROOT = Path(__file__).resolve().parents[1]
CONFIG: dict[str, Any] = {
    "version": 1,
    "rotation_range": 15,
    "horizontal_flip": True,
    "brightness_range": [0.7, 1.3],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("keras_folder")
    return write_images(top, images(20, 24, seed=1), classes=("b", "a"), suffix=".jpg")


def test_as_keras_serves_the_generators_batches_and_epochs() -> None:
    pipe = confaug.load_pipeline(CONFIG)
    generator = pipe.flow(images(10), np.arange(10), batch_size=4, seed=2)
    dataset = generator.as_keras(workers=3, use_multiprocessing=False, max_queue_size=5)
    assert isinstance(dataset, keras.utils.PyDataset)
    assert (dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size) == (3, False, 5)
    assert len(dataset) == dataset.num_batches == len(generator) == 3
    x, y = dataset[1]
    expected_x, expected_y = generator[1]
    assert np.array_equal(x, expected_x) and np.array_equal(y, expected_y)
    dataset.on_epoch_end()
    assert generator.epoch == 1
    assert not np.array_equal(dataset[1][0], x)


def test_keras_reads_identical_batches_with_thread_workers() -> None:
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    pipe = confaug.load_pipeline(CONFIG)

    def epoch(workers: int) -> list[Any]:
        generator = pipe.flow(images(18), np.arange(18), batch_size=4, seed=5)
        adapter = PyDatasetAdapter(to_keras(generator, workers=workers), shuffle=False)
        return list(adapter.get_numpy_iterator())

    one, three = epoch(1), epoch(3)
    assert len(one) == len(three) == 5
    for a, b in zip(one, three, strict=True):
        assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_as_keras_takes_the_generators_workers_by_default() -> None:
    pipe = confaug.load_pipeline(CONFIG)
    x, y = images(10), np.arange(10)
    threads = pipe.flow(x, y, batch_size=4, workers=2, max_queue_size=3).as_keras()
    assert (threads.workers, threads.use_multiprocessing, threads.max_queue_size) == (2, False, 3)
    main = pipe.flow(x, y, batch_size=4).as_keras()  # workers=0: Keras' own thread
    assert (main.workers, main.use_multiprocessing) == (1, False)
    processes = pipe.flow(x, y, batch_size=4, workers=2, worker_mode="process").as_keras()
    assert (processes.workers, processes.use_multiprocessing) == (2, True)
    mine = pipe.flow(x, y, batch_size=4, workers=2).as_keras(workers=1)
    assert mine.workers == 1  # Keras' options still win


def test_the_dataset_pickles_for_keras_worker_processes() -> None:
    pipe = confaug.load_pipeline(CONFIG)
    generator = pipe.flow(images(10), np.arange(10), batch_size=4, seed=2)
    generator.on_epoch_end()
    dataset = to_keras(generator, workers=2, use_multiprocessing=True)
    clone = pickle.loads(pickle.dumps(dataset))  # what a spawned Keras worker receives
    assert len(clone) == len(generator)
    for index in range(len(generator)):
        pairs = zip(clone[index], generator[index], strict=True)
        assert all(np.array_equal(a, b) for a, b in pairs)
    clone.on_epoch_end()
    generator.on_epoch_end()
    assert np.array_equal(clone[0][0], generator[0][0])


def test_a_generator_is_a_pydataset_when_keras_is_loaded() -> None:
    pipe = confaug.load_pipeline(CONFIG)
    generator = pipe.flow(images(10), np.arange(10), batch_size=4, seed=2, workers=2)
    assert isinstance(generator, keras.utils.PyDataset)
    assert isinstance(generator, confaug.batching.BatchGenerator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyDataset's "call super().__init__()" warning
        assert (generator.workers, generator.use_multiprocessing) == (2, False)
        assert generator.max_queue_size == 10 and generator.num_batches == len(generator) == 3
    x, y = generator[1]
    assert np.array_equal(y, generator[1][1]) and x.shape == (4, 16, 16, 3)
    code = """
        import sys, numpy as np, confaug
        gen = confaug.load_pipeline({"version": 1}).flow(np.zeros((2, 8, 8, 3), np.uint8))
        print("keras" in sys.modules, [c.__name__ for c in type(gen).__mro__])
    """
    done = run_python(textwrap.dedent(code), what="a generator without Keras")
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip().splitlines()[-1] == (
        "False ['BatchGenerator', 'ClosableRuns', 'object']"
    )


def test_a_missing_keras_names_the_extra() -> None:
    code = """
        import sys; sys.modules["keras"] = None
        import numpy as np, confaug
        gen = confaug.load_pipeline({"version": 1}).flow(np.zeros((2, 8, 8, 3), np.uint8))
        try:
            gen.as_keras()
        except ImportError as exc:
            print("ERROR", exc)
    """
    done = run_python(textwrap.dedent(code), what="as_keras without Keras")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("ERROR"))
    assert 'pip install "confaug[keras]"' in line, line


def test_to_keras_rejects_what_is_not_a_generator() -> None:
    with pytest.raises(TypeError, match="on_epoch_end"):
        to_keras([np.zeros((2, 4, 4, 3))])


TRAIN = """
import json, os, sys, threading
import numpy as np
import keras
import confaug

folder, workers, direct = sys.argv[1], int(sys.argv[2]), sys.argv[3:] == ["direct"]
pipe = confaug.load_pipeline({"version": 1, "rotation_range": 15, "horizontal_flip": True})
generator = pipe.flow_from_directory(
    folder, target_size=(24, 24), batch_size=6, seed=0, workers=workers
)
start = generator.epoch
threads = set()
made = confaug.batching.generator.require_batch  # called once per batch made


def spy(*args):
    threads.add(threading.current_thread() is threading.main_thread())
    return made(*args)


confaug.batching.generator.require_batch = spy
model = keras.Sequential([
    keras.Input((24, 24, 3)),
    keras.layers.Rescaling(1 / 255),
    keras.layers.Conv2D(4, 3, activation="relu"),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dense(2, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy")
steps = []


class Count(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        steps.append(batch)


history = model.fit(
    generator if direct else generator.as_keras(), epochs=1, verbose=0, callbacks=[Count()]
)
print(json.dumps({
    "backend": keras.backend.backend(),
    "loss": history.history["loss"],
    "steps": len(steps),
    "batches": len(generator),
    "epochs_moved": generator.epoch - start,
    "on_main_thread": sorted(threads),
}))
"""


@pytest.mark.keras
@pytest.mark.parametrize("how", ["as_keras", "direct"])
def test_model_fit_trains_one_epoch_on_a_folder_in_the_generators_workers(
    folder: Path, how: str
) -> None:
    pytest.importorskip("jax", reason="training needs a backend: pip install 'jax[cpu]'")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(TRAIN), str(folder), "2", how],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    assert result["batches"] == math.ceil(20 / 6)
    assert result["steps"] == result["batches"]
    assert len(result["loss"]) == 1 and math.isfinite(result["loss"][0])
    assert result["epochs_moved"] >= 1  # Keras' on_epoch_end reached the generator
    assert result["on_main_thread"] == [False]  # every batch made in a worker thread


def test_importing_the_adapters_imports_no_framework() -> None:
    code = """
        import json, sys
        import confaug, confaug.integrations
        import confaug.integrations.keras, confaug.integrations.torch
        import confaug.integrations.tf, confaug.integrations.ray
        import confaug.integrations.hf_datasets, confaug.integrations.grain
        import confaug.integrations.keras_fit, confaug.integrations.torch_epochs
        from confaug.integrations import to_keras, to_torch, to_tf, ray_augment, hf_transform
        heavy = {"keras", "torch", "tensorflow", "ray", "jax", "datasets", "grain"}
        print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & heavy)))
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
