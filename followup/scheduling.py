"""Writes to the call schedule: plan it at enrolment, move it, close it. Every such write is here.

The cohort's services announce enrolments, administrations and departures with the signals of
``cohort.signals``; ``FollowupConfig.ready()`` connects the receivers below, which call these
services inside the cohort's transaction. Other callers (the importer) call them directly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cohort import plausible, signals
from cohort import vocabulary as voc
from cohort.clinical import history_stamp
from cohort.models import Patient
from followup import schedule
from followup.models import FollowUpCall
from trials.definitions import StudyDefinition

SCHEDULE_CREATED = "Schedule created at enrolment"


def study_of(patient: Patient) -> StudyDefinition:
    """Return the definition of the patient's study (its site's)."""
    return patient.study.protocol


def timepoint_check(patient: Patient, timepoint: str) -> None:
    """Refuse a timepoint that is not a visit of the patient's study (``ValidationError``).

    The calls' column accepts every study's codes; this is where a patient's own study decides.
    """
    study = patient.study
    if timepoint not in study.protocol.codes:
        raise ValidationError(
            {
                "timepoint": _(
                    "%(timepoint)s is not a visit of the study %(study)s; its visits are "
                    "%(visits)s."
                )
                % {
                    "timepoint": timepoint,
                    "study": study.code,
                    "visits": ", ".join(study.protocol.codes),
                }
            }
        )


def schedule_create(
    patient: Patient, first_administration: dt.date, *, by: Any, reason: str = SCHEDULE_CREATED
) -> list[FollowUpCall]:
    """Create the calls of every visit of the patient's study: the baseline on the inclusion
    date, the others planned from the first administration.

    Return the calls created, baseline first.
    """
    plan = schedule.plan_for(
        study_of(patient),
        inclusion_date=patient.inclusion_date,
        first_administration=first_administration,
    )
    for planned in plan:
        timepoint_check(patient, planned.timepoint)
    calls = [
        FollowUpCall(
            patient=patient,
            timepoint=planned.timepoint,
            target_date=planned.target,
            window_start=planned.window_start,
            window_end=planned.window_end,
        )
        for planned in plan
    ]
    for call in calls:
        history_stamp(call, by=by, reason=reason)
        call.save()
    return calls


def schedule_move(*, patient: Patient, by: Any) -> int:
    """Move the due dates of calls not yet made after the first administration moved.

    A move that would plan a call before the inclusion or after the end of the study is refused
    (``ValidationError`` on ``date``). Return how many calls moved.
    """
    first = patient.first_administration_date()
    if first is None:
        return 0
    moved = 0
    open_calls = list(
        FollowUpCall.objects.filter(patient=patient, status__in=voc.OPEN_CALL_STATUSES).exclude(
            timepoint="BL"
        )
    )
    study = study_of(patient)
    for call in open_calls:
        timepoint_check(patient, call.timepoint)
    plan = {
        call.pk: schedule.scheduled_call_in(study, first, call.timepoint) for call in open_calls
    }
    errors = plausible.schedule_errors(
        [planned.target for planned in plan.values()], patient=patient
    )
    if errors:
        raise ValidationError(errors)
    for call in open_calls:
        planned = plan[call.pk]
        if planned.target == call.target_date:
            continue
        call.target_date = planned.target
        call.window_start = planned.window_start
        call.window_end = planned.window_end
        call.version += 1
        history_stamp(call, by=by, reason=f"First administration on {first.isoformat()}")
        call.save(
            update_fields=["target_date", "window_start", "window_end", "version", "updated_at"]
        )
        moved += 1
    return moved


def schedule_close(*, patient: Patient, label: str, date: dt.date, reason: str, by: Any) -> int:
    """Close the calls not yet made because the patient left the follow-up (status ``label``).

    Return how many calls were closed.
    """
    closed = 0
    for call in FollowUpCall.objects.filter(patient=patient, status__in=voc.OPEN_CALL_STATUSES):
        call.status = "closed"
        call.status_reason = f"{label} on {date.isoformat()}: {reason}"
        call.version += 1
        history_stamp(call, by=by, reason=call.status_reason)
        call.save(update_fields=["status", "status_reason", "version", "updated_at"])
        closed += 1
    return closed


def _on_enrolled(
    sender: Any, *, patient: Patient, first_administration: dt.date, by: Any, **kwargs: Any
) -> int:
    return len(schedule_create(patient, first_administration, by=by))


def _on_administrations_changed(sender: Any, *, patient: Patient, by: Any, **kwargs: Any) -> int:
    return schedule_move(patient=patient, by=by)


def _on_left(
    sender: Any, *, patient: Patient, label: str, date: dt.date, reason: str, by: Any, **kwargs: Any
) -> int:
    return schedule_close(patient=patient, label=label, date=date, reason=reason, by=by)


def connect() -> None:
    """Listen to the cohort's signals (called once, by ``FollowupConfig.ready()``)."""
    signals.patient_enrolled.connect(
        _on_enrolled, sender=Patient, dispatch_uid="followup_schedule_create"
    )
    signals.administrations_changed.connect(
        _on_administrations_changed, sender=Patient, dispatch_uid="followup_schedule_move"
    )
    signals.patient_left_follow_up.connect(
        _on_left, sender=Patient, dispatch_uid="followup_schedule_close"
    )
