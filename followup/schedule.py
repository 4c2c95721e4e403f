"""The protocol's schedule of visits, written once as a table, and the rule of its windows.

Pure Python (and pandas for frames), no Django. Each study's visits come from its definition
(``trials.definitions``, one JSON file per study): ``visits_for(definition)`` and the functions
ending in ``_in`` plan a patient of any study. ``VISITS`` holds the first study's table, which the
functions without a study read: one row per timepoint: what
its target date is counted from (the inclusion date for baseline, the first ketamine
administration for the others), by how much (days, or calendar months: the same day of the
month k months later, clamped to the month's last day), how many days before and after the
target a visit is on time, and how it is done (in hospital, by phone). Everything else here
reads the table. A call made outside its window is flagged, not refused.

The window's three rules are written once each: "the window has opened" (``window_opened``:
the day is on or after its first day), "the window has closed" (``window_closed``: the day is
after its last day; the last day itself is not closed) and "inside the window" (``in_window``:
opened and not closed). Each has a twin for the columns of a frame (``*_frame``, the same rule
row by row, missing where a date is missing) and a database filter beside the model
(``followup.models.window_opened_by``, ``window_closed_by``, ``window_contains``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from cohort.vocabulary import FOLLOWUP_TIMEPOINTS, MONTH_OF_TIMEPOINT, TIMEPOINTS, codes
from trials.definitions import FIRST_STUDY, Anchor, Mode, StudyDefinition, VisitDefinition, load


@dataclass(frozen=True)
class ScheduledCall:
    """One planned call: its timepoint, target date and window (inclusive)."""

    timepoint: str
    target: dt.date
    window_start: dt.date
    window_end: dt.date

    def contains(self, day: dt.date) -> bool:
        """Say whether a call made on ``day`` is inside the window."""
        return in_window(day, self.window_start, self.window_end)


@dataclass(frozen=True)
class Visit:
    """One timepoint of the protocol: when it falls, its window, and how it is done.

    The target is the ``anchor``'s date + ``months`` calendar months + ``days`` days; the
    window runs from ``before`` days before the target to ``after`` days after it, both ends
    included.
    """

    timepoint: str
    anchor: Anchor
    before: int
    after: int
    mode: Mode
    days: int = 0
    months: int = 0

    @property
    def window_days(self) -> tuple[int, int]:
        """Return the days (before, after) the target inside which the visit is on time."""
        return (self.before, self.after)

    def target(self, anchor_day: dt.date) -> dt.date:
        """Return the target date of the visit, counted from its anchor's date."""
        return add_months(anchor_day, self.months) + dt.timedelta(days=self.days)

    def window(self, target: dt.date) -> tuple[dt.date, dt.date]:
        """Return the first and last day of the window around a target date."""
        return target - dt.timedelta(days=self.before), target + dt.timedelta(days=self.after)

    def plan(self, anchor_day: dt.date) -> ScheduledCall:
        """Return the target date and window of the visit, counted from its anchor's date."""
        target = self.target(anchor_day)
        start, end = self.window(target)
        return ScheduledCall(
            timepoint=self.timepoint, target=target, window_start=start, window_end=end
        )

    @classmethod
    def of(cls, definition: VisitDefinition) -> Visit:
        """Return the visit a study definition describes."""
        return cls(
            definition.code,
            definition.anchor,
            before=definition.before,
            after=definition.after,
            mode=definition.mode,
            days=definition.days,
            months=definition.months,
        )


@cache
def _visits_of(key: str) -> tuple[Visit, ...]:
    return tuple(Visit.of(v) for v in load(key).visits)


def visits_for(definition: StudyDefinition) -> tuple[Visit, ...]:
    """Return a study's visits, in order, as read from its definition."""
    return _visits_of(definition.key)


# The first study's protocol (``trials/definitions/voute2023.json``), one row per visit in the
# order of ``cohort.vocabulary.TIMEPOINTS``: the functions below without a study read it.
VISITS: tuple[Visit, ...] = visits_for(load(FIRST_STUDY))
_BY_TIMEPOINT: dict[str, Visit] = {v.timepoint: v for v in VISITS}
if tuple(_BY_TIMEPOINT) != codes(TIMEPOINTS):
    raise ValueError("the schedule's visits must be the timepoints of the vocabulary, in order")


def visit(timepoint: str) -> Visit:
    """Return the visit of a timepoint (BL, W1, M1..M12), or raise ValueError."""
    try:
        return _BY_TIMEPOINT[timepoint]
    except KeyError:
        raise ValueError(f"unknown timepoint {timepoint!r}") from None


def window_days(timepoint: str) -> tuple[int, int]:
    """Return the days (before, after) the target inside which a timepoint's call is on time."""
    return visit(timepoint).window_days


def window_around(timepoint: str, target: dt.date) -> tuple[dt.date, dt.date]:
    """Return the window (first, last day) of a timepoint's call due on ``target``.

    For a target that does not come from the plan (an imported date, say): the window keeps the
    visit's days before and after.
    """
    return visit(timepoint).window(target)


def window_around_frame(timepoints: pd.Series, targets: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the windows' first and last days of a frame's calls, row by row (the twin of
    ``window_around``; an unknown timepoint raises ValueError)."""
    unknown = set(timepoints.unique()) - set(_BY_TIMEPOINT)
    if unknown:
        raise ValueError(f"unknown timepoints {sorted(unknown)!r}")
    before = timepoints.map({tp: v.before for tp, v in _BY_TIMEPOINT.items()}).astype("int64")
    after = timepoints.map({tp: v.after for tp, v in _BY_TIMEPOINT.items()}).astype("int64")
    when = pd.to_datetime(targets)
    return when - pd.to_timedelta(before, unit="D"), when + pd.to_timedelta(after, unit="D")


# Names read elsewhere, derived from the table.
W1_DAYS = visit("W1").days
W1_WINDOW = window_days("W1")
MONTHLY_WINDOW = window_days("M1")
MONTHS = MONTH_OF_TIMEPOINT
# The most days a window closes after its target (a bound for ranges of target dates).
LATEST_CLOSE_DAYS = max(v.after for v in VISITS)


def window_opened(day: dt.date, start: dt.date) -> bool:
    """Say whether the window starting on ``start`` has opened by ``day`` (its first day counts)."""
    return day >= start


def window_closed(day: dt.date, end: dt.date) -> bool:
    """Say whether the window ending on ``end`` has closed by ``day`` (its last day does not)."""
    return day > end


def in_window(day: dt.date, start: dt.date, end: dt.date) -> bool:
    """Say whether ``day`` lies in the window ``start``..``end`` (both ends included)."""
    return window_opened(day, start) and not window_closed(day, end)


def window_opened_frame(days: Any, starts: Any) -> pd.Series:
    """Say, row by row, whether each window has opened by its day: ``window_opened`` on columns.

    ``days`` and ``starts`` are aligned columns of dates (or datetimes, or ISO strings), or
    either one date for every row. Returns a nullable boolean column, missing where the day or
    the start is missing.
    """
    day, start = _columns(days, starts)
    return _masked(start <= day, day, start)


def window_closed_frame(days: Any, ends: Any) -> pd.Series:
    """Say, row by row, whether each window has closed by its day: ``window_closed`` on columns.

    ``days`` and ``ends`` as for ``window_opened_frame`` (e.g. one data cut and a column of
    window ends). Returns a nullable boolean column, missing where the day or the end is
    missing (a call with no window has neither closed nor stayed open).
    """
    day, end = _columns(days, ends)
    return _masked(day > end, day, end)


def in_window_frame(days: Any, starts: Any, ends: Any) -> pd.Series:
    """Say, row by row, whether each day lies in its window: ``in_window`` on columns.

    ``days``, ``starts`` and ``ends`` are aligned columns of dates (or datetimes, or ISO
    strings), or any of them one date for every row. Returns a nullable boolean column: True
    inside, False outside, and missing where the day or the window is missing (a call not yet
    made is neither inside nor outside its window).
    """
    # Nullable booleans: missing on either side makes the row missing (Kleene logic would
    # otherwise call a row False as soon as one side is False).
    opened = window_opened_frame(days, starts)
    closed = window_closed_frame(days, ends)
    inside = opened.fillna(False) & ~closed.fillna(True)
    return inside.astype("boolean").mask(opened.isna() | closed.isna())


def _columns(*values: Any) -> list[pd.Series]:
    """Return ``values`` as aligned datetime columns (a single value repeated on every row)."""
    like = next((value for value in values if isinstance(value, pd.Series)), None)
    if like is None:
        raise TypeError("at least one of the dates must be a column")
    return [
        pd.to_datetime(value)
        if isinstance(value, pd.Series)
        else pd.Series(pd.Timestamp(value), index=like.index)
        for value in values
    ]


def _masked(result: pd.Series, *inputs: pd.Series) -> pd.Series:
    """Return ``result`` as a nullable boolean column, missing wherever an input is missing."""
    missing = pd.Series(False, index=result.index)
    for column in inputs:
        missing |= column.isna()
    return pd.Series(result, index=result.index, dtype="boolean").mask(missing)


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day of the month ``months`` later, clamped to the month's end."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def _follow_up_visit(timepoint: str) -> Visit:
    if timepoint not in FOLLOWUP_TIMEPOINTS:
        raise ValueError(f"unknown follow-up timepoint {timepoint!r}")
    return visit(timepoint)


def target_date(first_administration: dt.date, timepoint: str) -> dt.date:
    """Return the target date of a follow-up timepoint (W1, M1..M12)."""
    return _follow_up_visit(timepoint).target(first_administration)


def scheduled_call(first_administration: dt.date, timepoint: str) -> ScheduledCall:
    """Return the target date and window of one follow-up timepoint."""
    return _follow_up_visit(timepoint).plan(first_administration)


def baseline_call(inclusion_date: dt.date) -> ScheduledCall:
    """Return the baseline visit: in hospital on the day of inclusion, no window around it."""
    return visit("BL").plan(inclusion_date)


def build_schedule(first_administration: dt.date) -> list[ScheduledCall]:
    """Return the twelve-month schedule of calls (W1, M1..M12) in order."""
    return [scheduled_call(first_administration, tp) for tp in FOLLOWUP_TIMEPOINTS]


def visit_in(definition: StudyDefinition, timepoint: str) -> Visit:
    """Return the visit of a timepoint in a study, or raise ValueError."""
    for candidate in visits_for(definition):
        if candidate.timepoint == timepoint:
            return candidate
    raise ValueError(f"timepoint {timepoint!r} is not a visit of study {definition.key}")


def scheduled_call_in(
    definition: StudyDefinition, first_administration: dt.date, timepoint: str
) -> ScheduledCall:
    """Return the target date and window of one follow-up visit of a study."""
    planned = visit_in(definition, timepoint)
    if planned.anchor is not Anchor.FIRST_ADMINISTRATION:
        raise ValueError(f"{timepoint!r} is not a follow-up visit of study {definition.key}")
    return planned.plan(first_administration)


def plan_for(
    definition: StudyDefinition, *, inclusion_date: dt.date, first_administration: dt.date
) -> list[ScheduledCall]:
    """Return every visit of a study planned from its anchors' dates, in the study's order."""
    anchors = {
        Anchor.INCLUSION: inclusion_date,
        Anchor.FIRST_ADMINISTRATION: first_administration,
    }
    return [v.plan(anchors[v.anchor]) for v in visits_for(definition)]
