"""The drop-in's Keras-named iterator classes against Keras' own, side by side.

``Iterator`` (the base class of hand-written iterators) must hand out the same indices as
Keras' for the same seeds; ``NumpyArrayIterator``, ``DirectoryIterator`` and
``DataFrameIterator``, built with Keras' constructors, must give Keras' batches (without
augmentation, where both are exact) and be what the generator's ``flow*`` methods give.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("KERAS_BACKEND", "numpy")
legacy = pytest.importorskip(
    "keras.src.legacy.preprocessing.image",
    reason="Keras 3 (with jax or numpy as backend) is needed to compare with its iterators",
)
pd = pytest.importorskip("pandas")
import keras  # noqa: E402

import confaug.keras as image  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def assert_batches_equal(ours, theirs) -> None:
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for mine, keras_part in zip(ours, theirs, strict=True):
            assert_batches_equal(mine, keras_part)
        return
    assert np.asarray(ours).shape == np.asarray(theirs).shape
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=1e-6)


# ---- Iterator: the base class --------------------------------------------------------------
class _Indices:
    """A batch is its indices: the same subclass body on both Iterator classes."""

    def _get_batches_of_transformed_samples(self, index_array):
        return np.asarray(index_array).copy()


class OurIndices(_Indices, image.Iterator):
    pass


class KerasIndices(_Indices, legacy.Iterator):
    pass


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (8, 4), (5, 8)])
@pytest.mark.parametrize("seed", [None, 7])
def test_iterator_hands_out_keras_indices(n: int, batch_size: int, seed: int | None) -> None:
    np.random.seed(11)
    theirs = KerasIndices(n, batch_size, True, seed)
    keras_stream = [next(theirs).tolist() for _ in range(7)]
    keras_items = [theirs[i].tolist() for i in range(len(theirs))]
    np.random.seed(11)
    ours = OurIndices(n, batch_size, True, seed)
    assert [next(ours).tolist() for _ in range(7)] == keras_stream
    assert [ours[i].tolist() for i in range(len(ours))] == keras_items
    assert len(ours) == len(theirs)
    assert (ours.total_batches_seen, ours.batch_index) == (
        theirs.total_batches_seen,
        theirs.batch_index,
    )


def test_iterator_api_as_keras() -> None:
    ours = OurIndices(10, 4, False, None)
    assert iter(ours) is ours and ours.next().tolist() == [0, 1, 2, 3]
    ours.reset()
    assert next(ours).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="Asked to retrieve element 3"):
        ours[3]
    with pytest.raises(IndexError):  # confaug's own generators raise IndexError
        ours[3]
    for batch_size in (0, 32):  # an empty iterator still yields (empty) index batches
        assert next(image.Iterator(0, batch_size, False, 0).index_generator).size == 0
    with pytest.raises(NotImplementedError):
        next(image.Iterator(4, 2, False, None))


def test_iterator_subclasses_are_keras_datasets() -> None:
    from keras.src.trainers.data_adapters import get_data_adapter

    ours = OurIndices(5, 2, False, None, workers=1)
    assert isinstance(ours, keras.utils.PyDataset) and isinstance(ours, OurIndices)
    served = list(get_data_adapter(ours).get_numpy_iterator())  # each batch as (x,)
    assert [batch[0].tolist() for batch in served] == [[0, 1], [2, 3], [4]]


def test_flow_iterators_are_iterators_as_in_keras() -> None:
    flow = image.ImageDataGenerator().flow(np.zeros((4, 3, 3, 3)), batch_size=2)
    assert isinstance(flow, image.Iterator) and isinstance(flow, keras.utils.PyDataset)
    assert isinstance(image.NumpyArrayIterator(np.zeros((4, 3, 3, 3)), None, None), image.Iterator)


# ---- NumpyArrayIterator ------------------------------------------------------------------------
def test_numpy_array_iterator_equals_keras_and_flow() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (7, 5, 6, 3)).astype(np.float32)
    y, weights, extra = np.arange(7), np.linspace(1, 2, 7), rng.random(7)
    options = {"batch_size": 3, "sample_weight": weights}
    keyword_sets = [{}, {"rescale": 1 / 255}, {"validation_split": 0.3}]
    for keywords in keyword_sets:
        generator = image.ImageDataGenerator(**keywords)
        keras_generator = legacy.ImageDataGenerator(**keywords)
        for inputs in (x, (x, extra)):
            ours = image.NumpyArrayIterator(inputs, y, generator, **options)
            theirs = legacy.NumpyArrayIterator(inputs, y, keras_generator, **options)
            flowed = generator.flow(inputs, y, shuffle=False, **options)
            assert len(ours) == len(theirs) == len(flowed) and ours.n == theirs.n
            for i in range(len(ours)):
                assert_batches_equal(ours[i], theirs[i])
                assert_batches_equal(ours[i], flowed[i])
        assert ours.image_data_generator is generator and ours.shuffle is False


def test_numpy_array_iterator_takes_its_own_dtype_and_data_format() -> None:
    x = np.random.default_rng(1).integers(0, 256, (4, 5, 6, 3)).astype(np.float32)
    generator = image.ImageDataGenerator(rescale=1 / 255)
    ours = image.NumpyArrayIterator(x, None, generator, batch_size=4, dtype="float64")
    theirs = legacy.NumpyArrayIterator(
        x, None, legacy.ImageDataGenerator(rescale=1 / 255), batch_size=4, dtype="float64"
    )
    assert ours[0].dtype == theirs[0].dtype == np.float64
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert generator.spec.dtype == "float32"  # the generator itself is unchanged
    first = image.NumpyArrayIterator(
        x.transpose(0, 3, 1, 2), None, generator, batch_size=4, data_format="channels_first"
    )
    np.testing.assert_allclose(first[0], ours[0].transpose(0, 3, 1, 2), rtol=1e-6)
    with pytest.raises(TypeError, match=r"confaug\.keras\.ImageDataGenerator"):
        image.NumpyArrayIterator(x, None, legacy.ImageDataGenerator())


# ---- DirectoryIterator and DataFrameIterator --------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("classes")
    rng = np.random.default_rng(2)
    for label in ("cat", "dog"):
        (root / label).mkdir()
        for i in range(3):
            pixels = rng.integers(0, 256, (10 + i, 12, 3)).astype(np.uint8)
            Image.fromarray(pixels).save(root / label / f"{label}{i}.png")
    return root


def test_directory_iterator_equals_keras(folder: Path) -> None:
    options = {"target_size": (8, 9), "batch_size": 4, "shuffle": False}
    for class_mode in ("categorical", "sparse", "input", None):
        ours = image.DirectoryIterator(
            folder, image.ImageDataGenerator(), class_mode=class_mode, **options
        )
        theirs = legacy.DirectoryIterator(
            folder, legacy.ImageDataGenerator(), class_mode=class_mode, **options
        )
        assert ours.class_indices == theirs.class_indices and ours.filenames == theirs.filenames
        for i in range(len(theirs)):
            assert_batches_equal(ours[i], theirs[i])
        assert ours.image_shape == theirs.image_shape


def test_dataframe_iterator_equals_keras_with_keras_defaults(folder: Path) -> None:
    files = [f"{label}/{label}{i}.png" for label in ("cat", "dog") for i in range(3)]
    table = pd.DataFrame({"filename": files, "class": [f.split("/")[0] for f in files]})
    table["score"] = np.arange(6) * 0.5
    options = {"target_size": (8, 9), "batch_size": 4, "shuffle": False}
    for extra in ({}, {"class_mode": "raw", "y_col": "score"}, {"class_mode": "binary"}):
        ours = image.DataFrameIterator(table, str(folder), **options, **extra)
        theirs = legacy.DataFrameIterator(table, str(folder), **options, **extra)
        assert ours.n == theirs.n and ours.image_data_generator is None
        for i in range(len(theirs)):
            assert_batches_equal(ours[i], theirs[i])


def test_without_keras_the_classes_are_plain_python(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from confaug.keras import pydataset

    monkeypatch.setattr(pydataset, "_BUILT", {})  # forget the classes built with Keras
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras raises ImportError
    x = np.zeros((5, 3, 3, 3), np.float32)
    arrays = image.NumpyArrayIterator(x, np.arange(5), None, batch_size=2)
    assert type(arrays) is image.NumpyArrayIterator
    assert [batch[1].tolist() for batch in (arrays[0], arrays[2])] == [[0, 1], [4]]
    indices = OurIndices(5, 2, False, None)
    assert type(indices) is OurIndices and indices[2].tolist() == [4]
    with pytest.raises(TypeError):  # PyDataset's options need Keras
        OurIndices(5, 2, False, None, workers=2)
