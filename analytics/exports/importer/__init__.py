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

The files are read a chunk of rows at a time, twice: a first pass checks, keeping a few facts
per patient; a second pass, when there is no problem, writes. Memory so grows with the patients,
not with the size of the file. Three steps, one module each: ``reading`` (the file in chunks,
each cell parsed, the problems), ``planning`` (the checks that span rows, as the services would
make them) and ``writing`` (both passes; the rows through the services, in one transaction).
Every name is importable from ``analytics.exports.importer``.
"""

from analytics.exports.importer.planning import ImportPlan, PatientPlan
from analytics.exports.importer.reading import (
    ADMIN_REQUIRED,
    CHUNK_ROWS,
    DERIVED,
    FIRST_ROW,
    PATIENT_COLUMNS,
    REASON_COLUMNS,
    REQUIRED,
    ImportRefused,
    ImportReport,
    Problem,
    Table,
    check_columns,
    open_table,
    parse_cell,
    parse_rows,
    stream_rows,
)
from analytics.exports.importer.writing import (
    CheckedFiles,
    Progress,
    administration_import,
    call_import,
    dataset_check,
    dataset_import,
    patient_import,
)

__all__ = [
    "ADMIN_REQUIRED",
    "CHUNK_ROWS",
    "DERIVED",
    "FIRST_ROW",
    "PATIENT_COLUMNS",
    "REASON_COLUMNS",
    "REQUIRED",
    "CheckedFiles",
    "ImportPlan",
    "ImportRefused",
    "ImportReport",
    "PatientPlan",
    "Problem",
    "Progress",
    "Table",
    "administration_import",
    "call_import",
    "check_columns",
    "dataset_check",
    "dataset_import",
    "open_table",
    "parse_cell",
    "parse_rows",
    "patient_import",
    "stream_rows",
]
