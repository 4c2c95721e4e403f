"""Batched REML on per-patient sufficient statistics: every resample fitted at once.

A resample only repeats whole patients, so a model is reduced once to per-patient within
cross-products and means; a resample is then a vector of patient counts, and all resamples are
fitted together on the profiled REML likelihood.

The cross-products are symmetric, so only their upper triangles are kept (``q (q + 1) / 2``
numbers a patient, half the memory and half the products of the full square). Each resample's
variance ratio is bracketed on a log grid of the profiled likelihood, as ``fit_lmm`` does, then
found as the root of the likelihood's analytic derivative; the root is located to about 1e-13
in log g, where a search on likelihood values stops at the square root of the rounding error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.stats.parallel import ordered_map

_LOG2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True, eq=False)
class _PatientStats:
    """Per-patient reduction of ``[X, y]``: packed products, patients in groups of a kind.

    A *kind* of patient is a number of rows and, for the design's indicator columns (0/1,
    at most one set a row: the time as categories), how many of the rows have each. The
    products of two indicators, within (centred) as between (of the means), are the same for
    every patient of a kind; they are kept once a kind (``fixed_*``, at the packed positions
    ``fixed``). Every other product is kept a patient: ``within`` at the packed positions
    ``live`` (those of columns varying within some patient; the others are zero for every
    patient) and ``between`` at ``shared``. Positions are those of ``np.triu_indices(p + 1)``.

    Patients are in the order ``order``: by kind, the kinds by number of rows; the patients of
    ``sizes[s]`` rows are ``bounds[s]:bounds[s + 1]``, those of kind ``g`` are
    ``kinds[g]:kinds[g + 1]``, and the kinds of ``sizes[s]`` rows are
    ``kind_bounds[s]:kind_bounds[s + 1]``.
    """

    sizes: np.ndarray  # (S,) distinct numbers of rows
    bounds: np.ndarray  # (S + 1,)
    order: np.ndarray  # (N,) patient codes, by kind
    within: np.ndarray  # (N, len(live))
    between: np.ndarray  # (N, len(shared))
    p: int
    live: np.ndarray
    shared: np.ndarray
    kinds: np.ndarray  # (G + 1,)
    kind_bounds: np.ndarray  # (S + 1,)
    fixed: np.ndarray
    fixed_within: np.ndarray  # (G, len(fixed))
    fixed_between: np.ndarray  # (G, len(fixed))

    @property
    def k(self) -> int:
        q = self.p + 1
        return q * (q + 1) // 2


def inverse_permutation(order: np.ndarray) -> np.ndarray:
    """``rank`` with ``rank[order[j]] == j``: where each item of a permutation's image is."""
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return rank


def _pack(q: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(q)


_ROW_BLOCK = 2048  # rows a block: its packed products (3 MB at q = 19) stay in cache
_RUN = 32  # blocks a thread takes at a time


def _packed_products(a: np.ndarray, out: np.ndarray, first: int | None = None) -> None:
    """Write the upper-triangle products of the columns of ``a`` (rows of ``a``) into ``out``:
    those of each of the ``first`` columns (default all) with itself and every later one.

    Column by column, as ``a[:, rows] * a[:, cols]`` would give them, without its two
    temporaries of ``out``'s size.
    """
    q, at = a.shape[1], 0
    for i in range(q if first is None else first):
        np.multiply(a[:, i : i + 1], a[:, i:], out=out[:, at : at + q - i])
        at += q - i


def _product_positions(q: int, columns: Sequence[int], first: int | None = None) -> np.ndarray:
    """Where the products ``_packed_products`` makes of ``columns`` (of all ``q``; not
    necessarily increasing) sit among the packed products of all ``q``."""
    rows, cols = _pack(q)
    pair = np.zeros((q, q), dtype=np.intp)
    pair[rows, cols] = pair[cols, rows] = np.arange(rows.size)
    taken = np.asarray(columns, dtype=np.intp)
    sub_rows, sub_cols = _pack(taken.size)
    kept = sub_rows < (taken.size if first is None else first)
    return np.asarray(pair[taken[sub_rows[kept]], taken[sub_cols[kept]]])


def _indicators(columns: Sequence[np.ndarray]) -> list[int]:
    """The columns stored as one-byte 0/1 indicators, at most one of them set a row (the time
    as categories); none when they are not such a set."""
    found = [j for j, z in enumerate(columns) if z.dtype == np.int8]
    if not found:
        return []
    set_a_row = np.zeros(len(columns[found[0]]), dtype=np.int64)
    for j in found:
        z = columns[j]
        if z.min(initial=0) < 0 or z.max(initial=0) > 1:
            return []
        set_a_row += z
    return found if set_a_row.max(initial=0) <= 1 else []


def _kinds(n_rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's kind (rows, then rows of each indicator; kinds numbered in that
    lexicographic order) and the first patient of each kind."""
    key = np.column_stack([n_rows, counts]).astype(np.int64)
    widths = [max(int(column.max(initial=0)).bit_length(), 1) for column in key.T]
    if sum(widths) <= 62 and key.min(initial=0) >= 0:
        # One integer a patient, its columns' bits side by side, the rows' highest: sorted as
        # the rows are, and far faster to sort than rows of a matrix.
        packed = np.zeros(len(key), dtype=np.int64)
        for column, width in zip(key.T, widths, strict=True):
            packed = (packed << width) | column
        key = packed
    _, first, of_patient = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return np.asarray(of_patient).ravel(), first


def _patient_stats(
    y: np.ndarray, X: np.ndarray | Sequence[np.ndarray], codes: np.ndarray, n: int
) -> _PatientStats:
    """Reduce ``[X, y]`` to per-patient statistics; ``X`` may be given as a list of its columns
    (then no rows x p matrix is built: the centred copy is the only one). Columns stored as
    ``int8`` that form a set of indicators (``_indicators``) are reduced by kind of patient."""
    if isinstance(X, np.ndarray):
        X = [X[:, j] for j in range(X.shape[1])]
    q = len(X) + 1
    n_rows = np.bincount(codes, minlength=n)
    columns = [*X, y]  # [X, y] read in place, a column at a time
    sums = np.stack([np.bincount(codes, weights=z, minlength=n) for z in columns], 1)
    means = sums / np.maximum(n_rows, 1)[:, None]
    marked = _indicators(X)
    others = [j for j in range(q) if j not in marked]
    kind, first_of_kind = _kinds(n_rows, sums[:, marked])
    order = np.argsort(kind, kind="stable")
    rank = inverse_permutation(order)
    # The rows grouped by patient (in the order above), each patient's in their own order.
    by_patient = np.argsort(rank[codes], kind="stable")
    sorted_rows = n_rows[order]
    first = np.concatenate([[0], np.cumsum(sorted_rows)])
    # Columns constant within every patient (the intercept, sex, age, a baseline value) centre
    # to exact zeros, and so do all their products: only the other columns are multiplied,
    # the varying ones first, each with itself and the later ones (the indicators last: their
    # products with one another are the kind's).
    varying = [j for j in others if np.any(columns[j] != means[codes, j])]
    taken = [*varying, *marked]
    live_at = _product_positions(q, taken, len(varying))
    within = np.zeros((n, live_at.size))
    # Row outer products a block of whole patients at a time (all at once they would be
    # rows x q (q + 1) / 2 numbers), each patient's summed over its rows; the block's rows
    # are centred on their patient's means as they are taken. The blocks are independent
    # (each writes its own patients' rows): runs of them go to the run's threads.
    blocks = []
    start = int(np.searchsorted(sorted_rows, 1)) if varying else n  # nothing to multiply: zeros
    while start < n:
        stop = max(int(np.searchsorted(first, first[start] + _ROW_BLOCK, "right")) - 1, start + 1)
        blocks.append((start, stop))
        start = stop

    centres = [np.ascontiguousarray(means[:, j]) for j in taken]  # gathered a column at a time

    def run(span: Sequence[tuple[int, int]]) -> None:
        for start, stop in span:
            rows = by_patient[first[start] : first[stop]]
            part_codes = codes[rows]
            part = np.empty((len(rows), len(taken)))
            for i, j in enumerate(taken):
                part[:, i] = columns[j][rows] - centres[i][part_codes]
            outer = np.empty((len(part), live_at.size))
            _packed_products(part, outer, len(varying))
            within[start:stop] = np.add.reduceat(outer, first[start:stop] - first[start], axis=0)

    ordered_map(run, [blocks[i : i + _RUN] for i in range(0, len(blocks), _RUN)])
    shared_at = _product_positions(q, [*others, *marked], len(others))
    between = np.empty((n, shared_at.size))
    _packed_products(means[order][:, [*others, *marked]], between, len(others))
    kind_rows = n_rows[first_of_kind]
    fixed_within, fixed_between = _kind_products(kind_rows, sums[first_of_kind][:, marked])
    sizes, at = np.unique(sorted_rows.astype(float), return_index=True)
    return _PatientStats(
        sizes=sizes,
        bounds=np.append(at, n),
        order=order,
        within=within,
        between=between,
        p=q - 1,
        live=live_at,
        shared=shared_at,
        kinds=np.append(np.searchsorted(kind[order], np.arange(len(first_of_kind))), n),
        kind_bounds=np.append(np.searchsorted(kind_rows, sizes), len(first_of_kind)),
        fixed=_product_positions(q, marked),
        fixed_within=fixed_within,
        fixed_between=fixed_between,
    )


def _kind_products(n_rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The packed products of the indicators of each kind (``n_rows`` rows, ``counts`` rows of
    each indicator): within, ``sum_rows (d_j - f_j)(d_l - f_l) = [j = l] t_j - t_j t_l / n``,
    and between, ``f_j f_l``, with ``f = t / n``."""
    rows, cols = _pack(counts.shape[1])
    share = counts / np.maximum(n_rows, 1)[:, None]
    between = share[:, rows] * share[:, cols]
    within = -counts[:, rows] * share[:, cols]
    within[:, rows == cols] += counts
    return within, between


@dataclass(frozen=True, eq=False)
class _Resampled:
    """The statistics of a block of resamples: within and per-size between sums, packed."""

    within: np.ndarray  # (R, k)
    between: np.ndarray  # (S, R, k)
    count_s: np.ndarray  # (R, S) patients of each size
    dof: np.ndarray  # (R,) rows minus fixed effects
    sizes: np.ndarray  # (S,)
    p: int

    def full(self, packed: np.ndarray) -> np.ndarray:
        """Unpack ``(..., k)`` upper triangles to symmetric ``(..., q, q)`` matrices."""
        q = self.p + 1
        rows, cols = _pack(q)
        where = np.empty((q, q), dtype=np.intp)
        where[rows, cols] = where[cols, rows] = np.arange(rows.size)
        return np.take(packed, where, axis=-1)

    def weighted(self, weights: np.ndarray) -> np.ndarray:
        """``sum_s weights[r, s] * between[s, r]``, packed (shape ``(R, k)``)."""
        return np.einsum("rs,srk->rk", weights, self.between)

    def loglik_on_grid(self, grid: np.ndarray) -> np.ndarray:
        """The profiled REML log-likelihood of every resample at every ``grid`` ratio."""
        p, (S, R, k) = self.p, self.between.shape
        out = np.empty((R, grid.size))
        step = max(1, (1 << 19) // max(R * k, 1))  # about 4 MB of packed matrices at a time
        for start in range(0, grid.size, step):
            g = grid[start : start + step]
            weights = self.sizes / (1.0 + self.sizes * g[:, None])  # (G, S)
            packed = (weights @ self.between.reshape(S, R * k)).reshape(g.size, R, k)
            packed += self.within
            diag = np.diagonal(np.linalg.cholesky(self.full(packed)), axis1=-2, axis2=-1)
            rss = np.maximum(diag[..., p] ** 2, 1e-300)  # (G, R)
            logdet_x = 2.0 * np.log(diag[..., :p]).sum(-1)
            logdet_v = np.log1p(g[:, None] * self.sizes) @ self.count_s.T
            ll = -0.5 * (self.dof * (_LOG2PI + np.log(rss / self.dof)) + logdet_v + logdet_x)
            out[:, start : start + step] = (ll - 0.5 * self.dof).T
        return out

    def slope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """d loglik / d log g at ``g = exp(x)`` for each resample, and the size of its terms.

        With M = Z'V^-1 Z, D = -dM/dg = sum_s w_s^2 B_s and e = (-beta, 1):
        dll/dg = -(1/2) [sum_s c_s w_s - dof e'D e / rss - tr(A^-1 D_xx)], where
        tr(M^-1 D) = tr(A^-1 D_xx) + e'D e / rss and M^-1 (0, ..., 0, 1)' = e / rss.
        """
        g = np.exp(x)
        weights = self.sizes / (1.0 + self.sizes * g[:, None])
        M = self.full(self.within + self.weighted(weights))
        D = self.full(self.weighted(weights**2))
        scale = 1.0 / np.sqrt(np.diagonal(M, axis1=1, axis2=2))
        outer = scale[:, :, None] * scale[:, None, :]
        inv = np.linalg.inv(M * outer) * outer
        v = inv[:, :, self.p]  # e / rss
        rss = 1.0 / v[:, self.p]
        quad = (np.matmul(D, v[:, :, None])[:, :, 0] * v).sum(1) * rss
        trace = (inv * D).sum((1, 2))
        terms = (self.count_s * weights).sum(1)
        return g * -0.5 * (terms - trace - (self.dof - 1.0) * quad), g * terms

    def betas(self, x: np.ndarray) -> np.ndarray:
        p = self.p
        g = np.exp(x)
        weights = self.sizes / (1.0 + self.sizes * g[:, None])
        chol = np.linalg.cholesky(self.full(self.within + self.weighted(weights)))
        lower = chol[:, :p, :p]
        return np.linalg.solve(np.swapaxes(lower, 1, 2), chol[:, p, :p, None])[:, :, 0]


def _resampled(ps: _PatientStats, counts: np.ndarray, ordered: bool = False) -> _Resampled:
    """The statistics of the resamples of ``counts`` (``ordered``: columns already in the
    patients' order ``ps.order``)."""
    # np.take: the same gather as counts[:, order], faster.
    c = counts if ordered else np.take(counts, ps.order, axis=1)
    R, S = len(c), len(ps.sizes)
    # Patients drawn of each kind: the kind's products of indicators count that many times.
    drawn = np.add.reduceat(c, ps.kinds[:-1], axis=1) if c.shape[1] else np.zeros((R, 0))
    between = np.zeros((S, R, ps.k))
    count_s = np.empty((R, S))  # patients drawn of each size: those of its kinds
    for s in range(S):
        a, b = ps.bounds[s], ps.bounds[s + 1]
        between[s][:, ps.shared] = c[:, a:b] @ ps.between[a:b]
        g, h = ps.kind_bounds[s], ps.kind_bounds[s + 1]
        between[s][:, ps.fixed] = drawn[:, g:h] @ ps.fixed_between[g:h]
        count_s[:, s] = drawn[:, g:h].sum(1)
    dof = count_s @ ps.sizes - ps.p
    within = np.zeros((R, ps.k))
    within[:, ps.live] = c @ ps.within
    within[:, ps.fixed] = drawn @ ps.fixed_within
    return _Resampled(within, between, count_s, dof, ps.sizes, ps.p)


def _batch_betas(
    ps: _PatientStats, counts: np.ndarray, near: float | None = None, ordered: bool = False
) -> np.ndarray:
    """Return REML fixed effects for each row of patient ``counts`` (shape ``(R, N)``).

    ``near`` (the variance ratio of the full-sample fit) narrows the search to three decades
    either side of it; rows whose optimum falls on that window's edge are searched in full.
    ``ordered``: the columns of ``counts`` are in the patients' order ``ps.order``.
    """
    wide = np.logspace(-10, 8, 73)
    if near is None or not math.isfinite(near) or near <= 0:
        return _batch_betas_on(ps, counts, wide, ordered=ordered)
    # Two points a decade: the grid only brackets the maximum, the root search closes in on it.
    # Four a decade cost twice the Cholesky factors and gave the same fits to 6e-14.
    narrow = near * np.logspace(-3, 3, 13)
    betas, at_edge = _batch_betas_on(ps, counts, narrow, report_edge=True, ordered=ordered)
    if at_edge.any():
        betas[at_edge] = _batch_betas_on(ps, counts[at_edge], wide, ordered=ordered)
    return betas


def _root(rs: _Resampled, log_grid: np.ndarray, lls: np.ndarray) -> np.ndarray:
    """The log ratio maximising each resample's likelihood next to its best grid point.

    The slope's sign at the best point ``mid`` tells which neighbour brackets the maximum;
    regula falsi with the Illinois step closes the bracket, starting from the vertex of the
    parabola through the three grid values. The neighbour's slope is the parabola's until it
    is replaced by a computed one. A row whose best point is the grid's first or last, with
    the slope pointing outwards, keeps that point (the maximum at the end of the search).
    """
    R, last_k = lls.shape[0], log_grid.size - 1
    best = np.argmax(lls, 1)
    k0, k2 = np.maximum(best - 1, 0), np.minimum(best + 1, last_k)
    x0, x1, x2 = log_grid[k0], log_grid[best], log_grid[k2]
    rows = np.arange(R)
    l0, l1, l2 = lls[rows, k0], lls[rows, best], lls[rows, k2]
    h = log_grid[1] - log_grid[0]  # the grid is even in log g
    curv = np.minimum((l0 - 2.0 * l1 + l2) / h**2, -1e-300)  # the parabola's second derivative
    f1, terms = rs.slope(x1)
    left = f1 <= 0.0
    a = np.where(left, x0, x1)
    b = np.where(left, x1, x2)
    fa = np.where(left, -curv * h, f1)  # a slope for the neighbour until one is computed
    fb = np.where(left, f1, curv * h)
    edge = np.where(left, best == 0, best == last_k)
    x = x1.copy()
    active = ~edge & (f1 != 0.0)
    c = np.clip(x1 - f1 / curv, a, b)  # the parabola's vertex, from the slope at mid
    tol = 1e-12 * terms
    side = np.zeros(R, dtype=int)
    x_old, f_old = x1, f1
    for _ in range(100):
        if not active.any():
            break
        fc = rs.slope(c)[0]
        x = np.where(active, c, x)
        to_b = active & (fc < 0.0)  # the root lies in [a, c]
        to_a = active & (fc > 0.0)
        fa = np.where(to_b & (side == -1), fa / 2.0, fa)  # Illinois: halve the stale end
        fb = np.where(to_a & (side == 1), fb / 2.0, fb)
        b, fb = np.where(to_b, c, b), np.where(to_b, fc, fb)
        a, fa = np.where(to_a, c, a), np.where(to_a, fc, fa)
        side = np.where(to_b, -1, np.where(to_a, 1, 0))
        active &= (np.abs(fc) > tol) & (b - a > 1e-14 * np.maximum(1.0, np.abs(c)))
        # The secant through the last two slopes, or regula falsi when it leaves the bracket.
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = c - fc * (c - x_old) / (fc - f_old)
            falsi = b - fb * (b - a) / (fb - fa)
        inside = (secant > a) & (secant < b)
        x_old, f_old = c, fc
        c = np.where(active, np.where(inside, secant, falsi), x)
    return x


def _batch_betas_on(
    ps: _PatientStats,
    counts: np.ndarray,
    grid: np.ndarray,
    report_edge: bool = False,
    ordered: bool = False,
) -> Any:
    rs = _resampled(ps, counts, ordered)
    # As fit_lmm: a log grid brackets the maximum between the best point's neighbours.
    lls = rs.loglik_on_grid(grid)
    best = np.argmax(lls, 1)
    at_edge = (best == 0) | (best == len(grid) - 1)
    betas = rs.betas(_root(rs, np.log(grid), lls))
    return (betas, at_edge) if report_edge else betas
