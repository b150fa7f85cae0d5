"""A table of file names and labels as a source: a pandas DataFrame or a CSV file.

A CSV path is read with the csv module, so pandas is not needed; a DataFrame is read through
its own columns. Semantics follow Keras' ``flow_from_dataframe``.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from confaug.sources.base import split_bounds
from confaug.sources.decode import IMAGE_EXTENSIONS, DecodeOptions
from confaug.sources.errors import DataError
from confaug.sources.files import FileSource
from confaug.sources.labels import (
    CLASSIFICATION_MODES,
    DATAFRAME_CLASS_MODES,
    ClassLabels,
    RawLabels,
    check_class_mode,
    y_mode_of,
)

logger = logging.getLogger("confaug")

Table = dict[str, list[Any]]


def read_table(data: Any) -> Table:
    """Columns of a CSV path, a pandas DataFrame or a mapping of column → values."""
    if isinstance(data, (str, os.PathLike)):
        with open(data, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            columns = {name: [row[name] for row in rows] for name in (rows[0] if rows else {})}
        return columns
    if hasattr(data, "columns") and hasattr(data, "__getitem__"):  # a pandas DataFrame
        return {str(name): list(data[name].tolist()) for name in data.columns}
    if isinstance(data, Mapping):
        return {str(name): list(values) for name, values in data.items()}
    raise TypeError(f"expected a CSV path, a pandas DataFrame or a mapping; got {type(data)}")


class DataFrameSource(FileSource):
    """Rows of a table: image file in ``x_col``, labels in ``y_col``, weights in ``weight_col``.

    Attributes as Keras: ``filenames`` (``x_col`` values kept), ``filepaths``, ``classes``
    and ``class_indices`` (classification modes), ``labels``, ``samples``,
    ``invalid_filenames`` (rows dropped by ``validate_filenames``).
    """

    def __init__(
        self,
        dataframe: Any,
        *,
        decode: DecodeOptions,
        data_format: str = "channels_last",
        directory: str | os.PathLike[str] | None = None,
        x_col: str = "filename",
        y_col: str | Sequence[str] = "class",
        weight_col: str | None = None,
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        subset: str | None = None,
        validation_split: float = 0.0,
        validate_filenames: bool = True,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
    ) -> None:
        check_class_mode(class_mode, DATAFRAME_CLASS_MODES)
        if class_mode == "multi_output" and isinstance(y_col, str):
            raise TypeError('class_mode="multi_output" needs y_col to be a list of columns')
        table = read_table(dataframe)
        y_cols = [] if class_mode in ("input", None) else _as_list(y_col)
        _require_columns(table, [x_col, *y_cols, *([weight_col] if weight_col else [])])
        self.directory = os.fspath(directory) if directory is not None else ""
        files = table[x_col]
        for row, name in enumerate(files):
            if not isinstance(name, str):
                raise TypeError(f"row {row}: x_col={x_col!r} value {name!r} is not a string")
        rows = list(range(len(files)))
        self.invalid_filenames: list[str] = []
        if validate_filenames:
            suffixes = tuple(ext.lower() for ext in extensions)
            rows, self.invalid_filenames = _valid_rows(files, rows, self.directory, suffixes)
        labels: ClassLabels | RawLabels | None = None
        self.labels: Any = None
        if class_mode in CLASSIFICATION_MODES:
            rows, names = _filter_classes(table[str(y_col)], rows, classes, class_mode)
            self.class_indices = {name: index for index, name in enumerate(names)}
        if not rows:
            raise DataError("no usable rows: every file name was invalid or filtered out")
        start, stop = split_bounds(len(rows), subset, validation_split)
        rows = rows[start:stop]
        if class_mode in CLASSIFICATION_MODES:
            self.classes = _class_indices(table[str(y_col)], rows, self.class_indices)
            labels = ClassLabels(class_mode, self.classes, len(self.class_indices))
            self.labels = self.classes
        elif class_mode in ("raw", "multi_output"):
            columns = [_column_array(table[col], rows, col) for col in y_cols]
            values = np.stack(columns, axis=1) if not isinstance(y_col, str) else columns[0]
            self.labels = columns if class_mode == "multi_output" else values
            labels = RawLabels(self.labels)
        self.filenames = [files[row] for row in rows]
        weights = None
        if weight_col:
            weights = _column_array(table[weight_col], rows, weight_col, numeric=True)
        super().__init__(
            [os.path.join(self.directory, name) for name in self.filenames],
            decode=decode,
            data_format=data_format,
            labels=labels,
            y_mode=y_mode_of(class_mode),
            weights=weights,
        )

    @property
    def samples(self) -> int:
        """Number of samples."""
        return len(self.filenames)


def _valid_rows(
    files: list[str], rows: list[int], directory: str, suffixes: tuple[str, ...]
) -> tuple[list[int], list[str]]:
    """Rows whose file exists with an image suffix, and the names of the others."""
    kept, invalid = [], []
    for row in rows:
        if files[row].lower().endswith(suffixes) and os.path.isfile(
            os.path.join(directory, files[row])
        ):
            kept.append(row)
        else:
            invalid.append(files[row])
    if invalid:
        logger.warning(
            "ignoring %d row(s) whose file is missing or not an image, e.g. %s",
            len(invalid),
            ", ".join(invalid[:5]),
        )
    return kept, invalid


def _as_list(columns: str | Sequence[str]) -> list[str]:
    return [columns] if isinstance(columns, str) else list(columns)


def _require_columns(table: Table, names: list[str]) -> None:
    missing = [name for name in names if name not in table]
    if missing:
        raise DataError(f"missing column(s) {missing}; the table has {list(table)}")


def _filter_classes(
    labels: list[Any], rows: list[int], classes: Sequence[str] | None, class_mode: str
) -> tuple[list[int], list[str]]:
    """Rows whose label survives ``classes`` and the ordered class names."""
    allowed = (list, tuple) if class_mode == "categorical" else ()
    for row in rows:
        if not isinstance(labels[row], (str, *allowed)):
            kinds = "a string, list or tuple" if allowed else "a string"
            raise TypeError(
                f"row {row}: class_mode={class_mode!r} needs {kinds} label; got {labels[row]!r}"
            )
    if classes:
        names = list(dict.fromkeys(classes))
        rows = [row for row in rows if set(_label_list(labels[row])) & set(names)]
    else:
        names = sorted({name for row in rows for name in _label_list(labels[row])})
    if class_mode == "binary" and len(names) != 2:
        raise ValueError(f'class_mode="binary" needs exactly 2 classes; found {len(names)}')
    return rows, names


def _label_list(label: Any) -> list[str]:
    return list(label) if isinstance(label, (list, tuple)) else [label]


def _class_indices(labels: list[Any], rows: list[int], indices: dict[str, int]) -> list[Any]:
    encoded: list[Any] = []
    for row in rows:
        label = labels[row]
        if isinstance(label, (list, tuple)):
            encoded.append([indices[name] for name in label if name in indices])
        else:
            encoded.append(indices[label])
    return encoded


def _column_array(
    values: list[Any], rows: list[int], name: str, numeric: bool = False
) -> np.ndarray:
    """Values of ``rows``; numbers (also numeric CSV strings) become float32."""
    picked = [values[row] for row in rows]
    try:
        return np.asarray([float(value) for value in picked], dtype=np.float32)
    except (TypeError, ValueError):
        if numeric:
            row = next(row for row in rows if not _is_number(values[row]))
            raise TypeError(
                f"column {name!r} must be numeric; row {row} has {values[row]!r}"
            ) from None
        return np.asarray(picked, dtype=object) if picked else np.asarray(picked)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
