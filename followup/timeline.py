"""The series of one patient's timeline: scores per call, doses, adverse effects, missed calls.

Shown on the cohort's patient file and timeline (``cohort.patient_pages``, filled in by
``FollowupConfig.ready()``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cohort.models import Patient
from cohort.timeline import MISSED
from followup.instruments import hads
from followup.models import FollowUpCall
from followup.rated_timeline import rated_timeline
from followup.visits import rates_any


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def timeline(patient: Patient) -> dict[str, Any]:
    """Return the series the timeline draws: scores per call, doses, adverse effects, misses.

    A patient of a study rating the MADRS at hospital visits has the rated study's series instead
    (``followup.rated_timeline``, marked ``"kind": "madrs"``).
    """
    if rates_any(patient):
        return rated_timeline(patient)
    calls = (
        FollowUpCall.objects.filter(patient=patient)
        .select_related("nprs", "hads", "sf12")
        .prefetch_related("adverse_events")
        .order_by("sequence")
    )
    points: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for call in calls:
        day = call.call_date or call.target_date
        when = day.isoformat()
        if call.status == "reached":
            points.append(_scores_point(call, when=when, day=day))
            live = [ae for ae in call.adverse_events.all() if ae.voided_at is None]
            if live:
                events.append(
                    {
                        "date": when,
                        "day": day,
                        "timepoint": call.timepoint,
                        "types": [
                            f"{ae.get_type_display()} ({ae.get_severity_display()}"
                            + (", " + _("serious") if ae.serious else "")
                            + ")"
                            for ae in live
                        ],
                        "serious": any(ae.serious for ae in live),
                    }
                )
        elif call.status in MISSED:
            missed.append(
                {
                    "date": when,
                    "day": day,
                    "timepoint": call.timepoint,
                    "status": call.get_status_display(),
                }
            )
    doses = _doses(patient)
    planned = [call.target_date for call in calls]
    days = [*planned, *(dose["day"] for dose in doses), patient.inclusion_date]
    margin = dt.timedelta(days=7)
    return {
        "points": points,
        "missed": missed,
        "events": events,
        "spans": effect_spans(calls),
        "doses": doses,
        # The whole planned follow-up, so that one visit or none still gives a year's axis.
        "axis": [(min(days) - margin).isoformat(), (max(days) + margin).isoformat()],
        "labels": chart_labels(),
        "scales": chart_scales(),
    }


def _scores_point(call: FollowUpCall, *, when: str, day: dt.date) -> dict[str, Any]:
    """Return a reached call's scores as the timeline plots them (absent ones as ``None``)."""
    nprs = getattr(call, "nprs", None)
    hads = getattr(call, "hads", None)
    sf12 = getattr(call, "sf12", None)
    return {
        "date": when,
        "day": day,
        "timepoint": call.timepoint,
        "nprs_mean": _number(nprs.mean) if nprs else None,
        "nprs_max": _number(nprs.maximum) if nprs else None,
        "hads_a": _number(hads.anxiety) if hads else None,
        "hads_d": _number(hads.depression) if hads else None,
        "sf12_pcs": _number(sf12.pcs) if sf12 else None,
        "sf12_mcs": _number(sf12.mcs) if sf12 else None,
    }


def _doses(patient: Patient) -> list[dict[str, Any]]:
    """Return the administrations not voided, in order, each with the cumulative dose so far."""
    doses = []
    running = 0.0
    for given in patient.administrations.filter(voided_at__isnull=True).order_by("date", "pk"):
        running += float(given.total_mg)
        doses.append(
            {
                "date": given.date.isoformat(),
                "day": given.date,
                "route": given.get_route_display(),
                "total_mg": float(given.total_mg),
                "days": given.days,
                "cumulative_mg": running,
            }
        )
    return doses


def chart_scales() -> dict[str, dict[str, int]]:
    """Return the ranges and cut-offs the charts draw, from the instruments (not the browser)."""
    return {
        "hads": {
            "max": hads.SUBSCALE_MAX,
            "normal_max": hads.NORMAL_MAX,
            "borderline_max": hads.BORDERLINE_MAX,
        },
    }


def effect_spans(calls: Any, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Return each live adverse effect as a span from its onset to its resolution.

    The onset is the day given, else the day of the call it was reported at; an effect still
    present runs to today; one over without a known day ends at the call it was reported at.
    """
    today = today or timezone.localdate()
    spans = []
    for call in calls:
        for ae in call.adverse_events.all():
            if ae.voided_at is not None:
                continue
            reported = call.call_date or call.target_date
            start = ae.start_date or reported
            if ae.resolution_date is not None:
                end = ae.resolution_date
            elif ae.is_open:
                end = max(today, start)
            else:
                end = max(reported, start)
            spans.append(
                {
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "start_day": start,
                    "end_day": end,
                    "timepoint": call.timepoint,
                    "label": ae.get_type_display(),
                    "severity": ae.get_severity_display(),
                    "serious": ae.serious,
                    "criteria": ae.criteria_labels(),
                    "outcome": ae.get_outcome_display(),
                    "open": ae.is_open,
                }
            )
    return spans


def chart_labels() -> dict[str, str]:
    """Return the words of the timeline charts in the reader's language."""
    return {
        "mean_pain": _("Mean pain"),
        "max_pain": _("Maximal pain"),
        "ketamine": _("Ketamine (mg)"),
        "adverse_effect": _("Adverse effect"),
        "effect_course": _("Adverse effect, onset to resolution"),
        "missed_call": _("Missed call"),
        "hads_anxiety": _("HADS anxiety"),
        "hads_depression": _("HADS depression"),
        "pcs": _("Physical (PCS)"),
        "mcs": _("Mental (MCS)"),
        "norm_score": _("Norm-based score"),
        "mg_each": _("mg per administration"),
        "mg_cumulative": _("cumulative mg"),
        "cumulative": _("Cumulative (mg)"),
        "no_answers": _("No answers yet"),
        "no_dose": _("No administration yet"),
    }


def patient_effect_spans(patient: Patient) -> list[dict[str, Any]]:
    """Return the spans of a patient's live adverse effects, in the order of the calls."""
    calls = FollowUpCall.objects.filter(patient=patient).prefetch_related("adverse_events")
    return effect_spans(calls.order_by("sequence"))
