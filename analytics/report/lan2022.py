"""The report of the Lan et al. 2022 analysis plan (``lan2022-moderation``): pure, no Django.

The blocks are :func:`analytics.stats.moderation.report`'s, unchanged, under ``results``; the
report adds what a stored run needs beside them: its schema, the data cut, the fingerprint of
the data, the parameters, the sizes and the timings.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from analytics.stats import moderation

from .shaping import MODEL_ERRORS, unavailable

SCHEMA = "lan2022-moderation/report"
SCHEMA_VERSION = 1
SCALES = ("sd", "raw")
# Why a block may be missing from a run: what it needs that an early cohort may not have yet.
NEEDS = {
    "baseline": "patients with a baseline in each pain group",
    "moderation": "rated visits after baseline, with every SF-MPQ domain varying between patients",
    "simple_slopes": "rated visits after baseline in each pain group",
    "day26": "patients rated at baseline and at day 26",
    "adverse_effects": "infusions given",
}


def _guarded(name: str, compute: Callable[[], Any]) -> Any:
    """Compute a block; one the data cannot support yet says so instead of failing the run."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return compute()
    except (*MODEL_ERRORS, IndexError) as error:
        return unavailable(error, NEEDS[name])


def available(block: Any) -> bool:
    """Say whether a stored block was computed (an unavailable one carries its reason)."""
    return not (isinstance(block, dict) and block.get("available") is False)


def sizes(patients: pd.DataFrame, visits: pd.DataFrame) -> dict[str, int]:
    """Return the patients and the MADRS ratings the analysis reads."""
    return {
        "patients": int(patients["patient"].nunique()),
        "ratings": int(visits["madrs"].notna().sum()),
    }


def build(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    infusions: pd.DataFrame,
    adverse: pd.DataFrame,
    *,
    as_of: date,
    fingerprint: str = "",
    scale: str = "sd",
) -> dict[str, Any]:
    """Return the whole report of one run of the plan, JSON-ready."""
    if scale not in SCALES:
        raise ValueError(f"unknown moderator scale {scale!r} (known: {', '.join(SCALES)})")
    started = time.perf_counter()
    results = moderation.report(patients, visits, infusions, adverse, scale=scale, guard=_guarded)
    seconds = round(time.perf_counter() - started, 3)
    groups = patients["pain_group"].value_counts()
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "run": {
            "as_of": as_of.isoformat(),
            "fingerprint": fingerprint,
            "parameters": {"scale": scale},
            **sizes(patients, visits),
            "timings_s": {"total": seconds},
        },
        "cohort": {
            "pain_groups": {g: int(groups.get(g, 0)) for g in moderation.PAIN_GROUPS},
        },
        "results": results,
    }


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Return what the dashboard reads: the whole report (it holds no per-patient table)."""
    return dict(report)
