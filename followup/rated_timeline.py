"""The timeline of a patient of a rated study: the database read into ``followup.madrs_course``.

Six queries whatever the course's length: the calls, the MADRS, the baseline SF-MPQ, the
administrations, the adverse effects and the depression baseline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cohort.models import Patient
from followup import visits as rated_visits
from followup.madrs_course import BASELINE_VISIT, Effect, Infusion, Rating, Visit, madrs_course
from followup.models import (
    AdverseEvent,
    DepressionBaseline,
    FollowUpCall,
    MadrsAssessment,
    SfMpqAssessment,
)


def rated_timeline(patient: Patient, today: dt.date | None = None) -> dict[str, Any]:
    """Return the series of a rated study's timeline, with its words in the reader's language."""
    today = today or timezone.localdate()
    codes = rated_visits.assessment_visits(patient, rated_visits.MADRS)
    targets = dict(
        FollowUpCall.objects.filter(patient=patient, timepoint__in=codes).values_list(
            "timepoint", "target_date"
        )
    )
    infusions = [
        Infusion(date=date, total_mg=float(mg))
        for date, mg in patient.administrations.filter(voided_at__isnull=True)
        .order_by("date", "pk")
        .values_list("date", "total_mg")
    ]
    first_day = infusions[0].date if infusions else patient.inclusion_date
    ratings = [
        Rating(visit_code=code, assessed_on=on, total=total)
        for code, on, total in MadrsAssessment.objects.filter(
            patient=patient, voided_at__isnull=True
        ).values_list("visit_code", "assessed_on", "total")
    ]
    course = madrs_course(
        visits=[Visit(code=c, target_date=targets[c]) for c in codes if c in targets],
        ratings=ratings,
        infusions=infusions,
        effects=_effects(patient),
        first_day=first_day,
        today=today,
    )
    for point in course["visits"]:
        point["label"] = rated_visits.visit_label(point["code"])
    course["pain"] = _pain_summary(patient)
    course["labels"] = chart_labels()
    return course


def _effects(patient: Patient) -> list[Effect]:
    """Return the live adverse effects, dated by their onset, else the day they were reported."""
    effects = AdverseEvent.objects.filter(
        call__patient=patient, voided_at__isnull=True
    ).select_related("call")
    return [
        Effect(
            onset=ae.start_date or ae.call.call_date or ae.call.target_date,
            # An "other" effect is named by its description (the demo's perceptual disturbance).
            label=(ae.type == "other" and ae.other_text) or ae.get_type_display(),
            severity=ae.get_severity_display(),
            serious=ae.serious,
        )
        for ae in effects
    ]


def _pain_summary(patient: Patient) -> dict[str, Any] | None:
    """Return the baseline SF-MPQ scores and the investigator's pain group, or None if neither."""
    sf_mpq = SfMpqAssessment.objects.filter(
        patient=patient, visit_code=BASELINE_VISIT, voided_at__isnull=True
    ).first()
    baseline = DepressionBaseline.objects.filter(patient=patient).first()
    if sf_mpq is None and baseline is None:
        return None
    group = baseline.get_pain_group_display() if baseline else None
    summary: dict[str, Any] = {"pain_group": group}
    for key in ("vas_mm", "sensory", "affective", "ppi", "total"):
        summary[key] = getattr(sf_mpq, key) if sf_mpq else None
    return summary


def chart_labels() -> dict[str, str]:
    """Return the words of the rated study's chart in the reader's language."""
    return {
        "madrs": _("MADRS total"),
        "days": _("Days since the first infusion"),
        "baseline": _("Baseline"),
        "response": _("Response (half the baseline)"),
        "remission": _("Remission (10 or less)"),
        "planned": _("Planned visit"),
        "missing": _("Missing visit"),
        "infusion": _("Ketamine infusion"),
        "adverse_effect": _("Adverse effect"),
        "no_rating": _("No MADRS rated yet"),
    }
