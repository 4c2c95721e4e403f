"""Many random-intercept models fitted together, from per-block sufficient statistics.

``fit_lmm`` reduces one data set to sufficient statistics and then spends its time on the
profiled likelihood: 66 grid points of the variance ratio ``g``, then scipy's bounded Brent
search. Here the same steps run for many fits at once, and each round of likelihood evaluations
(one per fit still searching) is a single batched Cholesky. The Brent search is scipy's
``_minimize_scalar_bounded`` written as a generator, so that every fit takes the steps it would
take alone.

The fits served are those whose fixed effects split over disjoint sets of patients (blocks):
``X`` is block diagonal, each block's columns nonzero on its own patients only, as for outcome ~
time x group written with one set of time effects per group. Then ``X' V^-1 X`` is block
diagonal too, and every term of the profiled likelihood (``X' V^-1 y``, the log-determinants,
the residual sum of squares) is a sum of per-block terms. Each block is reduced once; a fit is
a set of blocks that share ``g`` and ``s_e^2``, and a block may belong to several fits.

Blocks of different widths share one stack: a column a block does not use is padding, with a
unit diagonal in ``within``, zero elsewhere and no part in ``between``; it adds nothing to the
likelihood. ``n_params`` counts each block's real columns.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import NamedTuple

import numpy as np

_LOG2PI = math.log(2.0 * math.pi)
_GRID = np.concatenate([[0.0], np.logspace(-8, 8, 65)])  # as fit_lmm's _maximise

# Yields a point, receives its value; returns (point, value, flag).
_Search = Generator[float, float, tuple[float, float, int]]


class Blocks(NamedTuple):
    """Sufficient statistics of B blocks of ``[X, y]`` (q columns, y last), as fit_lmm's."""

    within: np.ndarray  # (B, q, q) within-patient cross-products
    between: np.ndarray  # (B, K, q, q) cross-products of patient means, per patient size
    sizes: np.ndarray  # (K,) patient sizes (a block without patients of a size counts 0 of them)
    counts: np.ndarray  # (B, K) number of patients of each size
    n_obs: np.ndarray  # (B,)
    n_params: np.ndarray  # (B,) real columns of X (the others are padding)


class _Terms(NamedTuple):
    """Each block's terms of the profiled likelihood at given variance ratios (B, E)."""

    rss: np.ndarray  # y' V^-1 y - y' V^-1 X (X' V^-1 X)^-1 X' V^-1 y
    logdet_x: np.ndarray  # log det X' V^-1 X
    logdet_v: np.ndarray  # log det V / s_e^2
    chol: np.ndarray  # (B, E, p, p) Cholesky factor of X' V^-1 X
    half: np.ndarray  # (B, E, p) its inverse times X' V^-1 y


class ManyFits(NamedTuple):
    beta: np.ndarray  # (F, m, p) each member block's coefficients, zero in padding columns
    variance: np.ndarray  # (F, m, p) their sampling variances
    g: np.ndarray  # (F,) variance ratio s_u^2 / s_e^2
    sigma_e2: np.ndarray  # (F,)
    converged: np.ndarray  # (F,)


def _terms(blocks: Blocks, which: np.ndarray, g: np.ndarray) -> _Terms:
    """Evaluate the blocks ``which`` (B') at variance ratios ``g`` (B', E)."""
    between = blocks.between[which]
    n_blocks, n_sizes, q = between.shape[:3]
    weights = blocks.sizes / (1.0 + blocks.sizes * g[..., None])  # (B', E, K)
    M = blocks.within[which][:, None] + np.einsum(
        "bek,bkj->bej", weights, between.reshape(n_blocks, n_sizes, q * q)
    ).reshape(n_blocks, -1, q, q)
    p = q - 1
    chol = np.linalg.cholesky(M[..., :p, :p])
    half = np.linalg.solve(chol, M[..., :p, p, None])[..., 0]
    return _Terms(
        rss=M[..., p, p] - np.einsum("bei,bei->be", half, half),
        logdet_x=2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1),
        logdet_v=np.einsum(
            "bk,bek->be", blocks.counts[which], np.log1p(blocks.sizes * g[..., None])
        ),
        chol=chol,
        half=half,
    )


def _loglik(
    blocks: Blocks, members: np.ndarray, terms: tuple[np.ndarray, ...], reml: bool
) -> np.ndarray:
    """Return each fit's profiled log-likelihood from its member blocks' rss, logdet_x and
    logdet_v, each (F, m, E)."""
    rss = np.maximum(terms[0].sum(axis=1), 1e-300)
    logdet_v = terms[2].sum(axis=1)
    n = blocks.n_obs[members].sum(axis=1)[:, None].astype(float)
    if reml:
        dof = n - blocks.n_params[members].sum(axis=1)[:, None]
        s2 = rss / dof
        logdet_x = terms[1].sum(axis=1)
        return -0.5 * (dof * (_LOG2PI + np.log(s2)) + logdet_v + logdet_x + dof)
    s2 = rss / n
    return -0.5 * (n * (_LOG2PI + np.log(s2)) + logdet_v + n)


def _fit_terms(blocks: Blocks, members: np.ndarray, g: np.ndarray) -> _Terms:
    """Return the member blocks' terms of each fit at its ratios (F, E), shaped (F, m, E, ...)."""
    n_fits, m = members.shape
    terms = _terms(blocks, members.ravel(), np.repeat(g, m, axis=0))
    return _Terms(*(t.reshape(n_fits, m, *t.shape[1:]) for t in terms))


def loglik_many(blocks: Blocks, members: np.ndarray, g: np.ndarray, reml: bool) -> np.ndarray:
    """Return the profiled log-likelihood of each fit (its blocks, ``members``) at ``g`` (F, E)."""
    return _loglik(blocks, members, _fit_terms(blocks, members, g)[:3], reml)


def _bounded(lo: float, hi: float, xatol: float, maxfun: int = 500) -> _Search:
    """Minimise on [lo, hi] as scipy's bounded Brent method does, one point at a time."""
    sqrt_eps = math.sqrt(2.2e-16)
    golden_mean = 0.5 * (3.0 - math.sqrt(5.0))
    a, b = lo, hi
    fulc = a + golden_mean * (b - a)
    nfc, xf = fulc, fulc
    rat = e = 0.0
    x = xf
    fx = yield x
    num = 1
    fu = np.inf
    ffulc = fnfc = fx
    xm = 0.5 * (a + b)
    tol1 = sqrt_eps * np.abs(xf) + xatol / 3.0
    tol2 = 2.0 * tol1
    flag = 0
    while np.abs(xf - xm) > (tol2 - 0.5 * (b - a)):
        golden = 1
        if np.abs(e) > tol1:  # a parabolic step, if acceptable
            golden = 0
            r = (xf - nfc) * (fx - ffulc)
            q = (xf - fulc) * (fx - fnfc)
            p = (xf - fulc) * q - (xf - nfc) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = np.abs(q)
            r = e
            e = rat
            if (np.abs(p) < np.abs(0.5 * q * r)) and (p > q * (a - xf)) and (p < q * (b - xf)):
                rat = (p + 0.0) / q
                x = xf + rat
                if ((x - a) < tol2) or ((b - x) < tol2):
                    si = np.sign(xm - xf) + ((xm - xf) == 0)
                    rat = tol1 * si
            else:
                golden = 1
        if golden:
            e = a - xf if xf >= xm else b - xf
            rat = golden_mean * e
        si = np.sign(rat) + (rat == 0)
        x = xf + si * np.maximum(np.abs(rat), tol1)
        fu = yield x
        num += 1
        if fu <= fx:
            if x >= xf:
                a = xf
            else:
                b = xf
            fulc, ffulc = nfc, fnfc
            nfc, fnfc = xf, fx
            xf, fx = x, fu
        else:
            if x < xf:
                a = x
            else:
                b = x
            if (fu <= fnfc) or (nfc == xf):
                fulc, ffulc = nfc, fnfc
                nfc, fnfc = x, fu
            elif (fu <= ffulc) or (fulc == xf) or (fulc == nfc):  # noqa: SIM109 (scipy's test)
                fulc, ffulc = x, fu
        xm = 0.5 * (a + b)
        tol1 = sqrt_eps * np.abs(xf) + xatol / 3.0
        tol2 = 2.0 * tol1
        if num >= maxfun:
            flag = 1
            break
    if np.isnan(xf) or np.isnan(fx) or np.isnan(fu):
        flag = 2
    return float(xf), float(fx), flag


def _grid_values(blocks: Blocks, members: np.ndarray, reml: bool) -> np.ndarray:
    """Return each fit's negative profiled likelihood on the grid (F, 66).

    Every block is evaluated on the grid once, however many fits it belongs to.
    """
    used, index = np.unique(members, return_inverse=True)
    grid = np.broadcast_to(_GRID, (used.size, _GRID.size))
    terms = _terms(blocks, used, grid)[:3]
    return -_loglik(blocks, members, tuple(t[index.reshape(members.shape)] for t in terms), reml)


def maximise_many(blocks: Blocks, members: np.ndarray, reml: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return each fit's variance ratio and convergence flag, as fit_lmm's _maximise."""
    values = _grid_values(blocks, members, reml)
    n_fits = values.shape[0]
    best = np.argmin(values, axis=1)
    g = np.full(n_fits, _GRID[-1])
    converged = np.zeros(n_fits, dtype=bool)
    searches: dict[int, tuple[_Search, bool]] = {}  # fit -> (search, on log g)
    for f in range(n_fits):
        b = int(best[f])
        if b == _GRID.size - 1:
            continue
        if b <= 1:
            searches[f] = (_bounded(0.0, float(_GRID[2]), 1e-14), False)
        else:
            lo, hi = math.log(_GRID[b - 1]), math.log(_GRID[b + 1])
            searches[f] = (_bounded(lo, hi, 1e-10), True)
    points = {f: next(search) for f, (search, _) in searches.items()}
    while points:
        fits = np.fromiter(points, dtype=np.int64, count=len(points))
        ratios = [math.exp(points[f]) if searches[f][1] else points[f] for f in fits]
        nll = -loglik_many(blocks, members[fits], np.array(ratios)[:, None], reml)[:, 0]
        for f, value in zip(fits.tolist(), nll.tolist(), strict=True):
            search, on_log = searches[f]
            try:
                points[f] = search.send(value)
            except StopIteration as stop:
                del points[f]
                x, fun, flag = stop.value
                converged[f] = flag == 0
                if on_log:
                    g[f] = math.exp(x)
                else:
                    # fit_lmm keeps g = 0 when the likelihood there is at least as large.
                    g[f] = 0.0 if values[f, 0] <= fun else x
    return g, converged


def fit_many(blocks: Blocks, members: np.ndarray, *, reml: bool = True) -> ManyFits:
    """Fit every model (the blocks ``members`` (F, m) of each) as fit_lmm fits one."""
    members = np.asarray(members, dtype=np.int64)
    g, converged = maximise_many(blocks, members, reml)
    terms = _fit_terms(blocks, members, g[:, None])
    rss = np.maximum(terms.rss.sum(axis=1)[:, 0], 1e-300)
    n = blocks.n_obs[members].sum(axis=1).astype(float)
    s2 = rss / (n - blocks.n_params[members].sum(axis=1)) if reml else rss / n
    chol, half = terms.chol[:, :, 0], terms.half[:, :, 0]
    beta = np.linalg.solve(np.swapaxes(chol, -1, -2), half[..., None])[..., 0]
    # diag((L L')^-1) = column sums of squares of L^-1.
    variance = s2[:, None, None] * (np.linalg.inv(chol) ** 2).sum(axis=-2)
    return ManyFits(beta, variance, g, s2, converged)
