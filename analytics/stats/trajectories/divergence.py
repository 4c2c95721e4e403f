"""When two trajectories' changes from baseline first differ: a mixed model per pair of groups."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .comparison import _is_missing, _name, draw_classes
from .model import dataclass_dict

# The level of the per-timepoint tests over class draws (after Holm), as first_divergence's.
ALPHA = 0.05
_Z95 = stats.norm.ppf(1 - 0.025)


@dataclass(frozen=True)
class MonthContrast:
    """Difference in change from baseline (second group minus first) at one month."""

    month: float
    coefficient: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    p_adjusted: float = float("nan")  # Holm over the pair's timepoints (or p, uncorrected)
    timepoint: str | None = None  # the study's label of the time (W1, M1..M12)

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True)
class PairDivergence:
    """When two trajectories' changes from baseline first differ, and for how long."""

    first: str
    second: str
    first_month: float | None  # first time with adjusted P < alpha
    until_month: float | None  # last time of that first run of significant times
    sustained: bool  # the run lasts to the last time
    coefficient: float  # at first_month; NaN if never significant
    ci_low: float
    ci_high: float
    p: float  # unadjusted, at first_month
    contrasts: tuple[MonthContrast, ...]
    n_patients: int
    p_adjusted: float = float("nan")  # at first_month, after the correction
    first_timepoint: str | None = None
    until_timepoint: str | None = None
    correction: str = "holm"

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


def _changes(
    long_frame: Any, groups: Mapping[Any, Any] | Any, patient: str, time: str, value: str
) -> Any:
    """Return the later rows of the grouped patients with their change from baseline."""
    frame = long_frame[[patient, time, value]].dropna()
    mapping = dict(groups.items()) if hasattr(groups, "items") else dict(groups)
    frame = frame[frame[patient].isin(list(mapping))]
    frame = frame.sort_values([patient, time])
    baseline_month = frame[time].min()
    base = frame[frame[time] == baseline_month].set_index(patient)[value]
    later = frame[(frame[time] > baseline_month) & frame[patient].isin(base.index)].copy()
    later["change"] = later[value].to_numpy() - base.loc[later[patient]].to_numpy()
    later["group"] = later[patient].map(mapping)
    return later


def _design(month_codes: np.ndarray, is_b: np.ndarray, n_t: int, columns: np.ndarray) -> np.ndarray:
    """Return the ``columns`` of [time dummies, time dummies x is_b] (``n_t`` times), only those.

    Built column by column, in column order (as the solver reads it): the whole design and its
    selection would be three copies of rows x 2 times (hundreds of MB at 100,000 patients).
    """
    design = np.zeros((month_codes.size, columns.size), order="F")
    for at, column in enumerate(columns.tolist()):
        if column < n_t:
            design[:, at] = month_codes == column
        else:
            design[:, at] = (month_codes == column - n_t) * is_b
    return design


def _pair_contrasts(
    pair: Any,
    second: Any,
    *,
    patient: str,
    time: str,
    correction: str,
    timepoints: Mapping[float, str] | None,
) -> list[MonthContrast]:
    """Fit change ~ time x group on one pair's rows; return the group contrast at each time."""
    import pandas as pd

    from analytics.stats.mixed.model import fit_lmm

    months = np.sort(pair[time].unique())
    month_codes = pd.Categorical(pair[time], categories=months).codes
    is_b = (pair["group"] == second).to_numpy(dtype=np.float64)
    # A time seen in one group only (an ongoing cohort's late timepoints) has no contrast: its
    # interaction column would repeat its time column. It is left out and reported as missing.
    n_t = months.size
    in_a = np.bincount(month_codes[is_b == 0], minlength=n_t) > 0
    in_b = np.bincount(month_codes[is_b == 1], minlength=n_t) > 0
    keep = np.concatenate([in_a | in_b, in_a & in_b])
    fitted = fit_lmm(
        pair["change"].to_numpy(dtype=np.float64),
        _design(month_codes, is_b, n_t, np.flatnonzero(keep)),
        pair[patient].to_numpy(),
        reml=True,
    )
    params = np.full(2 * n_t, np.nan)
    ses = np.full(2 * n_t, np.nan)
    params[keep] = fitted.params
    ses[keep] = fitted.se
    return _contrasts(months, params[months.size :], ses[months.size :], correction, timepoints)


def _contrasts(
    months: np.ndarray,
    estimates: np.ndarray,
    ses: np.ndarray,
    correction: str,
    timepoints: Mapping[float, str] | None,
) -> list[MonthContrast]:
    """Return the contrast at each month with its 95% CI, Wald P and corrected P."""
    z = _Z95
    with np.errstate(divide="ignore", invalid="ignore"):
        # stats.norm.sf(z) is ndtr(-z), without its per-call checks.
        wald = 2 * special.ndtr(-np.abs(estimates / ses))
    raw = [float(p) if se > 0 else float("nan") for p, se in zip(wald, ses, strict=True)]
    adjusted = holm(raw) if correction == "holm" else raw
    contrasts = []
    for i, month in enumerate(months):
        est, se = estimates[i], ses[i]
        contrasts.append(
            MonthContrast(
                float(month),
                float(est),
                float(se),
                est - z * se,
                est + z * se,
                raw[i],
                float(adjusted[i]),
                None if timepoints is None else timepoints.get(float(month)),
            )
        )
    return contrasts


def _first_run(contrasts: Sequence[MonthContrast], alpha: float) -> tuple[int | None, int | None]:
    """Return where the first run of significant contrasts starts and ends (None if none)."""
    significant = [c.p_adjusted < alpha for c in contrasts]
    first_i = next((i for i, s in enumerate(significant) if s), None)
    until_i = None
    if first_i is not None:
        until_i = first_i
        while until_i + 1 < len(significant) and significant[until_i + 1]:
            until_i += 1
    return first_i, until_i


def _pair_divergence(
    first: str,
    second: str,
    contrasts: Sequence[MonthContrast],
    n_patients: int,
    *,
    alpha: float,
    correction: str,
) -> PairDivergence:
    """Return where a pair's first run of significant contrasts starts and ends."""
    first_i, until_i = _first_run(contrasts, alpha)
    hit = contrasts[first_i] if first_i is not None else None
    until = contrasts[until_i] if until_i is not None else None
    nan = float("nan")
    return PairDivergence(
        first=first,
        second=second,
        first_month=hit.month if hit else None,
        until_month=until.month if until else None,
        sustained=until_i == len(contrasts) - 1 if until_i is not None else False,
        coefficient=hit.coefficient if hit else nan,
        ci_low=float(hit.ci_low) if hit else nan,
        ci_high=float(hit.ci_high) if hit else nan,
        p=hit.p if hit else nan,
        contrasts=tuple(contrasts),
        n_patients=n_patients,
        p_adjusted=hit.p_adjusted if hit else nan,
        first_timepoint=hit.timepoint if hit else None,
        until_timepoint=until.timepoint if until else None,
        correction=correction,
    )


def first_divergence(
    long_frame: Any,
    groups: Mapping[Any, Any] | Any,
    *,
    patient: str = "patient",
    time: str = "month",
    value: str = "nprs",
    alpha: float = 0.05,
    group_names: Mapping[Any, str] | None = None,
    correction: str = "holm",
    timepoints: Mapping[float, str] | None = None,
) -> tuple[PairDivergence, ...]:
    """Find, per pair of groups, the first timepoint at which change from baseline differs.

    `long_frame` is a pandas DataFrame with one row per patient and time; baseline is each
    patient's earliest time. Time is read as the study's timepoints (categories, W1 = 0.25 month
    is a week, not a month; ``timepoints`` maps a time to its label). For each pair a linear
    mixed model (random intercept per patient, REML, the profiled solver of
    ``analytics.stats.mixed``) of change ~ time (categorical) x group is fitted on the later
    timepoints; the group contrast at each timepoint is reported with its 95% CI and Wald P.
    A timepoint counts as different when its P, corrected for the pair's number of timepoints
    (``correction``: "holm", Holm's step-down, or "none"), is below ``alpha``.
    """
    if correction not in ("holm", "none"):
        raise ValueError(f"unknown correction {correction!r}; choose 'holm' or 'none'")
    later = _changes(long_frame, groups, patient, time, value)
    labels = sorted({g for g in pd.unique(later["group"]) if not _is_missing(g)})
    results = []
    for a, b in itertools.combinations(labels, 2):
        pair = later[later["group"].isin([a, b])]
        contrasts = _pair_contrasts(
            pair, b, patient=patient, time=time, correction=correction, timepoints=timepoints
        )
        results.append(
            _pair_divergence(
                _name(a, group_names),
                _name(b, group_names),
                contrasts,
                int(pair[patient].nunique()),
                alpha=alpha,
                correction=correction,
            )
        )
    return tuple(results)


def holm(p_values: Sequence[float]) -> list[float]:
    """Return Holm's step-down adjusted P values (NaN stays NaN and does not count)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.size, np.nan)
    known = np.flatnonzero(np.isfinite(p))
    m = known.size
    order = known[np.argsort(p[known], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        out[index] = running
    return [float(v) for v in out]


def _summarise_draws(
    per_draw: Sequence[Mapping[str, PairDivergence]], key: str, draws: int
) -> dict[str, Any]:
    """Return how one pair's first divergence varied over the class draws."""
    found = [d[key] for d in per_draw if key in d]
    hits = [p for p in found if p.first_month is not None]
    counts: dict[str, int] = {}
    for p in found:
        label = p.first_timepoint or (str(p.first_month) if p.first_month is not None else "none")
        counts[label] = counts.get(label, 0) + 1
    by_time: dict[float, list[MonthContrast]] = {}
    for p in found:
        for c in p.contrasts:
            by_time.setdefault(c.month, []).append(c)
    contrasts = []
    for month in sorted(by_time):
        items = by_time[month]
        adjusted = np.array([c.p_adjusted for c in items], dtype=float)
        adjusted = adjusted[np.isfinite(adjusted)]
        contrasts.append(
            {
                "month": month,
                "timepoint": items[0].timepoint,
                "draws": len(items),
                "draws_significant": int((adjusted < ALPHA).sum()),
                "p_holm_median": float(np.median(adjusted)) if adjusted.size else None,
                "coefficient_median": float(np.median([c.coefficient for c in items])),
            }
        )
    months = [p.first_month for p in hits if p.first_month is not None]
    return {
        "draws": draws,
        "draws_with_pair": len(found),
        "draws_diverging": len(hits),
        "first_timepoint_counts": counts,
        "first_timepoint_most_often": max(counts, key=lambda k: counts[k]) if counts else None,
        "first_month_median": float(np.median(months)) if months else None,
        "p_holm_median_at_first": (
            float(np.median([p.p_adjusted for p in hits])) if hits else None
        ),
        "contrasts": contrasts,
    }


def _divergence_by_draw(
    long_frame: Any,
    patients: Sequence[Any],
    posterior: Any,
    names: Sequence[str],
    *,
    draws: int,
    seed: int,
    patient: str,
    time: str,
    value: str,
    timepoints: Mapping[float, str] | None,
) -> list[dict[str, PairDivergence]]:
    """Return, for each class draw, ``first_divergence`` (Holm) of each pair, by "first|second".

    Every draw groups the same patients, so their changes from baseline are reduced once and all
    pairs of all draws are fitted together (``divergence_fits``), with first_divergence's model.
    """
    from .divergence_fits import change_rows, pair_fits

    post = np.asarray(posterior, dtype=np.float64)
    keep = np.isfinite(post).all(axis=1)
    kept = np.asarray(patients, dtype=object)[keep]
    per_draw: list[dict[str, PairDivergence]] = [{} for _ in range(draws)]
    rows = change_rows(long_frame, list(kept), patient, time, value)
    if rows is None or draws <= 0:
        return per_draw
    labels = sorted(set(names))
    label_of_class = np.array([labels.index(name) for name in names], dtype=np.int64)
    sampled = np.stack(draw_classes(post[keep], draws, seed))
    fits = pair_fits(rows, label_of_class[sampled], len(labels))
    for f, draw in enumerate(fits.draw.tolist()):
        present = fits.present[f]
        contrasts = _contrasts(
            rows.months[present], fits.estimate[f, present], fits.se[f, present], "holm", timepoints
        )
        pair = _pair_divergence(
            _name(labels[fits.first[f]], None),
            _name(labels[fits.second[f]], None),
            contrasts,
            int(fits.n_patients[f]),
            alpha=ALPHA,
            correction="holm",
        )
        per_draw[draw][f"{pair.first}|{pair.second}"] = pair
    return per_draw


def first_divergence_over_draws(
    long_frame: Any,
    patients: Sequence[Any],
    posterior: Any,
    names: Sequence[str],
    *,
    draws: int = 50,
    seed: int = 0,
    patient: str = "patient",
    time: str = "month",
    value: str = "nprs",
    timepoints: Mapping[float, str] | None = None,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Redo ``first_divergence`` (Holm) over classes drawn from the posteriors.

    Each draw gives every patient (``patients``, one per posterior row; rows without a finite
    posterior are left out) a group sampled from their posterior row, named by ``names``, and
    finds each pair's first divergence as ``first_divergence`` does. Returns, per pair, in how
    many draws the pair diverged, where it first did, and per timepoint the median Holm P and
    the number of draws in which it was below .05.
    """
    per_draw = _divergence_by_draw(
        long_frame,
        patients,
        posterior,
        names,
        draws=draws,
        seed=seed,
        patient=patient,
        time=time,
        value=value,
        timepoints=timepoints,
    )
    out = {}
    for a, b in itertools.combinations(sorted(names), 2):
        out[(a, b)] = _summarise_draws(per_draw, f"{a}|{b}", draws)
    return out
