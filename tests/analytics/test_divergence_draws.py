"""The first divergence over class draws, all pairs of all draws fitted together, against
first_divergence redone draw by draw (the way it was computed before).

Pure: demo cohorts and hand-built frames, no database.

Tolerances. Both paths take each pair's variance ratio from the same grid and Brent search on
the profiled likelihood, and near its maximum that likelihood is flat to rounding over about
1e-7 of the ratio (relative): the search stops anywhere in that width, however the sums are
ordered. first_divergence itself moves that much when only the patients are renamed (on these
cohorts: estimates by up to 2e-8 NPRS points, SEs by 9e-8 relative, P values by 4e-8), and the
two paths differ by as much. So at the ratios the reference found, the fast path must give its
estimates, SEs and P values to 1e-10; with its own search, to 1e-6 (SEs relative, estimates in
NPRS points, P values 5e-7, the most an SE 1e-6 off moves a two-sided normal P). Counts,
months, labels and first timepoints must be equal.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from analytics.stats.mixed import many
from analytics.stats.mixed import model as mixed_model
from analytics.stats.trajectories import first_divergence, fit_trajectories
from analytics.stats.trajectories.comparison import draw_classes
from analytics.stats.trajectories.divergence import (
    ALPHA,
    PairDivergence,
    _divergence_by_draw,
    _summarise_draws,
    first_divergence_over_draws,
)
from cohort.vocabulary import MONTH_OF_TIMEPOINT

NAMES = ["T1_low", "T2_mid", "T3_high"]
LABELS = {float(m): code for code, m in MONTH_OF_TIMEPOINT.items()}
DRAWS = 20


def reference_by_draw(long, patients, posterior, names, *, draws, seed, timepoints=None):
    """Redo first_divergence on every draw's groups, as first_divergence_over_draws did."""
    post = np.asarray(posterior, dtype=np.float64)
    keep = np.isfinite(post).all(axis=1)
    kept = np.asarray(patients, dtype=object)[keep]
    per_draw = []
    for sampled in draw_classes(post[keep], draws, seed):
        groups = {pid: names[g] for pid, g in zip(kept, sampled, strict=True)}
        pairs = first_divergence(
            long, groups, alpha=ALPHA, correction="holm", timepoints=timepoints
        )
        per_draw.append({f"{p.first}|{p.second}": p for p in pairs})
    return per_draw


@lru_cache(maxsize=3)
def demo(seed: int) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """Return a demo cohort's IV patients' pain (long), their ids and the 3-group posteriors."""
    from demo.synthetic import generate

    cohort = generate(329, seed=seed)
    truth = cohort.truth["patients"]
    route = dict(zip(truth["study_code"], truth["route"], strict=True))
    calls = cohort.calls[cohort.calls["study_code"].map(route) == "iv"]
    long = pd.DataFrame(
        {
            "patient": calls["study_code"].to_numpy(),
            "month": calls["timepoint"].map(MONTH_OF_TIMEPOINT).to_numpy(dtype=float),
            "nprs": calls["nprs_mean"].astype("Float64").astype(float).to_numpy(),
        }
    )
    wide = long.pivot_table(index="patient", columns="month", values="nprs", dropna=False)
    wide = wide[wide.notna().any(axis=1)]
    months = list(wide.columns)
    paper = fit_trajectories(wide.to_numpy(dtype=float), months, 3, 2, n_starts=2, seed=seed)
    return long, list(wide.index), paper.posterior


def close(new: float, old: float, *, rel: float = 0.0, abs_: float = 0.0) -> bool:
    if math.isnan(old) or math.isnan(new):
        return math.isnan(old) and math.isnan(new)
    return abs(new - old) <= max(rel * abs(old), abs_)


class Tolerance(NamedTuple):
    estimate: float  # absolute, NPRS points
    se: float  # relative
    p: float  # absolute


OWN_SEARCH = Tolerance(estimate=1e-6, se=1e-6, p=5e-7)
SAME_RATIOS = Tolerance(estimate=1e-10, se=1e-10, p=1e-10)


def assert_same_pair(new: PairDivergence, old: PairDivergence, tol: Tolerance) -> None:
    for field in (
        "first",
        "second",
        "first_month",
        "until_month",
        "sustained",
        "n_patients",
        "first_timepoint",
        "until_timepoint",
        "correction",
    ):
        assert getattr(new, field) == getattr(old, field), field
    assert close(new.coefficient, old.coefficient, abs_=tol.estimate)
    assert close(new.p, old.p, abs_=tol.p)
    assert close(new.p_adjusted, old.p_adjusted, abs_=tol.p)
    assert [c.month for c in new.contrasts] == [c.month for c in old.contrasts]
    assert [c.timepoint for c in new.contrasts] == [c.timepoint for c in old.contrasts]
    for c_new, c_old in zip(new.contrasts, old.contrasts, strict=True):
        assert close(c_new.coefficient, c_old.coefficient, abs_=tol.estimate), c_old
        assert close(c_new.se, c_old.se, rel=tol.se), c_old
        assert close(c_new.ci_low, c_old.ci_low, abs_=tol.estimate + 2 * tol.se), c_old
        assert close(c_new.ci_high, c_old.ci_high, abs_=tol.estimate + 2 * tol.se), c_old
        assert close(c_new.p, c_old.p, abs_=tol.p), c_old
        assert close(c_new.p_adjusted, c_old.p_adjusted, abs_=tol.p), c_old


def assert_same_summary(new: dict, old: dict, tol: Tolerance) -> None:
    """Counts, months and labels equal; median P and coefficients as the draws' own."""
    assert new.keys() == old.keys()
    for key in new:
        a, b = new[key], old[key]
        if key == "contrasts":
            assert len(a) == len(b)
            for row_new, row_old in zip(a, b, strict=True):
                assert_same_summary(row_new, row_old, tol)
        elif key == "coefficient_median":
            assert close(a, b, abs_=tol.estimate)
        elif key.startswith("p_holm_median") and b is not None:
            assert close(a, b, abs_=tol.p)
        else:
            assert a == b, key


def assert_same_draws(
    long, patients, posterior, names, *, draws, seed, timepoints=None, tol=OWN_SEARCH
):
    slow = reference_by_draw(
        long, patients, posterior, names, draws=draws, seed=seed, timepoints=timepoints
    )
    fast = _divergence_by_draw(
        long,
        patients,
        posterior,
        names,
        draws=draws,
        seed=seed,
        patient="patient",
        time="month",
        value="nprs",
        timepoints=timepoints,
    )
    assert len(fast) == len(slow) == draws
    for by_pair_new, by_pair_old in zip(fast, slow, strict=True):
        assert by_pair_new.keys() == by_pair_old.keys()
        for key in by_pair_old:
            assert_same_pair(by_pair_new[key], by_pair_old[key], tol)
    summary = first_divergence_over_draws(
        long, patients, posterior, names, draws=draws, seed=seed, timepoints=timepoints
    )
    for a, b in summary:
        old = _summarise_draws(slow, f"{a}|{b}", draws)
        assert_same_summary(summary[(a, b)], old, tol)
    return fast


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_draws_fitted_together_give_first_divergence_of_each_draw_on_demo_cohorts(seed):
    long, patients, posterior = demo(seed)
    fast = assert_same_draws(
        long, patients, posterior, NAMES, draws=DRAWS, seed=seed, timepoints=LABELS
    )
    # The cohort's groups do diverge, and more than one pair is compared in every draw.
    assert all(len(by_pair) == 3 for by_pair in fast)
    assert any(p.first_month is not None for by_pair in fast for p in by_pair.values())


@pytest.fixture
def reference_ratios(monkeypatch):
    """Record the variance ratio of each reference fit, and impose them on the fits together."""
    found: list[float] = []
    maximise = mixed_model._maximise

    def recording(suff, reml):
        g, converged = maximise(suff, reml)
        found.append(g)
        return g, converged

    def imposed(blocks, members, reml):
        assert members.shape[0] == len(found)
        return np.array(found), np.ones(len(found), dtype=bool)

    monkeypatch.setattr(mixed_model, "_maximise", recording)
    monkeypatch.setattr(many, "maximise_many", imposed)
    return found


@pytest.mark.parametrize("seed", [0, 1])
def test_at_the_reference_ratios_the_fits_together_are_first_divergences_to_1e10(
    seed, reference_ratios
):
    long, patients, posterior = demo(seed)
    assert_same_draws(
        long, patients, posterior, NAMES, draws=5, seed=seed, timepoints=LABELS, tol=SAME_RATIOS
    )
    frame, ids, gappy = ongoing_frame(seed + 3)
    reference_ratios.clear()
    assert_same_draws(frame, ids, gappy, list("abc"), draws=8, seed=seed, tol=SAME_RATIOS)


def ongoing_frame(seed: int) -> tuple[pd.DataFrame, list[int], np.ndarray]:
    """An ongoing cohort with gaps: late times reached by one group only, a rare third group,
    patients without a posterior, others without a baseline call, and rows of other patients."""
    rng = np.random.default_rng(seed)
    n = 90
    rows = []
    for pid in range(n):
        level = 6 + rng.normal(0, 1)
        last = 9 if pid % 3 == 0 else 6  # only some patients have reached the late months
        for m in range(last + 1):
            if m and rng.random() < 0.2:
                continue
            if m == 0 and pid % 17 == 5:
                continue  # no baseline: left out
            rows.append((pid, m, level - 0.3 * m * (pid % 2) + rng.normal(0, 0.8)))
    rows += [(1000 + k, m, 5.0 + k) for k in range(3) for m in range(4)]  # not in the draws
    frame = pd.DataFrame(rows, columns=["patient", "month", "nprs"])
    frame.loc[frame.sample(frac=0.05, random_state=seed).index, "nprs"] = np.nan
    # Late-reaching patients lean to the first group, so the late months are one group's.
    first = np.where(np.arange(n) % 3 == 0, 0.97, 0.2)
    posterior = np.column_stack([first, 0.98 - first, np.full(n, 0.02)])
    posterior[::11] = np.nan
    return frame, list(range(n)), posterior


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_draws_fitted_together_handle_one_group_times_missing_groups_and_gaps(seed):
    frame, patients, posterior = ongoing_frame(seed)
    fast = assert_same_draws(frame, patients, posterior, ["a", "b", "c"], draws=12, seed=seed)
    contrasts = [c for by_pair in fast for p in by_pair.values() for c in p.contrasts]
    assert any(math.isnan(c.se) for c in contrasts)  # a time one group only has reached
    assert any(len(by_pair) < 3 for by_pair in fast)  # a draw without the rare group


def test_no_later_rows_leave_every_draw_without_pairs():
    frame = pd.DataFrame({"patient": [1, 2, 3], "month": [0.0, 0.0, 0.0], "nprs": [5.0, 6, 7]})
    over = first_divergence_over_draws(frame, [1, 2, 3], np.eye(3)[[0, 1, 1]], ["a", "b", "c"])
    assert all(summary["draws_with_pair"] == 0 for summary in over.values())


@pytest.mark.parametrize("seed", [3, 4])
def test_per_patient_terms_add_up_by_draw_group_and_size(seed):
    """The sums read each patient size's terms as a slice: the patients must come by size."""
    from analytics.stats.trajectories.divergence_fits import _sums, change_rows

    frame, patients, _ = ongoing_frame(seed)
    rows = change_rows(frame, patients, "patient", "month", "nprs")
    assert rows is not None
    assert rows.sizes.size > 1
    labels = np.random.default_rng(seed).integers(0, 3, size=(4, len(patients)))
    sums = _sums(rows, labels, 3)
    drawn = labels[:, rows.row]
    for d in range(labels.shape[0]):
        for g in range(3):
            for k in range(rows.sizes.size):
                chosen = (drawn[d] == g) & (rows.size == k)
                np.testing.assert_allclose(
                    sums[d, g, k], rows.terms[chosen].sum(axis=0), rtol=1e-12, atol=1e-12
                )
