"""Columns as the backend stores them, and the ids of the parent rows they point at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

CALL_KEY = ["study_code", "timepoint"]


def plain(values: pd.Series) -> np.ndarray:
    """Return the values as a numpy array, missing values as None in an object array."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return values.to_numpy()
    return values.astype(object).where(values.notna(), None).to_numpy()


def table(columns: dict[str, Any]) -> pd.DataFrame:
    """Build a frame of numpy columns from arrays, series (positionally) and scalars."""
    n = next(len(v) for v in columns.values() if isinstance(v, (np.ndarray, pd.Series)))
    index = pd.RangeIndex(n)
    data: dict[str, pd.Series] = {}
    for name, values in columns.items():
        if isinstance(values, pd.Series):
            values = plain(values)
        elif not isinstance(values, np.ndarray):
            kind = object if values is None or isinstance(values, str) else None
            values = np.full(n, values, dtype=kind)
        # An explicit dtype stops pandas from turning object text into str with NaN, whose
        # element-by-element iteration is slow.
        data[name] = pd.Series(values, index=index, dtype=values.dtype, copy=False)
    return pd.DataFrame(data, index=index)


def text_or_blank(values: pd.Series) -> np.ndarray:
    """Return text values with '' for missing ones (the text columns are NOT NULL)."""
    return values.fillna("").to_numpy(dtype=object)


def iso_dates(values: pd.Series) -> np.ndarray:
    """Return datetimes as 'YYYY-MM-DD' text, None for NaT."""
    dates = values.to_numpy(dtype="datetime64[D]")
    iso = np.datetime_as_string(dates, unit="D").astype(object)
    iso[np.isnat(dates)] = None
    return iso


def positions(index: pd.Index, keys: pd.Index, what: str) -> np.ndarray:
    """Return where each key sits in ``index``; refuse keys that are not there."""
    found = index.get_indexer(keys)
    if (found < 0).any():
        raise ValueError(f"{what} refer to rows missing from the cohort")
    return found


def call_keys(frame: pd.DataFrame) -> pd.MultiIndex:
    """Return the (study code, timepoint) of each row: the key of its call."""
    return pd.MultiIndex.from_frame(frame[CALL_KEY])


@dataclass(frozen=True)
class PatientIds:
    """The ids given to the cohort's patients, by study code, and their rounded weights."""

    codes: pd.Index
    ids: np.ndarray
    weight_kg: np.ndarray

    def rows_of(self, frame: pd.DataFrame, what: str) -> np.ndarray:
        """Return the position of each row's patient (by ``study_code``)."""
        return positions(self.codes, pd.Index(frame.study_code), what)

    def of(self, frame: pd.DataFrame, what: str) -> np.ndarray:
        """Return the patient id of each row of ``frame`` (by ``study_code``)."""
        return self.ids[self.rows_of(frame, what)]


@dataclass(frozen=True)
class CallIds:
    """The ids given to the cohort's calls, by (study code, timepoint)."""

    keys: pd.MultiIndex
    ids: np.ndarray

    def of(self, frame: pd.DataFrame, what: str) -> np.ndarray:
        """Return the call id of each row of ``frame`` (by study code and timepoint)."""
        return self.ids[positions(self.keys, call_keys(frame), what)]
