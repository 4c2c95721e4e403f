"""Missing values per outcome, timepoint and reason: the report's missingness table.

Pure pandas. Each missing outcome carries its reason in ``<outcome>_missing_reason``
(``analytics.dataset``). The reasons are read as the analysis plan says (docs/analysis-report.md):
"not applicable" is not missing data and leaves the denominator; refused, unreachable, not asked
and lost are missing outcomes; a value of a call still due is pending, not yet missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from followup.instruments.missing import NOT_MISSING, REASONS

REASON_SUFFIX = "_missing_reason"
PENDING_STATUS = "due"


def missingness_table(
    long: pd.DataFrame, outcomes: Sequence[str], *, timepoints: Sequence[str]
) -> dict[str, Any]:
    """Return, per outcome and timepoint, the values observed, missing by reason and pending.

    ``missing_pct`` is the share of the applicable values (observed plus missing, neither not
    applicable nor pending) that are missing, None when there is none.
    """
    by_outcome: dict[str, list[dict[str, Any]]] = {}
    pending = long["call_status"].eq(PENDING_STATUS)
    for outcome in outcomes:
        observed = long[outcome].notna()
        reason = long[f"{outcome}{REASON_SUFFIX}"].where(~observed)
        rows = []
        for timepoint in timepoints:
            at = long["timepoint"].eq(timepoint)
            counts = reason[at & ~pending].value_counts()
            row: dict[str, Any] = {
                "timepoint": timepoint,
                "scheduled": int(at.sum()),
                "observed": int((at & observed).sum()),
                "pending": int((at & pending & ~observed).sum()),
            }
            row.update({code: int(counts.get(code, 0)) for code in REASONS})
            explained = sum(row[code] for code in REASONS)
            row["no_reason"] = int((at & ~observed & ~pending).sum()) - explained
            missing = row["no_reason"] + sum(row[c] for c in REASONS if c not in NOT_MISSING)
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
