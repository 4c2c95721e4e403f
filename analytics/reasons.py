"""The long frame's missing reasons: why each outcome of each row is absent.

Most of the 1.4 million rows of a national registry share a few call and patient statuses and a
few stored item reasons: a reason is worked out once per distinct value and taken per row,
which gives what working it out row by row gave (``tests/analytics/test_reason_paths.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from followup.instruments import missing


def distinct_rows(columns: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Return the first row of each distinct tuple of these columns' values, and each row's.

    The nulls of a column are one value. The tuples are numbered in the order they first come.
    """
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for values in columns:
        codes, uniques = pd.factorize(values)
        key, _ = pd.factorize(key * (len(uniques) + 1) + (codes + 1))
    first = pd.Series(key).drop_duplicates().index.to_numpy()
    return first, key


class StatedReasons:
    """The reasons one instrument's rows state: its item reasons and its whole reason."""

    def __init__(self, items: pd.Series, whole: pd.Series, derived: np.ndarray) -> None:
        self.derived = derived  # each row's reason from its call and patient statuses
        self.items = items.to_numpy(dtype=object)
        self.present = items.notna().to_numpy()
        # The whole reason when given (not null, not empty), else the derived one.
        given = (whole.notna() & whole.ne("")).to_numpy()
        codes, uniques = pd.factorize(whole)
        texts = np.asarray(uniques, dtype=object)
        self.base = derived.copy()
        self.base[given] = texts[codes[given]]
        self.texts = np.where(given, codes, -1)
        self.uniques = texts
        # What a row without a whole reason holds as one: the column's null (None or NaN).
        blank = whole.iloc[:1].where(np.zeros(min(len(whole), 1), dtype=bool), None)
        self.blank = blank.to_numpy(dtype=object)[0] if len(whole) else None

    def reasons(self, outcome: str, absent: np.ndarray) -> np.ndarray:
        """Return the reason of each row's ``outcome`` (None unless ``absent``)."""
        reasons = self.base.copy()
        candidates = np.flatnonzero(absent & self.present)
        rows = candidates[self.items[candidates].astype(bool)]
        worked: dict[tuple[int, Any], str | None] = {}
        for row in rows:
            given = self.items[row]
            if not isinstance(given, dict):
                continue
            code = self.texts[row]
            whole = (self.uniques[code] if code >= 0 else self.blank) or ""
            key = (id(given), whole)
            if key not in worked:
                worked[key] = missing.score_reason(outcome, given, whole)
            reasons[row] = worked[key] or self.derived[row]
        kept = absent & pd.notna(reasons)
        return np.where(kept, reasons, None)


def call_reasons(frame: pd.DataFrame) -> pd.Series:
    """Return, per row, why the values of a call not made are absent (None when made or due).

    Worked out once per distinct pair of call status and patient status, on the first row of
    each pair, and taken per row: the values (and the null, None or NaN, by the columns' dtype)
    that working it out row by row gave.
    """
    first, inverse = distinct_rows([frame["call_status"], frame["status"]])
    few = frame.iloc[first]
    pairs = few["call_status"].astype(str) + "|" + few["status"].astype(str)
    reasons = {pair: missing.call_reason(*pair.split("|", 1)) for pair in pairs.unique()}
    values = pairs.map(reasons).astype(object).to_numpy(dtype=object)
    return pd.Series(values[inverse], index=frame.index, dtype=object)


def outcome_reasons(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Return why each outcome of each row is missing (pure pandas): for each outcome of
    ``columns``, a column of the name it maps to.

    An observed value has no reason, and neither has a call still due. Otherwise the stored
    reasons of the score's blank items give it (``followup.instruments.missing.score_reason``);
    a call not made with none stored gets the reason derived from its status and the patient's.
    Rows need ``call_status``, ``status`` and, per instrument, ``<name>_item_reasons`` (a dict)
    and ``<name>_reason`` (its whole-instrument reason); the last two may be absent.
    """
    derived = call_reasons(frame).to_numpy(dtype=object)
    out = pd.DataFrame(index=frame.index)
    empty = pd.Series(None, index=frame.index, dtype=object)
    stated: dict[str, StatedReasons] = {}
    for outcome, column in columns.items():
        instrument = missing.SCORE_INSTRUMENT[outcome]
        if instrument not in stated:
            stated[instrument] = StatedReasons(
                frame.get(f"{instrument}_item_reasons", empty),
                frame.get(f"{instrument}_reason", empty),
                derived,
            )
        reasons = stated[instrument].reasons(outcome, frame[outcome].isna().to_numpy())
        out[column] = pd.Series(reasons, index=frame.index, dtype=object)
    return out
