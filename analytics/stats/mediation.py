"""Multilevel mediation: the paper's reading (reconstructed) and a 1-1-1 within-patient model.

Both readings use random-intercept mixed models (REML) and a patient-cluster bootstrap. A
resample only repeats whole patients, so each model is reduced once to per-patient sufficient
statistics (within-patient cross-products and patient means); a resample is then a vector of
patient counts, and all resamples are fitted together on the profiled REML likelihood.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats.mixed import MixedResult, fit_lmm

_LOG2PI = math.log(2.0 * math.pi)
_Z975 = 1.959963984540054
COVARIATES: tuple[str, ...] = ("sex_male", "age")


# --------------------------------------------------------------------------------------------
# Batched REML on per-patient sufficient statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _PatientStats:
    """Per-patient reduction of ``[X, y]``: row counts, within cross-products, means."""

    sizes: np.ndarray  # (N,)
    within: np.ndarray  # (N, q * q)
    between: np.ndarray  # (N, q * q), outer product of the patient's means
    p: int


_ROW_BLOCK = 8192


def _patient_stats(y: np.ndarray, X: np.ndarray, codes: np.ndarray, n: int) -> _PatientStats:
    Z = np.column_stack([X, y])
    q = Z.shape[1]
    sizes = np.bincount(codes, minlength=n).astype(float)
    means = np.stack([np.bincount(codes, weights=Z[:, j], minlength=n) for j in range(q)], 1)
    means = means / np.maximum(sizes, 1.0)[:, None]
    centred = Z - means[codes]
    within = np.zeros((n, q * q))
    # Row outer products a block of rows at a time: all at once they are rows x q^2 numbers
    # (1.3 GB for a model of 19 columns at 460,000 rows). Each patient's sum is still taken
    # in row order, so the result is the same to the last bit.
    for start in range(0, len(y), _ROW_BLOCK):
        part = centred[start : start + _ROW_BLOCK]
        outer = (part[:, :, None] * part[:, None, :]).reshape(len(part), -1)
        np.add.at(within, codes[start : start + _ROW_BLOCK], outer)
    between = (means[:, :, None] * means[:, None, :]).reshape(n, -1)
    return _PatientStats(sizes, within, between, X.shape[1])


def _batch_betas(ps: _PatientStats, counts: np.ndarray, near: float | None = None) -> np.ndarray:
    """Return REML fixed effects for each row of patient ``counts`` (shape ``(R, N)``).

    ``near`` (the variance ratio of the full-sample fit) narrows the search to three decades
    either side of it; rows whose optimum falls on that window's edge are searched in full.
    """
    wide = np.logspace(-10, 8, 73)
    if near is None or not math.isfinite(near) or near <= 0:
        return _batch_betas_on(ps, counts, wide)
    narrow = near * np.logspace(-3, 3, 25)
    betas, at_edge = _batch_betas_on(ps, counts, narrow, report_edge=True)
    if at_edge.any():
        betas[at_edge] = _batch_betas_on(ps, counts[at_edge], wide)
    return betas


def _batch_betas_on(
    ps: _PatientStats, counts: np.ndarray, grid: np.ndarray, report_edge: bool = False
) -> Any:
    R = counts.shape[0]
    p = ps.p
    q = p + 1
    within = (counts @ ps.within).reshape(R, q, q)
    n_obs = counts @ ps.sizes
    dof = n_obs - p
    # The weight of a patient depends on g only through its number of rows, and patients have
    # few distinct sizes: sum the resampled statistics per size once, outside the search.
    sizes, size_of = np.unique(ps.sizes, return_inverse=True)
    by_size = np.zeros((ps.sizes.size, sizes.size))
    by_size[np.arange(ps.sizes.size), size_of] = 1.0
    count_s = counts @ by_size  # (R, S)
    between_s = np.stack(
        [counts[:, size_of == k] @ ps.between[size_of == k] for k in range(sizes.size)], 1
    )  # (R, S, q * q)

    def profile(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weights = sizes / (1.0 + sizes * g[:, None])  # (R, S)
        M = within + np.einsum("rs,rsk->rk", weights, between_s).reshape(R, q, q)
        chol = np.linalg.cholesky(M[:, :p, :p])
        half = np.linalg.solve(chol, M[:, :p, p:])
        beta = np.linalg.solve(np.swapaxes(chol, 1, 2), half)[:, :, 0]
        rss = np.maximum(M[:, p, p] - (half[:, :, 0] ** 2).sum(1), 1e-300)
        logdet_v = (count_s * np.log1p(sizes * g[:, None])).sum(1)
        logdet_x = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)
        ll = -0.5 * (dof * (_LOG2PI + np.log(rss / dof)) + logdet_v + logdet_x + dof)
        return ll, beta

    # As fit_lmm: a log grid, then golden section between the best point's neighbours.
    lls = np.stack([profile(np.full(R, g))[0] for g in grid], 1)
    best = np.argmax(lls, 1)
    at_edge = (best == 0) | (best == len(grid) - 1)
    lo = np.log(grid[np.maximum(best - 1, 0)])
    hi = np.log(grid[np.minimum(best + 1, len(grid) - 1)])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    f1, f2 = profile(np.exp(x1))[0], profile(np.exp(x2))[0]
    # The bracket spans at most 1.2 in log g; 40 steps narrow it below 1e-8.
    for _ in range(40):
        left = f1 > f2  # the maximum lies in [lo, x2]
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        new_x1, new_x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        x1, x2 = np.where(left, new_x1, x2), np.where(left, x1, new_x2)
        probe = np.where(left, x1, x2)
        f_probe = profile(np.exp(probe))[0]
        f1, f2 = np.where(left, f_probe, f2), np.where(left, f1, f_probe)
    betas = profile(np.exp((lo + hi) / 2.0))[1]
    return (betas, at_edge) if report_edge else betas


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _num(value: float) -> float | None:
    x = float(value)
    return x if math.isfinite(x) else None


def _proportion(indirect: np.ndarray | float, direct: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(indirect / (np.asarray(indirect) + direct), dtype=float)


def _intervals(estimate: float, draws: np.ndarray) -> dict[str, object]:
    """Percentile and bias-corrected 95% intervals of bootstrap ``draws``."""
    draws = draws[np.isfinite(draws)]
    if draws.size == 0 or not math.isfinite(estimate):
        return {"percentile_ci95": [None, None], "bias_corrected_ci95": [None, None], "n_boot": 0}
    pct = np.quantile(draws, [0.025, 0.975])
    below = (np.sum(draws < estimate) + 0.5 * np.sum(draws == estimate)) / draws.size
    z0 = stats.norm.ppf(np.clip(below, 0.5 / draws.size, 1.0 - 0.5 / draws.size))
    levels = stats.norm.cdf(2.0 * z0 + np.array([-_Z975, _Z975]))
    bc = np.quantile(draws, levels)
    return {
        "percentile_ci95": [_num(pct[0]), _num(pct[1])],
        "bias_corrected_ci95": [_num(bc[0]), _num(bc[1])],
        "bootstrap_se": _num(float(np.std(draws, ddof=1))) if draws.size > 1 else None,
        "n_boot": int(draws.size),
    }


def _term(result: MixedResult, name: str) -> dict[str, object]:
    k = result.term_names.index(name)
    return {
        "coefficient": _num(result.params[k]),
        "se": _num(result.se[k]),
        "ci95": [_num(result.ci[k, 0]), _num(result.ci[k, 1])],
        "p": _num(result.p[k]),
    }


def _prepare(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Keep complete rows, code sex as 0/1 and add patient codes."""
    data = frame.copy()
    data["sex_male"] = (data["sex"].astype(str) == "M").astype(float).where(data["sex"].notna())
    data = data.dropna(subset=[*columns, *COVARIATES]).reset_index(drop=True)
    data["_code"] = pd.factorize(data["patient"])[0]
    return data


class _Model:
    """One mixed model: point fit with fit_lmm, resampled fits from per-patient statistics."""

    def __init__(self, data: pd.DataFrame, outcome: str, terms: Sequence[str], n: int) -> None:
        self.names = ("Intercept", *terms)
        X = np.column_stack([np.ones(len(data)), data[list(terms)].to_numpy(dtype=float)])
        y = data[outcome].to_numpy(dtype=float)
        codes = data["_code"].to_numpy()
        self.result = fit_lmm(y, X, codes, term_names=self.names)
        self.stats = _patient_stats(y, X, codes, n)
        self.ratio = self.result.sigma_u2 / self.result.sigma_e2
        self._design = (y, X, codes, n)

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
        r = y - X @ res.params
        Z = np.column_stack([X, r])
        sums = np.stack(
            [np.bincount(codes, weights=Z[:, j], minlength=n) for j in range(Z.shape[1])], 1
        )
        vinv = (Z - shrink[codes, None] * sums[codes]) / s_e2  # rows of V^-1 [X, r]
        bread = np.linalg.inv(X.T @ vinv[:, :-1])
        score = np.stack(
            [
                np.bincount(codes, weights=X[:, j] * vinv[:, -1], minlength=n)
                for j in range(X.shape[1])
            ],
            1,
        )
        meat = score.T @ score
        return np.asarray(bread @ meat @ bread.T)

    def robust_term(self, name: str) -> dict[str, object]:
        """The term with model-based and patient-cluster robust inference (the robust in p)."""
        out = _term(self.result, name)
        k = self.names.index(name)
        se = math.sqrt(max(float(self.robust_cov()[k, k]), 0.0))
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

    def betas(self, counts: np.ndarray) -> np.ndarray:
        return _batch_betas(self.stats, counts, near=self.ratio)

    def boot(self, counts: np.ndarray, term: str) -> np.ndarray:
        return self.betas(counts)[:, self.names.index(term)]


# Resamples drawn and fitted per block: memory grows with the block, not with n_boot (1,000
# resamples of 100,000 patients are 800 MB of counts). A block holds about BOOT_CELLS patient
# counts (32 MB as floats); fewer, larger blocks are faster, so small cohorts take all their
# resamples in one. BOOT_BLOCK, when set, fixes the number of resamples per block. Resample r
# is the same whatever the block size: the generator's stream is consumed in the same order.
BOOT_CELLS = 1 << 22
BOOT_BLOCK = 0


def _resample_blocks(n: int, n_boot: int, seed: int, block: int = 0) -> Iterator[np.ndarray]:
    """Yield the patient counts of the resamples, ``block`` rows at a time (shape ``(r, n)``)."""
    block = block or BOOT_BLOCK or max(16, BOOT_CELLS // max(n, 1))
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, block):
        rows = min(block, n_boot - start)
        draws = rng.integers(0, n, size=(rows, n))
        draws += np.arange(rows)[:, None] * n  # one flat index per (resample, patient)
        counts = np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n)
        yield counts.astype(float)


def _resample_counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """All resamples at once (for tests and small n; the analysis goes block by block)."""
    return np.vstack(list(_resample_blocks(n, n_boot, seed))) if n_boot else np.zeros((0, n))


def _bootstrap(
    fit: Callable[[np.ndarray], tuple[np.ndarray, ...]],
    n: int,
    n_boot: int,
    seed: int,
    block: int = 0,
) -> tuple[np.ndarray, ...]:
    """Apply ``fit`` to each block of resample counts; join its outputs (one row per resample)."""
    parts = [fit(counts) for counts in _resample_blocks(n, n_boot, seed, block)]
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


# --------------------------------------------------------------------------------------------
# Time as the study's timepoints
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Time:
    """Coding of time in a model: term names, and the weights of the contrast reported.

    Categorical: one indicator per timepoint after the reference (the first one present); the
    contrast is the mean of the indicators' coefficients, i.e. the change from the reference
    averaged over the later timepoints, each weighted equally. Linear: one slope, weight 1.
    """

    names: tuple[str, ...]
    levels: tuple[float, ...]
    weights: np.ndarray
    categorical: bool

    def contrast(self, betas: np.ndarray, model_names: Sequence[str]) -> np.ndarray:
        idx = [list(model_names).index(name) for name in self.names]
        return np.asarray(betas[..., idx] @ self.weights)


def _code_time(data: pd.DataFrame, x: str, categorical: bool) -> _Time:
    """Add the time columns of ``x`` to ``data`` (in place) and return their coding."""
    if not categorical:
        return _Time((x,), (), np.ones(1), False)
    levels = sorted(float(v) for v in data[x].unique())
    if len(levels) < 2:
        raise ValueError(f"need at least two timepoints of {x!r}")
    later = levels[1:]
    names = []
    for level in later:
        name = f"{x}=={level:g}"
        data[name] = (data[x].to_numpy(dtype=float) == level).astype(float)
        names.append(name)
    return _Time(tuple(names), tuple(later), np.full(len(later), 1.0 / len(later)), True)


def _contrast(result: MixedResult, time: _Time) -> dict[str, object]:
    """The time contrast of ``result`` with its model-based SE, 95% CI and P."""
    idx = [result.term_names.index(name) for name in time.names]
    w = time.weights
    estimate = float(result.params[idx] @ w)
    se = math.sqrt(max(float(w @ result.cov[np.ix_(idx, idx)] @ w), 0.0))
    p = 2.0 * stats.norm.sf(abs(estimate) / se) if se > 0 else float("nan")
    return {
        "coefficient": _num(estimate),
        "se": _num(se),
        "ci95": [_num(estimate - _Z975 * se), _num(estimate + _Z975 * se)],
        "p": _num(p),
    }


def _estimand(x: str, time: _Time) -> str:
    if time.categorical:
        return (
            f"change from the first timepoint of {x} ({len(time.levels)} later timepoints, "
            "time as categories), averaged over the later timepoints with equal weights: "
            "a = mean of the timepoint contrasts of M, c' = mean of those of Y given M"
        )
    return f"per unit of {x} (time as a straight line)"


# --------------------------------------------------------------------------------------------
# Within-patient 1-1-1 mediation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _WithinModels:
    """The rows and the three models of a within-patient mediation (a; b and c'; c)."""

    data: pd.DataFrame
    n: int
    time: _Time
    a: _Model
    b: _Model
    c: _Model


def _within_models(frame: pd.DataFrame, x: str, m: str, y: str, categorical: bool) -> _WithinModels:
    """Fit M on time, Y on M (between and within) and time, and Y on time, on the same rows."""
    data = _prepare(frame, ["patient", x, m, y])
    n = int(data["_code"].max()) + 1 if len(data) else 0
    if n < 3:
        raise ValueError("need at least three patients with complete rows")
    time = _code_time(data, x, categorical)
    # Splitting M into patient mean and deviation keeps b a within-patient effect (no
    # between-patient confounding of the mediator).
    data["m_between"] = data.groupby("_code")[m].transform("mean")
    data["m_within"] = data[m] - data["m_between"]
    cov = list(COVARIATES)
    model_a = _Model(data, m, [*time.names, *cov], n)
    model_b = _Model(data, y, ["m_between", "m_within", *time.names, *cov], n)
    model_c = _Model(data, y, [*time.names, *cov], n)
    return _WithinModels(data, n, time, model_a, model_b, model_c)


def _sobel(indirect: float, a: float, b: float, se_a: float, se_b: float) -> dict[str, object]:
    """Return the indirect effect with its Sobel (delta-method) SE, 95% CI and P."""
    sobel = math.sqrt(a * a * se_b * se_b + b * b * se_a * se_a)
    return {
        "estimate": _num(indirect),
        "sobel_se": _num(sobel),
        "sobel_ci95": [_num(indirect - _Z975 * sobel), _num(indirect + _Z975 * sobel)],
        "sobel_p": _num(2.0 * stats.norm.sf(abs(indirect) / sobel)) if sobel > 0 else None,
    }


def _by_timepoint(x: str, models: _WithinModels, b: float) -> list[dict[str, object]]:
    """Return a, the indirect effect, c' and c at each later timepoint (time as categories)."""
    rows: list[dict[str, object]] = []
    if not models.time.categorical:
        return rows
    for name, level in zip(models.time.names, models.time.levels, strict=True):
        a_t = models.a.result.coef(name)
        rows.append(
            {
                x: level,
                "a": _num(a_t),
                "indirect": _num(a_t * b),
                "c_prime": _num(models.b.result.coef(name)),
                "c": _num(models.c.result.coef(name)),
            }
        )
    return rows


def _within_model_text(x: str, m: str, y: str, time: _Time) -> str:
    """Describe the within-patient model in one sentence."""
    return (
        f"1-1-1 multilevel mediation (Krull & MacKinnon 2001): X = time ({x}, "
        f"{'categorical timepoints' if time.categorical else 'linear'}), M = {m} "
        f"(patient mean and within-patient deviation), Y = {y}; random intercept per patient, "
        "REML, adjusted for sex and age"
    )


def within_patient_mediation(
    frame: pd.DataFrame,
    x: str = "month",
    m: str = "hads_d",
    y: str = "nprs_mean",
    *,
    categorical: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, object]:
    """Estimate a 1-1-1 multilevel mediation of time ``x`` on ``y`` through ``m``, within patient.

    a: ``m ~ time + sex + age``; b and c': ``y ~ m_between + m_within + time + sex + age`` (b is
    the within-patient part); c: ``y ~ time + sex + age``; all random-intercept REML on the same
    rows. With ``categorical`` (the default) time is the study's timepoints, so a course of any
    shape (a step after the first week) is modelled exactly and a mediator that merely rises
    with time cannot pick up the part of the course a straight line misses.
    """
    models = _within_models(frame, x, m, y, categorical)
    time, model_a, model_b, n = models.time, models.a, models.b, models.n
    a = float(time.contrast(model_a.result.params, model_a.names))
    b = model_b.result.coef("m_within")
    direct = float(time.contrast(model_b.result.params, model_b.names))
    a_block, c_prime_block = _contrast(model_a.result, time), _contrast(model_b.result, time)
    # b from the patient-cluster robust SE: a mediator that drifts with time at a rate of the
    # patient's own (cumulative dose) meets pain courses of the patient's own, which the random
    # intercept alone does not describe, and the model-based SE is then too small.
    b_block = model_b.robust_term("m_within")
    indirect = a * b
    proportion = float(_proportion(indirect, direct))
    ind = _sobel(indirect, a, b, cast(float, a_block["se"]), cast(float, b_block["se"]))
    total: dict[str, object] = {"estimate": _num(indirect + direct)}
    prop: dict[str, object] = {"estimate": _num(proportion)}
    if n_boot > 0:
        boot_a, betas_b = _bootstrap(
            lambda counts: (
                time.contrast(model_a.betas(counts), model_a.names),
                model_b.betas(counts),
            ),
            n,
            n_boot,
            seed,
        )
        boot_ind = boot_a * betas_b[:, model_b.names.index("m_within")]
        boot_direct = time.contrast(betas_b, model_b.names)
        ind.update(_intervals(indirect, boot_ind))
        total.update(_intervals(indirect + direct, boot_ind + boot_direct))
        prop.update(_ratio_intervals(proportion, _proportion(boot_ind, boot_direct), total))
    return {
        "model": _within_model_text(x, m, y, time),
        "time": "categorical" if time.categorical else "linear",
        "estimand": _estimand(x, time),
        "formula": "indirect = a*b; total = a*b + c'; proportion = a*b / (a*b + c')",
        "n_patients": n,
        "n_observations": len(models.data),
        "a": a_block,
        "b": b_block,
        "b_between": _term(model_b.result, "m_between"),
        "c_prime": c_prime_block,
        "c": _contrast(models.c.result, time),
        "indirect": ind,
        "total": total,
        "proportion_mediated": prop,
        "by_timepoint": _by_timepoint(x, models, b),
        "bootstrap": {"unit": "patient", "n_boot": int(n_boot), "seed": int(seed)},
    }


RATIO_WITHHELD = (
    "no interval: the 95% CI of the total effect covers 0, so the denominator of "
    "a*b / (a*b + c') can be 0 and the ratio's bootstrap distribution has no usable spread"
)


def _ratio_intervals(
    estimate: float, draws: np.ndarray, total: Mapping[str, object]
) -> dict[str, object]:
    """Intervals of a proportion mediated, withheld when the total effect may be zero."""
    low, high = cast(list[float | None], total.get("percentile_ci95", [None, None]))
    if low is None or high is None or low <= 0.0 <= high:
        return {
            "percentile_ci95": [None, None],
            "bias_corrected_ci95": [None, None],
            "n_boot": int(np.isfinite(draws).sum()),
            "withheld": RATIO_WITHHELD,
        }
    return _intervals(estimate, draws)


# --------------------------------------------------------------------------------------------
# The paper's specification, reconstructed
# --------------------------------------------------------------------------------------------


def _between_ols(design: np.ndarray, target: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return weighted OLS coefficients for each row of patient ``counts``."""
    xtx = np.einsum("rn,ni,nj->rij", counts, design, design)
    xty = np.einsum("rn,ni,n->ri", counts, design, target)
    return np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]


def _pearson(u: np.ndarray, v: np.ndarray) -> dict[str, object]:
    r, p = stats.pearsonr(u, v)
    return {"r": _num(float(r)), "p": _num(float(p)), "n": len(u)}


PAPER_LABEL = (
    "Reconstruction of the paper's specification (Voute et al. 2023), not the paper's "
    "own code; baseline HADS-D is measured before treatment, so it acts as a moderator "
    "rather than a mediator, and with a total effect near 0 the proportions are unstable"
)
PAPER_MODEL = (
    "Y = NPRS change from baseline at each follow-up call; X = cumulative ketamine dose "
    "to date; M = baseline HADS-D; mixed models with a random intercept per patient "
    "(REML), adjusted for the follow-up timepoint (categorical), sex and age; P and CI "
    "of each path from patient-cluster robust SEs (the model-based ones beside them)"
)
PAPER_FORMULA = (
    "as Stata ml_mediation: indirect = a*b; total = a*b + c'; proportion = a*b / (a*b + c')"
    "; a from a patient-level regression of M on X (+ sex, age), b and c' from the path 3 "
    "mixed model; CIs from a patient-cluster bootstrap; a proportion's interval is "
    "withheld when the CI of its total effect covers 0"
)
_DOSE, _DEPRESSION = "cumulative_dose_mg", "baseline_hads_d"


def _pain_change_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Return the follow-up rows with the pain change from baseline, and the patient count."""
    data = frame.copy()
    baseline = data.loc[data["month"] == 0].set_index("patient")["nprs_mean"]
    data["pain_change"] = data["nprs_mean"] - data["patient"].map(baseline)
    data = _prepare(data.loc[data["month"] > 0], ["pain_change", _DOSE, _DEPRESSION])
    n = int(data["_code"].max()) + 1 if len(data) else 0
    if n < 5:
        raise ValueError("need at least five patients with complete follow-up rows")
    return data, n


@dataclass(frozen=True, eq=False)
class _PatientLevel:
    """One row per patient: the designs of the ``a`` paths and the values they regress."""

    design_dose: np.ndarray  # depression ~ dose + covariates
    design_dep: np.ndarray  # dose ~ depression + covariates
    dose: np.ndarray
    dep: np.ndarray
    change: np.ndarray

    def a_paths(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the dose-to-depression and depression-to-dose slopes for each count row."""
        return (
            _between_ols(self.design_dose, self.dep, counts)[:, 1],
            _between_ols(self.design_dep, self.dose, counts)[:, 1],
        )


def _patient_level(data: pd.DataFrame, n: int) -> _PatientLevel:
    """Patient level: last cumulative dose, baseline depression, mean change over the year."""
    per = data.sort_values(["_code", "month"]).groupby("_code")
    patients = pd.DataFrame(
        {
            "dose": per[_DOSE].last(),
            "dep": per[_DEPRESSION].first(),
            "change": per["pain_change"].mean(),
            "sex_male": per["sex_male"].first(),
            "age": per["age"].first(),
        }
    )
    ones = np.ones(n)
    cv = patients[["sex_male", "age"]].to_numpy(dtype=float)
    return _PatientLevel(
        design_dose=np.column_stack([ones, patients["dose"], cv]),
        design_dep=np.column_stack([ones, patients["dep"], cv]),
        dose=patients["dose"].to_numpy(float),
        dep=patients["dep"].to_numpy(float),
        change=patients["change"].to_numpy(float),
    )


def _paper_intervals(
    path3: _Model,
    patients: _PatientLevel,
    blocks: tuple[tuple[dict[str, object], dict[str, object], float], ...],
    n: int,
    n_boot: int,
    seed: int,
) -> None:
    """Add bootstrap intervals to the totals and proportions (by depression, then by dose)."""
    betas3, boot_a_dep, boot_a_dose = _bootstrap(
        lambda counts: (path3.betas(counts), *patients.a_paths(counts)),
        n,
        n_boot,
        seed,
    )
    draws_of = (
        (boot_a_dep, betas3[:, 1], betas3[:, 2]),
        (boot_a_dose, betas3[:, 2], betas3[:, 1]),
    )
    for (target, total, est), (a_boot, b_boot, c_boot) in zip(blocks, draws_of, strict=True):
        total_est = cast(float, total["estimate"])
        total.update(_intervals(total_est, a_boot * b_boot + c_boot))
        draws = 100.0 * _proportion(a_boot * b_boot, c_boot)
        target.update(_ratio_intervals(100.0 * est, draws, total))


def paper_specification(
    frame: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0
) -> dict[str, object]:
    """Reconstruct the paper's mediation of pain change by dose and baseline depression.

    Y = NPRS change from baseline at each follow-up call; X and M are cumulative dose and
    baseline HADS-D. Path 1 and path 3 are mixed models adjusted for the follow-up timepoint
    (categorical), sex and age: without the timepoint, cumulative dose (which only grows) stands
    in for time and takes the course of pain as its own effect. Path 2 and the ``a`` paths of
    the proportions are patient-level regressions, as in Stata ``ml_mediation`` when the
    mediator is constant within patient.
    """
    data, n = _pain_change_rows(frame)
    cov = list(COVARIATES)
    dose, dep = _DOSE, _DEPRESSION
    time = _code_time(data, "month", True) if data["month"].nunique() > 1 else None
    time_terms = list(time.names) if time else []
    path1 = _Model(data, "pain_change", [dose, *time_terms, *cov], n)
    path3 = _Model(data, "pain_change", [dep, dose, *time_terms, *cov], n)
    patients = _patient_level(data, n)
    a_dep, a_dose = (float(v[0]) for v in patients.a_paths(np.ones((1, n))))
    b_dep, b_dose = path3.result.coef(dep), path3.result.coef(dose)
    # X = dose, M = depression: indirect a_dep*b_dep, direct = dose coefficient; and vice versa.
    prop_dep = float(_proportion(a_dep * b_dep, b_dose))
    prop_dose = float(_proportion(a_dose * b_dose, b_dep))

    path1_out = path1.robust_term(dose)
    path1_out.update(_pearson(patients.dose, patients.change))
    path2_out: dict[str, object] = {"coefficient": _num(a_dep)}
    path2_out.update(_pearson(patients.dose, patients.dep))
    by_dep: dict[str, object] = {"estimate_pct": _num(100.0 * prop_dep)}
    by_dose: dict[str, object] = {"estimate_pct": _num(100.0 * prop_dose)}
    total_dose: dict[str, object] = {"estimate": _num(a_dep * b_dep + b_dose)}
    total_dep: dict[str, object] = {"estimate": _num(a_dose * b_dose + b_dep)}
    if n_boot > 0:
        blocks = ((by_dep, total_dose, prop_dep), (by_dose, total_dep, prop_dose))
        _paper_intervals(path3, patients, blocks, n, n_boot, seed)
    return {
        "label": PAPER_LABEL,
        "model": PAPER_MODEL,
        "formula": PAPER_FORMULA,
        "n_patients": n,
        "n_observations": len(data),
        "path1_dose_to_pain": path1_out,
        "path2_dose_to_depression": path2_out,
        "path3_depression_to_pain": path3.robust_term(dep),
        "path3_dose_to_pain": path3.robust_term(dose),
        "proportion_mediated_by_depression_pct": by_dep["estimate_pct"],
        "proportion_mediated_by_dose_pct": by_dose["estimate_pct"],
        "proportion_mediated_by_depression": by_dep,
        "proportion_mediated_by_dose": by_dose,
        "total_effect_of_dose": total_dose,
        "total_effect_of_baseline_depression": total_dep,
        "bootstrap": {"unit": "patient", "n_boot": int(n_boot), "seed": int(seed)},
    }
