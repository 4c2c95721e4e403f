"""Baseline table, adverse effects and concomitant treatments on tiny hand-built frames."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analytics.stats.descriptive import (
    adverse_effects,
    baseline_table,
    concomitant_change,
    format_table,
    json_ready,
    mcnemar_exact,
)

NAN = math.nan


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-9, abs=1e-9)


def four_patients() -> pd.DataFrame:
    """Four patients: p4 has no comorbidity list, no etiology and is not on IV."""
    return pd.DataFrame(
        {
            "patient": ["p1", "p2", "p3", "p4"],
            "sex": ["F", "F", "M", "M"],
            "age": [40, 50, 60, 70],
            "comorbidities": [("heart", "migraine"), (), ("heart",), None],
            "etiology": ["fibromyalgia", "peripheral_neuropathic", "peripheral_neuropathic", None],
            "dn4": [NAN, 3, 4, 6],
            "nprs_mean": [2, 3, 7, NAN],
            "nprs_max": [8, 9, NAN, 10],
            "paroxysms_per_day": [2, NAN, 4, 10],
            "ketamine_naive": [True, False, None, False],
            "iv_route": [True, True, True, False],
            "iv_cumulative_dose_mg": [280, 281, 667, NAN],
            "iv_duration_days": [6, 7, 13, NAN],
            "hads_a": [7, 8, 11, NAN],
            "hads_d": [11, 10, NAN, 0],
            "sf12_pcs": [30, 20, NAN, 40],
            "sf12_mcs": [40, NAN, 50, 60],
        }
    )


def four_treatments() -> pd.DataFrame:
    """p1 takes two antidepressants and a step 3 opioid, p2 one antidepressant; p9 is unknown."""
    rows = [
        ("p1", "BL", "drug", "antidepressant"),
        ("p1", "BL", "drug", "antidepressant"),
        ("p1", "BL", "drug", "step3_opioid"),
        ("p2", "BL", "drug", "antidepressant"),
        ("p2", "BL", "non_drug", "tens"),
        ("p3", "M12", "drug", "antidepressant"),
        ("p9", "BL", "drug", "anxiolytic"),
    ]
    return pd.DataFrame(rows, columns=["patient", "timepoint", "kind", "code"])


def test_age_and_sex_are_over_all_patients():
    table = baseline_table(four_patients(), four_treatments())
    assert table["n"] == 4
    # mean (40+50+60+70)/4 = 55; squares 225+25+25+225 = 500, / 3 -> sd sqrt(166.67)
    assert table["age"] == {"n": 4, "mean": approx(55.0), "sd": approx(math.sqrt(500 / 3))}
    assert table["women"] == {"n": 2, "pct": approx(50.0)}
    assert table["men"] == {"n": 2, "pct": approx(50.0)}


def test_history_and_etiology_leave_the_missing_patient_out_of_the_denominator():
    table = baseline_table(four_patients(), four_treatments())
    history = table["history_pct"]
    # 3 patients with a list: heart 2/3, migraine 1/3, none (empty list) 1/3
    assert history["heart"] == approx(200 / 3)
    assert history["migraine"] == approx(100 / 3)
    assert history["none"] == approx(100 / 3)
    assert history["cancer"] == 0.0
    # 3 patients with an etiology: fibromyalgia 1/3, peripheral neuropathic 2/3
    assert table["etiology_pct"]["fibromyalgia"] == approx(100 / 3)
    assert table["etiology_pct"]["peripheral_neuropathic"] == approx(200 / 3)
    assert table["etiology_pct"]["headache"] == 0.0


def test_scores_give_mean_sd_and_bands_over_non_missing_values():
    table = baseline_table(four_patients(), four_treatments())
    # DN4 3, 4, 6: mean 13/3; deviations -4/3, -1/3, 5/3 -> (16+1+25)/9/2 = 7/3; >= 4: 2/3
    assert table["dn4"] == {
        "n": 3,
        "mean": approx(13 / 3),
        "sd": approx(math.sqrt(7 / 3)),
        "pct_ge4": approx(200 / 3),
    }
    # NPRS mean 2, 3, 7: mean 4; (4+1+9)/2 = 7; one each in < 3, 3-6, >= 7
    pain = table["mean_pain_baseline"]
    assert (pain["n"], pain["mean"], pain["sd"]) == (3, approx(4.0), approx(math.sqrt(7)))
    assert (pain["pct_lt3"], pain["pct_3_6"], pain["pct_ge7"]) == (
        approx(100 / 3),
        approx(100 / 3),
        approx(100 / 3),
    )
    # NPRS max 8, 9, 10: mean 9, sd 1
    maximum = table["max_pain_baseline"]
    assert (maximum["n"], maximum["mean"], maximum["sd"]) == (3, approx(9.0), approx(1.0))
    # Paroxysms 2, 4, 10: median 4; Q1 halfway 2-4 = 3, Q3 halfway 4-10 = 7
    assert table["pain_paroxysms_per_day"] == {"n": 3, "median": 4.0, "iqr": [3.0, 7.0]}


def test_hads_bands_and_sf12_use_their_own_denominators():
    table = baseline_table(four_patients(), four_treatments())
    # HADS-A 7, 8, 11: mean 26/3; deviations -5/3, -2/3, 7/3 -> (25+4+49)/9/2 = 13/3
    anxiety = table["hads_anxiety_baseline"]
    assert anxiety["n"] == 3
    assert anxiety["mean"] == approx(26 / 3)
    assert anxiety["sd"] == approx(math.sqrt(13 / 3))
    assert [anxiety[k] for k in ("pct_le7", "pct_8_10", "pct_ge11")] == [approx(100 / 3)] * 3
    # HADS-D 11, 10, 0: mean 7; (16+9+49)/2 = 37; one in each band (0, 10, 11)
    depression = table["hads_depression_baseline"]
    assert (depression["n"], depression["mean"]) == (3, approx(7.0))
    assert depression["sd"] == approx(math.sqrt(37))
    assert [depression[k] for k in ("pct_le7", "pct_8_10", "pct_ge11")] == [approx(100 / 3)] * 3
    # PCS 30, 20, 40 and MCS 40, 50, 60: mean 30 and 50, sd 10
    assert table["sf12_pcs_baseline"] == {"n": 3, "mean": approx(30.0), "sd": approx(10.0)}
    assert table["sf12_mcs_baseline"] == {"n": 3, "mean": approx(50.0), "sd": approx(10.0)}


def test_ketamine_figures_are_over_iv_patients_and_known_answers():
    table = baseline_table(four_patients(), four_treatments())
    # naive True, False, False (p3 unknown): 1/3
    assert table["ketamine_naive_pct"] == approx(100 / 3)
    # 3 of 4 on IV
    assert table["iv_route"] == {"n": 3, "pct": approx(75.0)}
    dose = table["iv_cumulative_dose_mg"]
    # IV doses 280, 281, 667: median 281; Q1 280.5, Q3 halfway 281-667 = 474
    assert (dose["n"], dose["median"], dose["iqr"]) == (3, 281.0, [280.5, 474.0])
    assert dose["quartile_bins_pct"] == {
        "le280": approx(100 / 3),
        "281_444": approx(100 / 3),
        "445_666": 0.0,
        "ge667": approx(100 / 3),
    }
    # IV durations 6, 7, 13: median 7; Q1 6.5, Q3 10
    duration = table["iv_duration_days"]
    assert (duration["median"], duration["iqr"]) == (7.0, [6.5, 10.0])
    assert duration["bins_pct"]["le6"] == approx(100 / 3)
    assert duration["bins_pct"]["10_12"] == 0.0


def test_dose_bins_put_each_edge_on_the_papers_side():
    doses = [280, 281, 444, 445, 666, 667, 1000, 100]
    patients = four_patients().iloc[[0] * len(doses)].reset_index(drop=True)
    patients["patient"] = [f"q{k}" for k in range(len(doses))]
    patients["iv_cumulative_dose_mg"] = doses
    bins = baseline_table(patients, four_treatments())["iv_cumulative_dose_mg"]
    # le280: 100, 280; 281-444: 281, 444; 445-666: 445, 666; ge667: 667, 1000 -> 2/8 each
    assert bins["quartile_bins_pct"] == {k: approx(25.0) for k in bins["quartile_bins_pct"]}
    for dose, expected in [(280, "le280"), (281, "281_444"), (666, "445_666"), (667, "ge667")]:
        patients["iv_cumulative_dose_mg"] = dose
        one = baseline_table(patients, four_treatments())["iv_cumulative_dose_mg"]
        assert one["quartile_bins_pct"][expected] == approx(100.0)


def test_concomitant_drugs_count_classes_once_and_rows_for_the_number():
    table = baseline_table(four_patients(), four_treatments())
    drugs = table["concomitant_baseline_pct"]
    # antidepressant: p1 and p2 -> 2/4; step 3 opioid: p1 -> 1/4; p3 and p4 none -> 2/4
    assert drugs["antidepressant"] == approx(50.0)
    assert drugs["step3_opioid"] == approx(25.0)
    assert drugs["anxiolytic"] == 0.0  # only the unknown patient p9
    assert drugs["none"] == approx(50.0)
    # drug rows at BL: p1 3, p2 1, p3 0, p4 0 -> mean 1; (4+0+1+1)/3 = 2
    assert table["concomitant_treatments_count"] == {
        "mean": approx(1.0),
        "sd": approx(math.sqrt(2)),
    }


def test_format_table_writes_the_papers_text_for_each_column():
    table = format_table(four_patients(), four_treatments())
    assert table["headers"] == {
        "total": "Total (n = 4)",
        "women": "Women (n = 2)",
        "men": "Men (n = 2)",
    }
    rows = {row["label"]: row for row in table["rows"]}
    # ages 40, 50 (women) and 60, 70 (men): sd sqrt(50) = 7.07
    assert rows["Age, mean (SD), y"] == {
        "label": "Age, mean (SD), y",
        "total": "55.0 (12.9)",
        "women": "45.0 (7.1)",
        "men": "65.0 (7.1)",
    }
    # heart: 2 of the 3 listed; women 1 of 2; men 1 of 1 (p4 has no list); a zero count is "0"
    heart = rows["Heart disease"]
    assert (heart["total"], heart["women"], heart["men"]) == ("2 (66.7)", "1 (50.0)", "1 (100.0)")
    assert rows["Cancer"]["total"] == "0"
    # DN4 >= 4 among the women: p2 scored 3, p1 not asked -> 0/1
    assert rows["DN4 ≥4"]["women"] == "0/1"
    assert rows["DN4 ≥4"]["total"] == "2/3 (66.7)"
    assert rows["IV cumulative dose, median (IQR), mg"]["total"] == "281 (280.5-474)"
    assert rows["Antidepressants"]["women"] == "2 (100.0)"


def test_format_table_reproduces_the_papers_rounding():
    base = four_patients().iloc[[0]]
    patients = base.iloc[[0] * 329].reset_index(drop=True)
    patients["patient"] = [f"r{k}" for k in range(329)]
    patients["sex"] = ["F"] * 249 + ["M"] * 80
    # 59 of 329 with heart disease: 17.93 -> "59 (17.9)"
    patients["comorbidities"] = [("heart",)] * 59 + [()] * 270
    rows = {row["label"]: row for row in format_table(patients, four_treatments())["rows"]}
    assert format_table(patients, four_treatments())["headers"]["women"] == "Women (n = 249)"
    assert rows["Heart disease"]["total"] == "59 (17.9)"
    # women: 59 of 249 -> 23.69 -> "59 (23.7)"; men: none -> "0"
    assert (rows["Heart disease"]["women"], rows["Heart disease"]["men"]) == ("59 (23.7)", "0")


def calls_frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient", "timepoint", "call_status"])


def test_adverse_effects_are_over_reached_calls():
    calls = calls_frame(
        [
            ("p1", "W1", "reached"),
            ("p2", "W1", "reached"),
            ("p3", "W1", "unreachable"),
            ("p1", "M1", "reached"),
            ("p2", "M1", "reached"),
            ("p1", "M2", "reached"),
            ("p2", "M2", "refused"),
            ("p1", "M3", "reached"),
            ("p2", "M3", "reached"),
        ]
    )
    events = pd.DataFrame(
        [
            ("p1", "W1", "fatigue", False),
            ("p1", "W1", "nausea", True),
            ("p3", "W1", "fatigue", True),  # call not reached: left out
            ("p2", "M1", "fatigue", False),
            ("p1", "M2", "headache", True),
        ],
        columns=["patient", "timepoint", "type", "serious"],
    )
    result = adverse_effects(events, calls)
    # W1: p1 of the 2 reached; M1: p2 of 2; M2: p1 of 1 reached; M3: 0 of 2
    assert result["w1_any"] == {"n": 1, "of": 2, "pct": approx(50.0)}
    assert result["m1_any"] == {"n": 1, "of": 2, "pct": approx(50.0)}
    rows = {row["timepoint"]: row for row in result["by_timepoint"]}
    assert rows["M2"] == {"timepoint": "M2", "n": 1, "of": 1, "pct": approx(100.0)}
    assert rows["M3"]["pct"] == 0.0
    assert rows["M4"] == {"timepoint": "M4", "n": 0, "of": 0, "pct": None}
    assert result["later_months_any_pct_range"] == [0.0, 100.0]
    # 4 events kept: fatigue 2/4, nausea 1/4, headache 1/4
    assert result["total_events"] == 4
    # Serious: p1's nausea at W1 and headache at M2 (p3's is at a call not reached).
    assert (result["serious_events"], result["serious_patients"]) == (2, 1)
    shares = result["top_pct_of_events"]
    assert next(iter(shares)) == "fatigue"
    assert shares == {"fatigue": 50.0, "nausea": 25.0, "headache": 25.0}


def test_exact_mcnemar_matches_the_binomial_by_hand():
    # b = 5, c = 0: P = 2 * (1/2)^5 = 0.0625
    five = mcnemar_exact([True] * 5 + [False] * 3, [False] * 5 + [False] * 3)
    assert (five["b"], five["c"], five["n_paired"]) == (5, 0, 8)
    assert five["p"] == approx(0.0625)
    # b = 3, c = 1: P(X <= 1 | 4, 1/2) = (1 + 4)/16, two-sided 10/16
    four = mcnemar_exact([True, True, True, False, True], [False, False, False, True, True])
    assert four["p"] == approx(0.625)
    # no discordant pair: P = 1
    assert mcnemar_exact([True, False], [True, False])["p"] == 1.0


def test_concomitant_change_uses_reached_patients_and_pairs():
    calls = calls_frame(
        [(p, "BL", "reached") for p in ("p1", "p2", "p3", "p4")]
        + [(p, "M12", "reached") for p in ("p1", "p2", "p3")]
        + [("p4", "M12", "unreachable")]
    )
    rows = [("p1", "BL"), ("p2", "BL"), ("p4", "BL"), ("p2", "M12"), ("p3", "M12")]
    rows += [("p4", "M12")]  # call not reached: left out
    treatments = pd.DataFrame(
        [(p, t, "drug", "paracetamol_or_nsaid") for p, t in rows]
        + [(p, "BL", "drug", "step3_opioid") for p in ("p1", "p2", "p3")],
        columns=["patient", "timepoint", "kind", "code"],
    )
    result = concomitant_change(treatments, calls, ["paracetamol_or_nsaid", "step3_opioid"])
    para = result["paracetamol_or_nsaid"]
    # BL 3 of 4 reached; M12 2 of 3 reached; paired p1 yes->no, p2 yes->yes, p3 no->yes
    assert (para["baseline"], para["m12"]) == ("3/4", "2/3")
    assert (para["baseline_pct"], para["m12_pct"]) == (approx(75.0), approx(200 / 3))
    assert (para["n_paired"], para["discordant"], para["p"]) == (3, [1, 1], 1.0)
    # step 3 opioid: 3 pairs yes -> no: P = 2 * (1/2)^3 = 0.25
    opioid = result["step3_opioid"]
    assert (opioid["baseline"], opioid["m12"], opioid["p"]) == ("3/4", "0/3", approx(0.25))
    assert "McNemar" in opioid["test"]


def test_every_output_is_strict_json():
    empty_calls = calls_frame([])
    no_events = pd.DataFrame(columns=["patient", "timepoint", "type"])
    patients = four_patients()
    patients.loc[:, "sf12_mcs"] = NAN
    outputs = [
        baseline_table(patients, four_treatments()),
        baseline_table(patients.iloc[:1], four_treatments()),
        adverse_effects(no_events, empty_calls),
        concomitant_change(four_treatments(), empty_calls),
        format_table(patients, four_treatments()),
    ]
    for output in outputs:
        json.dumps(json_ready(output), allow_nan=False)
        json.dumps(output, allow_nan=False)
    assert outputs[0]["sf12_mcs_baseline"] == {"n": 0, "mean": None, "sd": None}
    assert json_ready({"a": np.float64(NAN), "b": [np.int64(2)]}) == {"a": None, "b": [2]}


@pytest.fixture(scope="module")
def demo():
    from demo.synthetic import generate

    return generate(2000, seed=2023)


def demo_inputs(demo) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map the synthetic cohort to the inputs of ``baseline_table``."""
    bl = demo.calls[demo.calls["timepoint"] == "BL"].set_index("study_code")
    odd = [f"hads_{k}" for k in range(1, 15, 2)]
    even = [f"hads_{k}" for k in range(2, 15, 2)]
    hads_a = bl[odd].astype("float64").sum(axis=1, min_count=len(odd))
    hads_d = bl[even].astype("float64").sum(axis=1, min_count=len(even))
    doses = demo.administrations.sort_values(["study_code", "date"], kind="stable")
    first_iv = doses.groupby("study_code")["route"].first() == "iv"
    iv = doses[doses["route"] == "iv"]
    dose = (iv["dose_mg"] * iv["days"]).groupby(iv["study_code"]).sum()
    days = iv["days"].groupby(iv["study_code"]).sum()
    p = demo.patients
    patients = pd.DataFrame(
        {
            "patient": p["study_code"],
            "sex": p["sex"],
            "age": p["age"],
            "comorbidities": p["comorbidities"],
            "etiology": p["etiology"],
            "dn4": p["dn4"].astype("float64"),
            "nprs_mean": p["study_code"].map(bl["nprs_mean"].astype("float64")),
            "nprs_max": p["study_code"].map(bl["nprs_max"].astype("float64")),
            "paroxysms_per_day": p["paroxysms_per_day"].astype("float64"),
            "ketamine_naive": p["ketamine_naive"],
            "iv_route": p["study_code"].map(first_iv).fillna(False).astype(bool),
            "iv_cumulative_dose_mg": p["study_code"].map(dose),
            "iv_duration_days": p["study_code"].map(days),
            "hads_a": p["study_code"].map(hads_a),
            "hads_d": p["study_code"].map(hads_d),
            "sf12_pcs": NAN,
            "sf12_mcs": NAN,
        }
    )
    patients.loc[~patients["iv_route"], ["iv_cumulative_dose_mg", "iv_duration_days"]] = NAN
    treatments = demo.treatments.rename(columns={"study_code": "patient"})
    return patients, treatments


def within_3_se(pct: float, paper: float, n: int) -> bool:
    """Tell whether a percentage is within 3 binomial SE of the paper's."""
    return abs(pct - paper) < 300 * math.sqrt(paper / 100 * (1 - paper / 100) / n)


def test_synthetic_cohort_lands_near_the_paper(demo):
    patients, treatments = demo_inputs(demo)
    table = baseline_table(patients, treatments)
    n = table["n"]
    assert n == 2000
    # mean within 3 SE = 3 * paper SD / sqrt(n)
    assert abs(table["age"]["mean"] - 51.4) < 3 * 11.0 / math.sqrt(n)
    hads_d = table["hads_depression_baseline"]
    assert abs(hads_d["mean"] - 8.9) < 3 * 4.2 / math.sqrt(hads_d["n"])
    # share within 3 binomial SE = 3 * sqrt(p (1 - p) / n), in percent
    for got, paper in [
        (table["women"]["pct"], 75.7),
        (table["etiology_pct"]["fibromyalgia"], 52.6),
    ]:
        assert within_3_se(got, paper, n)
    json.dumps(json_ready(table), allow_nan=False)


def test_synthetic_adverse_effects_land_near_the_paper(demo):
    calls = demo.calls.rename(columns={"study_code": "patient", "status": "call_status"})
    events = demo.adverse_events.rename(columns={"study_code": "patient"})
    result = adverse_effects(events, calls)
    w1 = result["w1_any"]
    assert within_3_se(w1["pct"], 41.4, w1["of"])
    assert within_3_se(result["top_pct_of_events"]["fatigue"], 28.5, result["total_events"])
    assert next(iter(result["top_pct_of_events"])) == "fatigue"
    json.dumps(json_ready(result), allow_nan=False)
