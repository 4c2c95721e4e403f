"""Writing the plan through the services, in one transaction, or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from analytics.exports import variables as var
from analytics.exports.importer.planning import PatientPlan, plan_import
from analytics.exports.importer.reading import (
    ADMIN_REQUIRED,
    REASON_COLUMNS,
    REQUIRED,
    ImportRefused,
    ImportReport,
    Problem,
    parse_rows,
    read_table,
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
