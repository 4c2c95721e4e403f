"""The likelihood's pass over patients grouped by observed-time mask (masks.py) gives what the
dense pass over every feature row gives: the same evaluation up to rounding, the same fits."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.stats.trajectories import model as model_module
from analytics.stats.trajectories.fit import fit_prepared
from analytics.stats.trajectories.model import CensoredMixtureLikelihood, prepare_data

MONTHS = np.array([0.0, 0.25, *range(1, 13)])


def _calls(seed: int, n: int) -> np.ndarray:
    """Three trajectories with calls at both bounds and 20% of calls missing."""
    rng = np.random.default_rng(seed)
    level = rng.choice([1.5, 5.0, 8.5], size=n, p=[0.3, 0.4, 0.3])[:, None]
    slope = rng.choice([-0.3, 0.0, 0.15], size=n)[:, None]
    y = level + slope * MONTHS + rng.normal(0.0, 1.8, (n, MONTHS.size))
    y = np.clip(np.round(y, 1), 0.0, 10.0)
    y[rng.random(y.shape) < 0.2] = np.nan
    return y


def _vector(model: CensoredMixtureLikelihood, rng: np.random.Generator) -> np.ndarray:
    betas = [
        rng.normal([3.0 + 2.5 * j, -1.0, 0.5, 0.1][: p + 1], 0.3)
        for j, p in enumerate(model.orders)
    ]
    return model.pack(betas, 1.7, rng.normal(size=model.n_groups))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("orders", [(2,), (1, 3), (3, 2, 1, 2, 3)])
def test_masked_evaluation_equals_the_dense_one(seed, orders, monkeypatch):
    data = prepare_data(_calls(seed, 700), MONTHS)
    assert data.features[: MONTHS.size].sum() > 100  # calls at the lower bound
    assert data.features[MONTHS.size : 2 * MONTHS.size].sum() > 100  # and at the upper
    model = CensoredMixtureLikelihood(data, orders)
    vector = _vector(model, np.random.default_rng(seed))
    monkeypatch.setattr(model_module, "MASKED_FROM", 10**9)
    dense = model.evaluate(vector)
    monkeypatch.setattr(model_module, "MASKED_FROM", 0)
    masked = model.evaluate(vector)
    assert masked.log_likelihood == pytest.approx(dense.log_likelihood, rel=1e-13)
    scale = np.max(np.abs(dense.gradient))
    assert np.max(np.abs(masked.gradient - dense.gradient)) < 1e-11 * scale
    assert np.max(np.abs(masked.posterior - dense.posterior)) < 1e-12
    assert np.max(np.abs(masked.patient_log_likelihood - dense.patient_log_likelihood)) < 1e-12


@pytest.mark.parametrize("seed", [3, 4])
def test_fits_through_the_masked_pass_equal_the_dense_ones(seed, monkeypatch):
    data = prepare_data(_calls(seed, 900), MONTHS)
    fits = {}
    for threshold in (10**9, 0):
        monkeypatch.setattr(model_module, "MASKED_FROM", threshold)
        fits[threshold] = [fit_prepared(data, k, 2, n_starts=3, seed=seed) for k in (1, 3)]
    for dense, masked in zip(fits[10**9], fits[0], strict=True):
        assert masked.log_likelihood == pytest.approx(dense.log_likelihood, abs=1e-6)
        assert masked.bic == pytest.approx(dense.bic, abs=1e-6)
        estimates = [[c.estimate for c in g.coefficients] for g in dense.groups]
        assert [[c.estimate for c in g.coefficients] for g in masked.groups] == [
            pytest.approx(e, abs=1e-5) for e in estimates
        ]
        assert masked.sigma == pytest.approx(dense.sigma, abs=1e-5)
        assert np.max(np.abs(masked.posterior - dense.posterior)) < 1e-5
        assert np.array_equal(masked.assignment, dense.assignment)
