"""The change from baseline: each outcome over time, baseline to M12, and the HADS interactions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from analytics.stats.mixed import (
    analysis_frame,
    baseline_vs_m12,
    figure2,
    interaction_with_baseline_group,
    paired_values,
)
from cohort.vocabulary import MONTH_OF_TIMEPOINT
from followup.instruments import hads

from .parameters import OUTCOMES, Parameters
from .shaping import MODEL_ERRORS, count, mean_sd, num, observed_rows, p_text, unavailable

_BAND_KEYS = {"<=7": "le7", "8-10": "8_10", ">=11": "ge11"}


def evolution(
    imputed: pd.DataFrame, observed: pd.DataFrame, reached: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Return mean, SD, SEM and n of each outcome per timepoint, on LOCF and observed data.

    ``reached`` (patients who had reached each timepoint at the data cut) is copied to each row.
    """
    out: dict[str, Any] = {}
    order = list(MONTH_OF_TIMEPOINT)
    # One grouping per frame for every outcome: the timepoint column is factorised twice, not
    # twice per outcome.
    summaries = {
        label: frame.groupby("timepoint")[list(OUTCOMES)].agg(["count", "mean", "std"])
        for label, frame in (("locf", imputed), ("observed", observed))
    }
    for outcome in OUTCOMES:
        rows = []
        for label in ("locf", "observed"):
            summary = summaries[label][outcome]
            for timepoint in order:
                if timepoint not in summary.index:
                    continue
                n, mean, sd = summary.loc[timepoint]
                rows.append(
                    {
                        "data": label,
                        "timepoint": timepoint,
                        "month": MONTH_OF_TIMEPOINT[timepoint],
                        "n": int(n),
                        "reached": None if reached is None else int(reached.get(timepoint, 0)),
                        "mean": num(mean),
                        "sd": num(sd),
                        "sem": num(sd / math.sqrt(n)) if n > 1 else None,
                    }
                )
        out[outcome] = rows
    return out


def before_after(
    analysed: pd.DataFrame,
    outcome: str,
    params: Parameters,
    m12_due: pd.Index,
    due: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The paper's baseline-to-M12 block on LOCF data, with the observed-rows model beside it.

    The LOCF analysis reads the patients whose month 12 had elapsed at the data cut (on a
    finished study, every patient); the observed-rows model reads every observed value of every
    patient with a baseline, which is valid under missing at random.
    """
    if due is None:
        due = analysed[analysed["patient"].isin(m12_due)]
    block: dict[str, Any] = {"patients_m12_due": len(m12_due)}
    try:
        detail: dict[str, Any] = cast(
            dict[str, Any],
            baseline_vs_m12(due, outcome, effect_size=params.effect_size, reml=params.reml),
        )
    except MODEL_ERRORS as error:
        block.update(unavailable(error, "no patient with a baseline value has reached month 12"))
    else:
        size = detail["effect_size"]
        p = detail["p"]
        block.update(
            {
                "baseline": mean_sd(detail["baseline"]),
                "m12": mean_sd(detail["m12"]),
                "change": mean_sd(detail["change"]),
                "effect_size": size["estimate"],
                "effect_size_ci95": size["ci95"],
                "effect_size_kind": size["kind"],
                "p": p,
                "p_text": p_text(p),
                "n": detail["n_patients"],
                "detail": detail,
            }
        )
    block["observed_rows"] = observed_rows(
        lambda: baseline_vs_m12(
            analysed, outcome, effect_size=params.effect_size, reml=params.reml, impute=False
        )
    )
    return block


def definite_cases(imputed: pd.DataFrame, column: str) -> dict[str, Any]:
    """Patients with a score >= 11 at BL and at M12, over the patients with both values."""
    pairs = paired_values(imputed, column, "patient", ("BL", "M12"))
    cut = hads.BORDERLINE_MAX + 1
    return {
        "definite_cases_baseline": count(int((pairs["BL"] >= cut).sum()), len(pairs)),
        "definite_cases_m12": count(int((pairs["M12"] >= cut).sum()), len(pairs)),
    }


def comorbid(imputed: pd.DataFrame) -> dict[str, Any]:
    """Patients with definite depression and anxiety at baseline, and those with pain > 7."""
    base = imputed[imputed["timepoint"] == "BL"]
    base = base.dropna(subset=["hads_a", "hads_d"])
    cut = hads.BORDERLINE_MAX + 1
    both = base[(base["hads_a"] >= cut) & (base["hads_d"] >= cut)]
    n = len(base)
    return {
        **count(len(both), n),
        "with_nprs_gt7": count(int((both["nprs_mean"] > 7).sum()), n),
        "of": n,
    }


def interaction(
    frame: pd.DataFrame,
    column: str,
    params: Parameters,
    prepared: Mapping[bool, Any] | None = None,
) -> dict[str, Any]:
    """The pain-over-time by baseline HADS group interaction, LOCF and observed rows.

    ``prepared`` may hold the pain rows already prepared (``analysis_frame``), by ``impute``.
    """
    prepared = prepared or {}
    name = "HADS-D" if column.endswith("_d") else "HADS-A"
    block: dict[str, Any] = {"grouping": f"{name} <=7 vs >7"}
    try:
        detail: dict[str, Any] = cast(
            dict[str, Any],
            interaction_with_baseline_group(
                frame,
                "nprs_mean",
                column,
                hads.NORMAL_MAX,
                reml=params.reml,
                prepared=prepared.get(True),
            ),
        )
    except MODEL_ERRORS as error:
        block.update(unavailable(error, "too few patients in one of the groups"))
    else:
        linear = detail["linear"]
        omnibus = detail["omnibus"]
        block.update(
            {
                "coefficient": linear["coefficient"],
                "ci95": linear["ci95"],
                "omnibus_p": omnibus["p"],
                "omnibus_p_text": p_text(omnibus["p"]),
                "detail": detail,
            }
        )
    block["observed_rows"] = observed_rows(
        lambda: interaction_with_baseline_group(
            frame,
            "nprs_mean",
            column,
            hads.NORMAL_MAX,
            reml=params.reml,
            impute=False,
            prepared=prepared.get(False),
        )
    )
    return block


def baseline_to_m12_blocks(
    analysed: pd.DataFrame, imputed: pd.DataFrame, params: Parameters, m12_due: pd.Index
) -> dict[str, Any]:
    """Return the baseline-to-M12 block of every outcome, and the definite HADS cases."""
    results: dict[str, Any] = {}
    # The rows of the patients due at month 12, picked once for the six outcomes, on the
    # columns the models read.
    due = analysed[analysed["patient"].isin(m12_due)]
    for key, column in (("nprs", "nprs_mean"), ("nprs_max", "nprs_max")):
        results[f"{key}_baseline_to_m12"] = before_after(analysed, column, params, m12_due, due)
    due_imputed = imputed[imputed["patient"].isin(m12_due)]
    for key, column in (("hads_depression", "hads_d"), ("hads_anxiety", "hads_a")):
        block = before_after(analysed, column, params, m12_due, due)
        block.update(definite_cases(due_imputed, column))
        results[f"{key}_baseline_to_m12"] = block
    results["comorbid_definite_depression_and_anxiety_baseline"] = comorbid(imputed)
    for key, column in (("sf12_mcs", "sf12_mcs"), ("sf12_pcs", "sf12_pcs")):
        results[f"{key}_baseline_to_m12"] = before_after(analysed, column, params, m12_due, due)
    return results


def interaction_blocks(analysed: pd.DataFrame, params: Parameters) -> dict[str, Any]:
    """Return the time by baseline depression and anxiety interactions, and Figure 2."""
    # The pain rows, carried forward or observed, prepared once for the two groupings and Figure 2.
    groupings = ("baseline_hads_d", "baseline_hads_a")
    try:
        prepared = {
            impute: analysis_frame(analysed, "nprs_mean", impute=impute, extra=groupings)
            for impute in (True, False)
        }
    except MODEL_ERRORS:
        prepared = {}  # each model then prepares its rows and reports why it cannot run
    depression = interaction(analysed, "baseline_hads_d", params, prepared)
    fig2 = figure2(
        analysed,
        "nprs_mean",
        "baseline_hads_d",
        (hads.NORMAL_MAX, hads.BORDERLINE_MAX),
        prepared=prepared[True],
    )
    bands = cast(list[dict[str, Any]], fig2["bands"])
    depression["figure2_groups_n"] = {_BAND_KEYS.get(b["label"], b["label"]): b["n"] for b in bands}
    return {
        "time_x_baseline_depression_interaction": depression,
        "time_x_baseline_anxiety_interaction": interaction(
            analysed, "baseline_hads_a", params, prepared
        ),
        "figure2": fig2,
    }
