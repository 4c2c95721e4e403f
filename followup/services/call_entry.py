"""A call entered at once: attempt, answers, adverse effects, treatments, administration."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cohort import plausible
from cohort.clinical import history_stamp, reason_checked
from cohort.services import (
    administration_days_errors,
    administration_record,
    patient_guard_edit,
)
from cohort.signals import clinical_change_announce, clinical_write
from followup.models import (
    CallAttempt,
    FollowUpCall,
)
from followup.scheduling import schedule_close as schedule_close
from followup.scheduling import schedule_create as schedule_create
from followup.scheduling import schedule_move as schedule_move
from followup.services.adverse_events import _sync_adverse_events, _sync_treatments
from followup.services.questionnaires import questionnaires_save
from followup.validators import (
    adverse_event_errors,
    questionnaire_errors,
    treatment_errors,
)

_ADMINISTRATION_REQUIRED = ("date", "route", "dose_unit", "dose_value")


def administration_errors(entry: Mapping[str, Any] | None) -> dict[str, str]:
    """Return the missing parts of a new administration entered at a call (admin_<field>)."""
    if not entry:
        return {}
    return {
        f"admin_{field}": _("Needed to record the administration.")
        for field in _ADMINISTRATION_REQUIRED
        if entry.get(field) in (None, "")
    }


@clinical_write
@transaction.atomic
def call_save(
    *,
    call: FollowUpCall,
    data: Mapping[str, Any],
    by: Any,
    adverse_events: list[Mapping[str, Any]] | None = None,
    treatments: list[Mapping[str, Any]] | None = None,
    administration: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    complete: bool = False,
    call_date: dt.date | None = None,
    reason: str = "",
    note: str = "",
) -> FollowUpCall:
    """Save everything said during a reached call: a draft, or the completed call.

    Questionnaires go through ``questionnaires_save``; adverse effects and treatments replace
    the call's ticked lists (unticked rows are voided); a new ketamine administration is
    recorded for the patient. Every problem is reported at once, before anything is written.
    Completing also logs the reached attempt.
    """
    reason = reason_checked(reason, "reason")
    patient_guard_edit(
        patient=call.patient_id, by=by, change=f"call:{call.timepoint}", reason=reason
    )
    errors = questionnaire_errors(data, complete=complete)
    errors.update(adverse_event_errors(list(adverse_events or [])))
    errors.update(treatment_errors(list(treatments or [])))
    errors.update(administration_errors(administration))
    if call.status == "reached" and not reason.strip():
        errors["reason"] = _("This call is completed: give a reason for the change.")
    errors |= plausible.call_date_errors(call_date=call_date, patient=call.patient)
    if administration and not errors.keys() & {"admin_date", "admin_days"}:
        errors |= administration_days_errors(
            patient=call.patient,
            date=administration["date"],
            days=administration.get("days") or 1,
            field="admin_date",
        )
    if errors:
        raise ValidationError(errors)
    was_open = call.is_open
    call = questionnaires_save(
        call=call,
        data=data,
        by=by,
        expected_version=expected_version,
        complete=complete,
        call_date=call_date,
        reason=reason,
    )
    why = reason or ("Call completed" if complete else "Draft saved")
    if adverse_events is not None:
        _sync_adverse_events(call, adverse_events, by=by, reason=why)
    if treatments is not None:
        _sync_treatments(call, treatments, by=by, reason=why)
    if administration:
        administration_record(patient=call.patient, by=by, **administration)
    if was_open and note.strip() != call.notes:
        # A draft keeps the note for the attempt still to log; completing logs it with it.
        call.notes = "" if complete else note.strip()
        if call.notes != FollowUpCall.objects.get(pk=call.pk).notes:
            history_stamp(call, by=by, reason=why)
            call.save(update_fields=["notes", "updated_at"])
    if complete and was_open and not call.is_baseline:
        attempt = CallAttempt(call=call, outcome="reached", by=by, note=note)
        attempt.full_clean()
        history_stamp(attempt, by=by, reason="Attempt: reached")
        attempt.save()
    call.refresh_from_db()
    # A correction answers the open queries on the values it changed (its reason is the answer).
    clinical_change_announce(
        sender=FollowUpCall,
        patient=call.patient,
        by=by,
        reason=reason or _("Value entered at the call."),
        call=call,
    )
    return call
