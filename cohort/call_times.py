"""When a patient prefers to be called: a time of day and optionally some weekdays (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

WEEKDAYS = range(1, 8)  # ISO: 1 Monday .. 7 Sunday


def is_preferred_time(
    at: dt.datetime, *, call_from: dt.time | None, call_to: dt.time | None, days: Iterable[int]
) -> bool:
    """Say whether ``at`` falls in the preferred time (from included, until excluded).

    No time and no day means no preference, so never "call now"; days alone match the whole day,
    a time alone matches every day.
    """
    chosen = set(days)
    if call_from is None and not chosen:
        return False
    if chosen and at.isoweekday() not in chosen:
        return False
    if call_from is None or call_to is None:
        return True
    return call_from <= at.time().replace(tzinfo=None) < call_to


def days_code(days: Iterable[int]) -> str:
    """Return the stored form of a set of ISO weekdays: their digits in order ("135")."""
    chosen = sorted(set(days))
    if any(day not in WEEKDAYS for day in chosen):
        raise ValueError(f"weekdays are 1 to 7, not {chosen}")
    return "".join(str(day) for day in chosen)
