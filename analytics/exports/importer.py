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
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from analytics.exports import variables as var
from cohort import plausible
from cohort import vocabulary as voc
from cohort.clinical import history_stamp
from cohort.models import KetamineAdministration, Patient, Site, dose_in_mg
from cohort.services import administration_record, eligibility_errors, patient_enrol
from followup import schedule
from followup.models import FollowUpCall
from followup.services import questionnaires_save
from followup.validators import QUESTIONNAIRE_FIELDS, REASON_FIELDS, questionnaire_errors

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


@dataclass
class PatientPlan:
    """Everything the import writes for one patient."""

    values: dict[str, Any]
    calls: list[dict[str, Any]] = field(default_factory=list)
    administrations: list[dict[str, Any]] = field(default_factory=list)


def _map_site(row: dict[str, Any], site_map: dict[str, str]) -> None:
    site, code = row.get("site"), row.get("study_id")
    if site in site_map:
        row["site"] = site_map[site]
        if code and code.startswith(f"{site}-"):
            row["study_id"] = f"{site_map[site]}-{code.split('-', 1)[1]}"


def _patient_problems(values: dict[str, Any], row: int) -> list[Problem]:
    """Check one patient as enrolment and the patient model would."""
    found = eligibility_errors(
        age=values.get("age"),
        pain_duration_months=values.get("pain_duration_months"),
        consent_date=values.get("consent_date"),
        inclusion_date=values.get("inclusion_date"),
    )
    code, site = values.get("study_id") or "", values.get("site") or ""
    if not re.fullmatch(r"[A-Z0-9]{2,8}-\d{4,6}", code):
        found["study_id"] = "a study code is the site code, a dash and 4 to 6 digits"
    elif code.split("-")[0] != site:
        found["study_id"] = f"the study code must start with the site code {site}"
    if not re.fullmatch(r"[A-Z0-9]{2,8}", site):
        found["site"] = "a site code has 2 to 8 capital letters or digits"
    if values.get("etiology") in voc.DN4_NOT_ASKED_FOR and values.get("dn4") is not None:
        found["dn4"] = "DN4 is not asked for fibromyalgia"
    if values.get("dn4") is not None and values.get("dn4_missing_reason"):
        found["dn4_missing_reason"] = "give a reason only when DN4 is missing"
    status = values.get("status")
    if status in voc.CLOSED_PATIENT_STATUSES and values.get("status_date") is None:
        found["status_date"] = "a patient who left the follow-up needs the date"
    found |= plausible.status_date_errors(date=values.get("status_date"), patient=_Dates(values))
    return [Problem("data", row, column, str(message)) for column, message in found.items()]


def _call_problems(row: dict[str, Any]) -> list[Problem]:
    """Check one call row with the shared questionnaire rules and the call rules."""
    answers = {name: row.get(name) for name in (*QUESTIONNAIRE_FIELDS, *REASON_FIELDS)}
    found = questionnaire_errors(answers, complete=False)
    found |= plausible.call_date_errors(call_date=row.get("call_date"), patient=_Dates(row))
    status = row.get("call_status")
    if status == "reached" and row.get("call_date") is None:
        found["call_date"] = "a reached call needs the date of the call"
    if status == "reached" and row.get("nprs_mean") is None and not row.get("nprs_missing_reason"):
        found["nprs_mean"] = "a reached call needs the NPRS or nprs_missing_reason"
    if row.get("timepoint") == "BL" and status not in (None, "reached", "due"):
        found["call_status"] = "baseline is assessed in hospital: reached or due"
    for prefix, fields in (
        ("nprs", ("nprs_mean", "nprs_max")),
        ("hads", tuple(f"hads_{n}" for n in range(1, 15))),
    ):
        reason = row.get(f"{prefix}_missing_reason")
        if reason and all(row.get(f) is not None for f in fields):
            found[f"{prefix}_missing_reason"] = "a reason is given but every answer is there"
    return [Problem("data", row["_row"], column, str(m)) for column, m in found.items()]


def plan_import(
    rows: list[dict[str, Any]],
    administrations: list[dict[str, Any]],
    *,
    site_map: dict[str, str],
    problems: list[Problem],
    admin_sheet: str,
) -> dict[str, PatientPlan]:
    """Group the rows by patient and check what needs more than one row; record problems."""
    plans: dict[str, PatientPlan] = {}
    for row in rows:
        _map_site(row, site_map)
        code = row.get("study_id")
        if code is None:
            continue
        plan = plans.get(code)
        values = {name: row.get(name) for name in PATIENT_COLUMNS}
        if plan is None:
            plan = plans[code] = PatientPlan(values=values)
            problems.extend(_patient_problems(values, row["_row"]))
        else:
            for name in PATIENT_COLUMNS:
                if values[name] != plan.values[name]:
                    problems.append(
                        Problem("data", row["_row"], name, "differs from the patient's first row")
                    )
        timepoints = {c["timepoint"] for c in plan.calls}
        if row.get("timepoint") in timepoints:
            problems.append(
                Problem("data", row["_row"], "timepoint", "this timepoint is already given")
            )
        problems.extend(_call_problems(row))
        plan.calls.append(row)
    for code, plan in plans.items():
        if "BL" not in {c.get("timepoint") for c in plan.calls}:
            row = plan.calls[0]["_row"]
            problems.append(Problem("data", row, "timepoint", f"{code} has no baseline row"))
    existing = set(
        Patient.objects.filter(study_code__in=list(plans)).values_list("study_code", flat=True)
    )
    for code in sorted(existing):
        row = plans[code].calls[0]["_row"]
        problems.append(Problem("data", row, "study_id", f"{code} is already in the database"))
    for given in administrations:
        _map_site(given, site_map)
        plan = plans.get(given.get("study_id") or "")
        if plan is None:
            if given.get("study_id"):
                problems.append(
                    Problem(admin_sheet, given["_row"], "study_id", "no such patient in the data")
                )
            continue
        problems.extend(_administration_problems(given, plan, admin_sheet))
        plan.administrations.append(given)
    return plans


class _Dates:
    """The dates of a patient as a file row gives them (for the rules of cohort.plausible)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.inclusion_date = values.get("inclusion_date")
        self.consent_date = values.get("consent_date")


def _administration_problems(given: dict[str, Any], plan: PatientPlan, sheet: str) -> list[Problem]:
    found: list[Problem] = []
    date = given.get("admin_date")
    dated = plausible.administration_date_errors(
        date=date, patient=_Dates(plan.values), field="admin_date"
    )
    if not dated and date is not None:
        dated = plausible.overlap_errors(
            date=date,
            days=given.get("days") or 1,
            others=[
                (a["admin_date"], a.get("days") or 1)
                for a in plan.administrations
                if a.get("admin_date") is not None
            ],
            field="admin_date",
        )
    found += [Problem(sheet, given["_row"], column, m) for column, m in dated.items()]
    weight = given.get("weight_kg") or plan.values.get("weight_kg")
    if given.get("dose_unit") and given.get("dose_value") and weight:
        if given["dose_value"] <= 0:
            found.append(Problem(sheet, given["_row"], "dose_value", "the dose must be positive"))
            return found
        daily = dose_in_mg(
            unit=given["dose_unit"],
            value=Decimal(str(given["dose_value"])),
            weight_kg=Decimal(str(weight)),
        )
        if not 0 < daily <= 5000:
            found.append(Problem(sheet, given["_row"], "dose_value", "daily dose out of 0-5000 mg"))
        elif given.get("dose_mg") is not None and Decimal(str(given["dose_mg"])) != daily:
            found.append(
                Problem(sheet, given["_row"], "dose_mg", f"does not match the dose ({daily} mg)")
            )
    return found


def patient_import(
    *, values: dict[str, Any], site: Site, first_administration: dt.date, by: Any, reason: str
) -> Patient:
    """Enrol an imported patient (no identifiers: site staff add them later) and its schedule.

    Through the enrolment service: its checks (eligibility, then the model's own validation),
    its history and its schedule.
    """
    comorbidities = [
        code
        for code in voc.codes(voc.COMORBIDITIES)
        if values.get(f"cm_{var.SHORT_CODES.get(code, code)}")
    ]
    closed = values["status"] in voc.CLOSED_PATIENT_STATUSES
    naive = values.get("ketamine_naive")
    return patient_enrol(
        site=site,
        study_code=values["study_id"],
        sex=values["sex"],
        age=values["age"],
        inclusion_date=values["inclusion_date"],
        consent_date=values["consent_date"],
        weight_kg=Decimal(str(values["weight_kg"])),
        etiology=values["etiology"],
        pain_duration_months=values["pain_duration_months"],
        comorbidities=comorbidities,
        ketamine_naive=None if naive is None else bool(naive),
        dn4=values.get("dn4"),
        dn4_missing_reason=values.get("dn4_missing_reason") or "",
        paroxysms_per_day=values.get("paroxysms_per_day"),
        status=values["status"],
        status_date=values.get("status_date"),
        status_reason=reason if closed else "",
        first_administration_date=first_administration,
        first_name="",
        last_name="",
        phone="",
        without_identifiers=True,
        by=by,
        reason=reason,
    )


def administration_import(
    *, patient: Patient, given: dict[str, Any], by: Any, reason: str
) -> KetamineAdministration:
    """Record one imported administration through the service (doses converted to mg as the
    app does; an earlier first administration moves the open calls)."""
    weight = given.get("weight_kg")
    return administration_record(
        patient=patient,
        date=given["admin_date"],
        route=given["route"],
        dose_unit=given["dose_unit"],
        dose_value=Decimal(str(given["dose_value"])),
        weight_kg=Decimal(str(weight)) if weight else None,
        days=given.get("days") or 1,
        infusion_minutes=given.get("infusion_minutes"),
        by=by,
        reason=reason,
    )


def call_import(*, call: FollowUpCall, row: dict[str, Any], by: Any, reason: str) -> FollowUpCall:
    """Give an imported call its target date, answers (scored by the services) and outcome."""
    target = row.get("target_date")
    if target is not None and target != call.target_date:
        if call.is_baseline:
            before = after = 0
        else:
            before, after = (
                schedule.W1_WINDOW if call.timepoint == "W1" else schedule.MONTHLY_WINDOW
            )
        call.target_date = target
        call.window_start = target - dt.timedelta(days=before)
        call.window_end = target + dt.timedelta(days=after)
        call.version += 1
        history_stamp(call, by=by, reason=reason)
        call.save(
            update_fields=["target_date", "window_start", "window_end", "version", "updated_at"]
        )
    answers = {name: row.get(name) for name in (*QUESTIONNAIRE_FIELDS, *REASON_COLUMNS)}
    if any(value is not None for value in answers.values()):
        call = questionnaires_save(call=call, data=answers, by=by, reason=reason)
    status = row.get("call_status") or "due"
    if status != call.status or row.get("call_date") != call.call_date:
        call.status = status
        call.call_date = row.get("call_date")
        fields = ["status", "call_date", "version", "updated_at"]
        if status == "reached":
            noon = dt.datetime.combine(call.call_date, dt.time(12))
            call.completed_at = timezone.make_aware(noon)
            call.completed_by = by
            fields += ["completed_at", "completed_by"]
        call.version += 1
        history_stamp(call, by=by, reason=reason)
        call.save(update_fields=fields)
    return call


class _DryRun(Exception):
    """Raised to roll a dry run back after every write was tried."""


def dataset_import(
    *,
    path: Path,
    by: Any,
    administrations: Path | None = None,
    dry_run: bool = False,
    site_map: dict[str, str] | None = None,
) -> ImportReport:
    """Check the whole file, then import it in one transaction; raise ImportRefused on problems."""
    problems: list[Problem] = []
    data = read_table(path)
    if data is None:
        raise ImportRefused([Problem(path.name, 1, "data", "the workbook has no data sheet")])
    admin_sheet = "administrations"
    admin_frame = read_table(path, sheet="administrations") if path.suffix == ".xlsx" else None
    if administrations is not None:
        admin_frame, admin_sheet = read_table(administrations), administrations.name
    rows = parse_rows(data, var.LONG_ITEMS, sheet="data", required=REQUIRED, problems=problems)
    given: list[dict[str, Any]] = []
    if admin_frame is None:
        problems.append(
            Problem(path.name, 1, "administrations", "give the administrations file as well")
        )
    else:
        given = parse_rows(
            admin_frame,
            var.ADMINISTRATIONS,
            sheet=admin_sheet,
            required=ADMIN_REQUIRED,
            problems=problems,
        )
    plans = plan_import(
        rows, given, site_map=site_map or {}, problems=problems, admin_sheet=admin_sheet
    )
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: (p.sheet != "data", p.sheet, p.row)))
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            _load(plans, report, by=by, reason=f"Imported from {path.name}")
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _load(plans: dict[str, PatientPlan], report: ImportReport, *, by: Any, reason: str) -> None:
    sites = {site.code: site for site in Site.objects.all()}
    for code, plan in plans.items():
        site_code = plan.values["site"]
        if site_code not in sites:
            site = Site(code=site_code, name=f"Site {site_code}")
            site.full_clean()
            site.save()
            sites[site_code] = site
            report.sites_created.append(site_code)
        dates = [a["admin_date"] for a in plan.administrations]
        first = min(dates) if dates else plan.values["inclusion_date"]
        try:
            patient = patient_import(
                values=plan.values,
                site=sites[site_code],
                first_administration=first,
                by=by,
                reason=reason,
            )
        except ValidationError as exc:
            raise ImportRefused(_validation_problems(exc, plan.calls[0]["_row"], code)) from exc
        for given in sorted(plan.administrations, key=lambda a: a["_row"]):
            try:
                administration_import(patient=patient, given=given, by=by, reason=reason)
            except ValidationError as exc:
                problems = _validation_problems(exc, given["_row"], code)
                raise ImportRefused(problems) from exc
        calls = {call.timepoint: call for call in patient.calls.all()}
        for row in plan.calls:
            try:
                call_import(call=calls[row["timepoint"]], row=row, by=by, reason=reason)
            except ValidationError as exc:
                raise ImportRefused(_validation_problems(exc, row["_row"], code)) from exc
        report.patients += 1
        report.calls += len(plan.calls)
        report.administrations += len(plan.administrations)


def _validation_problems(exc: ValidationError, row: int, code: str) -> list[Problem]:
    if hasattr(exc, "message_dict"):
        return [
            Problem("data", row, column, f"{code}: {' '.join(messages)}")
            for column, messages in exc.message_dict.items()
        ]
    return [Problem("data", row, "", f"{code}: {' '.join(exc.messages)}")]
