"""Time what the second trajectory model adds to a run, on demo cohorts.

Run: nice -n 10 .venv/bin/python bench/trajectory_models.py [--sizes 329 3290] [--seed 0]
     [--divergence-only [--repeat 3]]

For each size a demo cohort is drawn (no database) and its IV patients' observed NPRS fitted by
the paper's group-based model (3 groups, quadratic, 3 starts), as the report does. Then, timed
apart: the latent-class mixed model started at that optimum (``two_models.fit_mixed_from``, on
a seeded subset above its patient cap) and the first divergence over 50 posterior draws of the
model the memberships come from. Printed: the seconds of each, the model chosen and why, and the
claimed (mean posterior) against realised accuracy (share in the true latent group) of both.

With --divergence-only, the mixed model is skipped: the first divergence over the draws is timed
alone (best of --repeat) on the group-based model's posteriors, with the linear algebra library
on one thread as the analysis runs it (ANALYSIS_BLAS_THREADS), and the load average printed.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _accuracy(assigned: np.ndarray, true: np.ndarray) -> float:
    return max(
        float(np.mean(np.asarray(perm)[assigned] == true))
        for perm in itertools.permutations(range(3))
    )


def measure(n: int, seed: int) -> None:
    from calibration import _wide

    from analytics.report.trajectory_models import DIVERGENCE_DRAWS
    from analytics.stats.trajectories import fit_trajectories
    from analytics.stats.trajectories.divergence import first_divergence_over_draws
    from analytics.stats.trajectories.two_models import MIXED, choose_memberships, fit_mixed_from
    from demo.synthetic import generate

    y, true, _responder, months = _wide(generate(n, seed=seed))
    began = time.perf_counter()
    paper = fit_trajectories(y, months, 3, 2, n_starts=3, seed=seed)
    gbtm_s = time.perf_counter() - began
    began = time.perf_counter()
    fitted = fit_mixed_from(paper, y, months, seed=seed)
    mixed_s = time.perf_counter() - began
    choice = choose_memberships(paper, fitted.fit, paper.random_intercept_test)
    posterior = fitted.fit.posterior if choice.model == MIXED else paper.posterior
    ids = np.arange(len(y))
    long = _long(y, months)
    began = time.perf_counter()
    first_divergence_over_draws(
        long, list(ids), posterior, ["T1", "T2", "T3"], draws=DIVERGENCE_DRAWS, seed=seed
    )
    draws_s = time.perf_counter() - began
    print(f"N = {n} demo patients, {len(y)} IV patients fitted")
    print(f"  group-based fit (3 groups, 3 starts): {gbtm_s:.1f} s")
    print(
        f"  mixed model: {mixed_s:.1f} s (estimated on {fitted.fitted_patients} patients, "
        f"converged: {fitted.converged}, Newton step gain "
        f"{fitted.convergence()['newton_step_gain']:.2g}, optimiser: "
        f"{fitted.convergence()['optimiser_message']})"
    )
    print(f"  first divergence over {DIVERGENCE_DRAWS} draws: {draws_s:.1f} s")
    print(f"  memberships from: {choice.model}")
    for name, fit in (("group-based", paper), ("mixed", fitted.fit)):
        claimed = float(np.nanmax(fit.posterior, axis=1).mean())
        print(
            f"  {name}: BIC {fit.bic:.1f}, claimed {claimed:.3f}, "
            f"realised {_accuracy(fit.assignment, true):.3f}"
        )


def _long(y: np.ndarray, months: list[float]) -> pd.DataFrame:
    ids = np.arange(len(y))
    return pd.DataFrame(
        [(i, m, y[i, t]) for i in ids for t, m in enumerate(months)],
        columns=["patient", "month", "nprs"],
    ).dropna()


def measure_divergence(n: int, seed: int, repeat: int) -> None:
    """Time the first divergence over the posterior draws alone, BLAS on one thread."""
    import os

    from calibration import _wide
    from threadpoolctl import threadpool_limits

    from analytics.report.trajectory_models import DIVERGENCE_DRAWS
    from analytics.stats.trajectories import fit_trajectories
    from analytics.stats.trajectories.divergence import first_divergence_over_draws
    from demo.synthetic import generate

    y, _true, _responder, months = _wide(generate(n, seed=seed))
    paper = fit_trajectories(y, months, 3, 2, n_starts=3, seed=seed)
    long = _long(y, months)
    best = float("inf")
    with threadpool_limits(limits=1):
        for _ in range(repeat):
            began = time.perf_counter()
            first_divergence_over_draws(
                long,
                list(range(len(y))),
                paper.posterior,
                ["T1", "T2", "T3"],
                draws=DIVERGENCE_DRAWS,
                seed=seed,
            )
            best = min(best, time.perf_counter() - began)
    print(
        f"N = {n} demo patients, {len(y)} IV patients: first divergence over "
        f"{DIVERGENCE_DRAWS} draws {best:.3f} s (best of {repeat}, BLAS 1 thread, "
        f"load {os.getloadavg()[0]:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[329, 3290])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--divergence-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        if args.divergence_only:
            measure_divergence(n, args.seed, args.repeat)
        else:
            measure(n, args.seed)


if __name__ == "__main__":
    main()
