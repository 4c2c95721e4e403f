"""Ketamine administrations: record, correct, void; the open calls move with the first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohort import plausible, signals
from cohort.clinical import history_stamp, reason_checked, reason_required
from cohort.models import (
    KetamineAdministration,
    Patient,
)
from cohort.services.locks import patient_guard_edit
from cohort.signals import clinical_change_announce, clinical_write
from config.saves import StaleWriteError


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


class StaleEditError(StaleWriteError):
    """Raised when a row was saved by someone else since the editor loaded it (the API: 409)."""


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
    reason_required(reason)
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
