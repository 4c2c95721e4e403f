"""The replication panel's rule: every published figure gets a status, by a rule stated once."""

from __future__ import annotations

import copy
import math

import pytest

from analytics import replication
from analytics.replication import AGREES, DIFFERS, NOT_COMPARABLE


def _paper_as_run() -> dict:
    """A run that reproduced every published figure exactly (P values as numbers)."""
    live = copy.deepcopy(replication.paper_figures())
    live["run"] = {"patients": 329}

    def numbers(tree):
        for key, value in list(tree.items()):
            if isinstance(value, dict):
                numbers(value)
            elif isinstance(value, str) and value.startswith("<"):
                tree[key] = 0.0004

    numbers(live["results"])
    return live


def _rows(report: dict) -> dict[str, replication.Row]:
    return {f"{row.section}.{row.path}": row for row in replication.compare(report)}


def test_a_run_equal_to_the_paper_agrees_wherever_a_rule_applies():
    rows = _rows(_paper_as_run())
    assert len(rows) > 150
    statuses = {row.status for row in rows.values()}
    assert DIFFERS not in statuses
    unexplained = [r.path for r in rows.values() if r.status == NOT_COMPARABLE and not r.note]
    assert unexplained == []  # every row that cannot be compared says why
    z_rows = {r.path: r.z for r in rows.values() if r.rule == "z"}
    assert z_rows  # some figures are compared by their z
    assert z_rows == pytest.approx(dict.fromkeys(z_rows, 0.0), abs=1e-9)


def test_every_figure_has_words_not_keys():
    for row in replication.compare(_paper_as_run()):
        assert row.group, row.path
        assert row.label, row.path
        assert "_" not in row.group + row.label + row.item, row.path


def test_a_mean_three_standard_errors_away_differs_and_one_away_agrees():
    live = _paper_as_run()
    se = 1.8 / math.sqrt(329)
    spread = math.hypot(se, se)
    for shift, status in ((3 * spread, DIFFERS), (1 * spread, AGREES)):
        live["cohort"]["mean_pain_baseline"]["mean"] = 6.8 + shift
        live["cohort"]["mean_pain_baseline"]["n"] = 329
        row = _rows(live)["cohort.mean_pain_baseline.mean"]
        assert row.rule == "z"
        # The paper's n is 315 here; the run's 329: z follows both.
        expected = shift / math.hypot(1.8 / math.sqrt(315), se)
        assert row.z == pytest.approx(expected)
        assert row.status == status


def test_a_p_value_agrees_when_on_the_same_side_of_05():
    live = _paper_as_run()
    block = live["results"]["time_x_baseline_depression_interaction"]
    block["omnibus_p"] = 0.17
    row = _rows(live)["results.time_x_baseline_depression_interaction.omnibus_p"]
    assert (row.rule, row.status, row.paper_significant, row.live_significant) == (
        "p",
        DIFFERS,
        True,
        False,
    )
    block["omnibus_p"] = 0.03
    assert _rows(live)["results.time_x_baseline_depression_interaction.omnibus_p"].status == AGREES


def test_an_estimate_is_compared_by_its_confidence_interval():
    live = _paper_as_run()
    block = live["results"]["time_x_baseline_depression_interaction"]
    block["coefficient"], block["ci95"] = 0.02, [-0.005, 0.045]
    row = _rows(live)["results.time_x_baseline_depression_interaction.coefficient"]
    se = 0.05 / (2 * 1.959963984540054)
    assert row.z == pytest.approx((0.02 + 0.04) / math.hypot(se, se))
    assert row.status == DIFFERS
    assert row.paper_significant is True
    assert row.live_significant is False
    assert row.live == f"{0.02:.2f} [{-0.005:.2f}, {0.045:.2f}]"  # the paper's decimals


def test_shares_written_as_fractions_are_compared_as_proportions():
    live = _paper_as_run()
    groups = live["results"]["trajectories"]["groups"]
    groups["T2_moderate_pain"]["fibromyalgia"] = "40/134 (29.9%)"
    row = _rows(live)["results.trajectories.groups.T2_moderate_pain.fibromyalgia"]
    assert row.status == DIFFERS
    assert row.difference == pytest.approx(100 * (40 - 83) / 134)
    assert row.difference_text == f"{100 * (40 - 83) / 134:+.1f} pts"


def test_rows_not_reproducible_by_construction_say_why_in_place():
    live = _paper_as_run()
    live["results"]["mediation"]["proportion_mediated_by_depression_pct"] = 8.0
    row = _rows(live)["results.mediation.proportion_mediated_by_depression_pct"]
    assert row.by_construction
    assert row.status == NOT_COMPARABLE
    assert "not significant" in row.note


def test_a_yes_no_answer_agrees_only_when_the_same():
    live = _paper_as_run()
    live["results"]["trajectories"]["cumulative_dose_associated_with_trajectory"] = True
    row = _rows(live)["results.trajectories.cumulative_dose_associated_with_trajectory"]
    assert (row.rule, row.status) == ("equal", DIFFERS)


def test_published_tests_are_the_p_values_and_the_estimates_with_an_interval():
    tests = replication.published_tests(replication.compare(_paper_as_run()))
    paths = {row.path for row in tests}
    assert "time_x_baseline_depression_interaction.omnibus_p" in paths
    assert "nprs_baseline_to_m12.effect_size" in paths
    assert "mediation.path3_depression_to_pain.coefficient" in paths
    assert "cohort.age.mean" not in paths
    assert all(row.paper_significant == row.live_significant for row in tests)


def test_the_rule_is_written_once_for_the_page():
    assert "1.96" in replication.RULE
    assert ".05" in replication.RULE
