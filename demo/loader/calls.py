"""The follow-up calls, their windows as the schedule sets them, and the attempts to reach."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings

from demo.loader.frames import CallIds, PatientIds, call_keys, iso_dates, table
from demo.loader.writer import RowWriter
from followup import schedule
from followup.models import TIMEPOINT_ORDER, CallAttempt, FollowUpCall


def window_offsets(timepoints: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Return the days before and after the target that each timepoint's window spans."""
    # Windows are fixed offsets around the target whatever the first dose, so any date will do.
    reference = dt.date(2001, 1, 1)
    before, after = {}, {}
    for timepoint in timepoints:
        if timepoint == "BL":
            before[timepoint] = after[timepoint] = 0
            continue
        planned = schedule.scheduled_call(reference, timepoint)
        before[timepoint] = (planned.target - planned.window_start).days
        after[timepoint] = (planned.window_end - planned.target).days
    return before, after


def call_ids(writer: RowWriter, calls: pd.DataFrame) -> CallIds:
    """Allocate an id to each call of the (positionally indexed) frame."""
    return CallIds(keys=call_keys(calls), ids=writer.next_id(FollowUpCall) + np.arange(len(calls)))


def insert_calls(
    writer: RowWriter, calls: pd.DataFrame, ids: CallIds, patients: PatientIds, now: str
) -> int:
    """Write the calls, a reached one completed at noon (local) on its day; return how many."""
    local = ZoneInfo(settings.TIME_ZONE)
    timepoint = calls.timepoint
    before, after = window_offsets(timepoint.unique())
    target = calls.target_date.dt.normalize()
    reached = (calls.status == "reached").to_numpy()
    call_day = calls.call_date.dt.normalize().where(reached)

    def shifted(offsets: dict[str, int], sign: int) -> np.ndarray:
        days = pd.to_timedelta(timepoint.map(offsets).astype(np.int64), unit="D")
        return iso_dates(target + sign * days)

    return writer.insert(
        FollowUpCall,
        table(
            {
                "id": ids.ids,
                "patient_id": patients.of(calls, "Calls"),
                "timepoint": timepoint,
                "sequence": timepoint.map(TIMEPOINT_ORDER).astype(np.int64),
                "target_date": iso_dates(target),
                "window_start": shifted(before, -1),
                "window_end": shifted(after, 1),
                "status": calls.status,
                "status_reason": "",
                "call_date": iso_dates(call_day),
                "completed_at": writer.stamps(
                    (call_day + pd.Timedelta(hours=12)).dt.tz_localize(local)
                ),
                "completed_by_id": None,
                "needs_review": False,
                "review_reasons": "[]",
                "notes": "",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def insert_attempts(writer: RowWriter, attempts: pd.DataFrame, calls: CallIds, now: str) -> int:
    """Write the attempts to reach each patient; return how many."""
    local = ZoneInfo(settings.TIME_ZONE)
    attempts = attempts.reset_index(drop=True)
    return writer.insert(
        CallAttempt,
        table(
            {
                "id": writer.next_id(CallAttempt) + np.arange(len(attempts)),
                "call_id": calls.of(attempts, "Attempts"),
                # Local wall times; calls are made in daytime, so no DST gap or overlap occurs.
                "attempted_at": writer.stamps(attempts["at"].dt.tz_localize(local)),
                "by_id": None,
                "outcome": attempts.outcome,
                "note": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
