"""``as_keras()``: a ``keras.utils.PyDataset`` that ``model.fit`` trains on.

In-process tests use whatever Keras backend the session has (other modules pin ``numpy``,
which cannot train); training runs in a subprocess with ``KERAS_BACKEND=jax``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.integrations.keras import to_keras
from tests.helpers import images, write_images

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


def test_to_keras_rejects_what_is_not_a_generator() -> None:
    with pytest.raises(TypeError, match="on_epoch_end"):
        to_keras([np.zeros((2, 4, 4, 3))])


TRAIN = """
import json, os, sys
import numpy as np
import keras
import confaug

folder, workers = sys.argv[1], int(sys.argv[2])
pipe = confaug.load_pipeline({"version": 1, "rotation_range": 15, "horizontal_flip": True})
generator = pipe.flow_from_directory(folder, target_size=(24, 24), batch_size=6, seed=0)
start = generator.epoch
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
    generator.as_keras(workers=workers), epochs=1, verbose=0, callbacks=[Count()]
)
print(json.dumps({
    "backend": keras.backend.backend(),
    "loss": history.history["loss"],
    "steps": len(steps),
    "batches": len(generator),
    "epochs_moved": generator.epoch - start,
}))
"""


@pytest.mark.keras
def test_model_fit_trains_one_epoch_on_a_folder(folder: Path) -> None:
    pytest.importorskip("jax", reason="training needs a backend: pip install 'jax[cpu]'")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(TRAIN), str(folder), "2"],
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


def test_importing_the_adapters_imports_no_framework() -> None:
    code = """
        import json, sys
        import confaug, confaug.integrations
        import confaug.integrations.keras, confaug.integrations.torch
        import confaug.integrations.tf, confaug.integrations.ray
        from confaug.integrations import to_keras, to_torch, to_tf, ray_augment
        heavy = {"keras", "torch", "tensorflow", "ray", "jax"}
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
