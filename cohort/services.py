"""Writes to the cohort: enrolment, administrations, status changes. Every write goes here."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.roles import Role
from cohort import plausible, signals
from cohort import vocabulary as voc
from cohort.call_times import WEEKDAYS, days_code
from cohort.clinical import history_stamp, reason_checked
from cohort.models import (
    DEFAULT_SIGNATURE_MEANING,
    EnrolmentKey,
    KetamineAdministration,
    Patient,
    PatientContact,
    PatientLock,
    Signature,
    Site,
)
from cohort.signals import clinical_change_announce, clinical_write

logger = logging.getLogger(__name__)

MIN_AGE = 18
MIN_PAIN_MONTHS = 6


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
    dates = plausible.enrolment_date_errors(
        inclusion_date=inclusion_date, consent_date=consent_date
    )
    return dates | errors


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
    """
    errors = eligibility_errors(
        age=age,
        pain_duration_months=pain_duration_months,
        consent_date=consent_date,
        inclusion_date=inclusion_date,
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
    signals.send_required(
        signals.patient_enrolled,
        sender=Patient,
        patient=patient,
        first_administration=first_administration_date or inclusion_date,
        by=by,
    )
    clinical_change_announce(sender=Patient, patient=patient, by=by, reason=reason)
    return patient


def reschedule_open_calls(*, patient: Patient, by: Any) -> int:
    """Move the calls not yet made if the first administration moved; return how many moved.

    The follow-up moves them (``followup.scheduling.schedule_move``), told by the signal
    ``administrations_changed``; a move planning a call before the inclusion or after the end of
    the study is refused with a ``ValidationError`` on ``date``.
    """
    answers = signals.send_required(
        signals.administrations_changed, sender=Patient, patient=patient, by=by
    )
    return sum(answer for answer in answers if isinstance(answer, int))


@clinical_write
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
    reason: str = "Administration recorded",
) -> KetamineAdministration:
    """Record an administration (dose converted to mg) and reschedule calls if it comes first."""
    patient_guard_edit(patient=patient, by=by, change=f"administration:{date.isoformat()}")
    errors = administration_days_errors(patient=patient, date=date, days=days)
    if errors:
        raise ValidationError(errors)
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
    history_stamp(administration, by=by, reason=reason)
    administration.save()
    reschedule_open_calls(patient=patient, by=by)
    clinical_change_announce(sender=KetamineAdministration, patient=patient, by=by, reason=reason)
    return administration


def administration_days_errors(
    *,
    patient: Patient,
    date: dt.date,
    days: int,
    field: str = "date",
    excluding: int | None = None,
) -> dict[str, str]:
    """Return the problem of an administration's days: implausible, or overlapping another."""
    errors = plausible.administration_date_errors(date=date, patient=patient, field=field)
    if errors:
        return errors
    others = patient.administrations.filter(voided_at__isnull=True).exclude(pk=excluding)
    return plausible.overlap_errors(
        date=date, days=days, others=list(others.values_list("date", "days")), field=field
    )


class StaleEditError(Exception):
    """Raised when a row was saved by someone else since the editor loaded it."""


@clinical_write
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
    reason = reason_checked(reason, "reason")
    patient_guard_edit(
        patient=administration.patient_id,
        by=by,
        change=f"administration:{administration.date.isoformat()}",
        reason=reason,
    )
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
    errors = administration_days_errors(
        patient=administration.patient,
        date=administration.date,
        days=administration.days,
        excluding=administration.pk,
    )
    if errors:
        raise ValidationError(errors)
    administration.compute_doses()
    administration.full_clean()
    history_stamp(administration, by=by, reason=reason)
    administration.save()
    reschedule_open_calls(patient=administration.patient, by=by)
    clinical_change_announce(
        sender=KetamineAdministration, patient=administration.patient, by=by, reason=reason
    )
    return administration


@clinical_write
@transaction.atomic
def administration_void(
    *, administration: KetamineAdministration, by: Any, reason: str
) -> KetamineAdministration:
    """Void an administration entered in error (kept, flagged, excluded from doses)."""
    reason = reason_checked(reason, "reason")
    patient_guard_edit(
        patient=administration.patient_id,
        by=by,
        change=f"administration:{administration.date.isoformat()}",
        reason=reason,
    )
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for voiding an administration.")})
    administration.voided_at = timezone.now()
    administration.void_reason = reason
    history_stamp(administration, by=by, reason=reason)
    administration.save(update_fields=["voided_at", "void_reason", "updated_at"])
    reschedule_open_calls(patient=administration.patient, by=by)
    clinical_change_announce(
        sender=KetamineAdministration, patient=administration.patient, by=by, reason=reason
    )
    return administration


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


# Lock and sign-off. A data manager locks a finished follow-up; a clinician of the patient's site
# signs it with their password; every service writing the patient's data calls
# ``patient_guard_edit`` first, which refuses while locked and voids a signature otherwise.


def _name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else _("system")


def _day(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def _hold(patient_id: int) -> None:
    """Lock the patient's row until the transaction ends, so a lock and an edit never cross."""
    list(Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True))


def locked_message(lock: PatientLock) -> str:
    """Say who locked the follow-up and when, and what must happen before a change."""
    return _(
        "This patient's follow-up is locked by %(name)s on %(date)s; "
        "a data manager must unlock it first."
    ) % {"name": _name(lock.locked_by), "date": _day(lock.locked_at)}


def patient_guard_edit(*, patient: Patient | int, by: Any, change: str, reason: str = "") -> None:
    """Refuse a change to a locked follow-up; void the signature that a later change breaks.

    Called first by every service that writes a patient's clinical data, inside its transaction
    (so a refused or failed write voids nothing). ``change`` names what is changed: ``call:M3``,
    ``administration:2026-01-05`` or ``patient``.
    """
    reason = reason_checked(reason, "reason")
    patient_id = patient if isinstance(patient, int) else patient.pk
    _hold(patient_id)
    # A separate statement, so that it sees what a transaction that held the row committed.
    state = (
        Patient.objects.filter(pk=patient_id)
        .values_list(
            Exists(PatientLock.objects.filter(patient_id=patient_id, locked=True)),
            Exists(Signature.objects.filter(patient_id=patient_id, voided_at__isnull=True)),
        )
        .first()
    )
    locked, signed = state if state is not None else (False, False)
    if locked:
        lock = PatientLock.objects.select_related("locked_by").filter(patient_id=patient_id).get()
        raise ValidationError({NON_FIELD_ERRORS: ValidationError(locked_message(lock), "locked")})
    if signed:
        signature = Signature.objects.filter(patient_id=patient_id, voided_at__isnull=True).first()
        if signature is not None:
            signature_void(signature=signature, by=by, change=change, reason=reason)


@transaction.atomic
def signature_void(*, signature: Signature, by: Any, change: str, reason: str = "") -> Signature:
    """Void a signature because the signed data changed: who changed what, when and why."""
    reason = reason_checked(reason, "reason")
    signature.voided_at = timezone.now()
    signature.voided_by = by
    signature.voided_change = change[:60]
    signature.void_reason = reason or "Data changed after signing"
    history_stamp(
        signature, by=by, reason=f"Voided by the change of {change}: {signature.void_reason}"
    )
    signature.save(
        update_fields=["voided_at", "voided_by", "voided_change", "void_reason", "updated_at"]
    )
    return signature


def _is_data_manager(user: Any) -> bool:
    return bool(user.is_superuser or user.has_role(Role.DATA_MANAGER))


def can_sign(user: Any, patient: Patient) -> bool:
    """Say whether a user may sign a patient's follow-up: a clinician of the patient's site."""
    if not user.has_role(Role.CLINICIAN):
        return False
    return user.sites.filter(pk=patient.site_id).exists()


@transaction.atomic
def patient_lock(*, patient: Patient, by: Any) -> PatientLock:
    """Lock a finished follow-up (data managers): nothing changes until it is unlocked."""
    if not _is_data_manager(by):
        raise PermissionDenied(_("Only data managers lock a follow-up."))
    _hold(patient.pk)
    lock = PatientLock.objects.filter(patient=patient).first() or PatientLock(patient=patient)
    if lock.locked:
        raise ValidationError(locked_message(lock))
    if not patient.follow_up_is_over():
        open_calls = patient.calls.filter(status__in=voc.OPEN_CALL_STATUSES).count()
        raise ValidationError(
            _(
                "The follow-up is not over: the patient is still followed and %(n)s calls are "
                "still open. Close them, or record the end of the follow-up, before locking."
            )
            % {"n": open_calls}
        )
    lock.locked, lock.locked_at, lock.locked_by = True, timezone.now(), by
    lock.unlocked_at, lock.unlocked_by, lock.unlock_reason = None, None, ""
    history_stamp(lock, by=by, reason="Follow-up locked")
    lock.save()
    patient.lock = lock
    return lock


@transaction.atomic
def patient_unlock(*, patient: Patient, by: Any, reason: str) -> PatientLock:
    """Unlock a follow-up (data managers, with a reason); a later change voids the signature."""
    reason = reason_checked(reason, "reason")
    if not _is_data_manager(by):
        raise PermissionDenied(_("Only data managers unlock a follow-up."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for unlocking.")})
    _hold(patient.pk)
    lock = PatientLock.objects.filter(patient=patient, locked=True).first()
    if lock is None:
        raise ValidationError(_("This follow-up is not locked."))
    lock.locked = False
    lock.unlocked_at, lock.unlocked_by, lock.unlock_reason = timezone.now(), by, reason.strip()
    history_stamp(lock, by=by, reason=reason.strip())
    lock.save(update_fields=["locked", "unlocked_at", "unlocked_by", "unlock_reason", "updated_at"])
    patient.lock = lock
    return lock


@transaction.atomic
def patient_sign(
    *, patient: Patient, by: Any, password: str, meaning: str | None = None
) -> Signature:
    """Sign a locked follow-up (a clinician of its site, giving their password again).

    The signature stores the signer, the name as it is now, the time and the meaning attested
    (by default ``DEFAULT_SIGNATURE_MEANING`` in the signer's language). A wrong password
    stores nothing.
    """
    if not can_sign(by, patient):
        raise PermissionDenied(_("Only a clinician of the patient's site signs its follow-up."))
    _hold(patient.pk)
    if not PatientLock.objects.filter(patient=patient, locked=True).exists():
        raise ValidationError(
            _("Only a locked follow-up can be signed: a data manager must lock it first.")
        )
    signed = Signature.objects.filter(patient=patient, voided_at__isnull=True).first()
    if signed is not None:
        raise ValidationError(
            _("This follow-up is already signed by %(name)s on %(date)s.")
            % {"name": signed.signer_name, "date": _day(signed.signed_at)}
        )
    failures_key = f"signature-failures:{by.pk}"
    if (cache.get(failures_key) or 0) >= settings.AXES_FAILURE_LIMIT:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise ValidationError(
            {
                "password": _(
                    "Too many wrong passwords: signing is blocked for %(minutes)d minutes."
                )
                % {"minutes": minutes}
            }
        )
    if not password or not by.check_password(password):
        # Counted outside the database, so that the refusal's rollback keeps the count.
        cache.add(failures_key, 0, timeout=settings.AXES_COOLOFF_TIME.total_seconds())
        cache.incr(failures_key)
        logger.warning("Wrong password when signing (user %s)", by.pk)
        raise ValidationError({"password": _("Wrong password: nothing was signed.")})
    cache.delete(failures_key)
    signature = Signature(
        patient=patient,
        signer=by,
        signer_name=_name(by),
        signed_at=timezone.now(),
        meaning=(meaning or "").strip() or str(DEFAULT_SIGNATURE_MEANING),
    )
    signature.full_clean()
    history_stamp(signature, by=by, reason=signature.meaning)
    signature.save()
    return signature
