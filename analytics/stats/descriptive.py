"""Baseline table, adverse effects and concomitant treatments of Voute et al. 2023 (no Django).

Pure functions on pandas frames returning JSON-serialisable dicts whose keys follow the ``cohort``
and ``results`` blocks of paper-targets.json. Percentages are over the non-missing values (no
imputation) and are returned unrounded; missing statistics are ``None``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cohort.vocabulary import (
    COMORBIDITIES,
    DRUG_CLASSES,
    ETIOLOGIES,
    FOLLOWUP_TIMEPOINTS,
    codes,
)
from followup.instruments import hads, nprs


def _(text: str) -> str:
    """Mark a label for translation: the pages translate it, this module stays Django-free."""
    return text


# Paper bins of the IV cumulative dose (mg) and IV duration (days): name -> upper bound
# (inclusive); the last bin is open.
DOSE_BINS: tuple[tuple[str, float], ...] = (
    ("le280", 280.0),
    ("281_444", 444.0),
    ("445_666", 666.0),
    ("ge667", math.inf),
)
DURATION_BINS: tuple[tuple[str, float], ...] = (
    ("le6", 6.0),
    ("7_9", 9.0),
    ("10_12", 12.0),
    ("ge13", math.inf),
)
# Follow-up after W1 and M1, which the paper reports apart.
LATER_MONTHS: tuple[str, ...] = FOLLOWUP_TIMEPOINTS[2:]


def _float(value: Any) -> float | None:
    """Return a plain float, or None for a missing or non-finite value."""
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _pct(count: int, total: int) -> float | None:
    """Return 100 * count / total, or None when total is zero."""
    return 100.0 * count / total if total else None


def _numeric(values: pd.Series) -> pd.Series:
    """Return the non-missing values as floats."""
    return pd.to_numeric(values, errors="coerce").astype("float64").dropna()


def _mean_sd(values: pd.Series) -> dict[str, Any]:
    """Return n, mean and sample SD (ddof=1) of the non-missing values."""
    x = _numeric(values)
    return {
        "n": int(x.size),
        "mean": _float(x.mean()) if x.size else None,
        "sd": _float(x.std(ddof=1)) if x.size > 1 else None,
    }


def _median_iqr(values: pd.Series) -> dict[str, Any]:
    """Return n, median and [Q1, Q3] (linear interpolation) of the non-missing values."""
    x = _numeric(values)
    if not x.size:
        return {"n": 0, "median": None, "iqr": [None, None]}
    q1, q2, q3 = np.percentile(x.to_numpy(), [25, 50, 75])
    return {"n": int(x.size), "median": float(q2), "iqr": [float(q1), float(q3)]}


def _binned_pct(values: pd.Series, bins: Sequence[tuple[str, float]]) -> dict[str, float | None]:
    """Return the share of non-missing values in each (previous bound, bound] bin."""
    x = _numeric(values)
    out: dict[str, float | None] = {}
    lower = -math.inf
    for name, upper in bins:
        out[name] = _pct(int(((x > lower) & (x <= upper)).sum()), int(x.size))
        lower = upper
    return out


def _share_true(values: pd.Series) -> tuple[int, int]:
    """Return (number true, number non-missing) of a boolean column."""
    present = values.dropna()
    return int(present.astype(bool).sum()), int(present.size)


def _hads(values: pd.Series) -> dict[str, Any]:
    """Return mean (SD) and the paper's bands <= 7, 8-10, >= 11 of a HADS subscale."""
    bounds = (
        ("pct_le7", float(hads.NORMAL_MAX)),
        ("pct_8_10", float(hads.BORDERLINE_MAX)),
        ("pct_ge11", math.inf),
    )
    bands = _binned_pct(values, bounds)
    return {**_mean_sd(values), **bands}


def _pain(values: pd.Series) -> dict[str, Any]:
    """Return mean (SD) and the paper's bands < 3, 3-6, >= 7 of an NPRS score."""
    x = _numeric(values)
    n = int(x.size)
    return {
        **_mean_sd(values),
        "pct_lt3": _pct(int((x < nprs.MODERATE_FROM).sum()), n),
        "pct_3_6": _pct(int(((x >= nprs.MODERATE_FROM) & (x < nprs.SEVERE_FROM)).sum()), n),
        "pct_ge7": _pct(int((x >= nprs.SEVERE_FROM).sum()), n),
    }


def _has_codes(value: Any) -> bool:
    """Tell whether a comorbidity cell holds a list of codes (possibly empty), not a missing."""
    return isinstance(value, (list, tuple, set, frozenset, np.ndarray))


def _holders(lists: pd.Series) -> tuple[Counter[Any], int]:
    """Count the lists holding each code (a code listed twice counts once), and the empty lists."""
    holders: Counter[Any] = Counter()
    empty = 0
    for value in lists:
        if len(value) == 0:
            empty += 1
        else:
            holders.update(set(value))
    return holders, empty


def _baseline_drugs(treatments: pd.DataFrame) -> pd.DataFrame:
    """Return the drug rows of the baseline timepoint."""
    rows = treatments[(treatments["timepoint"] == "BL") & (treatments["kind"] == "drug")]
    return rows[["patient", "code"]]


def baseline_table(patients: pd.DataFrame, treatments: pd.DataFrame) -> dict[str, Any]:
    """Return the baseline characteristics of the patients, shaped as the ``cohort`` block.

    ``patients`` has one row per patient; ``treatments`` one row per patient, timepoint, kind and
    code. Concomitant drugs are over all patients of ``patients`` (no drug row at baseline counts
    as none), and the number of treatments counts the drug rows at baseline.
    """
    return _baseline_table(patients, _baseline_drugs(treatments))


def _baseline_table(patients: pd.DataFrame, baseline_drugs: pd.DataFrame) -> dict[str, Any]:
    """The body of ``baseline_table`` on the baseline drug rows, picked once for every column."""
    n = len(patients)
    sex = patients["sex"]
    women = int((sex == "F").sum())
    men = int((sex == "M").sum())
    sexed = women + men

    listed = patients["comorbidities"][patients["comorbidities"].map(_has_codes)]
    holders, empty = _holders(listed)
    history: dict[str, float | None] = {
        code: _pct(holders[code], int(listed.size)) for code in codes(COMORBIDITIES)
    }
    history["none"] = _pct(empty, int(listed.size))

    etiology = patients["etiology"].dropna()
    etiology_pct = {
        code: _pct(int((etiology == code).sum()), int(etiology.size)) for code in codes(ETIOLOGIES)
    }

    dn4 = _numeric(patients["dn4"])
    naive, naive_of = _share_true(patients["ketamine_naive"])
    iv, iv_of = _share_true(patients["iv_route"])
    on_iv = patients[patients["iv_route"].eq(True).to_numpy()]
    dose = _median_iqr(on_iv["iv_cumulative_dose_mg"])
    duration = _median_iqr(on_iv["iv_duration_days"])

    drugs = baseline_drugs[baseline_drugs["patient"].isin(set(patients["patient"]))]
    per_patient = drugs.groupby("patient")["code"].size()
    counts = per_patient.reindex(patients["patient"], fill_value=0)
    takers = drugs.groupby("code")["patient"].nunique()
    concomitant: dict[str, float | None] = {
        code: _pct(int(takers.get(code, 0)), n) for code in codes(DRUG_CLASSES)
    }
    concomitant["none"] = _pct(int((counts == 0).sum()), n)

    return {
        "n": n,
        "age": _mean_sd(patients["age"]),
        "women": {"n": women, "pct": _pct(women, sexed)},
        "men": {"n": men, "pct": _pct(men, sexed)},
        "history_pct": history,
        "etiology_pct": etiology_pct,
        "dn4": {
            **_mean_sd(patients["dn4"]),
            "pct_ge4": _pct(int((dn4 >= 4).sum()), int(dn4.size)),
        },
        "mean_pain_baseline": _pain(patients["nprs_mean"]),
        "max_pain_baseline": _pain(patients["nprs_max"]),
        "pain_paroxysms_per_day": _median_iqr(patients["paroxysms_per_day"]),
        "ketamine_naive_pct": _pct(naive, naive_of),
        "iv_route": {"n": iv, "pct": _pct(iv, iv_of)},
        "iv_cumulative_dose_mg": {
            **dose,
            "quartile_bins_pct": _binned_pct(on_iv["iv_cumulative_dose_mg"], DOSE_BINS),
        },
        "iv_duration_days": {
            **duration,
            "bins_pct": _binned_pct(on_iv["iv_duration_days"], DURATION_BINS),
        },
        "hads_anxiety_baseline": _hads(patients["hads_a"]),
        "hads_depression_baseline": _hads(patients["hads_d"]),
        "sf12_pcs_baseline": _mean_sd(patients["sf12_pcs"]),
        "sf12_mcs_baseline": _mean_sd(patients["sf12_mcs"]),
        "concomitant_baseline_pct": concomitant,
        "concomitant_treatments_count": {
            "mean": _float(counts.mean()) if n else None,
            "sd": _float(counts.std(ddof=1)) if n > 1 else None,
        },
    }


def _reached(calls: pd.DataFrame) -> pd.DataFrame:
    """Return the (patient, timepoint) pairs of the reached calls, once each."""
    rows = calls[calls["call_status"] == "reached"]
    return rows[["patient", "timepoint"]].drop_duplicates()


def adverse_effects(events: pd.DataFrame, calls: pd.DataFrame) -> dict[str, Any]:
    """Return the share of reached patients with at least one adverse effect, and the event mix.

    Each follow-up timepoint counts the patients reached at that call (denominator) and those of
    them with at least one event (numerator). Events of calls not reached are left out of every
    figure, so ``total_events`` and the type shares count the events of reached calls.
    """
    reached = _reached(calls)
    kept = events.merge(reached, on=["patient", "timepoint"], how="inner")
    by_timepoint: list[dict[str, Any]] = []
    for timepoint in FOLLOWUP_TIMEPOINTS:
        of = int((reached["timepoint"] == timepoint).sum())
        hit = int(kept.loc[kept["timepoint"] == timepoint, "patient"].nunique())
        by_timepoint.append({"timepoint": timepoint, "n": hit, "of": of, "pct": _pct(hit, of)})
    at = {row["timepoint"]: row for row in by_timepoint}
    later = [at[t]["pct"] for t in LATER_MONTHS if at[t]["pct"] is not None]
    total = len(kept)
    shares = kept["type"].value_counts()
    shares = shares.sort_values(ascending=False, kind="stable")
    return {
        "w1_any": {k: at["W1"][k] for k in ("n", "of", "pct")},
        "m1_any": {k: at["M1"][k] for k in ("n", "of", "pct")},
        "by_timepoint": by_timepoint,
        "later_months_any_pct_range": [min(later), max(later)] if later else [None, None],
        "total_events": total,
        "top_pct_of_events": {str(k): 100.0 * int(v) / total for k, v in shares.items()},
        **_serious_counts(kept),
    }


def _serious_counts(kept: pd.DataFrame) -> dict[str, int]:
    """Count the serious events of reached calls, and the patients with at least one."""
    serious = kept.loc[kept["serious"].astype(bool)] if "serious" in kept else kept.iloc[:0]
    return {
        "serious_events": len(serious),
        "serious_patients": int(serious["patient"].nunique()),
    }


def mcnemar_exact(
    before: Sequence[bool] | np.ndarray, after: Sequence[bool] | np.ndarray
) -> dict[str, Any]:
    """Return the exact McNemar test of paired yes/no answers.

    With b pairs yes -> no and c pairs no -> yes, P is the two-sided binomial test of b among
    b + c at 1/2 (``scipy.stats.binomtest``); P is 1 when no pair is discordant.
    """
    x = np.asarray(before, dtype=bool)
    y = np.asarray(after, dtype=bool)
    b = int((x & ~y).sum())
    c = int((~x & y).sum())
    p = float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0
    return {"n_paired": int(x.size), "b": b, "c": c, "p": min(p, 1.0)}


def _takers(drugs: pd.DataFrame, reached: pd.Index) -> dict[str, np.ndarray]:
    """Return, per drug code, the distinct patients of ``reached`` with a row of that code."""
    rows = drugs[drugs["patient"].isin(reached)]
    return {
        str(code): np.unique(group.to_numpy())
        for code, group in rows.groupby("code", sort=False)["patient"]
    }


def concomitant_change(
    treatments: pd.DataFrame,
    calls: pd.DataFrame,
    classes: Iterable[str] = codes(DRUG_CLASSES),
) -> dict[str, dict[str, Any]]:
    """Compare the share of patients on each drug class at baseline and at month 12.

    Baseline is over the patients reached at BL, month 12 over those reached at M12; P is the
    exact McNemar test (see ``mcnemar_exact``) on the patients reached at both.
    """
    reached = _reached(calls)
    at_bl = pd.Index(reached.loc[reached["timepoint"] == "BL", "patient"].unique())
    at_m12 = pd.Index(reached.loc[reached["timepoint"] == "M12", "patient"].unique())
    both = at_bl.intersection(at_m12)
    drugs = treatments[treatments["kind"] == "drug"]
    drugs = drugs[drugs["timepoint"].isin(["BL", "M12"])]
    on_bl = _takers(drugs[drugs["timepoint"] == "BL"], at_bl)
    on_m12 = _takers(drugs[drugs["timepoint"] == "M12"], at_m12)
    paired = both.to_numpy()
    out: dict[str, dict[str, Any]] = {}
    for code in classes:
        bl = on_bl.get(code, paired[:0])
        m12 = on_m12.get(code, paired[:0])
        test = mcnemar_exact(np.isin(paired, bl), np.isin(paired, m12))
        out[code] = {
            "baseline": f"{len(bl)}/{len(at_bl)}",
            "m12": f"{len(m12)}/{len(at_m12)}",
            "baseline_pct": _pct(len(bl), len(at_bl)),
            "m12_pct": _pct(len(m12), len(at_m12)),
            "p": test["p"],
            "test": "exact McNemar (binomial test on discordant pairs)",
            "n_paired": test["n_paired"],
            "discordant": [test["b"], test["c"]],
        }
    return out


def json_ready(value: Any) -> Any:
    """Return ``value`` with NaN and infinities as None and numpy scalars as Python ones."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _float(value)
    return value


def _number(value: float | None) -> str:
    """Write a statistic as an integer when whole, else with one decimal."""
    if value is None:
        return "NA"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _mean_sd_text(block: Mapping[str, Any]) -> str:
    """Write 'mean (SD)' with one decimal each."""
    if block["mean"] is None:
        return "NA"
    sd = "NA" if block["sd"] is None else f"{block['sd']:.1f}"
    return f"{block['mean']:.1f} ({sd})"


def _median_text(block: Mapping[str, Any]) -> str:
    """Write 'median (Q1-Q3)'."""
    q1, q3 = block["iqr"]
    return f"{_number(block['median'])} ({_number(q1)}-{_number(q3)})"


def _count_text(pct: float | None, total: int, *, fraction: bool = False) -> str:
    """Write 'k (pct)' or 'k/n (pct)' from a share of ``total``; a zero count has no share."""
    if pct is None or not total:
        return f"0/{total}" if fraction else "NA"
    count = round(pct * total / 100.0)
    head = f"{count}/{total}" if fraction else f"{count}"
    return head if count == 0 else f"{head} ({pct:.1f})"


def _table_rows(patients: pd.DataFrame, table: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return (label, text) rows of one column of the paper's Table."""
    n = int(table["n"])
    listed = int(patients["comorbidities"].map(_has_codes).sum())
    with_etiology = int(patients["etiology"].notna().sum())
    with_naive = int(patients["ketamine_naive"].notna().sum())
    with_route = int(patients["iv_route"].notna().sum())
    dose = table["iv_cumulative_dose_mg"]
    dose_n = int(dose["n"])
    comorbidity = dict(COMORBIDITIES)
    rows = [(_("Age, mean (SD), y"), _mean_sd_text(table["age"]))]
    for code, pct in table["history_pct"].items():
        name = comorbidity.get(code, _("None"))
        rows.append((name, _count_text(pct, listed)))
    for code, pct in table["etiology_pct"].items():
        rows.append((dict(ETIOLOGIES)[code], _count_text(pct, with_etiology)))
    dn4 = table["dn4"]
    rows += [
        (_("DN4, mean (SD)"), _mean_sd_text(dn4)),
        (_("DN4 ≥4"), _count_text(dn4["pct_ge4"], dn4["n"], fraction=True)),
    ]
    pain_labels = {
        "mean_pain_baseline": (
            _("Mean pain, mean (SD)"),
            _("Mean pain <3"),
            _("Mean pain 3-6"),
            _("Mean pain ≥7"),
        ),
        "max_pain_baseline": (
            _("Maximal pain, mean (SD)"),
            _("Maximal pain <3"),
            _("Maximal pain 3-6"),
            _("Maximal pain ≥7"),
        ),
    }
    for key, (mean_label, *band_labels) in pain_labels.items():
        pain = table[key]
        rows.append((mean_label, _mean_sd_text(pain)))
        for band, text in zip(("pct_lt3", "pct_3_6", "pct_ge7"), band_labels, strict=True):
            rows.append((text, _count_text(pain[band], pain["n"], fraction=True)))
    rows += [
        (_("Pain paroxysms, median (IQR)"), _median_text(table["pain_paroxysms_per_day"])),
        (_("Ketamine naive"), _count_text(table["ketamine_naive_pct"], with_naive)),
        (_("IV route"), _count_text(table["iv_route"]["pct"], with_route)),
        (_("IV cumulative dose, median (IQR), mg"), _median_text(dose)),
    ]
    bins = dose["quartile_bins_pct"]
    dose_labels = (_("IV dose ≤280 mg"), _("IV dose 281-444 mg"), _("IV dose 445-666 mg"))
    for band, text in zip(bins, (*dose_labels, _("IV dose ≥667 mg")), strict=True):
        pct = bins[band]
        rows.append((text, _count_text(pct, dose_n, fraction=True)))
    rows.append((_("IV duration, median (IQR), d"), _median_text(table["iv_duration_days"])))
    hads_labels = {
        "hads_anxiety_baseline": (
            _("HADS-A, mean (SD)"),
            _("HADS-A ≤7"),
            _("HADS-A 8-10"),
            _("HADS-A ≥11"),
        ),
        "hads_depression_baseline": (
            _("HADS-D, mean (SD)"),
            _("HADS-D ≤7"),
            _("HADS-D 8-10"),
            _("HADS-D ≥11"),
        ),
    }
    for key, (mean_label, *band_labels) in hads_labels.items():
        hads = table[key]
        rows.append((mean_label, _mean_sd_text(hads)))
        for band, text in zip(("pct_le7", "pct_8_10", "pct_ge11"), band_labels, strict=True):
            rows.append((text, _count_text(hads[band], hads["n"], fraction=True)))
    rows += [
        (_("SF-12 physical, mean (SD)"), _mean_sd_text(table["sf12_pcs_baseline"])),
        (_("SF-12 mental, mean (SD)"), _mean_sd_text(table["sf12_mcs_baseline"])),
        (_("No. of treatments, mean (SD)"), _mean_sd_text(table["concomitant_treatments_count"])),
    ]
    drug = dict(DRUG_CLASSES)
    for code, pct in table["concomitant_baseline_pct"].items():
        rows.append((drug.get(code, _("None")), _count_text(pct, n)))
    return rows


def format_table(patients: pd.DataFrame, treatments: pd.DataFrame) -> dict[str, Any]:
    """Return the paper's Table as text rows for the total, women and men columns."""
    groups = {
        "total": patients,
        "women": patients[patients["sex"] == "F"],
        "men": patients[patients["sex"] == "M"],
    }
    drugs = _baseline_drugs(treatments)
    columns = {
        name: _table_rows(group, _baseline_table(group, drugs)) for name, group in groups.items()
    }
    headers = {
        "total": f"Total (n = {len(groups['total'])})",
        "women": f"Women (n = {len(groups['women'])})",
        "men": f"Men (n = {len(groups['men'])})",
    }
    rows = [
        {"label": label_, **{name: columns[name][i][1] for name in groups}}
        for i, (label_, _text) in enumerate(columns["total"])
    ]
    sizes = {name: len(group) for name, group in groups.items()}
    return {"headers": headers, "sizes": sizes, "rows": rows}
