"""The group-based and the latent-class mixed models side by side: which gives the memberships.

Pure: simulated data with known truth (a random intercept or none), no database.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache, partial

import numpy as np
import pandas as pd
import pytest

from analytics.report.parameters import Parameters
from analytics.report.trajectory_models import (
    ModelsCompared,
    compare_models,
    comparisons_over_draws,
    divergence_over_draws,
    draws_note,
    membership_table,
)
from analytics.stats.trajectories import first_divergence, fit_trajectories
from analytics.stats.trajectories.divergence import first_divergence_over_draws
from analytics.stats.trajectories.mixed_classes import NEWTON_GAIN_TOLERANCE, fit_mixed_classes
from analytics.stats.trajectories.two_models import (
    GBTM,
    MIXED,
    accuracy_claims,
    choose_memberships,
    fit_mixed_from,
    relative_entropy,
)
from cohort.vocabulary import MONTH_OF_TIMEPOINT

MONTHS = [0.0, 1.0, 3.0, 6.0, 9.0, 12.0]
NAMES = ["T1_low", "T2_high"]


def simulate(n: int, seed: int, random_intercept: float) -> tuple[np.ndarray, np.ndarray]:
    """Two groups (a falling low curve, a flat high one), calls with an optional patient level."""
    rng = np.random.default_rng(seed)
    months = np.asarray(MONTHS)
    groups = rng.choice(2, size=n, p=[0.45, 0.55])
    curves = np.column_stack([5.0 - 0.25 * months, 7.0 - 0.05 * months])
    latent = curves[:, groups].T + rng.normal(0.0, 1.0, (n, months.size))
    latent += random_intercept * rng.normal(size=(n, 1))
    y = np.clip(latent, 0.0, 10.0)
    y[rng.random(y.shape) < 0.1] = np.nan
    return y, groups


@lru_cache(maxsize=2)
def both_models(random_intercept: float):
    y, truth = simulate(160, seed=5, random_intercept=random_intercept)
    wide = pd.DataFrame(y, index=np.arange(1000, 1000 + len(y)), columns=MONTHS)
    paper = fit_trajectories(y, MONTHS, 2, 1, n_starts=2, seed=1)
    return wide, truth, paper, compare_models(wide, MONTHS, paper, NAMES)


def test_the_mixed_model_gives_memberships_when_patients_keep_a_level_of_their_own():
    *_, compared = both_models(1.5)
    assert compared.choice.model == MIXED
    assert all(compared.choice.checks.values())
    mixed = compared.block[MIXED]
    assert mixed["bic"] > compared.block[GBTM]["bic"]
    assert mixed["tau"] == pytest.approx(1.5, abs=0.4)
    assert "latent-class mixed model" in compared.choice.reason
    assert f"{mixed['bic']:.1f}" in compared.choice.reason


def test_the_group_based_model_gives_them_when_there_is_no_patient_level():
    *_, compared = both_models(0.0)
    assert compared.choice.model == GBTM
    assert not compared.choice.checks["patient_level_found"]
    assert compared.block[MIXED]["bic"] < compared.block[GBTM]["bic"]
    assert "not met" in compared.choice.reason


def test_each_check_alone_can_keep_the_memberships_on_the_group_based_model():
    *_, paper, compared = both_models(1.5)
    mixed = compared.mixed
    assert choose_memberships(paper, mixed, paper.random_intercept_test).model == MIXED
    assert choose_memberships(paper, mixed, {"p": 0.4}).model == GBTM
    assert choose_memberships(paper, None, paper.random_intercept_test).model == GBTM
    worse = replace(mixed, bic=paper.bic - 1.0)
    assert choose_memberships(paper, worse, paper.random_intercept_test).model == GBTM


def test_both_models_report_the_same_figures_from_their_own_posteriors():
    *_, paper, compared = both_models(1.5)
    for key, fit in ((GBTM, paper), (MIXED, compared.mixed)):
        block = compared.block[key]
        assert block["log_likelihood"] == fit.log_likelihood
        assert block["entropy"] == pytest.approx(relative_entropy(fit.posterior))
        assert [g["app"] for g in block["groups"].values()] == list(fit.diagnostics.app)
        assert [g["occ"] for g in block["groups"].values()] == list(fit.diagnostics.occ)
        assert sum(g["assigned_n"] for g in block["groups"].values()) == 160
    # The random intercept takes the patient level the group-based posteriors count as evidence.
    assert compared.block[MIXED]["mean_posterior"] < compared.block[GBTM]["mean_posterior"]


def test_relative_entropy_is_one_when_sure_and_zero_when_even():
    assert relative_entropy(np.eye(3)) == pytest.approx(1.0)
    assert relative_entropy(np.full((4, 2), 0.5)) == pytest.approx(0.0)


@pytest.mark.parametrize("random_intercept", [1.5, 0.0])
def test_memberships_come_from_the_model_the_run_names(random_intercept):
    wide, _, paper, compared = both_models(random_intercept)
    table = membership_table(wide.index.to_numpy(), NAMES, paper, compared)
    assert table["model"] == compared.choice.model
    named = compared.mixed if compared.choice.model == MIXED else paper
    assert table["group"] == [NAMES[g] for g in named.assignment]
    assert table["posterior"] == pytest.approx(list(np.nanmax(named.posterior, axis=1)))
    assert table["paper_group"] == [NAMES[g] for g in paper.assignment]


def test_the_two_models_disagree_on_some_patients_when_there_is_a_patient_level():
    # Otherwise the table could not tell which model it came from.
    *_, paper, compared = both_models(1.5)
    assert (compared.mixed.assignment != paper.assignment).sum() >= 3


def diverging_frame(n: int = 120, seed: int = 3) -> tuple[pd.DataFrame, dict[int, int]]:
    """Two groups whose pain falls apart from month 2 on (2 points)."""
    rng = np.random.default_rng(seed)
    rows, groups = [], {}
    for pid in range(n):
        g = pid % 2
        groups[pid] = g
        level = 6 + rng.normal(0, 1)
        for m in range(7):
            rows.append(
                (pid, m, level - 0.2 * m - (2.0 if g and m >= 2 else 0) + rng.normal(0, 0.8))
            )
    return pd.DataFrame(rows, columns=["patient", "month", "nprs"]), groups


def test_divergence_over_sure_posteriors_is_the_assignments_divergence_every_draw():
    frame, groups = diverging_frame()
    patients = list(groups)
    sure = np.eye(2)[[groups[p] for p in patients]]
    (pair,) = first_divergence(frame, {p: ["a", "b"][g] for p, g in groups.items()})
    over = first_divergence_over_draws(frame, patients, sure, ["a", "b"], draws=5, seed=1)
    summary = over[("a", "b")]
    assert summary["draws_diverging"] == 5
    assert summary["first_timepoint_counts"] == {str(pair.first_month): 5}
    at_first = next(c for c in summary["contrasts"] if c["month"] == pair.first_month)
    assert at_first["p_holm_median"] == pytest.approx(pair.p_adjusted)


def test_divergence_over_uncertain_posteriors_differs_from_the_assignments_one():
    frame, groups = diverging_frame()
    patients = list(groups)
    # The assignment is right, but each patient is only 55% sure of it.
    unsure = np.where(np.eye(2)[[groups[p] for p in patients]] == 1, 0.55, 0.45)
    (pair,) = first_divergence(frame, groups)
    assert pair.first_month == 2
    over = first_divergence_over_draws(frame, patients, unsure, ["a", "b"], draws=20, seed=2)
    summary = over[("a", "b")]
    assert summary["draws_diverging"] < 10
    at_first = next(c for c in summary["contrasts"] if c["month"] == 2)
    assert at_first["p_holm_median"] > 0.05
    assert at_first["draws_significant"] < 10


def test_above_the_cap_the_mixed_model_is_estimated_on_a_subset_and_evaluated_on_all():
    wide, _, paper, compared = both_models(1.5)
    assert compared.block[MIXED]["estimated_on_patients"] == 160
    part = fit_mixed_from(paper, wide.to_numpy(dtype=float), MONTHS, max_patients=80, seed=3)
    assert part.fitted_patients == 80
    assert part.fit.n_patients == 160
    assert np.isfinite(part.fit.posterior).all()
    # At the subset's estimates the likelihood of all is below its maximum, and not far.
    assert part.fit.log_likelihood <= compared.mixed.log_likelihood + 1e-6
    assert part.fit.log_likelihood > compared.mixed.log_likelihood - 20
    assert part.fit.tau == pytest.approx(compared.mixed.tau, abs=0.5)


def test_the_report_draws_the_divergence_from_the_named_models_posteriors():
    wide, _, paper, compared = both_models(1.5)
    long = wide.stack().rename("nprs_mean").rename_axis(["patient", "month"]).reset_index()
    ids = wide.index.to_numpy()
    block = divergence_over_draws(long, ids, NAMES, paper, compared, Parameters(seed=4))
    assert block["model"] == MIXED
    frame = long.rename(columns={"nprs_mean": "nprs"})
    labels = {float(m): code for code, m in MONTH_OF_TIMEPOINT.items()}
    (mixed,) = first_divergence_over_draws(
        frame, list(ids), compared.mixed.posterior, NAMES, draws=50, seed=4, timepoints=labels
    ).values()
    (group_based,) = first_divergence_over_draws(
        frame, list(ids), paper.posterior, NAMES, draws=50, seed=4, timepoints=labels
    ).values()
    assert block["pairs"]["T1_vs_T2"] == mixed
    assert mixed != group_based


def _opposed_posteriors(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A baseline table and two sure posteriors: one splits the patients by it, one does not."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"score": rng.normal(0.0, 1.0, n)})
    table["flag"] = table["score"] > 0
    by_score = np.eye(2)[(table["score"] > 0).to_numpy().astype(int)]
    alternate = np.eye(2)[np.arange(n) % 2]
    return table, by_score, alternate


@pytest.mark.parametrize("chosen", [MIXED, GBTM])
def test_the_baseline_comparisons_over_draws_follow_the_named_models_posteriors(chosen):
    wide, _, paper, compared = both_models(1.5)
    n = len(wide)
    table, by_score, alternate = _opposed_posteriors(n, seed=8)
    # The mixed model's posteriors split the patients by the score, the paper model's do not.
    named = ModelsCompared(
        replace(compared.mixed, posterior=by_score), replace(compared.choice, model=chosen), {}
    )
    paper_fit = replace(paper, posterior=alternate)
    block = comparisons_over_draws(
        table, paper_fit, named, Parameters(seed=2), continuous=("score",), categorical=("flag",)
    )
    assert block["model"] == chosen
    assert chosen in block["method"]
    assert block["draws"] == 50
    for variable in ("score", "flag"):
        test = block["tests"][variable]
        assert test["draws"] == 50
        if chosen == MIXED:
            assert test["p_95_range"][1] < 1e-6
            assert test["share_p_below_05"] == 1.0
        else:
            assert test["p_median"] > 0.05
    assert chosen in draws_note(named)


def _mixed_on(seed: int, max_iter: int = 500):
    y, _ = simulate(160, seed=seed, random_intercept=1.5)
    paper = fit_trajectories(y, MONTHS, 2, 1, n_starts=2, seed=1)
    return y, paper, fit_mixed_from(paper, y, MONTHS, max_iter=max_iter)


def test_a_fit_that_ends_on_precision_loss_at_the_optimum_is_converged():
    # On these calls BFGS stops with scipy's "precision loss" message at the optimum.
    y, _, fitted = _mixed_on(seed=4)
    fit = fitted.fit
    assert "precision loss" in fit.message
    assert fitted.converged
    verdict = fitted.convergence()
    assert verdict["converged"]
    assert verdict["optimiser_message"] == fit.message
    assert verdict["newton_gain"] < NEWTON_GAIN_TOLERANCE
    assert verdict["newton_step_gain"] < NEWTON_GAIN_TOLERANCE
    assert verdict["least_curvature"] > 0
    # A restart from a perturbed point finds no higher likelihood.
    again = fit_mixed_classes(
        y,
        MONTHS,
        fit.orders,
        start_betas=[np.asarray(b) + 0.3 for b in fit.betas],
        start_sigma=fit.sigma * 1.2,
        start_tau=fit.tau * 0.8,
        start_pi=fit.pi,
    )
    assert again.converged
    assert again.log_likelihood < fit.log_likelihood + NEWTON_GAIN_TOLERANCE
    assert again.log_likelihood == pytest.approx(fit.log_likelihood, abs=1e-3)


def test_a_fit_stopped_early_is_not_converged_and_its_newton_gain_tells_the_shortfall():
    _, _, full = _mixed_on(seed=4)
    _, _, early = _mixed_on(seed=4, max_iter=3)  # 3 BFGS iterations in each of 3 rounds
    assert not early.converged
    assert "iterations" in early.convergence()["optimiser_message"]
    shortfall = full.fit.log_likelihood - early.fit.log_likelihood
    assert shortfall > 0.1
    # Near the optimum the log-likelihood is close to quadratic: the Newton gain is the shortfall.
    verdict = early.convergence()
    assert 0.5 * shortfall < verdict["newton_gain"] < 2.0 * shortfall
    assert 0.5 * shortfall < verdict["newton_step_gain"] <= shortfall + NEWTON_GAIN_TOLERANCE


def test_the_report_flags_a_mixed_model_stopped_short_of_its_maximum(monkeypatch):
    wide, _, paper, _ = both_models(1.5)
    early = partial(fit_mixed_from, max_iter=1)
    monkeypatch.setattr("analytics.report.trajectory_models.fit_mixed_from", early)
    compared = compare_models(wide, MONTHS, paper, NAMES)
    block = compared.block[MIXED]
    assert block["converged"] is False
    assert block["convergence"]["converged"] is False
    assert "Newton" in block["convergence"]["criterion"]
    (warning,) = block["warnings"]
    assert "did not reach a maximum" in warning
    assert warning in draws_note(compared)
    # At its optimum the same model carries no warning.
    _, _, _, converged = both_models(1.5)
    assert converged.block[MIXED]["converged"] is True
    assert "warnings" not in converged.block[MIXED]
    assert "did not reach" not in draws_note(converged)


def test_two_sure_models_that_disagree_cannot_both_be_right():
    groups = np.arange(100) % 2
    other = groups.copy()
    other[:30] = 1 - other[:30]  # they disagree on 30 patients
    claims = accuracy_claims(np.eye(2)[groups], np.eye(2)[other])
    assert claims["patients"] == 100
    assert claims["claimed"] == {GBTM: 1.0, MIXED: 1.0}
    assert claims["agreement"] == pytest.approx(0.7)
    assert claims["lesser_accuracy_at_most"] == pytest.approx(0.85)
    assert claims["claims_can_both_hold"] is False
    # Modest claims on the same assignments can both hold; labels do not matter.
    unsure = np.where(np.eye(2)[groups] == 1, 0.6, 0.4)
    claims = accuracy_claims(unsure, unsure[:, ::-1])
    assert claims["agreement"] == 1.0
    assert claims["claims_can_both_hold"] is True


@pytest.mark.parametrize("random_intercept", [1.5, 0.0])
def test_the_bound_on_the_lesser_accuracy_holds_against_the_truth(random_intercept):
    _, truth, paper, compared = both_models(random_intercept)
    claims = compared.block["accuracy_claims"]

    def accuracy(assignment: np.ndarray) -> float:
        return max(np.mean(assignment == truth), np.mean(1 - assignment == truth))

    realised = (accuracy(paper.assignment), accuracy(compared.mixed.assignment))
    assert sum(realised) <= 1.0 + claims["agreement"] + 1e-12
    assert min(realised) <= claims["lesser_accuracy_at_most"]
    assert f"{claims['agreement']:.2f} of the patients" in claims["note"]
    assert "model-based" in claims["note"]
