"""Hostile tables (issue 16): odd CSVs and DataFrames, paths out of ``directory``, NaN labels.

A problem of the whole table raises a ``DataError`` naming the file and line (or column) when
the generator is built; a problem of one row makes that row a sample that raises a
``DataError`` naming it when loaded, skipped and listed in ``gen.skipped`` with
``on_error="skip"``, while every other row is read exactly once per epoch.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from tests.helpers import (
    Identity,
    first_pixels,
    images,
    save_image,
    skipped_names,
    write_indexed_files,
)

COUNT = 6
COMMON: dict[str, Any] = {"target_size": (8, 8), "batch_size": 2, "shuffle": False, "epochs": 1}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``tmp_path/images``: img0.png … img5.png, flat images whose value is their index."""
    write_indexed_files(tmp_path / "images", COUNT, size=8, name="img{index}.png")
    return tmp_path / "images"


def _csv(path: Path, text: str | bytes) -> str:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return str(path)


def _rows(extra: str = "") -> str:
    lines = ["filename,class,score,w"]
    lines += [f"img{i}.png,{'ab'[i % 2]},{i / 10},1" for i in range(COUNT)]
    return "\n".join(lines) + "\n" + extra


def _flow(table: Any, folder: Path, **options: Any) -> Any:
    return confaug.load_pipeline({"version": 1}).flow_from_dataframe(
        table, directory=str(folder), **{**COMMON, **options}
    )


# ---- 14: rows of the wrong shape, missing values -------------------------------------------------
@pytest.mark.parametrize(
    ("change", "bad", "message"),
    [
        (
            {2: "img2.png,a,0.2,1,surplus"},
            "img2.png",
            r"row 2 \(line 4\): has 5 field\(s\), the header 4",
        ),
        ({3: "img3.png,b"}, "img3.png", r"row 3 \(line 5\): has 2 field\(s\), the header 4"),
        (
            {1: ",b,0.1,1"},
            "t.csv, row 1 (line 3)",
            r"row 1 \(line 3\): no file name in column 'filename'",
        ),
        (
            {1: "img\x001.png,b,0.1,1"},
            "img\x001.png",
            r"row 1 \(line 3\): file name .* NUL character",
        ),
    ],
)
@pytest.mark.parametrize("workers", [0, 2])
def test_a_malformed_csv_row_is_a_skippable_data_error_naming_it(
    tmp_path: Path,
    folder: Path,
    change: dict[int, str],
    bad: str,
    message: str,
    workers: int,
) -> None:
    lines = _rows().splitlines()
    for row, text in change.items():
        lines[1 + row] = text
    table = _csv(tmp_path / "t.csv", "\n".join(lines) + "\n")
    for class_mode in ("categorical", "raw", None):
        options = {"y_col": "score"} if class_mode == "raw" else {}
        with pytest.raises(confaug.DataError, match=message):
            list(_flow(table, folder, class_mode=class_mode, workers=workers, **options))
        generator = _flow(
            table, folder, class_mode=class_mode, on_error="skip", workers=workers, **options
        )
        (row,) = change
        assert Counter(first_pixels(generator)) == Counter(i for i in range(COUNT) if i != row)
        (name,) = skipped_names(generator)
        assert name == bad


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("class", ["a", None, "b", float("nan"), "a", "b"], "no label in column 'class'"),
        (
            "filename",
            [None, "img1.png", "img2.png", "img3.png", "img4.png", "img5.png"],
            "no file name in column 'filename'",
        ),
        (
            "filename",
            [float("nan"), "img1.png", "img2.png", "img3.png", "img4.png", "img5.png"],
            "no file name",
        ),
    ],
)
def test_missing_values_in_a_dataframe_are_skippable_rows(
    folder: Path, column: str, values: list[Any], message: str
) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {"filename": [f"img{i}.png" for i in range(COUNT)], "class": ["a", "b"] * 3}
    )
    frame[column] = values
    bad_rows = [row for row, value in enumerate(values) if value is None or value != value]
    with pytest.raises(confaug.DataError, match=message):
        list(_flow(frame, folder))
    generator = _flow(frame, folder, on_error="skip")
    assert Counter(first_pixels(generator)) == Counter(i for i in range(COUNT) if i not in bad_rows)
    assert len(generator.skipped) == len(bad_rows)
    assert all(message.split(" in ")[0] in reason for _, reason in generator.skipped)


def test_a_row_without_a_file_name_is_placed_once(
    tmp_path: Path, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Such a row is named by its place (``t.csv, row N (line L)``): the reason after it
    does not say the place again, in the error, in ``gen.skipped`` and in the log."""
    lines = _rows().splitlines()
    lines[1], lines[3] = ",b,0.1,1", ",a"  # rows 0 and 2: no name; row 2 also too short
    table = _csv(tmp_path / "t.csv", "\n".join(lines) + "\n")
    expected = {
        f"{table}, row 0 (line 2)": "no file name in column 'filename'",
        f"{table}, row 2 (line 4)": "has 2 field(s), the header 4",
    }
    with pytest.raises(confaug.DataError) as caught:
        list(_flow(table, folder))
    assert str(caught.value) in {f"{name}: {reason}" for name, reason in expected.items()}
    with caplog.at_level("WARNING", logger="confaug"):
        generator = _flow(table, folder, on_error="skip")
        list(generator)
    assert dict(generator.skipped) == expected
    logged = {r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping")}
    assert logged == {f"skipping {name}: {reason}" for name, reason in expected.items()}
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"filename": [None, "img1.png"], "class": ["a", "b"]})
    with pytest.raises(confaug.DataError) as caught:
        list(_flow(frame, folder))
    assert str(caught.value).endswith("row 0: no file name in column 'filename'")
    assert str(caught.value).count("row 0") == 1


# ---- 10: NaN and infinity in labels and weights ------------------------------------------------
@pytest.mark.parametrize("bad_value", ["nan", "inf", "-inf", ""])
@pytest.mark.parametrize("column", ["score", "w"])
def test_non_finite_labels_and_weights_name_their_row(
    tmp_path: Path, folder: Path, bad_value: str, column: str
) -> None:
    lines = _rows().splitlines()
    fields = lines[1 + 4].split(",")
    fields[2 if column == "score" else 3] = bad_value
    lines[1 + 4] = ",".join(fields)
    table = _csv(tmp_path / "t.csv", "\n".join(lines) + "\n")
    options = {"y_col": "score", "class_mode": "raw", "weight_col": "w"}
    with pytest.raises(confaug.DataError, match=rf"img4.png: row 4 \(line 6\): column '{column}'"):
        list(_flow(table, folder, **options))
    generator = _flow(table, folder, on_error="skip", **options)
    labels, weights, seen = [], [], []
    for x, y, w in generator:
        seen.extend(int(v) for v in x[:, 0, 0, 0])
        labels.extend(y.tolist())
        weights.extend(w.tolist())
    assert seen == [0, 1, 2, 3, 5]
    assert all(math.isfinite(v) for v in labels + weights)
    assert list(skipped_names(generator)) == ["img4.png"]


def test_nan_and_inf_in_dataframe_labels_are_refused_per_row(folder: Path) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "filename": [f"img{i}.png" for i in range(COUNT)],
            "a": [0.0, np.nan, 2.0, 3.0, 4.0, 5.0],
            "b": [0.0, 1.0, np.inf, 3.0, 4.0, 5.0],
        }
    )
    generator = _flow(frame, folder, y_col=["a", "b"], class_mode="raw", on_error="skip")
    seen = []
    for x, y in generator:
        assert np.isfinite(y).all()
        seen.extend(int(v) for v in x[:, 0, 0, 0])
    assert seen == [0, 3, 4, 5]
    assert sorted(skipped_names(generator)) == ["img1.png", "img2.png"]
    multi = _flow(frame, folder, y_col=["a", "b"], class_mode="multi_output", on_error="skip")
    assert first_pixels(multi) == [0, 3, 4, 5]


def test_a_non_numeric_weight_column_still_raises_keras_type_error(
    tmp_path: Path, folder: Path
) -> None:
    table = _csv(tmp_path / "t.csv", _rows().replace("img3.png,b,0.3,1", "img3.png,b,0.3,heavy"))
    with pytest.raises(TypeError, match=r"'w' must be numeric; row 3 has 'heavy'"):
        _flow(table, folder, weight_col="w")


# ---- 14: tables that cannot be read at all -------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_rows().replace("img2.png", "img2\xe9.png").encode("latin-1"), r"line 4: not UTF-8"),
        (_rows(f"img0.png,a,{'9' * 200_000},1\n").encode(), r"line 8: cannot parse \(field larger"),
        (b"filename,class,filename\nimg0.png,a,img1.png\n", r"column name\(s\) \['filename'\]"),
        (b"", r"missing column\(s\) \['filename', 'class'\]"),
    ],
)
def test_an_unreadable_table_raises_a_data_error_naming_file_and_line(
    tmp_path: Path, folder: Path, content: bytes, message: str
) -> None:
    table = _csv(tmp_path / "bad table.csv", content)
    with pytest.raises(confaug.DataError, match=message) as caught:
        _flow(table, folder)
    if "line" in message:
        assert "bad table.csv: line" in str(caught.value)


def test_repeated_dataframe_columns_are_a_data_error(folder: Path) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame([["img0.png", "a", "b"]], columns=["filename", "class", "class"])
    with pytest.raises(confaug.DataError, match=r"the DataFrame: column name\(s\) \['class'\]"):
        _flow(frame, folder)


def test_a_table_larger_than_its_limit_is_refused_before_reading(
    tmp_path: Path, folder: Path
) -> None:
    table = _csv(tmp_path / "t.csv", _rows())
    with pytest.raises(confaug.DataError, match=r"over the limit of 10 \(max_table_bytes\)"):
        _flow(table, folder, max_table_bytes=10)


# ---- 11: file names are confined to the directory -----------------------------------------------
@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.png"
    path.write_text("root:x:0:0:root:/root:/bin/bash\nTOKEN=hunter2\n")
    return path


@pytest.mark.parametrize("validate_filenames", [True, False])
def test_names_leading_out_of_the_directory_are_refused_rows(
    tmp_path: Path,
    folder: Path,
    secret: Path,
    monkeypatch: pytest.MonkeyPatch,
    validate_filenames: bool,
) -> None:
    from confaug.sources import dataframe, file_bytes

    opened: list[str] = []
    read = file_bytes.read_data_file

    def watched(path: Any, **options: Any) -> bytes:
        opened.append(str(path))
        return read(path, **options)

    monkeypatch.setattr("confaug.sources.decode.read_data_file", watched)
    looked_up: list[str] = []
    isfile = dataframe.os.path.isfile
    monkeypatch.setattr(dataframe.os.path, "isfile", lambda p: looked_up.append(p) or isfile(p))
    outside = ["../secret.png", str(secret), "a/../../secret.png", "/etc/passwd"]
    names = [f"img{i}.png" for i in range(COUNT - len(outside))] + outside
    table = _csv(tmp_path / "t.csv", "filename\n" + "\n".join(names) + "\n")
    options = {"class_mode": None, "validate_filenames": validate_filenames}
    with pytest.raises(confaug.DataError, match=r"leads outside the directory") as caught:
        list(_flow(table, folder, **options))
    assert "hunter2" not in str(caught.value) and "root:x" not in str(caught.value)
    generator = _flow(table, folder, on_error="skip", **options)
    assert Counter(first_pixels(generator)) == Counter(range(COUNT - len(outside)))
    assert len(generator.skipped) == len(outside)
    assert not [p for p in opened + looked_up if "secret" in p or "passwd" in p]


def test_names_outside_the_directory_are_read_when_the_caller_allows_it(
    tmp_path: Path, folder: Path
) -> None:
    save_image(tmp_path / "elsewhere" / "x.png", np.full((8, 8, 3), 9, np.uint8))
    table = _csv(tmp_path / "t.csv", "filename\n../elsewhere/x.png\nimg0.png\n")
    allowed = _flow(table, folder, class_mode=None, allow_outside_directory=True)
    assert first_pixels(allowed) == [9, 0]
    absolute = _csv(tmp_path / "abs.csv", f"filename\n{tmp_path / 'elsewhere' / 'x.png'}\n")
    keras_style = confaug.load_pipeline({"version": 1}).flow_from_dataframe(
        absolute, class_mode=None, **COMMON
    )  # no directory: the names are full paths, as in Keras
    assert first_pixels(keras_style) == [9]


def test_messages_never_quote_a_files_content(tmp_path: Path, folder: Path, secret: Path) -> None:
    (folder / "notes.png").write_bytes(secret.read_bytes())
    generator = _flow(
        _csv(tmp_path / "t.csv", "filename\nnotes.png\nimg0.png\n"),
        folder,
        class_mode=None,
        on_error="skip",
    )
    assert first_pixels(generator) == [0]
    ((_, reason),) = generator.skipped
    assert "not a recognised image format" in reason
    assert "root" not in reason and "hunter2" not in reason


def test_identity_pipeline_sees_bad_rows_too(tmp_path: Path, folder: Path) -> None:
    """The rule is the source's, not the pipeline's: any SamplePipeline gets the same rows."""
    from confaug.batching import flow_from_dataframe

    table = _csv(tmp_path / "t.csv", "filename\n/etc/passwd\nimg1.png\n")
    generator = flow_from_dataframe(
        Identity(), table, str(folder), class_mode=None, on_error="skip", **COMMON
    )
    assert first_pixels(generator) == [1] and len(generator.skipped) == 1


def test_images_helper_is_unchanged() -> None:
    assert images(1, 4).shape == (1, 4, 4, 3)
