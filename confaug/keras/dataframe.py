"""A ``flow_from_dataframe`` table read as Keras reads it, where confaug's source differs.

- Keras checks that ``weight_col`` is a numeric column before anything else
  (:func:`check_weight_column`).
- ``class_mode="raw"`` / ``"multi_output"`` targets are the table's own values in the
  column's dtype, and a column may hold one vector per row (:class:`TableTargets`).
  confaug's source turns targets into float32 and stacks the columns; so the drop-in gives
  the source the *row numbers* as its targets and takes each batch's targets from the
  DataFrame itself.
- A table with no usable row gives an empty iterator (:func:`has_no_usable_rows` tells
  that case from other errors).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from confaug.errors import DataError
from confaug.keras.image_utils import validate_filename
from confaug.sources.arrays import non_finite_rows
from confaug.sources.dataframe import names_no_column, read_table

#: Two float32 columns carry a row number: float32 holds every integer below 2**24 exactly.
ROW_COLUMNS = ("__confaug_row_div_2**24__", "__confaug_row_mod_2**24__")
_ROW_SPLIT = 2**24
CLASSIFICATION_MODES = ("categorical", "binary", "sparse")


def is_dataframe(table: Any) -> bool:
    """Whether ``table`` is a pandas DataFrame (Keras' input; CSV paths are confaug's)."""
    return hasattr(table, "columns") and hasattr(table, "iloc")


def check_weight_column(table: Any, weight_col: Any) -> None:
    """Keras' first check: a DataFrame's ``weight_col`` must have a numeric dtype."""
    if names_no_column(weight_col) or not is_dataframe(table) or weight_col not in table.columns:
        return
    dtype = table[weight_col].dtype
    if not issubclass(dtype.type, np.number):  # NumPy's and pandas' dtypes alike
        raise TypeError(
            f"weight_col={weight_col!r} holds {dtype} values, not numbers. "
            f"Column weight_col={weight_col} must be numeric."
        )


def has_no_usable_rows(
    table: Any,
    *,
    directory: str,
    x_col: Any,
    y_col: Any,
    classes: Sequence[str] | None,
    class_mode: str | None,
    validate_filenames: bool,
    extensions: tuple[str, ...],
) -> bool:
    """Whether no row survives Keras' filters: file names (when validated), then ``classes``."""
    columns = read_table(table) if not is_dataframe(table) else None

    def column(name: Any) -> list[Any]:
        if columns is None:
            return list(table[name].tolist())
        return columns[name]

    filtered = bool(classes) and class_mode in CLASSIFICATION_MODES
    names = table.columns if columns is None else columns
    if x_col not in names or (filtered and y_col not in names):
        # the source's error names the missing column (a CSV's too: not an empty table)
        return False
    files = column(x_col)
    if not all(isinstance(name, str) for name in files):
        return False  # the source reports that
    formats = tuple(ext.lower() for ext in extensions)
    rows = list(range(len(files)))
    if validate_filenames:
        rows = [r for r in rows if validate_filename(os.path.join(directory, files[r]), formats)]
    if rows and filtered:
        labels, wanted = column(y_col), set(classes or ())
        rows = [r for r in rows if set(_as_list(labels[r])) & wanted]
    return not rows


def _as_list(label: Any) -> list[Any]:
    return list(label) if isinstance(label, (list, tuple)) else [label]


def _refuse_non_finite(values: np.ndarray, column: str) -> None:
    """A ``DataError`` naming the first row whose number in ``column`` is NaN or infinite
    (the weights and confaug's own tables are checked so; Keras passes them on). Columns of
    text, or of other objects than numbers, are left as they are."""
    if values.dtype.kind == "O":
        try:
            values = np.asarray(values.tolist(), dtype=np.float64)
        except (TypeError, ValueError):
            return
    if values.dtype.kind not in "fc":
        return
    bad = non_finite_rows(values)
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"row {row}: column {column!r} holds {values[row].tolist()}; targets must be "
            f"finite ({len(bad)} row(s) are not)"
        )


class TableTargets:
    """``raw`` / ``multi_output`` targets straight from a DataFrame, as Keras gives them.

    ``raw``: ``df[y_col].values`` (one column, or a 2-D array of several), in the
    column's dtype. ``multi_output``: one array per column, ``np.array`` of the column's
    values (so a column of vectors gives a 2-D array). Used through :meth:`carrier`, whose
    table has the row numbers as the source's targets, and as the iterator's ``rebuild``.
    """

    def __init__(self, dataframe: Any, y_col: Any, class_mode: str) -> None:
        # A list (or tuple) is several columns; any other value is one label, a str or the
        # int of a header-less table (pandas' own labels, looked up as they are).
        several = isinstance(y_col, (list, tuple))
        if class_mode == "multi_output" and not several:
            raise TypeError(
                'class_mode="multi_output" needs y_col to be a list of columns. If '
                f'class_mode="multi_output", y_col must be a list. Received {type(y_col).__name__}.'
            )
        names = list(y_col) if several else [y_col]
        missing = [name for name in names if name not in dataframe.columns]
        if missing:
            raise DataError(f"missing column(s) {missing}; the table has {list(dataframe.columns)}")
        for name in names:  # a NaN target reaches the loss with nothing pointing at its row
            _refuse_non_finite(dataframe[name].to_numpy(), name)
        self._columns: list[np.ndarray] = []
        self._raw: np.ndarray | None = None
        if class_mode == "multi_output":
            self._columns = [dataframe[name].to_numpy() for name in names]
        else:
            self._raw = dataframe[names if several else y_col].to_numpy()

    @staticmethod
    def carrier(dataframe: Any, x_col: Any, weight_col: Any) -> dict[Any, list[Any]]:
        """The table the source reads: file names, weights and the two row-number columns."""
        wanted = [x_col] if names_no_column(weight_col) else [x_col, weight_col]
        missing = [name for name in wanted if name not in dataframe.columns]
        if missing:  # said as for y_col, before pandas' KeyError could say it
            raise DataError(f"missing column(s) {missing}; the table has {list(dataframe.columns)}")
        rows = np.arange(len(dataframe))
        table = {
            x_col: dataframe[x_col].tolist(),
            ROW_COLUMNS[0]: (rows // _ROW_SPLIT).tolist(),
            ROW_COLUMNS[1]: (rows % _ROW_SPLIT).tolist(),
        }
        if not names_no_column(weight_col):
            table[weight_col] = dataframe[weight_col].tolist()
        return table

    def take(self, rows: np.ndarray) -> Any:
        """The targets of these table rows."""
        if self._raw is not None:
            return self._raw[rows]
        return [np.array(column[rows].tolist()) for column in self._columns]

    def __call__(self, batch: tuple[Any, ...]) -> tuple[Any, ...]:
        """``(x, row numbers[, w])`` from the source → ``(x, targets[, w])``."""
        x, carried, *rest = batch
        return (x, self.take(rows_of(carried)), *rest)


def rows_of(carried: np.ndarray) -> np.ndarray:
    """Row numbers from the two float32 columns of :data:`ROW_COLUMNS`."""
    pairs = np.rint(np.asarray(carried, dtype=np.float64)).astype(np.int64).reshape(-1, 2)
    return pairs[:, 0] * _ROW_SPLIT + pairs[:, 1]
