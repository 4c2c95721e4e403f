import pandas as pd
import pytest

from analytics import dataset
from cohort.demo import generate
from cohort.demo_loader import demo_load
from cohort.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    cohort = generate(25, seed=11)
    demo_load(cohort)
    return cohort


def test_one_row_per_patient_and_timepoint(loaded):
    frame = dataset.build()
    assert len(frame) == len(loaded.calls)
    assert frame.groupby("study_id").size().eq(14).all()
    assert list(frame.columns) == list(dataset.COLUMNS)
    assert frame.loc[frame.timepoint == "W1", "month"].eq(0.25).all()


def test_values_are_those_recorded(loaded):
    frame = dataset.build().set_index(["study_id", "timepoint"])
    calls = loaded.calls.set_index(["study_code", "timepoint"])
    recorded = calls["nprs_mean"].astype("Float64").astype(float)
    pd.testing.assert_series_equal(
        frame.loc[recorded.index, "nprs_mean"], recorded, check_names=False
    )
    reached = calls.index[calls.status == "reached"]
    assert frame.loc[reached, "call_status"].eq("reached").all()


def test_cumulative_dose_counts_administrations_up_to_the_call(loaded):
    frame = dataset.build()
    row = frame[(frame.timepoint == "M6") & frame.call_date.notna()].iloc[0]
    patient = Patient.objects.get(study_code=row.study_id)
    expected = float(patient.cumulative_dose_mg(on=row.call_date.date()))
    assert row.cumulative_dose_mg == pytest.approx(expected)
    per_patient = frame.groupby("study_id").cumulative_dose_mg
    assert (per_patient.diff().fillna(0) >= 0).all()


def test_baseline_values_are_copied_to_every_row(loaded):
    frame = dataset.build()
    first = frame[frame.study_id == frame.study_id.iloc[0]]
    baseline = first.loc[first.timepoint == "BL", "hads_d"].iloc[0]
    if pd.isna(baseline):
        assert first.baseline_hads_d.isna().all()
    else:
        assert first.baseline_hads_d.eq(baseline).all()


def test_iv_route_follows_the_first_administration(loaded):
    frame = dataset.build()
    firsts = loaded.administrations.sort_values("date").groupby("study_code").route.first()
    by_patient = frame.groupby("study_id").iv_route.first()
    assert by_patient.to_dict() == firsts.eq("iv").to_dict()


def test_query_count_does_not_grow_with_patients(django_assert_num_queries):
    demo_load(generate(8, seed=1))
    with django_assert_num_queries(2):
        small = dataset.build()
    demo_load(generate(40, seed=1))
    with django_assert_num_queries(2):
        large = dataset.build()
    assert len(large) > len(small)


def test_locf_never_imputes_baseline(loaded):
    frame, counts = dataset.locf(dataset.build())
    missing_baseline = frame[(frame.timepoint == "BL") & frame.nprs_mean.isna()].patient
    assert frame[frame.patient.isin(missing_baseline)].nprs_mean.isna().all()
    assert counts.loc["BL"].eq(0).all()
