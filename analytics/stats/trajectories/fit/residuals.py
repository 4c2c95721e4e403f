"""Whether the residuals within the assigned groups keep a patient level (a random intercept)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _OneWay:
    """The one-way ANOVA of residuals by patient: patients, rows, and the two sums of squares."""

    k: int
    total_n: float
    ss_between: float
    ss_within: float
    n0: float  # the average patient size of the ICC's variance components


_Patients = tuple[FloatArray, FloatArray, FloatArray]


def _by_patient(y: FloatArray, fitted_by_patient: FloatArray) -> _Patients:
    """Each patient's number of residuals, their mean, and their squares about that mean."""
    residual = y - fitted_by_patient  # worked on in place: one array of the data's size
    missing = np.isnan(residual)
    n_i = residual.shape[1] - missing.sum(axis=1)
    residual[missing] = 0.0
    means = residual.sum(axis=1) / np.maximum(n_i, 1)
    residual -= means[:, None]
    residual[missing] = 0.0
    return n_i, means, np.einsum("ij,ij->i", residual, residual)


def _one_way(n_i: FloatArray, means: FloatArray, ss_i: FloatArray, at_least: int) -> _OneWay:
    """The ANOVA of the patients with at least ``at_least`` residuals."""
    keep = n_i >= at_least
    n_i, means = n_i[keep], means[keep]
    k, total_n = int(n_i.size), float(n_i.sum())
    grand = float((n_i * means).sum()) / total_n if total_n else float("nan")
    n0 = (total_n - float((n_i**2).sum()) / total_n) / (k - 1) if k > 1 else float("nan")
    return _OneWay(
        k=k,
        total_n=total_n,
        ss_between=float((n_i * (means - grand) ** 2).sum()),
        ss_within=float(ss_i[keep].sum()),
        n0=n0,
    )


def _icc(n_i: FloatArray, means: FloatArray, ss_i: FloatArray) -> float:
    """The intraclass correlation of the patients with two residuals or more."""
    a = _one_way(n_i, means, ss_i, at_least=2)
    if a.k < 3:
        return float("nan")
    ms_between = a.ss_between / (a.k - 1)
    ms_within = a.ss_within / (a.total_n - a.k)
    denominator = ms_between + (a.n0 - 1) * ms_within
    return float((ms_between - ms_within) / denominator) if denominator > 0 else float("nan")


def residual_icc(y: FloatArray, fitted_by_patient: FloatArray) -> float:
    """Return the one-way ANOVA intraclass correlation of within-group residuals."""
    return _icc(*_by_patient(y, fitted_by_patient))


def residual_intercept_test(y: FloatArray, fitted_by_patient: FloatArray) -> dict[str, float]:
    """Test that within-group residuals have no patient level (one-way ANOVA F, sigma_u^2 = 0).

    Returns the ICC (``residual_icc``), F, its degrees of freedom and P. Under the trajectory
    model's conditional independence the patient means of the residuals vary only by chance, so
    a small P is evidence of a random intercept the model leaves out.
    """
    nan = float("nan")
    patients = _by_patient(y, fitted_by_patient)
    a = _one_way(*patients, at_least=1)
    if a.k < 3 or a.total_n - a.k < 1:
        return {"icc": nan, "f": nan, "df1": nan, "df2": nan, "p": nan}
    df1, df2 = a.k - 1, a.total_n - a.k
    f = (a.ss_between / df1) / (a.ss_within / df2) if a.ss_within > 0 else nan
    return {
        "icc": _icc(*patients),
        "f": float(f),
        "df1": float(df1),
        "df2": float(df2),
        "p": float(stats.f.sf(f, df1, df2)) if math.isfinite(f) else nan,
    }
