"""Call attempts (reached or not, refused, withdrew) and dismissed lost-to-follow-up proposals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohort import plausible
from cohort import vocabulary as voc
from cohort.clinical import history_stamp, reason_checked
from cohort.models import Patient
from cohort.services import (
    patient_guard_edit,
)
from cohort.signals import clinical_change_announce, clinical_write
from config.saves import StaleWriteError
from followup.models import (
    CallAttempt,
    FollowUpCall,
    LostProposalDismissal,
)
from followup.scheduling import schedule_close as schedule_close
from followup.scheduling import schedule_create as schedule_create
from followup.scheduling import schedule_move as schedule_move

# Attempt outcomes and the call status each one leaves.
_OUTCOME_STATUS = {"refused": "refused", "withdrew": "withdrawn"}


class StaleCallError(StaleWriteError):
    """Raised when a call was saved by someone else since the editor loaded it."""


def _lock_call(call: FollowUpCall, expected_version: int | None) -> FollowUpCall:
    """Reload the call under a row lock and refuse the write if its version moved on.

    The caller's patient (and its site) stays on the call reloaded rather than being read again.
    """
    locked = FollowUpCall.objects.select_for_update().get(pk=call.pk)
    if FollowUpCall.patient.is_cached(call):
        locked.patient = call.patient
    if expected_version is not None and locked.version != expected_version:
        raise StaleCallError(
            _(
                "This call was changed by someone else while you were editing it "
                "(version %(theirs)s, yours %(yours)s). Your answers are kept on the page: "
                "reload the call in another tab, compare, then save again."
            )
            % {"theirs": locked.version, "yours": expected_version}
        )
    return locked


@clinical_write
@transaction.atomic
def call_record_attempt(
    *,
    call: FollowUpCall,
    outcome: str,
    by: Any,
    at: dt.datetime | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> CallAttempt:
    """Log one attempt; an unreached attempt leaves the call due, a refusal closes it.

    The ``CALL_FAILED_ATTEMPTS_TO_MISS``-th unreached attempt of a call marks it missed
    (unreachable); the patient's next call stays due.
    """
    patient_guard_edit(patient=call.patient_id, by=by, change=f"call:{call.timepoint}", reason=note)
    errors = plausible.attempt_time_errors(at=at, patient=call.patient)
    if errors:
        raise ValidationError(errors)
    call = _lock_call(call, expected_version)
    attempt = CallAttempt(
        call=call, outcome=outcome, by=by, attempted_at=at or timezone.now(), note=note
    )
    attempt.full_clean()
    history_stamp(attempt, by=by, reason=f"Attempt: {outcome}")
    attempt.save()
    new_status = _OUTCOME_STATUS.get(outcome)
    why = f"Attempt: {outcome}"
    call.version += 1
    fields = ["version", "updated_at"]
    if new_status:
        call.status = new_status
        call.status_reason = note
        fields += ["status", "status_reason"]
    elif outcome in voc.FAILED_ATTEMPT_OUTCOMES and call.status == "due":
        failed = call.attempts.filter(outcome__in=voc.FAILED_ATTEMPT_OUTCOMES).count()
        if failed >= settings.CALL_FAILED_ATTEMPTS_TO_MISS:
            call.status = voc.MISSED_CALL_STATUS
            call.status_reason = why = f"Missed: {failed} attempts without reaching the patient"
            fields += ["status", "status_reason"]
    history_stamp(call, by=by, reason=why)
    call.save(update_fields=fields)
    clinical_change_announce(
        sender=CallAttempt, patient=call.patient, by=by, reason=note or why, call=call
    )
    return attempt


@transaction.atomic
def lost_proposal_dismiss(
    *, patient: Patient, last_missed_call: FollowUpCall, reason: str, by: Any
) -> LostProposalDismissal:
    """Keep a patient proposed as lost to follow-up in the follow-up, saying why.

    The patient is proposed again only after a call later than ``last_missed_call`` is missed.
    """
    reason = reason_checked(reason, "reason")
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason to keep following this patient.")})
    if (
        last_missed_call.patient_id != patient.pk
        or last_missed_call.status != voc.MISSED_CALL_STATUS
    ):
        raise ValidationError(
            {"last_missed_call": _("This call is not a missed call of the patient.")}
        )
    dismissal = LostProposalDismissal(
        patient=patient, last_missed_call=last_missed_call, reason=reason.strip(), by=by
    )
    dismissal.full_clean()
    history_stamp(dismissal, by=by, reason=dismissal.reason)
    dismissal.save()
    return dismissal
