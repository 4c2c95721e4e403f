"""Random-intercept models fitted together (analytics.stats.mixed.many) against fit_lmm.

Pure: simulated data, no database.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from analytics.stats.mixed import many
from analytics.stats.mixed import model as mixed_model


def grouped_data(seed: int, n_patients: int = 60, sd_u: float = 1.0):
    """Two groups, one set of time effects per group (block-diagonal X), a patient level."""
    rng = np.random.default_rng(seed)
    rows = []
    for patient in range(n_patients):
        arm = patient % 2
        u = rng.normal(0, sd_u)
        for t in range(4):
            if rng.random() < 0.25:
                continue
            rows.append((patient, arm, t, 5 - 0.4 * t * arm + u + rng.normal(0, 1)))
    pid, group, time, y = (np.array(c) for c in zip(*rows, strict=True))
    X = np.zeros((len(y), 8))
    X[np.arange(len(y)), group * 4 + time] = 1.0
    return y, X, pid, group


def blocks_of(y, X, pid, group) -> many.Blocks:
    """Reduce each group's rows (its own four columns) with fit_lmm's reduction."""
    suffs = []
    for g in (0, 1):
        rows = group == g
        columns = np.r_[4 * g : 4 * g + 4]
        suffs.append(mixed_model._sufficient(y[rows], X[rows][:, columns], pid[rows]))
    sizes = np.unique(np.concatenate([s.sizes for s in suffs]))
    between = np.zeros((2, sizes.size, 5, 5))
    counts = np.zeros((2, sizes.size))
    for b, s in enumerate(suffs):
        at = np.searchsorted(sizes, s.sizes)
        between[b, at], counts[b, at] = s.between, s.counts
    return many.Blocks(
        within=np.stack([s.within for s in suffs]),
        between=between,
        sizes=sizes,
        counts=counts,
        n_obs=np.array([s.n_obs for s in suffs]),
        n_params=np.array([4, 4]),
    )


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blocks_give_fit_lmms_likelihood_at_every_ratio(seed, reml):
    y, X, pid, group = grouped_data(seed)
    suff = mixed_model._sufficient(y, X, pid)
    blocks = blocks_of(y, X, pid, group)
    ratios = np.array([0.0, 1e-6, 0.3, 1.0, 7.0, 1e5])
    together = many.loglik_many(blocks, np.array([[0, 1]]), ratios[None, :], reml)[0]
    alone = [mixed_model._profile(suff, g, reml).loglik for g in ratios]
    np.testing.assert_allclose(together, alone, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blocks_fitted_together_give_fit_lmms_estimates(seed):
    y, X, pid, group = grouped_data(seed, sd_u=[1.0, 0.0, 2.0][seed])
    alone = mixed_model.fit_lmm(y, X, pid)
    fitted = many.fit_many(blocks_of(y, X, pid, group), np.array([[0, 1]]))
    # The profiled likelihood is flat to rounding over ~1e-7 of the ratio near its maximum.
    assert fitted.g[0] == pytest.approx(alone.sigma_u2 / alone.sigma_e2, rel=1e-5, abs=1e-12)
    np.testing.assert_allclose(fitted.beta[0].ravel(), alone.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(fitted.variance[0].ravel()), alone.se, rtol=1e-6)
    assert fitted.sigma_e2[0] == pytest.approx(alone.sigma_e2, rel=1e-6)
    assert fitted.converged[0] == alone.converged


def test_a_block_can_belong_to_several_fits_and_padding_adds_nothing():
    y, X, pid, group = grouped_data(3)
    blocks = blocks_of(y, X, pid, group)
    # A third block: the first with its last column made padding (a unit diagonal, no data).
    rows = (group == 0) & (X[:, 3] == 0)
    narrow = mixed_model._sufficient(y[rows], X[rows][:, [0, 1, 2]], pid[rows])
    within = np.eye(5)
    used = np.array([0, 1, 2, 4])
    within[np.ix_(used, used)] = narrow.within
    between = np.zeros((blocks.sizes.size, 5, 5))
    counts = np.zeros(blocks.sizes.size)
    at = np.searchsorted(blocks.sizes, narrow.sizes)
    between[np.ix_(at, used, used)] = narrow.between
    counts[at] = narrow.counts
    three = many.Blocks(
        within=np.concatenate([blocks.within, within[None]]),
        between=np.concatenate([blocks.between, between[None]]),
        sizes=blocks.sizes,
        counts=np.vstack([blocks.counts, counts]),
        n_obs=np.r_[blocks.n_obs, narrow.n_obs],
        n_params=np.r_[blocks.n_params, 3],
    )
    fitted = many.fit_many(three, np.array([[0, 1], [2, 1]]))
    narrow_x = X[:, [0, 1, 2, 4, 5, 6, 7]]
    keep = (group == 1) | rows
    alone = mixed_model.fit_lmm(y[keep], narrow_x[keep], pid[keep])
    np.testing.assert_allclose(
        np.r_[fitted.beta[1, 0, :3], fitted.beta[1, 1]], alone.params, rtol=1e-7, atol=1e-9
    )
    assert fitted.beta[1, 0, 3] == 0.0
    first = mixed_model.fit_lmm(y, X, pid)
    np.testing.assert_allclose(fitted.beta[0].ravel(), first.params, rtol=1e-7, atol=1e-9)


def _functions():
    yield lambda x: (x - 0.3) ** 2, (-1.0, 2.0), 1e-10
    yield lambda x: math.cos(3 * x) + 0.1 * x, (0.0, 4.0), 1e-10
    yield lambda x: abs(x - 1e-3), (0.0, 1e-2), 1e-14  # a kink near the bound
    yield lambda x: x, (0.0, 1.0), 1e-14  # minimum on the bound
    yield lambda x: round((x - 0.5) ** 2, 12), (0.0, 1.0), 1e-10  # flat to rounding


@pytest.mark.parametrize("case", list(range(5)))
def test_the_bounded_search_takes_scipys_steps(case):
    function, bounds, xatol = list(_functions())[case]
    expected = optimize.minimize_scalar(
        function, bounds=bounds, method="bounded", options={"xatol": xatol}
    )
    search = many._bounded(bounds[0], bounds[1], xatol)
    x = next(search)
    steps = 1
    try:
        while True:
            x = search.send(function(x))
            steps += 1
    except StopIteration as stop:
        found, value, flag = stop.value
    assert found == float(expected.x)
    assert value == float(expected.fun)
    assert (flag == 0) == expected.success
    assert steps == expected.nfev


def balanced_data(patient_sd: float):
    """Complete, balanced calls whose patient means spread by ``patient_sd`` exactly."""
    rng = np.random.default_rng(7)
    n, times = 40, 4
    noise = rng.normal(0, 1, (n, times))
    noise -= noise.mean(axis=1, keepdims=True)  # within-patient part only
    level = rng.normal(0, 1, n)
    level = (level - level.mean()) / level.std() * patient_sd
    y = (5 + level[:, None] + noise).ravel()
    pid = np.repeat(np.arange(n), times)
    group = pid % 2
    X = np.zeros((y.size, 8))
    X[np.arange(y.size), group * 4 + np.tile(np.arange(times), n)] = 1.0
    return y, X, pid, group


def test_a_ratio_at_zero_is_kept_at_zero_as_fit_lmm_keeps_it():
    # Patient means that spread less than the calls' noise implies: REML's ratio is 0.
    y, X, pid, group = balanced_data(0.05)
    alone = mixed_model.fit_lmm(y, X, pid)
    together = many.fit_many(blocks_of(y, X, pid, group), np.array([[0, 1]]))
    assert together.g[0] == alone.sigma_u2 == 0.0
    assert together.converged[0] == alone.converged
    np.testing.assert_allclose(together.beta[0].ravel(), alone.params, rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(together.variance[0].ravel()), alone.se, rtol=1e-9)
