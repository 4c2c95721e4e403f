"""Study-level summaries built on the random-intercept model: JSON-ready dicts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from analytics.stats import effect_size as es
from analytics.stats.mixed.locf import ELAPSED, REASON_SUFFIX, is_sorted, locf
from analytics.stats.mixed.model import TIMEPOINTS, _num, fit

EFFECT_SIZES: tuple[str, ...] = (*es.KINDS, "d_lmm")


def _analysis_frame(
    frame: pd.DataFrame, outcome: str, impute: bool, by: str, extra: Sequence[str] = ()
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return the rows used for ``outcome`` (LOCF or observed) and the carried-forward counts.

    Only the columns the models read are kept (``by``, time, the outcome, its missing reason, the
    ``elapsed`` flag and ``extra``): sorting and copying the whole long frame cost more than the
    models themselves on a large study.
    """
    wanted = (by, "month", "timepoint", outcome, f"{outcome}{REASON_SUFFIX}", ELAPSED, *extra)
    frame = frame[[c for c in dict.fromkeys(wanted) if c in frame.columns]]
    if "timepoint" in frame.columns and not isinstance(
        frame["timepoint"].dtype, pd.CategoricalDtype
    ):
        # Coded once here, the timepoint labels are not matched again by every model and grouping.
        frame = frame.assign(timepoint=pd.Categorical(frame["timepoint"]))
    if impute:
        data, counts = locf(frame, [outcome], by=by)
        carried = {str(k): int(v) for k, v in counts[outcome].items()}
    else:
        data = (
            frame
            if is_sorted(frame, by, "month")
            else frame.sort_values([by, "month"], kind="stable")
        )
        baseline_seen = (data["timepoint"] == "BL") & data[outcome].notna()
        has_baseline = baseline_seen.groupby(data[by]).transform("any").astype(bool)
        data = data.assign(**{outcome: data[outcome].where(has_baseline)})
        carried = {}
    return data, carried


Prepared = tuple[pd.DataFrame, dict[str, int]]


def analysis_frame(
    frame: pd.DataFrame,
    outcome: str,
    *,
    impute: bool = True,
    by: str = "patient",
    extra: Sequence[str] = (),
) -> Prepared:
    """Prepare ``frame`` once for several models of ``outcome`` (pass it as ``prepared=``).

    ``extra`` names the grouping columns the models will read besides time and the outcome.
    """
    return _analysis_frame(frame, outcome, impute, by, extra)


def paired_values(
    data: pd.DataFrame, outcome: str, by: str, timepoints: Sequence[str]
) -> pd.DataFrame:
    """Return one row per patient with a value at every one of ``timepoints`` (sorted by ``by``).

    The same table as ``pivot_table(index=by, columns="timepoint", aggfunc="first")`` reindexed
    to ``timepoints`` and without its incomplete rows, built from the few rows it needs.
    """
    present = data.loc[data[outcome].notna(), [by, "timepoint", outcome]]
    columns = {
        timepoint: present.loc[present["timepoint"] == timepoint].groupby(by)[outcome].first()
        for timepoint in timepoints
    }
    return pd.concat(columns, axis=1, join="inner").sort_index().rename_axis(columns="timepoint")


def _patient_value(frame: pd.DataFrame, column: str, by: str) -> pd.Series:
    """Broadcast a patient-level column to every row (first non-missing value per patient)."""
    return frame.groupby(by)[column].transform("first")


def _describe(values: pd.Series) -> dict[str, float | None]:
    return {"mean": _num(values.mean()), "sd": _num(values.std(ddof=1)), "n": int(values.size)}


def baseline_vs_m12(
    frame: pd.DataFrame,
    outcome: str,
    *,
    effect_size: str = "d_av",
    reml: bool = False,
    impute: bool = True,
    by: str = "patient",
) -> dict[str, object]:
    """Compare baseline with month 12: descriptives, effect size and the LMM contrast M12 - BL.

    Descriptives use patients with both values (after LOCF unless ``impute=False``). The P value
    comes from a random-intercept model with categorical time fitted on every row of the patients
    with a baseline value (ML by default, as Stata's ``mixed``). ``effect_size`` is one of
    ``d_z``, ``d_av``, ``d_pre`` (see :mod:`analytics.stats.effect_size`) or ``d_lmm``: the M12
    contrast divided by ``sqrt(2 s_e^2)``, with the contrast's CI scaled the same way.
    """
    if effect_size not in EFFECT_SIZES:
        raise ValueError(f"unknown effect size {effect_size!r}; choose one of {EFFECT_SIZES}")
    data, carried = _analysis_frame(frame, outcome, impute, by)
    pairs = paired_values(data, outcome, by, ("BL", "M12"))
    change = pairs["M12"] - pairs["BL"]

    model = fit(data, outcome, "C(timepoint)", group=by, reml=reml)
    contrast = model.contrast({"C(timepoint)[M12]": 1.0})
    if effect_size == "d_lmm":
        scale = math.sqrt(2.0 * model.sigma_e2)
        size: dict[str, object] = {
            "kind": "d_lmm",
            "estimate": _num(contrast.estimate / scale),
            "se": _num(contrast.se / scale),
            "ci95": [_num(contrast.ci[0] / scale), _num(contrast.ci[1] / scale)],
            "n": len(pairs),
            "r": None,
        }
    else:
        size = es.paired(pairs["BL"].to_numpy(), pairs["M12"].to_numpy(), effect_size).to_dict()
    r = float(np.corrcoef(pairs["BL"], pairs["M12"])[0, 1]) if len(pairs) > 2 else math.nan
    return {
        "outcome": outcome,
        "imputation": "LOCF" if impute else "none",
        "n_patients": len(pairs),
        "baseline": _describe(pairs["BL"]),
        "m12": _describe(pairs["M12"]),
        "change": _describe(change),
        "pre_post_correlation": _num(r),
        "effect_size": size,
        "lmm": {
            "method": model.method,
            "contrast": "M12 - BL",
            "estimate": _num(contrast.estimate),
            "se": _num(contrast.se),
            "ci95": [_num(contrast.ci[0]), _num(contrast.ci[1])],
            "p": _num(contrast.p),
            "sigma_u2": _num(model.sigma_u2),
            "sigma_e2": _num(model.sigma_e2),
            "n_patients": model.n_groups,
            "n_observations": model.n_obs,
        },
        "p": _num(contrast.p),
        "carried_forward": carried,
    }


def interaction_with_baseline_group(
    frame: pd.DataFrame,
    outcome: str = "nprs_mean",
    grouping_column: str = "baseline_hads_d",
    threshold: float = 7,
    *,
    reml: bool = False,
    impute: bool = True,
    by: str = "patient",
    prepared: Prepared | None = None,
) -> dict[str, object]:
    """Test whether the course of ``outcome`` differs between ``<= threshold`` and ``> threshold``.

    (1) Categorical time x group: omnibus Wald chi2 over all time x group terms (Stata's
    ``testparm i.time#i.group``). (2) ``month + group + month x group``: the month x group
    coefficient, in outcome points per month, for the ``> threshold`` group relative to the other.
    """
    if prepared is None:
        prepared = _analysis_frame(frame, outcome, impute, by, (grouping_column,))
    data, carried = prepared
    level = _patient_value(data, grouping_column, by)
    flag = f"{grouping_column}_gt{threshold:g}"
    data = data.assign(**{flag: (level > threshold).astype(float).where(level.notna())})

    categorical = fit(data, outcome, f"C(timepoint) + {flag} + C(timepoint):{flag}", reml=reml)
    interaction = [t for t in categorical.term_names if t.endswith(f":{flag}")]
    omnibus = categorical.wald(interaction)

    linear = fit(data, outcome, f"month + {flag} + month:{flag}", reml=reml)
    k = linear.term_names.index(f"month:{flag}")
    used = data.loc[data[outcome].notna() & data[flag].notna()]
    groups = used.groupby(by)[flag].first()
    return {
        "outcome": outcome,
        "grouping": f"{grouping_column} <= {threshold:g} vs > {threshold:g}",
        "imputation": "LOCF" if impute else "none",
        "method": categorical.method,
        "n_patients": categorical.n_groups,
        "n_observations": categorical.n_obs,
        "n_low": int((groups == 0).sum()),
        "n_high": int((groups == 1).sum()),
        "omnibus": {"chi2": _num(omnibus.chi2), "df": omnibus.df, "p": _num(omnibus.p)},
        "linear": {
            "term": f"month:{flag}",
            "coefficient": _num(linear.params[k]),
            "se": _num(linear.se[k]),
            "ci95": [_num(linear.ci[k, 0]), _num(linear.ci[k, 1])],
            "p": _num(linear.p[k]),
        },
        "carried_forward": carried,
    }


def _band_labels(cuts: Sequence[float]) -> list[str]:
    if all(float(c).is_integer() for c in cuts):
        ints = [int(c) for c in cuts]
        middle = [f"{a + 1}-{b}" if b > a + 1 else f"{b}" for a, b in pairwise(ints)]
        return [f"<={ints[0]}", *middle, f">={ints[-1] + 1}"]
    middle = [f"({a:g}, {b:g}]" for a, b in pairwise(cuts)]
    return [f"<={cuts[0]:g}", *middle, f">{cuts[-1]:g}"]


def figure2(
    frame: pd.DataFrame,
    outcome: str = "nprs_mean",
    grouping_column: str = "baseline_hads_d",
    bands: Sequence[float] = (7, 10),
    *,
    impute: bool = True,
    by: str = "patient",
    prepared: Prepared | None = None,
) -> dict[str, object]:
    """Mean and SEM of ``outcome`` per timepoint in bands of a patient-level score.

    ``bands`` are upper-inclusive cut points: ``(7, 10)`` gives ``<=7``, ``8-10`` and ``>=11``.
    """
    cuts = sorted(float(c) for c in bands)
    if prepared is None:
        prepared = _analysis_frame(frame, outcome, impute, by, (grouping_column,))
    data = prepared[0]
    level = _patient_value(data, grouping_column, by)
    data = data.assign(_band=np.searchsorted(cuts, level.to_numpy(), side="left"))
    data = data.loc[level.notna() & data[outcome].notna()]
    summary = data.groupby(["_band", "timepoint"], observed=True)[outcome].agg(
        ["count", "mean", "std"]
    )
    seen = set(data["timepoint"].unique())
    order = [t for t in TIMEPOINTS if t in seen]
    result = []
    for band, label in enumerate(_band_labels(cuts)):
        rows = data.loc[data["_band"] == band]
        points = []
        for timepoint in order:
            if (band, timepoint) not in summary.index:
                continue
            n, mean, sd = summary.loc[(band, timepoint)]
            points.append(
                {
                    "timepoint": timepoint,
                    "n": int(n),
                    "mean": _num(mean),
                    "sem": _num(sd / math.sqrt(n)) if n > 1 else None,
                }
            )
        result.append({"label": label, "n": int(rows[by].nunique()), "timepoints": points})
    return {
        "outcome": outcome,
        "grouping": grouping_column,
        "imputation": "LOCF" if impute else "none",
        "bands": result,
    }
