"""Small shapes of the report's values: P as text, finite numbers, counts, unavailable models."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from analytics.stats import pvalues

# What a model raises when the data cannot support it (too few patients, a constant outcome).
MODEL_ERRORS = (ValueError, KeyError, ZeroDivisionError, np.linalg.LinAlgError)


def p_text(p: float | None) -> str | None:
    """Write a P value as the paper does (JAMA style; ``analytics.stats.pvalues``)."""
    return pvalues.format_p(p)


def num(value: Any) -> float | None:
    """Return ``value`` as a float, None when missing or not finite."""
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def mean_sd(block: Mapping[str, Any]) -> dict[str, Any]:
    """Return the mean and SD of a summary block."""
    return {"mean": block["mean"], "sd": block["sd"]}


def count(n: int, of: int) -> dict[str, Any]:
    """Return n and its percentage of ``of`` (None when ``of`` is 0)."""
    return {"n": int(n), "pct": 100.0 * n / of if of else None}


def fraction(n: int, of: int) -> str:
    """Write n/N with its percentage, as the paper does."""
    return f"{n}/{of} ({100.0 * n / of:.1f}%)" if of else f"{n}/{of}"


def unavailable(error: Exception, reason: str) -> dict[str, Any]:
    """Return the block of a model that could not run, with the reason and the error."""
    return {"available": False, "reason": reason, "error": f"{type(error).__name__}: {error}"}


def observed_rows(model: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    """Run the same model on the observed rows only (no imputation); say so if it cannot run."""
    try:
        detail = dict(model())
    except MODEL_ERRORS as error:
        return unavailable(error, "too few observed values")
    if "p" in detail:
        detail["p_text"] = p_text(detail["p"])
    if isinstance(detail.get("omnibus"), dict):
        detail["omnibus_p_text"] = p_text(detail["omnibus"]["p"])
    detail["available"] = True
    return detail
