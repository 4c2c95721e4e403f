"""When a window has opened and when it has closed, on worked examples with dates by hand.

A window has opened on its first day (not the day before) and has closed the day after its
last day (not on the last day itself). The scalar rules, their twins on frames, the database
filters and every consumer (the call's overdue flag, the home counts, the worklist, the
monitoring's due calls, the analyses' elapsed timepoints) must say the same on the same days.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.dataset import elapsed
from cohort.services import patient_set_call_times
from followup import schedule
from followup.models import FollowUpCall, window_closed_by, window_contains, window_opened_by
from followup.selectors import call_counts_for_user, worklist_for_user
from quality.monitoring import due_calls

D = dt.date
ONE = dt.timedelta(days=1)

# (timepoint, first administration, window start, window end), counted by hand.
WINDOWS = [
    ("W1", D(2026, 1, 15), D(2026, 1, 20), D(2026, 1, 25)),
    ("M1", D(2026, 1, 15), D(2026, 2, 8), D(2026, 2, 25)),
    ("M1", D(2026, 1, 31), D(2026, 2, 21), D(2026, 3, 10)),
    ("M12", D(2026, 1, 15), D(2027, 1, 8), D(2027, 1, 25)),
]
# Relative to a window: the day before it opens, its first day, its last day, the day after.
# (opened, closed) on each.
EDGES = [
    ("before", False, False),
    ("first", True, False),
    ("last", True, False),
    ("after", True, True),
]


def _day(edge: str, start: dt.date, end: dt.date) -> dt.date:
    return {"before": start - ONE, "first": start, "last": end, "after": end + ONE}[edge]


def _rows() -> list[tuple[dt.date, dt.date, dt.date, bool, bool]]:
    """Return (day, start, end, opened, closed) for every edge of every worked window."""
    return [
        (_day(edge, start, end), start, end, opened, closed)
        for _tp, _first, start, end in WINDOWS
        for edge, opened, closed in EDGES
    ]


def test_the_worked_windows_are_those_the_schedule_plans():
    for timepoint, first, start, end in WINDOWS:
        planned = schedule.scheduled_call(first, timepoint)
        assert (planned.window_start, planned.window_end) == (start, end)


@pytest.mark.parametrize(("day", "start", "end", "opened", "closed"), _rows())
def test_a_window_opens_on_its_first_day_and_closes_the_day_after_its_last(
    day, start, end, opened, closed
):
    assert schedule.window_opened(day, start) is opened
    assert schedule.window_closed(day, end) is closed
    # Inside: opened and not yet closed.
    assert schedule.in_window(day, start, end) is (opened and not closed)


def test_the_twins_on_frames_say_the_same_as_the_scalar_rules_on_every_edge():
    frame = pd.DataFrame(_rows(), columns=["day", "start", "end", "opened", "closed"])
    # Dates as the frames of the analyses hold them (datetimes) and as ISO strings.
    for cast in (pd.to_datetime, lambda column: column.map(dt.date.isoformat)):
        day, start, end = cast(frame["day"]), cast(frame["start"]), cast(frame["end"])
        assert schedule.window_opened_frame(day, start).tolist() == frame["opened"].tolist()
        assert schedule.window_closed_frame(day, end).tolist() == frame["closed"].tolist()
        inside = frame["opened"] & ~frame["closed"]
        assert schedule.in_window_frame(day, start, end).tolist() == inside.tolist()


def test_one_data_cut_against_a_column_of_windows():
    # M1 of 15 January: 8 to 25 February. On 25 February it is open; on the 26th it closed.
    starts = pd.Series(pd.to_datetime(["2026-02-08", "2026-02-26", "2026-02-27"]))
    ends = pd.Series(pd.to_datetime(["2026-02-24", "2026-02-25", "2026-03-10"]))
    assert schedule.window_opened_frame(D(2026, 2, 26), starts).tolist() == [True, True, False]
    assert schedule.window_closed_frame(D(2026, 2, 25), ends).tolist() == [True, False, False]
    assert schedule.window_closed_frame(D(2026, 2, 26), ends).tolist() == [True, True, False]


def test_a_missing_date_makes_the_twins_missing_not_false():
    days = pd.Series([pd.NaT, "2026-02-26", "2026-02-26"])
    bounds = pd.Series(["2026-02-25", None, "2026-02-25"])
    assert schedule.window_closed_frame(days, bounds).isna().tolist() == [True, True, False]
    assert schedule.window_opened_frame(days, bounds).isna().tolist() == [True, True, False]
    closed = schedule.window_closed_frame(D(2026, 2, 26), pd.Series([None, "2026-02-25"]))
    assert closed.isna().tolist() == [True, False]
    assert closed.dtype == "boolean"


dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))


@given(st.lists(st.tuples(dates, dates), min_size=1, max_size=30))
def test_the_rules_and_their_twins_agree_on_any_dates(rows):
    days = pd.Series(pd.to_datetime([day for day, _bound in rows]))
    bounds = pd.Series(pd.to_datetime([bound for _day, bound in rows]))
    assert schedule.window_opened_frame(days, bounds).tolist() == [
        schedule.window_opened(day, bound) for day, bound in rows
    ]
    assert schedule.window_closed_frame(days, bounds).tolist() == [
        schedule.window_closed(day, bound) for day, bound in rows
    ]


# Through the consumers --------------------------------------------------------------------

M1 = schedule.scheduled_call(D(2026, 1, 15), "M1")  # window 8 to 25 February 2026
M1_DAYS = [D(2026, 2, 7), D(2026, 2, 8), D(2026, 2, 25), D(2026, 2, 26)]
M1_CLOSED = [False, False, False, True]


def test_an_open_call_is_overdue_the_day_after_its_window_closes_not_on_its_last_day():
    call = FollowUpCall(
        timepoint="M1",
        target_date=M1.target,
        window_start=M1.window_start,
        window_end=M1.window_end,
        status="due",
    )
    assert [call.is_overdue(day) for day in M1_DAYS] == M1_CLOSED
    call.status = "reached"
    assert not call.is_overdue(D(2026, 2, 26))


def _m1_frame(**columns: object) -> pd.DataFrame:
    base = {
        "timepoint": ["M1"],
        "window_start": pd.to_datetime([M1.window_start]),
        "window_end": pd.to_datetime([M1.window_end]),
        "call_date": pd.to_datetime([None]),
    }
    return pd.DataFrame({**base, **columns})


def test_the_monitoring_counts_a_call_not_answered_as_due_once_its_window_closed():
    calls = _m1_frame(status=["due"], site=["SA"], patient=[1])
    assert [len(due_calls(calls, day)) == 1 for day in M1_DAYS] == M1_CLOSED


def test_the_analyses_read_a_timepoint_not_made_once_its_window_closed():
    frame = _m1_frame(call_status=["due"])
    assert [bool(elapsed(frame, day).iloc[0]) for day in M1_DAYS] == M1_CLOSED
    # No window (a row with no call): never elapsed by the window.
    assert not elapsed(_m1_frame(call_status=["due"], window_end=[None]), D(2030, 1, 1)).iloc[0]


# patient_a: first administration on 5 January 2026; W1 window 10 to 15 January, M1 window 29
# January to 15 February.
DB_DAYS = [D(2026, 1, 9), D(2026, 1, 10), D(2026, 1, 15), D(2026, 1, 16), D(2026, 1, 28)]
DB_DAYS += [D(2026, 1, 29), D(2026, 2, 15), D(2026, 2, 16)]


@pytest.mark.django_db
def test_the_database_filters_pick_the_calls_the_scalar_rules_pick(patient_a):
    calls = list(patient_a.calls.exclude(timepoint="BL"))
    for day in DB_DAYS:
        opened = {c.pk for c in calls if schedule.window_opened(day, c.window_start)}
        closed = {c.pk for c in calls if schedule.window_closed(day, c.window_end)}
        inside = {c.pk for c in calls if schedule.in_window(day, c.window_start, c.window_end)}
        follow_up = patient_a.calls.exclude(timepoint="BL")
        assert set(follow_up.filter(window_opened_by(day)).values_list("pk", flat=True)) == opened
        assert set(follow_up.filter(window_closed_by(day)).values_list("pk", flat=True)) == closed
        assert set(follow_up.filter(window_contains(day)).values_list("pk", flat=True)) == inside


@pytest.mark.django_db
def test_the_home_counts_follow_the_window_edges(patient_a, nurse_site_a):
    m1 = patient_a.calls.get(timepoint="M1")
    assert (m1.window_start, m1.window_end) == (D(2026, 1, 29), D(2026, 2, 15))
    counts = {day: call_counts_for_user(nurse_site_a, today=day) for day in DB_DAYS}
    # W1 from the 16th of January; M1 from the 16th of February. Baseline, still open, is not
    # counted: it is assessed in hospital, and the worklist leaves it out too.
    assert [counts[day]["overdue"] for day in DB_DAYS] == [0, 0, 0, 1, 1, 1, 1, 2]
    for day in DB_DAYS:
        listed = worklist_for_user(nurse_site_a, today=day).counts["overdue"]
        assert counts[day]["overdue"] == listed, day
    assert [counts[day]["due_now"] for day in DB_DAYS] == [0, 1, 1, 0, 0, 1, 1, 0]
    # Not yet opened: the thirteen follow-up calls (W1, M1..M12), twelve once W1 opens, eleven
    # once M1 opens.
    assert [counts[day]["upcoming"] for day in DB_DAYS] == [13, 12, 12, 12, 12, 11, 11, 11]


@pytest.mark.django_db
def test_the_worklist_lists_a_call_as_overdue_the_day_after_its_window_closes(
    patient_a, nurse_site_a
):
    on_last_day = worklist_for_user(nurse_site_a, today=D(2026, 1, 15))
    assert [c.timepoint for c in on_last_day.due_today] == ["W1"]
    assert on_last_day.overdue == []
    next_day = worklist_for_user(nurse_site_a, today=D(2026, 1, 16))
    assert [c.timepoint for c in next_day.overdue] == ["W1"]
    assert next_day.due_today == []


@pytest.mark.django_db
def test_the_worklist_marks_a_call_to_make_now_from_the_day_its_window_opens(
    patient_a, nurse_site_a
):
    patient_set_call_times(
        patient=patient_a, call_from=dt.time(0), call_to=dt.time(23, 59), days=[], by=nurse_site_a
    )

    def call_now(day: dt.date) -> dict[str, bool]:
        moment = dt.datetime.combine(day, dt.time(11), tzinfo=dt.UTC)
        worklist = worklist_for_user(nurse_site_a, today=day, now=moment)
        return {c.timepoint: c.call_now for section in worklist.sections() for c in section.rows}

    # W1 closed on the 15th and is overdue; M1 opens on the 29th.
    assert call_now(D(2026, 1, 28)) == {"W1": True, "M1": False}
    assert call_now(D(2026, 1, 29)) == {"W1": True, "M1": True}
