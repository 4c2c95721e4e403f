"""Follow-up schedule: target dates and windows of the calls, from the first administration.

Pure Python. Baseline is assessed in hospital on the day of inclusion; W1 is due 7 days after the
first administration; M1..M12 are due on the same day of the month as the first administration
(clamped to the month's last day), k months later. A call made outside its window is flagged, not
refused.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from cohort.vocabulary import FOLLOWUP_TIMEPOINTS, MONTH_OF_TIMEPOINT

W1_DAYS = 7
# Days before and after the target date inside which a call is on time.
W1_WINDOW = (2, 3)
MONTHLY_WINDOW = (7, 10)
MONTHS = MONTH_OF_TIMEPOINT


@dataclass(frozen=True)
class ScheduledCall:
    """One planned call: its timepoint, target date and window (inclusive)."""

    timepoint: str
    target: dt.date
    window_start: dt.date
    window_end: dt.date

    def contains(self, day: dt.date) -> bool:
        """Say whether a call made on ``day`` is inside the window."""
        return self.window_start <= day <= self.window_end


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day of the month ``months`` later, clamped to the month's end."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def target_date(first_administration: dt.date, timepoint: str) -> dt.date:
    """Return the target date of a follow-up timepoint (W1, M1..M12)."""
    if timepoint == "W1":
        return first_administration + dt.timedelta(days=W1_DAYS)
    if timepoint not in FOLLOWUP_TIMEPOINTS:
        raise ValueError(f"unknown follow-up timepoint {timepoint!r}")
    return add_months(first_administration, int(MONTHS[timepoint]))


def scheduled_call(first_administration: dt.date, timepoint: str) -> ScheduledCall:
    """Return the target date and window of one follow-up timepoint."""
    target = target_date(first_administration, timepoint)
    before, after = W1_WINDOW if timepoint == "W1" else MONTHLY_WINDOW
    return ScheduledCall(
        timepoint=timepoint,
        target=target,
        window_start=target - dt.timedelta(days=before),
        window_end=target + dt.timedelta(days=after),
    )


def build_schedule(first_administration: dt.date) -> list[ScheduledCall]:
    """Return the twelve-month schedule of calls (W1, M1..M12) in order."""
    return [scheduled_call(first_administration, tp) for tp in FOLLOWUP_TIMEPOINTS]
