"""Multilevel mediation: recovery of known parameters, bootstrap, and the demo cohort."""

from __future__ import annotations

import functools
import json
import time

import numpy as np
import pandas as pd
import pytest

from analytics.stats import mediation
from analytics.stats.mediation import paper_specification, within_patient_mediation
from analytics.stats.mixed import MONTHS, fit_lmm

A, B, C_PRIME = -0.15, 0.6, -0.06
TRUE_PROPORTION = A * B / (A * B + C_PRIME)
# Time as categories: the contrasts average the change over the follow-up timepoints, so with a
# straight-line truth the averaged a and c' are the slopes times the mean follow-up month.
MEAN_LATER = float(np.mean([m for m in MONTHS.values() if m > 0]))
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
    for path, truth in (("a", A * MEAN_LATER), ("b", B), ("c_prime", C_PRIME * MEAN_LATER)):
        estimate, se = _get(result, path, "coefficient"), _get(result, path, "se")
        assert abs(estimate - truth) < 3 * se, (path, estimate, se)


def test_indirect_effect_is_recovered_within_three_sobel_se():
    estimate = _get(recovered(), "indirect", "estimate")
    se = _get(recovered(), "indirect", "sobel_se")
    assert abs(estimate - A * B * MEAN_LATER) < 3 * se


def test_bootstrap_intervals_cover_the_true_proportion_and_indirect_effect():
    result = recovered()
    for kind in ("percentile_ci95", "bias_corrected_ci95"):
        low, high = _get(result, "proportion_mediated", kind)
        assert low < TRUE_PROPORTION < high
        low, high = _get(result, "indirect", kind)
        assert low < A * B * MEAN_LATER < high


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


def _non_finite(value, path=""):
    """The paths of the floats in a nested output that are not finite (NaN or infinite)."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _non_finite(item, f"{path}/{key}")]
    if isinstance(value, list | tuple):
        return [p for n, item in enumerate(value) for p in _non_finite(item, f"{path}/{n}")]
    if isinstance(value, float) and not np.isfinite(value):
        return [path]
    return []


def _counts_all_at_once(n: int, n_boot: int, seed: int) -> np.ndarray:
    """The resamples drawn in one matrix, as the bootstrap did before it went block by block."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    counts = np.zeros((n_boot, n))
    np.add.at(counts, (np.repeat(np.arange(n_boot), n), draws.ravel()), 1.0)
    return counts


def test_resamples_drawn_block_by_block_are_those_drawn_all_at_once():
    for n, n_boot in ((61, 300), (60, 257)):
        whole = _counts_all_at_once(n, n_boot, seed=5)
        for block in (1, 7, 64, n_boot):
            blocks = list(mediation._resample_blocks(n, n_boot, 5, block))
            assert max(len(b) for b in blocks) == min(block, n_boot)
            assert np.array_equal(np.vstack(blocks), whole)


def test_a_block_of_resamples_holds_about_boot_cells_counts(monkeypatch):
    monkeypatch.setattr(mediation.resampling, "BOOT_CELLS", 6000)
    sizes = [len(b) for b in mediation._resample_blocks(100, 250, 1)]
    assert sizes == [60, 60, 60, 60, 10]
    # Small cohorts: every resample in one block; large ones: never fewer than 16 per block.
    assert [len(b) for b in mediation._resample_blocks(20, 250, 1)] == [250]
    assert len(next(mediation._resample_blocks(1000, 250, 1))) == 16


def test_bootstrap_in_blocks_gives_the_same_numbers_as_in_one_block(monkeypatch):
    frame = simulate(90, seed=4)
    paper = demo_frame()
    monkeypatch.setattr(mediation.resampling, "BOOT_BLOCK", 1000)
    whole = within_patient_mediation(frame, n_boot=150, seed=6)
    whole_paper = paper_specification(paper, n_boot=150, seed=6)
    monkeypatch.setattr(mediation.resampling, "BOOT_BLOCK", 16)
    blocked = within_patient_mediation(frame, n_boot=150, seed=6)
    blocked_paper = paper_specification(paper, n_boot=150, seed=6)
    # Same resamples, same fits: equal up to the last bits of the matrix products, whose
    # summation order the linear algebra library may choose by the number of rows.
    for one, other in ((blocked, whole), (blocked_paper, whole_paper)):
        a, b = _leaves(one), _leaves(other)
        assert [k for k, _ in a] == [k for k, _ in b]
        for (key, x), (_, y) in zip(a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert abs(x - y) <= 1e-10 * max(1.0, abs(y)), key
            else:
                assert x == y, key
    assert _get(blocked, "indirect", "n_boot") == 150
    # One resample fewer is a different bootstrap: the comparison above can fail.
    shorter = within_patient_mediation(frame, n_boot=149, seed=6)
    interval = ("indirect", "percentile_ci95")
    assert _get(shorter, *interval) != _get(whole, *interval)


def test_patient_statistics_are_each_patients_own_cross_products(monkeypatch):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 70, 5000)  # patients' rows interleaved, as after a sort by time
    X = np.column_stack([np.ones(5000), rng.normal(size=(5000, 4))])
    y = rng.normal(size=5000)
    stats = mediation._patient_stats(y, X, codes, 70)
    rows, cols = np.triu_indices(6)
    Z = np.column_stack([X, y])
    for at, patient in enumerate(stats.order):
        own = Z[codes == patient]
        centred = own - own.mean(0)
        size = stats.sizes[np.searchsorted(stats.bounds, at, side="right") - 1]
        assert size == len(own)
        within = np.zeros(rows.size)  # the intercept's products are left out: all zeros
        within[stats.live] = stats.within[at]
        assert np.allclose(within, (centred.T @ centred)[rows, cols], atol=1e-12)
        means = own.mean(0)
        assert np.allclose(stats.between[at], np.outer(means, means)[rows, cols], atol=1e-12)
    # Summed a few patients at a time (blocks of whole patients), the same numbers.
    monkeypatch.setattr(mediation.reml, "_ROW_BLOCK", 200)
    blocked = mediation._patient_stats(y, X, codes, 70)
    assert np.array_equal(blocked.within, stats.within)


def _leaves(value: object, key: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{key}/{k}")]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{key}[{i}]")]
    return [(key, value)]


def test_outputs_are_strict_json():
    for output in (recovered(), paper_specification(demo_frame(), n_boot=50, seed=0)):
        assert _non_finite(output) == []
        text = json.dumps(output, allow_nan=False)
        assert json.loads(text) == json.loads(json.dumps(output))


# --------------------------------------------------------------------------------------------
# Demo cohort
# --------------------------------------------------------------------------------------------


@functools.cache
def demo(carry_forward: bool = True) -> tuple[pd.DataFrame, dict[str, object]]:
    from demo.synthetic import generate
    from demo.synthetic.analysis_frame import mediation_frame

    cohort = generate(329, seed=0)
    return mediation_frame(cohort, carry_forward=carry_forward), cohort.truth


def demo_frame() -> pd.DataFrame:
    return demo()[0]


def test_paper_specification_keeps_the_published_keys_and_says_it_is_a_reconstruction():
    result = paper_specification(demo_frame(), n_boot=50, seed=0)
    assert "Reconstruction" in result["label"]
    assert "timepoint (categorical)" in result["model"]
    # The keys of results.mediation in the paper targets.
    assert set(result) >= set(PAPER_KEYS)


def test_demo_cohort_dose_paths_reject_at_about_the_nominal_rate_over_twenty_seeds():
    """Dose has no effect in the demo: each dose test may reject in about 1 seed in 20."""
    from demo.synthetic import generate
    from demo.synthetic.analysis_frame import mediation_frame

    rejections = {"path1": 0, "path3": 0, "within_b": 0}
    for seed in range(20):
        cohort = generate(329, seed=100 + seed)
        paper = paper_specification(mediation_frame(cohort), n_boot=0)
        within = within_patient_mediation(
            mediation_frame(cohort, carry_forward=False), m="cumulative_dose_mg", n_boot=0
        )
        rejections["path1"] += paper["path1_dose_to_pain"]["p"] < 0.05
        rejections["path3"] += paper["path3_dose_to_pain"]["p"] < 0.05
        rejections["within_b"] += within["b"]["p"] < 0.05
    # Binomial(20, 0.05): 4 or more rejections has probability 1.6%.
    assert all(count <= 3 for count in rejections.values()), rejections


def step_course(n_patients: int = 300, seed: int = 1, trend: float = 0.0) -> pd.DataFrame:
    """Pain drops in one step after baseline; a dose that only accumulates has no effect.

    Each patient receives dose at an own rate, so dose to date is a monotone function of time
    within a patient; a straight line in months misfits the step, and the dose picks it up.
    """
    rng = np.random.default_rng(seed)
    months = np.array(list(MONTHS.values()))
    k = months.size
    rate = rng.lognormal(0.0, 0.5, n_patients)
    level = rng.normal(6.5, 1.5, n_patients)
    dep = rng.normal(8.0, 4.0, n_patients)
    course = -2.0 * (months > 0) + trend * months
    pain = level[:, None] + course[None, :] + rng.normal(0.0, 0.7, (n_patients, k))
    dose = rate[:, None] * np.sqrt(months)[None, :] * 300.0
    frame = pd.DataFrame(
        {
            "patient": np.repeat(np.arange(n_patients), k),
            "month": np.tile(months, n_patients),
            "nprs_mean": pain.ravel(),
            "cumulative_dose_mg": dose.ravel(),
            "hads_d": np.repeat(dep, k) + rng.normal(0.0, 1.0, n_patients * k),
            "sex": np.repeat(np.where(rng.random(n_patients) < 0.25, "M", "F"), k),
            "age": np.repeat(rng.normal(51.0, 11.0, n_patients), k),
        }
    )
    baseline = frame.loc[frame["month"] == 0].set_index("patient")["hads_d"]
    frame["baseline_hads_d"] = frame["patient"].map(baseline)
    return frame


def test_categorical_time_keeps_a_dose_without_effect_null_where_a_straight_line_does_not():
    frame = step_course()
    linear = within_patient_mediation(frame, m="cumulative_dose_mg", categorical=False, n_boot=0)
    categorical = within_patient_mediation(frame, m="cumulative_dose_mg", n_boot=0)
    # The straight line leaves the step in the residuals, and dose to date soaks it up ...
    assert linear["b"]["p"] < 1e-6
    # ... while the study's timepoints model the step exactly and the null stays null.
    assert categorical["b"]["p"] > 0.01
    assert categorical["time"] == "categorical"
    assert "averaged over the later timepoints" in categorical["estimand"]
    assert [row["month"] for row in categorical["by_timepoint"]] == sorted(
        m for m in MONTHS.values() if m > 0
    )


def test_paper_specification_adjusts_dose_for_the_timepoint():
    result = paper_specification(step_course(seed=2, trend=-0.1), n_boot=0)
    # Relief keeps growing over the follow-up: without the timepoint, dose to date stands in
    # for time and takes that course as its own effect.
    assert result["path3_dose_to_pain"]["p"] > 0.01
    assert result["path1_dose_to_pain"]["p"] > 0.01


def test_proportion_interval_is_withheld_when_the_total_effect_may_be_zero():
    frame = step_course(seed=3)
    result = paper_specification(frame, n_boot=200, seed=1)
    total = result["total_effect_of_dose"]
    low, high = total["percentile_ci95"]
    assert low <= 0.0 <= high  # dose has no effect here
    block = result["proportion_mediated_by_depression"]
    assert block["percentile_ci95"] == [None, None]
    assert block["bias_corrected_ci95"] == [None, None]
    assert "covers 0" in block["withheld"]
    assert block["estimate_pct"] is not None  # the point estimate is still shown
    # Where the total effect is clear, the interval is given.
    within = within_patient_mediation(simulate(), n_boot=200, seed=2)
    assert within["total"]["percentile_ci95"][1] < 0.0
    assert "withheld" not in within["proportion_mediated"]
    assert None not in within["proportion_mediated"]["percentile_ci95"]


def test_demo_cohort_within_patient_proportion_interval_covers_the_truth():
    frame, truth = demo(carry_forward=False)
    mediation_truth = truth["mediation"]
    assert isinstance(mediation_truth, dict)
    target = mediation_truth["proportion_mediated"]
    result = within_patient_mediation(frame, n_boot=1000, seed=0)
    for kind in ("percentile_ci95", "bias_corrected_ci95"):
        low, high = _get(result, "proportion_mediated", kind)
        assert low < target < high, (kind, low, high)


def test_robust_covariance_equals_the_sandwich_computed_patient_by_patient():
    frame = simulate(40, seed=12)
    data = mediation._prepare(frame, ["patient", "month", "hads_d", "nprs_mean"])
    model = mediation._Model(data, "nprs_mean", ["hads_d", "month", "sex_male", "age"], 40)
    y, X, codes, _ = model._design
    res = model.result
    bread = np.zeros((X.shape[1], X.shape[1]))
    meat = np.zeros_like(bread)
    for patient in np.unique(codes):
        rows = codes == patient
        V = res.sigma_e2 * np.eye(rows.sum()) + res.sigma_u2 * np.ones((rows.sum(),) * 2)
        Vinv = np.linalg.inv(V)
        Xi, ri = X[rows], y[rows] - X[rows] @ res.params
        bread += Xi.T @ Vinv @ Xi
        u = Xi.T @ Vinv @ ri
        meat += np.outer(u, u)
    inverse = np.linalg.inv(bread)
    assert np.allclose(model.robust_cov, inverse @ meat @ inverse, rtol=1e-9, atol=1e-14)
    # The model-based covariance is the bread alone.
    assert np.allclose(res.cov, inverse, rtol=1e-6)


def _old_patient_stats(y, X, codes, n):
    """The statistics as first written: the whole centred copy and gathered products."""
    Z = np.column_stack([X, y])
    rows, cols = np.triu_indices(Z.shape[1])
    n_rows = np.bincount(codes, minlength=n)
    sums = np.stack(
        [np.bincount(codes, weights=Z[:, j], minlength=n) for j in range(Z.shape[1])], 1
    )
    means = sums / np.maximum(n_rows, 1)[:, None]
    order = np.argsort(n_rows, kind="stable")
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)
    by_patient = np.argsort(rank[codes], kind="stable")
    centred = Z[by_patient] - means[codes[by_patient]]
    first = np.concatenate([[0], np.cumsum(n_rows[order])])
    within = np.zeros((n, rows.size))
    start = int(np.searchsorted(n_rows[order], 1))
    outer = centred[:, rows] * centred[:, cols]
    within[start:] = np.add.reduceat(outer, first[start:n], axis=0)
    sorted_means = means[order]
    return within, sorted_means[:, rows] * sorted_means[:, cols]


def _same_resampled(one, other, counts, rtol):
    """The resampled statistics of two reductions of the same data agree to ``rtol``."""
    a, b = mediation.reml._resampled(one, counts), mediation.reml._resampled(other, counts)
    for left, right in ((a.within, b.within), (a.between, b.between)):
        assert left.shape == right.shape
        assert np.allclose(left, right, rtol=rtol, atol=rtol * np.abs(right).max())
    assert np.array_equal(a.count_s, b.count_s)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_patient_statistics_from_columns_are_those_of_the_whole_matrix(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 90, 4000)
    codes[codes == 7] = 8  # a patient without rows
    X = np.column_stack([np.ones(4000), rng.normal(size=(4000, 3)), rng.integers(0, 2, 4000)])
    y = rng.normal(size=4000)
    monkeypatch.setattr(mediation.reml, "_ROW_BLOCK", 300)
    whole = mediation._patient_stats(y, X, codes, 90)
    columns = [X[:, j].copy() for j in range(4)] + [X[:, 4].astype(np.int8)]  # as time codes
    by_column = mediation._patient_stats(y, columns, codes, 90)
    within, between = _old_patient_stats(y, X, codes, 90)
    # Floats are multiplied as they were first: the same numbers exactly.
    full = np.zeros_like(within)  # the intercept's products are left out: all zeros
    full[:, whole.live] = whole.within
    assert np.array_equal(full, within)
    assert np.array_equal(whole.between[:, np.argsort(whole.shared)], between)
    assert whole.p == by_column.p == 5
    # The indicator's products with itself are kept by kind of patient: the same to rounding.
    assert by_column.fixed.size == 1
    assert whole.fixed.size == 0
    counts = np.vstack(list(mediation._resample_blocks(90, 25, seed)))
    _same_resampled(by_column, whole, counts, 1e-13)


def test_a_small_cohorts_resamples_are_shared_between_the_threads():
    from analytics.stats.parallel import workers

    with workers(2):
        blocks = mediation._resample_blocks(300, 1000, 0)
    # Sized when asked for, though drawn later (on the pool's threads, which run one piece each).
    assert [len(b) for b in blocks] == [250] * 4
    assert [len(b) for b in mediation._resample_blocks(300, 1000, 0)] == [1000]
    with workers(2):  # a large cohort: blocks of a bounded number of counts
        sizes = [len(b) for b in mediation._resample_blocks(200_000, 100, 0)]
    assert sizes == [20] * 5


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_resample_counts_are_the_flat_bincount_of_the_same_draws(seed):
    n, n_boot, block = 57, 70, 16
    rng = np.random.default_rng(seed)
    expected = []
    for start in range(0, n_boot, block):
        rows = min(block, n_boot - start)
        draws = rng.integers(0, n, size=(rows, n)) + np.arange(rows)[:, None] * n
        expected.append(np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n))
    got = np.vstack(list(mediation._resample_blocks(n, n_boot, seed, block)))
    assert got.dtype == float
    assert np.array_equal(got, np.vstack(expected))


def test_model_design_is_built_as_before_and_kept_by_no_model():
    rng = np.random.default_rng(4)
    data = pd.DataFrame(
        {
            "_code": np.repeat(np.arange(40), 5),
            "t": np.tile(np.arange(5.0), 40),
            "age": np.repeat(rng.normal(50, 9, 40), 5),
        }
    )
    data["y"] = data["t"] * 0.3 + rng.normal(size=200)
    model = mediation._Model(data, "y", ["t", "age"], 40)
    X = model._design[1]
    before = np.column_stack([np.ones(200), data[["t", "age"]].to_numpy(dtype=float)])
    assert np.array_equal(X, before)
    assert X.flags.f_contiguous == before.flags.f_contiguous  # the same sums in robust_cov
    assert not any(isinstance(v, np.ndarray) and v.ndim == 2 for v in vars(model).values())


def test_model_statistics_are_those_of_its_float_design():
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"patient": np.repeat(np.arange(60), 4), "sex": "F"})
    data["age"] = np.repeat(rng.normal(50.0, 9.0, 60), 4)
    data["month"] = np.tile([0.0, 1.0, 3.0, 6.0], 60)
    data["y"] = rng.normal(size=240) + 0.2 * data["month"]
    data = mediation._prepare(data, ["patient", "month", "y"])
    time = mediation.within._code_time(data, "month", True)
    assert all(data[name].dtype == np.int8 for name in time.names)
    model = mediation._Model(data, "y", [*time.names, "age"], 60)
    reference = mediation._patient_stats(*model._design)
    assert model.stats.fixed.size == 6
    assert reference.fixed.size == 0
    counts = np.vstack(list(mediation._resample_blocks(60, 30, 4)))
    _same_resampled(model.stats, reference, counts, 1e-13)


@pytest.mark.parametrize("seed", [0, 5, 9])
def test_batched_patient_level_slopes_equal_the_einsum_ones(seed):
    from analytics.stats.mediation import paper

    rng = np.random.default_rng(seed)
    design = np.column_stack([np.ones(300), rng.normal(size=300), rng.integers(0, 2, 300)])
    target = rng.normal(size=300) + design[:, 1]
    counts = np.vstack(list(mediation._resample_blocks(300, 40, seed)))
    batched = paper._between_ols_batched(design, target, counts)
    einsum = paper._between_ols(design, target, counts)
    assert np.allclose(batched, einsum, rtol=1e-11, atol=1e-13)
