"""Tests of the censored-normal group-based trajectory model and the group comparisons."""

from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

from analytics.stats.trajectories import (
    RANDOM_INTERCEPT_WARNING,
    CensoredMixtureLikelihood,
    chi_square_no_yates,
    compare_categorical,
    compare_continuous,
    diagnose,
    first_divergence,
    fisher_exact_rxc,
    fit_trajectories,
    holm,
    log_likelihood,
    prepare_data,
    random_intercept_warning,
    residual_icc,
    residual_intercept_test,
    sweep_trajectories,
)
from analytics.stats.trajectories.comparison import _two_row_exact

MONTHS = np.array([0.0, 0.25, *range(1, 13)])
TRUE_PI = np.array([0.186, 0.480, 0.333]) / 0.999
TRUE_SIGMA = 1.3
# Month-scale coefficients, intercept first: a cubic fall for T1, quadratics for T2 and T3.
TRUE_BETAS = (
    np.array([5.3, -1.4, 0.18, -0.0075]),
    np.array([6.5, -0.45, 0.03]),
    np.array([7.8, -0.25, 0.018]),
)


def true_curves(months: np.ndarray) -> np.ndarray:
    return np.column_stack([np.polyval(b[::-1], months) for b in TRUE_BETAS])


def simulate(n: int, seed: int, *, missing: float = 0.15, random_intercept: float = 0.0):
    rng = np.random.default_rng(seed)
    groups = rng.choice(3, size=n, p=TRUE_PI)
    latent = true_curves(MONTHS)[:, groups].T
    latent = latent + rng.normal(0.0, TRUE_SIGMA, latent.shape)
    latent += random_intercept * rng.normal(size=(n, 1))
    y = np.clip(latent, 0.0, 10.0)
    y[rng.random(y.shape) < missing] = np.nan
    return y, groups


@lru_cache(maxsize=1)
def recovery_sweep():
    y, truth = simulate(2000, seed=11)
    return y, truth, sweep_trajectories(y, MONTHS, range(1, 6), (1, 2, 3), n_starts=4, seed=3)


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)
    pairs = special.comb(table, 2).sum()
    rows = special.comb(table.sum(axis=1), 2).sum()
    cols = special.comb(table.sum(axis=0), 2).sum()
    expected = rows * cols / special.comb(a.size, 2)
    return float((pairs - expected) / (0.5 * (rows + cols) - expected))


# -- likelihood -----------------------------------------------------------------------------------
def tobit_fit(months: np.ndarray, y: np.ndarray, order: int):
    """Fit a Tobit regression (censored at 0 and 10) on long data, independently of the model."""
    design = np.vander(months, order + 1, increasing=True)

    def negative_ll(params: np.ndarray) -> tuple[float, np.ndarray]:
        beta, log_sigma = params[:-1], params[-1]
        sigma = math.exp(log_sigma)
        mu = design @ beta
        low, high = y <= 0.0, y >= 10.0
        z = (y - mu) / sigma
        ll = np.where(
            low,
            stats.norm.logcdf(-mu / sigma),
            np.where(high, stats.norm.logsf((10.0 - mu) / sigma), stats.norm.logpdf(z) - log_sigma),
        )
        mills_low = np.exp(stats.norm.logpdf(-mu / sigma) - stats.norm.logcdf(-mu / sigma))
        mills_high = np.exp(
            stats.norm.logpdf((10.0 - mu) / sigma) - stats.norm.logsf((10.0 - mu) / sigma)
        )
        d_mu = np.where(low, -mills_low / sigma, np.where(high, mills_high / sigma, z / sigma))
        d_log_sigma = np.where(
            low,
            mills_low * mu / sigma,
            np.where(high, mills_high * (10.0 - mu) / sigma, z**2 - 1.0),
        )
        grad = np.concatenate([design.T @ d_mu, [d_log_sigma.sum()]])
        return -float(ll.sum()), -grad

    start_beta = np.linalg.lstsq(design, y, rcond=None)[0]
    start = np.concatenate([start_beta, [math.log(y.std())]])
    res = optimize.minimize(
        negative_ll, start, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 5000}
    )
    return res.x[:-1], math.exp(res.x[-1]), -res.fun


def test_one_group_fit_equals_an_independent_tobit_regression():
    y, _ = simulate(400, seed=5)
    fit = fit_trajectories(y, MONTHS, 1, 2)
    observed = ~np.isnan(y)
    months_long = np.broadcast_to(MONTHS, y.shape)[observed]
    beta, sigma, ll = tobit_fit(months_long, y[observed], 2)
    assert fit.log_likelihood == pytest.approx(ll, abs=1e-4)
    estimates = [c.estimate for c in fit.groups[0].coefficients]
    np.testing.assert_allclose(estimates, beta, rtol=1e-4, atol=1e-6)
    assert fit.sigma == pytest.approx(sigma, rel=1e-4)


def test_log_likelihood_equals_a_slow_per_patient_loop():
    y, _ = simulate(60, seed=8, missing=0.3)
    y[0] = np.nan  # a patient with no observation contributes nothing
    betas = [np.array([5.0, -0.3]), np.array([6.0, -0.5, 0.02]), np.array([8.0, 0.1, -0.01, 1e-4])]
    sigma, pi = 1.7, np.array([0.2, 0.5, 0.3])
    expected = 0.0
    for row in y:
        per_group = []
        for beta in betas:
            density = 1.0
            for month, value in zip(MONTHS, row, strict=True):
                if np.isnan(value):
                    continue
                mu = sum(b * month**k for k, b in enumerate(beta))
                if value <= 0:
                    density *= stats.norm.cdf((0 - mu) / sigma)
                elif value >= 10:
                    density *= 1 - stats.norm.cdf((10 - mu) / sigma)
                else:
                    density *= stats.norm.pdf((value - mu) / sigma) / sigma
            per_group.append(density)
        if not np.all(np.isnan(row)):
            expected += math.log(float(np.dot(pi, per_group)))
    assert log_likelihood(y, MONTHS, betas, sigma, pi) == pytest.approx(expected, rel=1e-10)


def test_analytic_gradient_matches_a_numerical_gradient():
    y, _ = simulate(300, seed=9)
    model = CensoredMixtureLikelihood(prepare_data(y, MONTHS), [3, 1, 2])
    rng = np.random.default_rng(0)
    vector = model.pack(
        [np.array([5.0, -8.0, 9.0, -4.0]), np.array([6.5, -2.0]), np.array([8.0, -1.0, 1.0])],
        1.4,
        np.array([0.0, 0.8, 0.3]),
    )
    vector = vector + rng.normal(0, 0.05, vector.size)
    analytic = model.evaluate(vector).gradient
    numeric = np.empty_like(vector)
    for i in range(vector.size):
        step = 1e-6 * max(1.0, abs(vector[i]))
        up, down = vector.copy(), vector.copy()
        up[i] += step
        down[i] -= step
        numeric[i] = (model.log_likelihood(up) - model.log_likelihood(down)) / (2 * step)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


# -- recovery and model choice --------------------------------------------------------------------
def test_bic_chooses_three_groups_on_data_without_random_intercept():
    _, _, selection = recovery_sweep()
    assert selection.chosen.n_groups == 3
    assert selection.rule == "highest BIC (N = patients)"
    assert len(selection.table) == 15


def test_three_group_fit_recovers_proportions_and_curves():
    _, _, selection = recovery_sweep()
    fit = next(f for f in selection.fits if f.n_groups == 3 and f.orders == (3, 3, 3))
    np.testing.assert_allclose([g.pi for g in fit.groups], TRUE_PI, atol=0.03)
    fitted = np.column_stack([g.fitted for g in fit.groups])
    assert np.max(np.abs(fitted - true_curves(MONTHS))) < 0.2
    assert fit.sigma == pytest.approx(TRUE_SIGMA, abs=0.05)


def test_assignment_agrees_with_truth_nearly_as_well_as_the_true_parameters_allow():
    y, truth, selection = recovery_sweep()
    fit = next(f for f in selection.fits if f.n_groups == 3 and f.orders == (3, 3, 3))
    # The floor is set by the classifier that knows the true parameters: groups overlap, so even
    # it misassigns some patients; the fitted model should come within 0.03 of it.
    data = prepare_data(y, MONTHS)
    oracle_model = CensoredMixtureLikelihood(data, [3, 2, 2])
    scaled = [b * 10.0 ** np.arange(b.size) for b in TRUE_BETAS]
    oracle = oracle_model.evaluate(oracle_model.pack(scaled, TRUE_SIGMA, np.log(TRUE_PI)))
    oracle_ari = adjusted_rand_index(truth, oracle.posterior.argmax(axis=1))
    fitted_ari = adjusted_rand_index(truth, fit.assignment)
    assert oracle_ari > 0.6
    assert fitted_ari > oracle_ari - 0.03


def test_groups_are_ordered_by_fitted_baseline_level_and_pass_adequacy():
    _, _, selection = recovery_sweep()
    fit = selection.chosen
    baselines = [g.fitted[0] for g in fit.groups]
    assert baselines == sorted(baselines)
    assert fit.labels == ("T1", "T2", "T3")
    assert fit.adequate
    # No random intercept in these data: the test of the residuals does not find one.
    assert fit.random_intercept_test["p"] > 0.05
    assert not any(RANDOM_INTERCEPT_WARNING in w for w in fit.warnings)
    assert not any(RANDOM_INTERCEPT_WARNING in w for w in recovery_sweep()[2].warnings)
    assert fit.convergence.converged
    assert all(math.isfinite(c.se) and c.se > 0 for g in fit.groups for c in g.coefficients)


def test_fit_serialises_to_strict_json():
    _, _, selection = recovery_sweep()
    text = json.dumps(selection.to_dict(include_fits=True), allow_nan=False)
    assert '"chosen_index"' in text
    assert json.loads(json.dumps(selection.chosen.to_dict(), allow_nan=False))["labels"] == [
        "T1",
        "T2",
        "T3",
    ]


def test_adequacy_rule_rejects_models_that_fail_nagins_checks():
    y, _ = simulate(800, seed=21, random_intercept=1.2)
    selection = sweep_trajectories(
        y, MONTHS, (2, 3, 4, 5), (2,), rule="bic_adequate", n_starts=3, seed=1
    )
    assert selection.chosen.adequate
    assert "among models passing the adequacy checks" in selection.rule
    best_bic = max(range(len(selection.fits)), key=lambda i: selection.fits[i].bic)
    assert selection.fits[best_bic].bic >= selection.chosen.bic
    # A random intercept (SD 1.2) is there: the residuals keep a patient level and it is said.
    assert selection.chosen.random_intercept_test["p"] < 0.001
    assert selection.warnings[0].startswith(RANDOM_INTERCEPT_WARNING)
    assert "ICC" in selection.warnings[0]


def test_random_intercept_test_rejects_only_with_a_patient_level():
    rng = np.random.default_rng(5)
    fitted = np.zeros((400, 8))
    noise = rng.normal(0.0, 1.0, fitted.shape)
    noise[rng.random(noise.shape) < 0.2] = np.nan
    without = residual_intercept_test(noise, fitted)
    with_level = residual_intercept_test(noise + 0.5 * rng.normal(size=(400, 1)), fitted)
    assert without["p"] > 0.01
    assert with_level["p"] < 1e-6
    assert with_level["icc"] == pytest.approx(0.2, abs=0.06)  # 0.25 / 1.25
    assert (without["df1"], without["df2"]) == (399.0, float(np.isfinite(noise).sum() - 400))
    assert random_intercept_warning(without) is None
    assert RANDOM_INTERCEPT_WARNING in (random_intercept_warning(with_level) or "")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_residual_anova_is_scipys_one_way_anova(seed):
    # One group per patient: scipy's F and P over every patient with a residual, and the ICC of
    # the patients with two or more, (F - 1) / (F + n0 - 1) with n0 the average group size.
    rng = np.random.default_rng(seed)
    fitted = rng.normal(size=(60, 9))
    y = fitted + rng.normal(size=(60, 1)) * 0.6 + rng.normal(size=fitted.shape)
    y[rng.random(y.shape) < 0.3] = np.nan
    y[0, 0], y[0, 1:] = fitted[0, 0] + 1.0, np.nan  # one residual: in the F test, not the ICC
    y[1] = np.nan  # none: in neither
    rows = [r[~np.isnan(r)] for r in y - fitted]
    test = residual_intercept_test(y, fitted)
    every = [r for r in rows if r.size >= 1]
    f, p = stats.f_oneway(*every)
    assert test["f"] == pytest.approx(f, rel=1e-12)
    assert test["p"] == pytest.approx(p, rel=1e-9)
    assert (test["df1"], test["df2"]) == (len(every) - 1, sum(r.size for r in every) - len(every))
    pairs = [r for r in rows if r.size >= 2]
    sizes = np.array([r.size for r in pairs])
    n0 = (sizes.sum() - (sizes**2).sum() / sizes.sum()) / (sizes.size - 1)
    f2 = stats.f_oneway(*pairs).statistic
    expected = (f2 - 1) / (f2 + n0 - 1)
    assert residual_icc(y, fitted) == pytest.approx(expected, rel=1e-12)
    assert test["icc"] == residual_icc(y, fitted)


def test_holm_adjustment_matches_the_step_down_definition():
    p = [0.01, 0.04, 0.03, 0.005, float("nan")]
    # Sorted 0.005, 0.01, 0.03, 0.04 with m = 4: 0.02, 0.03, 0.06, then max(0.06, 0.04) = 0.06.
    assert holm(p)[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(holm(p)[4])
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # capped at 1, never below a smaller P's value


def test_em_and_direct_maximisation_reach_the_same_optimum():
    y, _ = simulate(500, seed=13)
    direct = fit_trajectories(y, MONTHS, 2, 2, n_starts=2, seed=4)
    em = fit_trajectories(y, MONTHS, 2, 2, n_starts=2, seed=4, method="em", max_iter=3000)
    assert em.log_likelihood == pytest.approx(direct.log_likelihood, abs=1e-3)
    assert em.sigma == pytest.approx(direct.sigma, rel=1e-4)


def test_fit_is_deterministic_for_a_seed():
    y, _ = simulate(5000, seed=17)
    first = fit_trajectories(y, MONTHS, 3, 2, n_starts=3, seed=42, screen_size=1500)
    second = fit_trajectories(y, MONTHS, 3, 2, n_starts=3, seed=42, screen_size=1500)
    assert first.convergence.screened
    assert first.log_likelihood == second.log_likelihood
    assert first.theta == second.theta
    np.testing.assert_array_equal(first.posterior, second.posterior)


def test_patients_without_observations_are_left_out_and_flagged():
    y, _ = simulate(200, seed=2)
    y[[3, 7]] = np.nan
    fit = fit_trajectories(y, MONTHS, 2, 1, n_starts=2)
    assert fit.n_patients == 198
    assert fit.assignment[3] == -1
    assert np.isnan(fit.posterior[7]).all()
    assert any("without any observation" in w for w in fit.warnings)


# -- diagnostics ----------------------------------------------------------------------------------
def test_diagnostics_follow_nagins_formulas_on_a_hand_made_posterior():
    posterior = np.array(
        [
            [0.9, 0.1],
            [0.8, 0.2],
            [0.6, 0.4],
            [0.95, 0.05],
            [0.3, 0.7],
            [0.2, 0.8],
            [0.1, 0.9],
            [0.45, 0.55],
        ]
    )
    diag = diagnose(posterior, [0.5, 0.5])
    app = [(0.9 + 0.8 + 0.6 + 0.95) / 4, (0.7 + 0.8 + 0.9 + 0.55) / 4]
    np.testing.assert_allclose(diag.app, app)
    np.testing.assert_allclose(diag.occ, [a / (1 - a) for a in app])
    assert diag.assigned_n == (4, 4)
    assert diag.assigned_share == (0.5, 0.5)
    assert not diag.adequate
    assert sum("OCC" in f for f in diag.failures) == 2

    skewed = diagnose(posterior, [0.3, 0.7])
    assert skewed.occ[0] == pytest.approx((app[0] / (1 - app[0])) / (0.3 / 0.7))
    assert any("estimated share 30.0% vs assigned 50.0%" in f for f in skewed.failures)


def test_a_small_group_with_clear_posteriors_fails_only_the_size_check():
    posterior = np.vstack([np.tile([0.999, 0.001], (96, 1)), np.tile([0.02, 0.98], (4, 1))])
    diag = diagnose(posterior, [0.96, 0.04])
    assert diag.occ[0] == pytest.approx((0.999 / 0.001) / (0.96 / 0.04))
    assert diag.failures == ("T2: 4.0% of patients assigned (< 5%)",)


# -- baseline comparisons -------------------------------------------------------------------------
def test_chi_square_has_no_continuity_correction():
    table = [[10, 20], [30, 40]]
    # Expected counts 12, 18, 28, 42; every cell is 2 away from expectation.
    hand = 4 / 12 + 4 / 18 + 4 / 28 + 4 / 42
    chi2, df, p = chi_square_no_yates(table)
    assert chi2 == pytest.approx(hand, rel=1e-12)
    assert df == 1
    assert p == pytest.approx(stats.chi2.sf(hand, 1), rel=1e-12)
    yates = stats.chi2_contingency(table).statistic
    assert yates < chi2


def test_fisher_two_by_two_matches_scipy_and_the_enumeration():
    table = np.array([[3, 9], [8, 2]])
    expected = stats.fisher_exact(table).pvalue
    result = fisher_exact_rxc(table)
    assert result.method == "exact"
    assert result.p == pytest.approx(expected, rel=1e-12)
    assert _two_row_exact(table, 10**6) == pytest.approx(expected, rel=1e-9)


def test_fisher_two_by_three_is_exact_and_agrees_with_monte_carlo():
    table = np.array([[15, 83, 45], [37, 51, 48]])
    result = fisher_exact_rxc(table)
    assert result.method == "exact"
    method = stats.MonteCarloMethod(n_resamples=20000, rng=np.random.default_rng(0))
    assert result.p == pytest.approx(stats.fisher_exact(table, method=method).pvalue, abs=3e-4)


def test_fisher_on_larger_tables_is_seeded_monte_carlo():
    table = np.array([[5, 3, 2], [1, 6, 4], [2, 2, 7]])
    first = fisher_exact_rxc(table, n_resamples=5000, seed=1)
    assert first.method == "monte_carlo (n_resamples=5000, seed=1)"
    assert fisher_exact_rxc(table, n_resamples=5000, seed=1).p == first.p


def test_categorical_comparison_counts_by_group_and_skips_missing_values():
    groups = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, -1])
    values = ["yes", "no", None, "yes", "yes", "no", float("nan"), "no", "no", "yes"]
    result = compare_categorical(values, groups, variable="fibromyalgia")
    assert result.groups == ("T1", "T2", "T3")
    assert result.levels == ("no", "yes")
    assert result.counts == ((1, 1, 2), (1, 2, 0))
    assert result.group_n == (2, 3, 2)
    assert result.percents[1][1] == pytest.approx(200 / 3)
    assert result.to_dict()["summary"][1][1] == "2 (66.7%)"


def test_continuous_comparison_reports_mean_sd_anova_and_tie_corrected_kruskal():
    groups = np.repeat([0, 1, 2], 5)
    values = np.array([5, 6, 5, 4, 6, 7, 6, 7, 8, 6, 8, 9, 8, 7, 9], dtype=float)
    result = compare_continuous(values, groups, variable="nprs")
    samples = [values[groups == g] for g in range(3)]
    assert result.mean[0] == pytest.approx(5.2)
    assert result.sd[0] == pytest.approx(np.std(samples[0], ddof=1))
    assert result.anova_p == pytest.approx(stats.f_oneway(*samples).pvalue)
    ranks = stats.rankdata(values)
    n = values.size
    h = 12 / (n * (n + 1)) * sum(ranks[groups == g].sum() ** 2 / 5 for g in range(3))
    h -= 3 * (n + 1)
    _, ties = np.unique(values, return_counts=True)
    h /= 1 - (ties**3 - ties).sum() / (n**3 - n)
    assert result.kruskal_h == pytest.approx(h)


# -- first divergence -----------------------------------------------------------------------------
def test_first_divergence_finds_the_first_and_last_significant_month():
    rng = np.random.default_rng(4)
    months = [0, 1, 2, 3, 4, 5, 6]
    # Group 1 improves by 2 points more than group 0 from month 2 to month 4 only.
    extra = {0: 0, 1: 0, 2: -2, 3: -2, 4: -2, 5: 0, 6: 0}
    rows = []
    groups = {}
    for pid in range(120):
        g = pid % 2
        groups[pid] = g
        level = 6 + rng.normal(0, 1)
        for m in months:
            value = level - 0.3 * m + (extra[m] if g else 0) + rng.normal(0, 0.8)
            rows.append((pid, m, value))
    frame = pd.DataFrame(rows, columns=["patient", "month", "nprs"])
    (pair,) = first_divergence(frame, groups)
    assert (pair.first, pair.second) == ("T1", "T2")
    assert pair.first_month == 2
    assert pair.until_month == 4
    assert not pair.sustained
    assert pair.coefficient == pytest.approx(-2, abs=0.4)
    hit = next(c for c in pair.contrasts if c.month == pair.first_month)
    half = stats.norm.ppf(0.975) * hit.se
    assert (pair.ci_low, pair.ci_high) == pytest.approx(
        (hit.coefficient - half, hit.coefficient + half)
    )
    assert pair.p < 0.05
    assert [c.month for c in pair.contrasts] == [1, 2, 3, 4, 5, 6]
    assert pair.correction == "holm"
    assert all(c.p_adjusted >= c.p for c in pair.contrasts)


def test_first_divergence_counts_a_timepoint_only_after_holm_and_names_it():
    rng = np.random.default_rng(8)
    months = [0, 0.25, 1, 2, 3, 4, 5]
    labels = {0.25: "W1", 1.0: "M1", 2.0: "M2", 3.0: "M3", 4.0: "M4", 5.0: "M5"}
    rows, groups = [], {}
    for pid in range(160):
        groups[pid] = pid % 2
        level = 6 + rng.normal(0, 1)
        for m in months:
            extra = -0.3 if (m == 2 and groups[pid]) else 0.0
            rows.append((pid, m, level - 0.2 * m + extra + rng.normal(0, 0.8)))
    frame = pd.DataFrame(rows, columns=["patient", "month", "nprs"])
    (holm_pair,) = first_divergence(frame, groups, timepoints=labels)
    (raw_pair,) = first_divergence(frame, groups, timepoints=labels, correction="none")
    at_m2 = next(c for c in holm_pair.contrasts if c.month == 2)
    # One of six timepoints differs modestly: below .05 alone, not once six are tested.
    assert at_m2.p < 0.05 < at_m2.p_adjusted
    assert raw_pair.first_month == 2
    assert raw_pair.first_timepoint == "M2"
    assert holm_pair.first_month is None
    assert holm_pair.first_timepoint is None
    # W1 is a week: its contrast is labelled as such, at 0.25 month.
    assert holm_pair.contrasts[0].timepoint == "W1"
    assert holm_pair.contrasts[0].month == 0.25
    with pytest.raises(ValueError, match="unknown correction"):
        first_divergence(frame, groups, correction="bonferroni")


def test_first_divergence_at_a_timepoint_only_one_group_has_reached_is_missing():
    # An ongoing cohort: only the second group's patients have reached month 3 so far.
    rng = np.random.default_rng(5)
    rows, groups = [], {}
    for pid in range(80):
        groups[pid] = pid % 2
        level = 6 + rng.normal(0, 1)
        reached = [0, 1, 2, 3] if groups[pid] else [0, 1, 2]
        for m in reached:
            effect = 1.5 if groups[pid] and m > 0 else 0.0
            rows.append((pid, m, level - 0.3 * m - effect + rng.normal(0, 0.8)))
    frame = pd.DataFrame(rows, columns=["patient", "month", "nprs"])
    (pair,) = first_divergence(frame, groups)
    by_month = {c.month: c for c in pair.contrasts}
    assert sorted(by_month) == [1, 2, 3]
    assert np.isnan(by_month[3].coefficient)
    assert np.isnan(by_month[3].p_adjusted)
    # The months both groups reached keep their contrast (close to the fit without month 3,
    # whose rows still inform the variances), and Holm counts those two timepoints only.
    (without,) = first_divergence(frame[frame["month"] < 3], groups)
    for kept in without.contrasts:
        assert by_month[kept.month].coefficient == pytest.approx(kept.coefficient, abs=0.05)
    raw = [by_month[m].p for m in (1, 2)]
    assert [by_month[m].p_adjusted for m in (1, 2)] == pytest.approx(holm(raw))
    assert pair.first_month == 1


def test_first_divergence_contrasts_match_statsmodels_mixedlm():
    from statsmodels.regression.mixed_linear_model import MixedLM

    rng = np.random.default_rng(11)
    rows = []
    groups = {}
    for pid in range(80):
        groups[pid] = pid % 2
        level = 6 + rng.normal(0, 1.2)
        for m in (0, 1, 2, 3):
            if m and rng.random() < 0.15:
                continue  # unbalanced: some calls missed
            rows.append((pid, m, level - 0.5 * m * groups[pid] + rng.normal(0, 0.9)))
    frame = pd.DataFrame(rows, columns=["patient", "month", "nprs"])
    (pair,) = first_divergence(frame, groups)

    base = frame[frame["month"] == 0].set_index("patient")["nprs"]
    later = frame[(frame["month"] > 0) & frame["patient"].isin(base.index)].copy()
    later["change"] = later["nprs"] - later["patient"].map(base)
    dummies = pd.get_dummies(later["month"]).to_numpy(dtype=float)
    is_b = later["patient"].map(groups).to_numpy(dtype=float)[:, None]
    exog = np.hstack([dummies, dummies * is_b])
    reference = MixedLM(later["change"].to_numpy(), exog, later["patient"]).fit(reml=True)
    expected = np.asarray(reference.fe_params)[3:]
    got = np.array([c.coefficient for c in pair.contrasts])
    assert got == pytest.approx(expected, abs=1e-4)
    expected_se = np.asarray(reference.bse_fe)[3:]
    assert np.array([c.se for c in pair.contrasts]) == pytest.approx(expected_se, rel=1e-3)


# -- latent-class mixed model: the likelihood ----------------------------------------------------
def test_latent_class_mixed_likelihood_matches_adaptive_integration_to_1e_6():
    from analytics.stats.trajectories.mixed_classes import (
        _Layout,
        exact_patient_log_likelihood,
        patient_log_terms,
    )
    from analytics.stats.trajectories.model import design_matrix

    orders = (2, 1, 2)
    layout = _Layout(orders, tuple(design_matrix(MONTHS / 10.0, o) for o in orders))
    vector = np.r_[5.3, -3.0, 1.5, 6.5, -1.0, 7.8, -1.5, 0.8, np.log(1.1), np.log(1.4), 0.9, 0.6]
    rng = np.random.default_rng(17)
    # Many values at 0 and 10, so that the censored cells shape the integrand.
    y = np.clip(np.rint(rng.normal(7.0, 4.0, (25, MONTHS.size))), 0.0, 10.0)
    y[rng.random(y.shape) < 0.2] = np.nan
    assert np.nanmean((y == 0) | (y == 10)) > 0.15
    fast = special.logsumexp(patient_log_terms(vector, layout, y, 0.0, 10.0), axis=1)
    slow = np.array([exact_patient_log_likelihood(vector, orders, row, MONTHS) for row in y])
    assert np.max(np.abs(fast - slow)) < 1e-6
    # Without a random intercept (tau -> 0) it is the group-based model's likelihood.
    flat = vector.copy()
    flat[-3] = np.log(1e-6)
    model = CensoredMixtureLikelihood(prepare_data(y, MONTHS), orders)
    betas = [flat[0:3], flat[3:5], flat[5:8]]
    gbtm = model.log_likelihood(model.pack(betas, 1.1, np.r_[0.0, flat[-2:]]))
    mixed = special.logsumexp(patient_log_terms(flat, layout, y, 0.0, 10.0), axis=1).sum()
    assert mixed == pytest.approx(gbtm, abs=1e-4)


def test_pseudo_class_draws_carry_the_posterior_uncertainty_into_the_comparisons():
    from analytics.stats.trajectories import pseudo_class_tests

    rng = np.random.default_rng(9)
    n = 300
    assigned = np.repeat([0, 1, 2], n // 3)
    table = pd.DataFrame(
        {
            "score": assigned * 1.0 + rng.normal(0.0, 1.0, n),  # differs by assigned group
            "flag": rng.random(n) < 0.2 + 0.3 * (assigned == 2),
        }
    )
    sure = np.eye(3)[assigned]
    unsure = np.full((n, 3), 1.0 / 3.0)
    unsure[5] = np.nan  # a patient without observations is left out
    known = pseudo_class_tests(table, sure, continuous=("score",), categorical=("flag",), seed=1)
    blind = pseudo_class_tests(table, unsure, continuous=("score",), categorical=("flag",), seed=1)
    # Certain classes: every draw is the assignment, and its test.
    anova = stats.f_oneway(*[table["score"][assigned == g] for g in range(3)]).pvalue
    assert known["score"]["p_median"] == pytest.approx(anova)
    assert known["score"]["share_p_below_05"] == 1.0
    # Posteriors that know nothing: the draws are random groups, and the tests say so.
    assert blind["score"]["draws"] == 50
    assert blind["score"]["p_median"] > 0.1
    assert blind["score"]["share_p_below_05"] < 0.2
    assert blind["flag"]["share_p_below_05"] < 0.2


def test_two_row_exact_fisher_extended_a_slice_at_a_time_is_the_same(monkeypatch):
    from analytics.stats.trajectories import comparison

    tables = [
        np.array([[3, 5, 2, 7], [4, 1, 6, 2]]),
        np.array([[30, 20, 7], [90, 50, 21]]),
        np.array([[12, 40, 9, 3], [20, 31, 15, 8]]),
    ]
    whole = [comparison._two_row_exact(t, 2_000_000) for t in tables]
    monkeypatch.setattr(comparison, "_EXTEND_CELLS", 7)  # many slices per column
    sliced = [comparison._two_row_exact(t, 2_000_000) for t in tables]
    assert all(p is not None for p in whole)
    assert sliced == whole
    # Over the limit in the middle of a column: still refused (Monte Carlo is used instead).
    assert comparison._two_row_exact(tables[2], 50) is None
