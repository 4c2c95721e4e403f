"""Corrections of what was recorded at enrolment: the patient's values and identifiers.

Services, like ``cohort.services``: the administration site calls them for its saves. A
correction needs a reason, refuses a locked follow-up (and voids a signature), checks the
values as enrolment does, stamps the history with the author and the reason and announces the
change (``cohort.signals``): the open queries on the corrected values are answered and the
analysis runs again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cohort.clinical import history_stamp, reason_required
from cohort.models import Patient, PatientContact
from cohort.services import patient_guard_edit, site_eligibility_errors
from cohort.signals import clinical_change_announce, clinical_write

# The values of enrolment a correction may change. The study code, the site and the inclusion
# date (which dates the baseline call) are not corrected; the status and the preferred call
# time have their own services (patient_set_status, patient_set_call_times).
PATIENT_CORRECTABLE = (
    "sex",
    "age",
    "consent_date",
    "weight_kg",
    "etiology",
    "pain_duration_months",
    "comorbidities",
    "ketamine_naive",
    "dn4",
    "dn4_missing_reason",
    "paroxysms_per_day",
)


@clinical_write
@transaction.atomic
def patient_correct(*, patient: Patient, by: Any, reason: str, **changes: Any) -> Patient:
    """Correct values recorded at enrolment (``PATIENT_CORRECTABLE``), giving the reason."""
    reason = reason_required(reason).strip()
    unknown = set(changes) - set(PATIENT_CORRECTABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    patient_guard_edit(patient=patient, by=by, change="patient", reason=reason)
    for field, value in changes.items():
        setattr(patient, field, value)
    errors = site_eligibility_errors(
        patient.site,
        age=patient.age,
        pain_duration_months=patient.pain_duration_months,
        consent_date=patient.consent_date,
        inclusion_date=patient.inclusion_date,
    )
    if errors:
        raise ValidationError(errors)
    patient.full_clean()
    history_stamp(patient, by=by, reason=reason)
    patient.save(update_fields=[*changes, "updated_at"])
    clinical_change_announce(sender=Patient, patient=patient, by=by, reason=reason)
    return patient


@transaction.atomic
def patient_contact_save(*, contact: PatientContact, by: Any, reason: str) -> PatientContact:
    """Store a patient's identifiers, new or corrected (a correction gives its reason).

    Identifiers are not clinical data: nothing is analysed or queried on them, so the change
    is not announced.
    """
    if contact.pk:
        reason = reason_required(reason).strip()
        patient_guard_edit(patient=contact.patient_id, by=by, change="patient", reason=reason)
    contact.full_clean()
    history_stamp(contact, by=by, reason=reason or "Identifiers added")
    contact.save()
    return contact
