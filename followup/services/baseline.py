"""The depression study's baseline: recorded once per patient, then corrected with a reason."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cohort.clinical import history_stamp, reason_checked
from cohort.models import Patient
from cohort.services import patient_guard_edit
from cohort.signals import clinical_change_announce, clinical_write
from followup.models import PAIN_GROUPS, DepressionBaseline
from followup.models.baseline import MAX_ANTIDEPRESSANTS
from followup.services.assessments import StaleAssessmentError

RECORDED = "Depression baseline recorded"
_FLAGS = ("suicidality", "mood_stabilisers", "benzodiazepines", "antipsychotics")


def depression_baseline_errors(values: dict[str, Any]) -> dict[str, str]:
    """Return every problem of the baseline's values at once, keyed by field."""
    errors: dict[str, str] = {}
    if values.get("pain_group") not in {code for code, _label in PAIN_GROUPS}:
        errors["pain_group"] = _("Choose the pain group: none, mild or severe.")
    count = values.get("antidepressants")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        errors["antidepressants"] = _("Give the number of antidepressants taken (0 or more).")
    elif count > MAX_ANTIDEPRESSANTS:
        errors["antidepressants"] = _("At most 10 antidepressants.")
    for flag in _FLAGS:
        if not isinstance(values.get(flag), bool):
            errors[flag] = _("Answer yes or no.")
    return errors


def _collects(patient: Patient) -> None:
    """Refuse the baseline for a patient whose study does not collect it."""
    study = patient.study
    if not study.protocol.collects_depression_baseline:
        raise ValidationError(
            _("The study %(study)s does not collect a depression baseline.") % {"study": study.code}
        )


@clinical_write
@transaction.atomic
def depression_baseline_save(
    *,
    patient: Patient,
    pain_group: str,
    suicidality: bool,
    antidepressants: int,
    mood_stabilisers: bool,
    benzodiazepines: bool,
    antipsychotics: bool,
    by: Any,
    reason: str = "",
    expected_version: int | None = None,
) -> DepressionBaseline:
    """Record the patient's depression baseline, or correct it (then ``reason`` is required).

    Refused for a patient whose study's definition does not collect it. With
    ``expected_version`` (the version the editor loaded) a change saved meanwhile by someone
    else is not overwritten: ``StaleAssessmentError`` is raised instead.
    """
    reason = reason_checked(reason, "reason")
    _collects(patient)
    patient_guard_edit(patient=patient.pk, by=by, change="depression_baseline", reason=reason)
    values: dict[str, Any] = {
        "pain_group": pain_group,
        "suicidality": suicidality,
        "antidepressants": antidepressants,
        "mood_stabilisers": mood_stabilisers,
        "benzodiazepines": benzodiazepines,
        "antipsychotics": antipsychotics,
    }
    errors = depression_baseline_errors(values)
    row = DepressionBaseline.objects.select_for_update().filter(patient=patient).first()
    if row is not None:
        if expected_version is not None and row.version != expected_version:
            raise StaleAssessmentError(
                _(
                    "This baseline was changed by someone else while you were editing it "
                    "(version %(theirs)s, yours %(yours)s)."
                )
                % {"theirs": row.version, "yours": expected_version}
            )
        if not reason.strip() and expected_version is None:
            # A second submission of the form that recorded it (the form of a new baseline).
            errors["reason"] = _(
                "This patient already has a depression baseline: open it again to correct it."
            )
        elif not reason.strip():
            errors["reason"] = _("Give a reason for changing a recorded value.")
    if errors:
        raise ValidationError(errors)
    if row is None:
        row, reason = DepressionBaseline(patient=patient), reason or RECORDED
    else:
        row.version += 1
    for field, value in values.items():
        setattr(row, field, value)
    row.full_clean(exclude=["patient"], validate_constraints=False)
    history_stamp(row, by=by, reason=reason)
    row.save()
    clinical_change_announce(sender=DepressionBaseline, patient=patient, by=by, reason=reason)
    return row
