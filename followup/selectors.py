"""Reads of follow-up data, scoped to what a user may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, QuerySet

from cohort.selectors import patients_for_user
from followup.models import FollowUpCall


def calls_for_user(user: Any) -> QuerySet[FollowUpCall]:
    """Return the calls of the patients a user may see."""
    return FollowUpCall.objects.filter(patient__in=patients_for_user(user)).select_related(
        "patient", "patient__site"
    )


def call_counts_for_user(user: Any, *, today: dt.date) -> dict[str, int]:
    """Count the open calls of a user's patients: overdue, due now (window open), upcoming."""
    open_calls = calls_for_user(user).filter(status="due", patient__status="active")
    overdue = open_calls.filter(window_end__lt=today).count()
    due_now = open_calls.filter(window_start__lte=today, window_end__gte=today).count()
    upcoming = open_calls.filter(window_start__gt=today).count()
    return {"overdue": overdue, "due_now": due_now, "upcoming": upcoming}


def status_counts_for_user(user: Any) -> list[tuple[str, int]]:
    """Count the follow-up calls of a user's patients by status: (label, count), in code order."""
    rows = calls_for_user(user).exclude(timepoint="BL").values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    labels = dict(FollowUpCall._meta.get_field("status").choices)
    return [(str(labels[code]), counts[code]) for code in labels if code in counts]
