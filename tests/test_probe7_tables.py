"""Probe dropin7: tables with integer column names, a list y_col for a class mode, and a
listed class without a folder — the core flows and the Keras drop-in alike."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import confaug
from confaug.errors import DataError
from confaug.keras import ImageDataGenerator

pd = pytest.importorskip("pandas", reason="pandas: flow_from_dataframe's tables")

PIPE = confaug.load_pipeline({"version": 1})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, count in (("cat", 2), ("dog", 1)):
        (tmp_path / name).mkdir()
        for index in range(count):
            pixels = np.full((8, 8, 3), 60 * index + 20, np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{index}.png")
    return tmp_path


def _headerless() -> Any:
    """What ``pd.read_csv(path, header=None)`` gives: columns named 0, 1, 2."""
    return pd.DataFrame({0: ["cat/0.png", "dog/0.png"], 1: ["cat", "dog"], 2: [0.5, 2.0]})


def _core(table: Any, folder: Path, **options: Any) -> Any:
    return PIPE.flow_from_dataframe(table, folder, target_size=(8, 8), shuffle=False, **options)


def _dropin(table: Any, folder: Path, **options: Any) -> Any:
    generator = ImageDataGenerator()
    return generator.flow_from_dataframe(
        table, folder, target_size=(8, 8), shuffle=False, **options
    )


FLOWS = pytest.mark.parametrize("flow", [_core, _dropin], ids=["core", "dropin"])


# 1. Integer column names -------------------------------------------------------------------


@FLOWS
def test_integer_column_names_are_found_as_the_table_has_them(flow: Any, folder: Path) -> None:
    _, y, w = flow(_headerless(), folder, x_col=0, y_col=1, weight_col=2)[0]
    assert np.asarray(y).tolist() == [[1, 0], [0, 1]]
    assert np.asarray(w).tolist() == [0.5, 2.0]
    _, raw = flow(_headerless(), folder, x_col=0, y_col=2, class_mode="raw")[0]
    assert np.asarray(raw).tolist() == [0.5, 2.0]


@FLOWS
def test_a_weight_column_named_0_is_a_column_not_no_weights(flow: Any, folder: Path) -> None:
    table = pd.DataFrame({"f": ["cat/0.png", "dog/0.png"], "c": ["cat", "dog"], 0: [0.5, 2.0]})
    batch = flow(table, folder, x_col="f", y_col="c", weight_col=0)[0]
    assert len(batch) == 3 and np.asarray(batch[2]).tolist() == [0.5, 2.0]


@FLOWS
def test_a_missing_column_is_named_with_its_type(flow: Any, folder: Path) -> None:
    with pytest.raises(DataError) as caught:
        flow(_headerless(), folder, x_col="0", y_col=1)
    text = str(caught.value)
    # Not "missing ['0']; the table has ['0', ...]": the text '0' is not the column 0.
    assert "missing column(s) ['0']; the table has [0, 1, 2]" in text
    assert "'0' is not its column 0" in text


@FLOWS
def test_a_csv_files_text_names_still_work_and_numbers_are_told(flow: Any, folder: Path) -> None:
    csv = folder / "t.csv"
    csv.write_text("0,1\ncat/0.png,cat\n")
    _, y = flow(str(csv), folder, x_col="0", y_col="1")[0]
    assert np.asarray(y).tolist() == [[1]]
    with pytest.raises(DataError, match=r"missing column\(s\) \[0, 1\].*column names are text"):
        flow(str(csv), folder, x_col=0, y_col=1)


def test_an_unhashable_column_name_is_a_type_error_in_words(folder: Path) -> None:
    with pytest.raises(TypeError, match=r"column name \[0\] \(list\) names no column"):
        _core(_headerless(), folder, x_col=[0], y_col=1)


# 2. A list of columns as y_col for a class mode --------------------------------------------


@FLOWS
@pytest.mark.parametrize("class_mode", ["categorical", "binary", "sparse"])
def test_a_list_y_col_with_a_class_mode_is_a_type_error(
    flow: Any, folder: Path, class_mode: str
) -> None:
    table = pd.DataFrame(
        {"filename": ["cat/0.png", "dog/0.png"], "class": ["cat", "dog"], "w": [1.0, 2.0]}
    )
    with pytest.raises(
        TypeError,
        match=f"class_mode='{class_mode}' reads the class names from "
        r"one column.*\['class', 'w'\].*'raw' or 'multi_output'",
    ):
        flow(table, folder, y_col=["class", "w"], class_mode=class_mode)


# 4. A listed class without a folder --------------------------------------------------------


def _core_directory(directory: Path, **options: Any) -> Any:
    return PIPE.flow_from_directory(directory, target_size=(8, 8), shuffle=False, **options)


def _dropin_directory(directory: Path, **options: Any) -> Any:
    generator = ImageDataGenerator()
    return generator.flow_from_directory(directory, target_size=(8, 8), shuffle=False, **options)


DIRECTORY_FLOWS = pytest.mark.parametrize(
    "flow", [_core_directory, _dropin_directory], ids=["core", "dropin"]
)


@DIRECTORY_FLOWS
def test_a_listed_class_without_a_folder_is_an_empty_class(
    flow: Any, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="confaug"):
        gen = flow(folder, classes=["cat", "zebra", "dog"], class_mode="sparse")
    assert gen.class_indices == {"cat": 0, "zebra": 1, "dog": 2}
    assert list(gen.classes) == [0, 0, 2]
    assert np.asarray(gen[0][1]).tolist() == [0, 0, 2]
    assert any("zebra does not exist" in record.getMessage() for record in caplog.records)
    one_hot = flow(folder, classes=["cat", "zebra", "dog"])[0][1]
    assert np.asarray(one_hot).shape == (3, 3)  # the width of the training set's classes


@DIRECTORY_FLOWS
def test_a_missing_top_directory_is_still_refused(flow: Any, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere: no such directory"):
        flow(tmp_path / "nowhere", classes=["cat"])
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="file: not a directory"):
        flow(tmp_path / "file", classes=["cat"])


def test_the_dropin_gives_no_batches_when_no_listed_class_has_a_folder(folder: Path) -> None:
    gen = _dropin_directory(folder, classes=["zebra"])  # Keras: 0 images, 1 class
    assert len(gen) == 0 and gen.class_indices == {"zebra": 0}


def test_the_dropin_refuses_a_csv_without_the_named_column(folder: Path) -> None:
    csv = folder / "t.csv"
    csv.write_text("filename,class\ncat/0.png,cat\n")
    # was an empty iterator ("Found 0 validated image filenames"), the column never named
    with pytest.raises(DataError, match=r"t\.csv: missing column\(s\) \['file'\]"):
        _dropin(str(csv), folder, x_col="file")
    with pytest.raises(DataError, match=r"missing column\(s\) \['label'\]"):
        _dropin(str(csv), folder, y_col="label", classes=["cat"])
