"""Comparisons between trajectory groups: baseline characteristics and first divergence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from .model import dataclass_dict

# Monte Carlo resamples for Fisher's test on tables that are too large to enumerate; with
# 100,000 resamples the standard error of a P value near 0.05 is about 0.0007.
FISHER_RESAMPLES = 100_000
# Tables with more candidate first rows than this are not enumerated exactly.
FISHER_EXACT_LIMIT = 2_000_000


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test P value and how it was computed."""

    p: float
    method: str  # "exact" or "monte_carlo (n_resamples=..., seed=...)"

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True)
class CategoricalComparison:
    """Counts by level and group, chi-square without Yates' correction and Fisher's test."""

    variable: str
    groups: tuple[str, ...]
    levels: tuple[str, ...]
    group_n: tuple[int, ...]  # non-missing patients per group
    counts: tuple[tuple[int, ...], ...]  # levels x groups
    percents: tuple[tuple[float, ...], ...]  # of the group's non-missing patients
    chi2: float
    chi2_df: int
    chi2_p: float
    fisher_p: float
    fisher_method: str

    def to_dict(self) -> dict[str, Any]:
        out = dataclass_dict(self)
        out["kind"] = "categorical"
        out["summary"] = [
            [f"{c} ({pct:.1f}%)" for c, pct in zip(row_c, row_p, strict=True)]
            for row_c, row_p in zip(self.counts, self.percents, strict=True)
        ]
        return out


@dataclass(frozen=True)
class ContinuousComparison:
    """Mean (SD) and median by group, one-way ANOVA and Kruskal-Wallis (tie-corrected)."""

    variable: str
    groups: tuple[str, ...]
    n: tuple[int, ...]
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    median: tuple[float, ...]
    q1: tuple[float, ...]
    q3: tuple[float, ...]
    anova_f: float
    anova_p: float
    kruskal_h: float
    kruskal_p: float

    def to_dict(self) -> dict[str, Any]:
        out = dataclass_dict(self)
        out["kind"] = "continuous"
        out["summary"] = [
            f"{m:.1f} ({s:.1f})" if n > 1 else (f"{m:.1f}" if n == 1 else "")
            for m, s, n in zip(self.mean, self.sd, self.n, strict=True)
        ]
        return out


def chi_square_no_yates(table: ArrayLike) -> tuple[float, int, float]:
    """Return Pearson's chi-square, df and P without continuity correction (Stata `tab, chi2`)."""
    observed = np.asarray(table, dtype=np.float64)
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    if observed.shape[0] < 2 or observed.shape[1] < 2:
        return float("nan"), 0, float("nan")
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0) / observed.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    df = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return chi2, df, float(stats.chi2.sf(chi2, df))


_EXTEND_CELLS = 1 << 20


def _two_row_exact(table: NDArray[np.int64], limit: int) -> float | None:
    """Exact Fisher P for a 2 x C table by enumerating first rows; None if too many."""
    row_total = int(table[0].sum())
    cols = table.sum(axis=0)
    n = int(cols.sum())
    # Partial first rows as (running sum, running log of prod C(c_j, x_j)).
    sums = np.zeros(1, dtype=np.int64)
    logs = np.zeros(1)
    remaining = int(cols.sum())
    for c in cols[:-1]:
        c = int(c)
        remaining -= c
        x = np.arange(c + 1)
        log_x = _log_comb(c, x)
        # Extend the partial rows a slice at a time (all at once they are partial rows x
        # (c + 1) numbers: gigabytes at 30,000 patients) and stop as soon as the limit is
        # passed; the kept rows come out in the same order as from the whole product.
        step = max(1, _EXTEND_CELLS // (c + 1))
        kept_sums: list[NDArray[np.int64]] = []
        kept_logs: list[NDArray[np.float64]] = []
        kept = 0
        for start in range(0, sums.size, step):
            new_sums = (sums[start : start + step, None] + x[None, :]).ravel()
            new_logs = (logs[start : start + step, None] + log_x[None, :]).ravel()
            # Keep only partial rows that the remaining columns can still complete.
            feasible = (new_sums <= row_total) & (new_sums >= row_total - remaining)
            kept_sums.append(new_sums[feasible])
            kept_logs.append(new_logs[feasible])
            kept += kept_sums[-1].size
            if kept > limit:
                return None
        sums, logs = np.concatenate(kept_sums), np.concatenate(kept_logs)
    last = int(cols[-1])
    x_last = row_total - sums
    logs = logs + _log_comb(last, x_last)
    log_total = float(special.gammaln(n + 1) - special.gammaln(row_total + 1))
    log_total -= float(special.gammaln(n - row_total + 1))
    log_p = logs - log_total
    observed = float(_log_comb(cols, table[0]).sum()) - log_total
    # Relative tolerance so tables of equal probability count as "as extreme" despite rounding.
    keep = log_p <= observed + 1e-7
    return float(min(1.0, np.exp(special.logsumexp(log_p[keep])))) if keep.any() else 0.0


def _log_comb(n: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    n_arr = np.asarray(n, dtype=np.float64)
    k_arr = np.asarray(k, dtype=np.float64)
    return np.asarray(
        special.gammaln(n_arr + 1) - special.gammaln(k_arr + 1) - special.gammaln(n_arr - k_arr + 1)
    )


def fisher_exact_rxc(
    table: ArrayLike,
    *,
    n_resamples: int = FISHER_RESAMPLES,
    seed: int = 0,
    exact_limit: int = FISHER_EXACT_LIMIT,
) -> FisherResult:
    """Return Fisher's test for an R x C table.

    2 x 2 tables use scipy's exact test; 2 x C and R x 2 tables are enumerated exactly (P = sum of
    probabilities of tables no more probable than the observed one); larger tables use a seeded
    Monte Carlo over tables with the observed margins.
    """
    counts = np.asarray(table, dtype=np.int64)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.ndim != 2 or counts.shape[0] < 2 or counts.shape[1] < 2:
        return FisherResult(float("nan"), "not computed (fewer than 2 levels or groups)")
    if counts.shape == (2, 2):
        return FisherResult(float(stats.fisher_exact(counts).pvalue), "exact")
    if counts.shape[0] == 2 or counts.shape[1] == 2:
        two_row = counts if counts.shape[0] == 2 else counts.T
        exact = _two_row_exact(two_row, exact_limit)
        if exact is not None:
            return FisherResult(exact, "exact")
    method = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
    p = float(stats.fisher_exact(counts, method=method).pvalue)
    return FisherResult(p, f"monte_carlo (n_resamples={n_resamples}, seed={seed})")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pandas.NA refuses truth testing
        return True


def _group_labels(groups: ArrayLike) -> tuple[NDArray[Any], list[Any]]:
    labels = np.asarray(groups, dtype=object)
    # The distinct labels first (patients share a few), then the valid ones among them.
    valid = [
        g
        for g in dict.fromkeys(labels.tolist())
        if not _is_missing(g) and not (isinstance(g, int | np.integer) and g < 0)
    ]
    return labels, sorted(valid, key=lambda g: (str(type(g)), g))


def _name(label: Any, names: Mapping[Any, str] | None) -> str:
    if names and label in names:
        return names[label]
    if isinstance(label, int | np.integer):
        return f"T{int(label) + 1}"
    return str(label)


def compare_categorical(
    values: ArrayLike,
    groups: ArrayLike,
    *,
    variable: str = "",
    group_names: Mapping[Any, str] | None = None,
    n_resamples: int = FISHER_RESAMPLES,
    seed: int = 0,
) -> CategoricalComparison:
    """Cross-tabulate a categorical variable by group and test independence."""
    labels, order = _group_labels(groups)
    raw = np.asarray(values, dtype=object)
    if raw.shape != labels.shape:
        raise ValueError("values and groups must have the same length")
    keep = np.array(
        [not _is_missing(v) and (g in order) for v, g in zip(raw, labels, strict=True)], dtype=bool
    )
    levels = sorted(set(raw[keep]), key=lambda v: (str(type(v)), v))
    table = np.zeros((len(levels), len(order)), dtype=np.int64)
    level_index = {v: i for i, v in enumerate(levels)}
    group_index = {g: j for j, g in enumerate(order)}
    for v, g in zip(raw[keep], labels[keep], strict=True):
        table[level_index[v], group_index[g]] += 1
    group_n = table.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        percents = np.where(group_n > 0, 100.0 * table / np.maximum(group_n, 1), np.nan)
    chi2, df, chi2_p = chi_square_no_yates(table)
    fisher = fisher_exact_rxc(table, n_resamples=n_resamples, seed=seed)
    return CategoricalComparison(
        variable=variable,
        groups=tuple(_name(g, group_names) for g in order),
        levels=tuple(str(v) for v in levels),
        group_n=tuple(int(v) for v in group_n),
        counts=tuple(tuple(int(c) for c in row) for row in table),
        percents=tuple(tuple(float(c) for c in row) for row in percents),
        chi2=chi2,
        chi2_df=df,
        chi2_p=chi2_p,
        fisher_p=fisher.p,
        fisher_method=fisher.method,
    )


def compare_continuous(
    values: ArrayLike,
    groups: ArrayLike,
    *,
    variable: str = "",
    group_names: Mapping[Any, str] | None = None,
) -> ContinuousComparison:
    """Summarise a continuous variable by group; one-way ANOVA and Kruskal-Wallis."""
    labels, order = _group_labels(groups)
    raw = np.asarray(values)
    if raw.dtype.kind in "biuf":  # numbers already (NaN for missing): as float(v) gives them
        numbers = raw.astype(np.float64)
    else:
        numbers = np.array(
            [np.nan if _is_missing(v) else float(v) for v in np.asarray(values, dtype=object)]
        )
    if numbers.shape != labels.shape:
        raise ValueError("values and groups must have the same length")
    samples = [numbers[(labels == g) & ~np.isnan(numbers)] for g in order]
    nan = float("nan")
    usable = [s for s in samples if s.size > 0]
    anova_f = anova_p = kruskal_h = kruskal_p = nan
    if len(usable) >= 2 and sum(s.size for s in usable) > len(usable):
        with np.errstate(all="ignore"):
            anova = stats.f_oneway(*usable)
            anova_f, anova_p = float(anova.statistic), float(anova.pvalue)
        pooled = np.concatenate(usable)
        if np.unique(pooled).size > 1:
            # scipy's kruskal divides H by the tie correction 1 - sum(t^3 - t)/(n^3 - n).
            kw = stats.kruskal(*usable)
            kruskal_h, kruskal_p = float(kw.statistic), float(kw.pvalue)
    return ContinuousComparison(
        variable=variable,
        groups=tuple(_name(g, group_names) for g in order),
        n=tuple(int(s.size) for s in samples),
        mean=tuple(float(s.mean()) if s.size else nan for s in samples),
        sd=tuple(float(s.std(ddof=1)) if s.size > 1 else nan for s in samples),
        median=tuple(float(np.median(s)) if s.size else nan for s in samples),
        q1=tuple(float(np.percentile(s, 25)) if s.size else nan for s in samples),
        q3=tuple(float(np.percentile(s, 75)) if s.size else nan for s in samples),
        anova_f=anova_f,
        anova_p=anova_p,
        kruskal_h=kruskal_h,
        kruskal_p=kruskal_p,
    )


def baseline_by_trajectory(
    data: Mapping[str, ArrayLike],
    groups: ArrayLike,
    *,
    categorical: Sequence[str] = (),
    continuous: Sequence[str] = (),
    group_names: Mapping[Any, str] | None = None,
    n_resamples: int = FISHER_RESAMPLES,
    seed: int = 0,
) -> tuple[CategoricalComparison | ContinuousComparison, ...]:
    """Compare baseline characteristics across trajectory groups, one result per variable.

    `data` maps a variable name to one value per patient (a dict of arrays or a DataFrame);
    `groups` gives each patient's group (e.g. `TrajectoryFit.assignment`; -1 or None = left out).
    """
    results: list[CategoricalComparison | ContinuousComparison] = []
    for name in categorical:
        results.append(
            compare_categorical(
                data[name],
                groups,
                variable=name,
                group_names=group_names,
                n_resamples=n_resamples,
                seed=seed,
            )
        )
    for name in continuous:
        results.append(
            compare_continuous(data[name], groups, variable=name, group_names=group_names)
        )
    return tuple(results)


# -- group comparisons that carry the classification uncertainty ---------------------------------
def draw_classes(posterior: ArrayLike, draws: int, seed: int) -> list[NDArray[np.int64]]:
    """Return ``draws`` groups for every row of ``posterior`` (finite rows), each drawn from it."""
    post = np.asarray(posterior, dtype=np.float64)
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(post / post.sum(axis=1, keepdims=True), axis=1)
    return [
        np.minimum(
            (np.asarray(rng.random(post.shape[0]))[:, None] > cumulative).sum(axis=1),
            post.shape[1] - 1,
        ).astype(np.int64)
        for _ in range(draws)
    ]


def anova_over_draws(
    values: NDArray[np.float64], samples: NDArray[np.int64], k: int
) -> list[float]:
    """One-way ANOVA P of ``values`` by each row of group ``samples`` (draws x patients).

    Computed from group counts, sums and sums of squares at once for every draw; a draw with
    fewer than two non-empty groups gives NaN, and one whose groups have no spread left (or a
    group of one value only) is handed to scipy's f_oneway, which decides those edge cases.
    """
    ok = np.isfinite(values)
    x, groups = values[ok], samples[:, ok]
    draws = groups.shape[0]
    index = groups + k * np.arange(draws)[:, None]
    n = np.bincount(index.ravel(), minlength=draws * k).reshape(draws, k).astype(float)
    centred = x - x.mean() if x.size else x
    shifted = np.bincount(index.ravel(), np.tile(centred, draws), draws * k).reshape(draws, k)
    squares = np.bincount(index.ravel(), np.tile(centred**2, draws), draws * k).reshape(draws, k)
    out = []
    for d in range(draws):
        seen = n[d] > 0
        groups_seen = int(seen.sum())
        if groups_seen < 2:
            out.append(float("nan"))
            continue
        between = float(np.sum(shifted[d, seen] ** 2 / n[d, seen]))
        within = float(np.sum(squares[d, seen]) - between)
        df_b, df_w = groups_seen - 1, int(n[d].sum()) - groups_seen
        if df_w <= 0 or within <= 1e-12 * max(float(np.sum(squares[d])), 1.0):
            parts = [x[groups[d] == g] for g in np.flatnonzero(seen)]
            out.append(float(stats.f_oneway(*parts).pvalue))
            continue
        out.append(float(stats.f.sf((between / df_b) / (within / df_w), df_b, df_w)))
    return out


def chi_square_over_draws(
    flags: NDArray[np.bool_], samples: NDArray[np.int64], k: int
) -> list[float]:
    """Pearson chi-square P (no Yates) of ``flags`` by each row of ``samples`` (draws x patients).

    Empty groups and an absent flag value are dropped, as scipy's chi2_contingency needs; a
    table left with one row or one column gives NaN.
    """
    draws = samples.shape[0]
    cell = samples * 2 + flags.astype(np.int64)[None, :] + 2 * k * np.arange(draws)[:, None]
    tables = np.bincount(cell.ravel(), minlength=draws * 2 * k).reshape(draws, k, 2)
    out = []
    for table in tables.astype(float):
        table = table[table.sum(axis=1) > 0]
        table = table[:, table.sum(axis=0) > 0]
        if min(table.shape) < 2:
            out.append(float("nan"))
            continue
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        statistic = float(np.sum((table - expected) ** 2 / expected))
        dof = (table.shape[0] - 1) * (table.shape[1] - 1)
        out.append(float(stats.chi2.sf(statistic, dof)))
    return out


def pseudo_class_tests(
    data: Any,
    posterior: ArrayLike,
    *,
    continuous: Sequence[str] = (),
    categorical: Sequence[str] = (),
    draws: int = 50,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Compare groups over classes drawn from the posteriors (pseudo-class draws).

    Each draw gives every patient a group sampled from their posterior row (rows with no finite
    posterior are left out) and recomputes the test: one-way ANOVA for ``continuous`` columns,
    Pearson chi-square without Yates' correction for ``categorical`` ones. The spread of P over
    draws shows what the tests are worth once patients are not treated as surely classified
    (Wang, Brown & Bandeen-Roche 2005); it is as honest as the posteriors themselves.
    """
    post = np.asarray(posterior, dtype=np.float64)
    keep = np.isfinite(post).all(axis=1)
    post = post[keep]
    frame = data.loc[keep] if hasattr(data, "loc") else data[keep]
    samples = np.asarray(draw_classes(post, draws, seed)).reshape(draws, post.shape[0])
    out: dict[str, dict[str, Any]] = {}
    for name in (*continuous, *categorical):
        values = np.asarray(frame[name])
        if name in continuous:
            p_values = anova_over_draws(values.astype(float), samples, post.shape[1])
        else:
            p_values = chi_square_over_draws(values.astype(bool), samples, post.shape[1])
        arr = np.asarray(p_values)
        arr = arr[np.isfinite(arr)]
        out[name] = {
            "test": "one-way ANOVA" if name in continuous else "chi-square without Yates",
            "draws": int(arr.size),
            "p_median": float(np.median(arr)) if arr.size else None,
            "p_95_range": [float(v) for v in np.quantile(arr, [0.025, 0.975])]
            if arr.size
            else [None, None],
            "share_p_below_05": float(np.mean(arr < 0.05)) if arr.size else None,
        }
    return out
