"""Maximising the likelihood from seeded starts: BFGS or EM. With BFGS the starts are screened
(run to a loose tolerance, on a subsample when the data are large) and the survivors refined on
the full data from the inverse Hessian their screening ended with."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from ..model import CensoredMixtureLikelihood, FloatArray, PreparedData
from .starts import start_partitions, vector_from_partition

Method = Literal["direct", "em"]

Outcome = tuple[FloatArray, float, str, int, int]  # vector, logL, message, iterations, evals

# Screening log-likelihood gap (per 1000 patients) within which a runner-up start is refitted.
REFINE_MARGIN_PER_1000 = 0.5
# Per-patient gradient at which a screening run stops. It saves the last iterations of every
# start but the survivors. Looser is not safe: on nearly flat likelihoods (four cubic groups on
# 200 patients) a start still climbs by several log-likelihood units below 1e-3, and at 1e-3 the
# best start was sometimes ranked last.
SCREEN_GTOL = 1e-5


@dataclass(frozen=True, eq=False)
class Optimum:
    """The best optimum of the seeded starts, and how it was reached."""

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


def _bfgs(
    model: CensoredMixtureLikelihood,
    start: FloatArray,
    max_iter: int,
    gtol: float = 1e-6,
    hess_inv: FloatArray | None = None,
) -> tuple[Outcome, FloatArray | None]:
    """Maximise the log-likelihood by BFGS on the per-patient scale; the outcome and the final
    inverse-Hessian approximation.

    With at most a few dozen parameters a dense BFGS is cheap; L-BFGS-B spent most of its time in
    small threaded LAPACK calls on a busy machine. Sigma and theta are unconstrained (log sigma,
    logits), so no bounds are needed. ``hess_inv`` starts the approximation somewhere better than
    the identity: the per-patient scale makes a subsample's usable on the full data.
    """
    n = model.data.n_patients

    def objective(x: FloatArray) -> tuple[float, FloatArray]:
        result = model.evaluate(x)
        return -result.log_likelihood / n, -result.gradient / n

    options: dict[str, Any] = {"maxiter": max_iter, "gtol": gtol}
    if hess_inv is not None:
        options["hess_inv0"] = hess_inv
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        res = optimize.minimize(objective, start, jac=True, method="BFGS", options=options)
    outcome = np.asarray(res.x), -float(res.fun) * n, str(res.message), int(res.nit), int(res.nfev)
    return outcome, _positive_definite(getattr(res, "hess_inv", None))


def _positive_definite(matrix: Any) -> FloatArray | None:
    """Return the matrix if it is a finite, symmetric positive-definite one, else None."""
    if matrix is None:
        return None
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or not np.all(np.isfinite(matrix)):
        return None
    matrix = (matrix + matrix.T) / 2.0
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return None
    return matrix


def _direct(
    model: CensoredMixtureLikelihood, start: FloatArray, max_iter: int, gtol: float = 1e-6
) -> Outcome:
    """Maximise the log-likelihood by BFGS from the identity (``_bfgs``)."""
    return _bfgs(model, start, max_iter, gtol)[0]


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


def _run_starts(
    screen_model: CensoredMixtureLikelihood,
    partitions: Sequence[Any],
    runner: Any,
    max_iter: int,
    screening_direct: bool,
) -> tuple[list[tuple[float, int, FloatArray]], dict[int, Outcome], dict[int, Any], int, int]:
    """Run every start; return (logL, index, vector) per start, the outcomes, the screening's
    inverse-Hessian approximations (by start, for the refinement) and the counts.

    A start equal to an earlier one (k-means often finds the same partition) runs the same
    deterministic optimisation: its outcome is reused, and counted as run.
    """
    iterations = evaluations = 0
    candidates: list[tuple[float, int, FloatArray]] = []
    outcomes: dict[int, Outcome] = {}
    curvatures: dict[int, Any] = {}
    runs: dict[bytes, tuple[Outcome, Any]] = {}
    for index, labels in enumerate(partitions):
        start = vector_from_partition(screen_model, labels)
        run = runs.get(start.tobytes())
        if run is None:
            if screening_direct:
                # Screening only ranks starts; the refinement tightens the survivors.
                run = _bfgs(screen_model, start, min(max_iter, 400), gtol=SCREEN_GTOL)
            else:
                run = runner(screen_model, start, max_iter), None
            runs[start.tobytes()] = run
        outcome, curvatures[index] = run
        iterations += outcome[3]
        evaluations += outcome[4]
        candidates.append((outcome[1], index, outcome[0]))
        outcomes[index] = outcome
    return candidates, outcomes, curvatures, iterations, evaluations


def _refine(
    model: CensoredMixtureLikelihood, vector: FloatArray, max_iter: int, runner: Any, curvature: Any
) -> Outcome:
    """Carry a screened optimum to the full data: BFGS from the screening's inverse Hessian
    (the per-patient objectives of the two are nearly the same function), else ``runner``."""
    if curvature is None:
        return runner(model, vector, max_iter)
    return _bfgs(model, vector, max_iter, hess_inv=curvature)[0]


def optimise(
    data: PreparedData,
    orders: Sequence[int],
    *,
    n_starts: int,
    seed: int,
    method: Method,
    max_iter: int,
    screen_size: int,
    n_refine: int,
) -> Optimum:
    """Run seeded starts and keep the best optimum.

    With several starts, BFGS runs each only to a loose tolerance and carries the `n_refine` best
    (those the screening cannot tell from the best) to the full tolerance. On large data the
    screening runs on a seeded subsample of `screen_size` patients: the per-patient objective of
    a subsample has nearly the same optima, so this saves most full-data evaluations. EM runs
    every start to the end, screened on the subsample only.
    """
    began = time.perf_counter()
    model = CensoredMixtureLikelihood(data, orders)
    rng = np.random.default_rng([seed, model.n_groups, *model.orders])
    runner = _direct if method == "direct" else _em
    several = model.n_groups > 1 and n_starts > 1
    subsampled = several and data.n_patients > screen_size
    if subsampled:
        rows = np.sort(rng.choice(data.n_patients, size=screen_size, replace=False))
        screen_model = CensoredMixtureLikelihood(subsample(data, rows), orders)
    else:
        screen_model = model
    loose = several and method == "direct"
    partitions = start_partitions(screen_model.data, model.n_groups, max(n_starts, 1), rng)
    candidates, outcomes, curvatures, iterations, evaluations = _run_starts(
        screen_model, partitions, runner, max_iter, loose
    )
    start_lls = tuple(c[0] for c in candidates)
    # Stable sort on -logL: ties resolve to the earliest start so a seed gives one answer.
    ranked = sorted(candidates, key=lambda c: -c[0])
    if subsampled or loose:
        # Runners-up are refitted only if the screening cannot tell them apart from the best.
        margin = REFINE_MARGIN_PER_1000 * screen_model.data.n_patients / 1000
        ranked = [ranked[0]] + [c for c in ranked[1:] if c[0] >= ranked[0][0] - margin]
        refits: dict[bytes, Outcome] = {}
        for _, index, vector in ranked[: max(n_refine, 1)]:
            outcome = refits.get(vector.tobytes()) or _refine(
                model, vector, max_iter, runner, curvatures[index]
            )
            refits[vector.tobytes()] = outcome
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
    return Optimum(
        model=model,
        vector=best[0],
        log_likelihood=best[1],
        method=method,
        message=best[2],
        iterations=iterations,
        evaluations=evaluations,
        start_log_likelihoods=start_lls,
        best_start=best_start,
        screened=subsampled,
        seconds=time.perf_counter() - began,
    )
