"""The long frame the mediation analyses read, built from a demo cohort without the database.

One row per patient and timepoint: NPRS mean and HADS-D (sum of the depression items), carried
forward after baseline (LOCF, as the paper's specification reads them) or as observed (as the
within-patient mediations read them), baseline HADS-D, the cumulative ketamine dose
received up to the call (or up to its target date when the call was not made), sex and age.
Used by the mediation tests and by ``bench/coverage.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analytics.stats.mixed import MONTHS, locf

if TYPE_CHECKING:
    from demo.synthetic.generator import DemoCohort

COLUMNS = (
    "patient",
    "month",
    "nprs_mean",
    "hads_d",
    "baseline_hads_d",
    "cumulative_dose_mg",
    "sex",
    "age",
)


def mediation_frame(cohort: DemoCohort, *, carry_forward: bool = True) -> pd.DataFrame:
    """Return the long frame of ``cohort`` (LOCF, or observed values) with ``COLUMNS``."""
    calls = cohort.calls.copy()
    items = calls[[f"hads_{k}" for k in range(2, 15, 2)]].astype("Float64")
    calls["hads_d"] = items.sum(axis=1, skipna=False).astype(float)
    calls["nprs_mean"] = calls["nprs_mean"].astype("Float64").astype(float)
    calls["month"] = calls["timepoint"].map(MONTHS)
    calls["patient"] = calls["study_code"]
    when = pd.to_datetime(calls["call_date"].fillna(calls["target_date"]))
    adm = cohort.administrations.assign(
        mg=lambda d: d["dose_mg"].astype(float) * d["days"],
        date=lambda d: pd.to_datetime(d["date"]),
    )
    merged = calls[["study_code", "timepoint"]].assign(when=when).merge(adm, on="study_code")
    dose = (
        merged.loc[merged["date"] <= merged["when"]]
        .groupby(["study_code", "timepoint"])["mg"]
        .sum()
    )
    keys = pd.MultiIndex.from_frame(calls[["study_code", "timepoint"]])
    calls["cumulative_dose_mg"] = dose.reindex(keys).fillna(0.0).to_numpy()
    if carry_forward:
        frame, _ = locf(calls, ["nprs_mean", "hads_d"])
    else:
        frame = calls.sort_values(["patient", "month"]).reset_index(drop=True)
    baseline = frame.loc[frame["month"] == 0].set_index("patient")["hads_d"]
    frame["baseline_hads_d"] = frame["patient"].map(baseline)
    people = cohort.patients.set_index("study_code")
    frame["sex"] = frame["patient"].map(people["sex"])
    frame["age"] = frame["patient"].map(people["age"]).astype(float)
    return frame[list(COLUMNS)].reset_index(drop=True)
