"""Maximum-likelihood fitting of the censored-normal trajectory mixture."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

from .diagnostics import AdequacyThresholds, Diagnostics, diagnose
from .model import (
    TERM_NAMES,
    CensoredMixtureLikelihood,
    FloatArray,
    PreparedData,
    censored_mean,
    dataclass_dict,
    design_matrix,
    plain,
    prepare_data,
)

Method = Literal["direct", "em"]

RANDOM_INTERCEPT_WARNING = (
    "A random intercept in the data (stable between-patient differences within a trajectory) "
    "makes BIC favour extra groups; check the adequacy criteria before accepting more groups."
)
# Level of the F test of the residuals' between-patient variance that raises the warning.
RANDOM_INTERCEPT_ALPHA = 0.05


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


# Per-patient gradient size below which an optimum is accepted as converged.
GRADIENT_TOLERANCE = 1e-4
ICC_WARNING_LEVEL = 0.1
# Subsample log-likelihood gap (per 1000 patients) within which a runner-up start is refitted.
REFINE_MARGIN_PER_1000 = 0.5


@dataclass(frozen=True)
class Coefficient:
    """One polynomial coefficient on the month scale with its standard error."""

    term: str
    estimate: float
    se: float
    z: float
    p: float

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True)
class TrajectoryGroup:
    """Summary of one trajectory group."""

    label: str
    order: int
    pi: float
    pi_se: float
    assigned_n: int
    assigned_share: float
    app: float
    occ: float
    coefficients: tuple[Coefficient, ...]
    fitted: tuple[float, ...]  # latent mean at each timepoint
    expected: tuple[float, ...]  # expected observed value under censoring
    observed_mean: tuple[float, ...]  # mean of assigned patients (NaN if none observed)
    observed_n: tuple[int, ...]
    grid_fitted: tuple[float, ...]
    grid_expected: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True)
class Convergence:
    """How the optimum was reached."""

    method: str
    converged: bool
    message: str
    iterations: int
    evaluations: int
    max_abs_gradient: float  # per patient, at the reported optimum
    n_starts: int
    best_start: int
    # Per start; on the screening subsample when the data exceeded `screen_size`.
    start_log_likelihoods: tuple[float, ...]
    screened: bool
    hessian_ok: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True, eq=False)
class TrajectoryFit:
    """A fitted K-group model; groups are ordered by fitted baseline level (T1 lowest)."""

    n_groups: int
    orders: tuple[int, ...]
    months: tuple[float, ...]
    grid: tuple[float, ...]
    groups: tuple[TrajectoryGroup, ...]
    sigma: float
    sigma_se: float
    theta: tuple[float, ...]  # multinomial logit, theta_1 = 0
    theta_se: tuple[float, ...]
    log_likelihood: float
    n_parameters: int
    n_patients: int
    n_observations: int
    bic: float  # traj: logL - 0.5 k ln(patients), larger is better
    bic_obs: float  # logL - 0.5 k ln(observations)
    aic: float  # traj scale: logL - k, larger is better
    posterior: NDArray[np.float64]  # input rows x K; NaN rows for patients with no observation
    assignment: NDArray[np.int64]  # 0-based group index; -1 for patients with no observation
    diagnostics: Diagnostics
    convergence: Convergence
    residual_icc: float
    warnings: tuple[str, ...]
    random_intercept_test: dict[str, float]
    parameter_names: tuple[str, ...]
    covariance: NDArray[np.float64]  # of (betas per month, sigma, theta_2..K)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(g.label for g in self.groups)

    @property
    def adequate(self) -> bool:
        return self.diagnostics.adequate

    def to_dict(self, include_posterior: bool = True) -> dict[str, Any]:
        skip = () if include_posterior else ("posterior", "assignment")
        out = dataclass_dict(self, skip=skip)
        out["labels"] = list(self.labels)
        out["adequate"] = self.adequate
        return out


@dataclass(frozen=True, eq=False)
class _Optimum:
    model: CensoredMixtureLikelihood
    vector: FloatArray
    log_likelihood: float
    method: str
    message: str
    iterations: int
    evaluations: int
    start_log_likelihoods: tuple[float, ...]
    best_start: int
    screened: bool
    seconds: float


# -- starting values ---------------------------------------------------------------------------
def _patient_level_and_slope(data: PreparedData) -> tuple[FloatArray, FloatArray]:
    observed = ~np.isnan(data.y)
    filled = np.where(observed, data.y, 0.0)
    t = data.scaled_times
    n = observed.sum(axis=1)
    level = filled.sum(axis=1) / n
    t_bar = (observed * t).sum(axis=1) / n
    dt = np.where(observed, t - t_bar[:, None], 0.0)
    sxx = (dt**2).sum(axis=1)
    sxy = (dt * (filled - level[:, None])).sum(axis=1)
    slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 1e-12)
    return level, slope


def _kmeans(
    points: FloatArray, k: int, rng: np.random.Generator, iterations: int = 25
) -> NDArray[np.int64]:
    """Lloyd's k-means with k-means++ seeding; returns labels."""
    n = points.shape[0]
    centres = np.empty((k, points.shape[1]))
    centres[0] = points[rng.integers(n)]
    dist = ((points - centres[0]) ** 2).sum(axis=1)
    for c in range(1, k):
        total = dist.sum()
        idx = rng.choice(n, p=dist / total) if total > 0 else rng.integers(n)
        centres[c] = points[idx]
        dist = np.minimum(dist, ((points - centres[c]) ** 2).sum(axis=1))
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new = d2.argmin(axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        counts = np.bincount(labels, minlength=k)
        for c in range(k):
            if counts[c]:
                centres[c] = points[labels == c].mean(axis=0)
    return labels


def _start_partitions(
    data: PreparedData, k: int, n_starts: int, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    level, slope = _patient_level_and_slope(data)
    ranks = np.argsort(np.argsort(level, kind="stable"), kind="stable")
    partitions = [(ranks * k // level.size).astype(np.int64)]
    if k == 1:
        return partitions
    points = np.column_stack(
        [
            (level - level.mean()) / (level.std() or 1.0),
            0.5 * (slope - slope.mean()) / (slope.std() or 1.0),
        ]
    )
    for _ in range(n_starts - 1):
        labels = _kmeans(points, k, rng)
        # Number clusters by mean level so per-group orders map to low-to-high starting groups.
        sums = np.bincount(labels, weights=level, minlength=k)
        counts = np.maximum(np.bincount(labels, minlength=k), 1)
        rank = np.empty(k, dtype=np.int64)
        rank[np.argsort(sums / counts, kind="stable")] = np.arange(k)
        partitions.append(rank[labels])
    return partitions


def _vector_from_partition(
    model: CensoredMixtureLikelihood, labels: NDArray[np.int64]
) -> FloatArray:
    data = model.data
    k = model.n_groups
    observed = ~np.isnan(data.y)
    filled = np.where(observed, data.y, 0.0)
    one_hot = np.zeros((labels.size, k))
    one_hot[np.arange(labels.size), labels] = 1.0
    n_t = observed.T.astype(np.float64) @ one_hot
    s_t = filled.T @ one_hot
    ss_t = (filled**2).T @ one_hot
    betas = []
    rss = 0.0
    for j, z in enumerate(model.designs):
        weights = n_t[:, j]
        lhs = z.T @ (weights[:, None] * z)
        rhs = z.T @ s_t[:, j]
        beta: FloatArray = np.zeros(z.shape[1])
        if weights.sum() == 0:
            beta[0] = 0.5 * (data.lower + data.upper)
        else:
            beta = np.asarray(np.linalg.lstsq(lhs, rhs, rcond=None)[0], dtype=np.float64)
        mu = z @ beta
        rss += float(np.sum(ss_t[:, j] - 2 * mu * s_t[:, j] + mu**2 * weights))
        betas.append(beta)
    sigma = max(math.sqrt(max(rss, 0.0) / max(data.n_observations, 1)), 0.3)
    share = np.maximum(one_hot.mean(axis=0), 1e-3)
    return model.pack(betas, sigma, np.log(share))


# -- optimisation ------------------------------------------------------------------------------
def _direct(
    model: CensoredMixtureLikelihood, start: FloatArray, max_iter: int, gtol: float = 1e-6
) -> tuple[FloatArray, float, str, int, int]:
    """Maximise the log-likelihood by BFGS on the per-patient scale.

    With at most a few dozen parameters a dense BFGS is cheap; L-BFGS-B spent most of its time in
    small threaded LAPACK calls on a busy machine. Sigma and theta are unconstrained (log sigma,
    logits), so no bounds are needed.
    """
    n = model.data.n_patients

    def objective(x: FloatArray) -> tuple[float, FloatArray]:
        result = model.evaluate(x)
        return -result.log_likelihood / n, -result.gradient / n

    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        res = optimize.minimize(
            objective, start, jac=True, method="BFGS", options={"maxiter": max_iter, "gtol": gtol}
        )
    return np.asarray(res.x), -float(res.fun) * n, str(res.message), int(res.nit), int(res.nfev)


def _em(
    model: CensoredMixtureLikelihood, start: FloatArray, max_iter: int, tol: float = 1e-10
) -> tuple[FloatArray, float, str, int, int]:
    """Run EM: posteriors, then pi in closed form and (betas, sigma) by quasi-Newton steps."""
    data = model.data
    n = data.n_patients
    x = start.copy()
    previous = -np.inf
    evaluations = 0
    message = "maximum EM iterations reached"
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
        result = model.evaluate(x)
        evaluations += 1
        if result.log_likelihood - previous < tol * n:
            message = "relative log-likelihood change below tolerance"
            break
        previous = result.log_likelihood
        aggregated = data.features @ result.posterior
        pi = np.maximum(result.posterior.mean(axis=0), 1e-300)
        theta = np.log(pi[1:]) - np.log(pi[0])

        def m_step(
            bs: FloatArray, theta: FloatArray = theta, aggregated: FloatArray = aggregated
        ) -> tuple[float, FloatArray]:
            value, grad = model.expected_gradient(aggregated, np.concatenate([bs, theta]))
            return -value / n, -grad / n

        res = optimize.minimize(
            m_step,
            x[: model.sigma_index + 1],
            jac=True,
            method="BFGS",
            options={"maxiter": 50, "gtol": 1e-10},
        )
        x = np.concatenate([res.x, theta])
    final = model.evaluate(x)
    return x, final.log_likelihood, message, iteration, evaluations + 1


def subsample(data: PreparedData, rows: NDArray[np.int64]) -> PreparedData:
    """Return the prepared data restricted to the given (included) patients."""
    y = data.y[rows]
    return PreparedData(
        y=y,
        months=data.months,
        time_scale=data.time_scale,
        lower=data.lower,
        upper=data.upper,
        included=np.ones(rows.size, dtype=bool),
        features=np.ascontiguousarray(data.features[:, rows]),
        n_observations=int((~np.isnan(y)).sum()),
    )


def _optimise(
    data: PreparedData,
    orders: Sequence[int],
    *,
    n_starts: int,
    seed: int,
    method: Method,
    max_iter: int,
    screen_size: int,
    n_refine: int,
) -> _Optimum:
    """Run seeded starts and keep the best optimum.

    On large data the starts are run on a seeded subsample of `screen_size` patients and only the
    `n_refine` best are carried to the full data: the per-patient objective of a subsample has
    nearly the same optima, so this saves most full-data evaluations.
    """
    began = time.perf_counter()
    model = CensoredMixtureLikelihood(data, orders)
    rng = np.random.default_rng([seed, model.n_groups, *model.orders])
    runner = _direct if method == "direct" else _em
    screening = model.n_groups > 1 and n_starts > 1 and data.n_patients > screen_size
    if screening:
        rows = np.sort(rng.choice(data.n_patients, size=screen_size, replace=False))
        screen_model = CensoredMixtureLikelihood(subsample(data, rows), orders)
    else:
        screen_model = model
    partitions = _start_partitions(screen_model.data, model.n_groups, max(n_starts, 1), rng)
    iterations = evaluations = 0
    candidates: list[tuple[float, int, FloatArray]] = []
    outcomes: dict[int, tuple[FloatArray, float, str, int, int]] = {}
    for index, labels in enumerate(partitions):
        start = _vector_from_partition(screen_model, labels)
        if screening and method == "direct":
            # Screening only ranks starts; the refinement below tightens the survivors.
            outcome = _direct(screen_model, start, min(max_iter, 400), gtol=1e-5)
        else:
            outcome = runner(screen_model, start, max_iter)
        iterations += outcome[3]
        evaluations += outcome[4]
        candidates.append((outcome[1], index, outcome[0]))
        outcomes[index] = outcome
    start_lls = tuple(c[0] for c in candidates)
    # Stable sort on -logL: ties resolve to the earliest start so a seed gives one answer.
    ranked = sorted(candidates, key=lambda c: -c[0])
    if screening:
        # Runners-up are refitted only if the subsample cannot tell them apart from the best.
        margin = REFINE_MARGIN_PER_1000 * screen_size / 1000
        ranked = [ranked[0]] + [c for c in ranked[1:] if c[0] >= ranked[0][0] - margin]
        for _, index, vector in ranked[: max(n_refine, 1)]:
            outcome = runner(model, vector, max_iter)
            iterations += outcome[3]
            evaluations += outcome[4]
            outcomes[index] = outcome
        finalists = [c[1] for c in ranked[: max(n_refine, 1)]]
    else:
        finalists = [c[1] for c in ranked]
    best_start = finalists[0]
    for index in finalists[1:]:
        if outcomes[index][1] > outcomes[best_start][1] + 1e-9:
            best_start = index
    best = outcomes[best_start]
    return _Optimum(
        model=model,
        vector=best[0],
        log_likelihood=best[1],
        method=method,
        message=best[2],
        iterations=iterations,
        evaluations=evaluations,
        start_log_likelihoods=start_lls,
        best_start=best_start,
        screened=screening,
        seconds=time.perf_counter() - began,
    )


# -- result assembly ---------------------------------------------------------------------------
def _reordered(optimum: _Optimum) -> tuple[CensoredMixtureLikelihood, FloatArray]:
    model = optimum.model
    betas, sigma, theta = model.unpack(optimum.vector)
    baseline = model.means(betas)[0]
    perm = np.argsort(baseline, kind="stable")
    new_model = CensoredMixtureLikelihood(model.data, [model.orders[p] for p in perm])
    vector = new_model.pack([betas[p] for p in perm], sigma, theta[perm])
    return new_model, vector


def _covariance(model: CensoredMixtureLikelihood, vector: FloatArray) -> tuple[FloatArray, bool]:
    information = -model.hessian(vector)
    try:
        np.linalg.cholesky(information)
        return np.asarray(np.linalg.inv(information), dtype=np.float64), True
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.pinv(information), dtype=np.float64), False


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


def _two_sided_p(estimate: float, se: float) -> tuple[float, float]:
    if not (se > 0 and math.isfinite(se)):
        return float("nan"), float("nan")
    z = estimate / se
    return z, float(2 * stats.norm.sf(abs(z)))


def _build_fit(
    optimum: _Optimum,
    thresholds: AdequacyThresholds,
    grid_points: int,
    with_standard_errors: bool,
) -> TrajectoryFit:
    model, vector = _reordered(optimum)
    data = model.data
    k = model.n_groups
    result = model.evaluate(vector)
    betas, sigma, theta = model.unpack(vector)
    log_pi = theta - special.logsumexp(theta)
    pi = np.exp(log_pi)
    scale = data.time_scale

    # Natural parameters: betas per month, sigma, free thetas (a diagonal map at the optimum).
    jac = np.ones(model.n_params)
    names: list[str] = []
    for j, (s, p) in enumerate(zip(model.beta_slices, model.orders, strict=True)):
        jac[s] = scale ** -np.arange(p + 1, dtype=np.float64)
        names.extend(f"T{j + 1}.{TERM_NAMES[i]}" for i in range(p + 1))
    jac[model.sigma_index] = sigma
    names.append("sigma")
    names.extend(f"theta.T{j + 1}" for j in range(1, k))
    if with_standard_errors:
        cov_vec, hessian_ok = _covariance(model, vector)
        covariance = cov_vec * np.outer(jac, jac)
    else:
        hessian_ok = False
        covariance = np.full((model.n_params, model.n_params), np.nan)
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    se[np.isnan(np.diag(covariance))] = np.nan

    # pi = softmax(theta); delta method over the free thetas.
    theta_cov = covariance[model.sigma_index + 1 :, model.sigma_index + 1 :]
    d_pi = (np.diag(pi) - np.outer(pi, pi))[:, 1:]
    pi_se = np.sqrt(np.clip(np.einsum("ia,ab,ib->i", d_pi, theta_cov, d_pi), 0.0, None))

    posterior = result.posterior
    assignment = posterior.argmax(axis=1)
    labels = tuple(f"T{j + 1}" for j in range(k))
    diagnostics = diagnose(posterior, pi, thresholds, labels)

    observed = ~np.isnan(data.y)
    filled = np.where(observed, data.y, 0.0)
    one_hot = np.zeros((data.n_patients, k))
    one_hot[np.arange(data.n_patients), assignment] = 1.0
    obs_n = observed.T.astype(np.float64) @ one_hot
    obs_sum = filled.T @ one_hot
    with np.errstate(invalid="ignore", divide="ignore"):
        obs_mean = np.where(obs_n > 0, obs_sum / np.maximum(obs_n, 1), np.nan)

    mu = model.means(betas)
    expected = censored_mean(mu, sigma, data.lower, data.upper)
    grid = np.linspace(data.months.min(), data.months.max(), grid_points)
    grid_scaled = grid / scale
    grid_mu = np.column_stack(
        [design_matrix(grid_scaled, p) @ b for p, b in zip(model.orders, betas, strict=True)]
    )
    grid_expected = censored_mean(grid_mu, sigma, data.lower, data.upper)

    groups = []
    for j in range(k):
        s = model.beta_slices[j]
        coefs = []
        for i, (est, err) in enumerate(zip(betas[j] * jac[s], se[s], strict=True)):
            z_stat, p_value = _two_sided_p(float(est), float(err))
            coefs.append(Coefficient(TERM_NAMES[i], float(est), float(err), z_stat, p_value))
        groups.append(
            TrajectoryGroup(
                label=labels[j],
                order=model.orders[j],
                pi=float(pi[j]),
                pi_se=float(pi_se[j]) if with_standard_errors else float("nan"),
                assigned_n=diagnostics.assigned_n[j],
                assigned_share=diagnostics.assigned_share[j],
                app=diagnostics.app[j],
                occ=diagnostics.occ[j],
                coefficients=tuple(coefs),
                fitted=tuple(float(v) for v in mu[:, j]),
                expected=tuple(float(v) for v in expected[:, j]),
                observed_mean=tuple(float(v) for v in obs_mean[:, j]),
                observed_n=tuple(int(v) for v in obs_n[:, j]),
                grid_fitted=tuple(float(v) for v in grid_mu[:, j]),
                grid_expected=tuple(float(v) for v in grid_expected[:, j]),
            )
        )

    icc = residual_icc(data.y, mu.T[assignment])
    max_grad = float(np.max(np.abs(result.gradient))) / data.n_patients
    converged = max_grad < GRADIENT_TOLERANCE
    # Residuals from the expected observed value (censoring included) of the assigned group, so
    # that a group's floor or ceiling does not pass for a patient level.
    intercept_test = residual_intercept_test(data.y, expected.T[assignment])
    warnings = [w for w in (random_intercept_warning(intercept_test),) if w]
    if icc > ICC_WARNING_LEVEL:
        warnings.append(
            f"Residuals within assigned groups are correlated within patients (ICC {icc:.2f}): "
            "a random intercept is likely and extra groups may only split its distribution."
        )
    warnings.extend(f"Adequacy: {f}" for f in diagnostics.failures)
    if not converged:
        warnings.append(f"Optimiser did not converge (max gradient {max_grad:.2e}).")
    if with_standard_errors and not hessian_ok:
        warnings.append("Hessian is not negative definite; standard errors are unreliable.")
    excluded = int((~data.included).sum())
    if excluded:
        warnings.append(f"{excluded} patient(s) without any observation were left out.")

    full_posterior = np.full((data.included.size, k), np.nan)
    full_posterior[data.included] = posterior
    full_assignment = np.full(data.included.size, -1, dtype=np.int64)
    full_assignment[data.included] = assignment
    full_posterior.setflags(write=False)
    full_assignment.setflags(write=False)
    covariance.setflags(write=False)

    n_params = model.n_params
    ll = result.log_likelihood
    sigma_se = float(se[model.sigma_index])
    theta_se = (float("nan"), *(float(v) for v in se[model.sigma_index + 1 :]))
    return TrajectoryFit(
        n_groups=k,
        orders=model.orders,
        months=tuple(float(m) for m in data.months),
        grid=tuple(float(g) for g in grid),
        groups=tuple(groups),
        sigma=sigma,
        sigma_se=sigma_se,
        theta=tuple(float(t) for t in theta),
        theta_se=theta_se,
        log_likelihood=ll,
        n_parameters=n_params,
        n_patients=data.n_patients,
        n_observations=data.n_observations,
        bic=ll - 0.5 * n_params * math.log(data.n_patients),
        bic_obs=ll - 0.5 * n_params * math.log(data.n_observations),
        aic=ll - n_params,
        posterior=full_posterior,
        assignment=full_assignment,
        diagnostics=diagnostics,
        convergence=Convergence(
            method=optimum.method,
            converged=bool(converged),
            message=optimum.message,
            iterations=optimum.iterations,
            evaluations=optimum.evaluations,
            max_abs_gradient=float(max_grad),
            n_starts=len(optimum.start_log_likelihoods),
            best_start=optimum.best_start,
            start_log_likelihoods=optimum.start_log_likelihoods,
            screened=optimum.screened,
            hessian_ok=bool(hessian_ok),
            seconds=optimum.seconds,
        ),
        residual_icc=icc,
        random_intercept_test=intercept_test,
        warnings=tuple(warnings),
        parameter_names=tuple(names),
        covariance=covariance,
    )


def _orders_for(n_groups: int, order: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(order, int | np.integer):
        return (int(order),) * n_groups
    orders = tuple(int(p) for p in order)
    if len(orders) != n_groups:
        raise ValueError("give one polynomial order per group")
    return orders


def fit_prepared(
    data: PreparedData,
    n_groups: int,
    order: int | Sequence[int] = 3,
    *,
    n_starts: int = 5,
    seed: int = 0,
    method: Method = "direct",
    max_iter: int = 2000,
    thresholds: AdequacyThresholds | None = None,
    grid_points: int = 121,
    standard_errors: bool = True,
    screen_size: int = 4000,
    n_refine: int = 2,
) -> TrajectoryFit:
    """Fit a K-group model to already prepared data."""
    if n_groups < 1:
        raise ValueError("n_groups must be at least 1")
    if method not in ("direct", "em"):
        raise ValueError("method must be 'direct' or 'em'")
    orders = _orders_for(n_groups, order)
    optimum = _optimise(
        data,
        orders,
        n_starts=1 if n_groups == 1 else n_starts,
        seed=seed,
        method=method,
        max_iter=max_iter,
        screen_size=screen_size,
        n_refine=n_refine,
    )
    return _build_fit(optimum, thresholds or AdequacyThresholds(), grid_points, standard_errors)


def fit_trajectories(
    y: ArrayLike,
    months: ArrayLike,
    n_groups: int,
    order: int | Sequence[int] = 3,
    *,
    lower: float = 0.0,
    upper: float = 10.0,
    time_scale: float = 10.0,
    n_starts: int = 5,
    seed: int = 0,
    method: Method = "direct",
    max_iter: int = 2000,
    thresholds: AdequacyThresholds | None = None,
    grid_points: int = 121,
    standard_errors: bool = True,
    screen_size: int = 4000,
    n_refine: int = 2,
) -> TrajectoryFit:
    """Fit a censored-normal group-based trajectory model by maximum likelihood.

    `y` is patients x timepoints (NaN = missing), `months` the timepoints. `order` is one
    polynomial order (0-3) for all groups or one per group, listed from the lowest starting level.
    Several seeded starts are run and the best log-likelihood kept; above `screen_size` patients
    the starts are screened on a subsample and the `n_refine` best refitted on all patients.
    """
    data = prepare_data(y, months, lower=lower, upper=upper, time_scale=time_scale)
    return fit_prepared(
        data,
        n_groups,
        order,
        n_starts=n_starts,
        seed=seed,
        method=method,
        max_iter=max_iter,
        thresholds=thresholds,
        grid_points=grid_points,
        standard_errors=standard_errors,
        screen_size=screen_size,
        n_refine=n_refine,
    )


__all__ = [
    "Coefficient",
    "Convergence",
    "TrajectoryFit",
    "TrajectoryGroup",
    "fit_prepared",
    "fit_trajectories",
    "plain",
    "residual_icc",
]
