"""The framework adapters of a drop-in iterator (``it.as_torch()``, ``as_tf()``, ``as_keras()``).

A flow whose labels or extra inputs the iterator puts together (``class_mode="raw"`` or
``"multi_output"``, ``flow((x, extra), y)``) carries sample indices in its generator's
batches: an adapter built on the generator would hand those on as labels. Such a flow
refuses the adapters; every other flow's adapters give the iterator's own labels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from confaug.errors import DataError
from confaug.keras import ImageDataGenerator

ADAPTERS = ["as_torch", "as_tf", "as_keras"]


def _images(count: int = 4) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (count, 8, 8, 3)).astype(np.float32)


def _frame_folder(tmp_path: Path) -> tuple[object, Path]:
    pd = pytest.importorskip("pandas", reason="pandas: flow_from_dataframe's tables")
    root = tmp_path / "images"
    root.mkdir()
    names = []
    for i, image in enumerate(_images().astype(np.uint8)):
        cv2.imwrite(str(root / f"{i}.png"), image)
        names.append(f"{i}.png")
    frame = pd.DataFrame({"filename": names, "score": [0.1, 0.2, 0.3, 0.4], "b": [1.0, 2, 3, 4]})
    return frame, root


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("class_mode", ["raw", "multi_output"])
def test_a_table_flow_whose_labels_the_iterator_builds_refuses_them(
    tmp_path: Path, adapter: str, class_mode: str
) -> None:
    frame, root = _frame_folder(tmp_path)
    y_col = "score" if class_mode == "raw" else ["score", "b"]
    flow = ImageDataGenerator().flow_from_dataframe(
        frame, str(root), y_col=y_col, class_mode=class_mode, target_size=(8, 8), shuffle=False
    )
    labels = flow[0][1]  # the iterator itself gives Keras' labels
    first = labels[0] if class_mode == "multi_output" else labels
    assert np.allclose(first, [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(TypeError, match=rf"{adapter}\(\) is not available for this flow"):
        getattr(flow, adapter)()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_flow_with_extra_inputs_refuses_them(adapter: str) -> None:
    x = _images()
    flow = ImageDataGenerator().flow((x, [np.arange(4.0)]), np.arange(4), shuffle=False)
    inputs, _ = flow[0]
    assert isinstance(inputs, list) and np.array_equal(inputs[1], np.arange(4.0))
    with pytest.raises(TypeError, match="extra_inputs"):
        getattr(flow, adapter)()


def test_a_plain_flow_hands_its_own_labels_to_torch() -> None:
    torch = pytest.importorskip("torch", reason="pip install torch==2.13.0 (the torch extra)")
    x, y = _images(), np.array([3, 1, 2, 0])
    flow = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    images, labels = next(iter(flow.as_torch()))
    assert isinstance(labels, torch.Tensor)
    assert labels.tolist() == flow[0][1].tolist() == y.tolist()
    assert tuple(images.shape) == (4, 3, 8, 8)


def test_to_torch_on_a_drop_in_iterator_goes_through_the_iterator(tmp_path: Path) -> None:
    """``integrations.torch.to_torch(it)`` reached the generator inside the iterator and
    handed its sample indices on as labels; it now asks the iterator, which refuses."""
    pytest.importorskip("torch", reason="pip install torch==2.13.0 (the torch extra)")
    from confaug.integrations.torch import to_torch

    frame, root = _frame_folder(tmp_path)
    flow = ImageDataGenerator().flow_from_dataframe(
        frame, str(root), y_col="score", class_mode="raw", target_size=(8, 8), shuffle=False
    )
    with pytest.raises(TypeError, match=r"as_torch\(\) is not available for this flow"):
        to_torch(flow)
    plain = ImageDataGenerator().flow(_images(), np.array([3, 1, 2, 0]), shuffle=False)
    assert next(iter(to_torch(plain)))[1].tolist() == [3, 1, 2, 0]


@pytest.mark.parametrize(
    ("y_col", "class_mode", "said"),
    [
        ("score", "raw", r"row 1: column 'score' holds nan"),
        (["a", "b"], "raw", r"row 2: column 'a' holds inf"),
        (["a", "b"], "multi_output", r"row 2: column 'a' holds inf"),
    ],
)
def test_non_finite_table_targets_are_refused_naming_the_row(
    tmp_path: Path, y_col: object, class_mode: str, said: str
) -> None:
    frame, root = _frame_folder(tmp_path)
    frame["score"] = [0.1, float("nan"), 0.3, 0.4]
    frame["a"] = [1.0, 2.0, float("inf"), 4.0]
    with pytest.raises(DataError, match=said):
        ImageDataGenerator().flow_from_dataframe(
            frame, str(root), y_col=y_col, class_mode=class_mode, target_size=(8, 8)
        )
    frame["text"] = list("wxyz")
    flow = ImageDataGenerator().flow_from_dataframe(
        frame, str(root), y_col="text", class_mode="raw", target_size=(8, 8), shuffle=False
    )
    assert flow[0][1].tolist() == list("wxyz")
