"""The missing reasons of the long frame, worked out per distinct value, are those row by row.

``reasons.call_reasons`` and ``dataset.outcome_reasons`` are compared with the row-by-row code
they replaced (kept here as the reference) on random frames, with the columns as each read gives
them: Arrow-backed texts with NaN for nulls (PostgreSQL) and objects with None (the ORM).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import dataset, reasons
from followup.instruments import missing

SEEDS = (0, 1, 2)


def _call_reasons_reference(frame):
    pairs = frame["call_status"].astype(str) + "|" + frame["status"].astype(str)
    reasons = {pair: missing.call_reason(*pair.split("|", 1)) for pair in pairs.unique()}
    return pairs.map(reasons).astype(object)


def _outcome_reasons_reference(frame):
    derived = _call_reasons_reference(frame)
    derived_values = derived.to_numpy(dtype=object)
    out = pd.DataFrame(index=frame.index)
    empty = pd.Series(None, index=frame.index, dtype=object)
    for outcome, column in dataset.REASON_COLUMNS.items():
        instrument = missing.SCORE_INSTRUMENT[outcome]
        items = frame.get(f"{instrument}_item_reasons", empty)
        whole = frame.get(f"{instrument}_reason", empty)
        whole = whole.where(whole.notna() & whole.astype(object).ne(""), None)
        reasons = (
            whole.astype(object).where(whole.notna(), derived).to_numpy(dtype=object, copy=True)
        )
        missing_value = frame[outcome].isna().to_numpy()
        given = items.to_numpy(dtype=object)
        whole_values = whole.to_numpy(dtype=object)
        present = items.notna().to_numpy()
        non_empty = np.zeros(len(items), dtype=bool)
        non_empty[present] = given[present].astype(bool)
        for row in np.flatnonzero(missing_value & non_empty):
            if isinstance(given[row], dict):
                stored = missing.score_reason(outcome, given[row], whole_values[row] or "")
                reasons[row] = stored or derived_values[row]
        kept = missing_value & pd.notna(reasons)
        out[column] = pd.Series(np.where(kept, reasons, None), index=frame.index, dtype=object)
    return out


def _frame(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda values: np.array(values, dtype=object)[rng.integers(0, len(values), n)]  # noqa: E731
    frame = pd.DataFrame(
        {
            "call_status": pick(
                ["reached", "due", "unreachable", "refused", "withdrawn", "closed"]
            ),
            "status": pick(["active", "lost", "withdrawn", "deceased", "completed"]),
        }
    )
    for outcome in dataset.OUTCOMES:
        frame[outcome] = np.where(rng.random(n) < 0.4, np.nan, rng.normal(5, 2, n))
    reasons = [*missing.REASONS, ""]
    for instrument in ("nprs", "hads", "sf12"):
        fields = missing.INSTRUMENT_FIELDS[instrument]
        # A few documents shared by many rows (as the bulk read gives them), some of their own.
        shared = [{}, {fields[0]: "refused"}, dict.fromkeys(fields, "not_asked"), {fields[-1]: ""}]
        items = np.empty(n, dtype=object)
        for row in range(n):
            draw = rng.random()
            if draw < 0.3:
                items[row] = None
            elif draw < 0.8:
                items[row] = shared[rng.integers(0, len(shared))]
            else:
                chosen = rng.choice(len(fields), size=rng.integers(1, 4))
                items[row] = {fields[i]: reasons[rng.integers(0, len(reasons))] for i in chosen}
        frame[f"{instrument}_item_reasons"] = items
        whole = pick([*missing.REASONS, "", None, None])
        frame[f"{instrument}_reason"] = pd.Series(whole, dtype=object)
    return frame


def _as_read(frame: pd.DataFrame, way: str) -> pd.DataFrame:
    if way == "orm":
        return frame
    texts = [name for name in frame.columns if name.endswith("_reason") or "status" in name]
    return frame.assign(**{name: frame[name].astype("str") for name in texts})


def _assert_same(left, right):
    if isinstance(left, pd.Series):
        left, right = left.to_frame("values"), right.to_frame("values")
    pd.testing.assert_frame_equal(left, right, check_exact=True)
    for column in left.columns:
        assert [type(v) for v in left[column]] == [type(v) for v in right[column]], column


@pytest.mark.parametrize("way", ["arrow", "orm"])
@pytest.mark.parametrize("seed", SEEDS)
def test_reasons_are_those_worked_out_row_by_row(seed, way):
    frame = _as_read(_frame(seed), way)
    assert dataset.outcome_reasons(frame).notna().any().all()
    _assert_same(reasons.call_reasons(frame), _call_reasons_reference(frame))
    _assert_same(dataset.outcome_reasons(frame), _outcome_reasons_reference(frame))
    shuffled = frame.sample(frac=1.0, random_state=seed)
    _assert_same(dataset.outcome_reasons(shuffled), _outcome_reasons_reference(shuffled))


def test_reasons_without_the_stored_reasons_are_the_derived_ones():
    frame = _frame(3)[["call_status", "status", *dataset.OUTCOMES]]
    _assert_same(dataset.outcome_reasons(frame), _outcome_reasons_reference(frame))
    _assert_same(
        dataset.outcome_reasons(frame.iloc[:0]), _outcome_reasons_reference(frame.iloc[:0])
    )
