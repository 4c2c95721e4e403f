"""Writes to the follow-up: call attempts and questionnaire answers. Every write goes here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.services import reanalysis_on_commit
from followup.models import (
    CallAttempt,
    FollowUpCall,
    HadsResponse,
    NprsResponse,
    Sf12Response,
)
from followup.validators import (
    HADS_FIELDS,
    NPRS_FIELDS,
    SF12_FIELDS,
    hads_answers,
    questionnaire_errors,
    sf12_answers,
)

# Attempt outcomes and the call status each one leaves.
_OUTCOME_STATUS = {"refused": "refused", "withdrew": "withdrawn"}


class StaleCallError(Exception):
    """Raised when a call was saved by someone else since the editor loaded it."""


def _stamp(instance: Any, *, by: Any, reason: str) -> None:
    instance._history_user = by
    instance._change_reason = reason


def _lock_call(call: FollowUpCall, expected_version: int | None) -> FollowUpCall:
    """Reload the call under a row lock and refuse the write if its version moved on."""
    locked = FollowUpCall.objects.select_for_update().get(pk=call.pk)
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
    """Log one attempt; an unreached attempt leaves the call due, a refusal closes it."""
    reanalysis_on_commit()
    call = _lock_call(call, expected_version)
    attempt = CallAttempt(
        call=call, outcome=outcome, by=by, attempted_at=at or timezone.now(), note=note
    )
    attempt.full_clean()
    _stamp(attempt, by=by, reason=f"Attempt: {outcome}")
    attempt.save()
    new_status = _OUTCOME_STATUS.get(outcome)
    call.version += 1
    fields = ["version", "updated_at"]
    if new_status:
        call.status = new_status
        call.status_reason = note
        fields += ["status", "status_reason"]
    _stamp(call, by=by, reason=f"Attempt: {outcome}")
    call.save(update_fields=fields)
    return attempt


def _upsert(
    model: type, call: FollowUpCall, values: Mapping[str, Any], *, by: Any, reason: str
) -> Any:
    instance = model.objects.filter(call=call).first() or model(call=call)
    for field, value in values.items():
        setattr(instance, field, value)
    instance.full_clean(exclude=["call"])
    _stamp(instance, by=by, reason=reason)
    instance.save()
    return instance


@transaction.atomic
def questionnaires_save(
    *,
    call: FollowUpCall,
    data: Mapping[str, Any],
    by: Any,
    expected_version: int | None = None,
    complete: bool = False,
    call_date: dt.date | None = None,
    reason: str = "",
) -> FollowUpCall:
    """Save the NPRS, HADS and SF-12 answers of a call (a draft, or completed when asked).

    ``data`` is flat, with the export field names (``nprs_mean``, ``hads_3``, ``sf12_gh1``...)
    and ``<instrument>_missing_reason``. Every problem is reported at once as a ValidationError
    keyed by field; nothing is written then. Editing a completed call needs a reason.
    """
    reanalysis_on_commit()
    errors = questionnaire_errors(data, complete=complete)
    if call.status == "reached" and not reason.strip():
        errors["reason"] = _("This call is completed: give a reason for the change.")
    if errors:
        raise ValidationError(errors)
    call = _lock_call(call, expected_version)
    why = reason or ("Call completed" if complete else "Draft saved")
    _upsert(
        NprsResponse,
        call,
        {
            "mean": data.get(NPRS_FIELDS[0]),
            "maximum": data.get(NPRS_FIELDS[1]),
            "missing_reason": data.get("nprs_missing_reason") or "",
        },
        by=by,
        reason=why,
    )
    if any(data.get(f) is not None for f in HADS_FIELDS) or data.get("hads_missing_reason"):
        answers = hads_answers(data)
        values: dict[str, Any] = {f"item_{n}": answers[n] for n in range(1, 15)}
        values["missing_reason"] = data.get("hads_missing_reason") or ""
        _upsert(HadsResponse, call, values, by=by, reason=why)
    if any(data.get(f) is not None for f in SF12_FIELDS) or data.get("sf12_missing_reason"):
        sf_values: dict[str, Any] = {k.lower(): v for k, v in sf12_answers(data).items()}
        sf_values["missing_reason"] = data.get("sf12_missing_reason") or ""
        _upsert(Sf12Response, call, sf_values, by=by, reason=why)
    fields = ["version", "updated_at"]
    call.version += 1
    if complete and call.status != "reached":
        call.status = "reached"
        call.call_date = call_date or timezone.localdate()
        call.completed_at = timezone.now()
        call.completed_by = by
        fields += ["status", "call_date", "completed_at", "completed_by"]
    _stamp(call, by=by, reason=why)
    call.save(update_fields=fields)
    return call
