"""Enrolment: eligibility, study codes, the enrolment itself and its repeat-safe form."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from cohort import plausible, signals
from cohort.call_times import days_code
from cohort.clinical import history_stamp
from cohort.models import EnrolmentKey, Patient, PatientContact, Site
from cohort.services.administrations import administration_record
from cohort.services.status import call_times_errors
from cohort.signals import clinical_change_announce, clinical_write
from trials.definitions import Eligibility

MIN_AGE = 18
MIN_PAIN_MONTHS = 6


# The patient file's chronic pain fields, collected only by a study whose definition says so.
PAIN_HISTORY_FIELDS = (
    "etiology",
    "pain_duration_months",
    "dn4",
    "dn4_missing_reason",
    "paroxysms_per_day",
)


def eligibility_errors(
    *,
    age: int | None,
    pain_duration_months: int | None,
    consent_date: dt.date | None,
    inclusion_date: dt.date | None,
    chronic_pain: bool = True,
    eligibility: Eligibility | None = None,
) -> dict[str, str]:
    """Return every eligibility problem at once, keyed by field (empty when eligible).

    ``chronic_pain`` (the study collects the pain history) adds the pain duration criterion;
    ``eligibility`` (the study definition's) gives the ages, 18 and over by default.
    """
    errors: dict[str, str] = {}
    ages = eligibility or Eligibility()
    if age is None or age < ages.min_age:
        if ages.min_age == MIN_AGE:
            errors["age"] = _("Patients must be 18 or older.")
        else:
            errors["age"] = _("Patients of this study must be %(age)s or older.") % {
                "age": ages.min_age
            }
    elif ages.max_age is not None and age > ages.max_age:
        errors["age"] = _("Patients of this study must be %(age)s or younger.") % {
            "age": ages.max_age
        }
    if chronic_pain and (pain_duration_months is None or pain_duration_months <= MIN_PAIN_MONTHS):
        errors["pain_duration_months"] = _("Chronic pain must have lasted more than 6 months.")
    if consent_date is None:
        errors["consent_date"] = _("The date the non-opposition form was signed is required.")
    elif inclusion_date is not None and consent_date > inclusion_date:
        errors["consent_date"] = _("Consent must be dated on or before inclusion.")
    dates = plausible.enrolment_date_errors(
        inclusion_date=inclusion_date, consent_date=consent_date
    )
    return dates | errors


def site_eligibility_errors(site: Site, **values: Any) -> dict[str, str]:
    """Return the eligibility problems of an enrolment at a site, by its study's definition."""
    protocol = site.study.protocol
    return eligibility_errors(
        chronic_pain=protocol.collects_pain_history, eligibility=protocol.eligibility, **values
    )


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


@clinical_write
@transaction.atomic
def patient_enrol(
    *,
    site: Site,
    sex: str,
    age: int,
    inclusion_date: dt.date,
    consent_date: dt.date,
    weight_kg: Decimal,
    first_name: str,
    last_name: str,
    phone: str,
    by: Any,
    etiology: str = "",
    pain_duration_months: int | None = None,
    study_code: str | None = None,
    comorbidities: list[str] | None = None,
    ketamine_naive: bool | None = None,
    dn4: int | None = None,
    dn4_missing_reason: str = "",
    paroxysms_per_day: int | None = None,
    phone_alt: str = "",
    first_administration_date: dt.date | None = None,
    call_from: dt.time | None = None,
    call_to: dt.time | None = None,
    call_days: list[int] | None = None,
    call_note: str = "",
    reason: str = "Enrolment",
    status: str = "active",
    status_date: dt.date | None = None,
    status_reason: str = "",
    without_identifiers: bool = False,
) -> Patient:
    """Enrol an eligible patient, store the identifiers apart and create the call schedule.

    The follow-up calls are planned from ``first_administration_date`` (default: the inclusion
    date) and move when the first administration is recorded on another day. The preferred
    call time is optional. An imported patient comes ``without_identifiers`` (site staff add
    them later), with the status the file gives and the import as the ``reason``.

    The chronic pain fields (``PAIN_HISTORY_FIELDS``) follow the site's study's definition: a
    study that collects the pain history requires the etiology and the pain duration; one that
    does not (the depression study) refuses any of them rather than store what it never asked.
    """
    errors = site_eligibility_errors(
        site,
        age=age,
        pain_duration_months=pain_duration_months,
        consent_date=consent_date,
        inclusion_date=inclusion_date,
    )
    errors |= pain_history_errors(
        site,
        etiology=etiology,
        pain_duration_months=pain_duration_months,
        dn4=dn4,
        dn4_missing_reason=dn4_missing_reason,
        paroxysms_per_day=paroxysms_per_day,
    )
    errors |= call_times_errors(call_from=call_from, call_to=call_to, days=call_days or [])
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
        call_from=call_from,
        call_to=call_to,
        call_days=days_code(call_days or []),
        call_note=call_note.strip(),
        status=status,
        status_date=status_date,
        status_reason=status_reason,
    )
    patient.full_clean()
    history_stamp(patient, by=by, reason=reason)
    patient.save()
    if not without_identifiers:
        _identifiers_save(patient, first_name, last_name, phone, phone_alt, by=by, reason=reason)
    _enrolment_announce(patient, first_administration_date or inclusion_date, by=by, reason=reason)
    return patient


def pain_history_errors(site: Site, **values: Any) -> dict[str, str]:
    """Return the problems of the chronic pain fields given for the site's study.

    A study collecting the pain history needs the etiology; any other refuses every one of
    them (``values``: the fields of ``PAIN_HISTORY_FIELDS`` given, empty ones ignored).
    """
    if site.study.protocol.collects_pain_history:
        if not values.get("etiology"):
            return {"etiology": _("Give the pain etiology.")}
        return {}
    message = _("The study %(study)s does not collect the pain history: leave this empty.") % {
        "study": site.study.code
    }
    return {name: message for name, value in values.items() if value not in (None, "")}


def _identifiers_save(
    patient: Patient,
    first_name: str,
    last_name: str,
    phone: str,
    phone_alt: str,
    *,
    by: Any,
    reason: str,
) -> PatientContact:
    """Store the new patient's name and phone numbers apart from the clinical data."""
    contact = PatientContact(
        patient=patient,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        phone_alt=phone_alt,
    )
    contact.full_clean()
    history_stamp(contact, by=by, reason=reason)
    contact.save()
    return contact


def _enrolment_announce(
    patient: Patient, first_administration: dt.date, *, by: Any, reason: str
) -> None:
    """Have the follow-up plan the calls from the first administration; announce the change."""
    signals.send_required(
        signals.patient_enrolled,
        sender=Patient,
        patient=patient,
        first_administration=first_administration,
        by=by,
    )
    clinical_change_announce(sender=Patient, patient=patient, by=by, reason=reason)


@clinical_write
@transaction.atomic
def patient_enrol_with_administration(
    *, administration: dict[str, Any], by: Any, **enrolment: Any
) -> Patient:
    """Enrol a patient and record the first ketamine administration, which sets the schedule."""
    patient = patient_enrol(by=by, first_administration_date=administration["date"], **enrolment)
    administration_record(patient=patient, by=by, **administration)
    clinical_change_announce(sender=Patient, patient=patient, by=by, reason="Enrolment")
    return patient


class EnrolmentKeyReused(Exception):
    """Raised when an enrolment key comes back with another enrolment than the one it made."""


def enrolment_fingerprint(payload: Any) -> str:
    """Return a hash of what a client sent to enrol, whatever the order of its keys."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def patient_enrol_once(
    *, key: str, by: Any, enrol: Callable[[], Patient], fingerprint: str = ""
) -> tuple[Patient, bool]:
    """Run ``enrol()`` unless this user already enrolled with ``key``: (patient, created).

    A repeated submission (a double click, a resent request) returns the patient the first one
    created. With a ``fingerprint``, a key sent again with another content raises
    ``EnrolmentKeyReused``. Two submissions racing each other: the second waits on the key's
    unique index, then finds the first one's patient.
    """
    scoped = f"{getattr(by, 'pk', None)}:{key}"[:100]

    def earlier() -> Patient | None:
        found = EnrolmentKey.objects.select_related("patient").filter(key=scoped).first()
        if found is None:
            return None
        if fingerprint and found.fingerprint and found.fingerprint != fingerprint:
            raise EnrolmentKeyReused(
                _("This key was already used for another enrolment (%(code)s).")
                % {"code": found.patient.study_code}
            )
        return found.patient

    patient = earlier()
    if patient is not None:
        return patient, False
    try:
        with transaction.atomic():
            patient = enrol()
            EnrolmentKey.objects.create(key=scoped, patient=patient, fingerprint=fingerprint)
    except IntegrityError:
        patient = earlier()
        if patient is None:
            raise
        return patient, False
    return patient, True
