"""The MADRS and the SF-MPQ rated at a study's visits: recorded once per visit, then corrected.

Every entry point (the assessment page, the API) calls these. The visits a patient may have are
the caller's to give (``allowed_visits``, from ``followup.visits.assessment_visits``): the
services check the code against them.

A hospital visit whose definition names only rated instruments is done when they are all
recorded (``followup.visits.completing_instruments``): every write here keeps the visit's row
(``FollowUpCall``) in step, reached with the date of the rating once all are recorded, due again
when a void leaves one missing, so that the worklist and every count read the visit as they
read a call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohort import plausible
from cohort.clinical import history_stamp, reason_checked
from cohort.free_text import names_the_patient
from cohort.models import Patient
from cohort.services import patient_guard_edit
from cohort.signals import clinical_change_announce, clinical_write
from config.saves import StaleWriteError
from followup.instruments import sf_mpq
from followup.models import FollowUpCall, MadrsAssessment, SfMpqAssessment, VisitAssessment
from followup.validators import (
    madrs_answers,
    madrs_errors,
    sf_mpq_descriptors,
    sf_mpq_errors,
    visit_code_errors,
)
from followup.visits import completing_instruments

A = TypeVar("A", bound=VisitAssessment)
RECORDED = "Assessment recorded"
# Every study's first visit, on the inclusion date (``trials.definitions`` refuses any other).
BASELINE_VISIT = "BL"
VISIT_RATED = "Visit rated"
VISIT_DUE_AGAIN = "Rating voided: visit due again"
# The model of each rated instrument (``followup.visits.INSTRUMENTS``).
MODELS: dict[str, type[VisitAssessment]] = {"madrs": MadrsAssessment, "sf_mpq": SfMpqAssessment}
RATER_MAX_LENGTH = MadrsAssessment._meta.get_field("rater").max_length or 60


class StaleAssessmentError(StaleWriteError):
    """Raised when an assessment was saved by someone else since the editor loaded it."""


def _madrs_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {f"item_{n}": value for n, value in madrs_answers(data).items()}
    return values | {"rater": str(data.get("rater") or "").strip()}


def _madrs_errors(data: Mapping[str, Any]) -> dict[str, str]:
    errors = madrs_errors(data)
    rater = str(data.get("rater") or "").strip()
    if not rater:
        errors["rater"] = _("Give the rater's name or initials.")
    elif len(rater) > RATER_MAX_LENGTH:
        errors["rater"] = _("Keep the rater to %(limit)d characters.") % {"limit": RATER_MAX_LENGTH}
    return errors


def _rater_errors(model: type[VisitAssessment], data: Mapping[str, Any], patient: Patient) -> Any:
    """Refuse a rater naming the patient: the rater is study staff, read by every role."""
    rater = str(data.get("rater") or "")
    if model is MadrsAssessment and names_the_patient(rater, patient):
        return {"rater": _("Give the rater's name or initials, not the patient's name or phone.")}
    return {}


def _sf_mpq_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {f"descriptor_{n}": value for n, value in sf_mpq_descriptors(data).items()}
    return values | {"vas_mm": data.get(sf_mpq.VAS_FIELD), "ppi": data.get(sf_mpq.PPI_FIELD)}


# Per model: its instrument's values and problems, from the flat data of a form or the API.
_RULES: dict[type[VisitAssessment], tuple[Callable[..., dict[str, Any]], Callable[..., Any]]] = {
    MadrsAssessment: (_madrs_values, _madrs_errors),
    SfMpqAssessment: (_sf_mpq_values, sf_mpq_errors),
}


def _date_errors(assessed_on: dt.date | None, patient: Patient, visit_code: str) -> dict[str, str]:
    """The baseline may be rated once consent is given; a later visit, as a call, not before the
    inclusion (the first infusion it is counted from)."""
    if assessed_on is None:
        return {"assessed_on": _("Give the date of the assessment.")}
    if visit_code == BASELINE_VISIT:
        bound = (patient.consent_date, _("the patient's consent"))
    else:
        bound = (patient.inclusion_date, _("the patient's inclusion"))
    return plausible.date_errors(assessed_on, field="assessed_on", not_before=bound)


def _save(instance: A, values: Mapping[str, Any], *, by: Any, reason: str) -> A:
    for field, value in values.items():
        setattr(instance, field, value)
    # followup.validators checked the answers before any write; the fields' validators run here
    # once more, and the database's CHECK constraints guard every range (asking the database for
    # each of them here would cost a statement per item).
    instance.full_clean(exclude=["patient"], validate_constraints=False)
    history_stamp(instance, by=by, reason=reason)
    instance.save()
    visit_sync(patient=instance.patient, visit_code=instance.visit_code, by=by)
    clinical_change_announce(sender=type(instance), patient=instance.patient, by=by, reason=reason)
    return instance


def visit_sync(*, patient: Patient, visit_code: str, by: Any) -> FollowUpCall | None:
    """Mark a rated visit done once its instruments are all recorded, due again when one is not.

    Only a visit completed by rating is touched, and only between due and reached: a visit
    closed because the patient left the follow-up stays closed. The date of the visit is the
    latest of its ratings' dates.
    """
    needed = completing_instruments(patient.study.protocol, visit_code)
    if not needed:
        return None
    call = (
        FollowUpCall.objects.select_for_update()
        .filter(patient=patient, timepoint=visit_code)
        .first()
    )
    if call is None or call.status not in ("due", "reached"):
        return call
    dates = [
        MODELS[key]
        .objects.filter(patient=patient, visit_code=visit_code, voided_at__isnull=True)
        .values_list("assessed_on", flat=True)
        .first()
        for key in needed
    ]
    done = all(day is not None for day in dates)
    if done:
        day = max(d for d in dates if d is not None)
        if call.status == "reached" and call.call_date == day:
            return call
        if call.status == "due":
            call.completed_at, call.completed_by = timezone.now(), by
        call.status, call.call_date = "reached", day
        reason = VISIT_RATED
    elif call.status == "reached":
        call.status, call.call_date, call.completed_at, call.completed_by = "due", None, None, None
        reason = VISIT_DUE_AGAIN
    else:
        return call
    call.version += 1
    history_stamp(call, by=by, reason=reason)
    call.save(
        update_fields=[
            "status",
            "call_date",
            "completed_at",
            "completed_by",
            "version",
            "updated_at",
        ]
    )
    return call


@clinical_write
@transaction.atomic
def assessment_record(
    *,
    model: type[A],
    patient: Patient,
    visit_code: str,
    assessed_on: dt.date | None,
    data: Mapping[str, Any],
    allowed_visits: Collection[str],
    by: Any,
) -> A:
    """Record the assessment of a patient at a visit (one per visit); ``data`` is flat.

    The visit must be one of ``allowed_visits``. Every problem is reported at once as a
    ValidationError keyed by field, and nothing is written then; a visit that already has the
    assessment (a second submission of the same form) is refused: edit it instead.
    """
    patient_guard_edit(patient=patient.pk, by=by, change=f"{model.INSTRUMENT}:{visit_code}")
    values, problems = _RULES[model]
    errors = visit_code_errors(visit_code, allowed_visits)
    errors |= _rater_errors(model, data, patient) | problems(data)
    errors |= _date_errors(assessed_on, patient, visit_code)
    live = model.objects.filter(patient=patient, visit_code=visit_code, voided_at__isnull=True)
    if "visit_code" not in errors and live.exists():
        errors["visit_code"] = _("This visit already has this assessment: edit it instead.")
    if errors:
        raise ValidationError(errors)
    instance = model(patient=patient, visit_code=visit_code, assessed_on=assessed_on)
    return _save(instance, values(data), by=by, reason=RECORDED)


@clinical_write
@transaction.atomic
def assessment_update(
    *,
    assessment: A,
    assessed_on: dt.date | None,
    data: Mapping[str, Any],
    by: Any,
    reason: str,
    expected_version: int | None = None,
) -> A:
    """Correct a recorded assessment: its date and answers, with the reason for the change.

    With ``expected_version`` (the version the editor loaded), a change saved meanwhile by
    someone else is not overwritten: ``StaleAssessmentError`` is raised instead.
    """
    reason = reason_checked(reason, "reason")
    model = type(assessment)
    patient_guard_edit(
        patient=assessment.patient_id,
        by=by,
        change=f"{model.INSTRUMENT}:{assessment.visit_code}",
        reason=reason,
    )
    locked = model.objects.select_for_update().select_related("patient").get(pk=assessment.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleAssessmentError(
            _(
                "This assessment was changed by someone else while you were editing it "
                "(version %(theirs)s, yours %(yours)s). Your input is kept on the page: "
                "compare it with the values saved now, then save again."
            )
            % {"theirs": locked.version, "yours": expected_version}
        )
    if locked.is_voided:
        raise ValidationError(_("This assessment was voided."))
    values, problems = _RULES[model]
    errors = _rater_errors(model, data, locked.patient) | problems(data)
    errors |= _date_errors(assessed_on, locked.patient, locked.visit_code)
    if not reason.strip():
        errors["reason"] = _("Give a reason for changing a recorded value.")
    if errors:
        raise ValidationError(errors)
    locked.version += 1
    return _save(locked, values(data) | {"assessed_on": assessed_on}, by=by, reason=reason)


@clinical_write
@transaction.atomic
def assessment_void(*, assessment: A, by: Any, reason: str) -> A:
    """Void an assessment entered in error (wrong patient or visit): kept, flagged, left out.

    The visit it completed is due again; the visit may then be rated anew.
    """
    reason = reason_checked(reason, "reason")
    model = type(assessment)
    patient_guard_edit(
        patient=assessment.patient_id,
        by=by,
        change=f"{model.INSTRUMENT}:{assessment.visit_code}",
        reason=reason,
    )
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for voiding an assessment.")})
    locked = model.objects.select_for_update().select_related("patient").get(pk=assessment.pk)
    if locked.is_voided:
        raise ValidationError(_("This assessment was voided."))
    locked.voided_at = timezone.now()
    locked.void_reason = reason
    locked.version += 1
    history_stamp(locked, by=by, reason=reason)
    locked.save(update_fields=["voided_at", "void_reason", "version", "updated_at"])
    visit_sync(patient=locked.patient, visit_code=locked.visit_code, by=by)
    clinical_change_announce(sender=model, patient=locked.patient, by=by, reason=reason)
    return locked
