"""Latent-class mixed trajectory model: groups, a random intercept per patient, censored at 0-10.

In group j, ``y*_it = X_t beta_j + u_i + e_it`` with ``u_i ~ N(0, tau^2)`` and ``e_it ~ N(0,
sigma^2)``; y is y* censored to [lower, upper] as in the group-based model (model.py). The
random intercept carries the patient's own level, so the calls of a patient are no longer
independent given the group, and the posteriors no longer count each call as fresh evidence.
The integral over ``u`` is computed by adaptive Gauss-Hermite quadrature (``nodes`` points,
centred on each patient's posterior of ``u``); tests check it against adaptive numerical
integration (scipy quad).

Status: the likelihood is checked (tests/analytics/test_trajectories.py); ``fit_mixed_classes``
is not yet used by the report. From one start and with numerical gradients it is slow (about
200 s for 600 patients) and, in a trial on data with a random intercept, emptied one of three
groups; it needs analytic gradients and several starts before its memberships can be offered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from .diagnostics import AdequacyThresholds, Diagnostics, diagnose
from .model import LOG_SQRT_2PI, dataclass_dict, design_matrix, prepare_data

FloatArray = NDArray[np.float64]
DEFAULT_NODES = 20


def _log_cell(y: FloatArray, mean: FloatArray, sigma: float, lower: float, upper: float) -> Any:
    """Censored-normal log density of each y (NaN -> 0: a missing call adds nothing)."""
    z = (y - mean) / sigma
    interior = -0.5 * z**2 - LOG_SQRT_2PI - math.log(sigma)
    at_lower = special.log_ndtr((lower - mean) / sigma)
    at_upper = special.log_ndtr((mean - upper) / sigma)
    out = np.where(y <= lower, at_lower, np.where(y >= upper, at_upper, interior))
    return np.where(np.isnan(y), 0.0, out)


@dataclass(frozen=True, eq=False)
class _Layout:
    orders: tuple[int, ...]
    designs: tuple[FloatArray, ...]

    @property
    def n_groups(self) -> int:
        return len(self.orders)

    @property
    def size(self) -> int:
        return sum(o + 1 for o in self.orders) + 2 + self.n_groups - 1

    def unpack(self, v: FloatArray) -> tuple[list[FloatArray], float, float, FloatArray]:
        betas, at = [], 0
        for order in self.orders:
            betas.append(v[at : at + order + 1])
            at += order + 1
        sigma, tau = math.exp(v[at]), math.exp(v[at + 1])
        theta = np.r_[0.0, v[at + 2 :]]
        return betas, sigma, tau, theta - special.logsumexp(theta)

    def means(self, betas: Sequence[FloatArray]) -> FloatArray:
        return np.stack([d @ b for d, b in zip(self.designs, betas, strict=True)], 1)  # (T, K)


def patient_log_terms(
    vector: FloatArray,
    layout: _Layout,
    y: FloatArray,
    lower: float,
    upper: float,
    nodes: int = DEFAULT_NODES,
) -> FloatArray:
    """Return ``log pi_j + log integral of prod_t f(y_it | j, u) dN(u; 0, tau^2)`` (N x K)."""
    betas, sigma, tau, log_pi = layout.unpack(vector)
    mu = layout.means(betas)  # (T, K)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    seen = ~np.isnan(y)
    n_seen = seen.sum(axis=1).astype(float)
    out = np.empty((y.shape[0], layout.n_groups))
    for j in range(layout.n_groups):
        # Adaptive nodes: centred and scaled on u's posterior given y and group j as if nothing
        # were censored (exact then; close enough to make the rule converge fast otherwise).
        r = np.where(seen, y - mu[None, :, j], 0.0).sum(axis=1)
        denominator = sigma**2 + n_seen * tau**2
        centre = tau**2 * r / denominator
        scale = np.sqrt(tau**2 * sigma**2 / denominator)
        u = centre[:, None] + scale[:, None] * x[None, :]  # (N, Q)
        mean = mu[None, :, j, None] + u[:, None, :]  # (N, T, Q)
        cells = _log_cell(y[:, :, None], mean, sigma, lower, upper).sum(axis=1)  # (N, Q)
        prior = -0.5 * (u / tau) ** 2 - LOG_SQRT_2PI - math.log(tau)
        log_w = np.log(w)[None, :] + 0.5 * x[None, :] ** 2 + np.log(scale)[:, None]
        out[:, j] = log_pi[j] + special.logsumexp(cells + prior + log_w, axis=1)
    return out


@dataclass(frozen=True, eq=False)
class MixedClassFit:
    """A fitted latent-class mixed model; groups ordered by fitted baseline level."""

    n_groups: int
    orders: tuple[int, ...]
    months: tuple[float, ...]
    betas: tuple[tuple[float, ...], ...]
    sigma: float
    tau: float
    pi: tuple[float, ...]
    log_likelihood: float
    n_parameters: int
    n_patients: int
    n_observations: int
    bic: float  # traj scale: logL - 0.5 k ln(patients), larger is better
    bic_obs: float
    fitted: tuple[tuple[float, ...], ...]  # latent group means at each month (K x T)
    posterior: FloatArray  # input rows x K; NaN rows for patients with no observation
    assignment: NDArray[np.int64]  # -1 for patients with no observation
    diagnostics: Diagnostics
    converged: bool
    message: str
    nodes: int

    @property
    def adequate(self) -> bool:
        return self.diagnostics.adequate

    def to_dict(self, include_posterior: bool = False) -> dict[str, Any]:
        skip = () if include_posterior else ("posterior", "assignment")
        out = dataclass_dict(self, skip=skip)
        out["adequate"] = self.adequate
        return out


def _start_vector(
    y: FloatArray,
    orders: Sequence[int],
    start_betas: Sequence[ArrayLike] | None,
    start_sigma: float,
    start_tau: float,
    start_pi: ArrayLike | None,
) -> FloatArray:
    """Return the packed start: given betas (else flat curves at spread levels), sigma, tau, pi."""
    k = len(orders)
    if start_betas is None:
        levels = np.nanpercentile(y, np.linspace(20, 80, k))
        start_betas = [np.r_[level, np.zeros(o)] for level, o in zip(levels, orders, strict=True)]
    pi0 = np.full(k, 1.0 / k) if start_pi is None else np.asarray(start_pi, dtype=float)
    return np.concatenate(
        [
            *[np.asarray(b, dtype=float) for b in start_betas],
            [math.log(start_sigma), math.log(start_tau)],
            np.log(pi0[1:]) - math.log(pi0[0]),
        ]
    )


def _all_rows(included: np.ndarray, post: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """Return posterior and assignment for every input row (NaN and -1 for the left out)."""
    full = np.full((included.size, post.shape[1]), np.nan)
    full[included] = post
    assignment = np.full(included.size, -1, dtype=np.int64)
    assignment[included] = post.argmax(axis=1)
    return full, assignment


def fit_mixed_classes(
    y: ArrayLike,
    months: ArrayLike,
    orders: Sequence[int],
    *,
    start_betas: Sequence[ArrayLike] | None = None,
    start_sigma: float = 1.5,
    start_tau: float = 1.0,
    start_pi: ArrayLike | None = None,
    lower: float = 0.0,
    upper: float = 10.0,
    nodes: int = DEFAULT_NODES,
    thresholds: AdequacyThresholds | None = None,
    max_iter: int = 500,
) -> MixedClassFit:
    """Fit the model by quasi-Newton maximum likelihood from the given start.

    A natural start is the group-based model's fit (its betas on months / 10, sigma, shares):
    the random intercept then takes the part of sigma that is a patient's own level.
    """
    data = prepare_data(y, months, lower=lower, upper=upper)
    t = data.scaled_times
    k = len(orders)
    layout = _Layout(tuple(int(o) for o in orders), tuple(design_matrix(t, o) for o in orders))
    start = _start_vector(data.y, orders, start_betas, start_sigma, start_tau, start_pi)
    yy = data.y

    def negative(v: FloatArray) -> float:
        value = -float(
            special.logsumexp(patient_log_terms(v, layout, yy, lower, upper, nodes), 1).sum()
        )
        return value if math.isfinite(value) else 1e300

    result = optimize.minimize(
        negative, start, method="BFGS", options={"maxiter": max_iter, "gtol": 1e-5}
    )
    vector = result.x
    betas, sigma, tau, log_pi = layout.unpack(vector)
    terms = patient_log_terms(vector, layout, yy, lower, upper, nodes)
    loglik = float(special.logsumexp(terms, 1).sum())
    post = np.exp(terms - special.logsumexp(terms, 1)[:, None])
    pi = np.exp(log_pi)
    mu = layout.means(betas)
    order = np.argsort(mu[0])  # T1 = lowest fitted baseline
    post, pi, mu = post[:, order], pi[order], mu[:, order]
    betas = [betas[j] for j in order]
    labels = tuple(f"T{j + 1}" for j in range(k))
    diagnostics = diagnose(post, pi, thresholds, labels)
    full, assignment = _all_rows(data.included, post)
    n_par = layout.size
    return MixedClassFit(
        n_groups=k,
        orders=tuple(layout.orders[j] for j in order),
        months=tuple(float(m) for m in data.months),
        betas=tuple(tuple(float(v) for v in b) for b in betas),
        sigma=sigma,
        tau=tau,
        pi=tuple(float(p) for p in pi),
        log_likelihood=loglik,
        n_parameters=n_par,
        n_patients=data.n_patients,
        n_observations=data.n_observations,
        bic=loglik - 0.5 * n_par * math.log(data.n_patients),
        bic_obs=loglik - 0.5 * n_par * math.log(data.n_observations),
        fitted=tuple(tuple(float(v) for v in mu[:, j]) for j in range(k)),
        posterior=full,
        assignment=assignment,
        diagnostics=diagnostics,
        converged=bool(result.success),
        message=str(result.message),
        nodes=nodes,
    )


def exact_patient_log_likelihood(
    fit_vector: FloatArray,
    orders: Sequence[int],
    y_row: ArrayLike,
    months: ArrayLike,
    *,
    lower: float = 0.0,
    upper: float = 10.0,
    time_scale: float = 10.0,
) -> float:
    """One patient's log-likelihood by adaptive integration over u (slow; for checking)."""
    from scipy import integrate

    t = np.asarray(months, dtype=float) / time_scale
    layout = _Layout(tuple(orders), tuple(design_matrix(t, o) for o in orders))
    betas, sigma, tau, log_pi = layout.unpack(np.asarray(fit_vector, dtype=float))
    mu = layout.means(betas)
    y = np.asarray(y_row, dtype=float)
    total = 0.0
    for j in range(layout.n_groups):

        def integrand(u: float, j: int = j) -> float:
            cells = _log_cell(y, mu[:, j] + u, sigma, lower, upper).sum()
            return math.exp(cells - 0.5 * (u / tau) ** 2 - LOG_SQRT_2PI - math.log(tau))

        value, _ = integrate.quad(integrand, -12 * tau, 12 * tau, epsabs=0, epsrel=1e-12, limit=500)
        total += math.exp(log_pi[j]) * value
    return math.log(total)
