"""Administrative censoring of a running study: which rows the analyses may read (pure pandas).

The long frame (``analytics.dataset``) has one row per patient and timepoint, with ``elapsed``
saying whether the timepoint had come for the patient at the data cut (its call made, or its
window closed). A row that has not elapsed is *not yet observed*: it is neither a value nor a
missing value, so it is never imputed, never in a denominator and never counted as missing. The
analyses read the elapsed rows only; every block states the cut and, per timepoint, how many
patients had reached it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cohort.vocabulary import MONTH_OF_TIMEPOINT

ELAPSED = "elapsed"
TIMEPOINTS: tuple[str, ...] = tuple(MONTH_OF_TIMEPOINT)


def elapsed_mask(long: pd.DataFrame) -> pd.Series:
    """Return the ``elapsed`` column (every row elapsed when the frame has none: a closed study)."""
    if ELAPSED not in long.columns:
        return pd.Series(True, index=long.index)
    return long[ELAPSED].fillna(False).astype(bool)


def analysed_rows(long: pd.DataFrame) -> pd.DataFrame:
    """Return the rows whose timepoint had elapsed at the data cut."""
    return long[elapsed_mask(long)]


def reached(
    long: pd.DataFrame, timepoints: Sequence[str] = TIMEPOINTS, *, by: str = "patient"
) -> dict[str, int]:
    """Return, per timepoint, how many patients had reached it at the data cut."""
    rows = analysed_rows(long)
    counts = rows.groupby("timepoint")[by].nunique()
    return {tp: int(counts.get(tp, 0)) for tp in timepoints}


def patients_reaching(long: pd.DataFrame, timepoint: str, *, by: str = "patient") -> pd.Index:
    """Return the patients for whom ``timepoint`` had elapsed at the data cut."""
    rows = analysed_rows(long)
    return pd.Index(rows.loc[rows["timepoint"] == timepoint, by].unique())


def data_cut(long: pd.DataFrame, as_of: dt.date, *, by: str = "patient") -> dict[str, Any]:
    """Return a block's data cut: the date, its patients, how many reached each timepoint."""
    return {
        "as_of": as_of.isoformat(),
        "patients": int(long[by].nunique()),
        "reached": reached(long, by=by),
    }
