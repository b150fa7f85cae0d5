"""Round 6 of the data probes: label lists of a table and the drop-in's save_prefix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import confaug
from confaug.keras import ImageDataGenerator


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a").mkdir()
    for index in range(3):
        Image.fromarray(np.full((8, 8, 3), 40 * index, np.uint8)).save(tmp_path / f"a/{index}.png")
    return tmp_path


def _table(first_label: object) -> pd.DataFrame:
    return pd.DataFrame(
        {"filename": ["a/0.png", "a/1.png", "a/2.png"], "class": [first_label, ["b"], ["a", "b"]]}
    )


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA], ids=["nan", "none", "na"])
def test_a_missing_item_in_a_label_list_is_a_bad_row_skippable_by_name(
    folder: Path, missing: object
) -> None:
    pipe = confaug.load_pipeline({"version": 1})
    table = _table(["a", missing])
    with pytest.raises(confaug.DataError, match=r"0\.png: row 0: the label list .* holds"):
        pipe.flow_from_dataframe(table, folder, target_size=(8, 8), batch_size=3, seed=0)[0]
    gen = pipe.flow_from_dataframe(
        table, folder, target_size=(8, 8), batch_size=3, seed=0, on_error="skip", shuffle=False
    )
    x, y = gen[0]
    assert len(x) == 2 and y.tolist() == [[0.0, 1.0], [1.0, 1.0]]  # rows 1 and 2
    assert [name.endswith("0.png") for name, _ in gen.skipped] == [True]


@pytest.mark.parametrize("odd", [1, b"b", ["b"]], ids=["int", "bytes", "list"])
def test_a_label_list_with_an_item_that_is_not_a_name_says_which_row(
    folder: Path, odd: object
) -> None:
    with pytest.raises(TypeError, match=r"row 0: class_mode='categorical' needs a list of strings"):
        ImageDataGenerator().flow_from_dataframe(
            _table(["a", odd]), str(folder), target_size=(8, 8)
        )


@pytest.mark.parametrize("prefix", ["../escaped", "a/b", "a\\b"])
def test_save_prefix_cannot_leave_save_to_dir(tmp_path: Path, prefix: str) -> None:
    x = np.zeros((2, 8, 8, 3), np.float32)
    with pytest.raises(ValueError, match=r"save_prefix=.*inside save_to_dir"):
        ImageDataGenerator().flow(x, batch_size=2, save_to_dir=tmp_path / "out", save_prefix=prefix)
    assert not list(tmp_path.parent.glob("escaped*"))


def test_save_prefix_of_another_type_is_formatted_as_keras_does(tmp_path: Path) -> None:
    x = np.zeros((2, 8, 8, 3), np.float32)
    gen = ImageDataGenerator().flow(
        x, batch_size=2, shuffle=False, save_to_dir=tmp_path, save_prefix=7
    )
    next(gen)
    assert sorted(path.name.split("_")[0] for path in tmp_path.iterdir()) == ["7", "7"]


def test_class_names_that_differ_only_in_spaces_or_number_spelling_are_warned_of(
    folder: Path,
) -> None:
    table = pd.DataFrame(
        {"filename": ["a/0.png", "a/1.png", "a/2.png"], "class": ["1", "1.0", "b "]}
    )
    with pytest.warns(UserWarning, match=r"differ only in spaces .*'1', '1\.0'"):
        gen = confaug.load_pipeline({"version": 1}).flow_from_dataframe(
            table, folder, target_size=(8, 8), class_mode="sparse", seed=0
        )
    assert sorted(gen.class_indices) == ["1", "1.0", "b "]  # still their own classes, as before


def test_distinct_class_names_are_not_warned_of(folder: Path) -> None:
    import warnings

    table = pd.DataFrame({"filename": ["a/0.png", "a/1.png", "a/2.png"], "class": ["1", "2", "b"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        confaug.load_pipeline({"version": 1}).flow_from_dataframe(
            table, folder, target_size=(8, 8), class_mode="sparse", seed=0
        )
