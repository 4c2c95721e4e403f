"""The trajectory models' shortcuts give what the long way gives.

To the last bit: a start repeated by the seeded starts reuses the first one's run; the mixed
model's ``logsumexp`` is scipy's arithmetic; a mixed fit with no iteration is its start. To the
optimiser's tolerance: a screened start refined from its screening's curvature, and starts
screened to a loose tolerance against every start run to the end.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from analytics.stats.trajectories.fit import optimisation
from analytics.stats.trajectories.fit.starts import start_partitions, vector_from_partition
from analytics.stats.trajectories.mixed_classes import MAXITER_MESSAGE, fit_mixed_classes
from analytics.stats.trajectories.mixed_likelihood import logsumexp
from analytics.stats.trajectories.model import CensoredMixtureLikelihood, prepare_data

MONTHS = np.array([0.0, 0.25, *range(1, 13)])


def _calls(seed: int, n: int = 120) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = rng.choice([2.0, 5.0, 8.0], size=n)[:, None]
    y = np.clip(level - 0.2 * MONTHS + rng.normal(0.0, 1.5, (n, MONTHS.size)), 0.0, 10.0)
    y[rng.random(y.shape) < 0.2] = np.nan
    return y


def _arrays(rng: np.random.Generator) -> list[np.ndarray]:
    arrays = []
    for case in range(60):
        a = rng.normal(size=(rng.integers(1, 30), rng.integers(1, 12))) * 10 ** rng.uniform(-3, 3)
        if case % 3 == 0:
            a[rng.random(a.shape) < 0.3] = -np.inf
        if case % 5 == 0:
            a[rng.random(a.shape) < 0.1] = np.inf
        if case % 7 == 0:
            a[:] = a.flat[0]  # ties for the largest element
        if case % 11 == 0:
            a[rng.random(a.shape) < 0.1] = np.nan
        arrays.append(a)
    return arrays


def _optimum_on_all_patients(data, orders, *, n_starts: int, seed: int) -> optimisation.Optimum:
    """The optimiser as the report runs it, on data too small to be screened on a subsample."""
    return optimisation.optimise(
        data,
        orders,
        n_starts=n_starts,
        seed=seed,
        method="direct",
        max_iter=2000,
        screen_size=4000,
        n_refine=2,
    )


def test_logsumexp_is_scipys_bit_for_bit():
    for a in _arrays(np.random.default_rng(5)):
        for axis in (0, 1):
            expected = special.logsumexp(a, axis=axis)
            assert np.array_equal(logsumexp(a, axis), expected, equal_nan=True)
        assert np.array_equal(logsumexp(a[0], 0), special.logsumexp(a[0]), equal_nan=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repeated_starts_reuse_the_first_run_and_change_nothing(seed, monkeypatch):
    data = prepare_data(_calls(seed), MONTHS)
    orders = (1, 1, 1)
    model = CensoredMixtureLikelihood(data, orders)
    rng = np.random.default_rng([seed, 3, *orders])
    starts = [vector_from_partition(model, p) for p in start_partitions(data, 3, 6, rng)]
    distinct = {s.tobytes() for s in starts}
    assert len(distinct) < len(starts)  # k-means repeats a partition on these calls
    # The long way: every start screened, in order; the best refined from its own screening's
    # curvature, with the runner-up when it is within the margin; the best refit kept unless
    # the runner-up's is higher.
    runs = [optimisation._bfgs(model, s, 400, gtol=optimisation.SCREEN_GTOL) for s in starts]
    ranked = sorted(range(len(runs)), key=lambda i: (-runs[i][0][1], i))
    margin = optimisation.REFINE_MARGIN_PER_1000 * data.n_patients / 1000
    close = runs[ranked[1]][0][1] >= runs[ranked[0]][0][1] - margin
    refits = {
        i: optimisation._bfgs(model, runs[i][0][0], 2000, hess_inv=runs[i][1])[0]
        for i in ranked[: 2 if close else 1]
    }
    best = ranked[0]
    if close and refits[ranked[1]][1] > refits[best][1] + 1e-9:
        best = ranked[1]
    screenings = []
    bfgs = optimisation._bfgs

    def counted(model, start, max_iter, gtol=1e-6, hess_inv=None):
        if gtol == optimisation.SCREEN_GTOL:
            screenings.append(1)
        return bfgs(model, start, max_iter, gtol, hess_inv)

    monkeypatch.setattr(optimisation, "_bfgs", counted)
    optimum = _optimum_on_all_patients(data, orders, n_starts=6, seed=seed)
    assert len(screenings) == len(distinct)
    assert optimum.start_log_likelihoods == tuple(r[0][1] for r in runs)
    assert optimum.best_start == best
    assert np.array_equal(optimum.vector, refits[best][0])
    assert optimum.iterations == sum(r[0][3] for r in runs) + sum(r[3] for r in refits.values())
    assert optimum.evaluations == sum(r[0][4] for r in runs) + sum(r[4] for r in refits.values())


@pytest.mark.parametrize("orders", [(1, 1), (2, 2, 2), (3, 3, 3, 3), (1, 2, 3)])
def test_loose_screening_reaches_the_best_optimum_of_starts_run_to_the_end(orders):
    # Over twenty cohorts per model: the starts screened to a loose tolerance and the survivors
    # refined reach as high a log-likelihood as every start run to the full tolerance, and the
    # optimum found is a stationary point of the full tolerance.
    k = len(orders)
    for seed in range(20):
        data = prepare_data(_calls(100 + seed, n=200), MONTHS)
        model = CensoredMixtureLikelihood(data, orders)
        rng = np.random.default_rng([seed, k, *orders])
        starts = [vector_from_partition(model, p) for p in start_partitions(data, k, 5, rng)]
        longest = max(optimisation._direct(model, s, 2000)[1] for s in starts)
        optimum = _optimum_on_all_patients(data, orders, n_starts=5, seed=seed)
        n = data.n_patients
        assert optimum.log_likelihood >= longest - 1e-7 * n, seed
        assert np.max(np.abs(model.evaluate(optimum.vector).gradient)) / n < 1e-5


def test_a_mixed_fit_with_no_iteration_is_its_start_as_bfgs_leaves_it():
    y = _calls(4)
    fit = fit_mixed_classes(
        y,
        MONTHS,
        (1, 1),
        start_betas=[[3.0, -1.0], [7.0, -1.0]],
        start_sigma=1.2,
        start_tau=0.8,
        start_pi=[0.4, 0.6],
        max_iter=0,
    )
    assert fit.betas == ((3.0, -1.0), (7.0, -1.0))
    assert fit.pi == pytest.approx((0.4, 0.6), abs=1e-15)
    assert fit.iterations == 0
    assert not fit.converged
    left = optimize.minimize(
        lambda v: (float(v @ v), 2 * v),
        np.ones(3),
        jac=True,
        method="BFGS",
        options={"maxiter": 0},
    )
    assert fit.message == MAXITER_MESSAGE == left.message
    assert np.array_equal(left.x, np.ones(3))


@pytest.mark.parametrize(("seed", "orders"), [(0, (2, 2, 2)), (1, (3, 3, 3)), (2, (1, 2, 3))])
def test_a_screened_optimum_is_refined_from_the_screenings_curvature(seed, orders, monkeypatch):
    # 3,000 patients screened on 600: each survivor's refit on the full data starts BFGS from
    # the inverse Hessian its screening ended with. It reaches the optimum the identity start
    # reaches (or a higher point of it), in fewer iterations.
    data = prepare_data(_calls(seed, n=3000), MONTHS)
    model = CensoredMixtureLikelihood(data, orders)
    options = {"n_starts": 4, "seed": seed, "method": "direct", "max_iter": 2000}
    refined: list[tuple[optimisation.Outcome, optimisation.Outcome]] = []
    refine = optimisation._refine

    def both(model, vector, max_iter, runner, curvature):
        assert curvature is not None
        assert curvature.shape == (vector.size, vector.size)
        outcome = refine(model, vector, max_iter, runner, curvature)
        refined.append((outcome, optimisation._direct(model, vector, max_iter)))
        return outcome

    monkeypatch.setattr(optimisation, "_refine", both)
    optimum = optimisation.optimise(data, orders, **options, screen_size=600, n_refine=2)
    assert optimum.screened
    assert refined
    n = data.n_patients
    for warm, cold in refined:
        assert warm[1] >= cold[1] - 1e-7 * n  # per patient, as far up as the identity start
        np.testing.assert_allclose(warm[0], cold[0], atol=2e-3)
        assert warm[3] < cold[3]
    full = model.evaluate(optimum.vector)
    assert np.max(np.abs(full.gradient)) / n < 1e-5
