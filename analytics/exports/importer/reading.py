"""Reading the file: the columns expected, each cell parsed against its variable, the problems."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
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


def read_table(path: Path, sheet: str = "data") -> pd.DataFrame | None:
    """Read a CSV, XLSX (one sheet) or Parquet file as cells, None for empty ones.

    Return None when an XLSX file has no such sheet.
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
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        elif suffix == ".xlsx":
            with pd.ExcelFile(path) as book:
                if sheet not in book.sheet_names:
                    return None
                frame = pd.read_excel(book, sheet_name=sheet, dtype=object)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"cannot import {path.name}: the file is empty") from None
    except Exception as exc:  # each reader fails in its own way on a damaged file
        kind = suffix.lstrip(".").upper()
        raise ValueError(
            f"cannot import {path.name}: not a readable {kind} file ({type(exc).__name__})"
        ) from exc
    cells = frame.astype(object)
    return cells.where(cells.notna() & (cells != ""), None)


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


def parse_rows(
    frame: pd.DataFrame,
    variables: Iterable[var.Variable],
    *,
    sheet: str,
    required: Iterable[str],
    problems: list[Problem],
) -> list[dict[str, Any]]:
    """Parse every cell of the known columns; record every problem; return one dict per row."""
    known = {v.name: v for v in variables}
    for name in required:
        if name not in frame.columns:
            problems.append(Problem(sheet, 1, name, "required column is missing"))
    columns = [c for c in frame.columns if c in known]
    for name in frame.columns:
        if name not in known:
            problems.append(Problem(sheet, 1, str(name), "unknown column"))
    rows = []
    for number, values in enumerate(frame[columns].itertuples(index=False, name=None), FIRST_ROW):
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
