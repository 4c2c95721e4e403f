"""Writes to the cohort: enrolment, administrations, status changes. Every write goes here.

One module per kind of write: ``enrolment`` (eligibility, study codes, the enrolment and its
repeat-safe form), ``administrations`` (record, correct, void; the open calls move with the
first), ``status`` (status in the follow-up, preferred call time) and ``locks`` (lock, unlock,
sign-off and the guard every clinical write calls first). Every name is importable from
``cohort.services``.
"""

from cohort.services.administrations import (
    StaleEditError,
    administration_days_errors,
    administration_record,
    administration_update,
    administration_void,
    reschedule_open_calls,
)
from cohort.services.enrolment import (
    MIN_AGE,
    MIN_PAIN_MONTHS,
    PAIN_HISTORY_FIELDS,
    EnrolmentKeyReused,
    eligibility_errors,
    enrolment_fingerprint,
    next_study_code,
    pain_history_errors,
    patient_enrol,
    patient_enrol_once,
    patient_enrol_with_administration,
    site_eligibility_errors,
)
from cohort.services.locks import (
    can_sign,
    locked_message,
    patient_guard_edit,
    patient_lock,
    patient_sign,
    patient_unlock,
    signature_void,
)
from cohort.services.status import call_times_errors, patient_set_call_times, patient_set_status

__all__ = [
    "MIN_AGE",
    "MIN_PAIN_MONTHS",
    "PAIN_HISTORY_FIELDS",
    "EnrolmentKeyReused",
    "StaleEditError",
    "administration_days_errors",
    "administration_record",
    "administration_update",
    "administration_void",
    "call_times_errors",
    "can_sign",
    "eligibility_errors",
    "enrolment_fingerprint",
    "locked_message",
    "next_study_code",
    "pain_history_errors",
    "patient_enrol",
    "patient_enrol_once",
    "patient_enrol_with_administration",
    "patient_guard_edit",
    "patient_lock",
    "patient_set_call_times",
    "patient_set_status",
    "patient_sign",
    "patient_unlock",
    "reschedule_open_calls",
    "signature_void",
    "site_eligibility_errors",
]
