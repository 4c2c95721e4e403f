"""Writing the checked file through the services, in one transaction, or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from analytics.exports import variables as var
from analytics.exports.importer.planning import ImportPlan
from analytics.exports.importer.reading import (
    ADMIN_REQUIRED,
    CHUNK_ROWS,
    REASON_COLUMNS,
    REQUIRED,
    ImportRefused,
    ImportReport,
    Problem,
    Table,
    open_table,
    stream_rows,
)
from cohort import vocabulary as voc
from cohort.clinical import history_stamp
from cohort.models import KetamineAdministration, Patient, Site
from cohort.services import administration_record, patient_enrol
from followup import schedule
from followup.models import FollowUpCall
from followup.services import questionnaires_save
from followup.validators import QUESTIONNAIRE_FIELDS


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
        call.target_date = target
        call.window_start, call.window_end = schedule.window_around(call.timepoint, target)
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


# Told of the progress: the stage, then what is done and the total when known: "checked" counts
# the rows read (data then administrations; no total, the file is read once before writing),
# "written" the records written (patients, administrations, calls) of the total.
Progress = Callable[[str, int, int | None], None]


class CheckedFiles(NamedTuple):
    """The files of an import, checked: the facts kept per patient and the tables to read again."""

    plan: ImportPlan
    data: Table
    administrations: Table | None


def dataset_check(
    *,
    path: Path,
    administrations: Path | None = None,
    site_map: dict[str, str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> CheckedFiles:
    """Check every row of the files, a chunk at a time; raise ImportRefused on problems."""
    problems: list[Problem] = []
    data = open_table(path)
    if data is None:
        raise ImportRefused([Problem(path.name, 1, "data", "the workbook has no data sheet")])
    admin_sheet = "administrations"
    admin_table = open_table(path, sheet="administrations") if path.suffix == ".xlsx" else None
    if administrations is not None:
        admin_table, admin_sheet = open_table(administrations), administrations.name
    plan = ImportPlan(site_map=site_map or {}, problems=problems, admin_sheet=admin_sheet)
    for rows in stream_rows(
        data,
        var.LONG_ITEMS,
        sheet="data",
        required=REQUIRED,
        problems=problems,
        chunk_rows=chunk_rows,
    ):
        plan.add_rows(rows)
        if progress:
            progress("checked", plan.rows, None)
    plan.data_done()
    if admin_table is None:
        problems.append(
            Problem(path.name, 1, "administrations", "give the administrations file as well")
        )
    else:
        for given in _admin_rows(admin_table, plan, chunk_rows, problems):
            plan.add_administrations(given)
            if progress:
                progress("checked", plan.rows + plan.given, None)
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: (p.sheet != "data", p.sheet, p.row)))
    return CheckedFiles(plan, data, admin_table)


def dataset_import(
    *,
    path: Path,
    by: Any,
    administrations: Path | None = None,
    dry_run: bool = False,
    site_map: dict[str, str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the whole file, then import it in one transaction; raise ImportRefused on problems.

    The files are read a chunk of ``chunk_rows`` rows at a time, never whole: a first pass checks
    every row and keeps a few facts per patient (``dataset_check``); only when there is no
    problem at all does a second pass read the rows again and write them, so memory grows with
    the number of patients, not with the size of the file.
    """
    plan, data, admin_table = dataset_check(
        path=path,
        administrations=administrations,
        site_map=site_map,
        chunk_rows=chunk_rows,
        progress=progress,
    )
    report = ImportReport(dry_run=dry_run)
    write = _Writer(plan, report, by=by, reason=f"Imported from {path.name}", progress=progress)
    try:
        with transaction.atomic():
            write.patients()
            if admin_table is not None:
                for given in _admin_rows(admin_table, plan, chunk_rows, []):
                    write.administrations(given)
            for rows in stream_rows(
                data, var.LONG_ITEMS, sheet="data", required=REQUIRED, problems=[],
                chunk_rows=chunk_rows,
            ):  # fmt: skip
                write.calls(rows)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _admin_rows(
    table: Table, plan: ImportPlan, chunk_rows: int, problems: list[Problem]
) -> Iterator[list[dict[str, Any]]]:
    return stream_rows(
        table,
        var.ADMINISTRATIONS,
        sheet=plan.admin_sheet,
        required=ADMIN_REQUIRED,
        problems=problems,
        chunk_rows=chunk_rows,
    )


class _Writer:
    """The checked plan through the services: every patient, then the administrations in file
    order, then the calls in file order (for each patient the order of a single patient's import:
    enrolment, administrations, calls)."""

    def __init__(
        self,
        plan: ImportPlan,
        report: ImportReport,
        *,
        by: Any,
        reason: str,
        progress: Progress | None,
    ) -> None:
        self.plan, self.report, self.by, self.reason = plan, report, by, reason
        self.progress = progress
        self.total = len(plan.patients) + plan.given + plan.rows
        self.done = 0
        self.ids: dict[str, int] = {}

    def _tell(self, rows: int) -> None:
        self.done += rows
        if self.progress:
            self.progress("written", self.done, self.total)

    def patients(self) -> None:
        sites = {site.code: site for site in Site.objects.select_related("study")}
        for number, (code, plan) in enumerate(self.plan.patients.items(), 1):
            site_code = plan.values["site"]
            if site_code not in sites:
                site = Site(code=site_code, name=f"Site {site_code}")
                site.full_clean()
                site.save()
                sites[site_code] = site
                self.report.sites_created.append(site_code)
            try:
                patient = patient_import(
                    values=plan.values,
                    site=sites[site_code],
                    first_administration=plan.first_administration,
                    by=self.by,
                    reason=self.reason,
                )
            except ValidationError as exc:
                raise ImportRefused(_validation_problems(exc, plan.first_row, code)) from exc
            self.ids[code] = patient.pk
            self.report.patients += 1
            if number % 500 == 0 or number == len(self.plan.patients):
                self._tell(number - self.done)

    def administrations(self, given_rows: list[dict[str, Any]]) -> None:
        given_rows = [self.plan.mapped(given) for given in given_rows]
        patients = Patient.objects.select_related("site__study").in_bulk(
            [self.ids[g["study_id"]] for g in given_rows]
        )
        for given in given_rows:
            code = given["study_id"]
            try:
                administration_import(
                    patient=patients[self.ids[code]], given=given, by=self.by, reason=self.reason
                )
            except ValidationError as exc:
                raise ImportRefused(_validation_problems(exc, given["_row"], code)) from exc
        self.report.administrations += len(given_rows)
        self._tell(len(given_rows))

    def calls(self, rows: list[dict[str, Any]]) -> None:
        rows = [self.plan.mapped(row) for row in rows]
        ids = {self.ids[row["study_id"]] for row in rows}
        # Each patient read once for the chunk, with its site, and shared by its calls.
        patients = Patient.objects.select_related("site__study").in_bulk(ids)
        calls = {}
        for call in FollowUpCall.objects.filter(patient_id__in=ids):
            call.patient = patients[call.patient_id]
            calls[call.patient_id, call.timepoint] = call
        for row in rows:
            code = row["study_id"]
            try:
                call_import(
                    call=calls[self.ids[code], row["timepoint"]],
                    row=row,
                    by=self.by,
                    reason=self.reason,
                )
            except ValidationError as exc:
                raise ImportRefused(_validation_problems(exc, row["_row"], code)) from exc
        self.report.calls += len(rows)
        self._tell(len(rows))


def _validation_problems(exc: ValidationError, row: int, code: str) -> list[Problem]:
    if hasattr(exc, "message_dict"):
        return [
            Problem("data", row, column, f"{code}: {' '.join(messages)}")
            for column, messages in exc.message_dict.items()
        ]
    return [Problem("data", row, "", f"{code}: {' '.join(exc.messages)}")]
