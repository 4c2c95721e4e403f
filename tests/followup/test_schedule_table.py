"""The schedule's table of visits and its window rule, on worked examples with dates by hand.

Every edge of every window: a call on the first and last day of a window is on time, the day
before it opens and the day after it closes are not. The scalar rule, its twin on frames, the
database filter and the consumers (the call's flag, the quality rule, the counts of the home
page) must all say the same on the same days.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort.vocabulary import FOLLOWUP_TIMEPOINTS, TIMEPOINTS, codes
from followup import schedule
from followup.models import FollowUpCall, window_contains
from followup.selectors import call_counts_for_user
from quality import rules

D = dt.date

# (first administration, timepoint, target, window start, window end), all counted by hand.
WORKED = [
    # W1: 7 days after, -2/+3.
    (D(2026, 1, 15), "W1", D(2026, 1, 22), D(2026, 1, 20), D(2026, 1, 25)),
    (D(2026, 1, 28), "W1", D(2026, 2, 4), D(2026, 2, 2), D(2026, 2, 7)),
    # Mk: the same day k months later, -7/+10.
    (D(2026, 1, 15), "M1", D(2026, 2, 15), D(2026, 2, 8), D(2026, 2, 25)),
    (D(2026, 1, 15), "M6", D(2026, 7, 15), D(2026, 7, 8), D(2026, 7, 25)),
    (D(2026, 1, 15), "M12", D(2027, 1, 15), D(2027, 1, 8), D(2027, 1, 25)),
    (D(2026, 12, 31), "M1", D(2027, 1, 31), D(2027, 1, 24), D(2027, 2, 10)),
    # Clamped to the month's end: 31 January gives 28 February, 29 in a leap year, 30 April.
    (D(2026, 1, 31), "M1", D(2026, 2, 28), D(2026, 2, 21), D(2026, 3, 10)),
    (D(2028, 1, 31), "M1", D(2028, 2, 29), D(2028, 2, 22), D(2028, 3, 10)),
    (D(2026, 1, 31), "M3", D(2026, 4, 30), D(2026, 4, 23), D(2026, 5, 10)),
]
ONE = dt.timedelta(days=1)


def _edges(start: dt.date, end: dt.date) -> list[tuple[dt.date, bool]]:
    """Return the four edge days of a window: before it, its first, its last, after it."""
    return [(start - ONE, False), (start, True), (end, True), (end + ONE, False)]


def _edge_rows() -> list[tuple[str, dt.date, dt.date, dt.date, bool]]:
    return [
        (timepoint, day, start, end, inside)
        for _first, timepoint, _target, start, end in WORKED
        for day, inside in _edges(start, end)
    ]


# The table --------------------------------------------------------------------------------


def test_the_table_has_one_visit_per_timepoint_with_its_anchor_window_and_mode():
    assert [v.timepoint for v in schedule.VISITS] == list(codes(TIMEPOINTS))
    baseline = schedule.visit("BL")
    assert (baseline.anchor, baseline.window_days, baseline.mode) == (
        schedule.Anchor.INCLUSION,
        (0, 0),
        schedule.Mode.HOSPITAL,
    )
    assert (schedule.visit("W1").days, schedule.window_days("W1")) == (7, (2, 3))
    for k in range(1, 13):
        monthly = schedule.visit(f"M{k}")
        assert (monthly.months, monthly.days, monthly.window_days) == (k, 0, (7, 10))
    for timepoint in FOLLOWUP_TIMEPOINTS:
        assert schedule.visit(timepoint).anchor == schedule.Anchor.FIRST_ADMINISTRATION
        assert schedule.visit(timepoint).mode == schedule.Mode.PHONE
    assert (schedule.W1_WINDOW, schedule.MONTHLY_WINDOW) == ((2, 3), (7, 10))
    assert schedule.LATEST_CLOSE_DAYS == 10


def test_an_unknown_timepoint_is_refused_and_baseline_is_not_counted_from_ketamine():
    with pytest.raises(ValueError, match="unknown timepoint 'M13'"):
        schedule.visit("M13")
    with pytest.raises(ValueError, match="unknown follow-up timepoint 'BL'"):
        schedule.target_date(D(2026, 1, 15), "BL")


def test_baseline_is_on_the_day_of_inclusion_with_no_window():
    planned = schedule.baseline_call(D(2026, 1, 5))
    assert (planned.target, planned.window_start, planned.window_end) == (D(2026, 1, 5),) * 3


@pytest.mark.parametrize(("first", "timepoint", "target", "start", "end"), WORKED)
def test_worked_examples_give_the_target_and_window_counted_by_hand(
    first, timepoint, target, start, end
):
    planned = schedule.scheduled_call(first, timepoint)
    assert (planned.target, planned.window_start, planned.window_end) == (target, start, end)
    assert schedule.target_date(first, timepoint) == target


@pytest.mark.parametrize("timepoint", FOLLOWUP_TIMEPOINTS)
def test_every_follow_up_window_opens_and_closes_on_its_protocol_days(timepoint):
    before, after = (2, 3) if timepoint == "W1" else (7, 10)
    planned = schedule.scheduled_call(D(2026, 3, 31), timepoint)
    target = planned.target
    assert planned.contains(target - dt.timedelta(days=before))
    assert not planned.contains(target - dt.timedelta(days=before + 1))
    assert planned.contains(target + dt.timedelta(days=after))
    assert not planned.contains(target + dt.timedelta(days=after + 1))


# The rule and its twin on frames ----------------------------------------------------------


@pytest.mark.parametrize(("first", "timepoint", "target", "start", "end"), WORKED)
def test_each_window_edge_is_in_or_out_for_the_rule_and_its_twin_on_frames(
    first, timepoint, target, start, end
):
    planned = schedule.scheduled_call(first, timepoint)
    days = [day for day, _inside in _edges(start, end)]
    expected = [inside for _day, inside in _edges(start, end)]
    assert [schedule.in_window(day, start, end) for day in days] == expected
    assert [planned.contains(day) for day in days] == expected
    frame = schedule.in_window_frame(
        pd.Series(pd.to_datetime(days)), planned.window_start, planned.window_end
    )
    assert frame.tolist() == expected


def test_the_twin_reads_columns_of_windows_and_agrees_row_by_row():
    rows = _edge_rows()
    frame = pd.DataFrame(rows, columns=["timepoint", "day", "start", "end", "inside"])
    # Dates as the frames of the analyses hold them (datetimes) and as ISO strings.
    for cast in (pd.to_datetime, lambda column: column.map(dt.date.isoformat)):
        inside = schedule.in_window_frame(
            cast(frame["day"]), cast(frame["start"]), cast(frame["end"])
        )
        assert inside.tolist() == frame["inside"].tolist()


def test_a_call_not_made_is_neither_inside_nor_outside_its_window():
    inside = schedule.in_window_frame(
        pd.Series([pd.NaT, "2026-02-08"]),
        pd.Series(["2026-02-08", None]),
        pd.Series(["2026-02-25", "2026-02-25"]),
    )
    assert inside.isna().tolist() == [True, True]
    assert not inside.eq(False).fillna(False).any()


dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))


@given(st.lists(st.tuples(dates, dates, st.integers(0, 40)), min_size=1, max_size=30))
def test_the_rule_and_its_twin_agree_on_any_dates(rows):
    days = [day for day, _start, _length in rows]
    starts = [start for _day, start, _length in rows]
    ends = [start + dt.timedelta(days=length) for _day, start, length in rows]
    frame = schedule.in_window_frame(
        pd.Series(pd.to_datetime(days)),
        pd.Series(pd.to_datetime(starts)),
        pd.Series(pd.to_datetime(ends)),
    )
    assert frame.tolist() == [
        schedule.in_window(day, start, end)
        for day, start, end in zip(days, starts, ends, strict=True)
    ]


# Through the consumers --------------------------------------------------------------------

M1 = schedule.scheduled_call(D(2026, 1, 15), "M1")  # window 8 to 25 February 2026
M1_EDGES = [D(2026, 2, 7), D(2026, 2, 8), D(2026, 2, 25), D(2026, 2, 26)]


def test_a_call_made_the_day_before_or_after_its_window_is_flagged_and_its_edges_are_not():
    calls = [
        FollowUpCall(
            timepoint="M1",
            target_date=M1.target,
            window_start=M1.window_start,
            window_end=M1.window_end,
            status="reached",
            call_date=day,
        )
        for day in M1_EDGES
    ]
    assert [call.is_outside_window() for call in calls] == [True, False, False, True]


def test_the_quality_rule_finds_the_calls_just_outside_their_planned_window():
    calls = pd.DataFrame(
        {
            "call_id": [1, 2, 3, 4, 5],
            "patient_id": [1, 2, 3, 4, 5],
            "study_code": ["SA-0001", "SA-0002", "SA-0003", "SA-0004", "SA-0005"],
            "timepoint": ["M1"] * 5,
            "status": ["reached"] * 4 + ["due"],
            "call_date": pd.to_datetime([*M1_EDGES, None]),
            "window_start": pd.to_datetime([M1.window_start] * 5),
            "window_end": pd.to_datetime([M1.window_end] * 5),
        }
    )
    found = rules.call_outside_window(calls)
    assert [(f.call_id, f.value) for f in found] == [(1, "2026-02-07"), (4, "2026-02-26")]


@pytest.mark.django_db
def test_the_database_filter_and_the_home_counts_open_and_close_the_window_on_its_edges(
    patient_a, nurse_site_a
):
    # patient_a: first administration on 5 January 2026, M1 due 5 February, window 29 January
    # to 15 February.
    m1 = patient_a.calls.get(timepoint="M1")
    assert (m1.window_start, m1.window_end) == (D(2026, 1, 29), D(2026, 2, 15))
    inside = []
    due_now = []
    for day in (D(2026, 1, 28), D(2026, 1, 29), D(2026, 2, 15), D(2026, 2, 16)):
        inside.append(patient_a.calls.filter(window_contains(day), timepoint="M1").exists())
        due_now.append(call_counts_for_user(nurse_site_a, today=day)["due_now"])
    assert inside == [False, True, True, False]
    assert due_now == [0, 1, 1, 0]


def test_a_window_around_a_given_target_keeps_the_visits_days():
    """An imported target date gets the window of its visit: W1 -2/+3, Mk -7/+10, BL none."""
    target = dt.date(2026, 3, 15)
    assert schedule.window_around("BL", target) == (target, target)
    assert schedule.window_around("W1", target) == (dt.date(2026, 3, 13), dt.date(2026, 3, 18))
    assert schedule.window_around("M6", target) == (dt.date(2026, 3, 8), dt.date(2026, 3, 25))
    for planned in schedule.build_schedule(dt.date(2026, 1, 31)):
        assert schedule.window_around(planned.timepoint, planned.target) == (
            planned.window_start,
            planned.window_end,
        )


def test_the_frame_windows_are_the_scalar_windows_row_by_row():
    timepoints = pd.Series(["BL", "W1", "M1", "M12"])
    targets = pd.Series(pd.to_datetime(["2026-01-15", "2026-01-22", "2026-02-15", "2027-01-15"]))
    starts, ends = schedule.window_around_frame(timepoints, targets)
    for tp, target, start, end in zip(timepoints, targets, starts, ends, strict=True):
        assert (start.date(), end.date()) == schedule.window_around(tp, target.date())
    with pytest.raises(ValueError, match="unknown"):
        schedule.window_around_frame(pd.Series(["M13"]), pd.Series(targets[:1]))
