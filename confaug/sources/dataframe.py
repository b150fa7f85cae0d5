"""A table of file names and labels as a source: a pandas DataFrame or a CSV file.

A CSV path is read with the csv module, so pandas is not needed, through the sources' one
file reader (a regular file, at most ``max_table_bytes``); a DataFrame is read through its own
columns. Semantics follow Keras' ``flow_from_dataframe``. Tables come from other teams and
scrapes, so every problem is a :class:`DataError` (Keras' own ``TypeError`` for a column of the
wrong type aside) that names the file, line, column or row:

- a problem of the whole table (not UTF-8, a field beyond the csv module's limit, a NUL byte,
  a column name given twice, a missing column) raises when the source is built;
- a problem of one row (the wrong number of fields; no file name; a file name that leads
  outside ``directory``; a missing, NaN or infinite label or weight) makes that row a sample
  that cannot be loaded: loading it raises a DataError naming the row, and with
  ``on_error="skip"`` it is skipped and reported in ``gen.skipped`` like an unreadable file.

File names are confined to ``directory``: an absolute name outside it, or one that climbs out
of it with ``..``, is a bad row (and is never opened or even looked up) unless the caller passes
``allow_outside_directory=True``; an absolute name below ``directory`` is read as Keras reads
it. Without a ``directory`` names are used as given (Keras'
absolute paths). Messages quote a table's names and cells escaped, never a file's content.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from confaug.sources.base import split_bounds
from confaug.sources.decode import IMAGE_EXTENSIONS, DecodeOptions
from confaug.sources.errors import DataError, one_line, shown
from confaug.sources.file_bytes import DEFAULT_MAX_TABLE_BYTES, read_data_file
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


class Table(dict[Hashable, list[Any]]):
    """Columns by name. ``problems`` maps a row (0-based, header aside) to what is wrong with
    it; ``name`` is the CSV file's, ``lines`` the CSV line each row ends on.

    A name is the column's label as the table has it: a CSV header's text, a DataFrame's
    label of any type (``pd.read_csv(..., header=None)`` numbers its columns 0, 1, ...), so
    ``x_col=0`` finds the column ``0`` and never the text ``"0"`` (pandas tells them apart).
    """

    def __init__(
        self,
        columns: Mapping[Hashable, list[Any]],
        *,
        name: str | None = None,
        problems: Mapping[int, str] | None = None,
        lines: Sequence[int] | None = None,
    ) -> None:
        super().__init__(columns)
        self.name = name
        self.problems: dict[int, str] = dict(problems or {})
        self.lines = list(lines or [])

    def where(self, row: int) -> str:
        """``row N`` (with its CSV line when known), as messages name a row."""
        if row < len(self.lines):
            return f"row {row} (line {self.lines[row]})"
        return f"row {row}"


def read_table(data: Any, *, max_bytes: int | None = DEFAULT_MAX_TABLE_BYTES) -> Table:
    """Columns of a CSV path, a pandas DataFrame or a mapping of column → values.

    A CSV row with too few or too many fields is kept, padded with None or cut, and listed in
    ``Table.problems``; anything that spoils the whole table raises :class:`DataError`.
    """
    if isinstance(data, (str, os.PathLike)):
        return _read_csv(data, max_bytes)
    if hasattr(data, "columns") and hasattr(data, "__getitem__"):  # a pandas DataFrame
        # Labels are kept as they are (not str()): the caller names columns as pandas does.
        names = list(data.columns)
        _refuse_repeats(names, "the DataFrame")
        return Table({name: list(data[name].tolist()) for name in names})
    if isinstance(data, Mapping):
        return Table({name: list(values) for name, values in data.items()})
    raise TypeError(f"expected a CSV path, a pandas DataFrame or a mapping; got {type(data)}")


def _read_csv(path: str | os.PathLike[str], max_bytes: int | None) -> Table:
    name = shown(os.fspath(path))
    raw = read_data_file(path, max_bytes=max_bytes, option="max_table_bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{name}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save the table as UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    try:
        header = next(reader, [])
        for record in reader:
            if record:  # a blank line is no row, as csv.DictReader has it
                records.append((reader.line_num, record))
    except csv.Error as exc:
        raise DataError(f"{name}: line {reader.line_num}: cannot parse ({one_line(exc)})") from None
    if any("\0" in column for column in header):  # /proc/self/environ, a binary file
        raise DataError(f"{name}: line 1: the header holds a NUL character; not a CSV table")
    _refuse_repeats(header, name)
    width = len(header)
    columns: dict[Hashable, list[Any]] = {column: [] for column in header}
    problems: dict[int, str] = {}
    for row, (_, record) in enumerate(records):
        if len(record) != width:
            problems[row] = f"has {len(record)} field(s), the header {width}"
        values = record[:width] + [None] * (width - len(record))
        for column, value in zip(header, values, strict=True):
            columns[column].append(value)
    return Table(columns, name=name, problems=problems, lines=[line for line, _ in records])


def _refuse_repeats(names: Sequence[Hashable], where: str) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1}, key=str)
    if repeated:
        raise DataError(
            f"{where}: column name(s) {_columns_shown(repeated)} appear more than "
            "once; give every column its own name"
        )


def _column_shown(name: Hashable) -> str:
    """A column name as a message quotes it: text as ``'name'`` (escaped), another label as
    its repr (``0``), so the number 0 and the text "0" read differently, as they are."""
    return repr(shown(name)) if isinstance(name, str) else shown(repr(name))


def _columns_shown(names: Sequence[Hashable]) -> str:
    return "[" + ", ".join(_column_shown(name) for name in names) + "]"


def names_no_column(name: Any) -> bool:
    """Whether an optional column option (``weight_col``) names no column: None, or "" (as
    Keras' ``if weight_col``). A falsy label such as 0, ``pd.read_csv(header=None)``'s first
    column, is a column (Keras' test would drop its weights without a word)."""
    return name is None or (isinstance(name, str) and name == "")


class DataFrameSource(FileSource):
    """Rows of a table: image file in ``x_col``, labels in ``y_col``, weights in ``weight_col``.

    Attributes as Keras: ``filenames`` (``x_col`` values kept), ``filepaths``, ``classes``
    and ``class_indices`` (classification modes), ``labels``, ``samples``,
    ``invalid_filenames`` (rows dropped by ``validate_filenames``). Bad rows (see the module
    docstring) stay samples that raise when loaded; ``problems`` maps their index to why.
    """

    def __init__(
        self,
        dataframe: Any,
        *,
        decode: DecodeOptions,
        data_format: str = "channels_last",
        directory: str | os.PathLike[str] | None = None,
        x_col: Hashable = "filename",
        y_col: Hashable | Sequence[Hashable] = "class",
        weight_col: Hashable | None = None,
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        subset: str | None = None,
        validation_split: float = 0.0,
        validate_filenames: bool = True,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
        allow_outside_directory: bool = False,
        max_table_bytes: int | None = DEFAULT_MAX_TABLE_BYTES,
    ) -> None:
        check_class_mode(class_mode, DATAFRAME_CLASS_MODES)
        several = isinstance(y_col, (list, tuple))  # a list of columns; any other is a label
        if class_mode == "multi_output" and not several:
            raise TypeError('class_mode="multi_output" needs y_col to be a list of columns')
        if class_mode in CLASSIFICATION_MODES and several:
            # One column holds the class names; a list of columns would be looked up as one
            # name (Keras: a TypeError too, that the values are not strings).
            raise TypeError(
                f"class_mode={class_mode!r} reads the class names from one column, so y_col "
                f"must be one column name; got a list of columns {shown(repr(y_col))} (several "
                "columns of targets need class_mode='raw' or 'multi_output')"
            )
        weighted = not names_no_column(weight_col)
        table = read_table(dataframe, max_bytes=max_table_bytes)
        self.table_name = table.name or "the table"
        if y_col is None and class_mode not in ("input", None):
            raise ValueError(
                f"y_col=None: class_mode={class_mode!r} reads labels from a column; name it, "
                "or pass class_mode=None for images alone"
            )
        y_cols = [] if class_mode in ("input", None) else _as_list(y_col)
        _require_columns(table, [x_col, *y_cols, *([weight_col] if weighted else [])])
        self.directory = os.fspath(directory) if directory is not None else ""
        if self.directory and not os.path.isdir(self.directory):
            # Said at once: otherwise every row is "missing", which hides the cause.
            what = "not a directory" if os.path.exists(self.directory) else "no such directory"
            raise DataError(f"{shown(self.directory)}: {what}")
        confined = directory is not None and not allow_outside_directory
        #: What is wrong with each bad row, by row of the table.
        bad = {row: f"{table.where(row)}: {reason}" for row, reason in table.problems.items()}
        files = _file_names(table, x_col, bad, self.directory if confined else None)
        rows = list(range(len(files)))
        self.invalid_filenames: list[str] = []
        if validate_filenames:
            suffixes = tuple(ext.lower() for ext in extensions)
            rows, self.invalid_filenames = _valid_rows(files, rows, bad, self.directory, suffixes)
        labels: ClassLabels | RawLabels | None = None
        self.labels: Any = None
        if class_mode in CLASSIFICATION_MODES:
            column = y_cols[0]
            _mark_missing(table, column, rows, bad, "no label")
            _mark_missing_items(table, column, rows, bad)
            rows, names = _filter_classes(table[column], rows, bad, classes, class_mode)
            self.class_indices = {name: index for index, name in enumerate(names)}
        if not rows:
            raise DataError("no usable rows: every file name was invalid or filtered out")
        start, stop = split_bounds(len(rows), subset, validation_split)
        rows = rows[start:stop]
        if class_mode in CLASSIFICATION_MODES:
            self.classes = _class_indices(table[y_cols[0]], rows, bad, self.class_indices)
            labels = ClassLabels(class_mode, self.classes, len(self.class_indices))
            self.labels = self.classes
        elif class_mode in ("raw", "multi_output"):
            columns = [_column_array(table, col, rows, bad) for col in y_cols]
            values = _stacked(columns) if several else columns[0]
            self.labels = columns if class_mode == "multi_output" else values
            labels = RawLabels(self.labels)
        self.filenames = [files[row] for row in rows]
        weights = None
        if weighted:
            weights = _column_array(table, weight_col, rows, bad, numeric=True)
        self._row_names = {
            index: f"{self.table_name}, {table.where(row)}"
            for index, row in enumerate(rows)
            if not files[row]
        }
        super().__init__(
            [os.path.join(self.directory, name) for name in self.filenames],
            decode=decode,
            data_format=data_format,
            labels=labels,
            y_mode=y_mode_of(class_mode),
            weights=weights,
            problems={
                index: self._said_once(index, table.where(row), bad[row])
                for index, row in enumerate(rows)
                if row in bad
            },
        )

    def _said_once(self, index: int, where: str, reason: str) -> str:
        """A bad row's reason, less its leading ``row N (line L): `` when the row has no file
        name: the sample is then named by its place (``t.csv, row N (line L)``), which a
        message and the skip log would otherwise say twice."""
        if index in self._row_names:
            return reason.removeprefix(f"{where}: ")
        return reason

    @property
    def samples(self) -> int:
        """Number of samples."""
        return len(self.filenames)

    def describe(self, index: int) -> str:
        """The image file's path, or ``"<table>, row N"`` for a row without a file name."""
        return self._row_names.get(index) or self.filepaths[index]


def _file_names(
    table: Table, x_col: Hashable, bad: dict[int, str], confine: str | None
) -> list[str]:
    """``x_col`` of every row ("" where there is none); marks rows without a usable name.

    A value of another type than text raises TypeError (as Keras); a missing one, or with
    ``confine`` (the directory) one leading outside it, marks its row bad.
    """
    names: list[str] = []
    for row, value in enumerate(table[x_col]):
        if row in bad or _missing(value) or value == "":
            if row not in bad:
                bad[row] = f"{table.where(row)}: no file name in column {_column_shown(x_col)}"
            names.append(value if isinstance(value, str) else "")
            continue
        if not isinstance(value, str):
            raise TypeError(f"row {row}: x_col={x_col!r} value {_cell(value)} is not a string")
        if "\0" in value:
            bad[row] = f"{table.where(row)}: file name {_cell(value)} holds a NUL character"
        elif confine is not None and not _inside(value, confine):
            bad[row] = (
                f"{table.where(row)}: file name {_cell(value)} leads outside the directory "
                f"{shown(confine)!r} (pass allow_outside_directory=True to allow it)"
            )
        names.append(value)
    return names


def _inside(name: str, folder: str) -> bool:
    """Whether the file name ``name``, joined to ``folder``, stays inside it: a relative name
    that does not climb out with ``..``, or an absolute one below ``folder`` (Keras' join
    gives it as it is). Both by the names alone, nothing is looked up."""
    if os.path.isabs(name) or os.path.splitdrive(name)[0]:
        root = os.path.normpath(os.path.abspath(folder))
        try:
            return os.path.commonpath([root, os.path.normpath(name)]) == root
        except ValueError:  # another drive
            return False
    parts = os.path.normpath(name).split(os.sep)
    return parts[0] != ".." and (os.altsep is None or not name.startswith(os.altsep))


def _valid_rows(
    files: list[str],
    rows: list[int],
    bad: dict[int, str],
    directory: str,
    suffixes: tuple[str, ...],
) -> tuple[list[int], list[str]]:
    """Rows whose file exists with an image suffix (and the bad rows, which are reported
    when loaded, never looked up), and the names of the others."""
    kept, invalid, unlisted, missing = [], [], [], []
    for row in rows:
        if row in bad:
            kept.append(row)
        elif not files[row].lower().endswith(suffixes):
            unlisted.append(files[row])  # never looked up: say so, not "missing"
            invalid.append(files[row])
        elif os.path.isfile(os.path.join(directory, files[row])):
            kept.append(row)
        else:
            missing.append(files[row])
            invalid.append(files[row])
    if unlisted:
        found = sorted({os.path.splitext(name)[1].lower() or "(none)" for name in unlisted})
        logger.warning(
            "ignoring %d row(s) whose file extension is not read (%s; validate_filenames "
            "reads %s), e.g. %s",
            len(unlisted),
            shown(", ".join(found[:5])),
            ", ".join(suffixes),
            ", ".join(shown(name) for name in unlisted[:5]),
        )
    if missing:
        logger.warning(
            "ignoring %d row(s) whose file is missing (or is no file), e.g. %s",
            len(missing),
            ", ".join(shown(name) for name in missing[:5]),
        )
    return kept, invalid


def _as_list(columns: Hashable | Sequence[Hashable]) -> list[Hashable]:
    """``y_col`` as a list of column names: a list or tuple is several, anything else (a
    str, an int label) one."""
    return list(columns) if isinstance(columns, (list, tuple)) else [columns]


def _require_columns(table: Table, names: list[Hashable]) -> None:
    for name in names:
        try:
            hash(name)
        except TypeError:  # a list inside y_col's list, a list as x_col: no column's name
            raise TypeError(
                f"column name {name!r} ({type(name).__name__}) names no column: give a str, "
                "or the table's own label of another type (an int for a header-less table)"
            ) from None
    missing = [name for name in names if name not in table]
    if missing:
        where = table.name or "the table"
        raise DataError(
            f"{where}: missing column(s) {_columns_shown(missing)}; {_has(table, names)}"
            f"{_type_hint(table, missing)}"
        )


def _type_hint(table: Table, missing: list[Hashable]) -> str:
    """Why a name that reads like one of the table's columns is not it: its type differs
    (the number 0 and the text "0"). A CSV file's header is not quoted here (see
    :func:`_has`): that its names are text is said instead."""
    if table.name is not None:
        if any(not isinstance(name, str) for name in missing):
            return "; a CSV file's column names are text (its first line)"
        return ""
    by_text = {str(column): column for column in table}
    for name in missing:
        column = by_text.get(str(name))
        if column is not None:
            return (
                f"; columns are matched as the table names them: {_column_shown(name)} is not "
                f"its column {_column_shown(column)} ({type(name).__name__} vs "
                f"{type(column).__name__})"
            )
    return ""


#: Column names a message quotes, and how long each may be.
_QUOTED_COLUMNS, _QUOTED_NAME = 10, 40


def _has(table: Table, wanted: list[Hashable]) -> str:
    """The columns a table has, as a message may say them. A CSV file's header is quoted
    only when it parses as several columns (or is a column the caller named): a path given
    as the table by mistake (a ``.env``, a key file, ``/proc/self/stat``) mostly reads as one
    column, its first line, which is that file's content and never quoted. Names are
    escaped; a long one is counted, not quoted; at most ten are listed."""
    names = list(table)
    if table.name is not None and len(names) < 2 and not set(names) <= set(wanted):
        return (
            "its line 1 is one column, not quoted (a file that is no CSV table would show "
            "its content)"
        )
    shown_names = [
        name
        if not isinstance(name, str) or len(name) <= _QUOTED_NAME
        # (a long name is counted, and quoted as the names are)
        else f"<a name of {len(name)} characters>"
        for name in names[:_QUOTED_COLUMNS]
    ]
    more = f" and {len(names) - _QUOTED_COLUMNS} more" if len(names) > _QUOTED_COLUMNS else ""
    return f"the table has {_columns_shown(shown_names)}{more}"


def _mark_missing(
    table: Table, column: Hashable, rows: list[int], bad: dict[int, str], what: str
) -> None:
    """Mark the rows with no value in ``column``: a missing cell, or an empty or blank string
    (a CSV's empty field, which pandas would read as NaN)."""
    for row in rows:
        value = table[column][row]
        if row not in bad and (_missing(value) or (isinstance(value, str) and not value.strip())):
            bad[row] = f"{table.where(row)}: {what} in column {_column_shown(column)}"


def _mark_missing_items(
    table: Table, column: Hashable, rows: list[int], bad: dict[int, str]
) -> None:
    """Mark the rows whose label list holds a missing item (None, NaN: a JSON ``null`` or an
    empty field of a parsed list), as a missing label is a bad row."""
    for row in rows:
        value = table[column][row]
        if row not in bad and isinstance(value, (list, tuple)):
            missing = next((item for item in value if _missing(item)), _NO_ITEM)
            if missing is not _NO_ITEM:
                bad[row] = (
                    f"{table.where(row)}: the label list in column {_column_shown(column)} holds "
                    f"{_cell(missing)}: every item must be a class name"
                )


_NO_ITEM = object()


def _filter_classes(
    labels: list[Any],
    rows: list[int],
    bad: dict[int, str],
    classes: Sequence[str] | None,
    class_mode: str,
) -> tuple[list[int], list[str]]:
    """Rows whose label survives ``classes`` (bad rows stay) and the ordered class names."""
    allowed = (list, tuple) if class_mode == "categorical" else ()
    good = [row for row in rows if row not in bad]
    for row in good:
        if not isinstance(labels[row], (str, *allowed)):
            kinds = "a string, list or tuple" if allowed else "a string"
            raise TypeError(
                f"row {row}: class_mode={class_mode!r} needs {kinds} label; "
                f"got {_cell(labels[row])}"
            )
        # The items of a list are class names too: an int or bytes among strings could not
        # even be sorted with them (Python's TypeError, naming no row).
        odd = [item for item in _label_list(labels[row]) if not isinstance(item, str)]
        if odd:
            raise TypeError(
                f"row {row}: class_mode={class_mode!r} needs a list of strings; "
                f"{_cell(labels[row])} holds {_cell(odd[0])}"
            )
    if classes:
        names = list(dict.fromkeys(classes))
        rows = [row for row in rows if row in bad or set(_label_list(labels[row])) & set(names)]
    else:
        names = sorted({name for row in good for name in _label_list(labels[row])})
        _warn_lookalike_classes(names)
    if class_mode == "binary" and len(names) != 2:
        raise ValueError(f'class_mode="binary" needs exactly 2 classes; found {len(names)}')
    return rows, names


def _warn_lookalike_classes(names: list[str]) -> None:
    """Warn, once, when class names found in the table differ only by surrounding spaces or
    by how a number is written ("cat" and "cat ", "1" and "1.0"): each is a class of its own,
    which a hand-edited CSV rarely means."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(_lookalike_key(name), []).append(name)
    alike = [group for group in groups.values() if len(group) > 1]
    if alike:
        shown_groups = "; ".join(", ".join(_cell(name) for name in group) for group in alike[:3])
        warnings.warn(
            f"these class names differ only in spaces or in how a number is written, and each "
            f"is a class of its own: {shown_groups}"
            + (f" (and {len(alike) - 3} more groups)" if len(alike) > 3 else "")
            + "; clean the label column, or pass classes= to choose the classes",
            UserWarning,
            stacklevel=4,
        )


def _lookalike_key(name: str) -> str:
    text = name.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(number) if math.isfinite(number) else text


def _label_list(label: Any) -> list[str]:
    return list(label) if isinstance(label, (list, tuple)) else [label]


def _class_indices(
    labels: list[Any], rows: list[int], bad: dict[int, str], indices: dict[str, int]
) -> list[Any]:
    """Class indices of ``rows``; a bad row gets class 0, never used (it is not loaded)."""
    encoded: list[Any] = []
    for row in rows:
        label = labels[row]
        if row in bad:
            encoded.append(0)
        elif isinstance(label, (list, tuple)):
            encoded.append([indices[name] for name in label if name in indices])
        else:
            encoded.append(indices[label])
    return encoded


def _column_array(
    table: Table, name: Hashable, rows: list[int], bad: dict[int, str], *, numeric: bool = False
) -> np.ndarray:
    """Values of ``rows``: float32 when every value is a number (numeric CSV strings too),
    else objects (``numeric``: a TypeError naming the row). A missing, NaN or infinite
    number marks its row bad (it keeps 0, never used)."""
    values = table[name]
    numbers: dict[int, float] = {}
    for row in rows:
        if row in bad:
            continue
        value = values[row]
        try:
            numbers[row] = math.nan if _missing_number(value) else float(value)
        except (TypeError, ValueError):
            if numeric:
                raise TypeError(
                    f"column {_column_shown(name)} must be numeric; row {row} has {_cell(value)}"
                ) from None
            _mark_non_finite_arrays(table, name, rows, bad)
            # Text labels: a missing or empty cell is no label, as in a numeric column (and
            # as pandas reads a CSV's empty field, NaN), not the label "".
            _mark_missing(table, name, rows, bad, "no label")
            picked = [values[row] for row in rows]
            return np.asarray(picked, dtype=object) if picked else np.asarray(picked)
    what = "weights" if numeric else "labels"
    integers = not numeric and all(
        _integral(values[row]) for row, number in numbers.items() if math.isfinite(number)
    )
    for row, number in numbers.items():
        if not math.isfinite(number):
            bad[row] = (
                f"{table.where(row)}: column {_column_shown(name)} holds {_cell(values[row])}; "
                f"{what} must be finite numbers"
            )
        elif integers and not _INT64.min <= int(values[row]) <= _INT64.max:
            bad[row] = (
                f"{table.where(row)}: column {_column_shown(name)} holds {_cell(values[row])}, "
                "which does not fit int64"
            )
        elif not integers and not _fits_float32(number):
            # Checked after the cast: 1e39 is finite, its float32 is inf (a loss of inf).
            bad[row] = (
                f"{table.where(row)}: column {_column_shown(name)} holds {_cell(values[row])}, "
                f"which does not fit float32; {what} must be finite float32 numbers"
            )
    kept = [row for row in rows if row in numbers and row not in bad]
    if integers and kept:
        # Integer labels stay integers (float32 rounds past 2**24: 16777217 read 16777216.0)
        whole = {row: int(values[row]) for row in kept}
        return np.asarray([whole.get(row, 0) for row in rows], dtype=np.int64)
    finite = [numbers[row] if row in numbers and row not in bad else 0.0 for row in rows]
    return np.asarray(finite, dtype=np.float32)


_INT64 = np.iinfo(np.int64)


def _fits_float32(number: float) -> bool:
    """Whether a finite ``number`` stays finite as float32 (rounding to its largest value
    counts as fitting)."""
    with np.errstate(over="ignore"):
        return bool(np.isfinite(np.float32(number)))


def _stacked(columns: list[np.ndarray]) -> np.ndarray:
    """Raw label columns side by side. Integer columns with a float one are float32, as one
    float column is (NumPy would make int64 with float32 float64: a float32 model's loss
    then fails on the dtype)."""
    kinds = {column.dtype.kind for column in columns}
    if "f" in kinds and kinds <= {"f", "i"}:
        return np.stack(columns, axis=1).astype(np.float32)
    return np.stack(columns, axis=1)


def _integral(value: Any) -> bool:
    """An int (not a bool), or text that writes one (a CSV cell such as "17")."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


def _mark_non_finite_arrays(
    table: Table, name: Hashable, rows: list[int], bad: dict[int, str]
) -> None:
    """Mark the rows whose label is a list or array of numbers holding a NaN or an infinity
    (raw labels that are vectors), as a non-finite scalar label is."""
    for row in rows:
        value = table[name][row]
        if row in bad or not isinstance(value, (list, tuple, np.ndarray)):
            continue
        try:
            numbers = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):  # not numbers: passed on as they are
            continue
        if not np.isfinite(numbers).all():
            bad[row] = (
                f"{table.where(row)}: column {_column_shown(name)} holds {_cell(value)}; "
                "labels must be finite numbers"
            )


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA / NaT: a cell with no value."""
    if value is None:
        return True
    if isinstance(value, (str, list, tuple, np.ndarray)):
        return False
    try:
        return bool(value != value)  # NaN and NaT differ from themselves
    except (TypeError, ValueError):  # pandas.NA refuses to be a bool
        return True


def _missing_number(value: Any) -> bool:
    return _missing(value) or (isinstance(value, str) and not value.strip())


def _cell(value: Any) -> str:
    """A table cell as a message quotes it: its repr, escaped, at most 60 characters."""
    text = shown(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."
