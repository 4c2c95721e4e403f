"""Moderation by baseline pain (Lan et al. 2022): second implementation, known truth, examples."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analytics.stats import moderation as mo
from analytics.stats.mixed import build_design
from trials.lan2022 import Truth, generate

# Binomial tolerance of a 95% coverage / 5% rejection rate over N seeds: 3 Monte Carlo SEs.
N_SEEDS = 200
RATE_TOL = 3 * math.sqrt(0.05 * 0.95 / N_SEEDS)  # 0.046


@pytest.fixture(scope="module")
def trial():
    return generate(11)


def statsmodels_fit(design, reml=True):
    """Fit the same design with statsmodels MixedLM, BFGS to a tight gradient tolerance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.MixedLM(design.y, design.X, design.groups)
        return model.fit(reml=reml, method="bfgs", gtol=1e-12)


# -- second implementation -------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["vas", "affective", "ppi"])
def test_moderation_model_agrees_with_statsmodels(trial, domain):
    long = trial.long()
    ours = mo.moderation_model(long, domain)
    m, _ = mo._scaled_moderator(long, domain, "sd", "patient")
    design = build_design(long.assign(_m=m.to_numpy()), "madrs", "C(day) + _m + C(day):_m")
    ref = statsmodels_fit(design)
    names = list(design.term_names)
    params = pd.Series(np.asarray(ref.fe_params), index=names)
    bse = pd.Series(np.asarray(ref.bse_fe), index=names)
    for day, block in ours["per_visit"].items():
        term = f"C(day)[{day}]:_m"
        assert block["estimate"] == pytest.approx(params[term], abs=1e-6)
        # statsmodels takes SEs from the observed Hessian (a small cross term when unbalanced).
        assert block["se"] == pytest.approx(bse[term], rel=1e-4)
    terms = [f"C(day)[{d}]:_m" for d in ours["per_visit"]]
    assert ours["mean_post"]["estimate"] == pytest.approx(params[terms].mean(), abs=1e-6)
    restriction = np.zeros((len(terms), len(ref.params)))
    restriction[np.arange(len(terms)), [names.index(t) for t in terms]] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wald = ref.wald_test(restriction, scalar=True, use_f=False)
    assert ours["omnibus_wald"]["chi2"] == pytest.approx(float(wald.statistic), rel=1e-3)
    # LR test from statsmodels ML fits of the full and reduced models.
    full = statsmodels_fit(design, reml=False)
    reduced_design = build_design(long.assign(_m=m.to_numpy()), "madrs", "C(day) + _m")
    reduced = statsmodels_fit(reduced_design, reml=False)
    assert ours["omnibus_lr"]["chi2"] == pytest.approx(2 * (full.llf - reduced.llf), abs=1e-5)


def test_simple_slopes_agree_with_statsmodels(trial):
    long = trial.long()
    ours, _ = mo.group_model(long)
    data = long.assign(_g=long["pain_group"].map({"none": 0, "mild": 1, "severe": 2}))
    design = build_design(data, "madrs", "C(day) + C(_g) + C(day):C(_g)")
    ref = statsmodels_fit(design)
    np.testing.assert_allclose(ours.params, np.asarray(ref.fe_params), rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.se, np.asarray(ref.bse_fe), rtol=1e-4)
    # The severe group's day-26 change is the day-26 term plus its severe interaction.
    slopes = mo.simple_slopes(long)
    params = pd.Series(np.asarray(ref.fe_params), index=design.term_names)
    expected = params["C(day)[26]"] + params["C(day)[26]:C(_g)[2]"]
    assert slopes["groups"]["severe"]["last"]["estimate"] == pytest.approx(expected, abs=1e-6)


def test_scaling_the_moderator_rescales_estimates_and_keeps_the_tests(trial):
    long = trial.long()
    raw = mo.moderation_model(long, "vas", scale="raw")
    per_sd = mo.moderation_model(long, "vas", scale="sd")
    sd = trial.patients["vas"].std(ddof=1)
    assert per_sd["mean_post"]["estimate"] == pytest.approx(raw["mean_post"]["estimate"] * sd)
    assert per_sd["omnibus_wald"]["p"] == pytest.approx(raw["omnibus_wald"]["p"], rel=1e-6)
    assert per_sd["omnibus_lr"]["chi2"] == pytest.approx(raw["omnibus_lr"]["chi2"], rel=1e-6)


# -- known truth over many seeds -------------------------------------------------------------


def _recovery(seeds, truth):
    rows = []
    for seed in seeds:
        trial = generate(seed, truth)
        long, target = trial.long(), trial.estimands()
        vas = mo.moderation_model(long, "vas", scale="raw")
        slopes = mo.simple_slopes(long)
        found = {"vas": (vas["last"], target["vas_raw"]["last"])}
        for group in ("none", "mild", "severe"):
            found[group] = (
                slopes["groups"][group]["mean_post"],
                target["groups"][group]["mean_post"],
            )
        found["severe_vs_mild"] = (
            slopes["contrasts"]["severe_vs_mild"]["last"],
            target["contrasts"]["severe_vs_mild"]["last"],
        )
        for name, (block, value) in found.items():
            low, high = block["ci95"]
            rows.append((name, block["estimate"] - value, low <= value <= high))
    return pd.DataFrame(rows, columns=["estimand", "error", "covers"])


def test_interaction_and_simple_slopes_recover_the_truth_over_seeds():
    """Unbiased (within 4 Monte Carlo SEs) and 95% coverage within 3 binomial SEs (continuous
    MADRS: rounding and clipping are checked apart in the bench and the docs)."""
    table = _recovery(range(N_SEEDS), Truth(discretise=False))
    summary = table.groupby("estimand").agg(
        bias=("error", "mean"), sd=("error", "std"), coverage=("covers", "mean")
    )
    mcse = summary["sd"] / math.sqrt(N_SEEDS)
    assert (summary["bias"].abs() < 4 * mcse).all(), summary
    assert (summary["coverage"] > 0.95 - RATE_TOL).all(), summary
    assert (summary["coverage"] < 0.95 + RATE_TOL).all(), summary


def test_omnibus_interaction_tests_keep_their_size_without_moderation():
    p = {"wald": [], "lr": [], "group": []}
    for seed in range(N_SEEDS):
        long = generate(seed, moderation=0.0).long()
        vas = mo.moderation_model(long, "vas")
        p["wald"].append(vas["omnibus_wald"]["p"])
        p["lr"].append(vas["omnibus_lr"]["p"])
        p["group"].append(mo.simple_slopes(long)["omnibus_wald"]["p"])
    for name, values in p.items():
        rate = np.mean(np.array(values) < 0.05)
        assert abs(rate - 0.05) < RATE_TOL, (name, rate)


def test_the_simulated_moderation_is_detected():
    hits = [
        mo.moderation_model(generate(seed).long(), "vas")["omnibus_wald"]["p"] < 0.001
        for seed in range(20)
    ]
    assert all(hits)


# -- response, remission and Wilson intervals ------------------------------------------------


def test_wilson_worked_examples_and_statsmodels():
    # 5/10: centre 0.5, half-width 1.96 sqrt(0.025 + 1.96^2/400) / (1 + 1.96^2/10) = 0.2634.
    assert mo.wilson(5, 10) == pytest.approx((0.236594, 0.763406), abs=1e-6)
    # 0/10: upper bound z^2 / (n + z^2) = 3.8415 / 13.8415.
    assert mo.wilson(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-6)
    assert mo.wilson(0, 0) == (None, None)
    for count, total in [(1, 3), (40, 98), (27, 27), (12, 104)]:
        expected = proportion_confint(count, total, alpha=0.05, method="wilson")
        assert mo.wilson(count, total) == pytest.approx(expected, abs=1e-12)


def test_response_and_remission_counted_by_hand():
    rows = []
    # patient: (group, baseline, day 26)
    cases = {
        1: ("severe", 30, 15),  # exactly 50% reduction: response, not remission
        2: ("severe", 30, 16),  # 46.7%: neither
        3: ("none", 20, 10),  # response and remission
        4: ("mild", 40, 25),  # neither
        5: ("mild", 12, None),  # no day 26: left out
        6: ("none", 14, 8),  # 42.9% reduction but <= 10: remission only
    }
    for patient, (group, base, last) in cases.items():
        rows.append((patient, 0, base, group))
        rows.append((patient, 12, base - 5, group))
        if last is not None:
            rows.append((patient, 26, last, group))
    long = pd.DataFrame(rows, columns=["patient", "day", "madrs", "pain_group"])
    out = mo.response_remission(long)
    assert out["overall"]["n"] == 5
    assert out["overall"]["response"]["count"] == 2
    assert out["overall"]["remission"]["count"] == 2
    assert out["overall"]["response"]["pct"] == pytest.approx(40.0)
    low, high = mo.wilson(2, 5)
    assert out["overall"]["response"]["ci95"] == pytest.approx([100 * low, 100 * high])
    assert out["by_group"]["severe"]["response"]["count"] == 1
    assert out["by_group"]["severe"]["remission"]["count"] == 0
    assert out["by_group"]["mild"]["n"] == 1
    assert out["by_group"]["none"]["remission"]["count"] == 2


# -- baseline table and adverse effects ------------------------------------------------------


def test_baseline_table_reproduces_the_published_proportions_and_tests(trial):
    table = mo.baseline_table(trial.patients, trial.visits)
    rows = table["rows"]
    assert rows["n"] == {"none": 54, "mild": 23, "severe": 27, "with_pain": 50, "all": 104}
    assert rows["men"]["cells"]["with_pain"]["pct"] == pytest.approx(52.0)
    assert rows["suicidality"]["cells"]["with_pain"]["pct"] == pytest.approx(70.0)
    assert rows["suicidality"]["cells"]["none"]["pct"] == pytest.approx(100 * 44 / 54)
    p = trial.patients
    severe, mild = (p.loc[p["pain_group"] == g, "vas"] for g in ("severe", "mild"))
    welch = stats.ttest_ind(severe, mild, equal_var=False).pvalue
    assert rows["vas"]["tests"]["welch_severe_vs_mild_p"] == pytest.approx(welch)
    base = trial.visits.query("day == 0").set_index("patient")["madrs"]
    assert rows["madrs"]["cells"]["all"]["mean"] == pytest.approx(base.mean())
    assert rows["madrs"]["cells"]["severe"]["mean"] > rows["madrs"]["cells"]["mild"]["mean"]


def test_adverse_effects_counted_by_hand():
    infusions = pd.DataFrame(
        [(p, k) for p in (1, 2) for k in range(1, 7)], columns=["patient", "infusion"]
    )
    adverse = pd.DataFrame(
        [(1, 1, "dizziness"), (1, 1, "dissociation"), (1, 3, "dissociation"), (2, 6, "nausea")],
        columns=["patient", "infusion", "symptom"],
    )
    out = mo.adverse_by_infusion(adverse, infusions)
    assert out["n_infusions"] == 12
    assert out["symptoms"]["dissociation"] == {
        "events": 2,
        "infusions": {"count": 2, "pct": pytest.approx(100 * 2 / 12)},
        "patients": {"count": 1, "pct": pytest.approx(50.0)},
    }
    assert out["any"]["infusions"]["count"] == 3
    assert out["per_infusion"]["1"] == {"given": 2, "with_any": 1, "pct": pytest.approx(50.0)}
    assert out["per_infusion"]["2"]["with_any"] == 0


def test_report_has_stable_keys(trial):
    out = mo.report(trial.patients, trial.visits, trial.infusions, trial.adverse)
    assert list(out) == ["baseline", "moderation", "simple_slopes", "day26", "adverse_effects"]
    assert list(out["moderation"]) == list(mo.DOMAINS)
    assert list(out["simple_slopes"]["contrasts"]) == ["severe_vs_none", "severe_vs_mild"]
