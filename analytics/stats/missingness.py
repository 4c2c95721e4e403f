"""Missing values per outcome, timepoint and reason: the report's missingness table.

Pure pandas. Each missing outcome carries its reason in ``<outcome>_missing_reason``
(``analytics.dataset``). The reasons are read as the analysis plan says (docs/analysis-report.md):
"not applicable" is not missing data and leaves the denominator; refused, unreachable, not asked
and lost are missing outcomes. A timepoint that had not come at the data cut (window open, call
not made) is not yet observed: out of every count but ``pending`` and ``not_yet_observed``. A call
still to make once its window has closed is *overdue*: a missing value without a reason yet,
carried forward by LOCF like any missing value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from followup.instruments.missing import NOT_MISSING, REASONS

REASON_SUFFIX = "_missing_reason"
PENDING_STATUS = "due"


def missingness_table(
    long: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    timepoints: Sequence[str],
    elapsed: pd.Series | None = None,
) -> dict[str, Any]:
    """Return, per outcome and timepoint, the values observed, missing by reason and pending.

    ``elapsed`` says per row whether the timepoint had come at the data cut (default: every
    row). ``reached`` counts the rows that had, ``not_yet_observed`` the others (left out of
    every other count); ``pending`` counts the calls still to make, of which ``overdue`` those
    whose window has closed. ``missing`` counts the missing values of elapsed rows (overdue
    calls included) and ``missing_pct`` their share of the applicable values (observed plus
    missing, not applicable left out), None when there is none.
    """
    by_outcome: dict[str, list[dict[str, Any]]] = {}
    if elapsed is None:
        elapsed = pd.Series(True, index=long.index)
    elapsed = elapsed.astype(bool)
    pending = long["call_status"].eq(PENDING_STATUS)
    for outcome in outcomes:
        observed = long[outcome].notna()
        reason = long[f"{outcome}{REASON_SUFFIX}"].where(~observed)
        rows = []
        for timepoint in timepoints:
            at = long["timepoint"].eq(timepoint)
            counts = reason[at & elapsed & ~pending].value_counts()
            row: dict[str, Any] = {
                "timepoint": timepoint,
                "scheduled": int(at.sum()),
                "reached": int((at & elapsed).sum()),
                "observed": int((at & elapsed & observed).sum()),
                "pending": int((at & pending & ~observed).sum()),
                "not_yet_observed": int((at & ~elapsed).sum()),
                "overdue": int((at & pending & ~observed & elapsed).sum()),
            }
            row.update({code: int(counts.get(code, 0)) for code in REASONS})
            explained = sum(row[code] for code in REASONS)
            row["no_reason"] = int((at & elapsed & ~observed & ~pending).sum()) - explained
            missing = (
                row["no_reason"]
                + row["overdue"]
                + sum(row[c] for c in REASONS if c not in NOT_MISSING)
            )
            applicable = row["observed"] + missing
            row["missing"] = missing
            row["missing_pct"] = round(100 * missing / applicable, 1) if applicable else None
            rows.append(row)
        by_outcome[outcome] = rows
    return {
        "reasons": list(REASONS),
        "not_missing_data": sorted(NOT_MISSING),
        "by_outcome": by_outcome,
    }
