"""Wrong arguments to the drop-in that leaked a dependency's error: confaug's words now."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from confaug.errors import DataError
from confaug.keras import ImageDataGenerator

X = np.zeros((2, 8, 8, 3), np.float32)


def _table(tmp_path: Path) -> tuple[Any, Path]:
    pd = pytest.importorskip("pandas", reason="pandas: flow_from_dataframe's tables")
    (tmp_path / "cat").mkdir()
    for i in range(2):
        cv2.imwrite(str(tmp_path / "cat" / f"{i}.png"), np.zeros((8, 8, 3), np.uint8))
    frame = pd.DataFrame({"filename": ["cat/0.png", "cat/1.png"], "class": ["a", "b"]})
    frame["score"] = [0.1, 0.2]
    return frame, tmp_path


@pytest.mark.parametrize(
    ("options", "error", "said"),
    [
        ({"x_col": "file"}, DataError, r"missing column\(s\) \['file'\]"),
        ({"x_col": "file", "y_col": "score", "class_mode": "raw"}, DataError, "missing column"),
        ({"y_col": None}, ValueError, "y_col=None: class_mode='categorical' reads labels"),
    ],
)
def test_table_arguments(tmp_path: Path, options: dict[str, Any], error: type, said: str) -> None:
    frame, root = _table(tmp_path)
    with pytest.raises(error, match=said):
        ImageDataGenerator().flow_from_dataframe(frame, str(root), target_size=(8, 8), **options)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"y": {"a": 1}}, "y is a single value"),
        ({"y": np.arange(2), "sample_weight": "a"}, "sample_weight is a single value"),
        ({"save_format": None}, "save_format=None: use png"),
    ],
)
def test_flow_arguments(tmp_path: Path, options: dict[str, Any], said: str) -> None:
    options = {**options, "save_to_dir": str(tmp_path)} if "save_format" in options else options
    with pytest.raises(ValueError, match=said):
        ImageDataGenerator().flow(X, **options)[0]


@pytest.mark.parametrize(
    ("x", "options", "error", "said"),
    [
        (X, {"augment": True, "rounds": 0}, ValueError, r"rounds=0; expected an int >= 1"),
        (X, {"augment": True, "seed": "a"}, ValueError, r"seed='a'; expected a non-negative"),
        (X[:0], {}, DataError, "fit needs a batch of at least one image"),
    ],
)
def test_fit_arguments(x: np.ndarray, options: dict[str, Any], error: type, said: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warning on the way
        with pytest.raises(error, match=said):
            ImageDataGenerator(featurewise_center=True).fit(x, **options)
