"""Tests of the latent-class mixed trajectory model's options: the baseline call of its own and
the variances by group (likelihood against numerical integration, gradient, fit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from analytics.stats.trajectories.mixed_classes import fit_mixed_classes, negative_log_likelihood
from analytics.stats.trajectories.mixed_likelihood import (
    _Data,
    exact_patient_log_likelihood,
    log_terms_and_gradient,
    make_layout,
    patient_log_terms,
)

MONTHS = np.array([0.0, 0.25, *range(1, 13)])
T = MONTHS / 10.0
ORDERS = (2, 1, 2)


def _vector(class_variances: bool) -> np.ndarray:
    """Betas (with a baseline term), variance blocks, shares: distinct values for each group."""
    betas = [[3.0, -2.0, 1.2, 2.5], [5.5, -0.4, 1.5], [7.5, 0.8, -0.5, 0.9]]
    blocks = [[math.log(0.8), math.log(1.4), math.log(1.6), 0.3]]
    if class_variances:
        blocks += [[math.log(0.6), math.log(0.5), math.log(1.1), 0.7]]
        blocks += [[math.log(1.0), math.log(1.8), math.log(2.0), -0.2]]
    return np.concatenate([*map(np.asarray, betas), *map(np.asarray, blocks), [0.9, 0.6]])


def _calls(seed: int, n: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.clip(np.rint(rng.normal(6.0, 4.0, (n, MONTHS.size))), 0.0, 10.0)
    y[rng.random(y.shape) < 0.2] = np.nan
    y[0, 1:] = np.nan  # a patient seen at baseline only
    y[1, 0] = np.nan  # and one never seen at baseline
    return y


@pytest.mark.parametrize("class_variances", [False, True])
def test_baseline_likelihood_matches_adaptive_integration_to_1e_6(class_variances):
    layout = make_layout(T, ORDERS, True, class_variances)
    vector = _vector(class_variances)
    assert vector.size == layout.size
    y = _calls(17)
    assert np.nanmean((y == 0) | (y == 10)) > 0.15  # censored cells shape the integrand
    fast = special.logsumexp(patient_log_terms(vector, layout, y, 0.0, 10.0), axis=1)
    slow = np.array(
        [
            exact_patient_log_likelihood(
                vector, ORDERS, row, MONTHS, baseline=True, class_variances=class_variances
            )
            for row in y
        ]
    )
    assert np.max(np.abs(fast - slow)) < 1e-6


def test_variances_by_group_reduce_to_shared_ones_when_equal():
    shared, by_group = make_layout(T, ORDERS, True, False), make_layout(T, ORDERS, True, True)
    v = _vector(False)
    block = v[11:15]
    w = np.r_[v[:11], block, block, block, v[15:]]
    y = _calls(3)
    a = patient_log_terms(v, shared, y, 0.0, 10.0)
    b = patient_log_terms(w, by_group, y, 0.0, 10.0)
    assert np.max(np.abs(a - b)) < 1e-12


@pytest.mark.parametrize(
    ("baseline", "class_variances", "rounding"),
    [(False, False, 0.0), (True, True, 0.0), (True, False, 1.0), (True, True, 1.0)],
)
def test_gradient_matches_central_differences(baseline, class_variances, rounding):
    """Rounding (the scores as rounded to integers) adds to the residual variances: its chain
    rule is in the gradient of each log SD."""
    layout = make_layout(T, ORDERS, baseline, class_variances, rounding)
    v = _vector(class_variances)
    if not baseline:  # drop the baseline terms and the baseline half of the blocks
        v = np.r_[v[0:3], v[4:6], v[7:10], v[11:13], v[-2:]]
    assert v.size == layout.size
    data = _Data.of(_calls(5, n=60), 0.0, 10.0, rounding)

    def total(x: np.ndarray) -> float:
        terms, _ = log_terms_and_gradient(x, layout, data, 40, False)
        return float(special.logsumexp(terms, axis=1).sum())

    _, grad = log_terms_and_gradient(v, layout, data, 40, True)
    assert grad is not None
    h = 1e-5
    numeric = np.array([(total(v + h * e) - total(v - h * e)) / (2 * h) for e in np.eye(v.size)])
    assert np.max(np.abs(grad - numeric)) < 1e-4 * max(1.0, np.max(np.abs(numeric)))


def _draw(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Calls drawn from the model with the baseline call its own and variances by group."""
    rng = np.random.default_rng(seed)
    layout = make_layout(T, ORDERS, True, True)
    p = layout.unpack(_vector(True))
    mu = layout.means(p.betas)  # (T, K)
    group = rng.choice(3, size=n, p=np.exp(p.log_pi))
    u = rng.standard_normal(n) * p.tau[group]
    latent = mu[:, group].T + p.loading[group] * u[:, None]
    latent += rng.standard_normal(latent.shape) * p.scale[group]
    y = np.clip(latent, 0.0, 10.0)
    y[rng.random(y.shape) < 0.25] = np.nan
    return y, group


def test_fit_recovers_the_model_and_its_posteriors_tell_their_accuracy():
    y, group = _draw(11, 1500)
    truth = make_layout(T, ORDERS, True, True).unpack(_vector(True))
    start = [b + 0.3 for b in truth.betas]
    fit = fit_mixed_classes(
        y, MONTHS, ORDERS, start_betas=start, baseline=True, class_variances=True
    )
    assert fit.converged
    assert fit.baseline
    assert fit.class_variances
    assert fit.taus == pytest.approx(truth.tau, abs=0.15)
    assert fit.sigmas == pytest.approx(truth.sigma, abs=0.05)
    assert fit.sigmas_baseline == pytest.approx(truth.scale[:, 0], abs=0.2)
    assert fit.loadings_baseline == pytest.approx(truth.loading[:, 0], abs=0.2)
    assert fit.pi == pytest.approx(np.exp(truth.log_pi), abs=0.04)
    claimed = np.nanmax(fit.posterior, axis=1).mean()
    realised = np.mean(fit.assignment == group)
    assert abs(claimed - realised) < 0.03
    # The random-intercept model on the same calls: counted as evidence of the group, the
    # baseline's own departure makes the posteriors claim more than they deliver.
    plain = fit_mixed_classes(y, MONTHS, ORDERS, start_betas=[b[:-1] for b in start])
    gap = np.nanmax(plain.posterior, axis=1).mean() - np.mean(plain.assignment == group)
    assert gap > claimed - realised + 0.02
    assert fit.bic > plain.bic


def test_defaults_are_the_random_intercept_model():
    y, _ = _draw(2, 200)
    fit = fit_mixed_classes(y, MONTHS, (1, 1, 1))
    assert not fit.baseline
    assert not fit.class_variances
    assert fit.n_parameters == 3 * 2 + 2 + 2
    assert len(set(fit.taus)) == 1
    assert math.isnan(fit.sigmas_baseline[0])


def test_a_point_whose_variance_underflows_is_stepped_back_from_not_raised():
    """A line search may probe a log-variance far out; the objective must not raise there."""
    layout = make_layout(T, ORDERS, True, True)
    v = _vector(True)
    far = v.copy()
    first_block = sum(d.shape[1] for d in layout.designs)
    far[first_block + 1] = -800.0  # log tau of the first group: tau underflows to 0
    data = _Data.of(_calls(5, n=60), 0.0, 10.0)
    with pytest.raises((ValueError, ZeroDivisionError)):  # as the quadrature itself does
        log_terms_and_gradient(far, layout, data, 10, True)
    value, grad = negative_log_likelihood(far, layout, data, 10)
    assert value == 1e300
    assert not grad.any()
    value, grad = negative_log_likelihood(v, layout, data, 10)
    terms, _ = log_terms_and_gradient(v, layout, data, 10, False)
    assert value == pytest.approx(-special.logsumexp(terms, axis=1).sum(), rel=1e-12)
    assert np.all(np.isfinite(grad))
    assert grad.any()
