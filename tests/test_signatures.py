"""Real signatures on the generator factory and its façades, and keyword typos with a hint.

``batching.factory`` owns the signatures; ``Pipeline.flow*``/``wrap`` are those functions
bound to the pipeline and ``confaug.flow*``/``wrap`` mirror them with the data first. The
Keras drop-in keeps Keras' keywords, passes ``workers``/``use_multiprocessing``/
``max_queue_size`` to the ``PyDataset`` that ``model.fit`` reads, and refuses a misspelt
keyword with a did-you-mean hint too.
"""

from __future__ import annotations

import inspect
import os
import pydoc
from pathlib import Path

import numpy as np
import pytest

import confaug
from confaug.batching import factory
from confaug.batching.generator import BatchGenerator
from confaug.keras import ImageDataGenerator
from confaug.keras.iterator_classes import DataFrameIterator, DirectoryIterator
from tests.helpers import marked_images, run_python, write_class_folders

os.environ.setdefault("KERAS_BACKEND", "numpy")  # as the other drop-in tests: no training here

FLOWS = ("flow", "flow_from_directory", "flow_from_dataframe")


@pytest.fixture(scope="module")
def pipe() -> confaug.Pipeline:
    return confaug.load_pipeline({"version": 1, "horizontal_flip": True})


def _generator_keywords() -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(BatchGenerator.__init__).parameters.values()
    return {p.name: p for p in parameters if p.kind is p.KEYWORD_ONLY}


def test_generator_options_are_the_generators_keywords() -> None:
    keywords = _generator_keywords()
    assert set(factory.GeneratorOptions.__annotations__) == set(keywords)
    for name, annotation in factory.GeneratorOptions.__annotations__.items():
        written = getattr(annotation, "__forward_arg__", annotation)  # a string, as written
        assert written == keywords[name].annotation, name


@pytest.mark.parametrize("name", FLOWS)
def test_flow_methods_show_every_option_with_its_default(pipe: confaug.Pipeline, name: str) -> None:
    shown = inspect.signature(getattr(pipe, name)).parameters
    assert "pipeline" not in shown and not any(p.kind is p.VAR_KEYWORD for p in shown.values())
    for option, parameter in _generator_keywords().items():
        assert shown[option].kind is inspect.Parameter.KEYWORD_ONLY
        assert shown[option].default == parameter.default
        assert shown[option].annotation is not inspect.Parameter.empty
    # the module-level functions: the data first, then the pipeline, then the same options
    public = list(inspect.signature(getattr(confaug, name)).parameters)
    assert public[1] == "pipeline" and public[2:] == list(shown)[1:]
    assert public[0] == next(iter(shown))


def test_help_shows_the_options_and_the_docstring(pipe: confaug.Pipeline) -> None:
    text = pydoc.render_doc(pipe.flow_from_directory, renderer=pydoc.plaintext)
    for expected in ("directory", "target_size", "mask_pattern", "batch_size", "workers"):
        assert expected in text
    assert "one subfolder per class" in text
    public = pydoc.render_doc(confaug.flow_from_directory, renderer=pydoc.plaintext)
    assert "pipeline" in public and "batch_size" in public and "**options" not in public


def test_wrap_shows_its_keywords(pipe: confaug.Pipeline) -> None:
    shown = inspect.signature(pipe.wrap).parameters
    assert list(shown) == [
        "iterable",
        "seed",
        "masks_in_y",
        "workers",
        "worker_mode",
        "start_method",
        "max_queue_size",
    ]
    assert list(inspect.signature(confaug.wrap).parameters)[:2] == ["iterable", "pipeline"]


def test_stream_options_are_the_streams_keywords() -> None:
    from confaug.batching.stream import AugmentedStream

    parameters = inspect.signature(AugmentedStream.__init__).parameters.values()
    keywords = {p.name: p for p in parameters if p.kind is p.KEYWORD_ONLY}
    assert list(factory.StreamOptions.__annotations__) == list(keywords)
    for name, annotation in factory.StreamOptions.__annotations__.items():
        assert getattr(annotation, "__forward_arg__", annotation) == keywords[name].annotation


def test_the_data_and_the_pipeline_by_keyword_say_how_to_call(pipe: confaug.Pipeline) -> None:
    x = marked_images(2)
    with pytest.raises(TypeError, match=r"\(not x= and pipeline=\): confaug\.flow\(x, pipeline"):
        confaug.flow(x=x, pipeline=pipe)
    with pytest.raises(TypeError, match=r"wrap\(\) takes iterable and pipeline first"):
        confaug.wrap([x], pipeline=pipe)
    assert len(confaug.flow(x, pipe, None, None, batch_size=1)) == 2  # y and weights by position


def test_a_dataset_option_without_keras_says_it_needs_keras(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from confaug.keras import pydataset
    from confaug.keras.iterator_base import Iterator

    class Indices(Iterator):
        def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> np.ndarray:
            return index_array

    monkeypatch.setattr(pydataset, "_BUILT", {})
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras raises ImportError
    with pytest.raises(TypeError, match=r"workers= are options of keras.utils.PyDataset.*Keras"):
        Indices(5, 2, False, None, workers=2)
    with pytest.raises(TypeError, match="did you mean 'workers'"):
        Indices(5, 2, False, None, worker=2)


def test_pipeline_methods_are_the_factory_functions(pipe: confaug.Pipeline) -> None:
    assert confaug.Pipeline.flow is factory.flow
    assert pipe.flow_from_dataframe.__func__ is factory.flow_from_dataframe
    assert pipe.wrap.__self__ is pipe


def test_a_misspelt_option_names_the_right_one(pipe: confaug.Pipeline, tmp_path: Path) -> None:
    x = marked_images(4)
    with pytest.raises(TypeError, match=r"'batchsize' \(did you mean 'batch_size'\?\)"):
        pipe.flow(x, batchsize=2)
    with pytest.raises(TypeError, match=r"'shufle' \(did you mean 'shuffle'\?\)"):
        confaug.flow(x, pipe, shufle=False)
    folder = write_class_folders(tmp_path / "data", {"a": 1, "b": 1})
    with pytest.raises(TypeError, match=r"'target_sizes' .*'target_size'.*'worker' .*'workers'"):
        pipe.flow_from_directory(folder, target_sizes=(8, 8), worker=2)
    with pytest.raises(TypeError, match="did you mean 'workers'"):
        pipe.wrap([x], worker=2)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'zzz'$"):
        pipe.flow(x, zzz=1)  # nothing close: no hint


def test_the_options_given_still_reach_the_generator(pipe: confaug.Pipeline) -> None:
    generator = confaug.flow(marked_images(6), pipe, batch_size=4, drop_last=True, seed=3)
    assert (generator.batch_size, generator.drop_last, generator.seed, len(generator)) == (
        4,
        True,
        3,
        1,
    )


# ---- the Keras drop-in ------------------------------------------------------------------------


def test_dropin_flows_refuse_typos_with_a_hint(tmp_path: Path) -> None:
    datagen = ImageDataGenerator(horizontal_flip=True)
    x, y = marked_images(4).astype("float32"), np.arange(4) % 2
    with pytest.raises(TypeError, match=r"flow\(\) .*'batchsize' \(did you mean 'batch_size'"):
        datagen.flow(x, y, batchsize=2)
    folder = write_class_folders(tmp_path / "data", {"a": 2, "b": 2})
    with pytest.raises(TypeError, match="did you mean 'interpolation'"):
        datagen.flow_from_directory(folder, interpolaton="bilinear")
    with pytest.raises(TypeError, match="did you mean 'max_queue_size'"):
        datagen.flow(x, y, max_queue=4)
    # Keras' keywords, confaug's generator options and max_pixels are all still accepted
    it = datagen.flow_from_directory(
        folder, target_size=(8, 8), batch_size=2, drop_last=True, max_pixels=10_000
    )
    assert len(it) == 2


def test_dropin_workers_are_the_datasets_and_the_generators(tmp_path: Path) -> None:
    datagen = ImageDataGenerator()
    x, y = marked_images(8).astype("float32"), np.arange(8) % 2
    it = datagen.flow(x, y, batch_size=2, workers=2, max_queue_size=3)
    assert (it.workers, it.max_queue_size, it.use_multiprocessing) == (2, 3, False)
    assert it._generator.workers == 2 and it._generator.max_queue_size == 3
    processes = datagen.flow(x, y, workers=2, use_multiprocessing=True)
    assert processes.use_multiprocessing and processes._generator.worker_mode == "process"
    default = datagen.flow(x, y)
    assert (default.workers, default._generator.workers) == (1, 0)  # Keras' own default
    folder = write_class_folders(tmp_path / "data", {"a": 2, "b": 2})
    direct = DirectoryIterator(folder, datagen, target_size=(8, 8), workers=3)
    assert direct.workers == 3 and direct._generator.workers == 3
    table = str(tmp_path / "t.csv")
    Path(table).write_text("filename,class\na/img000.png,a\nb/img002.png,b\n", encoding="utf-8")
    frame = DataFrameIterator(table, str(folder), target_size=(8, 8), max_queue_size=5)
    assert frame.max_queue_size == 5


FIT_IN_WORKERS = """
import os, sys, threading
os.environ["KERAS_BACKEND"] = "jax"  # a backend that trains (the suite pins numpy in-process)
from multiprocessing.dummy import DummyProcess
import numpy as np
import keras
from confaug.keras import ImageDataGenerator

workers = int(sys.argv[1])
x = np.zeros((16, 8, 8, 3), np.float32)
y = np.arange(16) % 2
it = ImageDataGenerator(horizontal_flip=True).flow(x, y, batch_size=4, workers=workers)
pool_threads = []
cls = type(it)
plain = cls.__getitem__


def spy(self, index):
    # Keras' worker pool for workers > 1 is multiprocessing.dummy's (DummyProcess threads);
    # with workers=1 it asks for batches from its own data thread only.
    pool_threads.append(isinstance(threading.current_thread(), DummyProcess))
    return plain(self, index)


cls.__getitem__ = spy
model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(it, epochs=1, verbose=0)
print("pool threads:", any(pool_threads))
"""


@pytest.mark.parametrize(("workers", "pool"), [(2, True), (1, False)])
def test_model_fit_loads_batches_in_the_drop_ins_workers(workers: int, pool: bool) -> None:
    pytest.importorskip("keras")
    pytest.importorskip("jax", reason="training needs a backend: pip install 'jax[cpu]'")
    done = run_python(FIT_IN_WORKERS, str(workers), what="model.fit on the drop-in")
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"pool threads: {pool}" in done.stdout
