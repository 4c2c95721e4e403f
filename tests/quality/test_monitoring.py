"""Central monitoring on simulated sites with known truth (no database): the planted site is
flagged, the normal ones are not, and with no abnormal site the chance of any flag stays near
the stated 5% (Benjamini-Hochberg over every site and test)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from quality import monitoring
from tests.quality.simulated_sites import AS_OF, simulate


def _flagged(result: monitoring.Monitoring, prefix: str = "") -> set[str]:
    return {flag.site for flag in result.flags if flag.test.startswith(prefix)}


def test_a_cohort_of_normal_sites_raises_no_flag():
    result = monitoring.monitor(simulate(1), as_of=AS_OF)
    assert len(result.rows) == 30
    assert result.flags == []


def test_with_no_abnormal_site_few_cohorts_raise_any_flag():
    # 20 cohorts of 30 normal sites: at Q = 5% over all sites and tests, about one cohort in
    # twenty may raise a flag; more than two would mean a test rejects too often.
    flagged = [
        seed for seed in range(100, 120) if monitoring.monitor(simulate(seed), as_of=AS_OF).flags
    ]
    assert len(flagged) <= 2, flagged


def test_a_site_whose_pain_answers_are_pulled_to_5_is_flagged_for_digit_preference():
    result = monitoring.monitor(simulate(2, digit_preference="S03"), as_of=AS_OF)
    assert _flagged(result, "digit") == {"S03"}
    flag = next(flag for flag in result.flags if flag.test == "digit")
    assert flag.kind == "digit_five"
    assert flag.message.startswith("Site S03: ")
    assert "% of mean-pain answers are 5, against " in flag.message
    assert flag.message.endswith("after correction): possible digit preference.")
    assert flag.p_adjusted < monitoring.Q


def test_a_site_with_answers_too_alike_is_flagged_for_low_spread_and_no_other_site():
    result = monitoring.monitor(simulate(2, low_spread="S04"), as_of=AS_OF)
    assert _flagged(result, "low_spread") == {"S04"}
    assert {f.test for f in result.flags if f.site == "S04"} >= {
        "low_spread:nprs_mean",
        "low_spread:hads_a",
        "low_spread:hads_d",
    }
    row = next(row for row in result.rows if row.site == "S04")
    assert row.sd_ratio["nprs_mean"] < 0.5
    assert _flagged(result) == {"S04"}


def test_a_site_that_misses_half_its_calls_is_flagged_for_completeness_only():
    result = monitoring.monitor(simulate(2, missed_calls="S06"), as_of=AS_OF)
    assert _flagged(result) == {"S06"}
    assert [flag.test for flag in result.flags] == ["reached"]
    row = next(row for row in result.rows if row.site == "S06")
    assert 0.4 < row.reached_share < 0.7


def test_a_site_with_a_higher_baseline_pain_is_flagged_for_a_mean_shift():
    result = monitoring.monitor(simulate(3, baseline_shift="S05", patients=(15, 30)), as_of=AS_OF)
    assert _flagged(result, "mean_shift:baseline") == {"S05"}
    row = next(row for row in result.rows if row.site == "S05")
    assert row.z["baseline"] > 3
    others = [row for row in result.rows if row.site != "S05"]
    assert all(row.means["baseline"][2] < 9 for row in others)


def test_due_calls_count_closed_windows_and_answered_calls_not_those_of_patients_who_left():
    day = pd.Timestamp
    calls = pd.DataFrame(
        {
            "site": ["S1"] * 6,
            "patient": [1] * 6,
            "timepoint": ["BL", "M1", "M2", "M3", "M4", "M5"],
            "status": ["reached", "reached", "due", "unreachable", "due", "closed"],
            "window_start": [
                day("2025-01-01"),
                day("2025-01-25"),
                day("2025-02-24"),
                day("2025-03-26"),
                day("2025-05-20"),
                day("2025-02-01"),
            ],
            "window_end": [
                day("2025-01-01"),
                day("2025-02-11"),
                day("2025-03-13"),
                day("2025-04-12"),
                day("2025-06-06"),
                day("2025-02-18"),
            ],
            "call_date": [day("2025-01-01"), day("2025-02-14"), None, None, None, None],
        }
    )
    due = monitoring.due_calls(calls, dt.date(2025, 5, 1))
    assert list(due["timepoint"]) == ["M1", "M2", "M3"]
    assert list(due["reached"]) == [True, False, False]
    assert list(due["on_time"]) == [False, False, False]


def test_sites_with_too_few_patients_are_shown_but_not_tested():
    calls = simulate(4, n_sites=6)
    calls = calls[
        ~(
            calls["site"].eq("S02")
            & calls["patient"].gt(calls.loc[calls.site.eq("S02"), "patient"].min() + 1)
        )
    ]
    result = monitoring.monitor(calls, as_of=AS_OF)
    row = next(row for row in result.rows if row.site == "S02")
    assert row.patients == 2
    assert not row.tested
    assert row.p == {}
    assert row.calls_due > 0


@pytest.mark.parametrize(("p", "text"), [(0.0004, "< .001"), (0.0312, "= .03"), (0.0046, "= .005")])
def test_p_values_are_written_as_in_journals(p, text):
    assert monitoring._p_text(p) == text


def test_sentences_are_complete_for_every_flag_kind():
    params = {
        "site": "S07",
        "p": "< .001",
        "share": "41",
        "others": "17",
        "outcome": "HADS-A",
        "ratio": "0.40",
        "measure": "baseline mean pain",
        "value": "8.1",
        "z": "4.2",
    }
    for kind in monitoring.SENTENCES:
        flag = monitoring.Flag("S07", kind, kind, 1e-5, 1e-4, params)
        assert "{" not in flag.message
        assert flag.message.startswith("Site S07: ")
    assert np.isnan(monitoring.SiteRow(site="S1", patients=3).reached_share)
