"""The analysis report on the demo cohort: the paper's keys and shapes, and known truth recovered.

The demo cohort (329 patients, seed 0: what `make run` loads) is loaded into the test database
once for the module, read back by ``dataset.load`` and analysed with the default parameters.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.special import comb

from analytics import dataset, report
from analytics.stats import mediation
from analytics.stats.trajectories import RANDOM_INTERCEPT_WARNING
from cohort.models import Patient, Site
from demo.loader import demo_load, demo_purge
from demo.synthetic import generate

PAPER = json.loads(
    (Path(__file__).resolve().parents[2] / "analytics/paper_targets.json").read_text()
)
NAMES = list(report.TRAJECTORY_NAMES)
# The mark makes pytest-django create the test database even when this module runs alone.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def analysed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        cohort = generate(329, seed=0)
        demo_load(cohort)
        data = dataset.load()
        result = report.build_report(data, fingerprint=data.fingerprint())
        code_of = dict(Patient.objects.values_list("pk", "study_code"))
        yield cohort, data, result, code_of
        # Leave the database as other modules expect it: no demo patients, sites or runs.
        demo_purge()
        Site.objects.filter(is_demo=True).delete()


def shape_differences(paper: object, ours: object, path: str = "") -> list[str]:
    """List where ``ours`` lacks a key of ``paper`` or has another shape (dict, list, leaf)."""
    if isinstance(paper, dict):
        if not isinstance(ours, dict):
            return [f"{path}: expected an object"]
        problems = []
        for key, value in paper.items():
            if key not in ours:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += shape_differences(value, ours[key], f"{path}.{key}")
        return problems
    if isinstance(paper, list):
        if not isinstance(ours, list) or len(ours) != len(paper):
            return [f"{path}: expected a list of {len(paper)}"]
        return []
    if isinstance(paper, bool):
        return [] if isinstance(ours, bool) else [f"{path}: expected true/false"]
    # A number in the paper is a number here; a P written "<.001" is a number here too (with
    # its text form beside it), and "15/52 (28.8%)" stays text.
    if isinstance(paper, str) and "/" in paper:
        return [] if isinstance(ours, str) and "/" in ours else [f"{path}: expected n/N text"]
    if ours is None or isinstance(ours, (int, float, str)):
        return []
    return [f"{path}: unexpected {type(ours).__name__}"]


def adjusted_rand_index(a: list[int], b: list[int]) -> float:
    """Return the adjusted Rand index of two partitions (Hubert and Arabie 1985)."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(1), 2).sum(), comb(table.sum(0), 2).sum()
    expected = rows * cols / comb(len(a), 2)
    return float((pairs - expected) / ((rows + cols) / 2 - expected))


def test_adjusted_rand_index_is_one_for_equal_partitions_and_near_zero_for_chance():
    assert adjusted_rand_index([1, 1, 2, 2, 3], [5, 5, 7, 7, 9]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    chance = adjusted_rand_index(list(rng.integers(0, 3, 3000)), list(rng.integers(0, 3, 3000)))
    assert abs(chance) < 0.01


def test_report_has_every_key_of_the_papers_results_and_cohort_blocks(analysed):
    _, _, result, _ = analysed
    assert shape_differences(PAPER["results"], result["results"], "results") == []
    assert shape_differences(PAPER["cohort"], result["cohort"], "cohort") == []


def test_report_is_strict_json_and_names_its_run(analysed):
    _, data, result, _ = analysed
    json.dumps(result, allow_nan=False)
    run = result["run"]
    assert result["schema_version"] == report.SCHEMA_VERSION
    assert run["patients"] == 329
    assert run["fingerprint"] == data.fingerprint()
    assert run["calls"] == int(data.long["call_status"].eq("reached").sum())
    assert set(run["timings_s"]) >= {*report.STEPS, "total"} - {"trajectory_comparisons"}
    assert run["versions"]["statsmodels"]


def test_paper_quantities_land_near_the_paper_on_the_demo_cohort(analysed):
    _, _, result, _ = analysed
    results = result["results"]
    nprs = results["nprs_baseline_to_m12"]
    assert nprs["effect_size_kind"] == "d_z"
    # d_z = mean change / SD of change, recomputed from the block itself.
    assert nprs["effect_size"] == pytest.approx(
        nprs["change"]["mean"] / nprs["change"]["sd"], rel=1e-9
    )
    assert abs(nprs["baseline"]["mean"] - 6.7) < 3 * 1.8 / math.sqrt(329)
    assert nprs["p"] < 0.001
    assert nprs["p_text"] == "<.001"
    depression = results["time_x_baseline_depression_interaction"]
    assert depression["grouping"] == "HADS-D <=7 vs >7"
    assert sum(depression["figure2_groups_n"].values()) <= 329
    assert set(depression["figure2_groups_n"]) == {"le7", "8_10", "ge11"}


def test_trajectory_choice_is_reported_as_bic_made_it(analysed):
    _, _, result, _ = analysed
    selection = result["results"]["trajectories"]["selection"]
    best = max(selection["table"], key=lambda row: row["bic"])
    assert selection["chosen"]["n_groups"] == best["n_groups"]
    assert selection["bic_prefers_paper_groups"] == (best["n_groups"] == 3)
    # The random-intercept warning appears exactly when the residuals' test finds a level.
    test = selection["random_intercept_test"]
    warned = any(w.startswith(RANDOM_INTERCEPT_WARNING) for w in selection["warnings"])
    assert warned == (test["p"] < 0.05)
    # The demo's patients keep a level of their own: the test sees it.
    assert test["p"] < 0.001
    assert warned


def test_notes_say_what_the_run_used():
    results = {"a": {"effect_size_kind": "d_av"}, "b": {"effect_size_kind": "d_av"}}
    note = report.effect_size_note("d_av", results)
    assert "d_av = mean change / sqrt" in note
    assert "d_z" not in note
    assert "none computed" in report.effect_size_note("d_pre", {"a": {"available": False}})
    shown = {"paper_specification": {"proportion_mediated_by_dose": {"estimate_pct": 3.0}}}
    assert not any("no interval" in n for n in report.mediation_notes(shown))
    withheld = {
        "paper_specification": {
            "proportion_mediated_by_depression": {"withheld": mediation.RATIO_WITHHELD}
        }
    }
    notes = report.mediation_notes(withheld)
    assert any("by baseline depression" in n and "covers 0" in n for n in notes)


def test_report_notes_and_first_divergence_come_from_this_run(analysed):
    _, _, result, _ = analysed
    notes = result["run"]["notes"]
    assert notes[0].startswith("Effect sizes: d_z = mean change / SD of change")
    paper = result["results"]["mediation"]["paper_specification"]
    for key in ("proportion_mediated_by_depression", "proportion_mediated_by_dose"):
        said = any(paper[key].get("withheld", "@") in n for n in notes)
        assert said == ("withheld" in paper[key])
    diverging = []
    for pair in result["results"]["trajectories"]["first_divergence_from_baseline"].values():
        assert "Holm" in pair["correction"]
        contrasts = pair["contrasts"]
        assert contrasts[0]["timepoint"] == "W1"
        assert contrasts[0]["month"] == 0.25
        # The first divergence is the first contrast significant after Holm's correction.
        first = next((c for c in contrasts if c["p_adjusted"] < 0.05), None)
        found = (first["month"], first["timepoint"]) if first else (None, None)
        assert (pair["month"], pair["timepoint"]) == found
        diverging += [(pair, first)] if first else []
    assert diverging  # at least one pair of groups diverges in this cohort
    assert [pair["p_holm"] for pair, _ in diverging] == [
        first["p_adjusted"] for _, first in diverging
    ]
    assert all(first["p_adjusted"] >= pair["p"] for pair, first in diverging)


def test_trajectory_group_shares_are_within_5_points_of_the_truth(analysed):
    cohort, _, result, _ = analysed
    groups = result["results"]["trajectories"]["groups"]
    true_shares = cohort.truth["structure"]["group_shares"]
    for name, share in zip(NAMES, true_shares, strict=True):
        assert abs(groups[name]["estimated_pct"] - 100 * share) < 5, name
        assert abs(groups[name]["pct"] - 100 * share) < 5, name


def test_assigned_groups_agree_with_true_groups_as_well_as_the_true_curves_allow(analysed):
    """Floor: 80% of the agreement of an oracle that knows the true mean curve of each group.

    The demo's groups overlap (each patient keeps a level of their own), so even the oracle,
    assigning each patient to the nearest true curve, reaches an ARI of only about 0.2; chance
    gives 0. The model must do nearly as well as the oracle, and clearly better than chance.
    """
    from demo.synthetic import params

    cohort, data, result, code_of = analysed
    membership = result["results"]["trajectories"]["membership"]
    truth = dict(
        zip(
            cohort.truth["patients"]["study_code"],
            cohort.truth["patients"]["latent_group"],
            strict=True,
        )
    )
    true = [truth[code_of[p]] for p in membership["patient"]]
    assigned = [NAMES.index(g) + 1 for g in membership["group"]]
    base = np.asarray(params.BASELINE_NPRS_BY_GROUP, dtype=float)
    change = np.asarray(cohort.truth["structure"]["group_mean_change"])
    curves = np.column_stack([base, base[:, None] + change])
    wide = data.long.pivot_table(
        index="patient", columns="month", values="nprs_mean", aggfunc="first"
    ).reindex(membership["patient"])
    y = wide.to_numpy(dtype=float)
    distance = np.stack([np.nansum((y - curve) ** 2, axis=1) for curve in curves], axis=1)
    oracle = list(distance.argmin(axis=1) + 1)
    model_ari = adjusted_rand_index(assigned, true)
    oracle_ari = adjusted_rand_index(oracle, true)
    assert model_ari > 0.1
    assert model_ari >= 0.8 * oracle_ari
    # Each paper group's APP is the mean posterior of the patients the paper's model assigns it.
    groups = result["results"]["trajectories"]["groups"]
    for name in NAMES:
        mine = [
            p
            for p, g in zip(membership["paper_posterior"], membership["paper_group"], strict=True)
            if g == name
        ]
        assert groups[name]["app"] == pytest.approx(float(np.mean(mine)), rel=1e-9)


PAPER_TRAJECTORY_KEYS = [
    "available",
    "population",
    "method",
    "groups",
    "fibromyalgia_by_group_p",
    "baseline_hads_d_by_group_p",
    "baseline_hads_a_by_group_p",
    "by_group_p_text",
    "cumulative_dose_associated_with_trajectory",
    "cumulative_dose_by_group_p",
    "first_divergence_from_baseline",
    "comparisons",
    "comparisons_over_posterior_draws",
    "memberships_source",
    "paper_model",
    "selection",
    "membership",
]


def test_trajectory_block_keeps_its_keys_in_order_and_adds_the_second_model(analysed):
    _, _, result, _ = analysed
    keys = list(result["results"]["trajectories"])
    assert [k for k in keys if k in PAPER_TRAJECTORY_KEYS] == PAPER_TRAJECTORY_KEYS
    added = {"models_compared", "memberships_model", "first_divergence_over_posterior_draws"}
    assert added <= set(keys)
    compared = result["results"]["trajectories"]["models_compared"]
    for model in ("group_based", "latent_class_mixed"):
        block = compared[model]
        assert {"bic", "log_likelihood", "entropy", "groups"} <= set(block)
        assert list(block["groups"]) == NAMES
        for group in block["groups"].values():
            assert {"app", "occ", "estimated_pct", "assigned_pct"} <= set(group)
    # The group-based figures are the paper model's.
    paper = result["results"]["trajectories"]["paper_model"]
    assert compared["group_based"]["bic"] == paper["bic"]
    assert [g["app"] for g in compared["group_based"]["groups"].values()] == [
        result["results"]["trajectories"]["groups"][name]["app"] for name in NAMES
    ]


def test_memberships_come_from_the_model_the_report_names_for_the_reasons_it_gives(analysed):
    _, _, result, _ = analysed
    block = result["results"]["trajectories"]
    chosen = block["memberships_model"]
    compared = block["models_compared"]
    mixed, gbtm = compared["latent_class_mixed"], compared["group_based"]
    expected = (
        mixed["bic"] > gbtm["bic"]
        and compared["random_intercept_test"]["p"] < 0.05
        and min(g["assigned_n"] for g in mixed["groups"].values()) > 0
    )
    assert chosen["model"] == ("latent_class_mixed" if expected else "group_based")
    # On the demo cohort patients keep a level of their own: the mixed model gives them.
    assert chosen["model"] == "latent_class_mixed"
    assert block["memberships_source"].startswith(chosen["reason"])
    membership = block["membership"]
    assert membership["model"] == chosen["model"]
    # The named model's APP is the mean posterior of the patients the table puts in the group.
    for name, figures in compared[chosen["model"]]["groups"].items():
        pairs = zip(membership["posterior"], membership["group"], strict=True)
        mine = [p for p, g in pairs if g == name]
        assert len(mine) == figures["assigned_n"]
        assert figures["app"] == pytest.approx(float(np.mean(mine)), rel=1e-9)


def test_first_divergence_over_draws_sits_beside_the_assignments_one(analysed):
    _, _, result, _ = analysed
    block = result["results"]["trajectories"]
    over = block["first_divergence_over_posterior_draws"]
    assert over["model"] == block["memberships_model"]["model"]
    assert set(over["pairs"]) == set(block["first_divergence_from_baseline"])
    # The baseline comparisons over draws carry the same model's classification uncertainty,
    # and the memberships note names it from the run.
    compared = block["comparisons_over_posterior_draws"]
    assert compared["model"] == over["model"]
    assert over["model"] in compared["method"]
    assert f"{over['model']} model's posteriors" in block["memberships_source"]
    for pair in over["pairs"].values():
        assert pair["draws"] == over["draws"] == 50
        assert 0 <= pair["draws_diverging"] <= pair["draws_with_pair"] <= 50
        assert sum(pair["first_timepoint_counts"].values()) == pair["draws_with_pair"]
        assert pair["contrasts"][0]["timepoint"] == "W1"


def test_mediated_proportion_covers_the_truth_and_dose_has_no_effect(analysed):
    cohort, _, result, _ = analysed
    mediation = result["results"]["mediation"]
    truth = cohort.truth["mediation"]["proportion_mediated"]
    within = mediation["within_patient_depression"]["proportion_mediated"]
    low, high = within["percentile_ci95"]
    assert low < truth < high
    assert mediation["path3_dose_to_pain"]["p"] > 0.05
    assert mediation["path1_dose_to_pain"]["p"] > 0.05
    assert mediation["within_patient_depression"]["bootstrap"]["n_boot"] == 1000


def test_the_data_cut_changes_nothing_on_a_finished_study(analysed):
    """On the paper-dated demo every timepoint has elapsed: censoring must leave the report as
    it was, block for block, against the same report computed blind to the data cut."""
    _, data, result, _ = analysed
    assert data.long["elapsed"].all()
    cut = result["run"]["data_cut"]
    assert set(cut["reached"].values()) == {329}
    blind = replace(data, long=data.long.drop(columns="elapsed"))
    again = report.build_report(blind, fingerprint=data.fingerprint())
    for block in ("cohort", "results"):
        assert again[block] == result[block]
    nprs = result["results"]["nprs_baseline_to_m12"]
    assert nprs["patients_m12_due"] == 329


def test_same_data_gives_the_same_report(analysed):
    _, data, result, _ = analysed
    again = report.build_report(data, fingerprint=data.fingerprint())
    for block in ("cohort", "results"):
        assert again[block] == result[block]


def test_p_values_are_written_as_the_paper_writes_them():
    assert report.p_text(0.0004) == "<.001"
    assert report.p_text(0.002) == ".002"
    assert report.p_text(0.04) == ".04"
    assert report.p_text(0.556) == ".56"
    assert report.p_text(float("nan")) is None
