"""The calls' part of the latent-class mixed likelihood at the nodes, summed in closed form.

At node u of patient i in group j, an interior call's log density is a quadratic in u:

    sum_t [-(r_it - lambda_t u)^2 / (2 s_t^2) - log(sqrt(2 pi) s_t)],  r_it = y_it - mu_jt,

so its sum over the interior calls is ``-(A_i - 2 B_i u + C_i u^2) / 2 - D_i`` with four sums per
patient, computed once per group instead of at every (call, node). The same holds for what the
gradient needs from those calls (sums over nodes of the node weights times 1, u and u^2). Only the
censored calls (a few percent) are evaluated at every node. Up to rounding this is the per-cell
sum (tests/analytics/test_mixed_cells.py keeps the per-cell version as the reference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .model import LOG_SQRT_2PI

FloatArray = NDArray[np.float64]
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@dataclass(frozen=True, eq=False)
class Calls:
    """The calls once: filled values, interior mask, and the censored calls one by one."""

    y: FloatArray  # filled with 0 where missing
    interior: FloatArray  # 1.0 where observed strictly within the bounds
    row: NDArray[np.intp]  # censored calls: patient, timepoint, side (-1 lower, +1 upper), bound
    time: NDArray[np.intp]
    sign: FloatArray
    bound: FloatArray

    @classmethod
    def of(
        cls,
        y: FloatArray,
        seen: NDArray[np.bool_],
        lower: float,
        upper: float,
        inset: float = 0.0,
    ) -> Calls:
        """``inset``: the censored calls' latent bound lies that far within ``lower``, ``upper``
        (half the rounding width: a score rounded to ``lower`` is a latent value below
        ``lower + inset``)."""
        low = seen & (y <= lower)
        high = seen & (y >= upper)
        (r_lo, t_lo), (r_hi, t_hi) = np.nonzero(low), np.nonzero(high)
        return cls(
            y=y,
            interior=(seen & ~low & ~high).astype(np.float64),
            row=np.concatenate([r_lo, r_hi]),
            time=np.concatenate([t_lo, t_hi]),
            sign=np.r_[np.full(r_lo.size, -1.0), np.full(r_hi.size, 1.0)],
            bound=np.r_[np.full(r_lo.size, lower + inset), np.full(r_hi.size, upper - inset)],
        )


@dataclass(frozen=True, eq=False)
class GroupCalls:
    """One group's log density of each patient's calls at each node, and what its gradient needs."""

    log_f: FloatArray  # (N, Q): sum over the patient's calls
    u: FloatArray
    residual: FloatArray  # (N, T): y - mu on interior calls, 0 elsewhere
    inv_var: FloatArray  # (T,) 1 / s^2
    lam: FloatArray
    d_mean: FloatArray | None  # (cells, Q) on the censored calls
    d_log_s: FloatArray | None

    def sums(
        self, calls: Calls, weight: FloatArray, baseline: int | None
    ) -> tuple[FloatArray, FloatArray, float]:
        """Sum over patients and nodes, weighted, of d/dmean and d/dlog s (per timepoint), and
        of d/dmean times u at the baseline call (its loading's gradient; 0 without one)."""
        u, r, a, lam = self.u, self.residual, self.inv_var, self.lam
        w_sum = weight.sum(axis=1)
        w_u = (weight * u).sum(axis=1)
        w_u2 = (weight * u * u).sum(axis=1)
        on_interior = calls.interior
        n_w, n_u, n_u2 = w_sum @ on_interior, w_u @ on_interior, w_u2 @ on_interior
        r_w, r_u = w_sum @ r, w_u @ r
        d_mean = a * (r_w - lam * n_u)
        d_log_s = a * (w_sum @ (r * r) - 2.0 * lam * r_u + lam * lam * n_u2) - n_w
        loading = 0.0
        if baseline is not None:
            loading = float(a[baseline] * (r_u[baseline] - lam[baseline] * n_u2[baseline]))
        if calls.row.size and self.d_mean is not None and self.d_log_s is not None:
            w_cells = weight[calls.row]
            t = d_mean.size
            d_mean = d_mean + np.bincount(
                calls.time, weights=(w_cells * self.d_mean).sum(axis=1), minlength=t
            )
            d_log_s = d_log_s + np.bincount(
                calls.time, weights=(w_cells * self.d_log_s).sum(axis=1), minlength=t
            )
            if baseline is not None:
                at = calls.time == baseline
                loading += float(np.sum(w_cells[at] * self.d_mean[at] * u[calls.row[at]]))
        return d_mean, d_log_s, loading


def group_calls(
    calls: Calls, mu_j: FloatArray, s: FloatArray, lam: FloatArray, u: FloatArray, gradient: bool
) -> GroupCalls:
    """Return the calls' log density at the nodes ``u`` (N, Q) of one group (module docstring)."""
    inv_var = 1.0 / s**2
    r = (calls.y - mu_j) * calls.interior
    b = (r * (lam * inv_var)).sum(axis=1)
    a = (r * r * inv_var).sum(axis=1)
    c = calls.interior @ (lam * lam * inv_var)
    d = calls.interior @ (LOG_SQRT_2PI + np.log(s))
    log_f = -0.5 * (a[:, None] - 2.0 * b[:, None] * u + c[:, None] * (u * u)) - d[:, None]
    d_mean = d_log_s = None
    if calls.row.size:
        i, t = calls.row, calls.time
        sign, scale = calls.sign[:, None], s[t][:, None]
        z = sign * (mu_j[t][:, None] + lam[t][:, None] * u[i] - calls.bound[:, None]) / scale
        np.add.at(log_f, i, special.log_ndtr(z))
        if gradient:
            ratio = SQRT_2_OVER_PI / special.erfcx(-z / math.sqrt(2.0))  # phi(z) / Phi(z)
            d_mean, d_log_s = sign * ratio / scale, -ratio * z
    return GroupCalls(log_f, u, r, inv_var, lam, d_mean, d_log_s)
