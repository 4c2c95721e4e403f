"""The trajectory block: sweep on IV patients, the paper's 3-group model, the groups compared."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.stats import descriptive
from analytics.stats.mixed import locf
from analytics.stats.trajectories import (
    TrajectoryFit,
    TrajectorySelection,
    baseline_by_trajectory,
    first_divergence,
    sweep_trajectories,
)
from cohort.vocabulary import MONTH_OF_TIMEPOINT

from .parameters import NEUROPATHIC, STEPS, TRAJECTORY_NAMES, Parameters, Progress
from .shaping import fraction, num, p_text
from .trajectory_models import (
    compare_models,
    comparisons_over_draws,
    divergence_over_draws,
    draws_note,
    membership_table,
    pain_rows,
)

CONTINUOUS = ("baseline_hads_d", "baseline_hads_a", "baseline_nprs", "cumulative_dose_mg")
# The IV patients' columns the block reads (the pain, and what locf needs to carry it forward).
PAIN_COLUMNS = ("patient", "month", "timepoint", "nprs_mean", "nprs_mean_missing_reason", "elapsed")
METHOD = (
    "group-based trajectory model (semiparametric mixture, Nagin): censored normal "
    "(0-10), polynomial in months, maximum likelihood with several seeded starts"
)


def _wide_pain(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[float]]:
    """Return mean pain as patients x months, and the months."""
    wide = frame.pivot_table(
        index="patient", columns="month", values="nprs_mean", aggfunc="first", dropna=False
    )
    months = sorted(float(m) for m in frame["month"].dropna().unique())
    wide = wide.reindex(columns=months)
    return wide, months


def _patient_table(
    data: Any, frame: pd.DataFrame, patient_ids: np.ndarray, group_of: dict[Any, str]
) -> pd.DataFrame:
    """Return each IV patient's group and the baseline values the groups are compared on."""
    long = data.long
    patients = data.patients.set_index("patient").loc[patient_ids]
    # Only the columns read are taken from the long frame: a sort or a selection of it whole
    # copies every column (hundreds of MB at 100,000 patients).
    at_baseline = long["timepoint"].eq("BL").to_numpy()
    baseline_pain = long.loc[at_baseline, ["patient", "nprs_mean"]].set_index("patient")[
        "nprs_mean"
    ]
    doses = long[["patient", "month", "cumulative_dose_mg"]].sort_values("month")
    last_dose = doses.groupby("patient")["cumulative_dose_mg"].last()
    table = pd.DataFrame(
        {
            "group": [group_of.get(pid) for pid in patient_ids],
            "baseline_nprs": baseline_pain.reindex(patient_ids).to_numpy(),
            "baseline_hads_d": patients["hads_d"].to_numpy(),
            "baseline_hads_a": patients["hads_a"].to_numpy(),
            "fibromyalgia": (patients["etiology"] == "fibromyalgia").to_numpy(),
            "neuropathic": patients["etiology"].isin(NEUROPATHIC).to_numpy(),
            "cumulative_dose_mg": last_dose.reindex(patient_ids).to_numpy(),
        },
        index=patient_ids,
    )
    imputed, _ = locf(frame, ["nprs_mean"], by="patient")
    from_m3 = imputed[imputed["month"] >= 3].groupby("patient")["nprs_mean"].max()
    table["below3_from_m3"] = from_m3.reindex(patient_ids).lt(3).to_numpy()
    return table


def _group_blocks(
    table: pd.DataFrame, names: list[str], paper_fit: TrajectoryFit
) -> dict[str, Any]:
    """Return each group's size, baseline, APP, OCC and curves (the paper's Table 3, Figure 3)."""
    groups: dict[str, Any] = {}
    for index, name in enumerate(names):
        rows = table[table["group"] == name]
        fitted = paper_fit.groups[index]
        groups[name] = {
            "n": len(rows),
            "pct": 100.0 * len(rows) / len(table),
            "estimated_pct": 100.0 * fitted.pi,
            "baseline_nprs": descriptive._mean_sd(rows["baseline_nprs"]),
            "baseline_hads_d": descriptive._mean_sd(rows["baseline_hads_d"]),
            "baseline_hads_a": descriptive._mean_sd(rows["baseline_hads_a"]),
            "fibromyalgia": fraction(int(rows["fibromyalgia"].sum()), len(rows)),
            "neuropathic_below3_from_m3": fraction(
                int((rows["neuropathic"] & rows["below3_from_m3"]).sum()), len(rows)
            ),
            "app": fitted.app,
            "occ": fitted.occ,
            "curve": {
                "months": list(paper_fit.months),
                "fitted": list(fitted.expected),
                "observed_mean": list(fitted.observed_mean),
                "observed_n": list(fitted.observed_n),
                "grid": list(paper_fit.grid),
                "grid_fitted": list(fitted.grid_expected),
            },
        }
    return groups


def _divergence(frame: pd.DataFrame, group_of: dict[Any, str]) -> dict[str, Any]:
    """Return, for each pair of groups, the first follow-up timepoint where pain differs."""
    label_of_month = {float(m): code for code, m in MONTH_OF_TIMEPOINT.items()}
    divergence = first_divergence(
        pain_rows(frame),
        group_of,
        value="nprs",
        correction="holm",
        timepoints=label_of_month,
    )
    pairs: dict[str, Any] = {}
    for pair in divergence:
        key = f"{pair.first.split('_')[0]}_vs_{pair.second.split('_')[0]}"
        pairs[key] = {
            # "month" is the time in months (W1 = 0.25); "timepoint" names it.
            "month": pair.first_month,
            "timepoint": pair.first_timepoint,
            "coefficient": num(pair.coefficient),
            "ci95": [num(pair.ci_low), num(pair.ci_high)],
            "p": num(pair.p),
            "p_text": p_text(num(pair.p)),
            "p_holm": num(pair.p_adjusted),
            "p_holm_text": p_text(num(pair.p_adjusted)),
            "correction": (
                f"Holm over the {len(pair.contrasts)} follow-up timepoints of the pair; a "
                "timepoint differs when its Holm-adjusted P < .05"
            ),
            # The last timepoint of the first run of significant ones (the paper gives it when
            # the difference fades before M12).
            "until_month": pair.until_month,
            "until_timepoint": pair.until_timepoint,
            "sustained": pair.sustained,
            "contrasts": [c.to_dict() for c in pair.contrasts],
        }
    return pairs


def _comparisons(table: pd.DataFrame, params: Parameters) -> dict[str, Any]:
    """Compare the groups' baselines by assignment (the paper's tests)."""
    comparisons = baseline_by_trajectory(
        table,
        table["group"].to_numpy(),
        categorical=("fibromyalgia",),
        continuous=CONTINUOUS,
        seed=params.seed,
    )
    return {c.variable: c.to_dict() for c in comparisons}


def _comparison_ps(tests: dict[str, Any]) -> dict[str, Any]:
    """Return the P of each group comparison the paper prints, and the dose's."""

    def p_of(variable: str) -> float | None:
        test = tests[variable]
        return num(test["chi2_p"] if test["kind"] == "categorical" else test["anova_p"])

    dose_p = num(tests["cumulative_dose_mg"]["kruskal_p"])
    return {
        "fibromyalgia_by_group_p": p_of("fibromyalgia"),
        "baseline_hads_d_by_group_p": p_of("baseline_hads_d"),
        "baseline_hads_a_by_group_p": p_of("baseline_hads_a"),
        "by_group_p_text": {
            name: p_text(p_of(name))
            for name in ("fibromyalgia", "baseline_hads_d", "baseline_hads_a")
        },
        "cumulative_dose_associated_with_trajectory": bool(dose_p is not None and dose_p < 0.05),
        "cumulative_dose_by_group_p": dose_p,
    }


def _models(
    sweep: TrajectorySelection, paper_fit: TrajectoryFit, params: Parameters
) -> dict[str, Any]:
    """Return the paper's model and how the sweep chose among the models it fitted."""
    chosen = sweep.chosen
    return {
        "paper_model": {
            "n_groups": paper_fit.n_groups,
            "orders": list(paper_fit.orders),
            "bic": paper_fit.bic,
            "adequate": paper_fit.adequate,
            "diagnostics": paper_fit.diagnostics.to_dict(),
            # One-way F test of the residuals' patient level (a random intercept left out).
            "random_intercept_test": dict(paper_fit.random_intercept_test),
        },
        "selection": {
            "rule": sweep.rule,
            "chosen": {"n_groups": chosen.n_groups, "orders": list(chosen.orders)},
            "bic_prefers_paper_groups": chosen.n_groups == params.paper_groups,
            "random_intercept_test": dict(chosen.random_intercept_test),
            # Fit times live in the run block: results depend on the data only.
            "table": [
                {k: v for k, v in row.to_dict().items() if k != "seconds"} for row in sweep.table
            ],
            "warnings": list(sweep.warnings),
        },
    }


def trajectories(data: Any, params: Parameters, progress: Progress) -> dict[str, Any]:
    """Fit the trajectory sweep on IV patients and describe the paper's 3-group model."""
    long = data.long
    iv_patients = set(data.patients.loc[data.patients["iv_route"], "patient"])
    frame = long.loc[long["patient"].isin(iv_patients), [c for c in PAIN_COLUMNS if c in long]]
    wide, months = _wide_pain(frame)
    wide = wide[wide.notna().any(axis=1)]
    if len(wide) < 10 * params.paper_groups:
        return {"available": False, "reason": f"only {len(wide)} IV patients with pain scores"}
    sweep = sweep_trajectories(
        wide.to_numpy(dtype=float),
        months,
        n_groups=params.trajectory_groups,
        orders=params.trajectory_orders,
        n_starts=params.trajectory_starts,
        seed=params.seed,
        # The block reports no standard error of the models' parameters: their Hessians (two
        # likelihood passes per parameter and model) are not computed.
        standard_errors=False,
    )
    progress("trajectory_comparisons", STEPS.index("trajectory_comparisons"), len(STEPS))
    # The paper's model: 3 groups; among the orders tried, the best BIC at K = 3.
    three = [f for f in sweep.fits if f.n_groups == params.paper_groups]
    paper_fit = max(three, key=lambda f: f.bic) if three else sweep.chosen
    patient_ids = wide.index.to_numpy()
    names = list(TRAJECTORY_NAMES) if paper_fit.n_groups == 3 else list(paper_fit.labels)
    group_of = {
        pid: names[g] for pid, g in zip(patient_ids, paper_fit.assignment, strict=True) if g >= 0
    }
    table = _patient_table(data, frame, patient_ids, group_of)
    groups = _group_blocks(table, names, paper_fit)
    tests = _comparisons(table, params)
    compared = compare_models(wide, months, paper_fit, names, seed=params.seed)
    # The same comparisons over classes drawn from the posteriors of the memberships' model.
    uncertain = comparisons_over_draws(
        table, paper_fit, compared, params, continuous=CONTINUOUS, categorical=("fibromyalgia",)
    )
    return {
        "available": True,
        "population": f"{len(table)} patients with IV ketamine",
        "method": METHOD,
        "groups": groups,
        **_comparison_ps(tests),
        "first_divergence_from_baseline": _divergence(frame, group_of),
        "comparisons": tests,
        "comparisons_over_posterior_draws": uncertain,
        "memberships_source": compared.choice.reason + draws_note(compared),
        **_models(sweep, paper_fit, params),
        "membership": membership_table(patient_ids, names, paper_fit, compared),
        "models_compared": compared.block,
        "memberships_model": compared.choice.to_dict(),
        "first_divergence_over_posterior_draws": divergence_over_draws(
            frame, patient_ids, names, paper_fit, compared, params
        ),
    }
