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

import numpy as np
import pandas as pd

from followup.instruments.missing import NOT_MISSING, REASONS

REASON_SUFFIX = "_missing_reason"
PENDING_STATUS = "due"


def _positions(values: pd.Series, levels: Sequence[str]) -> np.ndarray:
    """Return each value's position in ``levels``, -1 for a value not among them or missing."""
    found, uniques = pd.factorize(values)
    place = np.array([levels.index(u) if u in levels else -1 for u in uniques] + [-1])
    return place[found]


def _count(positions: np.ndarray, mask: np.ndarray, width: int) -> np.ndarray:
    """Count the rows of ``mask`` at each position 0 .. width - 1 (position -1 is left out)."""
    kept = positions[mask]
    return np.bincount(kept[kept >= 0], minlength=width)


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
    done = elapsed.astype(bool).to_numpy()
    pending = long["call_status"].eq(PENDING_STATUS).to_numpy(dtype=bool)
    at = _positions(long["timepoint"], timepoints)
    width = len(timepoints)
    scheduled = _count(at, at >= 0, width)
    reached = _count(at, done, width)
    for outcome in outcomes:
        observed = long[outcome].notna().to_numpy()
        counted = done & ~pending & ~observed
        reasons = _positions(long[f"{outcome}{REASON_SUFFIX}"], REASONS)
        # One count per (timepoint, reason) pair: the reasons of the missing values of elapsed,
        # not pending rows.
        pairs = np.where(reasons >= 0, at * len(REASONS) + reasons, -1)
        by_reason = _count(pairs, counted, width * len(REASONS)).reshape(width, len(REASONS))
        counts = {
            "observed": _count(at, done & observed, width),
            "pending": _count(at, pending & ~observed, width),
            "not_yet_observed": _count(at, ~done, width),
            "overdue": _count(at, pending & ~observed & done, width),
            "unobserved": _count(at, counted, width),
        }
        rows = []
        for k, timepoint in enumerate(timepoints):
            row: dict[str, Any] = {
                "timepoint": timepoint,
                "scheduled": int(scheduled[k]),
                "reached": int(reached[k]),
                "observed": int(counts["observed"][k]),
                "pending": int(counts["pending"][k]),
                "not_yet_observed": int(counts["not_yet_observed"][k]),
                "overdue": int(counts["overdue"][k]),
            }
            row.update({code: int(by_reason[k, j]) for j, code in enumerate(REASONS)})
            explained = sum(row[code] for code in REASONS)
            row["no_reason"] = int(counts["unobserved"][k]) - explained
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
