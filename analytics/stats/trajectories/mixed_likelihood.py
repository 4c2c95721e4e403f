"""Likelihood and gradient of the latent-class mixed trajectory model (see mixed_classes.py).

Patient i in group j: ``y*_it = X_jt beta_j + lambda_t u_i + e_it``, ``u_i ~ N(0, tau_j^2)``,
``e_it ~ N(0, s_jt^2)``, y censored to [lower, upper]. In the plain layout ``lambda_t = 1``,
``s_jt = sigma`` and one ``tau`` for every group (a random intercept). Two options:

* ``baseline``: the baseline call (month 0) is its own. Each group has its own baseline mean (an
  indicator column in its design), the baseline residual SD is ``sigma_bl`` and its loading on
  the patient's level is ``lambda_bl`` (free). Equivalently, a second random effect that touches
  the baseline call only (the baseline's departure from the patient's usual level, correlated
  with it): it adds to one call, so it is integrated in closed form within the residual.
  Patients are enrolled when their pain is high, so the baseline call is a poor guide to the
  level that follows; counted as one more call around the same level, its departure from the
  group curve would pass for evidence of the group.
* ``class_variances``: ``tau``, ``sigma`` (and ``sigma_bl``, ``lambda_bl``) per group: the
  spread of the patients' levels, and how closely they keep to them, differ by group.
* ``rounding`` (h > 0): the scores are the latent values rounded to a grid of width h (the
  NPRS to integers). Each residual's variance gets the rounding's, h^2 / 12 (Sheppard's
  correction: a normal with SD s, rounded, is close to a normal with variance s^2 + h^2 / 12
  for s above about h / 2), and a score at a bound is a latent value beyond h / 2 within it.
  Without it a group of patients who give the same score at every call gains without bound
  as its residual SD goes to 0 (the density of exact values has no ceiling); with it the
  density is at most that of SD h / sqrt(12). ``sigma`` stays the latent SD; the closed-form
  sums (mixed_cells.py) are unchanged, the cells' SD being ``sqrt(sigma^2 + h^2 / 12)``.
  ``exact_patient_log_likelihood(interval=True)`` gives the exact rounded likelihood, to
  measure what the correction leaves out (tests/analytics/test_mixed_rounding.py).

The integral over ``u`` uses adaptive Gauss-Hermite quadrature centred on u's posterior as if
nothing were censored. The gradient is that of the quadrature with its nodes held where they
are (Fisher's identity over the nodes): exact for nodes placed once (``fixed``), and close to
the derivative of the adaptive sum otherwise; tests compare both with numerical integration
and central differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .mixed_cells import Calls, GroupCalls, group_calls
from .model import LOG_SQRT_2PI, design_matrix

FloatArray = NDArray[np.float64]
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
DEFAULT_NODES = 10  # adaptive: within 1e-12 of 20 nodes on the tests' censored calls


def logsumexp(a: FloatArray, axis: int) -> FloatArray:
    """``scipy.special.logsumexp(a, axis)`` for real arrays, with the same arithmetic.

    scipy's function spends more on dispatch than on arithmetic for the few small arrays of one
    evaluation here. This is its algorithm for real input, step for step (the largest element
    of each slice taken out of the sum, ``log1p`` of the rest), so the results are identical;
    where it is not finite, the direct ``log(sum(exp(a)))`` as scipy does.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        top = np.max(a, axis=axis, keepdims=True)
        at_top = a == top
        count = np.sum(at_top, axis=axis, keepdims=True, dtype=a.dtype)
        rest = np.sum(np.exp(np.where(at_top, -np.inf, a) - top), axis=axis, keepdims=True)
        rest = np.where(rest == 0, rest, rest / count)
        out = np.log1p(rest) + np.log(count) + top
        finite = np.isfinite(out)
        if not finite.all():
            direct = np.log(np.sum(np.exp(a), axis=axis, keepdims=True))
            out = np.where(finite, out, direct)
    return np.asarray(np.squeeze(out, axis=axis))


@dataclass(frozen=True, eq=False)
class _Layout:
    orders: tuple[int, ...]
    designs: tuple[FloatArray, ...]  # (T, p_j), with the baseline indicator last if baseline
    baseline: int | None = None  # column of the baseline call when it is its own
    class_variances: bool = False
    rounding: float = 0.0  # width of the scores' rounding (1: integers); 0 for none

    @property
    def n_groups(self) -> int:
        return len(self.orders)

    @property
    def block(self) -> int:
        """Size of one block of variance parameters: log sigma, log tau[, log sigma_bl, lambda]."""
        return 2 if self.baseline is None else 4

    @property
    def size(self) -> int:
        blocks = self.n_groups if self.class_variances else 1
        return sum(d.shape[1] for d in self.designs) + blocks * self.block + self.n_groups - 1

    def unpack(self, v: FloatArray) -> Params:
        betas, at = [], 0
        for d in self.designs:
            betas.append(v[at : at + d.shape[1]])
            at += d.shape[1]
        k, t = self.n_groups, self.designs[0].shape[0]
        blocks = (k if self.class_variances else 1) * self.block
        var = np.broadcast_to(v[at : at + blocks].reshape(-1, self.block), (k, self.block))
        latent = np.repeat(np.exp(var[:, :1]), t, axis=1)  # (K, T)
        loading = np.ones((k, t))
        if self.baseline is not None:
            latent[:, self.baseline], loading[:, self.baseline] = np.exp(var[:, 2]), var[:, 3]
        scale, share = latent, np.ones((k, t))
        if self.rounding > 0.0:
            scale = np.sqrt(latent**2 + self.rounding**2 / 12.0)
            share = (latent / scale) ** 2
        theta = np.r_[0.0, v[at + blocks :]]
        log_pi = theta - logsumexp(theta, 0)
        return Params(betas, np.exp(var[:, 0]), np.exp(var[:, 1]), scale, loading, log_pi, share)

    def means(self, betas: list[FloatArray]) -> FloatArray:
        return np.stack([d @ b for d, b in zip(self.designs, betas, strict=True)], 1)  # (T, K)


@dataclass(frozen=True, eq=False)
class Params:
    betas: list[FloatArray]
    sigma: FloatArray  # (K,) residual SD after the baseline call
    tau: FloatArray  # (K,)
    scale: FloatArray  # residual SD of each group at each timepoint (K, T), rounding included
    loading: FloatArray  # loading of each timepoint on the patient's level (K, T)
    log_pi: FloatArray
    share: FloatArray  # d log scale / d log (latent SD): 1 without rounding (K, T)

    @property
    def latent_scale(self) -> FloatArray:
        """The residual SD of the latent values, before rounding (K, T)."""
        return np.asarray(self.scale * np.sqrt(self.share))


def make_layout(
    scaled_times: FloatArray,
    orders: tuple[int, ...],
    baseline: bool,
    class_variances: bool,
    rounding: float = 0.0,
) -> _Layout:
    """Return the layout; ``baseline`` needs a timepoint at month 0."""
    designs = [design_matrix(scaled_times, o) for o in orders]
    at = None
    if baseline:
        zero = np.flatnonzero(scaled_times == 0.0)
        if zero.size != 1:
            raise ValueError("the baseline option needs exactly one timepoint at month 0")
        at = int(zero[0])
        indicator = (scaled_times == 0.0).astype(float)[:, None]
        designs = [np.hstack([d, indicator]) for d in designs]
    return _Layout(tuple(orders), tuple(designs), at, class_variances, float(rounding))


def _log_cell(
    y: FloatArray,
    mean: FloatArray,
    sigma: FloatArray | float,
    lower: float,
    upper: float,
    inset: float = 0.0,
) -> FloatArray:
    """Censored-normal log density of each y (NaN -> 0: a missing call adds nothing).

    A y at ``lower`` (``upper``) is censored at a latent bound ``inset`` within it (half the
    rounding width, see ``Calls.of``).
    """
    z = (y - mean) / sigma
    interior = -0.5 * z**2 - LOG_SQRT_2PI - np.log(sigma)
    at_lower = special.log_ndtr((lower + inset - mean) / sigma)
    at_upper = special.log_ndtr((mean - upper + inset) / sigma)
    out = np.where(y <= lower, at_lower, np.where(y >= upper, at_upper, interior))
    return np.asarray(np.where(np.isnan(y), 0.0, out))


@dataclass(frozen=True, eq=False)
class _Data:
    """The calls once: filled values, masks of the censored cells, and their indices."""

    y: FloatArray
    seen: NDArray[np.bool_]
    low: tuple[NDArray[np.intp], ...]  # (rows, columns) of the calls at the lower bound
    high: tuple[NDArray[np.intp], ...]
    lower: float
    upper: float
    calls: Calls

    @classmethod
    def of(cls, y: FloatArray, lower: float, upper: float, rounding: float = 0.0) -> _Data:
        seen = ~np.isnan(y)
        filled = np.where(seen, y, 0.0)
        low = np.nonzero(seen & (filled <= lower))
        high = np.nonzero(seen & (filled >= upper))
        calls = Calls.of(filled, seen, lower, upper, inset=rounding / 2.0)
        return cls(filled, seen, low, high, lower, upper, calls)


def _nodes(
    data: _Data, mu_j: FloatArray, s: FloatArray, lam: FloatArray, tau: float, x: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Adaptive nodes u (N, Q) and log of their weights' scale factor (N,) for one group."""
    lam2_s2 = np.where(data.seen, (lam**2 / s**2)[None, :], 0.0)
    r = np.where(data.seen, (data.y - mu_j[None, :]) * (lam / s**2)[None, :], 0.0)
    precision = 1.0 / tau**2 + lam2_s2.sum(axis=1)
    scale = 1.0 / np.sqrt(precision)
    centre = r.sum(axis=1) / precision
    return centre[:, None] + scale[:, None] * x[None, :], np.log(scale)


Nodes = list[tuple[FloatArray, FloatArray]]


def node_positions(vector: FloatArray, layout: _Layout, data: _Data, nodes: int) -> Nodes:
    """Each group's adaptive nodes u (N, Q) and log scale factors (N,) at these parameters."""
    p = layout.unpack(vector)
    mu = layout.means(p.betas)
    x, _ = np.polynomial.hermite_e.hermegauss(nodes)
    return [
        _nodes(data, mu[:, j], p.scale[j], p.loading[j], float(p.tau[j]), x)
        for j in range(layout.n_groups)
    ]


def log_terms_and_gradient(
    vector: FloatArray,
    layout: _Layout,
    data: _Data,
    nodes: int,
    with_gradient: bool,
    fixed: Nodes | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Return ``log pi_j + log p(y_i | j)`` (N x K) and, if asked, the gradient of the sum.

    ``fixed``: nodes placed for other parameters (node_positions), kept where they are; the
    gradient is then exactly that of the returned sum (else the nodes follow the parameters).
    """
    p = layout.unpack(vector)
    mu = layout.means(p.betas)  # (T, K)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    log_w = np.log(w) + 0.5 * x**2
    n, k = data.y.shape[0], layout.n_groups
    out = np.empty((n, k))
    parts = []
    for j in range(k):
        s, lam, tau = p.scale[j], p.loading[j], float(p.tau[j])
        if fixed is None:
            u, log_scale = _nodes(data, mu[:, j], s, lam, tau, x)
        else:
            u, log_scale = fixed[j]
        cells = group_calls(data.calls, mu[:, j], s, lam, u, with_gradient)
        prior = -0.5 * (u / tau) ** 2 - LOG_SQRT_2PI - math.log(tau)
        joint = cells.log_f + prior + log_w[None, :] + log_scale[:, None]  # (N, Q)
        out[:, j] = p.log_pi[j] + logsumexp(joint, 1)
        parts.append((joint, cells))
    if not with_gradient:
        return out, None
    total = logsumexp(out, 1)
    return out, _gradient(layout, p, out, total, parts, data.calls)


def _gradient(
    layout: _Layout,
    p: Params,
    out: FloatArray,
    total: FloatArray,
    parts: list[tuple[FloatArray, GroupCalls]],
    calls: Calls,
) -> FloatArray:
    """Gradient of sum_i log p(y_i) from each group's node weights (Fisher's identity)."""
    k, bl = layout.n_groups, layout.baseline
    grad_beta, blocks = [], np.zeros((k, layout.block))
    for j, (joint, cells) in enumerate(parts):
        weight = np.exp(joint + p.log_pi[j] - total[:, None])  # (N, Q): P(group j, node q | y)
        d_mean, by_time, loading = cells.sums(calls, weight, bl)
        by_time = by_time * p.share[j]  # per log latent SD
        grad_beta.append(layout.designs[j].T @ d_mean)
        blocks[j, 0] = by_time.sum() - (0.0 if bl is None else by_time[bl])
        blocks[j, 1] = np.sum(weight * ((cells.u / p.tau[j]) ** 2 - 1.0))
        if bl is not None:
            blocks[j, 2] = by_time[bl]
            blocks[j, 3] = loading
    post = np.exp(out - total[:, None]).sum(axis=0)
    grad_theta = post[1:] - total.size * np.exp(p.log_pi[1:])
    variances = blocks.ravel() if layout.class_variances else blocks.sum(axis=0)
    return np.concatenate([*grad_beta, variances, grad_theta])


def patient_log_terms(
    vector: FloatArray,
    layout: _Layout,
    y: FloatArray,
    lower: float,
    upper: float,
    nodes: int = DEFAULT_NODES,
) -> FloatArray:
    """Return ``log pi_j + log integral of prod_t f(y_it | j, u) dN(u; 0, tau_j^2)`` (N x K)."""
    data = _Data.of(y, lower, upper, layout.rounding)
    terms, _ = log_terms_and_gradient(vector, layout, data, nodes, False)
    return terms


def exact_patient_log_likelihood(
    fit_vector: FloatArray,
    orders: tuple[int, ...] | list[int],
    y_row: FloatArray,
    months: FloatArray,
    *,
    lower: float = 0.0,
    upper: float = 10.0,
    time_scale: float = 10.0,
    baseline: bool = False,
    class_variances: bool = False,
    rounding: float = 0.0,
    interval: bool = False,
) -> float:
    """One patient's log-likelihood by adaptive integration over u (slow; for checking).

    With ``rounding`` the model's own cells (the rounding's variance added to the residual's,
    censored bounds moved in by half its width); with ``interval`` as well, the exact likelihood
    of rounded scores instead: the probability that the latent value (latent residual SD) rounds
    to each score, ``lower`` taking everything below ``lower + rounding / 2`` and ``upper``
    everything above ``upper - rounding / 2``.
    """
    from scipy import integrate

    t = np.asarray(months, dtype=float) / time_scale
    layout = make_layout(t, tuple(orders), baseline, class_variances, rounding)
    p = layout.unpack(np.asarray(fit_vector, dtype=float))
    mu = layout.means(p.betas)
    y = np.asarray(y_row, dtype=float)
    half = rounding / 2.0

    def cells(j: int, u: float) -> float:
        mean = mu[:, j] + p.loading[j] * u
        if not interval:
            return float(_log_cell(y, mean, p.scale[j], lower, upper, half).sum())
        latent = p.latent_scale[j]
        top = np.where(y >= upper, np.inf, y + half)
        bottom = np.where(y <= lower, -np.inf, y - half)
        mass = special.ndtr((top - mean) / latent) - special.ndtr((bottom - mean) / latent)
        with np.errstate(divide="ignore"):
            return float(np.where(np.isnan(y), 0.0, np.log(mass)).sum())

    total = 0.0
    for j in range(layout.n_groups):
        tau = float(p.tau[j])

        def integrand(u: float, j: int = j, tau: float = tau) -> float:
            return math.exp(cells(j, u) - 0.5 * (u / tau) ** 2 - LOG_SQRT_2PI - math.log(tau))

        value, _ = integrate.quad(integrand, -12 * tau, 12 * tau, epsabs=0, epsrel=1e-12, limit=500)
        total += math.exp(p.log_pi[j]) * value
    return math.log(total)
