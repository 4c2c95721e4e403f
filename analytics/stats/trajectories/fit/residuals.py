"""Whether the residuals within the assigned groups keep a patient level (a random intercept)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import stats

from ..model import FloatArray

RANDOM_INTERCEPT_WARNING = (
    "A random intercept in the data (stable between-patient differences within a trajectory) "
    "makes BIC favour extra groups; check the adequacy criteria before accepting more groups."
)
# Level of the F test of the residuals' between-patient variance that raises the warning.
RANDOM_INTERCEPT_ALPHA = 0.05
# Residual ICC above which the fit warns of a random intercept.
ICC_WARNING_LEVEL = 0.1


def random_intercept_warning(test: Mapping[str, float]) -> str | None:
    """Return the random-intercept warning when ``test`` (residual_intercept_test) rejects."""
    p = test.get("p", float("nan"))
    if not (math.isfinite(p) and p < RANDOM_INTERCEPT_ALPHA):
        return None
    return (
        f"{RANDOM_INTERCEPT_WARNING} Here the residuals within the assigned groups keep a "
        f"patient level: ICC {test['icc']:.2f}, F({test['df1']:.0f}, {test['df2']:.0f}) = "
        f"{test['f']:.2f}, P {'< .001' if p < 0.001 else f'= {p:.3f}'}."
    )


def residual_icc(y: FloatArray, fitted_by_patient: FloatArray) -> float:
    """Return the one-way ANOVA intraclass correlation of within-group residuals."""
    residual = y - fitted_by_patient
    observed = ~np.isnan(residual)
    n_i = observed.sum(axis=1)
    keep = n_i >= 2
    if keep.sum() < 3:
        return float("nan")
    residual, observed, n_i = residual[keep], observed[keep], n_i[keep]
    filled = np.where(observed, residual, 0.0)
    means = filled.sum(axis=1) / n_i
    total_n = n_i.sum()
    k = n_i.size
    grand = filled.sum() / total_n
    ss_within = float((np.where(observed, residual - means[:, None], 0.0) ** 2).sum())
    ss_between = float((n_i * (means - grand) ** 2).sum())
    ms_between = ss_between / (k - 1)
    ms_within = ss_within / (total_n - k)
    n0 = (total_n - (n_i**2).sum() / total_n) / (k - 1)
    denominator = ms_between + (n0 - 1) * ms_within
    return float((ms_between - ms_within) / denominator) if denominator > 0 else float("nan")


def residual_intercept_test(y: FloatArray, fitted_by_patient: FloatArray) -> dict[str, float]:
    """Test that within-group residuals have no patient level (one-way ANOVA F, sigma_u^2 = 0).

    Returns the ICC, F, its degrees of freedom and P. Under the trajectory model's conditional
    independence the patient means of the residuals vary only by chance, so a small P is
    evidence of a random intercept the model leaves out.
    """
    nan = float("nan")
    residual = y - fitted_by_patient
    observed = ~np.isnan(residual)
    n_i = observed.sum(axis=1)
    keep = n_i >= 1
    residual, observed, n_i = residual[keep], observed[keep], n_i[keep]
    k, total_n = int(n_i.size), float(n_i.sum())
    if k < 3 or total_n - k < 1:
        return {"icc": nan, "f": nan, "df1": nan, "df2": nan, "p": nan}
    filled = np.where(observed, residual, 0.0)
    means = filled.sum(axis=1) / n_i
    grand = filled.sum() / total_n
    ss_within = float((np.where(observed, residual - means[:, None], 0.0) ** 2).sum())
    ss_between = float((n_i * (means - grand) ** 2).sum())
    df1, df2 = k - 1, total_n - k
    f = (ss_between / df1) / (ss_within / df2) if ss_within > 0 else nan
    return {
        "icc": residual_icc(y, fitted_by_patient),
        "f": float(f),
        "df1": float(df1),
        "df2": float(df2),
        "p": float(stats.f.sf(f, df1, df2)) if math.isfinite(f) else nan,
    }
