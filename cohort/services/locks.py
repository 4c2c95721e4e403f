"""Lock and sign-off of a patient's follow-up, and the guard every clinical write calls."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.roles import Role
from cohort import vocabulary as voc
from cohort.clinical import history_stamp, reason_checked
from cohort.models import (
    DEFAULT_SIGNATURE_MEANING,
    Patient,
    PatientLock,
    Signature,
)

# The name the lock and sign-off logged under before the services became a package.
logger = logging.getLogger("cohort.services")


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
