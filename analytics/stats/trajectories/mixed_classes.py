"""Latent-class mixed trajectory model: groups, a random level per patient, censored at 0-10.

In group j, ``y*_it = X_t beta_j + u_i + e_it`` with ``u_i ~ N(0, tau^2)`` and ``e_it ~ N(0,
sigma^2)``; y is y* censored to [lower, upper] as in the group-based model (model.py). The
random intercept carries the patient's own level, so the calls of a patient are no longer
independent given the group, and the posteriors no longer count each call as fresh evidence.
The integral over ``u`` is computed by adaptive Gauss-Hermite quadrature (``nodes`` points,
centred on each patient's posterior of ``u``); tests check it against adaptive numerical
integration (scipy quad). The likelihood and its gradient are in mixed_likelihood.py.

Options (off by default, which is the model above):

* ``baseline=True``: the baseline call is its own: a baseline mean per group, its own residual
  SD and its own loading on the patient's level (a second random effect, on the baseline call
  only). Patients enter when their pain is high, so the baseline departs from their usual level
  by more, and otherwise, than the later calls do; without the option that departure passes for
  evidence of the group and the posteriors claim more certainty than they have
  (bench/calibration.py).
* ``class_variances=True``: tau, sigma (and the baseline SD and loading) per group: the spread
  of the patients' levels, and how closely they keep to them, differ by group.
* ``rounding=h``: the scores are rounded to a grid of width h (1 for the NPRS), the rounding's
  variance added to the residual's (mixed_likelihood.py); the likelihood is then bounded.

The fit is quasi-Newton (BFGS) with the analytic gradient, from one start: the group-based
model's fit is a natural one (its betas on months / 10, sigma and shares). Whether it ended at
the maximum is judged at the end point (``check_optimum``, CONVERGENCE_CRITERION), not by the
optimiser's message.

Status (bench/calibration.py on the demo): with both options the model's structure is the
demo's (with its parameters estimated on each true group, its posteriors claim the accuracy
they deliver), but fitted without the truth it does not find the demo's groups: T1 holds two
forms (patients whose pain falls to a floor, and the others) and T2 and T3 overlap, so the
maximum likelihood splits the patients otherwise and its posteriors still claim more than they
deliver. The same happens on calls drawn from the fitted model itself at the demo's size: the
groups are weakly identified there, whatever the model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from .diagnostics import AdequacyThresholds, Diagnostics, diagnose
from .mixed_likelihood import (
    DEFAULT_NODES,
    _Data,
    _Layout,
    exact_patient_log_likelihood,
    log_terms_and_gradient,
    logsumexp,
    make_layout,
    node_positions,
    patient_log_terms,
)
from .model import dataclass_dict, prepare_data

FloatArray = NDArray[np.float64]
FIXED_ROUNDS = 2
# The verdict on the optimum (``check_optimum``): the log-likelihood is concave at the end point
# and a Newton step from there (or a half, quarter or eighth of it) raises it by less than this.
NEWTON_GAIN_TOLERANCE = 1e-3
NEWTON_FRACTIONS = (1.0, 0.5, 0.25, 0.125)
HESSIAN_STEP = 1e-5  # of the central differences of the gradient
# scipy's BFGS message when it stops at its iteration limit (as it does at once for none).
MAXITER_MESSAGE = "Maximum number of iterations has been exceeded."
CONVERGENCE_CRITERION = (
    "converged when, at the end point, the log-likelihood is concave (its Hessian, by central "
    "differences of the analytic gradient, negative definite) and a Newton step from there, "
    "or 1/2, 1/4 or 1/8 of it, raises the log-likelihood by less than "
    f"{NEWTON_GAIN_TOLERANCE:g}; the optimiser's own message is kept beside the verdict "
    "(BFGS often stops on 'precision loss' at the optimum: the adaptive quadrature's nodes "
    "move with the parameters, so its gradient is not exactly that of the objective)"
)

__all__ = [
    "DEFAULT_NODES",
    "MixedClassFit",
    "_Layout",
    "exact_patient_log_likelihood",
    "fit_mixed_classes",
    "patient_log_terms",
]


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
    baseline: bool = False
    class_variances: bool = False
    rounding: float = 0.0  # width the scores are rounded to (0: taken as exact)
    # Per group (all equal unless class_variances); the baseline ones NaN without that option.
    taus: tuple[float, ...] = ()
    sigmas: tuple[float, ...] = ()
    sigmas_baseline: tuple[float, ...] = ()  # residual SD of the baseline call
    loadings_baseline: tuple[float, ...] = ()  # the baseline call's loading on the level
    iterations: int = 0
    max_gradient: float = math.nan  # largest |gradient| per patient at the end point
    newton_gain: float = math.nan  # log-likelihood a Newton step should add (quadratic model)
    newton_step_gain: float = math.nan  # what the best fraction of that step adds
    least_curvature: float = math.nan  # smallest eigenvalue of minus the Hessian there
    rounds: int = 0  # BFGS rounds (nodes placed once each, then a last one with nodes moving)
    seconds: float = 0.0

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
    layout: _Layout,
    start_betas: Sequence[ArrayLike] | None,
    start_sigma: float,
    start_tau: float,
    start_pi: ArrayLike | None,
) -> FloatArray:
    """Return the packed start: given betas (else flat curves at spread levels), sigma, tau, pi.

    A start beta shorter than its group's design (no baseline term) gets zeros appended.
    """
    k = layout.n_groups
    if start_betas is None:
        levels = np.nanpercentile(y, np.linspace(20, 80, k))
        start_betas = [np.r_[level] for level in levels]
    betas = []
    for b, d in zip(start_betas, layout.designs, strict=True):
        b = np.asarray(b, dtype=float).ravel()
        betas.append(np.r_[b, np.zeros(d.shape[1] - b.size)])
    pi0 = np.full(k, 1.0 / k) if start_pi is None else np.asarray(start_pi, dtype=float)
    block = [math.log(start_sigma), math.log(start_tau)]
    if layout.baseline is not None:
        block += [math.log(start_sigma), 0.5]
    blocks = block * (k if layout.class_variances else 1)
    return np.concatenate([*betas, blocks, np.log(pi0[1:]) - math.log(pi0[0])])


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
    baseline: bool = False,
    class_variances: bool = False,
    rounding: float = 0.0,
) -> MixedClassFit:
    """Fit the model by quasi-Newton maximum likelihood from the given start.

    A natural start is the group-based model's fit (its betas on months / 10, sigma, shares):
    the random intercept then takes the part of sigma that is a patient's own level.
    """
    began = time.perf_counter()
    data = prepare_data(y, months, lower=lower, upper=upper)
    layout = make_layout(
        data.scaled_times, tuple(int(o) for o in orders), baseline, class_variances, rounding
    )
    start = _start_vector(data.y, layout, start_betas, start_sigma, start_tau, start_pi)
    cells = _Data.of(data.y, lower, upper, rounding)

    result, rounds = _maximise(start, layout, cells, nodes, max_iter)
    return _result(result, layout, data, nodes, thresholds, began, rounds)


@dataclass(frozen=True)
class OptimumCheck:
    """How close the end point of a fit is to a maximum of the likelihood."""

    max_gradient: float  # largest |d log-likelihood / d parameter| per patient
    least_curvature: float  # smallest eigenvalue of -H (> 0: a maximum, not a saddle)
    newton_gain: float  # g'(-H)^-1 g / 2: what a Newton step should add, were the model quadratic
    newton_step_gain: float  # what the best fraction of that step adds to the log-likelihood

    @property
    def converged(self) -> bool:
        return bool(self.least_curvature > 0 and self.newton_step_gain < NEWTON_GAIN_TOLERANCE)


def _gradient_at_nodes(
    layout: _Layout, cells: _Data, nodes: int, fixed: Any
) -> Callable[[FloatArray], FloatArray]:
    """The analytic gradient of the log-likelihood with the quadrature's nodes held at ``fixed``."""

    def gradient(v: FloatArray) -> FloatArray:
        _, grad = log_terms_and_gradient(v, layout, cells, nodes, True, fixed)
        return np.asarray(grad, dtype=np.float64)

    return gradient


def _information(vector: FloatArray, gradient: Callable[[FloatArray], FloatArray]) -> FloatArray:
    """Minus the Hessian at ``vector``: central differences of ``gradient``, symmetrised."""
    hessian = np.empty((vector.size, vector.size))
    for i in range(vector.size):
        step = np.zeros(vector.size)
        step[i] = HESSIAN_STEP
        hessian[:, i] = (gradient(vector + step) - gradient(vector - step)) / (2 * HESSIAN_STEP)
    return -(hessian + hessian.T) / 2.0


def information_matrix(vector: FloatArray, layout: _Layout, cells: _Data, nodes: int) -> FloatArray:
    """Minus the Hessian of the log-likelihood at ``vector`` (the nodes placed there once), as
    ``check_optimum`` judges the optimum by."""
    fixed = node_positions(vector, layout, cells, nodes)
    return _information(vector, _gradient_at_nodes(layout, cells, nodes, fixed))


def check_optimum(vector: FloatArray, layout: _Layout, cells: _Data, nodes: int) -> OptimumCheck:
    """Return the gradient, curvature and Newton gains of the log-likelihood at ``vector``.

    The nodes are placed once at ``vector``, so the gradient is exact for the quadrature there
    and the Hessian is its central differences. That quadrature is the adaptive one only at
    ``vector``: the Newton step is therefore tried on the adaptive log-likelihood itself.
    """
    fixed = node_positions(vector, layout, cells, nodes)
    gradient = _gradient_at_nodes(layout, cells, nodes, fixed)

    def log_likelihood(v: FloatArray) -> float:
        try:
            with np.errstate(all="ignore"):
                terms, _ = log_terms_and_gradient(v, layout, cells, nodes, False)
        except (ValueError, OverflowError, ZeroDivisionError):
            return -math.inf  # a trial step out of the parameter space
        return float(logsumexp(terms, 1).sum())

    g = gradient(vector)
    curvature = _information(vector, gradient)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(curvature))):
        return OptimumCheck(math.inf, math.nan, math.inf, math.inf)
    least = float(np.linalg.eigvalsh(curvature)[0])
    max_gradient = float(np.max(np.abs(g))) / cells.y.shape[0]
    if least <= 0:
        return OptimumCheck(max_gradient, least, math.inf, math.inf)
    newton = np.linalg.solve(curvature, g)
    start = log_likelihood(vector)
    rises = [log_likelihood(vector + t * newton) - start for t in NEWTON_FRACTIONS]
    rise = max((r for r in rises if math.isfinite(r)), default=math.inf)
    return OptimumCheck(max_gradient, least, float(g @ newton) / 2.0, rise)


def negative_log_likelihood(
    vector: FloatArray, layout: _Layout, cells: _Data, nodes: int, fixed: Any = None
) -> tuple[float, FloatArray]:
    """Return minus the log-likelihood and its gradient, for the optimiser.

    A point where either is not finite (a line search probing far out: a variance that
    underflows to 0 or overflows) is returned as a huge value with a zero gradient, so the
    search steps back instead of failing.
    """
    failed = 1e300, np.zeros_like(vector)
    try:
        with np.errstate(all="ignore"):
            terms, grad = log_terms_and_gradient(vector, layout, cells, nodes, True, fixed)
    except (ValueError, OverflowError, ZeroDivisionError):
        return failed
    value = -float(logsumexp(terms, 1).sum())
    if not math.isfinite(value) or grad is None or not np.all(np.isfinite(grad)):
        return failed
    return value, -grad


def _maximise(
    start: FloatArray, layout: _Layout, cells: _Data, nodes: int, max_iter: int
) -> tuple[Any, int]:
    """BFGS on the quadrature with its nodes placed once per round, then with nodes that move.

    Within a fixed round the objective is a smooth function and its gradient exact: robust far
    from the optimum, but the nodes lag behind the patients' posteriors and the fit creeps. The
    last round lets the nodes follow the parameters (adaptive quadrature) with the gradient at
    fixed nodes, which differs from the true one by the derivative of the quadrature error, so
    BFGS often ends there on "precision loss". Whether the end point is the optimum is then
    decided apart, by ``check_optimum`` (CONVERGENCE_CRITERION), not by the optimiser's message.
    """
    if max_iter == 0:
        # No iteration: every round would return its start, so the fit is the start itself
        # (with BFGS's message for a run stopped at its iteration limit), and no verdict.
        unchecked = OptimumCheck(math.nan, math.nan, math.nan, math.nan)
        at_start = optimize.OptimizeResult(
            x=np.array(start, dtype=np.float64), nit=0, message=MAXITER_MESSAGE
        )
        at_start.check, at_start.success = unchecked, unchecked.converged
        return at_start, FIXED_ROUNDS + 1
    vector, iterations = start, 0
    for round_ in range(FIXED_ROUNDS + 1):
        fixed = node_positions(vector, layout, cells, nodes) if round_ < FIXED_ROUNDS else None

        result = optimize.minimize(
            negative_log_likelihood,
            vector,
            args=(layout, cells, nodes, fixed),
            jac=True,
            method="BFGS",
            options={"maxiter": max_iter, "gtol": 1e-4},
        )
        iterations += result.nit
        vector = result.x
    result.nit = iterations
    result.check = check_optimum(vector, layout, cells, nodes)
    result.success = result.check.converged
    return result, FIXED_ROUNDS + 1


def _result(
    result: Any,
    layout: _Layout,
    data: Any,
    nodes: int,
    thresholds: AdequacyThresholds | None,
    began: float,
    rounds: int,
) -> MixedClassFit:
    """Package the optimum: groups ordered by fitted baseline, posteriors, diagnostics."""
    p = layout.unpack(result.x)
    terms = patient_log_terms(result.x, layout, data.y, data.lower, data.upper, nodes)
    loglik = float(logsumexp(terms, 1).sum())
    post = np.exp(terms - logsumexp(terms, 1)[:, None])
    mu = layout.means(p.betas)
    order = np.argsort(mu[0])  # T1 = lowest fitted baseline
    post, pi, mu = post[:, order], np.exp(p.log_pi)[order], mu[:, order]
    k = layout.n_groups
    diagnostics = diagnose(post, pi, thresholds, tuple(f"T{j + 1}" for j in range(k)))
    full, assignment = _all_rows(data.included, post)
    taus, sigmas = p.tau[order], p.sigma[order]
    n_par = layout.size
    on = layout.baseline
    nan = np.full(k, math.nan)
    return MixedClassFit(
        n_groups=k,
        orders=tuple(layout.orders[j] for j in order),
        months=tuple(float(m) for m in data.months),
        betas=tuple(tuple(float(v) for v in p.betas[j]) for j in order),
        sigma=float(np.sqrt(np.sum(pi * sigmas**2))),
        tau=float(np.sqrt(np.sum(pi * taus**2))),
        pi=tuple(float(v) for v in pi),
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
        baseline=on is not None,
        class_variances=layout.class_variances,
        rounding=layout.rounding,
        taus=tuple(float(v) for v in taus),
        sigmas=tuple(float(v) for v in sigmas),
        sigmas_baseline=tuple(float(v) for v in (nan if on is None else p.latent_scale[order, on])),
        loadings_baseline=tuple(float(v) for v in (nan if on is None else p.loading[order, on])),
        iterations=int(result.nit),
        rounds=rounds,
        max_gradient=result.check.max_gradient,
        newton_gain=result.check.newton_gain,
        newton_step_gain=result.check.newton_step_gain,
        least_curvature=result.check.least_curvature,
        seconds=time.perf_counter() - began,
    )
