"""Moderation of the MADRS course by baseline pain (Lan et al. 2022): pure, no Django.

Input is a long frame, one row per patient and MADRS visit, with ``patient``, ``day`` (days since
the first infusion; 0 is the baseline visit before it), ``madrs`` and the patient's baseline
columns (``pain_group`` in none/mild/severe, the SF-MPQ domains ``vas``, ``sensory``,
``affective``, ``ppi``, ``total``). Rows with a missing MADRS are dropped (the mixed model uses
every observed visit, missing at random).

Time is categorical (one level per visit day, baseline as reference): the mean course after
ketamine is not linear in days (improvement over the infusions, partial loss by day 26), and the
"time x pain interaction" is then the joint test of all visit-by-pain terms (omnibus Wald
chi-square on as many df as post-baseline visits, and the likelihood-ratio test of the same terms
from ML fits). Estimates and Wald tests come from REML fits of the project's random-intercept
engine (:mod:`analytics.stats.mixed`); P values and 95% CIs are normal-based (large sample).

A continuous moderator is centred at its mean over the patients analysed, so the time terms are
the course at average pain; ``scale="sd"`` (the default) expresses it per standard deviation of
the patients' values, ``scale="raw"`` per unit of the domain (mm of VAS, points of an index).
Each interaction is then the extra MADRS change from baseline at that visit per unit of the
moderator (negative: more pain, more improvement). Two one-number summaries are reported: the
interaction averaged over the post-baseline visits (``mean_post``) and at the last visit
(``last``, day 26).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats.mixed.model import Contrast, MixedResult, _num, fit

PAIN_GROUPS: tuple[str, ...] = ("none", "mild", "severe")
DOMAINS: tuple[str, ...] = ("vas", "sensory", "affective", "ppi", "total")
BINARY: tuple[str, ...] = (
    "men",
    "suicidality",
    "two_or_more_antidepressants",
    "mood_stabilizers",
    "benzodiazepines",
    "antipsychotics",
)
_Z95 = 1.959963984540054


def wilson(count: int, total: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """Return the Wilson score interval of ``count / total`` (None, None when total is 0)."""
    if total <= 0:
        return None, None
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    p = count / total
    denom = 1.0 + z * z / total
    centre = (p + z * z / (2.0 * total)) / denom
    half = z * math.sqrt(p * (1.0 - p) / total + z * z / (4.0 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _contrast_dict(c: Contrast) -> dict[str, Any]:
    return {
        "estimate": _num(c.estimate),
        "se": _num(c.se),
        "ci95": [_num(c.ci[0]), _num(c.ci[1])],
        "p": _num(c.p),
    }


def _observed(long: pd.DataFrame, outcome: str) -> pd.DataFrame:
    return long.loc[long[outcome].notna()].copy()


def _post_days(data: pd.DataFrame, time: str) -> list[Any]:
    return sorted(data[time].unique().tolist())[1:]


def _scaled_moderator(
    data: pd.DataFrame, column: str, scale: str, by: str
) -> tuple[pd.Series, float]:
    """Centre a patient-level column at its patient mean; divide by its patient SD if asked."""
    per_patient = data.groupby(by)[column].first().astype(float)
    centred = data[column].astype(float) - per_patient.mean()
    if scale == "raw":
        return centred, 1.0
    if scale != "sd":
        raise ValueError(f"scale must be 'sd' or 'raw', not {scale!r}")
    sd = float(per_patient.std(ddof=1))
    return centred / sd, sd


def moderation_model(
    long: pd.DataFrame,
    moderator: str,
    *,
    outcome: str = "madrs",
    time: str = "day",
    scale: str = "sd",
    by: str = "patient",
) -> dict[str, Any]:
    """Fit ``outcome ~ C(time) + m + C(time):m`` with a random patient intercept; test the m terms.

    Returns the per-visit interactions, the two summaries (``mean_post``, ``last``), the omnibus
    Wald test (REML fit) and the likelihood-ratio test against ``C(time) + m`` (ML fits).
    """
    data = _observed(long, outcome).dropna(subset=[moderator])
    m, sd = _scaled_moderator(data, moderator, scale, by)
    data = data.assign(_m=m.to_numpy())
    full_spec = f"C({time}) + _m + C({time}):_m"
    reml = fit(data, outcome, full_spec, group=by, reml=True)
    days = _post_days(data, time)
    terms = [f"C({time})[{d}]:_m" for d in days]
    omnibus = reml.wald(terms)
    full_ml = fit(data, outcome, full_spec, group=by, reml=False)
    reduced_ml = fit(data, outcome, f"C({time}) + _m", group=by, reml=False)
    lr = max(0.0, 2.0 * (full_ml.loglik - reduced_ml.loglik))
    per_visit = {
        str(d): _contrast_dict(reml.contrast({t: 1.0})) for d, t in zip(days, terms, strict=True)
    }
    return {
        "moderator": moderator,
        "scale": scale,
        "unit": "1 SD" if scale == "sd" else "1 point",
        "sd": _num(sd) if scale == "sd" else None,
        "method": reml.method,
        "n_patients": reml.n_groups,
        "n_observations": reml.n_obs,
        "per_visit": per_visit,
        "mean_post": _contrast_dict(reml.contrast({t: 1.0 / len(terms) for t in terms})),
        "last": {"day": _num(days[-1]), **_contrast_dict(reml.contrast({terms[-1]: 1.0}))},
        "omnibus_wald": {"chi2": _num(omnibus.chi2), "df": omnibus.df, "p": _num(omnibus.p)},
        "omnibus_lr": {
            "chi2": _num(lr),
            "df": len(terms),
            "p": _num(stats.chi2.sf(lr, len(terms))),
        },
        "sigma_u2": _num(reml.sigma_u2),
        "sigma_e2": _num(reml.sigma_e2),
    }


def moderation_by_domain(
    long: pd.DataFrame, domains: Sequence[str] = DOMAINS, **options: Any
) -> dict[str, Any]:
    """Run :func:`moderation_model` for each SF-MPQ domain; keys are the domain names."""
    return {domain: moderation_model(long, domain, **options) for domain in domains}


def _group_codes(data: pd.DataFrame, group: str, levels: Sequence[str]) -> pd.Series:
    unknown = set(data[group].dropna().unique()) - set(levels)
    if unknown:
        raise ValueError(f"unknown {group} values: {sorted(unknown)}")
    return data[group].map({level: k for k, level in enumerate(levels)})


def group_model(
    long: pd.DataFrame,
    *,
    outcome: str = "madrs",
    time: str = "day",
    group: str = "pain_group",
    levels: Sequence[str] = PAIN_GROUPS,
    by: str = "patient",
    reml: bool = True,
) -> tuple[MixedResult, list[Any]]:
    """Fit ``outcome ~ C(time) + C(g) + C(time):C(g)`` (g coded 0.. in ``levels`` order)."""
    data = _observed(long, outcome).dropna(subset=[group])
    data = data.assign(_g=_group_codes(data, group, levels).to_numpy())
    result = fit(data, outcome, f"C({time}) + C(_g) + C({time}):C(_g)", group=by, reml=reml)
    return result, _post_days(data, time)


def _change_weights(time: str, day: Any, level: int) -> dict[str, float]:
    """Weights of the change from baseline to ``day`` within group ``level``."""
    weights = {f"C({time})[{day}]": 1.0}
    if level:
        weights[f"C({time})[{day}]:C(_g)[{level}]"] = 1.0
    return weights


def _summary_weights(time: str, days: Sequence[Any], level: int, which: str) -> dict[str, float]:
    chosen = list(days) if which == "mean_post" else [days[-1]]
    out: dict[str, float] = {}
    for d in chosen:
        for term, w in _change_weights(time, d, level).items():
            out[term] = out.get(term, 0.0) + w / len(chosen)
    return out


def _difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    out = dict(a)
    for term, w in b.items():
        out[term] = out.get(term, 0.0) - w
    return out


def simple_slopes(
    long: pd.DataFrame,
    *,
    time: str = "day",
    levels: Sequence[str] = PAIN_GROUPS,
    **options: Any,
) -> dict[str, Any]:
    """MADRS change from baseline within each pain group, and severe vs mild and vs none.

    For each group: the change averaged over the post-baseline visits (``mean_post``), the change
    at the last visit (``last``) and the change at every visit, each with SE, 95% CI and P. The
    contrasts are differences of changes (negative: the first group improved more). ``omnibus``
    tests every visit-by-group term jointly (Wald, REML).
    """
    result, days = group_model(long, time=time, levels=levels, **options)
    groups: dict[str, Any] = {}
    weights: dict[tuple[str, str], dict[str, float]] = {}
    for k, level in enumerate(levels):
        block: dict[str, Any] = {}
        for which in ("mean_post", "last"):
            weights[(level, which)] = _summary_weights(time, days, k, which)
            block[which] = _contrast_dict(result.contrast(weights[(level, which)]))
        block["per_visit"] = {
            str(d): _contrast_dict(result.contrast(_change_weights(time, d, k))) for d in days
        }
        groups[level] = block
    contrasts: dict[str, Any] = {}
    top = levels[-1]
    for other in levels[:-1]:
        contrasts[f"{top}_vs_{other}"] = {
            which: _contrast_dict(
                result.contrast(_difference(weights[(top, which)], weights[(other, which)]))
            )
            for which in ("mean_post", "last")
        }
    interaction = [t for t in result.term_names if ":C(_g)[" in t]
    omnibus = result.wald(interaction)
    return {
        "method": result.method,
        "levels": list(levels),
        "last_day": _num(days[-1]),
        "n_patients": result.n_groups,
        "n_observations": result.n_obs,
        "groups": groups,
        "contrasts": contrasts,
        "omnibus_wald": {"chi2": _num(omnibus.chi2), "df": omnibus.df, "p": _num(omnibus.p)},
    }


def _rate(count: int, total: int) -> dict[str, Any]:
    low, high = wilson(count, total)
    return {
        "count": int(count),
        "n": int(total),
        "pct": _num(100.0 * count / total) if total else None,
        "ci95": [
            _num(100.0 * low) if low is not None else None,
            _num(100.0 * high) if high is not None else None,
        ],
    }


def response_remission(
    long: pd.DataFrame,
    *,
    day: int = 26,
    outcome: str = "madrs",
    group: str = "pain_group",
    levels: Sequence[str] = PAIN_GROUPS,
    remission_max: float = 10.0,
    by: str = "patient",
) -> dict[str, Any]:
    """Response (reduction >= 50% from baseline) and remission (total <= 10) at ``day``.

    Over the patients with a baseline (day 0) and a ``day`` value above a zero baseline
    (complete cases, counted in ``n``); percentages with 95% Wilson CIs, overall and by group.
    """
    data = _observed(long, outcome)
    wide = data.pivot_table(index=by, columns="day", values=outcome, aggfunc="first")
    if 0 not in wide.columns or day not in wide.columns:
        raise ValueError(f"need day 0 and day {day} values")
    pairs = wide[[0, day]].dropna()
    pairs = pairs.loc[pairs[0] > 0]
    response = pairs[day] <= 0.5 * pairs[0]
    remission = pairs[day] <= remission_max
    group_of = data.groupby(by)[group].first().reindex(pairs.index)

    def block(mask: pd.Series) -> dict[str, Any]:
        total = int(mask.sum())
        return {
            "n": total,
            "response": _rate(int((response & mask).sum()), total),
            "remission": _rate(int((remission & mask).sum()), total),
        }

    everyone = pd.Series(True, index=pairs.index)
    return {
        "day": day,
        "definition": {"response": "reduction >= 50% from baseline", "remission": "<= 10"},
        "overall": block(everyone),
        "by_group": {level: block(group_of == level) for level in levels},
    }


def _binary_tests(values: pd.Series, group: pd.Series, levels: Sequence[str]) -> dict[str, Any]:
    table = pd.crosstab(group, values.astype(bool)).reindex(
        index=list(levels), columns=[False, True], fill_value=0
    )
    chi2 = stats.chi2_contingency(table.to_numpy(), correction=False)
    with_pain = table.loc[list(levels[1:])].sum().to_numpy()
    pain_vs_none = stats.fisher_exact(np.vstack([with_pain, table.loc[levels[0]].to_numpy()]))
    top_vs_next = stats.fisher_exact(table.loc[[levels[-1], levels[-2]]].to_numpy())
    return {
        "chi2_groups_p": _num(chi2.pvalue),
        "fisher_pain_vs_none_p": _num(pain_vs_none.pvalue),
        f"fisher_{levels[-1]}_vs_{levels[-2]}_p": _num(top_vs_next.pvalue),
    }


def _continuous_tests(values: pd.Series, group: pd.Series, levels: Sequence[str]) -> dict[str, Any]:
    samples = [values[group == level].dropna().to_numpy(dtype=float) for level in levels]
    anova = stats.f_oneway(*samples)
    with_pain = values[group != levels[0]].dropna().to_numpy(dtype=float)
    pain = stats.ttest_ind(with_pain, samples[0], equal_var=False)
    top = stats.ttest_ind(samples[-1], samples[-2], equal_var=False)
    return {
        "anova_groups_p": _num(anova.pvalue),
        "welch_pain_vs_none_p": _num(pain.pvalue),
        f"welch_{levels[-1]}_vs_{levels[-2]}_p": _num(top.pvalue),
    }


def baseline_table(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    *,
    group: str = "pain_group",
    levels: Sequence[str] = PAIN_GROUPS,
    binary: Sequence[str] = BINARY,
    continuous: Sequence[str] = DOMAINS,
    by: str = "patient",
) -> dict[str, Any]:
    """Baseline table by pain group, with pain (all but the first level) and overall.

    Binary rows: count and % (chi-square across groups, Fisher exact with vs without pain and
    severe vs mild); continuous rows (the SF-MPQ domains and baseline MADRS): mean (SD), n
    (one-way ANOVA, Welch t tests). Baseline MADRS is the day-0 visit.
    """
    baseline = visits.loc[visits["day"] == 0].groupby(by)["madrs"].first()
    frame = patients.set_index(by).assign(madrs=baseline)
    g = frame[group]
    columns = {level: g == level for level in levels}
    columns["with_pain"] = g != levels[0]
    columns["all"] = pd.Series(True, index=frame.index)
    rows: dict[str, Any] = {"n": {name: int(mask.sum()) for name, mask in columns.items()}}
    for column in binary:
        values = frame[column].astype(bool)
        rows[column] = {
            "kind": "binary",
            "cells": {
                name: {"count": int(values[mask].sum()), "pct": _num(100.0 * values[mask].mean())}
                for name, mask in columns.items()
            },
            "tests": _binary_tests(values, g, levels),
        }
    for column in (*continuous, "madrs"):
        values = frame[column].astype(float)
        rows[column] = {
            "kind": "continuous",
            "cells": {
                name: {
                    "mean": _num(values[mask].mean()),
                    "sd": _num(values[mask].std(ddof=1)),
                    "n": int(values[mask].notna().sum()),
                }
                for name, mask in columns.items()
            },
            "tests": _continuous_tests(values, g, levels),
        }
    return {"columns": list(columns), "rows": rows}


def adverse_by_infusion(adverse: pd.DataFrame, infusions: pd.DataFrame) -> dict[str, Any]:
    """Adverse effects per symptom (events, % of infusions, % of patients) and per infusion."""
    n_infusions = len(infusions.drop_duplicates(["patient", "infusion"]))
    n_patients = int(infusions["patient"].nunique())
    symptoms: dict[str, Any] = {}
    for symptom, rows in adverse.groupby("symptom", sort=True):
        with_event = len(rows.drop_duplicates(["patient", "infusion"]))
        patients = int(rows["patient"].nunique())
        symptoms[str(symptom)] = {
            "events": len(rows),
            "infusions": {"count": with_event, "pct": _num(100.0 * with_event / n_infusions)},
            "patients": {"count": patients, "pct": _num(100.0 * patients / n_patients)},
        }
    given = infusions.groupby("infusion")["patient"].nunique()
    hit = adverse.drop_duplicates(["patient", "infusion"]).groupby("infusion")["patient"].nunique()
    per_infusion = {
        str(k): {
            "given": int(n),
            "with_any": int(hit.get(k, 0)),
            "pct": _num(100.0 * hit.get(k, 0) / n),
        }
        for k, n in given.items()
    }
    any_infusions = len(adverse.drop_duplicates(["patient", "infusion"]))
    any_patients = int(adverse["patient"].nunique())
    return {
        "n_infusions": n_infusions,
        "n_patients": n_patients,
        "symptoms": symptoms,
        "any": {
            "infusions": {"count": any_infusions, "pct": _num(100.0 * any_infusions / n_infusions)},
            "patients": {"count": any_patients, "pct": _num(100.0 * any_patients / n_patients)},
        },
        "per_infusion": per_infusion,
    }


def report(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    infusions: pd.DataFrame,
    adverse: pd.DataFrame,
    *,
    scale: str = "sd",
    guard: Callable[[str, Callable[[], Any]], Any] | None = None,
) -> dict[str, Any]:
    """Every block of the analysis plan, with stable keys (JSON-ready).

    ``guard(name, compute)``, when given, computes each block: a caller can then keep the blocks
    the data support when another cannot be estimated (an early cohort); without it the first
    error propagates.
    """
    long = visits.loc[visits["madrs"].notna()].merge(patients, on="patient", how="left")
    blocks: dict[str, Callable[[], Any]] = {
        "baseline": lambda: baseline_table(patients, visits),
        "moderation": lambda: moderation_by_domain(long, scale=scale),
        "simple_slopes": lambda: simple_slopes(long),
        "day26": lambda: response_remission(long),
        "adverse_effects": lambda: adverse_by_infusion(adverse, infusions),
    }
    if guard is None:
        return {name: compute() for name, compute in blocks.items()}
    return {name: guard(name, compute) for name, compute in blocks.items()}
