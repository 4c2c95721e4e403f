"""One random-intercept model of a mediation: its point fit, robust inference and resampled fits."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats.mixed import MixedResult, fit_lmm

from .reml import _batch_betas, _patient_stats, _PatientStats

_Z975 = 1.959963984540054
COVARIATES: tuple[str, ...] = ("sex_male", "age")


def _num(value: float) -> float | None:
    x = float(value)
    return x if math.isfinite(x) else None


def _term(result: MixedResult, name: str) -> dict[str, object]:
    k = result.term_names.index(name)
    return {
        "coefficient": _num(result.params[k]),
        "se": _num(result.se[k]),
        "ci95": [_num(result.ci[k, 0]), _num(result.ci[k, 1])],
        "p": _num(result.p[k]),
    }


def _prepare(frame: pd.DataFrame, columns: Sequence[str], keep: Sequence[str] = ()) -> pd.DataFrame:
    """Keep complete rows of ``columns`` (and ``keep``), code sex as 0/1, add patient codes.

    Only the columns the models read are copied: the frame holds some thirty.
    """
    wanted = dict.fromkeys(["patient", *columns, *keep, "sex", "age"])
    data = frame[list(wanted)].copy()
    data["sex_male"] = (data["sex"].astype(str) == "M").astype(float).where(data["sex"].notna())
    data = data.dropna(subset=[*columns, *COVARIATES]).reset_index(drop=True)
    data["_code"] = pd.factorize(data["patient"])[0]
    return data


def _stored(column: pd.Series) -> np.ndarray:
    """The column as numbers: one-byte indicators as they are, anything else as floats."""
    return column.to_numpy() if column.dtype == np.int8 else column.to_numpy(dtype=float)


class _Model:
    """One mixed model: point fit with fit_lmm, resampled fits from per-patient statistics."""

    def __init__(self, data: pd.DataFrame, outcome: str, terms: Sequence[str], n: int) -> None:
        self.names = ("Intercept", *terms)
        self._data, self._outcome, self._terms, self._n = data, outcome, list(terms), n
        self.result = fit_lmm(*self._design[:3], term_names=self.names)
        self.ratio = self.result.sigma_u2 / self.result.sigma_e2

    @property
    def _design(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """``y``, ``X``, patient codes and patients, built when needed: a design is rows x p
        floats, and a mediation holds three models, so none keeps its own."""
        data = self._data
        X = np.empty((len(data), 1 + len(self._terms)), order="F")  # columns contiguous
        X[:, 0] = 1.0
        for j, term in enumerate(self._terms, 1):
            X[:, j] = data[term].to_numpy(dtype=float)
        y = data[self._outcome].to_numpy(dtype=float)
        return y, X, data["_code"].to_numpy(), self._n

    @functools.cached_property
    def stats(self) -> _PatientStats:
        """Per-patient statistics for the resampled fits, built only for a bootstrapped model."""
        data = self._data
        # Columns as stored (the time indicators as bytes): the statistics read them as floats.
        columns = [np.ones(len(data)), *(_stored(data[t]) for t in self._terms)]
        y = data[self._outcome].to_numpy(dtype=float)
        return _patient_stats(y, columns, data["_code"].to_numpy(), self._n)

    @functools.cached_property
    def robust_cov(self) -> np.ndarray:
        """Patient-cluster robust (sandwich) covariance of the fixed effects.

        ``(X'V^-1 X)^-1 [sum_i X_i'V_i^-1 r_i r_i'V_i^-1 X_i] (X'V^-1 X)^-1`` with the fitted
        random-intercept V; valid whatever the true correlation within a patient (serial
        correlation, LOCF repeats, patient-specific slopes), which the model-based SE is not.
        """
        y, X, codes, n = self._design
        res = self.result
        s_e2, s_u2 = res.sigma_e2, res.sigma_u2
        sizes = np.bincount(codes, minlength=n).astype(float)
        shrink = s_u2 / (s_e2 + sizes * s_u2)  # V_i^-1 = (I - shrink_i J) / s_e2

        def v_inverse(z: np.ndarray) -> np.ndarray:
            """V^-1 z for a column z: shrink_i * sum_i taken per patient, spread to the rows
            (the same products as row by row, n of them instead of one a row)."""
            spread = (shrink * np.bincount(codes, weights=z, minlength=n))[codes]
            np.subtract(z, spread, out=spread)
            return np.divide(spread, s_e2, out=spread)

        # A column of V^-1 X at a time: with the design, two columns are held, not rows x p more.
        v_r = v_inverse(y - X @ res.params)
        information = np.empty((X.shape[1], X.shape[1]))
        score = np.empty((n, X.shape[1]))
        for j in range(X.shape[1]):
            information[:, j] = X.T @ v_inverse(X[:, j])
            score[:, j] = np.bincount(codes, weights=X[:, j] * v_r, minlength=n)
        bread = np.linalg.inv(information)
        meat = score.T @ score
        return np.asarray(bread @ meat @ bread.T)

    def robust_term(self, name: str) -> dict[str, object]:
        """The term with model-based and patient-cluster robust inference (the robust in p)."""
        out = _term(self.result, name)
        k = self.names.index(name)
        se = math.sqrt(max(float(self.robust_cov[k, k]), 0.0))
        estimate = float(self.result.params[k])
        out.update(
            {
                "se_model": out["se"],
                "p_model": out["p"],
                "ci95_model": out["ci95"],
                "se": _num(se),
                "ci95": [_num(estimate - _Z975 * se), _num(estimate + _Z975 * se)],
                "p": _num(2.0 * stats.norm.sf(abs(estimate) / se)) if se > 0 else None,
                "inference": "patient-cluster robust (sandwich) SE",
            }
        )
        return out

    def release(self) -> None:
        """Drop the per-patient statistics (rebuilt if resampled fits are asked for again)."""
        self.__dict__.pop("stats", None)

    def prepare(self) -> _Model:
        """Build the per-patient statistics now, before blocks of resamples are fitted side by
        side on threads (which then share them rather than racing to build them)."""
        _ = self.stats
        return self

    def betas(self, counts: np.ndarray, ordered: bool = False) -> np.ndarray:
        """The resampled fits of the rows of ``counts`` (``ordered``: columns in the order of
        the statistics' patients, ``stats.order``)."""
        return _batch_betas(self.stats, counts, near=self.ratio, ordered=ordered)
