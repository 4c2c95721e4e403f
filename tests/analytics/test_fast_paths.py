"""The vectorised paths of the descriptive and mixed-model steps give what the plain ones gave.

Each test builds random frames on several seeds (missing values, shuffled rows, duplicated rows,
absent timepoints) and compares the production function with the straightforward pandas code it
replaced, kept here as the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.stats import descriptive
from analytics.stats.missingness import missingness_table
from analytics.stats.mixed import locf
from analytics.stats.mixed.locf import is_sorted
from analytics.stats.mixed.model import _coded, _levels
from analytics.stats.mixed.study import paired_values
from followup.instruments.missing import NOT_MISSING, REASONS

SEEDS = (0, 1, 2, 3, 4)
TIMEPOINTS = ["BL", "W1", "M1", "M2", "M3", "M12"]
MONTH = {"BL": 0.0, "W1": 0.25, "M1": 1.0, "M2": 2.0, "M3": 3.0, "M12": 12.0}


def _long(seed: int, patients: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(p, t) for p in range(patients) for t in TIMEPOINTS if rng.random() > 0.15]
    frame = pd.DataFrame(rows, columns=["patient", "timepoint"])
    n = len(frame)
    frame["month"] = frame["timepoint"].map(MONTH)
    value = rng.normal(5, 2, n)
    frame["nprs_mean"] = np.where(rng.random(n) < 0.25, np.nan, value)
    reasons = np.array([*REASONS, None, "other"], dtype=object)
    frame["nprs_mean_missing_reason"] = rng.choice(reasons, n)
    frame["elapsed"] = rng.random(n) > 0.1
    frame["call_status"] = rng.choice(["reached", "due", "unreachable"], n)
    return frame


def _missingness_reference(long, outcomes, *, timepoints, elapsed):
    elapsed = elapsed.astype(bool)
    pending = long["call_status"].eq("due")
    out = {}
    for outcome in outcomes:
        observed = long[outcome].notna()
        reason = long[f"{outcome}_missing_reason"].where(~observed)
        rows = []
        for timepoint in timepoints:
            at = long["timepoint"].eq(timepoint)
            counts = reason[at & elapsed & ~pending].value_counts()
            row = {
                "timepoint": timepoint,
                "scheduled": int(at.sum()),
                "reached": int((at & elapsed).sum()),
                "observed": int((at & elapsed & observed).sum()),
                "pending": int((at & pending & ~observed).sum()),
                "not_yet_observed": int((at & ~elapsed).sum()),
                "overdue": int((at & pending & ~observed & elapsed).sum()),
            }
            row.update({code: int(counts.get(code, 0)) for code in REASONS})
            explained = sum(row[code] for code in REASONS)
            row["no_reason"] = int((at & elapsed & ~observed & ~pending).sum()) - explained
            missing = (
                row["no_reason"]
                + row["overdue"]
                + sum(row[c] for c in REASONS if c not in NOT_MISSING)
            )
            applicable = row["observed"] + missing
            row["missing"] = missing
            row["missing_pct"] = round(100 * missing / applicable, 1) if applicable else None
            rows.append(row)
        out[outcome] = rows
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_missingness_counts_match_the_row_by_row_reference(seed):
    long = _long(seed).sample(frac=1.0, random_state=seed)
    # A timepoint asked for but absent from the frame counts zero everywhere.
    wanted = [*TIMEPOINTS, "M24"]
    table = missingness_table(long, ["nprs_mean"], timepoints=wanted, elapsed=long["elapsed"])
    expected = _missingness_reference(
        long, ["nprs_mean"], timepoints=wanted, elapsed=long["elapsed"]
    )
    assert table["by_outcome"] == expected


def _paired_reference(data, outcome):
    wide = data.pivot_table(index="patient", columns="timepoint", values=outcome, aggfunc="first")
    return wide.reindex(columns=["BL", "M12"]).dropna()


@pytest.mark.parametrize("seed", SEEDS)
def test_pairs_match_pivot_table(seed):
    data = _long(seed)
    # Duplicated rows: the first non-missing value of a patient's timepoint is the one paired.
    again = data.sample(frac=0.3, random_state=seed)
    again = again.assign(nprs_mean=again["nprs_mean"] + 100.0)
    data = pd.concat([data, again]).sample(frac=1.0, random_state=seed)
    data.loc[data.sample(frac=0.2, random_state=seed + 1).index, "nprs_mean"] = -1.0
    got = paired_values(data, "nprs_mean", "patient", ("BL", "M12"))
    expected = _paired_reference(data, "nprs_mean")
    assert len(got) > 10
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_index_type=False)


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_codes_match_pandas_categorical(seed):
    rng = np.random.default_rng(seed)
    values = pd.Series(rng.choice([*TIMEPOINTS[1:], "BL"], 500), dtype="str")
    levels, codes = _coded("timepoint", values)
    assert levels == _levels("timepoint", values)
    np.testing.assert_array_equal(codes, pd.Categorical(values, categories=levels).codes)
    numbers = pd.Series(rng.integers(-3, 4, 300))
    levels, codes = _coded("site", numbers)
    assert levels == _levels("site", numbers)
    np.testing.assert_array_equal(codes, pd.Categorical(numbers, categories=levels).codes)


@pytest.mark.parametrize("seed", SEEDS)
def test_locf_of_a_shuffled_frame_matches_the_ordered_one(seed):
    ordered = _long(seed)
    shuffled = ordered.sample(frac=1.0, random_state=seed)
    assert is_sorted(ordered, "patient", "month")
    assert not is_sorted(shuffled, "patient", "month")
    # Equal patients with months out of order are not sorted either.
    swapped = ordered.iloc[[1, 0, *range(2, len(ordered))]]
    assert not is_sorted(swapped, "patient", "month")
    with_gap = ordered.assign(month=ordered["month"].where(ordered.index != 3))
    assert not is_sorted(with_gap, "patient", "month")
    no_key = ordered.assign(patient=ordered["patient"].astype(float).where(ordered.index != 0))
    assert not is_sorted(no_key, "patient", "month")
    a, carried_a = locf(ordered, ["nprs_mean"])
    b, carried_b = locf(shuffled, ["nprs_mean"])
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(carried_a, carried_b)


def _comorbidity_reference(lists):
    listed = lists[lists.map(descriptive._has_codes)]
    codes = sorted({c for v in listed for c in v})
    out = {c: int(listed.map(lambda v, c=c: c in v).sum()) for c in codes}
    return out, int(listed.map(lambda v: len(v) == 0).sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_comorbidity_holders_match_membership_per_code(seed):
    rng = np.random.default_rng(seed)
    pool = ["heart", "migraine", "diabetes"]
    lists = pd.Series(
        [list(rng.choice(pool, rng.integers(0, 4))) for _ in range(200)] + [None, np.nan],
        dtype=object,
    )
    holders, empty = descriptive._holders(lists[lists.map(descriptive._has_codes)])
    expected, expected_empty = _comorbidity_reference(lists)
    assert empty == expected_empty
    assert {c: holders[c] for c in expected} == expected


def _concomitant_reference(treatments, calls, classes):
    reached = calls[calls["call_status"] == "reached"][["patient", "timepoint"]]
    at_bl = pd.Index(reached.loc[reached["timepoint"] == "BL", "patient"].unique())
    at_m12 = pd.Index(reached.loc[reached["timepoint"] == "M12", "patient"].unique())
    both = at_bl.intersection(at_m12)
    drugs = treatments[treatments["kind"] == "drug"]
    out = {}
    for code in classes:
        on = drugs[drugs["code"] == code]
        bl = set(on.loc[on["timepoint"] == "BL", "patient"]) & set(at_bl)
        m12 = set(on.loc[on["timepoint"] == "M12", "patient"]) & set(at_m12)
        test = descriptive.mcnemar_exact([p in bl for p in both], [p in m12 for p in both])
        out[code] = (len(bl), len(m12), test)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_concomitant_change_matches_set_membership(seed):
    rng = np.random.default_rng(seed)
    classes = ["opioid", "antidepressant", "gabapentinoid", "never_given"]
    n = 400
    treatments = pd.DataFrame(
        {
            "patient": rng.integers(0, 80, n),
            "timepoint": rng.choice(["BL", "M1", "M12"], n),
            "kind": rng.choice(["drug", "other"], n, p=[0.8, 0.2]),
            "code": rng.choice(classes[:3], n),
        }
    )
    calls = pd.DataFrame(
        [(p, t) for p in range(80) for t in ("BL", "M12")], columns=["patient", "timepoint"]
    ).assign(call_status=lambda f: rng.choice(["reached", "unreachable"], len(f), p=[0.8, 0.2]))
    got = descriptive.concomitant_change(treatments, calls, classes)
    for code, (bl, m12, test) in _concomitant_reference(treatments, calls, classes).items():
        block = got[code]
        assert block["baseline_pct"] == descriptive._pct(bl, int(block["baseline"].split("/")[1]))
        assert block["m12"].split("/")[0] == str(m12)
        assert block["baseline"].split("/")[0] == str(bl)
        assert (block["n_paired"], block["discordant"], block["p"]) == (
            test["n_paired"],
            [test["b"], test["c"]],
            test["p"],
        )
