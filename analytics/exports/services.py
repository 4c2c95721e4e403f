"""Writes of the exports: the export files and the log of who exported what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from analytics.exports import layouts, writers
from analytics.exports import variables as var
from analytics.models import ExportLog
from cohort.models import Patient


def export_log_record(
    *,
    by: Any,
    source: str,
    layout: str,
    fmt: str,
    items: bool = False,
    rows: int | None = None,
    filename: str = "",
) -> ExportLog:
    """Record one export (the web view and the command both call this)."""
    log = ExportLog(
        user=by if getattr(by, "is_authenticated", False) else None,
        source=source,
        layout=layout,
        format=fmt,
        items=items,
        rows=rows,
        filename=filename[:300],
    )
    log.full_clean()
    log.save()
    return log


def export_log_finish(*, log: ExportLog, rows: int) -> ExportLog:
    """Record the row count of an export streamed to the end."""
    log.rows = rows
    log.save(update_fields=["rows"])
    return log


def export_build(
    *,
    layout: str,
    fmt: str,
    path: Path,
    items: bool = False,
    patients: QuerySet[Patient] | None = None,
) -> int:
    """Write one layout to a file in one format; return the number of data rows.

    A long layout with items written as XLSX carries the administrations in a second sheet, so
    that the workbook alone can be imported back.
    """
    variables = var.variables_of(layout, items=items)
    frames = layouts.frames(layout, patients, items=items)
    extra = None
    if items and fmt == "xlsx":
        extra = {
            "administrations": (layouts.frames("administrations", patients), var.ADMINISTRATIONS)
        }
    return writers.write(fmt, frames, variables, path, extra_sheets=extra)


def export_write(
    *,
    layout: str,
    fmt: str,
    path: Path,
    by: Any,
    source: str,
    items: bool = False,
    patients: QuerySet[Patient] | None = None,
) -> ExportLog:
    """Write one layout to a file in one format and log it."""
    rows = export_build(layout=layout, fmt=fmt, path=path, items=items, patients=patients)
    return export_log_record(
        by=by, source=source, layout=layout, fmt=fmt, items=items, rows=rows, filename=path.name
    )
