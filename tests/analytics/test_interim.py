"""A running study: timepoints not yet due are not yet observed, in every block of the report.

A hand-built cohort of 18 patients, cut on 30 June 2026, with calls made, missed, overdue (window
closed, still to make) and not yet due (window open). Every count below is worked out by hand
from the design, not from the code:

========= == ====================================================================================
profile   n  calls
========= == ====================================================================================
done      6  included two years before the cut; every call reached except M3 (unreachable, all)
             and M12 (unreachable for done-1 and done-2); done-6 has no baseline NPRS
mid       5  included 200 days before the cut: W1..M5 reached except M4 (unreachable); M6 still
             to make with its window closed (overdue); M7..M12 not yet due
new       4  included 3 days before the cut: baseline only, W1..M12 not yet due
withdrew  2  included 110 days before: W1 and M1 reached, withdrew at M2; M3..M12 closed; M3's
             window has closed, M4's has not
died      1  included two years before: W1..M5 reached, died before M6; M6..M12 closed
========= == ====================================================================================
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics import dataset, report
from analytics.report.mediation_block import mediation_rows
from analytics.stats import censoring
from followup.schedule import build_schedule

CUT = dt.date(2026, 6, 30)
TIMEPOINTS = ["BL", "W1", *(f"M{k}" for k in range(1, 13))]
FOLLOW_UP = TIMEPOINTS[1:]
PROFILES = {  # name: (patients, days from inclusion to the cut, patient status)
    "done": (6, 730, "completed"),
    "mid": (5, 200, "active"),
    "new": (4, 3, "active"),
    "withdrew": (2, 110, "withdrawn"),
    "died": (1, 730, "deceased"),
}
PARAMS = report.Parameters(n_boot=20, trajectory_groups=(1, 2), trajectory_starts=1)


def _status(profile: str, index: int, timepoint: str) -> str:
    """Return the call status the design gives (see the module docstring)."""
    if timepoint == "BL":
        return "reached"
    k = FOLLOW_UP.index(timepoint)  # W1 0, M1 1 .. M12 12
    if profile == "done":
        if timepoint == "M3" or (timepoint == "M12" and index < 2):
            return "unreachable"
        return "reached"
    if profile == "mid":
        if k <= 5:
            return "unreachable" if timepoint == "M4" else "reached"
        return "due"
    if profile == "new":
        return "due"
    if profile == "withdrew":
        return "reached" if k <= 1 else ("withdrawn" if timepoint == "M2" else "closed")
    return "reached" if k <= 5 else "closed"  # died before M6


def _cohort() -> dataset.StudyData:
    rng = np.random.default_rng(14)
    calls, patients, doses = [], [], []
    pk = 0
    for profile, (count, days, status) in PROFILES.items():
        for index in range(count):
            pk += 1
            included = CUT - dt.timedelta(days=days)
            windows = {"BL": (included, included)}
            windows.update(
                {c.timepoint: (c.target, c.window_end) for c in build_schedule(included)}
            )
            low_mood = pk % 2 == 0
            for timepoint in TIMEPOINTS:
                call_status = _status(profile, index, timepoint)
                target, window_end = windows[timepoint]
                reached = call_status == "reached"
                value = float(rng.integers(2, 9)) if reached else np.nan
                no_baseline_pain = profile == "done" and index == 5 and timepoint == "BL"
                calls.append(
                    {
                        "patient": pk,
                        "study_id": f"S01-{pk:04d}",
                        "site": "S01",
                        "sex": "F" if pk % 3 else "M",
                        "age": 40 + pk,
                        "etiology": "fibromyalgia",
                        "status": status,
                        "timepoint": timepoint,
                        "call_status": call_status,
                        "call_date": target if reached else None,
                        "target_date": target,
                        "window_end": window_end,
                        "nprs_mean": np.nan if no_baseline_pain else value,
                        "nprs_max": np.nan if no_baseline_pain else value,
                        "hads_a": float(rng.integers(2, 7) if low_mood else rng.integers(9, 16))
                        if reached
                        else np.nan,
                        "hads_d": float(rng.integers(2, 6) if low_mood else rng.integers(9, 15))
                        if reached
                        else np.nan,
                        "sf12_pcs": 30.0 + value if reached else np.nan,
                        "sf12_mcs": 40.0 + value if reached else np.nan,
                        "nprs_item_reasons": None,
                        "nprs_reason": "not_asked" if no_baseline_pain else None,
                        "hads_item_reasons": None,
                        "hads_reason": None,
                        "sf12_item_reasons": None,
                        "sf12_reason": None,
                    }
                )
            patients.append(
                {
                    "patient": pk,
                    "sex": "F" if pk % 3 else "M",
                    "age": 40 + pk,
                    "comorbidities": [],
                    "etiology": "fibromyalgia",
                    "dn4": None,
                    "paroxysms_per_day": None,
                    "ketamine_naive": False,
                }
            )
            doses.append({"patient": pk, "date": included, "route": "sc", "total_mg": 50.0 + pk})
            doses.append(
                {
                    "patient": pk,
                    "date": included + dt.timedelta(days=60),
                    "route": "sc",
                    "total_mg": 30.0,
                }
            )
    dose_frame = pd.DataFrame(doses)
    long = dataset.assemble(pd.DataFrame(calls), dose_frame, as_of=CUT)
    iv = pd.DataFrame(columns=["patient", "total_mg", "days"])
    return dataset.StudyData(
        long=long,
        patients=dataset.patient_table(pd.DataFrame(patients), long, iv),
        treatments=pd.DataFrame(columns=["patient", "timepoint", "kind", "code"]),
        adverse_events=pd.DataFrame(
            columns=["patient", "timepoint", "type", "severity", "serious"]
        ),
        as_of=CUT,
    )


def _by_timepoint(values: dict[str, int]) -> list[int]:
    return [values[tp] for tp in TIMEPOINTS]


@pytest.fixture(scope="module")
def interim():
    data = _cohort()
    return data, report.build_report(data, PARAMS, fingerprint="interim")


# Worked out from the design table (module docstring).
REACHED = [18, 14, 14, 14, 14, 12, 12, 12, 7, 7, 7, 7, 7, 7]
CARRIED = [0, 0, 0, 2, 7, 5, 0, 5, 0, 0, 0, 0, 0, 2]
LOCF_N = [17, 13, 13, 13, 13, 11, 11, 10, 5, 5, 5, 5, 5, 5]
OBSERVED_N = [17, 14, 14, 12, 6, 7, 12, 6, 6, 6, 6, 6, 6, 4]
PENDING = [0, 4, 4, 4, 4, 4, 4, 9, 9, 9, 9, 9, 9, 9]
OVERDUE = [0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0]
MISSING = [1, 0, 0, 2, 8, 5, 0, 5, 0, 0, 0, 0, 0, 2]


def test_the_design_puts_each_window_where_the_docstring_says():
    included = CUT - dt.timedelta(days=200)
    mid = {c.timepoint: c for c in build_schedule(included)}
    assert mid["M6"].window_end < CUT <= mid["M7"].window_end
    withdrew = {c.timepoint: c for c in build_schedule(CUT - dt.timedelta(days=110))}
    assert withdrew["M3"].window_end < CUT <= withdrew["M4"].window_end
    new = {c.timepoint: c for c in build_schedule(CUT - dt.timedelta(days=3))}
    assert new["W1"].window_end >= CUT


def test_a_timepoint_elapses_when_its_call_is_made_or_its_window_closes(interim):
    data, _ = interim
    assert _by_timepoint(censoring.reached(data.long)) == REACHED


def test_every_block_states_the_data_cut_and_who_reached_each_timepoint(interim):
    _, result = interim
    assert result["run"]["as_of"] == "2026-06-30"
    for name, block in result["results"].items():
        cut = block["data_cut"]
        assert cut["as_of"] == "2026-06-30", name
        assert _by_timepoint(cut["reached"]) == REACHED, name
    assert _by_timepoint(result["cohort"]["data_cut"]["reached"]) == REACHED


def test_locf_carries_forward_only_into_timepoints_that_are_due_or_done(interim):
    _, result = interim
    assert _by_timepoint(result["run"]["carried_forward"]["nprs_mean"]) == CARRIED


def test_evolution_counts_only_reached_timepoints(interim):
    _, result = interim
    rows = result["results"]["evolution"]["nprs_mean"]
    locf = [r["n"] for r in rows if r["data"] == "locf"]
    observed = {r["timepoint"]: r["n"] for r in rows if r["data"] == "observed"}
    assert locf == LOCF_N
    assert _by_timepoint(observed) == OBSERVED_N
    assert [r["reached"] for r in rows if r["data"] == "locf"] == REACHED


def test_missing_data_table_leaves_timepoints_not_yet_due_out(interim):
    _, result = interim
    rows = result["results"]["missingness"]["by_outcome"]["nprs_mean"]
    assert [r["reached"] for r in rows] == REACHED
    assert [r["not_yet_observed"] for r in rows] == [18 - n for n in REACHED]
    assert [r["pending"] for r in rows] == PENDING
    assert [r["overdue"] for r in rows] == OVERDUE
    assert [r["missing"] for r in rows] == MISSING
    assert [r["not_applicable"] for r in rows] == [0] * 7 + [1] * 7
    assert [r["observed"] for r in rows] == OBSERVED_N


def test_baseline_to_m12_uses_the_patients_whose_m12_is_due(interim):
    _, result = interim
    block = result["results"]["nprs_baseline_to_m12"]
    # done (6) and died (1) have reached M12; done-6 has no baseline and the death is not
    # imputed: 5 pairs after LOCF, 2 of them carried forward.
    assert block["patients_m12_due"] == 7
    assert block["n"] == 5
    assert block["detail"]["carried_forward"]["M12"] == 2
    # The model reads every LOCF row of the M12-due patients with a baseline: the 5 done
    # patients (14 rows each, M3 and M12 carried) and the death's BL, W1, M1..M5 (7 rows).
    assert block["detail"]["lmm"]["n_patients"] == 6
    assert block["detail"]["lmm"]["n_observations"] == 5 * 14 + 7
    observed = block["observed_rows"]
    assert observed["imputation"] == "none"
    assert observed["n_patients"] == 3  # baseline and M12 observed: done-3, done-4, done-5
    # Every observed value of the 17 patients with a baseline value.
    assert observed["lmm"]["n_patients"] == 17
    # done-6 has no baseline: its 12 follow-up values (W1..M12 but M3) are left out.
    assert observed["lmm"]["n_observations"] == sum(OBSERVED_N) - 12


def test_definite_cases_count_the_patients_whose_m12_is_due(interim):
    _, result = interim
    block = result["results"]["hads_depression_baseline_to_m12"]
    assert block["definite_cases_baseline"]["n"] + block["patients_m12_due"] >= 7
    of = block["n"]
    assert of == 6  # every done patient has a baseline HADS; the death is not imputed
    high = sum(1 for pk in range(1, 7) if pk % 2 == 1)  # odd patients score 9-14
    assert block["definite_cases_baseline"]["n"] <= high


def test_interaction_models_read_only_elapsed_rows(interim):
    _, result = interim
    block = result["results"]["time_x_baseline_depression_interaction"]
    # LOCF: the 17 patients with a baseline, their elapsed rows, the death not imputed.
    assert block["detail"]["n_patients"] == 17
    assert block["detail"]["n_observations"] == sum(LOCF_N)
    assert block["observed_rows"]["n_observations"] == sum(OBSERVED_N) - 12
    bands = {b["label"]: b for b in result["results"]["figure2"]["bands"]}
    assert sum(b["n"] for b in bands.values()) == 17
    at_m12 = sum(p["n"] for b in bands.values() for p in b["timepoints"] if p["timepoint"] == "M12")
    assert at_m12 == LOCF_N[-1]


def test_trajectory_and_mediation_models_are_fed_only_elapsed_rows(monkeypatch):
    """Spy on what the report hands to the trajectory fit and to the mediations."""
    seen: dict[str, pd.DataFrame] = {}

    def trajectories(data, params, progress):
        seen["trajectories"] = data.long
        return {"available": False, "reason": "spy"}

    def mediation(imputed, observed, params):
        seen["mediation"] = imputed
        seen["mediation_observed"] = observed
        return {}

    # The mediations get only the columns they read (mediation_rows) of the rows spied here.
    slimmed: list[pd.DataFrame] = []

    def rows(frame):
        slimmed.append(frame)
        return mediation_rows(frame)

    monkeypatch.setattr(report, "trajectories", trajectories)
    monkeypatch.setattr(report, "mediation_results", mediation)
    monkeypatch.setattr(report, "mediation_rows", rows)
    report.build_report(_cohort(), PARAMS)
    fed = seen["trajectories"]
    assert fed["elapsed"].all()
    assert _by_timepoint(fed.groupby("timepoint")["patient"].nunique().to_dict()) == REACHED
    imputed, observed = slimmed
    pd.testing.assert_frame_equal(seen["mediation"], mediation_rows(imputed))
    pd.testing.assert_frame_equal(seen["mediation_observed"], mediation_rows(observed))
    assert imputed["elapsed"].all()
    counts = imputed.groupby("timepoint")["nprs_mean"].count().to_dict()
    assert _by_timepoint(counts) == LOCF_N
    # The within-patient mediations read the observed rows: elapsed, nothing carried forward.
    assert observed["elapsed"].all()
    assert observed["nprs_mean"].count() < imputed["nprs_mean"].count()


def test_each_step_begins_after_the_memory_the_last_one_freed_is_given_back(monkeypatch):
    events: list[str] = []

    def rows(frame):
        events.append("slimmed")
        return mediation_rows(frame)

    monkeypatch.setattr(report, "give_back_freed_memory", lambda: events.append("give back"))
    monkeypatch.setattr(report, "mediation_rows", rows)
    report.build_report(_cohort(), PARAMS, progress=lambda step, done, total: events.append(step))
    steps = [e for e in events if e not in ("give back", "slimmed")]
    for step in ("descriptive", "mixed_models", "interactions", "trajectories", "mediation"):
        assert step in steps
        assert events[events.index(step) - 1] == "give back"
    # The carried-forward and observed rows are cut to the mediation's columns once the models
    # that read them whole are done, before the interactions (which prepare their own rows).
    assert events.count("slimmed") == 2
    assert events.index("mixed_models") < events.index("slimmed") < events.index("interactions")


def test_a_study_with_no_patient_at_month_12_says_so_instead_of_failing():
    data = _cohort()
    young = data.long[~data.long["patient"].isin(range(1, 7)) & (data.long["patient"] != 18)]
    short = dataset.StudyData(
        long=young,
        patients=data.patients[data.patients["patient"].isin(young["patient"])],
        treatments=data.treatments,
        adverse_events=data.adverse_events,
        as_of=CUT,
    )
    result = report.build_report(short, PARAMS)
    block = result["results"]["nprs_baseline_to_m12"]
    assert block["patients_m12_due"] == 0
    assert block["available"] is False
    assert "month 12" in block["reason"]


def test_a_window_closing_on_the_cut_day_leaves_the_call_still_to_make():
    calls = pd.DataFrame(
        {
            "call_status": ["due", "due", "closed", "closed", "reached", "unreachable"],
            "window_end": pd.to_datetime(
                [CUT, CUT - dt.timedelta(days=1), CUT, CUT - dt.timedelta(days=1), CUT, CUT]
            ),
        }
    )
    assert dataset.elapsed(calls, CUT).tolist() == [False, True, False, True, True, True]


def test_locf_never_fills_a_row_not_yet_elapsed():
    from analytics.stats.mixed import locf

    frame = pd.DataFrame(
        {
            "patient": [1, 1, 1, 1],
            "month": [0.0, 0.25, 1.0, 2.0],
            "timepoint": ["BL", "W1", "M1", "M2"],
            "nprs_mean": [6.0, np.nan, np.nan, np.nan],
            "elapsed": [True, True, False, False],
        }
    )
    out, counts = locf(frame, ["nprs_mean"])
    assert out["nprs_mean"].tolist()[:2] == [6.0, 6.0]
    assert out["nprs_mean"].iloc[2:].isna().all()
    assert counts["nprs_mean"].tolist() == [0, 1, 0, 0]
