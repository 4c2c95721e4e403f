"""The answers of a call (NPRS, HADS, SF-12) and the clinician's review they may call for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohort import plausible
from cohort.clinical import history_stamp, reason_checked
from cohort.services import (
    patient_guard_edit,
)
from cohort.signals import clinical_change_announce, clinical_write
from followup.instruments import hads, missing
from followup.models import (
    FollowUpCall,
    HadsResponse,
    NprsResponse,
    Sf12Response,
)
from followup.scheduling import schedule_close as schedule_close
from followup.scheduling import schedule_create as schedule_create
from followup.scheduling import schedule_move as schedule_move
from followup.services.attempts import _lock_call
from followup.validators import (
    HADS_FIELDS,
    NPRS_FIELDS,
    SF12_FIELDS,
    hads_answers,
    item_reasons,
    questionnaire_errors,
    sf12_answers,
)

# A definite depression on the HADS (the abnormal band) or pain risen this much above baseline
# (mean NPRS, in points) marks a completed call for clinician review.
REVIEW_HADS_DEPRESSION_FROM = hads.BORDERLINE_MAX + 1
REVIEW_NPRS_RISE = 2


def _stored(call: FollowUpCall) -> dict[type, Any]:
    """Return the call's stored answers by instrument (None when not yet stored), read in one
    statement rather than one for each instrument."""
    found = FollowUpCall.objects.select_related("nprs", "hads", "sf12").get(pk=call.pk)
    stored: dict[type, Any] = {
        NprsResponse: getattr(found, "nprs", None),
        HadsResponse: getattr(found, "hads", None),
        Sf12Response: getattr(found, "sf12", None),
    }
    for instance in stored.values():
        if instance is not None:
            instance.call = call
    return stored


def _upsert(
    model: type,
    call: FollowUpCall,
    values: Mapping[str, Any],
    *,
    stored: dict[type, Any],
    by: Any,
    reason: str,
) -> Any:
    instance = stored[model] or model(call=call)
    for field, value in values.items():
        setattr(instance, field, value)
    # The answers were checked by followup.validators before any write, and the database's
    # CHECK constraints still guard every range: asking the database for each of a
    # questionnaire's 26 constraints here would cost some eighty statements per call.
    instance.full_clean(exclude=["call"], validate_constraints=False)
    history_stamp(instance, by=by, reason=reason)
    instance.save()
    return instance


def _reasons(data: Mapping[str, Any], instrument: str) -> dict[str, Any]:
    """Return the stored reasons of one instrument: every blank item's, and the whole one's.

    The instrument's own reason is kept when every item is blank (the reason most items share).
    """
    reasons = item_reasons(data, instrument)
    fields = missing.INSTRUMENT_FIELDS[instrument]
    whole = len(reasons) == len(fields)
    summary = missing.summary_reason(reasons.values()) if whole else None
    return {"item_reasons": reasons, "missing_reason": summary or ""}


@clinical_write
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

    ``data`` is flat, with the export field names (``nprs_mean``, ``hads_3``, ``sf12_gh1``...),
    ``<instrument>_missing_reason`` (for all its blank items) and ``<item>_missing_reason`` (one
    item). Each blank item's reason is stored in ``item_reasons``. Every problem is reported at
    once as a ValidationError keyed by field; nothing is written then. Editing a completed call
    needs a reason.
    """
    reason = reason_checked(reason, "reason")
    patient_guard_edit(
        patient=call.patient_id, by=by, change=f"call:{call.timepoint}", reason=reason
    )
    errors = questionnaire_errors(data, complete=complete)
    if call.status == "reached" and not reason.strip():
        errors["reason"] = _("This call is completed: give a reason for the change.")
    errors |= plausible.call_date_errors(call_date=call_date, patient=call.patient)
    if errors:
        raise ValidationError(errors)
    call = _lock_call(call, expected_version)
    why = reason or ("Call completed" if complete else "Draft saved")
    stored = _stored(call)
    _upsert(
        NprsResponse,
        call,
        {"mean": data.get(NPRS_FIELDS[0]), "maximum": data.get(NPRS_FIELDS[1])}
        | _reasons(data, "nprs"),
        stored=stored,
        by=by,
        reason=why,
    )
    hads_row = None
    hads_reasons = _reasons(data, "hads")
    if any(data.get(f) is not None for f in HADS_FIELDS) or hads_reasons["item_reasons"]:
        answers = hads_answers(data)
        values: dict[str, Any] = {f"item_{n}": answers[n] for n in range(1, 15)}
        hads_row = _upsert(
            HadsResponse, call, values | hads_reasons, stored=stored, by=by, reason=why
        )
    sf12_reasons = _reasons(data, "sf12")
    if any(data.get(f) is not None for f in SF12_FIELDS) or sf12_reasons["item_reasons"]:
        sf_values: dict[str, Any] = {k.lower(): v for k, v in sf12_answers(data).items()}
        _upsert(Sf12Response, call, sf_values | sf12_reasons, stored=stored, by=by, reason=why)
    fields = ["version", "updated_at"]
    call.version += 1
    if complete and call.status != "reached":
        call.status = "reached"
        call.call_date = call_date or call.call_date or timezone.localdate()
        call.completed_at = timezone.now()
        call.completed_by = by
        fields += ["status", "call_date", "completed_at", "completed_by"]
    elif call_date is not None and call_date != call.call_date:
        # A draft keeps the day of the call as typed; a completed call's date is corrected.
        call.call_date = call_date
        fields.append("call_date")
    if call.status == "reached" and not call.is_baseline:
        depression = hads_row.depression if hads_row is not None else None
        reasons = review_reasons(
            call=call, nprs_mean=data.get(NPRS_FIELDS[0]), depression=depression
        )
        if reasons != call.review_reasons or bool(reasons) != call.needs_review:
            call.review_reasons = reasons
            call.needs_review = bool(reasons)
            fields += ["review_reasons", "needs_review"]
    history_stamp(call, by=by, reason=why)
    call.save(update_fields=fields)
    clinical_change_announce(
        sender=FollowUpCall, patient=call.patient, by=by, reason=why, call=call
    )
    return call


def review_reasons(
    *, call: FollowUpCall, nprs_mean: int | None, depression: int | None
) -> list[str]:
    """Return why a completed call needs a clinician's review (codes of voc.REVIEW_REASONS)."""
    reasons = []
    if depression is not None and depression >= REVIEW_HADS_DEPRESSION_FROM:
        reasons.append("depression")
    if nprs_mean is not None:
        baseline = (
            NprsResponse.objects.filter(call__patient_id=call.patient_id, call__timepoint="BL")
            .values_list("mean", flat=True)
            .first()
        )
        if baseline is not None and nprs_mean - baseline >= REVIEW_NPRS_RISE:
            reasons.append("pain_rise")
    return reasons


@transaction.atomic
def call_mark_reviewed(*, call: FollowUpCall, by: Any, note: str = "") -> FollowUpCall:
    """Record that a clinician has seen a flagged call; the reasons stay for the record."""
    note = reason_checked(note, "note")
    patient_guard_edit(patient=call.patient_id, by=by, change=f"call:{call.timepoint}", reason=note)
    call = _lock_call(call, None)
    call.needs_review = False
    call.version += 1
    history_stamp(call, by=by, reason=f"Reviewed by clinician: {note}".strip(": "))
    call.save(update_fields=["needs_review", "version", "updated_at"])
    return call
