"""Random-intercept linear mixed models on per-patient sufficient statistics.

The model is ``y_it = x_it' beta + u_i + e_it`` with ``u_i ~ N(0, s_u^2)`` and
``e_it ~ N(0, s_e^2)``. Writing ``g = s_u^2 / s_e^2``, every quantity in the (RE)ML likelihood
is a sum over patients of terms that depend on ``g`` only through the patient's number of rows
``n_i``. The data are therefore reduced once to

* the within-patient cross-products of ``[X, y]`` (deviations from patient means), and
* for each distinct ``n``, the cross-products of the patient means,

after which each likelihood evaluation costs O(K p^2) for K distinct patient sizes, whatever the
number of patients. ``s_e^2`` and ``beta`` are profiled out; ``g`` is found by a grid search on
``log g`` followed by Brent's method.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cohort.vocabulary import MONTH_OF_TIMEPOINT, codes
from cohort.vocabulary import TIMEPOINTS as TIMEPOINT_CODES

TIMEPOINTS: tuple[str, ...] = codes(TIMEPOINT_CODES)
MONTHS: dict[str, float] = MONTH_OF_TIMEPOINT

_LOG2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Design matrices
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Design:
    """Response, fixed-effects design and grouping after dropping incomplete rows."""

    y: np.ndarray
    X: np.ndarray
    groups: np.ndarray
    term_names: tuple[str, ...]
    rows: np.ndarray  # positions of the kept rows in the input frame


_Factor = tuple[str, np.ndarray, int | None]
_CATEGORICAL = re.compile(r"^C\(\s*([^,()]+?)\s*\)$")


def _levels(column: str, values: pd.Series) -> list[object]:
    present = pd.unique(values)
    if column == "timepoint":
        return [t for t in TIMEPOINTS if t in set(present)] + sorted(
            v for v in present if v not in TIMEPOINTS
        )
    return sorted(present.tolist())


def _coded(column: str, values: pd.Series) -> tuple[list[object], np.ndarray]:
    """Return the levels of a complete categorical column and each value's position in them.

    One factorisation gives both: the same levels as ``_levels`` and the codes of
    ``pd.Categorical(values, categories=levels)``, without matching every row against the levels.
    """
    found, uniques = pd.factorize(values)
    levels = _levels(column, pd.Series(uniques))
    kind = np.int8 if len(levels) < 128 else np.int64
    place = np.array([levels.index(u) for u in uniques], dtype=kind)
    return levels, place[found]


def _parse_terms(spec: str | Sequence[str]) -> tuple[bool, list[list[tuple[str, bool]]]]:
    """Split a spec into (intercept, terms); a term is a list of (column, is_categorical)."""
    parts = [p.strip() for p in spec.split("+")] if isinstance(spec, str) else list(spec)
    intercept = True
    terms: list[list[tuple[str, bool]]] = []
    for part in parts:
        if part in ("", "1"):
            continue
        if part in ("0", "-1"):
            intercept = False
            continue
        factors: list[tuple[str, bool]] = []
        for factor in part.split(":"):
            factor = factor.strip()
            match = _CATEGORICAL.match(factor)
            factors.append((match.group(1), True) if match else (factor, False))
        terms.append(factors)
    return intercept, terms


def build_design(
    frame: pd.DataFrame, outcome: str, terms: str | Sequence[str], *, group: str = "patient"
) -> Design:
    """Build ``y``, ``X`` and patient groups from a formula-like spec.

    ``terms`` is ``"C(timepoint) + high + C(timepoint):high + age"`` or the same as a list.
    ``C(col)`` is treatment-coded against its first level (``BL`` for ``timepoint``, otherwise the
    smallest value); a bare name is a numeric column; ``a:b`` multiplies the columns of ``a`` and
    ``b``. An intercept is included unless the spec contains ``0``. Rows missing the outcome or any
    used column are dropped.
    """
    intercept, parsed = _parse_terms(terms)
    used = sorted({name for term in parsed for name, _ in term} | {outcome, group})
    keep = frame[used].notna().all(axis=1).to_numpy()
    data = frame.loc[keep, used]
    n = len(data)
    # Each column is a tuple of factors (name, values, level); level None means numeric.
    names: list[str] = ["Intercept"] if intercept else []
    columns: list[tuple[_Factor, ...]] = []
    codes_of: dict[str, np.ndarray] = {}
    levels_of: dict[str, list[object]] = {}
    for term in parsed:
        factors: list[list[_Factor]] = []
        for name, categorical in term:
            if categorical:
                if name not in codes_of:
                    levels_of[name], codes_of[name] = _coded(name, data[name])
                levels = levels_of[name]
                factors.append(
                    [(f"C({name})[{lv}]", codes_of[name], k) for k, lv in enumerate(levels) if k]
                )
            else:
                factors.append([(name, data[name].to_numpy(dtype=float), None)])
        for combo in product(*factors):
            names.append(":".join(f[0] for f in combo))
            columns.append(combo)
    # Writing each column in place into a Fortran-ordered array avoids large temporaries.
    X = np.empty((n, len(names)), order="F")
    offset = 0
    if intercept:
        X[:, 0] = 1.0
        offset = 1
    for j, combo in enumerate(columns, start=offset):
        out = X[:, j]
        for k, (_, values, level) in enumerate(combo):
            column = values if level is None else values == level
            if k == 0:
                out[:] = column
            else:
                out *= column
    return Design(
        y=data[outcome].to_numpy(dtype=float),
        X=X,
        groups=data[group].to_numpy(),
        term_names=tuple(names),
        rows=np.flatnonzero(keep),
    )


# --------------------------------------------------------------------------------------------
# Model fitting
# --------------------------------------------------------------------------------------------


class WaldTest(NamedTuple):
    chi2: float
    df: int
    p: float


class Contrast(NamedTuple):
    estimate: float
    se: float
    ci: tuple[float, float]
    p: float


@dataclass(frozen=True, eq=False)
class MixedResult:
    """Fitted random-intercept model; ``cov`` is the GLS covariance at the estimated variances."""

    term_names: tuple[str, ...]
    params: np.ndarray
    cov: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    ci: np.ndarray  # shape (p, 2), 95%
    sigma_u2: float
    sigma_e2: float
    loglik: float
    method: str
    n_groups: int
    n_obs: int
    converged: bool

    def _index(self, term: str) -> int:
        try:
            return self.term_names.index(term)
        except ValueError:
            raise KeyError(f"no term {term!r}; terms are {self.term_names}") from None

    def coef(self, term: str) -> float:
        """Return the estimate of one term."""
        return float(self.params[self._index(term)])

    def wald(self, terms: Sequence[str]) -> WaldTest:
        """Test that all listed coefficients are zero: ``chi2 = b' V^-1 b`` on ``len(terms)`` df."""
        idx = [self._index(t) for t in terms]
        if not idx:
            raise ValueError("no terms to test")
        b = self.params[idx]
        chi2 = float(b @ np.linalg.solve(self.cov[np.ix_(idx, idx)], b))
        return WaldTest(chi2, len(idx), float(stats.chi2.sf(chi2, len(idx))))

    def contrast(self, vector: Sequence[float] | np.ndarray | Mapping[str, float]) -> Contrast:
        """Estimate ``c' beta`` with its SE, 95% CI and two-sided normal P."""
        if isinstance(vector, Mapping):
            c = np.zeros(len(self.term_names))
            for term, weight in vector.items():
                c[self._index(term)] = weight
        else:
            c = np.asarray(vector, dtype=float)
            if c.shape != self.params.shape:
                raise ValueError(f"contrast needs {self.params.size} weights, got {c.size}")
        estimate = float(c @ self.params)
        se = float(math.sqrt(c @ self.cov @ c))
        half = 1.959963984540054 * se
        p = float(2.0 * stats.norm.sf(abs(estimate) / se)) if se > 0 else float("nan")
        return Contrast(estimate, se, (estimate - half, estimate + half), p)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable summary."""
        return {
            "method": self.method,
            "terms": {
                name: {
                    "estimate": _num(self.params[k]),
                    "se": _num(self.se[k]),
                    "ci95": [_num(self.ci[k, 0]), _num(self.ci[k, 1])],
                    "z": _num(self.z[k]),
                    "p": _num(self.p[k]),
                }
                for k, name in enumerate(self.term_names)
            },
            "sigma_u2": _num(self.sigma_u2),
            "sigma_e2": _num(self.sigma_e2),
            "loglik": _num(self.loglik),
            "n_patients": self.n_groups,
            "n_observations": self.n_obs,
            "converged": self.converged,
        }


class _Sufficient(NamedTuple):
    within: np.ndarray  # (q, q) within-patient cross-products of [X, y]
    between: np.ndarray  # (K, q, q) cross-products of patient means, per patient size
    sizes: np.ndarray  # (K,) distinct patient sizes
    counts: np.ndarray  # (K,) number of patients of each size
    n_obs: int
    n_groups: int


def _sufficient(y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> _Sufficient:
    codes, uniques = pd.factorize(groups)
    n_obs, p = X.shape
    n_groups = len(uniques)
    n_per = np.bincount(codes, minlength=n_groups).astype(float)
    # Column-wise bincount reads X in place, whatever its memory order.
    means = np.empty((n_groups, p + 1))
    for j in range(p):
        means[:, j] = np.bincount(codes, weights=X[:, j], minlength=n_groups)
    means[:, p] = np.bincount(codes, weights=y, minlength=n_groups)
    means /= n_per[:, None]
    # Deviations from patient means avoid the cancellation of X'X - sum(s s'/n) when g is large;
    # row chunks keep the centred copy small.
    within = np.zeros((p + 1, p + 1))
    chunk = 1 << 14
    for start in range(0, n_obs, chunk):
        rows = slice(start, start + chunk)
        centred = np.empty((len(y[rows]), p + 1))
        centred[:, :p] = X[rows]
        centred[:, p] = y[rows]
        centred -= means[codes[rows]]
        within += centred.T @ centred
    sizes, size_of = np.unique(n_per, return_inverse=True)
    between = np.stack([means[size_of == k].T @ means[size_of == k] for k in range(len(sizes))])
    return _Sufficient(within, between, sizes, np.bincount(size_of), n_obs, n_groups)


def _full_rank(suff: _Sufficient) -> bool:
    """Check the rank of X'X, rebuilt from the sufficient statistics."""
    xtx = (suff.within + np.tensordot(suff.sizes, suff.between, axes=1))[:-1, :-1]
    scale = np.sqrt(np.diag(xtx))
    if xtx.size == 0 or np.any(scale <= 0):
        return xtx.size == 0
    eig = np.linalg.eigvalsh(xtx / np.outer(scale, scale))
    return bool(eig[0] > 1e-10 * eig[-1])


class _Profile(NamedTuple):
    loglik: float
    beta: np.ndarray
    xtvx: np.ndarray  # X' (I + g J)^-1 X
    sigma_e2: float


def _profile(suff: _Sufficient, g: float, reml: bool) -> _Profile:
    """Evaluate the likelihood with beta and s_e^2 profiled out, at variance ratio ``g``."""
    # Z' (I + g J)^-1 Z summed over patients: within part + n/(1 + n g) times the means part.
    weights = suff.sizes / (1.0 + suff.sizes * g)
    # np.tensordot(weights, between, axes=1) without its argument handling (the same product).
    K = len(weights)
    M = suff.within + np.dot(weights.reshape(1, K), suff.between.reshape(K, -1)).reshape(
        suff.within.shape
    )
    p = M.shape[0] - 1
    xtvx, xty, yty = M[:p, :p], M[:p, p], M[p, p]
    chol = np.linalg.cholesky(xtvx)
    half = np.linalg.solve(chol, xty)
    beta = np.linalg.solve(chol.T, half)
    rss = max(float(yty - half @ half), 1e-300)
    logdet_v = float(suff.counts @ np.log1p(suff.sizes * g))
    n = suff.n_obs
    if reml:
        dof = n - p
        s2 = rss / dof
        logdet_x = 2.0 * float(np.log(np.diag(chol)).sum())
        ll = -0.5 * (dof * (_LOG2PI + math.log(s2)) + logdet_v + logdet_x + dof)
    else:
        s2 = rss / n
        ll = -0.5 * (n * (_LOG2PI + math.log(s2)) + logdet_v + n)
    return _Profile(ll, beta, xtvx, s2)


def _maximise(suff: _Sufficient, reml: bool) -> tuple[float, bool]:
    """Return the variance ratio maximising the profiled likelihood, and a convergence flag."""

    def nll_log(t: float) -> float:
        return -_profile(suff, math.exp(t), reml).loglik

    def nll_lin(g: float) -> float:
        return -_profile(suff, g, reml).loglik

    grid = np.concatenate([[0.0], np.logspace(-8, 8, 65)])
    values = np.array([nll_lin(g) for g in grid])
    best = int(np.argmin(values))
    if best == len(grid) - 1:
        return float(grid[best]), False
    if best <= 1:
        res = optimize.minimize_scalar(
            nll_lin, bounds=(0.0, grid[2]), method="bounded", options={"xatol": 1e-14}
        )
        g = float(res.x)
        if nll_lin(0.0) <= res.fun:
            g = 0.0
        return g, bool(res.success)
    lo, hi = math.log(grid[best - 1]), math.log(grid[best + 1])
    res = optimize.minimize_scalar(
        nll_log, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
    )
    return float(math.exp(res.x)), bool(res.success)


def fit_lmm(
    y: np.ndarray,
    X: np.ndarray,
    groups: np.ndarray,
    *,
    reml: bool = True,
    term_names: Sequence[str] | None = None,
) -> MixedResult:
    """Fit ``y = X beta + u_group + e`` by REML (default) or ML."""
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or len(groups) != y.shape[0]:
        raise ValueError("y, X and groups must have matching rows")
    # A column sum is non-finite exactly when the column holds a NaN or an infinity.
    if not (np.isfinite(y).all() and np.isfinite(X.sum(axis=0)).all()):
        raise ValueError("y and X must be complete; drop missing rows first")
    p = X.shape[1]
    names = tuple(term_names) if term_names is not None else tuple(f"x{k}" for k in range(p))
    if len(names) != p:
        raise ValueError("term_names must name every column of X")
    suff = _sufficient(y, X, groups)
    if not _full_rank(suff):
        raise ValueError("design matrix is rank deficient (a level or interaction has no data?)")
    g, converged = _maximise(suff, reml)
    prof = _profile(suff, g, reml)
    cov = prof.sigma_e2 * np.linalg.inv(prof.xtvx)
    cov = (cov + cov.T) / 2.0
    se = np.sqrt(np.diag(cov))
    z = prof.beta / se
    half = 1.959963984540054 * se
    return MixedResult(
        term_names=names,
        params=prof.beta,
        cov=cov,
        se=se,
        z=z,
        p=2.0 * stats.norm.sf(np.abs(z)),
        ci=np.column_stack([prof.beta - half, prof.beta + half]),
        sigma_u2=g * prof.sigma_e2,
        sigma_e2=prof.sigma_e2,
        loglik=prof.loglik,
        method="REML" if reml else "ML",
        n_groups=suff.n_groups,
        n_obs=suff.n_obs,
        converged=converged,
    )


def fit(
    frame: pd.DataFrame,
    outcome: str,
    terms: str | Sequence[str],
    *,
    group: str = "patient",
    reml: bool = True,
) -> MixedResult:
    """Build the design from ``terms`` (see :func:`build_design`) and fit it."""
    design = build_design(frame, outcome, terms, group=group)
    return fit_lmm(design.y, design.X, design.groups, reml=reml, term_names=design.term_names)


def _num(value: object) -> float | None:
    x = float(value)  # type: ignore[arg-type]
    return x if math.isfinite(x) else None
