"""The rated study's timeline series, from plain values (no database).

A patient whose first infusion is on 2026-01-05 (day 0): the visits BL (day 0), D1, D3, D5, D8,
D10, D12 and D26 fall on their definition's days; infusions on days 0, 2, 4, 7, 9, 11.
"""

from __future__ import annotations

import datetime as dt

from followup.madrs_course import Effect, Infusion, Rating, Visit, infusion_marks, madrs_course

DAY0 = dt.date(2026, 1, 5)
OFFSETS = {"BL": 0, "D1": 1, "D3": 3, "D5": 5, "D8": 8, "D10": 10, "D12": 12, "D26": 26}
VISITS = [Visit(code, DAY0 + dt.timedelta(days=d)) for code, d in OFFSETS.items()]
INFUSIONS = [Infusion(DAY0 + dt.timedelta(days=d), 35.0) for d in (0, 2, 4, 7, 9, 11)]


def rated(totals):
    return [
        Rating(code, DAY0 + dt.timedelta(days=OFFSETS[code]), total)
        for code, total in totals.items()
    ]


def course(totals, *, today, infusions=INFUSIONS, effects=()):
    return madrs_course(
        visits=VISITS,
        ratings=rated(totals),
        infusions=infusions,
        effects=effects,
        first_day=DAY0,
        today=today,
    )


def test_mid_course_visits_not_yet_due_are_planned_and_a_due_one_unrated_is_missing():
    # Day 6: BL, D1, D3 rated; D5 (day 5) due and not rated; D8 onwards not yet due.
    series = course({"BL": 30, "D1": 20, "D3": 14}, today=DAY0 + dt.timedelta(days=6))
    states = {v["code"]: v["state"] for v in series["visits"]}
    assert states == {
        "BL": "rated",
        "D1": "rated",
        "D3": "rated",
        "D5": "missing",
        "D8": "planned",
        "D10": "planned",
        "D12": "planned",
        "D26": "planned",
    }
    assert [v["day"] for v in series["visits"]] == list(OFFSETS.values())
    assert series["baseline_total"] == 30
    assert series["response_max"] == 15
    # The latest visit rated after baseline is D3: 14 <= 15 is a response, 14 > 10 no remission.
    assert series["latest"]["code"] == "D3"
    assert series["latest"]["response"] is True
    assert series["latest"]["remission"] is False
    assert series["latest"]["change_pct"] == round(100 * (14 - 30) / 30, 1)
    assert series["end"]["state"] == "planned"
    assert series["end"]["total"] is None


def test_a_visit_due_today_unrated_is_missing_and_one_due_tomorrow_is_planned():
    series = course({"BL": 30}, today=DAY0 + dt.timedelta(days=1))
    states = [v["state"] for v in series["visits"]][:3]
    assert states == ["rated", "missing", "planned"]
    assert series["latest"] is None


def test_full_course_ends_in_remission_at_day_26():
    totals = {"BL": 32, "D1": 24, "D3": 20, "D5": 18, "D8": 15, "D10": 12, "D12": 11, "D26": 9}
    series = course(totals, today=DAY0 + dt.timedelta(days=40))
    assert all(v["state"] == "rated" for v in series["visits"])
    assert [v["total"] for v in series["visits"]] == list(totals.values())
    assert series["latest"]["code"] == "D26"
    assert series["end"] == series["latest"]
    assert series["end"]["response"] is True
    assert series["end"]["remission"] is True
    assert [m["number"] for m in series["infusions"]] == [1, 2, 3, 4, 5, 6]
    assert [m["day"] for m in series["infusions"]] == [0, 2, 4, 7, 9, 11]
    assert series["axis"] == [-1, 28]


def test_response_and_remission_follow_the_totals_at_each_visit():
    # Baseline 30: 15 is exactly half (a response), 16 is not; 10 is a remission, 11 is not.
    totals = {"BL": 30, "D1": 16, "D3": 15, "D5": 11, "D8": 10}
    series = course(totals, today=DAY0 + dt.timedelta(days=8))
    rows = {v["code"]: (v["response"], v["remission"]) for v in series["visits"]}
    assert rows["D1"] == (False, False)
    assert rows["D3"] == (True, False)
    assert rows["D5"] == (True, False)
    assert rows["D8"] == (True, True)
    # The baseline is the reference, neither response nor remission.
    assert rows["BL"] == (None, None)


def test_without_a_baseline_total_response_is_unknown_and_remission_still_read():
    series = course({"D1": 8}, today=DAY0 + dt.timedelta(days=2))
    assert series["baseline_total"] is None
    assert series["response_max"] is None
    assert series["latest"]["response"] is None
    assert series["latest"]["remission"] is True
    assert series["visits"][0]["state"] == "missing"


def test_a_blank_total_at_a_due_visit_is_missing():
    series = course({"BL": 30, "D1": None}, today=DAY0 + dt.timedelta(days=2))
    assert series["visits"][1]["state"] == "missing"
    assert series["latest"] is None


def test_an_adverse_effect_goes_to_the_last_infusion_on_or_before_its_onset():
    effects = [
        Effect(DAY0 + dt.timedelta(days=2), "Dizziness", "mild", False),
        Effect(DAY0 + dt.timedelta(days=3), "Nausea", "moderate", True),
        Effect(DAY0 - dt.timedelta(days=1), "Headache", "mild", False),
    ]
    marks, unattached = infusion_marks(INFUSIONS, effects, day_zero=DAY0)
    assert [e["label"] for e in marks[1]["effects"]] == ["Dizziness", "Nausea"]
    assert all(not m["effects"] for i, m in enumerate(marks) if i != 1)
    assert [e["label"] for e in unattached] == ["Headache"]
    assert marks[0]["total_mg"] == 35.0
