"""Writes to the follow-up: call attempts and questionnaire answers. Every write goes here.

One module per kind of write: ``attempts`` (call attempts, dismissed lost-to-follow-up
proposals), ``questionnaires`` (the answers and the review they call for), ``adverse_events``
(adverse effects and concomitant treatments), ``assessments`` (the MADRS and the SF-MPQ
rated at a study's visits), ``baseline`` (the depression study's baseline) and ``call_entry``
(a whole call entered at once).
The schedule's writes are in ``followup.scheduling``, importable from here too. Every name is
importable from ``followup.services``.
"""

from followup.scheduling import schedule_close as schedule_close
from followup.scheduling import schedule_create as schedule_create
from followup.scheduling import schedule_move as schedule_move
from followup.services.adverse_events import (
    AE_CRITERIA,
    AE_UPDATABLE,
    adverse_event_record,
    adverse_event_update,
)
from followup.services.assessments import (
    StaleAssessmentError,
    assessment_record,
    assessment_update,
    assessment_void,
    visit_sync,
)
from followup.services.attempts import StaleCallError, call_record_attempt, lost_proposal_dismiss
from followup.services.baseline import depression_baseline_errors, depression_baseline_save
from followup.services.call_entry import administration_errors, call_save
from followup.services.questionnaires import (
    REVIEW_HADS_DEPRESSION_FROM,
    REVIEW_NPRS_RISE,
    call_mark_reviewed,
    questionnaires_save,
    review_reasons,
)

__all__ = [
    "AE_CRITERIA",
    "AE_UPDATABLE",
    "REVIEW_HADS_DEPRESSION_FROM",
    "REVIEW_NPRS_RISE",
    "StaleAssessmentError",
    "StaleCallError",
    "administration_errors",
    "adverse_event_record",
    "adverse_event_update",
    "assessment_record",
    "assessment_update",
    "assessment_void",
    "call_mark_reviewed",
    "call_record_attempt",
    "call_save",
    "depression_baseline_errors",
    "depression_baseline_save",
    "lost_proposal_dismiss",
    "questionnaires_save",
    "review_reasons",
    "schedule_close",
    "schedule_create",
    "schedule_move",
    "visit_sync",
]
