"""Tests of the latent-class mixed model with rounded scores (``rounding``): its likelihood against
numerical integration and against the exact likelihood of rounded scores, and the ceiling it puts
on the likelihood of patients who give the same score at every call (its gradient is tested
with the other options', in test_mixed_classes.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from analytics.stats.trajectories.mixed_classes import fit_mixed_classes
from analytics.stats.trajectories.mixed_likelihood import (
    exact_patient_log_likelihood,
    make_layout,
    patient_log_terms,
)

MONTHS = np.array([0.0, 0.25, *range(1, 13)])
T = MONTHS / 10.0
ORDERS = (2, 1, 2)


def _vector(log_sigma: float = math.log(0.8)) -> np.ndarray:
    """Betas with a baseline term, one variance block (shared), shares."""
    betas = [[3.0, -2.0, 1.2, 2.5], [5.5, -0.4, 1.5], [7.5, 0.8, -0.5, 0.9]]
    block = [log_sigma, math.log(1.4), math.log(1.6), 0.3]
    return np.concatenate([*map(np.asarray, betas), block, [0.9, 0.6]])


def _scores(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.clip(np.rint(rng.normal(6.0, 3.5, (n, MONTHS.size))), 0.0, 10.0)
    y[rng.random(y.shape) < 0.2] = np.nan
    return y


def _drawn(vector: np.ndarray, seed: int, n: int) -> np.ndarray:
    """Integer scores drawn from the model at ``vector`` (latent values rounded, clipped)."""
    rng = np.random.default_rng(seed)
    p = make_layout(T, ORDERS, True, False, rounding=1.0).unpack(vector)
    mu = make_layout(T, ORDERS, True, False).means(p.betas)
    group = rng.choice(3, size=n, p=np.exp(p.log_pi))
    u = rng.standard_normal(n) * p.tau[group]
    latent = mu[:, group].T + p.loading[group] * u[:, None]
    latent += rng.standard_normal(latent.shape) * p.latent_scale[group]
    y = np.clip(np.rint(latent), 0.0, 10.0)
    y[rng.random(y.shape) < 0.2] = np.nan
    return y


def test_quadrature_matches_adaptive_integration_of_the_model_to_1e_6():
    layout = make_layout(T, ORDERS, True, False, rounding=1.0)
    y = _scores(3, 20)
    assert np.nanmean((y == 0) | (y == 10)) > 0.1  # censored cells shape the integrand
    fast = special.logsumexp(patient_log_terms(_vector(), layout, y, 0.0, 10.0), axis=1)
    slow = [
        exact_patient_log_likelihood(_vector(), ORDERS, row, MONTHS, baseline=True, rounding=1.0)
        for row in y
    ]
    assert np.max(np.abs(fast - np.array(slow))) < 1e-6


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("sigma", [0.6, 0.9, 1.5])
def test_the_correction_is_close_to_the_exact_likelihood_of_rounded_scores(sigma):
    """Per call, the corrected likelihood is within 0.01 of the exact rounded one (and nearer
    than the likelihood that takes the scores as exact values) for latent SDs of 0.6 and up."""
    v = _vector(math.log(sigma))
    y = _drawn(v, 8, 12)
    calls = np.sum(~np.isnan(y))

    def per_call(**options) -> np.ndarray:
        return np.array(
            [
                exact_patient_log_likelihood(v, ORDERS, row, MONTHS, baseline=True, **options)
                for row in y
            ]
        )

    exact = per_call(rounding=1.0, interval=True)
    corrected = per_call(rounding=1.0)
    as_exact_values = per_call()
    assert abs(np.sum(corrected - exact)) / calls < 0.01
    assert abs(np.sum(corrected - exact)) < abs(np.sum(as_exact_values - exact))


def test_the_likelihood_of_a_constant_score_is_bounded_with_rounding_only():
    """Patients giving 5 at every call, in a flat group: as sigma goes to 0 the likelihood of
    exact values grows without bound; that of rounded scores levels off below its ceiling."""
    months = MONTHS[1:]  # follow-up calls only: no baseline term
    t = months / 10.0
    y = np.full((30, months.size), 5.0)
    ceiling = -math.log(math.sqrt(2 * math.pi) / math.sqrt(12.0)) * y.size

    def total(rounding: float, sigma: float) -> float:
        layout = make_layout(t, (0,), False, False, rounding=rounding)
        v = np.r_[5.0, math.log(sigma), math.log(0.5)]
        return float(patient_log_terms(v, layout, y, 0.0, 10.0).sum())

    exact = [total(0.0, s) for s in (1e-1, 1e-3, 1e-6)]
    rounded = [total(1.0, s) for s in (1e-1, 1e-3, 1e-6)]
    assert exact[2] - exact[1] > y.size * 6.0  # about log(1000) per call
    assert rounded[2] - rounded[1] < 1e-4 * y.size
    assert max(rounded) < ceiling


def test_fit_reports_the_latent_sd_and_its_option():
    rng = np.random.default_rng(4)
    n = 400
    group = rng.random(n) < 0.5
    level = np.where(group, 2.5, 7.0) + rng.normal(0.0, 1.0, n)
    latent = level[:, None] + rng.normal(0.0, 0.6, (n, MONTHS.size))
    y = np.clip(np.rint(latent), 0.0, 10.0)
    kept = fit_mixed_classes(y, MONTHS, (0, 0), start_betas=[[2.0], [7.5]], rounding=1.0)
    taken = fit_mixed_classes(y, MONTHS, (0, 0), start_betas=[[2.0], [7.5]])
    assert kept.rounding == 1.0
    assert taken.rounding == 0.0
    # The rounding's own spread (SD 0.29) is not counted in the latent SD with the option.
    assert kept.sigma == pytest.approx(0.6, abs=0.05)
    assert taken.sigma == pytest.approx(math.sqrt(0.36 + 1 / 12), abs=0.05)
