"""Checking and planning: the patients, calls and administrations the file would write."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from analytics.exports.importer.reading import PATIENT_COLUMNS, Problem
from cohort import plausible
from cohort import vocabulary as voc
from cohort.models import Patient, dose_in_mg
from cohort.services import eligibility_errors
from followup.validators import QUESTIONNAIRE_FIELDS, REASON_FIELDS, questionnaire_errors


@dataclass
class PatientPlan:
    """What the import knows of one patient after checking the file: no more than its own values
    and a few facts per row, so that memory grows with the patients, not with the rows."""

    values: dict[str, Any]
    first_row: int
    timepoints: set[str | None] = field(default_factory=set)
    calls: int = 0
    administrations: list[tuple[dt.date, int]] = field(default_factory=list)

    @property
    def first_administration(self) -> dt.date:
        dates = [date for date, _ in self.administrations]
        return min(dates) if dates else self.values["inclusion_date"]


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


class ImportPlan:
    """The checks that need more than one row, fed a chunk of parsed rows at a time.

    ``add_rows`` takes the data rows (site codes mapped), ``data_done`` the checks that need every
    data row (a baseline row per patient, patients already in the database), ``add_administrations``
    the administration rows. Each problem is appended to ``problems``.
    """

    def __init__(self, *, site_map: dict[str, str], problems: list[Problem], admin_sheet: str):
        self.site_map = site_map
        self.problems = problems
        self.admin_sheet = admin_sheet
        self.patients: dict[str, PatientPlan] = {}
        self.rows = 0
        self.given = 0

    def mapped(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row with its site (and study code) renamed by the site map."""
        _map_site(row, self.site_map)
        return row

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        problems = self.problems
        for row in map(self.mapped, rows):
            self.rows += 1
            code = row.get("study_id")
            if code is None:
                continue
            plan = self.patients.get(code)
            values = {name: row.get(name) for name in PATIENT_COLUMNS}
            if plan is None:
                plan = self.patients[code] = PatientPlan(values=values, first_row=row["_row"])
                problems.extend(_patient_problems(values, row["_row"]))
            else:
                for name in PATIENT_COLUMNS:
                    if values[name] != plan.values[name]:
                        problems.append(
                            Problem(
                                "data", row["_row"], name, "differs from the patient's first row"
                            )
                        )
            if row.get("timepoint") in plan.timepoints:
                problems.append(
                    Problem("data", row["_row"], "timepoint", "this timepoint is already given")
                )
            plan.timepoints.add(row.get("timepoint"))
            problems.extend(_call_problems(row))
            plan.calls += 1

    def data_done(self) -> None:
        for code, plan in self.patients.items():
            if "BL" not in plan.timepoints:
                self.problems.append(
                    Problem("data", plan.first_row, "timepoint", f"{code} has no baseline row")
                )
        codes = list(self.patients)
        existing: set[str] = set()
        for start in range(0, len(codes), 5000):
            existing.update(
                Patient.objects.filter(study_code__in=codes[start : start + 5000]).values_list(
                    "study_code", flat=True
                )
            )
        for code in sorted(existing):
            self.problems.append(
                Problem(
                    "data",
                    self.patients[code].first_row,
                    "study_id",
                    f"{code} is already in the database",
                )
            )

    def add_administrations(self, given_rows: list[dict[str, Any]]) -> None:
        sheet = self.admin_sheet
        for given in map(self.mapped, given_rows):
            self.given += 1
            plan = self.patients.get(given.get("study_id") or "")
            if plan is None:
                if given.get("study_id"):
                    self.problems.append(
                        Problem(sheet, given["_row"], "study_id", "no such patient in the data")
                    )
                continue
            self.problems.extend(_administration_problems(given, plan, sheet))
            if given.get("admin_date") is not None:
                plan.administrations.append((given["admin_date"], given.get("days") or 1))


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
            others=plan.administrations,
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
