"""Writes to the follow-up: call attempts and questionnaire answers. Every write goes here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
    administration_days_errors,
    administration_record,
    patient_guard_edit,
)
from cohort.signals import clinical_change_announce, clinical_write
from config.saves import StaleWriteError
from followup.instruments import hads, missing
from followup.models import (
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    FollowUpCall,
    HadsResponse,
    LostProposalDismissal,
    NprsResponse,
    Sf12Response,
)
from followup.scheduling import schedule_close as schedule_close
from followup.scheduling import schedule_create as schedule_create
from followup.scheduling import schedule_move as schedule_move
from followup.signals import adverse_event_recorded
from followup.validators import (
    HADS_FIELDS,
    NPRS_FIELDS,
    SF12_FIELDS,
    adverse_event_errors,
    adverse_event_record_errors,
    hads_answers,
    item_reasons,
    questionnaire_errors,
    sf12_answers,
    treatment_errors,
)

# A definite depression on the HADS (the abnormal band) or pain risen this much above baseline
# (mean NPRS, in points) marks a completed call for clinician review.
REVIEW_HADS_DEPRESSION_FROM = hads.BORDERLINE_MAX + 1
REVIEW_NPRS_RISE = 2

# Attempt outcomes and the call status each one leaves.
_OUTCOME_STATUS = {"refused": "refused", "withdrew": "withdrawn"}


class StaleCallError(StaleWriteError):
    """Raised when a call was saved by someone else since the editor loaded it."""


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


def _upsert(
    model: type, call: FollowUpCall, values: Mapping[str, Any], *, by: Any, reason: str
) -> Any:
    instance = model.objects.filter(call=call).first() or model(call=call)
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
    _upsert(
        NprsResponse,
        call,
        {"mean": data.get(NPRS_FIELDS[0]), "maximum": data.get(NPRS_FIELDS[1])}
        | _reasons(data, "nprs"),
        by=by,
        reason=why,
    )
    hads_row = None
    hads_reasons = _reasons(data, "hads")
    if any(data.get(f) is not None for f in HADS_FIELDS) or hads_reasons["item_reasons"]:
        answers = hads_answers(data)
        values: dict[str, Any] = {f"item_{n}": answers[n] for n in range(1, 15)}
        hads_row = _upsert(HadsResponse, call, values | hads_reasons, by=by, reason=why)
    sf12_reasons = _reasons(data, "sf12")
    if any(data.get(f) is not None for f in SF12_FIELDS) or sf12_reasons["item_reasons"]:
        sf_values: dict[str, Any] = {k.lower(): v for k, v in sf12_answers(data).items()}
        _upsert(Sf12Response, call, sf_values | sf12_reasons, by=by, reason=why)
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


# Parts of an adverse effect a call may give; those absent from an entry are left as they are.
_AE_OPTIONAL = ("start_date", "outcome", "resolution_date")


def _ae_values(entry: Mapping[str, Any], kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "severity": entry["severity"],
        "serious": bool(entry.get("serious")),
        "other_text": str(entry.get("other_text") or "") if kind == "other" else "",
    }
    if "criteria" in entry:
        criteria = set(entry.get("criteria") or ())
        values |= {f"criterion_{code}": code in criteria for code in _CRITERIA}
    values |= {name: entry.get(name) for name in _AE_OPTIONAL if name in entry}
    if not values.get("outcome", True):
        values.pop("outcome")
    return values


_CRITERIA = voc.codes(voc.SERIOUSNESS_CRITERIA)
AE_CRITERIA = _CRITERIA
# What an update of an adverse effect may change (``criteria`` stands for the criterion flags).
AE_UPDATABLE = ("severity", "serious", "relation", "action_taken", *_AE_OPTIONAL)


def _sync_adverse_events(
    call: FollowUpCall, entries: list[Mapping[str, Any]], *, by: Any, reason: str
) -> None:
    """Make the call's live adverse effects those ticked; untick voids, never deletes.

    Each effect written is announced (``followup.signals.adverse_event_recorded``): safety
    raises the alert of a serious or severe one.
    """
    current = {ae.type: ae for ae in call.adverse_events.filter(voided_at__isnull=True)}
    wanted = {entry["type"]: entry for entry in entries}
    for kind, ae in current.items():
        if kind not in wanted:
            ae.voided_at = timezone.now()
            ae.void_reason = "Unticked at the call"
            history_stamp(ae, by=by, reason=ae.void_reason)
            ae.save(update_fields=["voided_at", "void_reason", "updated_at"])
    for kind, entry in wanted.items():
        ae = current.get(kind) or AdverseEvent(call=call, type=kind)
        values = _ae_values(entry, kind)
        if ae.pk and all(getattr(ae, f) == v for f, v in values.items()):
            continue
        for field, value in values.items():
            setattr(ae, field, value)
        ae.full_clean(exclude=["call"])
        history_stamp(ae, by=by, reason=reason)
        ae.save()
        adverse_event_recorded.send(sender=AdverseEvent, adverse_event=ae, by=by)


@clinical_write
@transaction.atomic
def adverse_event_record(
    *, call: FollowUpCall, values: Mapping[str, Any], by: Any, reason: str = ""
) -> AdverseEvent:
    """Record one adverse effect reported at a call (the initial report), with its alert.

    ``values`` is a call-form entry (``type``, ``severity``, ``serious``, ``criteria``...). An
    effect of a type already live at the call is refused: update that one instead.
    """
    patient_guard_edit(
        patient=call.patient_id, by=by, change=f"call:{call.timepoint}", reason=reason
    )
    kind = values.get("type")
    errors = adverse_event_errors([values])
    if (
        kind in voc.codes(voc.ADVERSE_EFFECTS)
        and call.adverse_events.filter(type=kind, voided_at__isnull=True).exists()
    ):
        errors["type"] = _("This effect is already recorded at this call: update it instead.")
    if errors:
        raise ValidationError(errors)
    ae = AdverseEvent(call=call, type=kind)
    for field, value in _ae_values(values, str(kind)).items():
        setattr(ae, field, value)
    ae.full_clean(exclude=["call"])
    history_stamp(ae, by=by, reason=reason or "Adverse effect reported")
    ae.save()
    _adverse_event_announce(ae, by=by, reason=reason or "Adverse effect reported")
    return ae


@clinical_write
@transaction.atomic
def adverse_event_update(
    *, adverse_event: AdverseEvent, values: Mapping[str, Any], by: Any, reason: str = ""
) -> AdverseEvent:
    """Update an adverse effect's record: its outcome at a later call, or its assessment.

    ``values`` holds model fields (``criteria`` may stand for the criterion booleans); the
    record's rules apply (``adverse_event_record_errors``). A change that makes the effect
    serious or severe raises its alert.
    """
    ae = AdverseEvent.objects.select_for_update().select_related("call").get(pk=adverse_event.pk)
    patient_guard_edit(
        patient=ae.call.patient_id, by=by, change=f"call:{ae.call.timepoint}", reason=reason
    )
    if ae.voided_at is not None:
        raise ValidationError(_("This adverse effect was voided."))
    editable = set(AE_UPDATABLE)
    unknown = set(values) - editable - {"criteria"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    changes = {k: v for k, v in values.items() if k in editable}
    if "criteria" in values:
        criteria = set(values.get("criteria") or ())
        changes |= {f"criterion_{code}": code in criteria for code in _CRITERIA}
    if changes.get("severity", ae.severity) not in voc.codes(voc.SEVERITIES):
        raise ValidationError({"severity": _("Give the severity of this adverse effect.")})
    record = {field.name: getattr(ae, field.name) for field in AdverseEvent._meta.fields} | changes
    record.pop("criteria", None)
    errors = adverse_event_record_errors(record)
    if errors:
        raise ValidationError(errors)
    fields = [f for f, v in changes.items() if getattr(ae, f) != v]
    if not fields:
        return ae
    for field in fields:
        setattr(ae, field, changes[field])
    ae.full_clean(exclude=["call"])
    why = reason or "Adverse effect updated: " + ", ".join(sorted(fields))
    history_stamp(ae, by=by, reason=why)
    ae.save(update_fields=[*fields, "updated_at"])
    _adverse_event_announce(ae, by=by, reason=why)
    return ae


def _adverse_event_announce(ae: AdverseEvent, *, by: Any, reason: str) -> None:
    """Announce an adverse effect written: a clinical change, then the effect (its alert)."""
    clinical_change_announce(
        sender=AdverseEvent, patient=ae.call.patient, by=by, reason=reason, call=ae.call
    )
    adverse_event_recorded.send(sender=AdverseEvent, adverse_event=ae, by=by)


def _sync_treatments(
    call: FollowUpCall, entries: list[Mapping[str, Any]], *, by: Any, reason: str
) -> None:
    """Make the call's live treatments those ticked (one per kind and code)."""
    current = {(t.kind, t.code): t for t in call.treatments.filter(voided_at__isnull=True)}
    wanted = {(entry["kind"], entry["code"]): entry for entry in entries}
    for key, row in current.items():
        if key not in wanted:
            row.voided_at = timezone.now()
            row.void_reason = "Stopped or unticked at the call"
            history_stamp(row, by=by, reason=row.void_reason)
            row.save(update_fields=["voided_at", "void_reason", "updated_at"])
    for (kind, code), entry in wanted.items():
        row = current.get((kind, code)) or ConcomitantTreatment(call=call, kind=kind, code=code)
        values = {
            "name": str(entry.get("name") or ""),
            "other_text": str(entry.get("other_text") or ""),
        }
        if row.pk and all(getattr(row, f) == v for f, v in values.items()):
            continue
        for field, value in values.items():
            setattr(row, field, value)
        row.full_clean(exclude=["call"])
        history_stamp(row, by=by, reason=reason)
        row.save()


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
