"""Writes to the cohort: enrolment, administrations, status changes. Every write goes here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.services import reanalysis_on_commit
from cohort import vocabulary as voc
from cohort.models import KetamineAdministration, Patient, PatientContact, Site
from followup import schedule
from followup.models import FollowUpCall

MIN_AGE = 18
MIN_PAIN_MONTHS = 6


def _stamp(instance: Any, *, by: Any, reason: str) -> None:
    """Attach the author and reason of a change for the history row."""
    instance._history_user = by
    instance._change_reason = reason


def eligibility_errors(
    *,
    age: int | None,
    pain_duration_months: int | None,
    consent_date: dt.date | None,
    inclusion_date: dt.date | None,
) -> dict[str, str]:
    """Return every eligibility problem at once, keyed by field (empty when eligible)."""
    errors: dict[str, str] = {}
    if age is None or age < MIN_AGE:
        errors["age"] = _("Patients must be 18 or older.")
    if pain_duration_months is None or pain_duration_months <= MIN_PAIN_MONTHS:
        errors["pain_duration_months"] = _("Chronic pain must have lasted more than 6 months.")
    if consent_date is None:
        errors["consent_date"] = _("The date the non-opposition form was signed is required.")
    elif inclusion_date is not None and consent_date > inclusion_date:
        errors["consent_date"] = _("Consent must be dated on or before inclusion.")
    return errors


def next_study_code(site: Site) -> str:
    """Return the next free study code of a site (site code, dash, 4 digits)."""
    prefix = f"{site.code}-"
    # Longest first: "S01-10000" sorts before "S01-9999" as text but comes after it.
    last = (
        Patient.objects.filter(study_code__startswith=prefix)
        .order_by(Length("study_code").desc(), "-study_code")
        .values_list("study_code", flat=True)
        .first()
    )
    number = int(last.split("-")[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _create_schedule(patient: Patient, first_administration: dt.date, *, by: Any) -> None:
    baseline = FollowUpCall(
        patient=patient,
        timepoint="BL",
        target_date=patient.inclusion_date,
        window_start=patient.inclusion_date,
        window_end=patient.inclusion_date,
    )
    _stamp(baseline, by=by, reason="Schedule created at enrolment")
    baseline.save()
    for planned in schedule.build_schedule(first_administration):
        call = FollowUpCall(
            patient=patient,
            timepoint=planned.timepoint,
            target_date=planned.target,
            window_start=planned.window_start,
            window_end=planned.window_end,
        )
        _stamp(call, by=by, reason="Schedule created at enrolment")
        call.save()


@transaction.atomic
def patient_enrol(
    *,
    site: Site,
    sex: str,
    age: int,
    inclusion_date: dt.date,
    consent_date: dt.date,
    weight_kg: Decimal,
    etiology: str,
    pain_duration_months: int,
    first_name: str,
    last_name: str,
    phone: str,
    by: Any,
    study_code: str | None = None,
    comorbidities: list[str] | None = None,
    ketamine_naive: bool | None = None,
    dn4: int | None = None,
    dn4_missing_reason: str = "",
    paroxysms_per_day: int | None = None,
    phone_alt: str = "",
    first_administration_date: dt.date | None = None,
) -> Patient:
    """Enrol an eligible patient, store the identifiers apart and create the call schedule.

    The follow-up calls are planned from ``first_administration_date`` (default: the inclusion
    date) and move when the first administration is recorded on another day.
    """
    reanalysis_on_commit()
    errors = eligibility_errors(
        age=age,
        pain_duration_months=pain_duration_months,
        consent_date=consent_date,
        inclusion_date=inclusion_date,
    )
    if errors:
        raise ValidationError(errors)
    patient = Patient(
        study_code=study_code or next_study_code(site),
        site=site,
        sex=sex,
        age=age,
        inclusion_date=inclusion_date,
        consent_date=consent_date,
        weight_kg=weight_kg,
        etiology=etiology,
        pain_duration_months=pain_duration_months,
        comorbidities=list(comorbidities or []),
        ketamine_naive=ketamine_naive,
        dn4=dn4,
        dn4_missing_reason=dn4_missing_reason,
        paroxysms_per_day=paroxysms_per_day,
    )
    patient.full_clean()
    _stamp(patient, by=by, reason="Enrolment")
    patient.save()
    contact = PatientContact(
        patient=patient,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        phone_alt=phone_alt,
    )
    contact.full_clean()
    _stamp(contact, by=by, reason="Enrolment")
    contact.save()
    _create_schedule(patient, first_administration_date or inclusion_date, by=by)
    return patient


def reschedule_open_calls(*, patient: Patient, by: Any) -> int:
    """Move the due dates of calls not yet made after the first administration moved.

    Return how many calls moved.
    """
    first = patient.first_administration_date()
    if first is None:
        return 0
    moved = 0
    open_calls = patient.calls.filter(status__in=voc.OPEN_CALL_STATUSES).exclude(timepoint="BL")
    for call in open_calls:
        planned = schedule.scheduled_call(first, call.timepoint)
        if planned.target == call.target_date:
            continue
        call.target_date = planned.target
        call.window_start = planned.window_start
        call.window_end = planned.window_end
        call.version += 1
        _stamp(call, by=by, reason=f"First administration on {first.isoformat()}")
        call.save(
            update_fields=["target_date", "window_start", "window_end", "version", "updated_at"]
        )
        moved += 1
    return moved


@transaction.atomic
def administration_record(
    *,
    patient: Patient,
    date: dt.date,
    route: str,
    dose_unit: str,
    dose_value: Decimal,
    by: Any,
    days: int = 1,
    infusion_minutes: int | None = None,
    weight_kg: Decimal | None = None,
) -> KetamineAdministration:
    """Record an administration (dose converted to mg) and reschedule calls if it comes first."""
    reanalysis_on_commit()
    administration = KetamineAdministration(
        patient=patient,
        date=date,
        route=route,
        dose_unit=dose_unit,
        dose_value=Decimal(dose_value),
        weight_kg=Decimal(weight_kg if weight_kg is not None else patient.weight_kg),
        days=days,
        infusion_minutes=infusion_minutes,
    )
    administration.compute_doses()
    administration.full_clean()
    _stamp(administration, by=by, reason="Administration recorded")
    administration.save()
    reschedule_open_calls(patient=patient, by=by)
    return administration


class StaleEditError(Exception):
    """Raised when a row was saved by someone else since the editor loaded it."""


@transaction.atomic
def administration_update(
    *,
    administration: KetamineAdministration,
    by: Any,
    reason: str,
    expected_updated_at: dt.datetime | None = None,
    **changes: Any,
) -> KetamineAdministration:
    """Change an administration (a reason is required) and reschedule calls if needed.

    With ``expected_updated_at`` (when the editor loaded it), a change saved meanwhile by
    someone else is not overwritten: ``StaleEditError`` is raised instead.
    """
    reanalysis_on_commit()
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for changing a recorded value.")})
    if expected_updated_at is not None:
        locked = KetamineAdministration.objects.select_for_update().get(pk=administration.pk)
        if locked.updated_at != expected_updated_at:
            raise StaleEditError(
                _(
                    "This administration was changed by someone else since you opened it. "
                    "Your input is below, beside the values saved now: check them and save again."
                )
            )
    allowed = {"date", "route", "dose_unit", "dose_value", "weight_kg", "days", "infusion_minutes"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    for field, value in changes.items():
        setattr(administration, field, value)
    administration.compute_doses()
    administration.full_clean()
    _stamp(administration, by=by, reason=reason)
    administration.save()
    reschedule_open_calls(patient=administration.patient, by=by)
    return administration


@transaction.atomic
def administration_void(
    *, administration: KetamineAdministration, by: Any, reason: str
) -> KetamineAdministration:
    """Void an administration entered in error (kept, flagged, excluded from doses)."""
    reanalysis_on_commit()
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for voiding an administration.")})
    administration.voided_at = timezone.now()
    administration.void_reason = reason
    _stamp(administration, by=by, reason=reason)
    administration.save(update_fields=["voided_at", "void_reason", "updated_at"])
    reschedule_open_calls(patient=administration.patient, by=by)
    return administration


@transaction.atomic
def patient_set_status(
    *, patient: Patient, status: str, date: dt.date, reason: str, by: Any
) -> Patient:
    """Change a patient's status; leaving follow-up closes the remaining calls with the reason."""
    reanalysis_on_commit()
    if status not in voc.codes(voc.PATIENT_STATUSES):
        raise ValidationError({"status": _("Unknown status.")})
    if status in voc.CLOSED_PATIENT_STATUSES and not reason.strip():
        raise ValidationError({"status_reason": _("Give the reason the follow-up stops.")})
    if date < patient.inclusion_date:
        raise ValidationError({"status_date": _("The date cannot precede inclusion.")})
    patient.status, patient.status_date, patient.status_reason = status, date, reason
    _stamp(patient, by=by, reason=reason or f"Status set to {status}")
    patient.save(update_fields=["status", "status_date", "status_reason", "updated_at"])
    if status in voc.CLOSED_PATIENT_STATUSES:
        label = voc.label(voc.PATIENT_STATUSES, status)
        for call in patient.calls.filter(status__in=voc.OPEN_CALL_STATUSES):
            call.status = "closed"
            call.status_reason = f"{label} on {date.isoformat()}: {reason}"
            call.version += 1
            _stamp(call, by=by, reason=call.status_reason)
            call.save(update_fields=["status", "status_reason", "version", "updated_at"])
    return patient


@transaction.atomic
def patient_enrol_with_administration(
    *, administration: dict[str, Any], by: Any, **enrolment: Any
) -> Patient:
    """Enrol a patient and record the first ketamine administration, which sets the schedule."""
    patient = patient_enrol(by=by, first_administration_date=administration["date"], **enrolment)
    administration_record(patient=patient, by=by, **administration)
    return patient
