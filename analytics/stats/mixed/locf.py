"""Last observation carried forward within patient, never imputing baseline."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from followup.instruments.missing import NOT_MISSING

# A column ``<outcome>_missing_reason`` beside an outcome says why each missing value is absent.
REASON_SUFFIX = "_missing_reason"
# A boolean column ``elapsed`` says whether a row's timepoint had come for the patient at the
# data cut (analytics.dataset); a row not yet observed is never imputed.
ELAPSED = "elapsed"


def is_sorted(frame: pd.DataFrame, by: str, order: str) -> bool:
    """Tell whether ``frame`` is already in ``(by, order)`` order (a stable sort would keep it).

    A missing key or time fails every comparison beside a neighbour, so such a frame is sorted as
    before (a lone row with a missing key could only stay where it is).
    """
    key = frame[by].to_numpy()
    time = frame[order].to_numpy()
    if key.dtype.kind not in "iuf" or time.dtype.kind not in "iuf":
        return False
    before, after = key[:-1], key[1:]
    steps = (after > before) | ((after == before) & (time[1:] >= time[:-1]))
    return bool(steps.all())


def locf(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    by: str = "patient",
    order: str = "month",
    baseline: float = 0.0,
    label: str = "timepoint",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carry each patient's last observation forward after baseline.

    The baseline row (``order == baseline``) is never imputed. A patient whose baseline value is
    missing for a column is set to missing for that column at every row, so that the outcome's
    model leaves the patient out. A value whose reason (column ``<column>_missing_reason``) is not
    missing data (``not_applicable``, for example after death) is not imputed: it does not exist
    to be carried into, and leaves the denominators. Neither is a row whose ``elapsed`` column is
    False: its timepoint has not come yet (administrative censoring). The frame comes back sorted by
    ``(by, order)``; ``counts`` has one row per ``label`` value (in ``order`` order) and one column
    per imputed column, giving how many values were carried forward.
    """
    out = (
        frame if is_sorted(frame, by, order) else frame.sort_values([by, order], kind="stable")
    ).copy()
    key = label if label in out.columns else order
    is_baseline = (out[order] == baseline).to_numpy()
    patients = out[by]
    carried: dict[str, pd.Series] = {}
    for col in columns:
        values = out[col]
        baseline_seen = pd.Series(is_baseline & values.notna().to_numpy(), index=out.index)
        has_baseline = baseline_seen.groupby(patients).transform("any").astype(bool)
        filled = values.groupby(patients).ffill().where(has_baseline)
        reason = f"{col}{REASON_SUFFIX}"
        if reason in out.columns:
            filled = filled.where(values.notna() | ~out[reason].isin(NOT_MISSING))
        if ELAPSED in out.columns:
            filled = filled.where(values.notna() | out[ELAPSED].astype(bool))
        carried[col] = filled.notna() & values.isna()
        out[col] = filled
    levels = out[[order, key]].drop_duplicates(subset=key).sort_values(order)[key].tolist()
    counts = pd.DataFrame(carried).groupby(out[key]).sum().reindex(levels, fill_value=0)
    counts.index.name = key
    return out, counts.astype(int)
