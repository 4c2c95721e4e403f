"""Write layouts (a stream of typed frames) as CSV, XLSX, Stata, SPSS or Parquet.

CSV and Parquet are written chunk by chunk (memory flat in the number of patients); XLSX rows are
written as they come (write-only workbook); Stata and SPSS need the whole frame at once. Stata
and SPSS files carry the variable labels and value labels of ``variables``: codes become 1..k in
the order of their vocabulary, flags stay 0/1, and the dictionary gives both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
from openpyxl import Workbook

from analytics.exports import variables as var
from analytics.exports.dictionary import dictionary_frame

FORMATS = ("csv", "xlsx", "dta", "sav", "parquet")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "dta": "application/x-stata-dta",
    "sav": "application/x-spss-sav",
    "parquet": "application/vnd.apache.parquet",
}
DATE_FORMAT = "%Y-%m-%d"
# Stata caps variable labels at 80 characters.
LABEL_MAX = 80


def csv_chunks(
    frames: Iterable[pd.DataFrame], variables: tuple[var.Variable, ...]
) -> Iterator[str]:
    """Yield the CSV text: the header, then one piece per frame (missing values are empty)."""
    yield ",".join(var.names(variables)) + "\n"
    for frame in frames:
        yield frame.to_csv(header=False, index=False, date_format=DATE_FORMAT, lineterminator="\n")


def write_csv(
    frames: Iterable[pd.DataFrame], variables: tuple[var.Variable, ...], out: IO[str]
) -> int:
    """Write the CSV text to ``out``; return the number of data rows."""
    counter = [0]
    for piece in csv_chunks(counting(frames, counter), variables):
        out.write(piece)
    return counter[0]


def counting(frames: Iterable[pd.DataFrame], counter: list[int]) -> Iterator[pd.DataFrame]:
    """Pass the frames through, adding their rows to ``counter[0]``."""
    for frame in frames:
        counter[0] += len(frame)
        yield frame


def _cells(frame: pd.DataFrame) -> Iterator[list[Any]]:
    """Yield plain Python rows: None for missing values, dates as dates."""
    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    plain = frame.astype(object).where(frame.notna(), None)
    for column in dates:
        plain[column] = [None if v is None else v.date() for v in plain[column]]
    for row in plain.itertuples(index=False, name=None):
        yield [v.item() if hasattr(v, "item") else v for v in row]


def write_xlsx(
    frames: Iterable[pd.DataFrame],
    variables: tuple[var.Variable, ...],
    out: IO[bytes] | Path,
    *,
    extra_sheets: dict[str, tuple[Iterable[pd.DataFrame], tuple[var.Variable, ...]]] | None = None,
) -> int:
    """Write a workbook: the data sheet, any extra sheets, and the variables sheet."""
    book = Workbook(write_only=True)
    rows = _sheet(book, "data", frames, variables)
    for title, (sheet_frames, sheet_variables) in (extra_sheets or {}).items():
        _sheet(book, title, sheet_frames, sheet_variables)
    dictionary = dictionary_frame([("", v) for v in variables])
    sheet = book.create_sheet("variables")
    sheet.append(list(dictionary.columns[1:]))
    for row in dictionary.drop(columns="layout").itertuples(index=False, name=None):
        sheet.append(list(row))
    book.save(out)
    return rows


def _sheet(
    book: Workbook, title: str, frames: Iterable[pd.DataFrame], variables: tuple[var.Variable, ...]
) -> int:
    sheet = book.create_sheet(title)
    sheet.append(var.names(variables))
    rows = 0
    for frame in frames:
        for row in _cells(frame):
            sheet.append(row)
        rows += len(frame)
    return rows


def labelled(frame: pd.DataFrame, variables: tuple[var.Variable, ...]) -> pd.DataFrame:
    """Return the frame as Stata and SPSS want it: codes 1..k, numbers as floats, dates."""
    columns: dict[str, Any] = {}
    for variable in variables:
        values = frame[variable.name]
        if variable.kind == var.CODE:
            number = {code: float(n) for n, code in enumerate(var.voc.codes(variable.codes), 1)}
            columns[variable.name] = values.map(number).astype("float64")
        elif variable.kind in (var.INTEGER, var.FLAG, var.NUMBER):
            columns[variable.name] = values.astype("Float64").astype("float64")
        elif variable.kind == var.DATE:
            columns[variable.name] = pd.Series(
                [None if pd.isna(v) else v.date() for v in values], index=frame.index, dtype=object
            )
        else:
            columns[variable.name] = values.astype(object).where(values.notna(), "")
    return pd.DataFrame(columns, index=frame.index)


def _labels(
    variables: tuple[var.Variable, ...],
) -> tuple[dict[str, str], dict[str, dict[int, str]]]:
    column_labels = {v.name: v.label[:LABEL_MAX] for v in variables}
    value_labels = {v.name: v.value_labels() for v in variables if v.value_labels()}
    return column_labels, value_labels


def write_stata(frame: pd.DataFrame, variables: tuple[var.Variable, ...], path: Path) -> int:
    column_labels, value_labels = _labels(variables)
    pyreadstat.write_dta(
        labelled(frame, variables),
        str(path),
        file_label="Ketamine chronic pain cohort",
        column_labels=column_labels,
        variable_value_labels=value_labels,
        version=15,
    )
    return len(frame)


def write_spss(frame: pd.DataFrame, variables: tuple[var.Variable, ...], path: Path) -> int:
    column_labels, value_labels = _labels(variables)
    formats = {v.name: "F8.0" for v in variables if v.kind in (var.INTEGER, var.FLAG, var.CODE)}
    pyreadstat.write_sav(
        labelled(frame, variables),
        str(path),
        file_label="Ketamine chronic pain cohort",
        column_labels=column_labels,
        variable_value_labels=value_labels,
        variable_format=formats,
    )
    return len(frame)


_ARROW_TYPES = {
    var.TEXT: pa.string(),
    var.CODE: pa.string(),
    var.INTEGER: pa.int64(),
    var.FLAG: pa.int8(),
    var.NUMBER: pa.float64(),
    var.DATE: pa.date32(),
}


def arrow_schema(variables: tuple[var.Variable, ...]) -> pa.Schema:
    """Return the Parquet schema of some variables, each field carrying its label and units."""
    return pa.schema(
        [
            pa.field(
                v.name,
                _ARROW_TYPES[v.kind],
                metadata={"label": v.label, "units": v.units, "allowed": v.allowed()},
            )
            for v in variables
        ],
        metadata={"title": "Ketamine chronic pain cohort"},
    )


def _arrow_table(
    frame: pd.DataFrame, schema: pa.Schema, variables: tuple[var.Variable, ...]
) -> pa.Table:
    arrays = []
    for variable, field in zip(variables, schema, strict=True):
        values = frame[variable.name]
        if variable.kind == var.DATE:
            days = values.to_numpy(dtype="datetime64[D]")
            arrays.append(pa.array(days, type=pa.date32(), mask=pd.isna(values).to_numpy()))
        else:
            arrays.append(
                pa.array(values.astype(object).where(values.notna(), None), type=field.type)
            )
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(
    frames: Iterable[pd.DataFrame], variables: tuple[var.Variable, ...], out: IO[bytes] | Path
) -> int:
    """Write one row group per frame."""
    schema = arrow_schema(variables)
    rows = 0
    with pq.ParquetWriter(out, schema) as writer:
        for frame in frames:
            writer.write_table(_arrow_table(frame, schema, variables))
            rows += len(frame)
    return rows


def write(
    fmt: str,
    frames: Iterable[pd.DataFrame],
    variables: tuple[var.Variable, ...],
    path: Path,
    *,
    extra_sheets: dict[str, tuple[Iterable[pd.DataFrame], tuple[var.Variable, ...]]] | None = None,
) -> int:
    """Write the frames to ``path`` in one format; return the number of data rows."""
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as out:
            return write_csv(frames, variables, out)
    if fmt == "xlsx":
        return write_xlsx(frames, variables, path, extra_sheets=extra_sheets)
    if fmt == "parquet":
        return write_parquet(frames, variables, path)
    whole = list(frames)
    frame = pd.concat(whole, ignore_index=True) if whole else _empty(variables)
    if fmt == "dta":
        return write_stata(frame, variables, path)
    if fmt == "sav":
        return write_spss(frame, variables, path)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _empty(variables: tuple[var.Variable, ...]) -> pd.DataFrame:
    from analytics.exports.layouts import typed

    return typed(pd.DataFrame(), variables)
