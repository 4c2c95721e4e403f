"""Reads behind the patient list and the patient timeline (scoped by the caller's selectors)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import AnalysisRun, TrajectoryMembership
from cohort.models import KetamineAdministration, Patient
from followup.instruments import hads
from followup.models import FollowUpCall

MISSED = ("unreachable", "refused", "withdrawn")


@dataclass(frozen=True)
class Membership:
    """A patient's trajectory group in the newest successful analysis."""

    group: str
    posterior: float | None
    run_pk: int


def _membership_run() -> tuple[int, bool] | None:
    """Return the newest successful run's id, and whether its memberships are stored as rows.

    Runs stored before the membership rows existed (no summary) keep them in the report only.
    """
    run = (
        AnalysisRun.objects.filter(status=AnalysisRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .annotate(tabled=ExpressionWrapper(Q(summary__isnull=False), BooleanField()))
        .values_list("pk", "tabled")
        .first()
    )
    return None if run is None else (run[0], bool(run[1]))


def _report_memberships(run_pk: int) -> dict[int, Membership]:
    """Return the memberships read from a run's report (runs without membership rows)."""
    table = (
        AnalysisRun.objects.filter(pk=run_pk)
        .values_list("report__results__trajectories__membership", flat=True)
        .first()
    )
    if not table:
        return {}
    return {
        int(patient): Membership(group, posterior, run_pk)
        for patient, group, posterior in zip(
            table["patient"], table["group"], table["posterior"], strict=True
        )
        if group
    }


def trajectory_memberships(patients: Iterable[int] | None = None) -> dict[int, Membership]:
    """Return the trajectory group of the analysed patients (default all, else those given).

    Read from the newest successful run's membership rows: one patient's group costs one
    indexed row, not the report's table of every patient.
    """
    run = _membership_run()
    if run is None:
        return {}
    run_pk, tabled = run
    if not tabled:
        every = _report_memberships(run_pk)
        if patients is None:
            return every
        return {pk: every[pk] for pk in patients if pk in every}
    rows = TrajectoryMembership.objects.filter(run_id=run_pk)
    if patients is not None:
        rows = rows.filter(patient_id__in=list(patients))
    return {
        patient: Membership(group, posterior, run_pk)
        for patient, group, posterior in rows.values_list("patient_id", "group", "posterior")
    }


def membership_of(patient_pk: int) -> Membership | None:
    """Return one patient's trajectory group in the newest successful run, if analysed."""
    return trajectory_memberships([patient_pk]).get(patient_pk)


def in_trajectory_group(patients: QuerySet[Patient], group: str) -> QuerySet[Patient]:
    """Narrow patients to those in a trajectory group of the newest successful run."""
    run = _membership_run()
    if run is None:
        return patients.none()
    run_pk, tabled = run
    if not tabled:
        chosen = [pk for pk, m in _report_memberships(run_pk).items() if m.group == group]
        return patients.filter(pk__in=chosen)
    members = TrajectoryMembership.objects.filter(run_id=run_pk, group=group)
    return patients.filter(pk__in=members.values("patient_id"))


def patient_rows(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Annotate the patients with their cumulative dose, flags, calls made and missed."""
    dose = (
        KetamineAdministration.objects.filter(patient=OuterRef("pk"), voided_at__isnull=True)
        .values("patient")
        .annotate(total=Sum("total_mg"))
        .values("total")
    )
    zero = Value(0, output_field=DecimalField(max_digits=10, decimal_places=2))
    return patients.annotate(
        cumulative_mg=Coalesce(Subquery(dose, output_field=DecimalField()), zero),
        flagged=Count("calls", filter=Q(calls__needs_review=True), distinct=True),
        reached=Count("calls", filter=Q(calls__status="reached"), distinct=True),
        missed=Count("calls", filter=Q(calls__status__in=MISSED), distinct=True),
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def timeline(patient: Patient) -> dict[str, Any]:
    """Return the series the timeline draws: scores per call, doses, adverse effects, misses."""
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
            nprs = getattr(call, "nprs", None)
            hads = getattr(call, "hads", None)
            sf12 = getattr(call, "sf12", None)
            points.append(
                {
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
            )
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
