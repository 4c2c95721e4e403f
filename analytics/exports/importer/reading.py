"""Reading the file: the columns expected, each cell parsed against its variable, the problems."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
from django.conf import settings

from analytics.exports import variables as var
from cohort import vocabulary as voc
from followup.validators import REASON_FIELDS

DERIVED = frozenset(
    {
        "month",
        "hads_a",
        "hads_d",
        "sf12_pcs",
        "sf12_mcs",
        "cumulative_dose_mg",
        "iv_route",
        "baseline_nprs",
        "baseline_hads_a",
        "baseline_hads_d",
        "first_admin_date",
        *(reason.name for reason in (*var.SCORE_REASONS, *var.BASELINE_REASONS)),
    }
)
REQUIRED = (
    "study_id",
    "site",
    "sex",
    "age",
    "etiology",
    "status",
    "timepoint",
    "call_status",
    "inclusion_date",
    "consent_date",
    "weight_kg",
    "pain_duration_months",
)
PATIENT_COLUMNS = tuple(
    v.name for v in (*var.PATIENT_CORE, *var.ENROLMENT) if v.name not in DERIVED
)
# The reasons read from a file: each instrument's and each item's (score reasons are derived).
REASON_COLUMNS = REASON_FIELDS
ADMIN_REQUIRED = ("study_id", "admin_date", "route", "dose_unit", "dose_value")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?$")
FIRST_ROW = 2


@dataclass(frozen=True)
class Problem:
    """One problem of the file: where (sheet, row as in a spreadsheet, column) and what."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.sheet}, row {self.row}, {self.column}: {self.message}"


class ImportRefused(Exception):
    """Raised when the file has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


@dataclass
class ImportReport:
    """What an import wrote (or would have written, in a dry run)."""

    sites_created: list[str] = field(default_factory=list)
    patients: int = 0
    calls: int = 0
    administrations: int = 0
    dry_run: bool = False


CHUNK_ROWS = 2000


class Table:
    """A file read a chunk of rows at a time: its columns first, then frames of cells."""

    def __init__(
        self, path: Path, columns: list[str], chunks: Callable[[int], Iterator[pd.DataFrame]]
    ) -> None:
        self.path = path
        self.columns = columns
        self._chunks = chunks

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Frames of at most ``rows`` rows, in file order, None for an empty cell."""
        with _readable(self.path):
            for frame in self._chunks(rows):
                cells = frame.astype(object)
                yield cells.where(cells.notna() & (cells != ""), None)


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Turn a reader's own failure on a damaged file into one clear ValueError."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise ValueError(f"cannot import {path.name}: the file is empty") from None
    except Exception as exc:  # each reader fails in its own way on a damaged file
        kind = path.suffix.lower().lstrip(".").upper()
        raise ValueError(
            f"cannot import {path.name}: not a readable {kind} file ({type(exc).__name__})"
        ) from exc


def open_table(path: Path, sheet: str = "data") -> Table | None:
    """Open a CSV, XLSX (one sheet) or Parquet file to read it in chunks, never whole.

    The size limit (IMPORT_MAX_MB) is checked before anything is read. Return None when an XLSX
    file has no such sheet.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        raise ValueError(f"cannot import {path.name}: expected .csv, .xlsx or .parquet")
    limit_mb = settings.IMPORT_MAX_MB
    size = path.stat().st_size
    if size > limit_mb * 1024 * 1024:
        raise ValueError(
            f"cannot import {path.name}: the file is {size / 1024 / 1024:.1f} MB, more than "
            f"the limit of {limit_mb} MB (IMPORT_MAX_MB); split it by site or raise the limit"
        )
    with _readable(path):
        if suffix == ".csv":
            return _csv_table(path)
        if suffix == ".xlsx":
            return _xlsx_table(path, sheet)
        return _parquet_table(path)


def _csv_table(path: Path) -> Table:
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "encoding": "utf-8"}
    columns = [str(c) for c in pd.read_csv(path, nrows=0, **options).columns]

    def chunks(rows: int) -> Iterator[pd.DataFrame]:
        with pd.read_csv(path, chunksize=rows, **options) as reader:
            yield from reader

    return Table(path, columns, chunks)


def _parquet_table(path: Path) -> Table:
    file = pq.ParquetFile(path)
    index = (file.schema_arrow.pandas_metadata or {}).get("index_columns", [])
    columns = [n for n in file.schema_arrow.names if n not in index]

    def chunks(rows: int) -> Iterator[pd.DataFrame]:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=columns):
            yield batch.to_pandas()

    return Table(path, columns, chunks)


def _xlsx_cell(cell: Any) -> Any:
    """A cell as pandas' reader gives it: whole numbers as int, errors as missing."""
    if cell.value is None or cell.data_type == "e":
        return None
    if cell.data_type == "n" and not isinstance(cell.value, bool):
        whole = int(cell.value)
        return whole if whole == cell.value else float(cell.value)
    return cell.value


def _xlsx_rows(path: Path, sheet: str) -> Iterator[list[Any]]:
    """The rows of one sheet, streamed (openpyxl read-only); blank rows are skipped, as pandas'
    reader skips them."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = book[sheet]
        worksheet.reset_dimensions()  # the declared dimensions can be wrong
        for cells in worksheet.iter_rows():
            row = [_xlsx_cell(cell) for cell in cells]
            if any(value is not None for value in row):
                yield row
    finally:
        book.close()


def _xlsx_table(path: Path, sheet: str) -> Table | None:
    book = openpyxl.load_workbook(path, read_only=True)
    names = book.sheetnames
    book.close()
    if sheet not in names:
        return None
    with closing(_xlsx_rows(path, sheet)) as lines:
        header = next(lines, [])
    while header and header[-1] is None:
        header.pop()
    if not header:
        raise pd.errors.EmptyDataError
    columns = [str(c) if c is not None else f"Unnamed: {i}" for i, c in enumerate(header)]
    width = len(columns)

    def chunks(rows: int) -> Iterator[pd.DataFrame]:
        with closing(_xlsx_rows(path, sheet)) as lines:
            next(lines)
            while block := [(row + [None] * width)[:width] for row in islice(lines, rows)]:
                yield pd.DataFrame(block, columns=columns, dtype=object)

    return Table(path, columns, chunks)


def _number(value: Any) -> float:
    if isinstance(value, str):
        value = value.strip()
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError
    return number


def parse_cell(variable: var.Variable, value: Any) -> Any:
    """Return the value of one cell as the database wants it; raise ValueError with a reason."""
    if value is None:
        return None
    kind = variable.kind
    if kind in (var.TEXT, var.CODE):
        text = str(value).strip()
        if kind == var.CODE and text not in voc.codes(variable.codes):
            allowed = ", ".join(voc.codes(variable.codes))
            raise ValueError(f"{text!r} is not one of {allowed}")
        return text or None
    if kind == var.DATE:
        if isinstance(value, dt.datetime | pd.Timestamp):
            return value.date()
        if isinstance(value, dt.date):
            return value
        match = _DATE.match(str(value).strip())
        if not match:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(match.group(1))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid date") from exc
    try:
        number = _number(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if kind in (var.INTEGER, var.FLAG):
        if number != int(number):
            raise ValueError(f"{value!r} is not a whole number")
        if kind == var.FLAG and number not in (0, 1):
            raise ValueError(f"{value!r} must be 0 (no) or 1 (yes)")
        number = int(number)
    if variable.low is not None and number < variable.low:
        raise ValueError(f"{value!r} is below {variable.low:g}")
    if variable.high is not None and number > variable.high:
        raise ValueError(f"{value!r} is above {variable.high:g}")
    return number


def check_columns(
    columns: list[str],
    variables: Iterable[var.Variable],
    *,
    sheet: str,
    required: Iterable[str],
    problems: list[Problem],
) -> None:
    """Record each required column missing and each unknown column (row 1, the header)."""
    known = {v.name for v in variables}
    for name in required:
        if name not in columns:
            problems.append(Problem(sheet, 1, name, "required column is missing"))
    for name in columns:
        if name not in known:
            problems.append(Problem(sheet, 1, str(name), "unknown column"))


def parse_rows(
    frame: pd.DataFrame,
    variables: Iterable[var.Variable],
    *,
    sheet: str,
    required: Iterable[str],
    problems: list[Problem],
    first_row: int = FIRST_ROW,
) -> list[dict[str, Any]]:
    """Parse every cell of the known columns of a chunk whose first row is ``first_row``;
    record every problem; return one dict per row."""
    known = {v.name: v for v in variables}
    columns = [c for c in frame.columns if c in known]
    rows = []
    for number, values in enumerate(frame[columns].itertuples(index=False, name=None), first_row):
        row: dict[str, Any] = {"_row": number}
        unparsed = set()
        for name, value in zip(columns, values, strict=True):
            try:
                row[name] = parse_cell(known[name], value)
            except ValueError as exc:
                problems.append(Problem(sheet, number, name, str(exc)))
                unparsed.add(name)
                row[name] = None
        for name in required:
            if name in frame.columns and row.get(name) is None and name not in unparsed:
                problems.append(Problem(sheet, number, name, "a value is required"))
        rows.append(row)
    return rows


def stream_rows(
    table: Table,
    variables: Iterable[var.Variable],
    *,
    sheet: str,
    required: Iterable[str],
    problems: list[Problem],
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[list[dict[str, Any]]]:
    """Check the header, then parse the file one chunk at a time (rows numbered across chunks)."""
    variables = tuple(variables)
    check_columns(table.columns, variables, sheet=sheet, required=required, problems=problems)
    first = FIRST_ROW
    for frame in table.chunks(chunk_rows):
        yield parse_rows(
            frame, variables, sheet=sheet, required=required, problems=problems, first_row=first
        )
        first += len(frame)
