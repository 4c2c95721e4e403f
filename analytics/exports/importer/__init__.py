"""Import a long layout with items (and its administrations) into the database, all or nothing.

The file is what ``export_dataset --layout long --items`` writes (CSV, XLSX or Parquet) with the
administrations beside it: a second sheet of the workbook, or a file of the ``administrations``
layout. Every cell is checked against the variable descriptions, every questionnaire row against
``followup.validators``, every patient against the enrolment rules; every problem is reported with
its row (numbered as in a spreadsheet, the header being row 1) and column. Nothing is written
unless there is no problem at all; then patients, administrations, calls and answers go in
through services, in one transaction, each history row giving the reason "Imported from FILE".
Derived columns (scores, cumulative dose, IV route, month, baseline copies) are recomputed, not
read.

Three steps, one module each: ``reading`` (the columns, each cell parsed, the problems),
``planning`` (what each patient would get, checked as the services would) and ``writing`` (the
plan through the services, in one transaction). Every name is importable from
``analytics.exports.importer``.
"""

from analytics.exports.importer.planning import PatientPlan, plan_import
from analytics.exports.importer.reading import (
    ADMIN_REQUIRED,
    DERIVED,
    FIRST_ROW,
    PATIENT_COLUMNS,
    REASON_COLUMNS,
    REQUIRED,
    ImportRefused,
    ImportReport,
    Problem,
    parse_cell,
    parse_rows,
    read_table,
)
from analytics.exports.importer.writing import (
    administration_import,
    call_import,
    dataset_import,
    patient_import,
)

__all__ = [
    "ADMIN_REQUIRED",
    "DERIVED",
    "FIRST_ROW",
    "PATIENT_COLUMNS",
    "REASON_COLUMNS",
    "REQUIRED",
    "ImportRefused",
    "ImportReport",
    "PatientPlan",
    "Problem",
    "administration_import",
    "call_import",
    "dataset_import",
    "parse_cell",
    "parse_rows",
    "patient_import",
    "plan_import",
    "read_table",
]
