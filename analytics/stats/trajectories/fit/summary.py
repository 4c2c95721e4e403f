"""From the optimum to the reported fit: groups ordered by level, standard errors, warnings."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ..diagnostics import AdequacyThresholds, Diagnostics, diagnose
from ..model import (
    TERM_NAMES,
    CensoredMixtureLikelihood,
    FloatArray,
    PreparedData,
    censored_mean,
    design_matrix,
)
from .optimisation import Optimum
from .residuals import (
    ICC_WARNING_LEVEL,
    random_intercept_warning,
    residual_icc,
    residual_intercept_test,
)
from .result import Coefficient, Convergence, TrajectoryFit, TrajectoryGroup

# Per-patient gradient size below which an optimum is accepted as converged.
GRADIENT_TOLERANCE = 1e-4


def _reordered(optimum: Optimum) -> tuple[CensoredMixtureLikelihood, FloatArray]:
    """Return the model and parameters with the groups ordered by fitted baseline level."""
    model = optimum.model
    betas, sigma, theta = model.unpack(optimum.vector)
    baseline = model.means(betas)[0]
    perm = np.argsort(baseline, kind="stable")
    new_model = CensoredMixtureLikelihood(model.data, [model.orders[p] for p in perm])
    vector = new_model.pack([betas[p] for p in perm], sigma, theta[perm])
    return new_model, vector


def _covariance(model: CensoredMixtureLikelihood, vector: FloatArray) -> tuple[FloatArray, bool]:
    """Return the inverse information and whether the Hessian was negative definite."""
    information = -model.hessian(vector)
    try:
        np.linalg.cholesky(information)
        return np.asarray(np.linalg.inv(information), dtype=np.float64), True
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.pinv(information), dtype=np.float64), False


def _two_sided_p(estimate: float, se: float) -> tuple[float, float]:
    if not (se > 0 and math.isfinite(se)):
        return float("nan"), float("nan")
    z = estimate / se
    return z, float(2 * stats.norm.sf(abs(z)))


@dataclass(frozen=True)
class _Parameters:
    """The parameters on the natural scale (betas per month, sigma, free thetas) and their SEs."""

    names: tuple[str, ...]
    jacobian: FloatArray  # natural over optimised scale, a diagonal map at the optimum
    covariance: FloatArray
    se: FloatArray
    hessian_ok: bool


def _natural_scale(
    model: CensoredMixtureLikelihood, vector: FloatArray, sigma: float, with_standard_errors: bool
) -> _Parameters:
    """Return the parameters' names and, when asked, their covariance on the natural scale."""
    scale = model.data.time_scale
    jac = np.ones(model.n_params)
    names: list[str] = []
    for j, (s, p) in enumerate(zip(model.beta_slices, model.orders, strict=True)):
        jac[s] = scale ** -np.arange(p + 1, dtype=np.float64)
        names.extend(f"T{j + 1}.{TERM_NAMES[i]}" for i in range(p + 1))
    jac[model.sigma_index] = sigma
    names.append("sigma")
    names.extend(f"theta.T{j + 1}" for j in range(1, model.n_groups))
    if with_standard_errors:
        cov_vec, hessian_ok = _covariance(model, vector)
        covariance = cov_vec * np.outer(jac, jac)
    else:
        hessian_ok = False
        covariance = np.full((model.n_params, model.n_params), np.nan)
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    se[np.isnan(np.diag(covariance))] = np.nan
    return _Parameters(tuple(names), jac, covariance, se, hessian_ok)


def _pi_se(pi: FloatArray, covariance: FloatArray, sigma_index: int) -> FloatArray:
    """Return the SEs of the group shares: pi = softmax(theta), delta method over free thetas."""
    theta_cov = covariance[sigma_index + 1 :, sigma_index + 1 :]
    d_pi = (np.diag(pi) - np.outer(pi, pi))[:, 1:]
    return np.sqrt(np.clip(np.einsum("ia,ab,ib->i", d_pi, theta_cov, d_pi), 0.0, None))


@dataclass(frozen=True)
class _Curves:
    """Each group's curves (timepoints x groups): fitted, expected, observed, and on a grid."""

    fitted: FloatArray
    expected: FloatArray
    observed_mean: FloatArray
    observed_n: FloatArray
    grid: FloatArray
    grid_fitted: FloatArray
    grid_expected: FloatArray


def _observed(data: PreparedData, assignment: np.ndarray, k: int) -> tuple[FloatArray, FloatArray]:
    """Return the count and mean of the observed values of each group's assigned patients."""
    observed = ~np.isnan(data.y)
    filled = np.where(observed, data.y, 0.0)
    one_hot = np.zeros((data.n_patients, k))
    one_hot[np.arange(data.n_patients), assignment] = 1.0
    obs_n = observed.T.astype(np.float64) @ one_hot
    obs_sum = filled.T @ one_hot
    with np.errstate(invalid="ignore", divide="ignore"):
        obs_mean = np.where(obs_n > 0, obs_sum / np.maximum(obs_n, 1), np.nan)
    return obs_n, obs_mean


def _curves(
    model: CensoredMixtureLikelihood,
    betas: list[FloatArray],
    sigma: float,
    assignment: np.ndarray,
    grid_points: int,
) -> _Curves:
    """Return the groups' curves at the timepoints and on a grid of ``grid_points`` months."""
    data = model.data
    obs_n, obs_mean = _observed(data, assignment, model.n_groups)
    mu = model.means(betas)
    grid = np.linspace(data.months.min(), data.months.max(), grid_points)
    grid_scaled = grid / data.time_scale
    grid_mu = np.column_stack(
        [design_matrix(grid_scaled, p) @ b for p, b in zip(model.orders, betas, strict=True)]
    )
    return _Curves(
        fitted=mu,
        expected=censored_mean(mu, sigma, data.lower, data.upper),
        observed_mean=obs_mean,
        observed_n=obs_n,
        grid=grid,
        grid_fitted=grid_mu,
        grid_expected=censored_mean(grid_mu, sigma, data.lower, data.upper),
    )


def _coefficients(estimates: FloatArray, se: FloatArray) -> tuple[Coefficient, ...]:
    """Return one group's coefficients with their z and two-sided P."""
    coefs = []
    for i, (est, err) in enumerate(zip(estimates, se, strict=True)):
        z_stat, p_value = _two_sided_p(float(est), float(err))
        coefs.append(Coefficient(TERM_NAMES[i], float(est), float(err), z_stat, p_value))
    return tuple(coefs)


def _groups(
    model: CensoredMixtureLikelihood,
    betas: list[FloatArray],
    params: _Parameters,
    pi: FloatArray,
    pi_se: FloatArray | None,
    diagnostics: Diagnostics,
    curves: _Curves,
) -> tuple[TrajectoryGroup, ...]:
    """Return the summary of each group, T1 (lowest baseline) first."""
    groups = []
    for j in range(model.n_groups):
        s = model.beta_slices[j]
        groups.append(
            TrajectoryGroup(
                label=f"T{j + 1}",
                order=model.orders[j],
                pi=float(pi[j]),
                pi_se=float(pi_se[j]) if pi_se is not None else float("nan"),
                assigned_n=diagnostics.assigned_n[j],
                assigned_share=diagnostics.assigned_share[j],
                app=diagnostics.app[j],
                occ=diagnostics.occ[j],
                coefficients=_coefficients(betas[j] * params.jacobian[s], params.se[s]),
                fitted=tuple(float(v) for v in curves.fitted[:, j]),
                expected=tuple(float(v) for v in curves.expected[:, j]),
                observed_mean=tuple(float(v) for v in curves.observed_mean[:, j]),
                observed_n=tuple(int(v) for v in curves.observed_n[:, j]),
                grid_fitted=tuple(float(v) for v in curves.grid_fitted[:, j]),
                grid_expected=tuple(float(v) for v in curves.grid_expected[:, j]),
            )
        )
    return tuple(groups)


def _warnings(
    *,
    intercept_test: dict[str, float],
    icc: float,
    diagnostics: Diagnostics,
    max_grad: float,
    unreliable_se: bool,
    excluded: int,
) -> tuple[str, ...]:
    """Return the warnings a reader of the fit must see, most fundamental first."""
    warnings = [w for w in (random_intercept_warning(intercept_test),) if w]
    if icc > ICC_WARNING_LEVEL:
        warnings.append(
            f"Residuals within assigned groups are correlated within patients (ICC {icc:.2f}): "
            "a random intercept is likely and extra groups may only split its distribution."
        )
    warnings.extend(f"Adequacy: {f}" for f in diagnostics.failures)
    if not max_grad < GRADIENT_TOLERANCE:
        warnings.append(f"Optimiser did not converge (max gradient {max_grad:.2e}).")
    if unreliable_se:
        warnings.append("Hessian is not negative definite; standard errors are unreliable.")
    if excluded:
        warnings.append(f"{excluded} patient(s) without any observation were left out.")
    return tuple(warnings)


def _all_rows(
    data: PreparedData, posterior: FloatArray, assignment: np.ndarray
) -> tuple[FloatArray, np.ndarray]:
    """Return posterior and assignment for every input row (NaN and -1 for the left out)."""
    full_posterior = np.full((data.included.size, posterior.shape[1]), np.nan)
    full_posterior[data.included] = posterior
    full_assignment = np.full(data.included.size, -1, dtype=np.int64)
    full_assignment[data.included] = assignment
    full_posterior.setflags(write=False)
    full_assignment.setflags(write=False)
    return full_posterior, full_assignment


def _convergence(optimum: Optimum, max_grad: float, hessian_ok: bool) -> Convergence:
    """Return how the optimum was reached, converged when the gradient is small enough."""
    return Convergence(
        method=optimum.method,
        converged=bool(max_grad < GRADIENT_TOLERANCE),
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
    )


def build_fit(
    optimum: Optimum,
    thresholds: AdequacyThresholds,
    grid_points: int,
    with_standard_errors: bool,
) -> TrajectoryFit:
    """Return the fit at ``optimum``: groups ordered by baseline level, SEs, diagnostics."""
    model, vector = _reordered(optimum)
    data = model.data
    k = model.n_groups
    result = model.evaluate(vector)
    betas, sigma, theta = model.unpack(vector)
    pi = np.exp(theta - special.logsumexp(theta))
    params = _natural_scale(model, vector, sigma, with_standard_errors)
    pi_se = _pi_se(pi, params.covariance, model.sigma_index)

    posterior = result.posterior
    assignment = posterior.argmax(axis=1)
    labels = tuple(f"T{j + 1}" for j in range(k))
    diagnostics = diagnose(posterior, pi, thresholds, labels)
    curves = _curves(model, betas, sigma, assignment, grid_points)
    groups = _groups(
        model, betas, params, pi, pi_se if with_standard_errors else None, diagnostics, curves
    )

    icc = residual_icc(data.y, curves.fitted.T[assignment])
    max_grad = float(np.max(np.abs(result.gradient))) / data.n_patients
    # Residuals from the expected observed value (censoring included) of the assigned group, so
    # that a group's floor or ceiling does not pass for a patient level.
    intercept_test = residual_intercept_test(data.y, curves.expected.T[assignment])
    full_posterior, full_assignment = _all_rows(data, posterior, assignment)
    params.covariance.setflags(write=False)
    n_params = model.n_params
    ll = result.log_likelihood
    return TrajectoryFit(
        n_groups=k,
        orders=model.orders,
        months=tuple(float(m) for m in data.months),
        grid=tuple(float(g) for g in curves.grid),
        groups=groups,
        sigma=sigma,
        sigma_se=float(params.se[model.sigma_index]),
        theta=tuple(float(t) for t in theta),
        theta_se=(float("nan"), *(float(v) for v in params.se[model.sigma_index + 1 :])),
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
        convergence=_convergence(optimum, max_grad, params.hessian_ok),
        residual_icc=icc,
        random_intercept_test=intercept_test,
        warnings=_warnings(
            intercept_test=intercept_test,
            icc=icc,
            diagnostics=diagnostics,
            max_grad=max_grad,
            unreliable_se=with_standard_errors and not params.hessian_ok,
            excluded=int((~data.included).sum()),
        ),
        parameter_names=params.names,
        covariance=params.covariance,
    )
