"""The synthetic Lan et al. 2022 trial: design, published proportions and known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trials.lan2022 import (
    ADVERSE_RATES,
    DOMAINS,
    INFUSION_DAYS,
    MADRS_DAYS,
    Truth,
    generate,
)
from trials.lan2022.synthetic import BASELINE_PCT


@pytest.fixture(scope="module")
def trial():
    return generate(7)


def test_published_group_sizes_and_exact_baseline_proportions(trial):
    patients = trial.patients
    assert len(patients) == 104
    assert patients["pain_group"].value_counts().to_dict() == {"none": 54, "severe": 27, "mild": 23}
    with_pain = patients["pain_group"] != "none"
    for column, pct in BASELINE_PCT.items():
        assert patients.loc[with_pain, column].sum() == round(pct["with_pain"] / 100 * 50)
        assert patients.loc[~with_pain, column].sum() == round(pct["without_pain"] / 100 * 54)
    # 52.0% of 50 men with pain, 48.1% of 54 without: 26 and 26.
    assert patients.loc[with_pain, "men"].sum() == 26
    assert patients.loc[~with_pain, "men"].sum() == 26


def test_sf_mpq_domains_are_in_range_and_ordered_by_pain_group(trial):
    p = trial.patients
    for column, top in {"vas": 100, "sensory": 33, "affective": 12, "ppi": 5, "total": 45}.items():
        assert p[column].between(0, top).all()
        assert (p[column] == p[column].round()).all()
    assert (p["total"] == p["sensory"] + p["affective"]).all()
    means = p.groupby("pain_group")[list(DOMAINS)].mean()
    assert (means.loc["none"] < means.loc["mild"]).all()
    assert (means.loc["mild"] < means.loc["severe"]).all()


def test_schedule_infusions_and_visits(trial):
    inf = trial.infusions
    assert (inf.groupby("patient").size() == 6).all()
    assert sorted(inf["day"].unique()) == list(INFUSION_DAYS)
    weight = trial.patients.set_index("patient")["weight_kg"]
    np.testing.assert_allclose(inf["dose_mg"], (0.5 * weight[inf["patient"]]).round(1).to_numpy())
    assert (inf["minutes"] == 40).all()
    # MADRS the morning after each infusion, plus baseline and day 26.
    assert (0, *(d + 1 for d in INFUSION_DAYS), 26) == MADRS_DAYS
    visits = trial.visits
    assert (visits.groupby("patient").size() == len(MADRS_DAYS)).all()
    madrs = visits["madrs"].dropna()
    assert madrs.between(0, 60).all()
    assert (madrs == madrs.round()).all()
    assert visits.loc[visits["day"] == 0, "madrs"].notna().all()


def test_missing_visits_happen_at_the_documented_rate():
    rates = [generate(s).visits.query("day > 0")["madrs"].isna().mean() for s in range(20)]
    n = 20 * 104 * 7
    assert abs(np.mean(rates) - 0.05) < 3 * math.sqrt(0.05 * 0.95 / n)


def test_adverse_effect_rates_are_recovered_over_trials():
    trials = [generate(s) for s in range(20)]
    n_infusions = sum(len(t.infusions) for t in trials)
    counts = pd.concat([t.adverse for t in trials])["symptom"].value_counts()
    for symptom, rate in ADVERSE_RATES.items():
        observed = counts.get(symptom, 0) / n_infusions
        assert abs(observed - rate) < 4 * math.sqrt(rate * (1 - rate) / n_infusions), symptom
    assert (pd.concat([t.adverse for t in trials])["severity"] == "mild").all()


def test_same_seed_same_trial_and_the_moderation_switch():
    a, b = generate(3), generate(3)
    pd.testing.assert_frame_equal(a.visits, b.visits)
    pd.testing.assert_frame_equal(a.adverse, b.adverse)
    null = generate(3, moderation=0.0)
    assert null.truth.moderation == 0.0
    assert a.truth.moderation == Truth().moderation
    estimands = null.estimands()
    assert estimands["vas_raw"] == {"mean_post": 0.0, "last": 0.0}
    for contrast in estimands["contrasts"].values():
        assert contrast == pytest.approx({"mean_post": 0.0, "last": 0.0}, abs=1e-12)


def test_estimands_follow_the_truth_formula(trial):
    truth = trial.truth
    est = trial.estimands()
    assert est["vas_raw"]["last"] == pytest.approx(truth.time_course[26] * truth.moderation / 10)
    severe = trial.patients.query("pain_group == 'severe'")["vas"].to_numpy()
    expected = truth.time_course[26] * (
        1 + truth.moderation * (severe.mean() - truth.vas_reference) / 10
    )
    assert est["groups"]["severe"]["last"] == pytest.approx(expected)
    # More pain, steeper improvement.
    assert est["groups"]["severe"]["last"] < est["groups"]["mild"]["last"]
    assert est["groups"]["mild"]["last"] < est["groups"]["none"]["last"]


def test_continuous_madrs_without_discretisation():
    trial = generate(2, Truth(discretise=False))
    madrs = trial.visits["madrs"].dropna()
    assert (madrs != madrs.round()).any()
