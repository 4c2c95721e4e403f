"""The audit trail of a call, and the calls' part of a patient's trail (``cohort.audit``).

Read from the history of the call and of everything recorded at it: attempts, questionnaires,
adverse effects, treatments; and of the assessments rated at the patient's visits.
``FollowupConfig.ready()`` adds ``patient_calls_trail`` to every patient's trail.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from cohort import vocabulary as voc
from cohort.audit import Entry, code_label, history_entries, newest_first
from cohort.models import Patient
from followup.models import (
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    DepressionBaseline,
    FollowUpCall,
    HadsResponse,
    MadrsAssessment,
    NprsResponse,
    Sf12Response,
    SfMpqAssessment,
)


def _call_label(calls: dict[int, str]) -> Any:
    return lambda row: calls.get(row.call_id, _("Call"))


def call_trail(call: FollowUpCall, *, identifiers: bool) -> list[Entry]:
    """Return the history of one call: the call, attempts, questionnaires, effects, treatments."""
    label = {call.pk: _("Call %(timepoint)s") % {"timepoint": call.timepoint}}
    return newest_first(_call_parts([call.pk], label, identifiers))


def _call_parts(call_ids: list[int], labels: dict[int, str], identifiers: bool) -> list[Entry]:
    by_call = _call_label(labels)
    parts: list[tuple[type[Model], Any]] = [
        (
            CallAttempt,
            lambda row: (
                f"{by_call(row)} · {_('attempt')} "
                f"({code_label((voc.ATTEMPT_OUTCOMES,), row.outcome)})"
            ),
        ),
        (NprsResponse, lambda row: f"{by_call(row)} · NPRS"),
        (HadsResponse, lambda row: f"{by_call(row)} · HADS"),
        (Sf12Response, lambda row: f"{by_call(row)} · SF-12"),
        (
            AdverseEvent,
            lambda row: (
                f"{by_call(row)} · {_('adverse effect')} "
                f"{code_label((voc.ADVERSE_EFFECTS,), row.type)}"
            ),
        ),
        (
            ConcomitantTreatment,
            lambda row: (
                f"{by_call(row)} · {_('treatment')} "
                f"{code_label((voc.DRUG_CLASSES, voc.NON_DRUG_TREATMENTS), row.code)}"
            ),
        ),
    ]
    entries = history_entries(
        FollowUpCall.history.filter(id__in=call_ids),
        lambda row: labels.get(row.id, _("Call")),
        identifiers=identifiers,
    )
    for model, describe in parts:
        history = model.history.filter(call_id__in=call_ids)  # type: ignore[attr-defined]
        entries += history_entries(history, describe, identifiers=identifiers)
    return entries


def patient_calls_trail(patient: Patient, identifiers: bool) -> list[Entry]:
    """Return the history of every call of a patient and of what was recorded at it, and of
    the assessments rated at the patient's visits (MADRS, SF-MPQ)."""
    calls = dict(FollowUpCall.objects.filter(patient=patient).values_list("pk", "timepoint"))
    labels = {pk: _("Call %(timepoint)s") % {"timepoint": tp} for pk, tp in calls.items()}
    return _call_parts(list(calls), labels, identifiers) + assessments_trail(patient, identifiers)


def assessments_trail(patient: Patient, identifiers: bool) -> list[Entry]:
    """Return the history of the MADRS and SF-MPQ rated at a patient's visits, and of the
    depression baseline."""
    entries: list[Entry] = []
    for model, name in ((MadrsAssessment, "MADRS"), (SfMpqAssessment, "SF-MPQ")):
        history = model.history.filter(patient_id=patient.pk)  # type: ignore[attr-defined]
        entries += history_entries(
            history,
            lambda row, name=name: f"{name} · {_('visit')} {row.visit_code}",
            identifiers=identifiers,
        )
    baseline = DepressionBaseline.history.filter(patient_id=patient.pk)  # type: ignore[attr-defined]
    entries += history_entries(
        baseline, lambda row: str(_("Depression baseline")), identifiers=identifiers
    )
    return entries
