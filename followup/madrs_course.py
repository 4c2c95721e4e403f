"""The course of one patient of a rated study (Lan et al. 2022) as its timeline draws it.

Pure: plain values in, the chart's series out, no Django. The MADRS total at each visit on an
axis of days since the first infusion, against the baseline total, the response threshold (half
the baseline) and the remission line (``followup.instruments.madrs``); the infusions with their
dose and the adverse effects that began after each; the baseline SF-MPQ. A visit whose target day
is after today is planned; one due (target day today or before) without a total is missing.
``followup.rated_timeline`` reads the database into these values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from followup.instruments import madrs

BASELINE_VISIT: Final = "BL"
END_VISIT: Final = "D26"
RATED: Final = "rated"
PLANNED: Final = "planned"
MISSING: Final = "missing"


@dataclass(frozen=True)
class Visit:
    """A visit of the study at which the MADRS is rated, and the day the patient is due."""

    code: str
    target_date: dt.date


@dataclass(frozen=True)
class Rating:
    """A live MADRS: its visit, its day and its total (None when an item is blank)."""

    visit_code: str
    assessed_on: dt.date
    total: int | None


@dataclass(frozen=True)
class Infusion:
    """A live ketamine administration: its day and its dose in mg."""

    date: dt.date
    total_mg: float


@dataclass(frozen=True)
class Effect:
    """A live adverse effect: its onset (else the day it was reported) and its description."""

    onset: dt.date
    label: str
    severity: str
    serious: bool


def _day(date: dt.date, day_zero: dt.date) -> int:
    return (date - day_zero).days


def _status(baseline: int | None, total: int | None) -> dict[str, Any]:
    """Return the change from baseline, response and remission of one total (the scale's rules)."""
    change = madrs.percent_change(baseline, total)
    return {
        "change_pct": None if change is None else round(change, 1),
        "response": madrs.response(baseline, total),
        "remission": madrs.remission(total),
    }


def visit_points(
    visits: Sequence[Visit],
    ratings: Iterable[Rating],
    *,
    day_zero: dt.date,
    today: dt.date,
) -> list[dict[str, Any]]:
    """Return each visit in order: rated (with its total), planned (not yet due) or missing."""
    by_visit = {rating.visit_code: rating for rating in ratings}
    baseline_rating = by_visit.get(BASELINE_VISIT)
    baseline = baseline_rating.total if baseline_rating else None
    points = []
    for visit in visits:
        rating = by_visit.get(visit.code)
        if rating is not None and rating.total is not None:
            state, date, total = RATED, rating.assessed_on, rating.total
        elif visit.target_date > today:
            state, date, total = PLANNED, visit.target_date, None
        else:
            state, date, total = MISSING, rating.assessed_on if rating else visit.target_date, None
        point = {
            "code": visit.code,
            "state": state,
            "date": date.isoformat(),
            "day": _day(date, day_zero),
            "on": date,
            "total": total,
        }
        point |= _status(baseline, total) if visit.code != BASELINE_VISIT else _status(None, None)
        points.append(point)
    return points


def infusion_marks(
    infusions: Sequence[Infusion], effects: Iterable[Effect], *, day_zero: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the infusions in order, each with the effects begun since it, and the others.

    An effect belongs to the last infusion given on or before its onset; one begun before the
    first infusion belongs to none.
    """
    ordered = sorted(infusions, key=lambda infusion: infusion.date)
    marks = [
        {
            "number": number,
            "date": infusion.date.isoformat(),
            "on": infusion.date,
            "day": _day(infusion.date, day_zero),
            "total_mg": infusion.total_mg,
            "effects": [],
        }
        for number, infusion in enumerate(ordered, 1)
    ]
    unattached: list[dict[str, Any]] = []
    for effect in sorted(effects, key=lambda effect: effect.onset):
        described = {
            "label": effect.label,
            "severity": effect.severity,
            "serious": effect.serious,
            "onset": effect.onset.isoformat(),
        }
        given = [mark for mark in marks if mark["on"] <= effect.onset]
        (given[-1]["effects"] if given else unattached).append(described)
    return marks, unattached


def _outcome(point: dict[str, Any] | None) -> dict[str, Any] | None:
    if point is None:
        return None
    keys = ("code", "state", "day", "on", "total", "change_pct", "response", "remission")
    return {key: point[key] for key in keys}


def madrs_course(
    *,
    visits: Sequence[Visit],
    ratings: Iterable[Rating],
    infusions: Sequence[Infusion],
    effects: Iterable[Effect],
    first_day: dt.date,
    today: dt.date,
) -> dict[str, Any]:
    """Return the series of the rated study's timeline.

    ``first_day`` is the day of the first infusion (the inclusion day until one is given): day 0
    of the axis. The latest outcome is the last rated visit after baseline; the end outcome is
    D26's, planned or missing as the visit is.
    """
    points = visit_points(visits, ratings, day_zero=first_day, today=today)
    marks, unattached = infusion_marks(infusions, effects, day_zero=first_day)
    baseline = next(
        (p["total"] for p in points if p["code"] == BASELINE_VISIT and p["state"] == RATED), None
    )
    after = [p for p in points if p["code"] != BASELINE_VISIT and p["state"] == RATED]
    end = next((p for p in points if p["code"] == END_VISIT), None)
    days = [0, *(p["day"] for p in points), *(m["day"] for m in marks)]
    return {
        "kind": "madrs",
        "visits": points,
        "infusions": marks,
        "unattached_effects": unattached,
        "baseline_total": baseline,
        # Response is a total at or below half the baseline (50% exactly counts).
        "response_max": None if not baseline else baseline * madrs.RESPONSE_REDUCTION_PCT / 100,
        "remission_max": madrs.REMISSION_MAX,
        "total_max": madrs.TOTAL_MAX,
        "latest": _outcome(after[-1] if after else None),
        "end": _outcome(end),
        "axis": [min(days) - 1, max(days) + 2],
    }
