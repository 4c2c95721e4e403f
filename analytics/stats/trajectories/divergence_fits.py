"""The pair models of first_divergence for many draws of the groups, fitted together.

Every draw regroups the same patients' changes from baseline. A pair's model, change ~ time
(categorical) x group with a random intercept per patient, is fitted as change ~ 0 + time:group
(one set of time effects per group): the same model with the same likelihood, since the two
designs differ by a unimodular change of columns, and the group contrast at a time is the
difference of the two groups' time effects. That design is block diagonal over the two groups,
so the likelihood is a sum of per-group terms (analytics.stats.mixed.many), and each group's
terms depend on its rows only through per-patient sums: the within-patient cross-products of
``[month dummies, change]`` and the outer product of their means, by the patient's number of
rows. These are computed once; a draw only adds them up by drawn group (matrix products), each
drawn group is reduced once for all its pairs, and all pairs of all draws are fitted together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class ChangeRows:
    """The later rows' changes from baseline, reduced to per-patient sums."""

    months: np.ndarray  # (T,) the later times, sorted
    row: np.ndarray  # (P,) each patient's row among the patients given (sorted by size)
    size: np.ndarray  # (P,) index of each patient's number of later rows in ``sizes`` (sorted)
    sizes: np.ndarray  # (K,)
    # (P, 2U + T + 1): the upper triangles (U terms each) of the within-patient cross-products
    # of [dummies, change] and of the outer product of their means, the rows at each month, 1.
    terms: np.ndarray

    @property
    def n_upper(self) -> int:
        return (self.months.size + 1) * (self.months.size + 2) // 2


@dataclass(frozen=True, eq=False)
class PairFits:
    """Each fitted pair: its draw, groups, patients, and its contrast at each month."""

    draw: np.ndarray  # (F,)
    first: np.ndarray  # (F,) label index of the first group
    second: np.ndarray  # (F,)
    n_patients: np.ndarray  # (F,)
    present: np.ndarray  # (F, T) months with rows in the pair
    estimate: np.ndarray  # (F, T) second minus first; NaN where a group has no row
    se: np.ndarray  # (F, T)


def change_rows(
    long_frame: Any, patients: Sequence[Any], patient: str, time: str, value: str
) -> ChangeRows | None:
    """Reduce the later rows of ``patients`` to per-patient sums, as ``_changes`` selects them.

    Baseline is the earliest time among the patients' rows; patients without a row there are
    left out. Returns None when no patient has a later row.
    """
    frame = long_frame[[patient, time, value]].dropna()
    row_of = {pid: i for i, pid in enumerate(patients)}
    rows = frame[patient].map(row_of).to_numpy(dtype=np.float64)
    mine = ~np.isnan(rows)
    if not mine.any():
        return None
    rows = rows[mine].astype(np.int64)
    times = frame[time].to_numpy()[mine]
    values = frame[value].to_numpy(dtype=np.float64)[mine]
    baseline = times.min()
    at_base = times == baseline
    base = np.full(len(patients), np.nan)
    base[rows[at_base]] = values[at_base]
    later = (times > baseline) & ~np.isnan(base[rows])
    if not later.any():
        return None
    seen_at_base = np.bincount(rows[at_base], minlength=len(patients))
    if (seen_at_base[rows[later]] > 1).any():
        raise ValueError("a patient has more than one baseline row")
    change = values[later] - base[rows[later]]
    patient_rows, code = np.unique(rows[later], return_inverse=True)
    months, month = np.unique(times[later], return_inverse=True)
    n_p, n_t = patient_rows.size, months.size
    n_rows = np.bincount(code, minlength=n_p)
    month_rows = np.bincount(code * n_t + month, minlength=n_p * n_t).reshape(n_p, n_t)
    mean = np.empty((n_p, n_t + 1))
    mean[:, :n_t] = month_rows / n_rows[:, None]
    mean[:, n_t] = np.bincount(code, weights=change, minlength=n_p) / n_rows
    sizes, size = np.unique(n_rows, return_inverse=True)
    # Patients of the same size made adjacent (in their order): ``_sums`` then reads each size's
    # terms as a slice, not a copy.
    by_size = np.argsort(size, kind="stable")
    centred_change = change - mean[code, n_t]
    return ChangeRows(
        months=months,
        row=patient_rows[by_size],
        size=size[by_size],
        sizes=sizes.astype(np.float64),
        terms=_terms(code, month, centred_change, mean, month_rows, by_size),
    )


def _terms(
    code: np.ndarray,
    month: np.ndarray,
    centred_change: np.ndarray,
    mean: np.ndarray,
    month_rows: np.ndarray,
    by_size: np.ndarray,
) -> np.ndarray:
    """Return ``ChangeRows.terms``, the patients in the order ``by_size``.

    Patients are taken in chunks, each as patients x rows (padded with zero rows) x columns;
    only a chunk's whole cross-products and outer products are held (for every patient at
    once they would be several hundred MB at 100,000 patients).
    """
    n_p, q = mean.shape
    n_t = q - 1
    upper = np.triu_indices(q)
    n_u = upper[0].size
    terms = np.empty((n_p, 2 * n_u + n_t + 1))
    at = np.empty(n_p, dtype=np.intp)
    at[by_size] = np.arange(n_p)
    n_rows = np.bincount(code, minlength=n_p)
    order = np.argsort(code, kind="stable")
    starts = np.concatenate([[0], np.cumsum(n_rows)])
    chunk = 4096
    for first in range(0, n_p, chunk):
        last = min(first + chunk, n_p)
        rows = order[starts[first] : starts[last]]
        who = code[rows] - first
        slot = np.arange(rows.size) - (starts[code[rows]] - starts[first])
        # The within cross-products of [dummies, change], centred on the patient's means.
        centred = np.zeros((last - first, int(n_rows[first:last].max()), q))
        centred[who, slot, : q - 1] = -mean[code[rows], : q - 1]
        centred[who, slot, month[rows]] += 1.0
        centred[who, slot, q - 1] = centred_change[rows]
        into = at[first:last]
        terms[into, :n_u] = (np.swapaxes(centred, 1, 2) @ centred)[:, upper[0], upper[1]]
        means = mean[first:last]
        terms[into, n_u : 2 * n_u] = means[:, upper[0]] * means[:, upper[1]]
        terms[into, 2 * n_u : 2 * n_u + n_t] = month_rows[first:last]
    terms[:, -1] = 1.0
    return terms


def _sums(rows: ChangeRows, labels: np.ndarray, n_labels: int) -> np.ndarray:
    """Add up the per-patient terms by draw, drawn group and patient size: (D, L, K, terms)."""
    drawn = labels[:, rows.row]
    n_draws, n_sizes = labels.shape[0], rows.sizes.size
    sums = np.empty((n_labels, n_draws, n_sizes, rows.terms.shape[1]))
    every = np.arange(n_labels)[:, None, None]
    bounds = np.searchsorted(rows.size, np.arange(n_sizes + 1))
    for k in range(n_sizes):
        of_size = slice(bounds[k], bounds[k + 1])  # the patients are sorted by size
        # One product per size, on contiguous operands (BLAS; a strided operand is far slower):
        # (labels x draws, patients) indicators times (patients, terms).
        part = rows.terms[of_size]
        indicator = np.ascontiguousarray(drawn[:, of_size][None] == every, dtype=np.float64)
        sums[:, :, k] = (indicator.reshape(-1, part.shape[0]) @ part).reshape(n_labels, n_draws, -1)
    return sums.transpose(1, 0, 2, 3)


def _square(upper: np.ndarray, n: int) -> np.ndarray:
    """Return the symmetric matrices whose upper triangles are ``upper`` (..., U)."""
    i, j = np.triu_indices(n)
    out = np.zeros((*upper.shape[:-1], n, n))
    out[..., i, j] = upper
    out[..., j, i] = upper
    return out


def _blocks(rows: ChangeRows, sums: np.ndarray, present: np.ndarray) -> tuple[Any, np.ndarray]:
    """Return one block of the fits per drawn group present in a draw (sums[present]), and
    the months at which each block has rows."""
    from analytics.stats.mixed.many import Blocks

    n_t, n_u = rows.months.size, rows.n_upper
    chosen = sums[present]  # (B, K, terms)
    month_rows = chosen[..., 2 * n_u : 2 * n_u + n_t].sum(axis=1)
    keep = np.concatenate([month_rows > 0, np.ones((chosen.shape[0], 1), bool)], axis=1)
    mask = keep[:, :, None] & keep[:, None, :]
    within = _square(chosen[..., :n_u].sum(axis=1), n_t + 1)
    between = _square(chosen[..., n_u : 2 * n_u], n_t + 1)
    blocks = Blocks(
        within=np.where(mask, within, np.eye(n_t + 1)),
        between=np.where(mask[:, None], between, 0.0),
        sizes=rows.sizes,
        counts=chosen[..., -1],
        n_obs=np.rint(month_rows.sum(axis=1)).astype(np.int64),
        n_params=keep[:, :-1].sum(axis=1),
    )
    return blocks, keep[:, :-1]


def pair_fits(rows: ChangeRows, labels: np.ndarray, n_labels: int) -> PairFits:
    """Fit change ~ time x group for every pair of drawn groups of every draw.

    ``labels`` (D, patients given) holds each patient's group (0 .. n_labels - 1) in each draw.
    A pair is fitted when both its groups have a patient with a later row. The model is fitted
    as change ~ 0 + time:group (one set of time effects per group), the same model written with
    the same likelihood (the two designs differ by a unimodular change of columns): its design is
    block diagonal over the two groups, so each drawn group is reduced once for all its pairs
    (analytics.stats.mixed.many), and the group contrast at a time is the difference of the two
    groups' time effects.
    """
    from analytics.stats.mixed.many import fit_many

    sums = _sums(rows, labels, n_labels)
    n_t = rows.months.size
    present = sums[..., -1].sum(axis=2) > 0  # (D, L)
    block = np.full(present.shape, -1)
    block[present] = np.arange(int(present.sum()))
    fits = [
        (d, a, b)
        for d in range(labels.shape[0])
        for a in range(n_labels)
        for b in range(a + 1, n_labels)
        if present[d, a] and present[d, b]
    ]
    if not fits:
        empty = np.zeros(0, dtype=np.int64)
        nothing = np.zeros((0, n_t))
        return PairFits(empty, empty, empty, empty, nothing.astype(bool), nothing, nothing)
    draw, first, second = (np.array(column, dtype=np.int64) for column in zip(*fits, strict=True))
    blocks, seen_by_block = _blocks(rows, sums, present)
    members = np.column_stack([block[draw, first], block[draw, second]])
    fitted = fit_many(blocks, members, reml=True)
    seen = seen_by_block[members]  # (F, 2, T)
    both = seen.all(axis=1)
    return PairFits(
        draw=draw,
        first=first,
        second=second,
        n_patients=np.rint(blocks.counts[members].sum(axis=(1, 2))).astype(np.int64),
        present=seen.any(axis=1),
        estimate=np.where(both, fitted.beta[:, 1] - fitted.beta[:, 0], np.nan),
        se=np.where(both, np.sqrt(fitted.variance.sum(axis=1)), np.nan),
    )
