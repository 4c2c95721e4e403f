"""A patient's status in the follow-up and preferred call time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cohort import plausible, signals
from cohort import vocabulary as voc
from cohort.call_times import WEEKDAYS, days_code
from cohort.clinical import history_stamp, reason_checked
from cohort.models import (
    Patient,
)
from cohort.services.locks import patient_guard_edit
from cohort.signals import clinical_change_announce, clinical_write


@clinical_write
@transaction.atomic
def patient_set_status(
    *, patient: Patient, status: str, date: dt.date, reason: str, by: Any
) -> Patient:
    """Change a patient's status; leaving follow-up closes the remaining calls with the reason."""
    reason = reason_checked(reason, "reason")
    patient_guard_edit(patient=patient, by=by, change="patient", reason=reason)
    if status not in voc.codes(voc.PATIENT_STATUSES):
        raise ValidationError({"status": _("Unknown status.")})
    if status in voc.CLOSED_PATIENT_STATUSES and not reason.strip():
        raise ValidationError({"status_reason": _("Give the reason the follow-up stops.")})
    errors = plausible.status_date_errors(date=date, patient=patient)
    if errors:
        raise ValidationError(errors)
    patient.status, patient.status_date, patient.status_reason = status, date, reason
    history_stamp(patient, by=by, reason=reason or f"Status set to {status}")
    patient.save(update_fields=["status", "status_date", "status_reason", "updated_at"])
    if status in voc.CLOSED_PATIENT_STATUSES:
        signals.send_required(
            signals.patient_left_follow_up,
            sender=Patient,
            patient=patient,
            label=voc.label(voc.PATIENT_STATUSES, status),
            date=date,
            reason=reason,
            by=by,
        )
    clinical_change_announce(
        sender=Patient, patient=patient, by=by, reason=reason or f"Status set to {status}"
    )
    return patient


def call_times_errors(
    *, call_from: dt.time | None, call_to: dt.time | None, days: list[int]
) -> dict[str, str]:
    """Return every problem of a preferred call time at once, keyed by field."""
    errors: dict[str, str] = {}
    if (call_from is None) != (call_to is None):
        missing = "call_to" if call_to is None else "call_from"
        errors[missing] = _("Give both the start and the end of the preferred time.")
    elif call_from is not None and call_to is not None and call_from >= call_to:
        errors["call_to"] = _("The preferred call time must end after it starts.")
    if any(day not in WEEKDAYS for day in days):
        errors["call_days"] = _("Weekdays are numbered 1 (Monday) to 7 (Sunday).")
    return errors


@transaction.atomic
def patient_set_call_times(
    *,
    patient: Patient,
    call_from: dt.time | None,
    call_to: dt.time | None,
    days: list[int],
    note: str = "",
    by: Any,
) -> Patient:
    """Record when the patient prefers to be called (all empty: no preference)."""
    errors = call_times_errors(call_from=call_from, call_to=call_to, days=days)
    if errors:
        raise ValidationError(errors)
    patient.call_from, patient.call_to = call_from, call_to
    patient.call_days = days_code(days)
    patient.call_note = note.strip()
    patient.full_clean()
    history_stamp(patient, by=by, reason="Preferred call time changed")
    fields = ["call_from", "call_to", "call_days", "call_note", "updated_at"]
    patient.save(update_fields=fields)
    return patient
