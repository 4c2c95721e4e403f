"""The data-quality rules on hand-built frames (no database)."""

import pandas as pd

from quality import rules


def _calls(*rows):
    defaults = {
        "call_id": 1,
        "patient_id": 1,
        "study_code": "SA-0001",
        "timepoint": "M1",
        "month": 1.0,
        "status": "reached",
        "call_date": "2026-02-05",
        "window_start": "2026-01-29",
        "window_end": "2026-02-15",
        "nprs_mean": 5.0,
        "nprs_max": 7.0,
        "nprs_missing_reason": "",
        "hads_a": 8.0,
        "hads_d": 6.0,
        "hads_missing_reason": "",
        "sf12_pcs": 30.0,
        "sf12_mcs": 40.0,
        "sf12_missing_reason": "",
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    for column in ("call_date", "window_start", "window_end"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _administrations(*rows):
    defaults = {
        "admin_id": 1,
        "patient_id": 1,
        "study_code": "SA-0001",
        "date": "2026-01-05",
        "total_mg": 100.0,
        "patient_status": "active",
        "status_date": None,
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    for column in ("date", "status_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _keys(findings):
    return [f.key for f in findings]


def test_a_call_after_its_window_closed_is_found_and_baseline_never_is():
    calls = _calls(
        {"call_id": 1, "call_date": "2026-02-16"},
        {"call_id": 2, "timepoint": "M2", "call_date": "2026-02-15"},
        {"call_id": 3, "timepoint": "BL", "call_date": "2025-01-01"},
        {"call_id": 4, "timepoint": "M3", "status": "due", "call_date": None},
    )
    [finding] = rules.call_outside_window(calls)
    assert (finding.call_id, finding.field, finding.value) == (1, "call_date", "2026-02-16")
    assert finding.message == "Call of 2026-02-16 outside its window 2026-01-29 to 2026-02-15."
    assert finding.key == "call_outside_window:SA-0001:M1:call_date"


def test_maximal_pain_below_mean_is_found():
    calls = _calls(
        {"call_id": 1, "nprs_mean": 6, "nprs_max": 5},
        {"call_id": 2, "nprs_mean": 6, "nprs_max": 6},
        {"call_id": 3, "nprs_mean": None, "nprs_max": 2},
    )
    [finding] = rules.nprs_max_below_mean(calls)
    assert (finding.call_id, finding.field, finding.message) == (
        1,
        "nprs_max",
        "Maximal pain 5 is below mean pain 6.",
    )


def test_hads_jump_counts_only_consecutive_months_and_more_than_ten_points():
    calls = _calls(
        {"call_id": 1, "timepoint": "M1", "month": 1, "hads_d": 3},
        {"call_id": 2, "timepoint": "M2", "month": 2, "hads_d": 14},
        {"call_id": 3, "timepoint": "M3", "month": 3, "hads_d": 4, "hads_a": 19},
        {"call_id": 5, "timepoint": "M5", "month": 5, "hads_d": 19},
        {"call_id": 6, "timepoint": "W1", "month": 0.25, "hads_d": 21},
    )
    found = {(f.call_id, f.field) for f in rules.hads_jump(calls)}
    # M1 -> M2: +11 (found); M2 -> M3: -10 (not more than 10); anxiety M2 -> M3: +11 (found);
    # M3 -> M5 skips a month; W1 is not monthly.
    assert found == {(2, "hads_depression"), (3, "hads_anxiety")}


def test_a_baseline_without_an_instrument_and_without_a_reason_is_found():
    calls = _calls(
        {"call_id": 1, "timepoint": "BL", "nprs_mean": None, "nprs_max": None},
        {
            "call_id": 2,
            "patient_id": 2,
            "study_code": "SA-0002",
            "timepoint": "BL",
            "hads_a": None,
            "hads_d": None,
            "hads_missing_reason": "refused",
        },
        {"call_id": 3, "timepoint": "M1", "sf12_pcs": None, "sf12_mcs": None},
        {
            "call_id": 4,
            "patient_id": 3,
            "study_code": "SA-0003",
            "timepoint": "BL",
            "sf12_pcs": None,
            "sf12_mcs": None,
            "sf12_missing_reason": None,
        },
    )
    found = {(f.study_code, f.field) for f in rules.missing_baseline_instrument(calls)}
    assert found == {("SA-0001", "nprs"), ("SA-0003", "sf12")}


def test_an_administration_after_the_withdrawal_is_found():
    administrations = _administrations(
        {
            "admin_id": 1,
            "date": "2026-01-05",
            "patient_status": "withdrawn",
            "status_date": "2026-03-01",
        },
        {
            "admin_id": 2,
            "date": "2026-03-02",
            "patient_status": "withdrawn",
            "status_date": "2026-03-01",
        },
        {
            "admin_id": 3,
            "date": "2026-04-02",
            "patient_status": "lost",
            "status_date": "2026-03-01",
        },
    )
    [finding] = rules.administration_after_withdrawal(administrations)
    assert (finding.target, finding.target_id, finding.field) == ("administration", 2, "date")
    assert finding.key == "administration_after_withdrawal:SA-0001:administration2:date"


def test_cumulative_dose_falling_between_timepoints_is_found():
    calls = _calls(
        {"call_id": 1, "timepoint": "M1", "month": 1, "call_date": "2026-02-10"},
        {"call_id": 2, "timepoint": "M2", "month": 2, "call_date": "2026-02-01"},
        {"call_id": 3, "timepoint": "M3", "month": 3, "call_date": "2026-04-05"},
    )
    administrations = _administrations(
        {"admin_id": 1, "date": "2026-01-05", "total_mg": 100},
        {"admin_id": 2, "date": "2026-02-05", "total_mg": 50},
    )
    [finding] = rules.cumulative_dose_decreasing(calls, administrations)
    assert (finding.call_id, finding.timepoint) == (2, "M2")
    assert "100 mg at this call is below the 150 mg" in finding.message


def test_clean_data_have_no_finding():
    calls = _calls(
        {"call_id": 1, "timepoint": "BL", "month": 0, "call_date": "2026-01-05"},
        {"call_id": 2, "timepoint": "M1", "month": 1},
    )
    assert rules.run_rules(calls, _administrations({})) == []
