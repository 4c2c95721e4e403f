"""Assemble one analysis run into a JSON-ready report (schema: docs/analysis-report.md).

Pure: takes the frames of ``analytics.dataset.StudyData`` (no ORM), calls ``analytics.stats`` and
shapes the ``cohort`` and ``results`` blocks with the keys of the paper's published figures, so a
run and the paper can be compared key by key. Extra keys carry what the paper did not print.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd

from analytics.stats import censoring, descriptive, mediation, pvalues
from analytics.stats.missingness import missingness_table
from analytics.stats.mixed import baseline_vs_m12, figure2, interaction_with_baseline_group, locf
from analytics.stats.mixed.study import EFFECT_SIZES
from analytics.stats.trajectories import (
    baseline_by_trajectory,
    first_divergence,
    pseudo_class_tests,
    sweep_trajectories,
)
from cohort.vocabulary import MONTH_OF_TIMEPOINT
from followup.instruments import hads

SCHEMA = "ketamine-followup/analysis-report"
SCHEMA_VERSION = 1
OUTCOMES = ("nprs_mean", "nprs_max", "hads_a", "hads_d", "sf12_pcs", "sf12_mcs")
TRAJECTORY_NAMES = ("T1_lesser_pain", "T2_moderate_pain", "T3_severe_pain")
NEUROPATHIC = ("peripheral_neuropathic", "central_neuropathic")
LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "django")


@dataclass(frozen=True)
class Parameters:
    """Every choice a run depends on; part of the data fingerprint."""

    effect_size: str = "d_z"
    reml: bool = False
    n_boot: int = 1000
    seed: int = 2023
    trajectory_groups: tuple[int, ...] = (1, 2, 3, 4, 5)
    trajectory_orders: tuple[int, ...] = (1, 2, 3)
    trajectory_starts: int = 5
    paper_groups: int = 3

    def check(self) -> None:
        """Refuse a choice no analysis knows (a run then fails with this message)."""
        if self.effect_size not in EFFECT_SIZES:
            raise ValueError(
                f"unknown effect size {self.effect_size!r}; choose one of {EFFECT_SIZES}"
            )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Parameters:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        for key in ("trajectory_groups", "trajectory_orders"):
            if key in known:
                known[key] = tuple(int(v) for v in known[key])
        return cls(**known)


Progress = Callable[[str, int, int], None]
STEPS = (
    "descriptive",
    "mixed_models",
    "interactions",
    "trajectories",
    "trajectory_comparisons",
    "mediation",
)


def p_text(p: float | None) -> str | None:
    """Write a P value as the paper does (JAMA style; ``analytics.stats.pvalues``)."""
    return pvalues.format_p(p)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _mean_sd(block: Mapping[str, Any]) -> dict[str, Any]:
    return {"mean": block["mean"], "sd": block["sd"]}


def _count(n: int, of: int) -> dict[str, Any]:
    return {"n": int(n), "pct": 100.0 * n / of if of else None}


# -- global evolution ----------------------------------------------------------------------------
def evolution(
    imputed: pd.DataFrame, observed: pd.DataFrame, reached: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Return mean, SD, SEM and n of each outcome per timepoint, on LOCF and observed data.

    ``reached`` (patients who had reached each timepoint at the data cut) is copied to each row.
    """
    out: dict[str, Any] = {}
    order = list(MONTH_OF_TIMEPOINT)
    for outcome in OUTCOMES:
        rows = []
        for label, frame in (("locf", imputed), ("observed", observed)):
            summary = frame.groupby("timepoint")[outcome].agg(["count", "mean", "std"])
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
                        "mean": _num(mean),
                        "sd": _num(sd),
                        "sem": _num(sd / math.sqrt(n)) if n > 1 else None,
                    }
                )
        out[outcome] = rows
    return out


# -- baseline vs M12 -----------------------------------------------------------------------------
def _before_after(
    analysed: pd.DataFrame, outcome: str, params: Parameters, m12_due: pd.Index
) -> dict[str, Any]:
    """The paper's baseline-to-M12 block on LOCF data, with the observed-rows model beside it.

    The LOCF analysis reads the patients whose month 12 had elapsed at the data cut (on a
    finished study, every patient); the observed-rows model reads every observed value of every
    patient with a baseline, which is valid under missing at random.
    """
    due = analysed[analysed["patient"].isin(m12_due)]
    block: dict[str, Any] = {"patients_m12_due": len(m12_due)}
    try:
        detail: dict[str, Any] = cast(
            dict[str, Any],
            baseline_vs_m12(due, outcome, effect_size=params.effect_size, reml=params.reml),
        )
    except MODEL_ERRORS as error:
        block.update(_unavailable(error, "no patient with a baseline value has reached month 12"))
    else:
        size = detail["effect_size"]
        p = detail["p"]
        block.update(
            {
                "baseline": _mean_sd(detail["baseline"]),
                "m12": _mean_sd(detail["m12"]),
                "change": _mean_sd(detail["change"]),
                "effect_size": size["estimate"],
                "effect_size_ci95": size["ci95"],
                "effect_size_kind": size["kind"],
                "p": p,
                "p_text": p_text(p),
                "n": detail["n_patients"],
                "detail": detail,
            }
        )
    block["observed_rows"] = _observed_rows(
        lambda: baseline_vs_m12(
            analysed, outcome, effect_size=params.effect_size, reml=params.reml, impute=False
        )
    )
    return block


# What a model raises when the data cannot support it (too few patients, a constant outcome).
MODEL_ERRORS = (ValueError, KeyError, ZeroDivisionError, np.linalg.LinAlgError)


def _unavailable(error: Exception, reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason, "error": f"{type(error).__name__}: {error}"}


def _observed_rows(model: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    """Run the same model on the observed rows only (no imputation); say so if it cannot run."""
    try:
        detail = dict(model())
    except MODEL_ERRORS as error:
        return _unavailable(error, "too few observed values")
    if "p" in detail:
        detail["p_text"] = p_text(detail["p"])
    if isinstance(detail.get("omnibus"), dict):
        detail["omnibus_p_text"] = p_text(detail["omnibus"]["p"])
    detail["available"] = True
    return detail


def _definite_cases(imputed: pd.DataFrame, column: str) -> dict[str, Any]:
    """Patients with a score >= 11 at BL and at M12, over the patients with both values."""
    wide = imputed.pivot_table(index="patient", columns="timepoint", values=column, aggfunc="first")
    pairs = wide.reindex(columns=["BL", "M12"]).dropna()
    cut = hads.BORDERLINE_MAX + 1
    return {
        "definite_cases_baseline": _count(int((pairs["BL"] >= cut).sum()), len(pairs)),
        "definite_cases_m12": _count(int((pairs["M12"] >= cut).sum()), len(pairs)),
    }


def _comorbid(imputed: pd.DataFrame) -> dict[str, Any]:
    base = imputed[imputed["timepoint"] == "BL"]
    base = base.dropna(subset=["hads_a", "hads_d"])
    cut = hads.BORDERLINE_MAX + 1
    both = base[(base["hads_a"] >= cut) & (base["hads_d"] >= cut)]
    n = len(base)
    return {
        **_count(len(both), n),
        "with_nprs_gt7": _count(int((both["nprs_mean"] > 7).sum()), n),
        "of": n,
    }


def _interaction(frame: pd.DataFrame, column: str, params: Parameters) -> dict[str, Any]:
    name = "HADS-D" if column.endswith("_d") else "HADS-A"
    block: dict[str, Any] = {"grouping": f"{name} <=7 vs >7"}
    try:
        detail: dict[str, Any] = cast(
            dict[str, Any],
            interaction_with_baseline_group(
                frame, "nprs_mean", column, hads.NORMAL_MAX, reml=params.reml
            ),
        )
    except MODEL_ERRORS as error:
        block.update(_unavailable(error, "too few patients in one of the groups"))
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
    block["observed_rows"] = _observed_rows(
        lambda: interaction_with_baseline_group(
            frame, "nprs_mean", column, hads.NORMAL_MAX, reml=params.reml, impute=False
        )
    )
    return block


_BAND_KEYS = {"<=7": "le7", "8-10": "8_10", ">=11": "ge11"}


# -- trajectories --------------------------------------------------------------------------------
def _wide_pain(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[float]]:
    wide = frame.pivot_table(
        index="patient", columns="month", values="nprs_mean", aggfunc="first", dropna=False
    )
    months = sorted(float(m) for m in frame["month"].dropna().unique())
    wide = wide.reindex(columns=months)
    return wide, months


def _fraction(n: int, of: int) -> str:
    return f"{n}/{of} ({100.0 * n / of:.1f}%)" if of else f"{n}/{of}"


def trajectories(data: Any, params: Parameters, progress: Progress) -> dict[str, Any]:
    """Fit the trajectory sweep on IV patients and describe the paper's 3-group model."""
    long = data.long
    iv_patients = set(data.patients.loc[data.patients["iv_route"], "patient"])
    frame = long[long["patient"].isin(iv_patients)]
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
    )
    progress("trajectory_comparisons", STEPS.index("trajectory_comparisons"), len(STEPS))
    # The paper's model: 3 groups; among the orders tried, the best BIC at K = 3.
    three = [f for f in sweep.fits if f.n_groups == params.paper_groups]
    paper_fit = max(three, key=lambda f: f.bic) if three else sweep.chosen
    patient_ids = wide.index.to_numpy()
    assignment = paper_fit.assignment
    names = list(TRAJECTORY_NAMES) if paper_fit.n_groups == 3 else list(paper_fit.labels)
    group_of = {pid: names[g] for pid, g in zip(patient_ids, assignment, strict=True) if g >= 0}
    patients = data.patients.set_index("patient").loc[patient_ids]
    baseline_pain = long[long["timepoint"] == "BL"].set_index("patient")["nprs_mean"]
    last_dose = long.sort_values("month").groupby("patient")["cumulative_dose_mg"].last()
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

    groups: dict[str, Any] = {}
    for index, name in enumerate(names):
        rows = table[table["group"] == name]
        fitted = paper_fit.groups[index]
        block: dict[str, Any] = {
            "n": len(rows),
            "pct": 100.0 * len(rows) / len(table),
            "estimated_pct": 100.0 * fitted.pi,
            "baseline_nprs": descriptive._mean_sd(rows["baseline_nprs"]),
            "baseline_hads_d": descriptive._mean_sd(rows["baseline_hads_d"]),
            "baseline_hads_a": descriptive._mean_sd(rows["baseline_hads_a"]),
            "fibromyalgia": _fraction(int(rows["fibromyalgia"].sum()), len(rows)),
            "neuropathic_below3_from_m3": _fraction(
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
        groups[name] = block

    comparisons = baseline_by_trajectory(
        table,
        table["group"].to_numpy(),
        categorical=("fibromyalgia",),
        continuous=("baseline_hads_d", "baseline_hads_a", "baseline_nprs", "cumulative_dose_mg"),
        seed=params.seed,
    )
    tests = {c.variable: c.to_dict() for c in comparisons}
    # The same comparisons over classes drawn from the posteriors, not the assignment alone.
    uncertain = pseudo_class_tests(
        table,
        paper_fit.posterior,
        continuous=("baseline_hads_d", "baseline_hads_a", "baseline_nprs", "cumulative_dose_mg"),
        categorical=("fibromyalgia",),
        draws=50,
        seed=params.seed,
    )

    def p_of(variable: str) -> float | None:
        test = tests[variable]
        return _num(test["chi2_p"] if test["kind"] == "categorical" else test["anova_p"])

    dose_p = _num(tests["cumulative_dose_mg"]["kruskal_p"])
    label_of_month = {float(m): code for code, m in MONTH_OF_TIMEPOINT.items()}
    divergence = first_divergence(
        frame.rename(columns={"nprs_mean": "nprs"}),
        group_of,
        value="nprs",
        correction="holm",
        timepoints=label_of_month,
    )
    pairs: dict[str, Any] = {}
    for pair in divergence:
        key = f"{pair.first.split('_')[0]}_vs_{pair.second.split('_')[0]}"
        entry: dict[str, Any] = {
            # "month" is the time in months (W1 = 0.25); "timepoint" names it.
            "month": pair.first_month,
            "timepoint": pair.first_timepoint,
            "coefficient": _num(pair.coefficient),
            "ci95": [_num(pair.ci_low), _num(pair.ci_high)],
            "p": _num(pair.p),
            "p_text": p_text(_num(pair.p)),
            "p_holm": _num(pair.p_adjusted),
            "p_holm_text": p_text(_num(pair.p_adjusted)),
            "correction": (
                f"Holm over the {len(pair.contrasts)} follow-up timepoints of the pair; a "
                "timepoint differs when its Holm-adjusted P < .05"
            ),
        }
        # The last timepoint of the first run of significant ones (the paper gives it when the
        # difference fades before M12).
        entry["until_month"] = pair.until_month
        entry["until_timepoint"] = pair.until_timepoint
        entry["sustained"] = pair.sustained
        entry["contrasts"] = [c.to_dict() for c in pair.contrasts]
        pairs[key] = entry

    chosen = sweep.chosen
    return {
        "available": True,
        "population": f"{len(table)} patients with IV ketamine",
        "method": (
            "group-based trajectory model (semiparametric mixture, Nagin): censored normal "
            "(0-10), polynomial in months, maximum likelihood with several seeded starts"
        ),
        "groups": groups,
        "fibromyalgia_by_group_p": p_of("fibromyalgia"),
        "baseline_hads_d_by_group_p": p_of("baseline_hads_d"),
        "baseline_hads_a_by_group_p": p_of("baseline_hads_a"),
        "by_group_p_text": {
            name: p_text(p_of(name))
            for name in ("fibromyalgia", "baseline_hads_d", "baseline_hads_a")
        },
        "cumulative_dose_associated_with_trajectory": bool(dose_p is not None and dose_p < 0.05),
        "cumulative_dose_by_group_p": dose_p,
        "first_divergence_from_baseline": pairs,
        "comparisons": tests,
        "comparisons_over_posterior_draws": {
            "method": (
                "50 draws of every patient's group from the paper model's posteriors; the P of "
                "each test over the draws (median, 2.5-97.5% range, share below .05). The draws "
                "carry the uncertainty the posteriors claim, no more: see the memberships note."
            ),
            "tests": uncertain,
        },
        "memberships_source": (
            "The memberships, the group comparisons and the first divergence come from the "
            "paper's group-based model (3 groups, censored normal, calls independent given the "
            "group). It ignores each patient's own level: its posteriors are overconfident on "
            "data with a random intercept (random_intercept_test in paper_model), so its "
            "assignments are less certain than APP says (bench/calibration.py)."
        ),
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
        "membership": {
            "patient": [int(p) for p in patient_ids],
            "group": [group_of.get(pid) for pid in patient_ids],
            "posterior": [
                _num(np.nanmax(row)) if np.isfinite(row).any() else None
                for row in paper_fit.posterior
            ],
        },
    }


# -- mediation -----------------------------------------------------------------------------------
def _mediation(imputed: pd.DataFrame, observed: pd.DataFrame, params: Parameters) -> dict[str, Any]:
    """The paper's specification on LOCF rows; the within-patient mediations on observed rows.

    Within a patient, LOCF pairs a carried HADS-D with a newly observed pain score (or the
    reverse) whenever one instrument is missing at a call, which weakens the b path; the
    observed rows are valid under missing at random.
    """
    paper: dict[str, Any] = cast(
        dict[str, Any],
        mediation.paper_specification(imputed, n_boot=params.n_boot, seed=params.seed),
    )
    within = mediation.within_patient_mediation(
        observed, "month", "hads_d", "nprs_mean", n_boot=params.n_boot, seed=params.seed
    )
    within["rows"] = "observed"
    dose = mediation.within_patient_mediation(
        observed,
        "month",
        "cumulative_dose_mg",
        "nprs_mean",
        n_boot=params.n_boot,
        seed=params.seed,
    )
    dose["rows"] = "observed"
    path1 = paper["path1_dose_to_pain"]
    path2 = paper["path2_dose_to_depression"]
    return {
        "model": paper["model"],
        "path1_dose_to_pain": {"r": path1["r"], "p": path1["p"]},
        "path2_dose_to_depression": {"r": path2["r"], "p": path2["p"]},
        "path3_depression_to_pain": paper["path3_depression_to_pain"],
        "path3_dose_to_pain": paper["path3_dose_to_pain"],
        "proportion_mediated_by_depression_pct": paper["proportion_mediated_by_depression_pct"],
        "proportion_mediated_by_dose_pct": paper["proportion_mediated_by_dose_pct"],
        "paper_specification": paper,
        "within_patient_depression": within,
        "within_patient_dose": dose,
    }


# -- notes computed from the run -----------------------------------------------------------------
EFFECT_SIZE_FORMULAS = {
    "d_z": "d_z = mean change / SD of change",
    "d_av": "d_av = mean change / sqrt((SD at baseline^2 + SD at M12^2) / 2)",
    "d_pre": "d_pre = mean change / SD at baseline",
    "d_lmm": "d_lmm = M12 - BL contrast of the mixed model / sqrt(2 x its residual variance)",
}


def effect_size_note(kind: str, results: Mapping[str, Any]) -> str:
    """Say which effect size the run used, as the result blocks report it."""
    used = sorted(
        {
            str(block["effect_size_kind"])
            for block in results.values()
            if isinstance(block, dict) and block.get("effect_size_kind")
        }
    )
    if not used:
        return f"Effect sizes: none computed ({kind} was asked; no patient had reached M12)."
    formulas = "; ".join(EFFECT_SIZE_FORMULAS.get(k, k) for k in used)
    return (
        f"Effect sizes: {formulas}, on LOCF data of the patients who had reached M12 "
        f"(parameter effect_size = {kind}; see docs/analysis-report.md for the choice)."
    )


def mediation_notes(block: Mapping[str, Any]) -> list[str]:
    """Notes on the mediation blocks, from what they found."""
    if not block or block.get("available") is False:
        return ["Mediation: not computed (too few patients)."]
    notes = [
        "The mediation block reconstructs the paper's specification; baseline HADS-D acts as a "
        "moderator. The within-patient blocks respect causal order: time as the study's "
        "timepoints, the change averaged over the follow-up timepoints, observed rows."
    ]
    paper = block.get("paper_specification", {})
    for key, name in (
        ("proportion_mediated_by_depression", "by baseline depression"),
        ("proportion_mediated_by_dose", "by dose"),
    ):
        entry = paper.get(key, {})
        if isinstance(entry, dict) and entry.get("withheld"):
            notes.append(f"Paper specification, proportion mediated {name}: {entry['withheld']}.")
    return notes


# -- the whole run -------------------------------------------------------------------------------
def library_versions() -> dict[str, str]:
    """Return the versions of Python and of the libraries the results depend on."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _ignore(step: str, done: int, total: int) -> None:
    return None


def build_report(
    data: Any,
    params: Parameters | None = None,
    *,
    progress: Progress = _ignore,
    fingerprint: str = "",
) -> dict[str, Any]:
    """Run every analysis of the study on ``data`` (a ``StudyData``) and return the report."""
    params = params or Parameters()
    params.check()
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}
    began = time.perf_counter()
    long = data.long
    as_of = data.as_of
    # Administrative censoring: the analyses read only the timepoints that had come for each
    # patient at the data cut; the rest are not yet observed (analytics.stats.censoring).
    analysed = censoring.analysed_rows(long)
    cut = censoring.data_cut(long, as_of)
    m12_due = censoring.patients_reaching(long, "M12")
    observed = analysed[analysed["patient"].isin(long.loc[long["timepoint"] == "BL", "patient"])]
    imputed, carried = locf(analysed, list(OUTCOMES), by="patient")

    def step(name: str) -> float:
        progress(name, STEPS.index(name), len(STEPS))
        return time.perf_counter()

    t = step("descriptive")
    cohort = descriptive.baseline_table(data.patients, data.treatments)
    cohort["table"] = descriptive.format_table(data.patients, data.treatments)
    results["adverse_effects"] = descriptive.adverse_effects(data.adverse_events, data.calls)
    results["concomitant_change_baseline_to_m12"] = descriptive.concomitant_change(
        data.treatments, data.calls
    )
    for block in results["concomitant_change_baseline_to_m12"].values():
        block["p_text"] = p_text(block["p"])
    results["evolution"] = evolution(imputed, observed, cut["reached"])
    results["missingness"] = missingness_table(
        long, OUTCOMES, timepoints=list(MONTH_OF_TIMEPOINT), elapsed=censoring.elapsed_mask(long)
    )
    timings["descriptive"] = time.perf_counter() - t

    t = step("mixed_models")
    results["nprs_baseline_to_m12"] = _before_after(analysed, "nprs_mean", params, m12_due)
    results["nprs_max_baseline_to_m12"] = _before_after(analysed, "nprs_max", params, m12_due)
    due_imputed = imputed[imputed["patient"].isin(m12_due)]
    for key, column in (("hads_depression", "hads_d"), ("hads_anxiety", "hads_a")):
        block = _before_after(analysed, column, params, m12_due)
        block.update(_definite_cases(due_imputed, column))
        results[f"{key}_baseline_to_m12"] = block
    results["comorbid_definite_depression_and_anxiety_baseline"] = _comorbid(imputed)
    for key, column in (("sf12_mcs", "sf12_mcs"), ("sf12_pcs", "sf12_pcs")):
        results[f"{key}_baseline_to_m12"] = _before_after(analysed, column, params, m12_due)
    timings["mixed_models"] = time.perf_counter() - t

    t = step("interactions")
    depression = _interaction(analysed, "baseline_hads_d", params)
    fig2 = figure2(analysed, "nprs_mean", "baseline_hads_d", (hads.NORMAL_MAX, hads.BORDERLINE_MAX))
    bands = cast(list[dict[str, Any]], fig2["bands"])
    depression["figure2_groups_n"] = {_BAND_KEYS.get(b["label"], b["label"]): b["n"] for b in bands}
    results["time_x_baseline_depression_interaction"] = depression
    results["time_x_baseline_anxiety_interaction"] = _interaction(
        analysed, "baseline_hads_a", params
    )
    results["figure2"] = fig2
    timings["interactions"] = time.perf_counter() - t

    t = step("trajectories")
    results["trajectories"] = trajectories(replace(data, long=analysed), params, progress)
    timings["trajectories"] = time.perf_counter() - t

    t = step("mediation")
    try:
        results["mediation"] = _mediation(imputed, observed, params)
    except MODEL_ERRORS as error:
        results["mediation"] = _unavailable(error, "too few patients for the mediation models")
    timings["mediation"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - began
    progress("done", len(STEPS), len(STEPS))
    # Every block states the data cut it was computed at (the trajectories on the IV patients).
    for block in results.values():
        if isinstance(block, dict) and "data_cut" not in block:
            block["data_cut"] = cut
    if results["trajectories"].get("available"):
        iv = data.patients.loc[data.patients["iv_route"], "patient"]
        results["trajectories"]["data_cut"] = censoring.data_cut(
            long[long["patient"].isin(iv)], as_of
        )
    cohort["data_cut"] = cut

    reached = long["call_status"].eq("reached")
    report = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "run": {
            "patients": int(long["patient"].nunique()),
            "calls": int(reached.sum()),
            "calls_scheduled": len(long),
            "sites": int(long["site"].nunique()),
            "as_of": as_of.isoformat(),
            "data_cut": cut,
            "fingerprint": fingerprint,
            "parameters": params.to_dict(),
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
            "versions": library_versions(),
            "carried_forward": {
                outcome: {str(k): int(v) for k, v in counts.items()}
                for outcome, counts in carried.items()
            },
            "notes": [
                effect_size_note(params.effect_size, results),
                *mediation_notes(results.get("mediation", {})),
                "Missing values: refused, unreachable, not asked and lost are missing outcomes "
                "(left out of the observed fits, carried forward by LOCF); not applicable is "
                "not missing data (never imputed, out of the denominators). See "
                "results.missingness.",
                f"Data cut {as_of.isoformat()}: {cut['patients']} patients, "
                f"{cut['reached']['M12']} of whom had reached month 12. A timepoint whose "
                "window had not closed and whose call was not made is not yet observed: never "
                "imputed, never in a denominator, never counted as missing.",
            ],
        },
        "cohort": cohort,
        "results": results,
    }
    return descriptive.json_ready(report)
