"""Multilevel mediation: recovery of known parameters, bootstrap, and the demo cohort."""

from __future__ import annotations

import functools
import json
import time

import numpy as np
import pandas as pd

from analytics.stats import mediation
from analytics.stats.mediation import paper_specification, within_patient_mediation
from analytics.stats.mixed import MONTHS, fit_lmm, locf

A, B, C_PRIME = -0.15, 0.6, -0.06
TRUE_PROPORTION = A * B / (A * B + C_PRIME)
PAPER_KEYS = (
    "model",
    "path1_dose_to_pain",
    "path2_dose_to_depression",
    "path3_depression_to_pain",
    "path3_dose_to_pain",
    "proportion_mediated_by_depression_pct",
    "proportion_mediated_by_dose_pct",
)


def simulate(n_patients: int = 300, *, a: float = A, b: float = B, seed: int = 1) -> pd.DataFrame:
    """Draw M = a t + u_i + e and Y = b M + c' t + v_i + e on the study's 14 timepoints."""
    rng = np.random.default_rng(seed)
    months = np.array(list(MONTHS.values()))
    t = np.tile(months, n_patients)
    patient = np.repeat(np.arange(n_patients), len(months))
    male = np.repeat(rng.random(n_patients) < 0.25, len(months))
    age = np.repeat(rng.normal(51.0, 11.0, n_patients), len(months))
    u = np.repeat(rng.normal(0.0, 3.0, n_patients), len(months))
    v = np.repeat(rng.normal(0.0, 1.5, n_patients), len(months))
    m = 8.0 + a * t + u + 0.8 * male + rng.normal(0.0, 1.1, t.size)
    y = 4.0 + b * m + C_PRIME * t + v + 0.3 * male + 0.01 * age + rng.normal(0.0, 0.6, t.size)
    return pd.DataFrame(
        {
            "patient": patient,
            "month": t,
            "nprs_mean": y,
            "hads_d": m,
            "sex": np.where(male, "M", "F"),
            "age": age,
        }
    )


@functools.cache
def recovered() -> dict[str, object]:
    return within_patient_mediation(simulate(), n_boot=400, seed=3)


def _get(result: dict[str, object], *keys: str) -> object:
    value: object = result
    for key in keys:
        assert isinstance(value, dict)
        value = value[key]
    return value


def test_within_patient_model_recovers_a_b_and_direct_effect_within_three_se():
    result = recovered()
    for path, truth in (("a", A), ("b", B), ("c_prime", C_PRIME)):
        estimate, se = _get(result, path, "coefficient"), _get(result, path, "se")
        assert abs(estimate - truth) < 3 * se, (path, estimate, se)


def test_indirect_effect_is_recovered_within_three_sobel_se():
    estimate = _get(recovered(), "indirect", "estimate")
    se = _get(recovered(), "indirect", "sobel_se")
    assert abs(estimate - A * B) < 3 * se


def test_bootstrap_intervals_cover_the_true_proportion_and_indirect_effect():
    result = recovered()
    for kind in ("percentile_ci95", "bias_corrected_ci95"):
        low, high = _get(result, "proportion_mediated", kind)
        assert low < TRUE_PROPORTION < high
        low, high = _get(result, "indirect", kind)
        assert low < A * B < high


def test_bootstrap_se_agrees_with_the_sobel_se():
    boot = _get(recovered(), "indirect", "bootstrap_se")
    sobel = _get(recovered(), "indirect", "sobel_se")
    assert 0.7 < boot / sobel < 1.4


def test_null_mediator_effect_gives_an_indirect_interval_covering_zero():
    result = within_patient_mediation(simulate(b=0.0, seed=4), n_boot=300, seed=5)
    for kind in ("percentile_ci95", "bias_corrected_ci95"):
        low, high = _get(result, "indirect", kind)
        assert low < 0.0 < high


def test_batched_bootstrap_fit_equals_the_mixed_model_solver():
    frame = simulate(60, seed=7)
    data = mediation._prepare(frame, ["patient", "month", "hads_d"])
    model = mediation._Model(data, "hads_d", ["month", "sex_male", "age"], 60)
    counts = mediation._resample_counts(60, 3, seed=2)
    batched = mediation._batch_betas(model.stats, np.vstack([np.ones(60), counts]))
    assert np.allclose(batched[0], model.result.params, atol=1e-8)
    # The search narrowed around the full-sample variance ratio finds the same optimum.
    narrowed = model.betas(np.vstack([np.ones(60), counts]))
    assert np.allclose(narrowed, batched, atol=1e-8)
    # A resample is the same as fitting the data with each patient repeated `count` times.
    rows = np.repeat(np.arange(60), counts[0].astype(int))
    parts = [data.loc[data["_code"] == p].assign(_copy=k) for k, p in enumerate(rows)]
    long = pd.concat(parts, ignore_index=True)
    X = np.column_stack([np.ones(len(long)), long[["month", "sex_male", "age"]].to_numpy(float)])
    direct = fit_lmm(long["hads_d"].to_numpy(float), X, long["_copy"].to_numpy())
    assert np.allclose(batched[1], direct.params, atol=1e-7)


def test_a_thousand_resamples_of_329_patients_take_well_under_thirty_seconds():
    frame = simulate(329, seed=9)
    start = time.perf_counter()
    result = within_patient_mediation(frame, n_boot=1000, seed=0)
    assert time.perf_counter() - start < 30.0
    assert _get(result, "proportion_mediated", "n_boot") == 1000


def test_same_seed_gives_identical_results_and_another_seed_differs():
    frame = simulate(80, seed=8)
    first = within_patient_mediation(frame, n_boot=100, seed=11)
    again = within_patient_mediation(frame, n_boot=100, seed=11)
    other = within_patient_mediation(frame, n_boot=100, seed=12)
    assert json.dumps(first) == json.dumps(again)
    assert json.dumps(first) != json.dumps(other)
    paper = [paper_specification(demo_frame(), n_boot=50, seed=4) for _ in range(2)]
    assert json.dumps(paper[0]) == json.dumps(paper[1])


def test_outputs_are_strict_json():
    json.dumps(recovered(), allow_nan=False)
    json.dumps(paper_specification(demo_frame(), n_boot=50, seed=0), allow_nan=False)


# --------------------------------------------------------------------------------------------
# Demo cohort
# --------------------------------------------------------------------------------------------


@functools.cache
def demo() -> tuple[pd.DataFrame, dict[str, object]]:
    from cohort.demo import generate

    cohort = generate(329, seed=0)
    calls = cohort.calls.copy()
    items = calls[[f"hads_{k}" for k in range(2, 15, 2)]].astype("Float64")
    calls["hads_d"] = items.sum(axis=1, skipna=False).astype(float)
    calls["nprs_mean"] = calls["nprs_mean"].astype("Float64").astype(float)
    calls["month"] = calls["timepoint"].map(MONTHS)
    calls["patient"] = calls["study_code"]
    # Dose received up to the call (or its target date when the call was not made).
    when = pd.to_datetime(calls["call_date"].fillna(calls["target_date"]))
    adm = cohort.administrations.assign(
        mg=lambda d: d["dose_mg"].astype(float) * d["days"],
        date=lambda d: pd.to_datetime(d["date"]),
    )
    merged = calls[["study_code", "timepoint"]].assign(when=when).merge(adm, on="study_code")
    dose = (
        merged.loc[merged["date"] <= merged["when"]]
        .groupby(["study_code", "timepoint"])["mg"]
        .sum()
    )
    keys = pd.MultiIndex.from_frame(calls[["study_code", "timepoint"]])
    calls["cumulative_dose_mg"] = dose.reindex(keys).fillna(0.0).to_numpy()
    frame, _ = locf(calls, ["nprs_mean", "hads_d"])
    baseline = frame.loc[frame["month"] == 0].set_index("patient")["hads_d"]
    frame["baseline_hads_d"] = frame["patient"].map(baseline)
    people = cohort.patients.set_index("study_code")
    frame["sex"] = frame["patient"].map(people["sex"])
    frame["age"] = frame["patient"].map(people["age"]).astype(float)
    columns = ["patient", "month", "nprs_mean", "hads_d", "baseline_hads_d"]
    columns += ["cumulative_dose_mg", "sex", "age"]
    return frame[columns].reset_index(drop=True), cohort.truth


def demo_frame() -> pd.DataFrame:
    return demo()[0]


def test_demo_cohort_dose_has_no_significant_effect_in_the_paper_specification():
    result = paper_specification(demo_frame(), n_boot=200, seed=0)
    assert result["path3_dose_to_pain"]["p"] > 0.05
    assert result["path1_dose_to_pain"]["p"] > 0.05
    assert "Reconstruction" in result["label"]
    # The keys of results.mediation in the paper targets.
    assert set(result) >= set(PAPER_KEYS)


def test_demo_cohort_within_patient_proportion_interval_covers_the_truth():
    frame, truth = demo()
    mediation_truth = truth["mediation"]
    assert isinstance(mediation_truth, dict)
    target = mediation_truth["proportion_mediated"]
    result = within_patient_mediation(frame, n_boot=1000, seed=0)
    for kind in ("percentile_ci95", "bias_corrected_ci95"):
        low, high = _get(result, "proportion_mediated", kind)
        assert low < target < high, (kind, low, high)
