"""``as_tf()``: a ``tf.data.Dataset`` with an output signature taken from the first batch.

The signature logic is tested without TensorFlow; the dataset itself where TensorFlow is
installed (``pip install tensorflow-cpu``, about 15 s here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import confaug
from confaug.batching.collate import PerSample
from confaug.integrations.tf import Leaf, as_structure, describe, epoch_batches
from tests.helpers import images, run_python

CONFIG: dict[str, Any] = {"version": 1, "rotation_range": 15, "horizontal_flip": True}
SIZE = (12, 14)  # height, width of the test images


# ---- the signature, without TensorFlow ----------------------------------------------------
def test_describe_keeps_structure_dtype_and_frees_the_batch_dimension() -> None:
    x = np.zeros((4, 12, 14, 3), np.uint8)
    y = np.zeros((4, 2), np.float32)
    w = np.ones(4, np.float64)
    assert describe(x) == Leaf((None, 12, 14, 3), np.dtype(np.uint8))
    assert describe((x, y, w)) == (
        Leaf((None, 12, 14, 3), np.dtype(np.uint8)),
        Leaf((None, 2), np.dtype(np.float32)),
        Leaf((None,), np.dtype(np.float64)),
    )
    multi = describe((x, [y, w]))  # Keras' multi_output: a list of arrays
    assert isinstance(multi[1], tuple) and len(multi[1]) == 2
    assert describe({"a": x})["a"].shape == (None, 12, 14, 3)


def test_describe_refuses_what_has_no_fixed_signature() -> None:
    with pytest.raises(TypeError, match="per-sample targets"):
        describe((np.zeros((2, 4, 4, 3)), {"bboxes": PerSample([[], [(0, 0, 1, 1)]])}))
    with pytest.raises(TypeError, match="scalar"):
        describe(np.float32(1))


def test_as_structure_turns_lists_into_tuples() -> None:
    x, y = np.zeros(2), np.ones(2)
    assert isinstance(as_structure([x, [y, y]]), tuple)
    assert isinstance(as_structure([x, [y, y]])[1], tuple)
    assert as_structure({"k": [x]})["k"][0] is x


def test_one_pass_is_one_epoch_and_only_a_complete_pass_moves_on() -> None:
    pipe = confaug.load_pipeline(CONFIG)
    generator = pipe.flow(images(10, SIZE), np.arange(10), batch_size=4, seed=1, workers=2)
    reference = pipe.flow(images(10, SIZE), np.arange(10), batch_size=4, seed=1)
    batches = list(epoch_batches(generator))
    assert generator.epoch == 1
    assert len(batches) == 3
    for index, (x, y) in enumerate(batches):
        assert np.array_equal(x, reference[index][0]) and np.array_equal(y, reference[index][1])
    partial = epoch_batches(generator)
    next(partial)
    partial.close()
    assert generator.epoch == 1


# ---- a real tf.data.Dataset -----------------------------------------------------------------
@pytest.fixture(scope="module")
def tf() -> Any:
    return pytest.importorskip(
        "tensorflow", reason="TensorFlow is not installed (pip install tensorflow-cpu)"
    )


def test_as_tf_has_the_signature_and_the_generators_batches(tf: Any) -> None:
    pipe = confaug.load_pipeline(CONFIG)
    generator = pipe.flow(images(10, SIZE), np.arange(10, dtype=np.int64), batch_size=4, seed=3)
    reference = pipe.flow(images(10, SIZE), np.arange(10, dtype=np.int64), batch_size=4, seed=3)
    dataset = generator.as_tf()
    x_spec, y_spec = dataset.element_spec
    assert x_spec.shape.as_list() == [None, 12, 14, 3] and x_spec.dtype == tf.uint8
    assert y_spec.shape.as_list() == [None] and y_spec.dtype == tf.int64
    assert int(dataset.cardinality()) == len(generator) == 3
    for epoch in (0, 1):
        got = [(x.numpy(), y.numpy()) for x, y in dataset]
        assert generator.epoch == epoch + 1
        assert len(got) == 3 and got[-1][0].shape[0] == 2  # the short last batch
        for index, (x, y) in enumerate(got):
            expected_x, expected_y = reference[index]
            assert np.array_equal(x, expected_x) and np.array_equal(y, expected_y)
        reference.on_epoch_end()


def test_as_tf_with_sample_weights_feeds_keras_style_tuples(tf: Any) -> None:
    pipe = confaug.load_pipeline(CONFIG)
    weights = np.linspace(0.5, 1.0, 8).astype(np.float32)
    generator = pipe.flow(
        images(8, SIZE),
        np.eye(2, dtype=np.float32)[np.arange(8) % 2],
        weights,
        batch_size=4,
        seed=0,
    )
    dataset = generator.as_tf()
    assert len(dataset.element_spec) == 3
    x, y, w = next(iter(dataset))
    assert x.shape == (4, 12, 14, 3) and y.shape == (4, 2) and w.dtype == tf.float32


def test_a_missing_tensorflow_names_the_extra() -> None:
    code = """
import sys; sys.modules["tensorflow"] = None
import numpy as np, confaug
gen = confaug.load_pipeline({"version": 1}).flow(np.zeros((2, 8, 8, 3), np.uint8))
try:
    gen.as_tf()
except ImportError as exc:
    print("ERROR", exc)
"""
    done = run_python(code, what="as_tf without TensorFlow")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("ERROR"))
    assert 'pip install "confaug[tf]"' in line, line
