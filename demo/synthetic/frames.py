"""Calls and attempts frames from the call plan and the outcomes, and the cut at a date."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from demo.synthetic import instruments, params
from demo.synthetic.calls import INSTRUMENTS, CallPlan
from demo.synthetic.outcomes import TIMEPOINT_CODES, Outcomes
from followup.instruments import sf12

if TYPE_CHECKING:
    from demo.synthetic.generator import DemoCohort

HADS_COLUMNS = [f"hads_{k}" for k in range(1, 15)]
SF12_COLUMNS = [sf12.field_name(item) for item in sf12.ITEMS]
VALUE_COLUMNS = ["nprs_mean", "nprs_max", *HADS_COLUMNS, *SF12_COLUMNS]
REASON_COLUMNS = [f"{name}_missing_reason" for name in INSTRUMENTS]
# Why single SF-12 items are blank in an otherwise answered SF-12: {field: reason} or None.
SF12_ITEM_REASONS = "sf12_item_reasons"


def _nullable(values: np.ndarray, present: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(
        np.where(present, values, 0).astype(np.int64), ~present.astype(bool)
    )


def calls_frame(
    rng: np.random.Generator, codes: np.ndarray, plan: CallPlan, out: Outcomes
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (calls, attempts): one call row per patient and timepoint, one row per attempt."""
    n, k = plan.status.shape
    present = {
        name: (plan.status == "reached").ravel() & pd.isna(plan.missing[name].ravel())
        for name in INSTRUMENTS
    }
    frame = pd.DataFrame(
        {
            "study_code": np.repeat(codes, k),
            "timepoint": np.tile(np.array(TIMEPOINT_CODES, dtype=object), n),
            "target_date": pd.to_datetime(plan.target.ravel()),
            "call_date": pd.to_datetime(plan.call_date.ravel()),
            "status": plan.status.ravel(),
            "attempts": plan.n_attempts.ravel(),
            "nprs_mean": _nullable(out.nprs_mean.ravel(), present["nprs"]),
            "nprs_max": _nullable(out.nprs_max.ravel(), present["nprs"]),
        }
    )

    rows = np.flatnonzero(present["hads"])
    items = np.zeros((n * k, 14), dtype=np.int64)
    items[rows, 0::2] = instruments.split_hads(
        rng, out.hads_a.ravel()[rows], instruments.ANXIETY_ITEM_WEIGHTS
    )
    items[rows, 1::2] = instruments.split_hads(
        rng, out.hads_d.ravel()[rows], instruments.DEPRESSION_ITEM_WEIGHTS
    )
    for j, column in enumerate(HADS_COLUMNS):
        frame[column] = _nullable(items[:, j], present["hads"])

    rows = np.flatnonzero(present["sf12"])
    answers = instruments.sf12_answers(rng, out.pcs.ravel()[rows], out.mcs.ravel()[rows])
    for item, column in zip(sf12.ITEMS, SF12_COLUMNS, strict=True):
        full = np.zeros(n * k, dtype=np.int64)
        full[rows] = answers[item]
        frame[column] = _nullable(full, present["sf12"])
    for name, column in zip(INSTRUMENTS, REASON_COLUMNS, strict=True):
        frame[column] = plan.missing[name].ravel()
    frame[SF12_ITEM_REASONS] = _blank_sf12_items(rng, frame, present["sf12"])

    attempts = pd.DataFrame(
        {
            "study_code": codes[plan.att_patient],
            "timepoint": np.array(TIMEPOINT_CODES, dtype=object)[plan.att_tp],
            "attempt_no": plan.att_no,
            "outcome": plan.att_outcome,
            "at": pd.to_datetime(plan.att_at),
        }
    )
    return frame, attempts


def _blank_sf12_items(
    rng: np.random.Generator, frame: pd.DataFrame, present: np.ndarray
) -> np.ndarray:
    """Leave one item blank in a few answered follow-up SF-12s; return each row's item reasons.

    Drawn after every other draw of ``rng``, so the answers of the other rows do not change.
    """
    reasons = np.full(len(frame), None, dtype=object)
    followup = present & (frame["timepoint"] != "BL").to_numpy()
    rows = np.flatnonzero(followup & (rng.random(len(frame)) < params.SF12_ONE_ITEM_BLANK))
    role = rng.random(rows.size) < params.SF12_BLANK_ROLE_SHARE
    refused = rng.random(rows.size) < params.SF12_BLANK_REFUSED
    role_item = rng.integers(0, len(params.SF12_ROLE_ITEMS), rows.size)
    other_items = [c for c in SF12_COLUMNS if c not in params.SF12_ROLE_ITEMS]
    other_item = rng.integers(0, len(other_items), rows.size)
    for k, row in enumerate(rows):
        if role[k]:
            field, reason = params.SF12_ROLE_ITEMS[role_item[k]], "not_applicable"
        else:
            field = other_items[other_item[k]]
            reason = "refused" if refused[k] else "not_asked"
        frame.loc[row, field] = pd.NA
        reasons[row] = {field: reason}
    return reasons


def cut_at(cohort: DemoCohort, as_of: dt.date) -> DemoCohort:
    """Return the cohort as known at the end of ``as_of`` (see ``generate``)."""
    day = pd.Timestamp(as_of)
    patients = cohort.patients
    kept = patients["inclusion_date"] <= day
    keep_codes = set(patients.loc[kept, "study_code"])

    def own(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["study_code"].isin(keep_codes)].reset_index(drop=True)

    calls = own(cohort.calls)
    attempts = own(cohort.attempts)
    patients = patients[kept].reset_index(drop=True)

    key = ["study_code", "timepoint"]
    last_try = attempts.groupby(key, sort=False)["at"].max().dt.normalize().rename("last_try")
    calls = calls.merge(last_try, left_on=key, right_index=True, how="left")
    status_date = calls["study_code"].map(patients.set_index("study_code")["status_date"])
    resolved = calls["last_try"].fillna(
        calls["target_date"].where(calls["timepoint"] == "BL", status_date)
    )
    due = (resolved > day).to_numpy()
    calls = calls.drop(columns="last_try")
    attempts = attempts[attempts["at"] < day + pd.Timedelta(days=1)].reset_index(drop=True)
    counts = attempts.groupby(key, sort=False).size().rename("n")
    calls["attempts"] = (
        calls[key]
        .merge(counts, left_on=key, right_index=True, how="left")["n"]
        .fillna(0)
        .astype(np.int64)
        .to_numpy()
    )
    calls.loc[due, "status"] = "due"
    calls.loc[due, "call_date"] = pd.NaT
    for column in VALUE_COLUMNS:
        calls.loc[due, column] = pd.NA
    for column in (*REASON_COLUMNS, SF12_ITEM_REASONS):
        calls.loc[due, column] = None

    due_keys = set(map(tuple, calls.loc[due, key].to_numpy().tolist()))

    def resolved_only(frame: pd.DataFrame) -> pd.DataFrame:
        frame = own(frame)
        pairs = pd.Series(list(zip(frame["study_code"], frame["timepoint"], strict=True)))
        return frame[~pairs.isin(due_keys).to_numpy()].reset_index(drop=True)

    open_ = patients["status_date"] > day
    patients.loc[open_, "status"] = "active"
    patients.loc[open_, "status_date"] = pd.NaT
    patients.loc[open_, "status_reason"] = None
    administrations = own(cohort.administrations)
    administrations = administrations[administrations["date"] <= day].reset_index(drop=True)

    truth = dict(cohort.truth)
    mask = kept.to_numpy()
    truth["patients"] = {
        name: [v for v, m in zip(values, mask, strict=True) if m]
        for name, values in cohort.truth["patients"].items()
    }
    return type(cohort)(
        sites=cohort.sites,
        patients=patients,
        administrations=administrations,
        calls=calls,
        attempts=attempts,
        adverse_events=resolved_only(cohort.adverse_events),
        treatments=resolved_only(cohort.treatments),
        truth=truth,
    )
