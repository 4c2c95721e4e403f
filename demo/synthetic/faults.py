"""Known data-quality faults planted in a demo cohort, one planter per kind (pure pandas).

Each planter alters the cohort's frames in place and returns one description per fault (the
study code, the timepoint or date, the column, the original and planted values), which the
generator stores under ``truth["planted"][kind]``. The kinds match the data-quality rules of
``quality.rules``, except ``nprs_digit_preference``, a site pattern for the central monitoring;
``natural_findings`` lists what the unplanted cohort already holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from followup.schedule import in_window_frame, window_around_frame

if TYPE_CHECKING:
    from demo.synthetic.generator import DemoCohort

HADS_ANXIETY = [f"hads_{n}" for n in range(1, 15, 2)]
HADS_DEPRESSION = [f"hads_{n}" for n in range(2, 15, 2)]
INSTRUMENT_COLUMNS = {
    "nprs": ["nprs_mean", "nprs_max"],
    "hads": [f"hads_{n}" for n in range(1, 15)],
}
HADS_JUMP_MAX = 10


def _windows(calls: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Return the window start and end of each call (as the schedule sets them)."""
    return window_around_frame(calls["timepoint"], calls["target_date"])


def _outside(calls: pd.DataFrame) -> pd.Series:
    start, end = _windows(calls)
    made = calls["status"].eq("reached") & calls["timepoint"].ne("BL") & calls["call_date"].notna()
    inside = in_window_frame(calls["call_date"], start, end).fillna(True).astype(bool)
    return made & ~inside


def _pick(rng: np.random.Generator, index: pd.Index, count: int, kind: str) -> list[Any]:
    if count > len(index):
        raise ValueError(f"cannot plant {count} {kind}: only {len(index)} candidates")
    return list(rng.choice(np.asarray(index), size=count, replace=False))


def _day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def natural_findings(cohort: DemoCohort) -> dict[str, list[dict[str, str]]]:
    """Return what the rules find in an unplanted cohort: calls outside their window (late
    after several attempts) and administrations after a withdrawal (the first two courses
    are always recorded)."""
    calls = cohort.calls
    late = calls[_outside(calls)]
    patients = cohort.patients.set_index("study_code")
    administrations = cohort.administrations
    status = administrations["study_code"].map(patients["status"])
    left = administrations["study_code"].map(patients["status_date"])
    after = administrations[
        status.eq("withdrawn") & left.notna() & (administrations["date"] > left)
    ]
    return {
        "call_outside_window": [
            {"study_code": row.study_code, "timepoint": row.timepoint} for row in late.itertuples()
        ],
        "administration_after_withdrawal": [
            {"study_code": row.study_code, "date": _day(row.date)} for row in after.itertuples()
        ],
    }


def plant_call_outside_window(
    cohort: DemoCohort, count: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Move reached calls 1 to 4 days past the end of their window (and their last attempt)."""
    calls = cohort.calls
    _start, end = _windows(calls)
    inside = calls["status"].eq("reached") & calls["timepoint"].ne("BL") & ~_outside(calls)
    planted = []
    for row in _pick(rng, calls.index[inside], count, "call_outside_window"):
        old = calls.at[row, "call_date"]
        new = end[row] + pd.Timedelta(days=int(rng.integers(1, 5)))
        calls.at[row, "call_date"] = new
        code, timepoint = calls.at[row, "study_code"], calls.at[row, "timepoint"]
        attempts = cohort.attempts
        own = attempts.index[attempts["study_code"].eq(code) & attempts["timepoint"].eq(timepoint)]
        if len(own):
            last = attempts.loc[own, "at"].idxmax()
            attempts.at[last, "at"] = attempts.at[last, "at"] + (new - old)
        planted.append(
            {
                "study_code": code,
                "timepoint": timepoint,
                "column": "call_date",
                "original": _day(old),
                "planted": _day(new),
            }
        )
    return planted


def plant_nprs_max_below_mean(
    cohort: DemoCohort, count: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Set the maximal pain one point below the mean pain."""
    calls = cohort.calls
    # Not at baseline, where another kind may blank the whole instrument.
    candidates = calls.index[
        calls["nprs_mean"].ge(1).fillna(False)
        & calls["nprs_max"].notna()
        & calls["timepoint"].ne("BL")
    ]
    planted = []
    for row in _pick(rng, candidates, count, "nprs_max_below_mean"):
        old = int(calls.at[row, "nprs_max"])
        calls.at[row, "nprs_max"] = int(calls.at[row, "nprs_mean"]) - 1
        planted.append(
            {
                "study_code": calls.at[row, "study_code"],
                "timepoint": calls.at[row, "timepoint"],
                "column": "nprs_max",
                "original": old,
                "planted": int(calls.at[row, "nprs_max"]),
            }
        )
    return planted


def plant_hads_jump(
    cohort: DemoCohort, count: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Push HADS depression at M12 more than 10 points away from M11 (all items 3, or all 0)."""
    calls = cohort.calls
    by_key = calls.set_index(["study_code", "timepoint"])
    m11 = by_key.xs("M11", level="timepoint")
    m12 = by_key.xs("M12", level="timepoint")
    both = m11.index.intersection(m12.index)
    m11, m12 = m11.loc[both], m12.loc[both]
    full = m11[HADS_DEPRESSION + HADS_ANXIETY].notna().all(axis=1) & m12[
        HADS_DEPRESSION + HADS_ANXIETY
    ].notna().all(axis=1)
    d11 = m11[HADS_DEPRESSION].sum(axis=1)
    quiet = (m12[HADS_DEPRESSION].sum(axis=1) - d11).abs().le(HADS_JUMP_MAX) & (
        m12[HADS_ANXIETY].sum(axis=1) - m11[HADS_ANXIETY].sum(axis=1)
    ).abs().le(HADS_JUMP_MAX)
    candidates = full.index[full & quiet]
    planted = []
    for code in _pick(rng, pd.Index(candidates), count, "hads_jump"):
        row = calls.index[calls["study_code"].eq(code) & calls["timepoint"].eq("M12")][0]
        item = 3 if d11[code] <= HADS_JUMP_MAX else 0
        old = int(calls.loc[row, HADS_DEPRESSION].sum())
        for column in HADS_DEPRESSION:
            calls.at[row, column] = item
        planted.append(
            {
                "study_code": code,
                "timepoint": "M12",
                "column": "hads_depression",
                "original": old,
                "planted": item * len(HADS_DEPRESSION),
                "previous": int(d11[code]),
            }
        )
    return planted


def plant_missing_baseline_instrument(
    cohort: DemoCohort, count: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Blank NPRS, HADS or SF-12 (in turn) of complete baselines, leaving no reason."""
    calls = cohort.calls
    sf12 = [c for c in calls.columns if c.startswith("sf12_") and "_reason" not in c]
    columns = {**INSTRUMENT_COLUMNS, "sf12": sf12}
    complete = calls["timepoint"].eq("BL") & calls[
        [c for v in columns.values() for c in v]
    ].notna().all(axis=1)
    planted = []
    instruments = list(columns)
    for i, row in enumerate(
        _pick(rng, calls.index[complete], count, "missing_baseline_instrument")
    ):
        instrument = instruments[i % len(instruments)]
        for column in columns[instrument]:
            calls.at[row, column] = pd.NA
        calls.at[row, f"{instrument}_missing_reason"] = None
        planted.append(
            {
                "study_code": calls.at[row, "study_code"],
                "timepoint": "BL",
                "column": instrument,
                "original": "present",
                "planted": "absent, no reason",
            }
        )
    return planted


def plant_administration_after_withdrawal(
    cohort: DemoCohort, count: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Record one more course 7 to 60 days after the withdrawal of withdrawn patients."""
    patients = cohort.patients
    withdrawn = patients.index[patients["status"].eq("withdrawn") & patients["status_date"].notna()]
    administrations = cohort.administrations
    rows, planted = [], []
    for index in _pick(rng, withdrawn, count, "administration_after_withdrawal"):
        code = patients.at[index, "study_code"]
        own = administrations[administrations["study_code"].eq(code)]
        taken = set(own["date"])
        day = patients.at[index, "status_date"] + pd.Timedelta(days=int(rng.integers(7, 61)))
        while day in taken:
            day += pd.Timedelta(days=1)
        course = own.iloc[-1].copy()
        course["date"] = day
        rows.append(course)
        planted.append(
            {
                "study_code": code,
                "date": _day(day),
                "column": "date",
                "original": None,
                "planted": _day(day),
                "withdrawn_on": _day(patients.at[index, "status_date"]),
            }
        )
    if rows:
        added = pd.DataFrame(rows).astype(administrations.dtypes.to_dict())
        combined = pd.concat([administrations, added], ignore_index=True)
        combined = combined.sort_values(["study_code", "date"], kind="stable", ignore_index=True)
        cohort.administrations = combined
    return planted


DIGIT_PULL_SHARE = 0.4


def plant_nprs_digit_preference(
    cohort: DemoCohort, count: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Pull the mean pain of ``count`` sites to 5 in 40% of their telephone calls.

    What a site whose nurses round the patients' answers looks like: not a data-quality rule,
    a pattern for the central monitoring (the digit preference test, ``quality.monitoring``).
    The sites are those with the most telephone answers (ties by code): the monitoring tests
    patients, and at a small site, or early in a study, too few patients have answered for any
    test to set a site apart among the hundreds of tests it adjusts for. The maximal pain is
    raised to the mean where it fell below, so that no rule fires.
    """
    calls = cohort.calls
    site = calls["study_code"].map(cohort.patients.set_index("study_code")["site_code"])
    answered = calls["nprs_mean"].notna() & calls["timepoint"].ne("BL")
    sizes = site[answered].value_counts()
    if count > len(sizes):
        raise ValueError(
            f"cannot plant {count} nprs_digit_preference: only {len(sizes)} sites with answers"
        )
    largest = sorted(sizes.index, key=lambda code: (-sizes[code], code))[:count]
    planted = []
    for code in largest:
        rows = calls.index[answered & site.eq(code)]
        pulled = rows[rng.random(len(rows)) < DIGIT_PULL_SHARE]
        calls.loc[pulled, "nprs_mean"] = 5
        low = calls.loc[pulled, "nprs_max"] < 5
        calls.loc[low[low].index, "nprs_max"] = 5
        planted.append({"site_code": code, "column": "nprs_mean", "pulled_to_5": len(pulled)})
    return planted


Planter = Callable[["DemoCohort", int, np.random.Generator], list[dict[str, Any]]]
PLANTERS: dict[str, Planter] = {
    "call_outside_window": plant_call_outside_window,
    "nprs_max_below_mean": plant_nprs_max_below_mean,
    "hads_jump": plant_hads_jump,
    "missing_baseline_instrument": plant_missing_baseline_instrument,
    "administration_after_withdrawal": plant_administration_after_withdrawal,
    "nprs_digit_preference": plant_nprs_digit_preference,
}
