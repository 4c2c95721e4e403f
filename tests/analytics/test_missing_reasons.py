"""Missing outcomes carry their reason into the dataset, the exports and the analyses."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import time_machine

from analytics import dataset
from analytics.exports import dictionary, layouts
from analytics.exports import variables as var
from analytics.exports.services import export_write
from analytics.stats.missingness import missingness_table
from analytics.stats.mixed import locf
from cohort.services import patient_set_status
from demo.loader import demo_load
from demo.synthetic import generate
from followup.services import call_record_attempt, questionnaires_save
from tests.analytics.test_export_formats import read_back
from tests.followup.test_questionnaire_validation import VALID

OUTCOMES = list(dataset.OUTCOMES)


# -- pure: hand-built frames --------------------------------------------------------------------
def _calls(**columns):
    base = {
        "call_status": ["reached", "reached", "unreachable", "closed", "closed", "due"],
        "status": ["lost", "lost", "lost", "lost", "deceased", "active"],
        **{outcome: [1.0, np.nan, np.nan, np.nan, np.nan, np.nan] for outcome in OUTCOMES},
        "nprs_item_reasons": [{}, {"nprs_mean": "refused", "nprs_max": "not_asked"}, None, None,
                              None, None],
        "nprs_reason": ["", "", None, None, None, None],
        "hads_item_reasons": [{}, {"hads_1": "not_applicable", "hads_3": "refused",
                                   "hads_5": "refused"}, None, None, None, None],
        "hads_reason": ["", "", None, None, None, None],
        "sf12_item_reasons": [{}, {}, None, None, None, None],
        "sf12_reason": ["", "not_asked", None, None, None, None],
    }  # fmt: skip
    base.update(columns)
    return pd.DataFrame(base)


def test_each_missing_outcome_gets_its_reason_from_items_or_from_the_call():
    reasons = dataset.outcome_reasons(_calls())
    assert reasons.iloc[0].isna().all(), "observed values carry no reason"
    assert reasons.iloc[1].to_dict() == {
        "nprs_mean_missing_reason": "refused",
        "nprs_max_missing_reason": "not_asked",
        "hads_a_missing_reason": "refused",
        "hads_d_missing_reason": None,
        "sf12_pcs_missing_reason": "not_asked",
        "sf12_mcs_missing_reason": "not_asked",
    }
    assert set(reasons.iloc[2]) == {"unreachable"}
    assert set(reasons.iloc[3]) == {"lost"}
    assert set(reasons.iloc[4]) == {"not_applicable"}
    assert reasons.iloc[5].isna().all(), "a call still due is pending, not missing"


def _long():
    return pd.DataFrame(
        {
            "patient": [1] * 4 + [2] * 4,
            "timepoint": ["BL", "W1", "M1", "M2"] * 2,
            "month": [0.0, 0.25, 1.0, 2.0] * 2,
            "call_status": [
                *("reached", "refused", "closed", "closed"),
                *("reached", "reached", "closed", "due"),
            ],
            "nprs_mean": [6.0, np.nan, np.nan, np.nan, 5.0, 4.0, np.nan, np.nan],
            "nprs_mean_missing_reason": [
                *(None, "refused", "lost", "lost"),
                *(None, None, "not_applicable", None),
            ],
        }
    )


def test_locf_carries_missing_outcomes_forward_but_never_into_not_applicable():
    imputed, carried = locf(_long(), ["nprs_mean"], by="patient")
    assert imputed["nprs_mean"].tolist()[:4] == [6.0, 6.0, 6.0, 6.0], "refused and lost carried"
    assert imputed["nprs_mean"].tolist()[4:6] == [5.0, 4.0]
    assert np.isnan(imputed["nprs_mean"].iloc[6]), "not applicable is not imputed"
    assert imputed["nprs_mean"].iloc[7] == 4.0
    assert carried["nprs_mean"].to_dict() == {"BL": 0, "W1": 1, "M1": 1, "M2": 2}


def test_the_missingness_table_counts_each_reason_per_timepoint():
    table = missingness_table(_long(), ["nprs_mean"], timepoints=["BL", "W1", "M1", "M2"])
    rows = {row["timepoint"]: row for row in table["by_outcome"]["nprs_mean"]}
    assert table["not_missing_data"] == ["not_applicable"]
    assert (rows["W1"]["observed"], rows["W1"]["refused"], rows["W1"]["missing"]) == (1, 1, 1)
    assert rows["W1"]["missing_pct"] == 50.0
    assert (rows["M1"]["lost"], rows["M1"]["not_applicable"]) == (1, 1)
    assert rows["M1"]["missing_pct"] == 100.0, "not applicable leaves the denominator"
    assert (rows["M2"]["lost"], rows["M2"]["pending"], rows["M2"]["missing_pct"]) == (1, 1, 100.0)
    assert rows["BL"]["missing_pct"] == 0.0
    assert all(row["no_reason"] == 0 for row in rows.values())


# -- the database -------------------------------------------------------------------------------
@pytest.fixture
def loaded(db):
    cohort = generate(25, seed=11)
    demo_load(cohort)
    return cohort


@pytest.mark.django_db
def test_the_dataset_gives_the_reasons_the_demo_cohort_was_drawn_with(loaded):
    frame = dataset.build().set_index(["study_id", "timepoint"]).sort_index()
    calls = loaded.calls.set_index(["study_code", "timepoint"]).sort_index()
    # A single blank SF-12 item gives the summaries its own reason.
    one_item = calls["sf12_item_reasons"].map(lambda r: next(iter(r.values())) if r else None)
    drawn = {
        "nprs_mean": calls["nprs_missing_reason"],
        "hads_d": calls["hads_missing_reason"],
        "sf12_pcs": calls["sf12_missing_reason"].fillna(one_item),
    }
    for outcome, expected in drawn.items():
        got = frame[f"{outcome}_missing_reason"].reindex(expected.index)
        assert got.fillna("").tolist() == expected.fillna("").tolist(), outcome
    assert one_item.notna().any()
    assert frame["nprs_mean_missing_reason"].isin(["unreachable", "lost", "refused"]).any()


@pytest.fixture
def recorded(patient_a, nurse_site_a):
    """A patient with a prorated HADS item at M1, a refusal at M2 and lost from M3."""
    with time_machine.travel(dt.datetime(2026, 3, 6, 10, 0, tzinfo=dt.UTC)):
        m1 = patient_a.calls.get(timepoint="M1")
        data = {**VALID, "hads_3": None, "hads_3_missing_reason": "refused",
                "sf12_gh1": None, "sf12_gh1_missing_reason": "not_asked"}  # fmt: skip
        questionnaires_save(
            call=m1, data=data, by=nurse_site_a, complete=True, call_date=dt.date(2026, 2, 5)
        )
        m2 = patient_a.calls.get(timepoint="M2")
        call_record_attempt(call=m2, outcome="refused", by=nurse_site_a)
        patient_set_status(
            patient=patient_a,
            status="lost",
            date=dt.date(2026, 3, 6),
            reason="No answer",
            by=nurse_site_a,
        )
    return patient_a


@pytest.mark.django_db
def test_a_prorated_score_keeps_its_value_and_its_item_keeps_the_reason(recorded):
    frame = layouts.frame("long", items=True).set_index("timepoint")
    m1 = frame.loc["M1"]
    assert m1.hads_a >= 0
    assert m1.hads_a_missing_reason is None
    assert m1.hads_3_missing_reason == "refused"
    assert m1.hads_4_missing_reason is None
    assert m1.sf12_gh1_missing_reason == "not_asked"
    assert (m1.sf12_pcs_missing_reason, m1.sf12_mcs_missing_reason) == ("not_asked", "not_asked")
    assert m1.sf12_missing_reason is None, "the SF-12 is not wholly missing"
    m2, m4 = frame.loc["M2"], frame.loc["M4"]
    assert (m2.nprs_mean_missing_reason, m2.hads_missing_reason, m2.hads_7_missing_reason) == (
        "refused",
        "refused",
        "refused",
    )
    assert (m4.call_status, m4.hads_d_missing_reason, m4.sf12_sf2_missing_reason) == (
        "closed",
        "lost",
        "lost",
    )
    # Baseline was never assessed before the loss: every row repeats why.
    assert frame.loc["BL"].nprs_mean_missing_reason == "lost"
    assert set(frame.hads_d_missing_reason_bl) == {"lost"}


@pytest.mark.django_db
def test_the_wide_and_baseline_layouts_carry_a_reason_per_score(recorded):
    wide = layouts.frame("wide").iloc[0]
    assert wide.hads_d_missing_reason_m2 == "refused"
    assert wide.nprs_mean_missing_reason_m5 == "lost"
    assert wide.sf12_pcs_missing_reason_m1 == "not_asked"
    baseline = layouts.frame("baseline")
    assert set(var.names(var.BASELINE_REASONS)) <= set(baseline.columns)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "dta", "sav", "parquet"])
@pytest.mark.parametrize(
    ("layout", "items"), [("long", True), ("wide", False), ("baseline", False)]
)
def test_every_format_of_every_layout_has_the_reason_columns(
    recorded, tmp_path, fmt, layout, items
):
    path = tmp_path / f"{layout}.{fmt}"
    export_write(layout=layout, fmt=fmt, path=path, by=None, source="command", items=items)
    frame, _ = read_back(path, fmt)
    reasons = [
        v.name for v in var.variables_of(layout, items=items) if v.name.count("missing_reason")
    ]
    assert len(reasons) >= 6
    assert set(reasons) <= set(frame.columns)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["dta", "sav"])
@pytest.mark.parametrize(
    ("layout", "items"), [("long", True), ("wide", False), ("baseline", False)]
)
def test_stata_and_spss_label_the_reason_codes(recorded, tmp_path, fmt, layout, items):
    path = tmp_path / f"{layout}.{fmt}"
    export_write(layout=layout, fmt=fmt, path=path, by=None, source="command", items=items)
    _, labels = read_back(path, fmt)
    reasons = [
        v.name for v in var.variables_of(layout, items=items) if v.name.count("missing_reason")
    ]
    column = "hads_d_missing_reason" if layout == "long" else reasons[0]
    # Codes are 1..k in vocabulary order: refused is 2.
    assert labels["values"][column][2] == "Patient refused"


@pytest.mark.django_db
def test_the_dictionary_describes_every_reason_column():
    frame = dictionary.dictionary_frame()
    described = frame[frame.variable.str.contains("missing_reason")]
    assert {"hads_d_missing_reason", "hads_3_missing_reason", "sf12_pcs_missing_reason_m3",
            "nprs_max_missing_reason_bl"} <= set(described.variable)  # fmt: skip
    assert described.allowed_values.str.contains("not_applicable = Not applicable").all()
