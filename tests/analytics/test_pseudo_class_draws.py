"""The pseudo-class tests computed for all draws at once equal scipy's, draw by draw."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from analytics.stats.trajectories.comparison import anova_over_draws, chi_square_over_draws


def _anova_reference(values, samples):
    out = []
    for groups in samples:
        ok = np.isfinite(values)
        parts = [values[ok & (groups == g)] for g in np.unique(groups[ok])]
        parts = [p for p in parts if p.size > 0]
        out.append(stats.f_oneway(*parts).pvalue if len(parts) > 1 else float("nan"))
    return np.asarray(out, dtype=float)


def _chi_reference(flags, samples, k):
    out = []
    for groups in samples:
        table = np.zeros((k, 2))
        np.add.at(table, (groups, flags.astype(int)), 1)
        table = table[table.sum(axis=1) > 0]
        table = table[:, table.sum(axis=0) > 0]
        if min(table.shape) < 2:
            out.append(float("nan"))
        else:
            out.append(stats.chi2_contingency(table, correction=False)[1])
    return np.asarray(out, dtype=float)


def _samples(rng, draws, n, k, rare=False):
    p = np.array([0.02, 0.49, 0.49]) if rare else np.full(k, 1.0 / k)
    return rng.choice(k, size=(draws, n), p=p[:k] / p[:k].sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_anova_over_draws_equals_scipy_draw_by_draw(seed):
    rng = np.random.default_rng(seed)
    n, k = 120, 3
    values = rng.normal(5.0, 2.0, n) + rng.integers(0, 2, n)
    values[rng.random(n) < 0.1] = np.nan
    samples = _samples(rng, 40, n, k, rare=seed == 2)
    got = np.asarray(anova_over_draws(values, samples, k))
    want = _anova_reference(values, samples)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-14)


def test_anova_edge_cases_follow_scipy():
    # constant within groups (no spread: scipy decides), one group only (NaN)
    values = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
    samples = np.array([[0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 0, 1]])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _anova_reference(values, samples)
        got = np.asarray(anova_over_draws(values, samples, 3))
    assert np.isnan(want[1])  # one group only
    assert want[0] == 0.0  # no spread within groups: scipy's P of 0
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chi_square_over_draws_equals_scipy_draw_by_draw(seed):
    rng = np.random.default_rng(seed)
    n, k = 90, 3
    flags = rng.random(n) < (0.05 if seed == 1 else 0.4)
    samples = _samples(rng, 40, n, k, rare=seed == 2)
    got = np.asarray(chi_square_over_draws(flags, samples, k))
    want = _chi_reference(flags, samples, k)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-9, atol=1e-14)


def test_chi_square_with_one_flag_value_is_nan():
    samples = np.array([[0, 1, 2, 0, 1, 2]])
    assert np.isnan(chi_square_over_draws(np.zeros(6, dtype=bool), samples, 3)[0])
