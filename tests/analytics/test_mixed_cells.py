"""The mixed model's calls summed in closed form (mixed_cells.py) against the per-cell sums the
likelihood was first written with (kept here as the reference): log terms and gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from analytics.stats.trajectories.mixed_likelihood import (
    _Data,
    log_terms_and_gradient,
    make_layout,
    node_positions,
)
from analytics.stats.trajectories.model import LOG_SQRT_2PI

MONTHS = np.array([0.0, 0.25, *range(1, 13)])
T = MONTHS / 10.0
ORDERS = (2, 1, 2)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _cells(data, mean, s):
    """Reference: log density, d/dmean and d/dlog s of every call at every node (N, T, Q)."""
    ss = s[None, :, None]
    z = (data.y[:, :, None] - mean) / ss
    log_f = -0.5 * z**2 - LOG_SQRT_2PI - np.log(ss)
    d_mean, d_log_s = z / ss, z**2 - 1.0
    for (i, t), sign, bound in ((data.low, -1.0, data.lower), (data.high, 1.0, data.upper)):
        a = sign * (mean[i, t, :] - bound) / s[t][:, None]
        log_f[i, t, :] = special.log_ndtr(a)
        ratio = SQRT_2_OVER_PI / special.erfcx(-a / math.sqrt(2.0))
        d_mean[i, t, :] = sign * ratio / s[t][:, None]
        d_log_s[i, t, :] = -ratio * a
    seen = data.seen[:, :, None]
    return tuple(np.where(seen, x, 0.0) for x in (log_f, d_mean, d_log_s))


def _reference(vector, layout, data, nodes, fixed):
    """Reference log terms (N x K) and gradient, summing over every (call, node)."""
    p = layout.unpack(vector)
    mu = layout.means(p.betas)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    log_w = np.log(w) + 0.5 * x**2
    out = np.empty((data.y.shape[0], layout.n_groups))
    parts = []
    for j in range(layout.n_groups):
        u, log_scale = fixed[j]
        mean = mu[None, :, j, None] + p.loading[j][None, :, None] * u[:, None, :]
        log_f, d_mean, d_log_s = _cells(data, mean, p.scale[j])
        tau = float(p.tau[j])
        prior = -0.5 * (u / tau) ** 2 - LOG_SQRT_2PI - math.log(tau)
        joint = log_f.sum(axis=1) + prior + log_w[None, :] + log_scale[:, None]
        out[:, j] = p.log_pi[j] + special.logsumexp(joint, axis=1)
        parts.append((joint, u, d_mean, d_log_s))
    total = special.logsumexp(out, axis=1)
    bl = layout.baseline
    grad_beta, blocks = [], np.zeros((layout.n_groups, layout.block))
    for j, (joint, u, d_mean, d_log_s) in enumerate(parts):
        weight = np.exp(joint + p.log_pi[j] - total[:, None])
        grad_beta.append(layout.designs[j].T @ np.einsum("iq,itq->t", weight, d_mean))
        by_time = np.einsum("iq,itq->t", weight, d_log_s)
        blocks[j, 0] = by_time.sum() - (0.0 if bl is None else by_time[bl])
        blocks[j, 1] = np.sum(weight * ((u / p.tau[j]) ** 2 - 1.0))
        if bl is not None:
            blocks[j, 2] = by_time[bl]
            blocks[j, 3] = np.sum(weight * d_mean[:, bl, :] * u)
    post = np.exp(out - total[:, None]).sum(axis=0)
    grad_theta = post[1:] - total.size * np.exp(p.log_pi[1:])
    variances = blocks.ravel() if layout.class_variances else blocks.sum(axis=0)
    return out, np.concatenate([*grad_beta, variances, grad_theta])


def _vector(layout, rng):
    betas = [
        rng.normal([2.0 + 3.0 * j, -1.0, 0.8, 1.5][: d.shape[1]], 0.3)
        for j, d in enumerate(layout.designs)
    ]
    blocks = layout.n_groups if layout.class_variances else 1
    variances = []
    for _ in range(blocks):
        block = [math.log(rng.uniform(0.6, 1.6)), math.log(rng.uniform(0.5, 1.8))]
        if layout.baseline is not None:
            block += [math.log(rng.uniform(0.8, 2.0)), rng.uniform(-0.3, 0.9)]
        variances += block
    return np.concatenate([*betas, variances, rng.normal(0.0, 0.5, layout.n_groups - 1)])


def _calls(seed, n=60):
    rng = np.random.default_rng(seed)
    y = np.clip(np.rint(rng.normal(5.5, 4.0, (n, MONTHS.size))), 0.0, 10.0)
    y[rng.random(y.shape) < 0.2] = np.nan
    y[0, 1:] = np.nan  # seen at baseline only
    y[1, 0] = np.nan
    y[2] = 0.0  # every call censored
    return y


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("baseline", "class_variances"), [(False, False), (True, False), (True, True)]
)
def test_closed_form_sums_equal_the_per_cell_sums(seed, baseline, class_variances):
    layout = make_layout(T, ORDERS, baseline, class_variances)
    rng = np.random.default_rng(seed)
    vector = _vector(layout, rng)
    data = _Data.of(_calls(seed), 0.0, 10.0)
    assert data.low[0].size > 50  # calls at both bounds
    assert data.high[0].size > 50
    for fixed_at in (vector, vector + rng.normal(0.0, 0.05, vector.size)):
        fixed = node_positions(fixed_at, layout, data, 10)
        terms, grad = log_terms_and_gradient(vector, layout, data, 10, True, fixed)
        ref_terms, ref_grad = _reference(vector, layout, data, 10, fixed)
        assert np.max(np.abs(terms - ref_terms)) < 1e-10
        assert np.max(np.abs(grad - ref_grad)) < 1e-9 * max(1.0, np.max(np.abs(ref_grad)))
    adaptive, _ = log_terms_and_gradient(vector, layout, data, 10, False)
    at_own, _ = _reference(vector, layout, data, 10, node_positions(vector, layout, data, 10))
    assert np.max(np.abs(adaptive - at_own)) < 1e-10
