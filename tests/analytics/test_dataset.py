import datetime as dt

import pandas as pd
import pytest

from analytics import dataset
from cohort.models import Patient
from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import FollowUpCall

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
    baseline = frame[frame.timepoint == "BL"].set_index("study_id").hads_d
    assert baseline.notna().sum() > 10  # most patients have a baseline score to copy
    expected = frame.study_id.map(baseline).astype(float)
    # Every row of every patient carries that patient's baseline (missing where it is missing).
    pd.testing.assert_series_equal(frame.baseline_hads_d.astype(float), expected, check_names=False)


def test_iv_route_follows_the_first_administration(loaded):
    frame = dataset.build()
    firsts = loaded.administrations.sort_values("date").groupby("study_code").route.first()
    by_patient = frame.groupby("study_id").iv_route.first()
    assert by_patient.to_dict() == firsts.eq("iv").to_dict()


def test_query_count_does_not_grow_with_patients(django_assert_num_queries):
    demo_load(generate(8, seed=1))
    # Calls, their patients, three response tables, administrations.
    with django_assert_num_queries(6):
        small = dataset.build()
    demo_load(generate(40, seed=1))
    with django_assert_num_queries(6):
        large = dataset.build()
    assert len(large) > len(small)


def test_locf_never_imputes_baseline(loaded):
    frame, counts = dataset.locf(dataset.build())
    missing_baseline = frame[(frame.timepoint == "BL") & frame.nprs_mean.isna()].patient
    assert frame[frame.patient.isin(missing_baseline)].nprs_mean.isna().all()
    assert counts.loc["BL"].eq(0).all()


def _orm_read(monkeypatch):
    """Make ``dataset.read_rows`` take the ORM path whatever the database."""

    def orm_rows(queryset, fields):
        names = dict(fields)
        rows = queryset.values_list(*names)
        return pd.DataFrame.from_records(list(rows), columns=list(names.values()))

    monkeypatch.setattr(dataset, "read_rows", orm_rows)
    # The treatments in the ORM's order (the model's), not sorted by the bulk read's code.
    monkeypatch.setattr(dataset, "_treatment_rows", orm_rows)


def _assert_same_study(left, right):
    for name in ("long", "patients", "treatments", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name), check_exact=True)
    assert left.fingerprint() == right.fingerprint()


def test_bulk_read_gives_the_frames_of_the_orm_read(monkeypatch):
    """The database's own read (COPY on PostgreSQL) gives exactly the ORM's frames."""
    # An ongoing study: some calls still due, some patients withdrawn or lost.
    as_of = dt.date(2017, 6, 1)
    demo_load(generate(40, seed=5, as_of=as_of))
    bulk = dataset.load(as_of=as_of)
    assert len(bulk.long) == 14 * Patient.objects.count()
    assert (~bulk.long["elapsed"]).any()
    # Reasons, JSON lists, nullable booleans and scores all came through.
    assert bulk.long["nprs_mean"].notna().any()
    assert bulk.long["nprs_mean"].isna().any()
    assert bulk.patients["comorbidities"].map(lambda value: isinstance(value, list)).all()
    assert not bulk.adverse_events.empty
    assert not bulk.treatments.empty
    # Calls with several treatments: their order (kind, then code) is the model's.
    per_call = bulk.treatments.groupby(["patient", "timepoint"])
    assert (per_call["kind"].nunique() > 1).any()
    assert (per_call["code"].nunique() > 2).any()
    with monkeypatch.context() as patch:
        _orm_read(patch)
        orm = dataset.load(as_of=as_of)
    _assert_same_study(bulk, orm)


def test_bulk_read_keeps_text_nulls_and_empty_text_apart():
    """A null text is None and an empty text is '' (CSV alone would confuse them)."""
    demo_load(generate(6, seed=2))
    frame = dataset.read_rows(
        FollowUpCall.objects.order_by("pk"),
        {"patient_id": "patient", "nprs__missing_reason": "nprs_reason", "call_date": "call_date"},
    )
    expected = list(
        FollowUpCall.objects.order_by("pk").values_list("patient_id", "nprs__missing_reason")
    )
    stored = [reason for _, reason in expected]
    assert None in stored
    assert "" in stored
    assert frame["nprs_reason"].isna().tolist() == [reason is None for reason in stored]
    read = [None if pd.isna(reason) else reason for reason in frame["nprs_reason"]]
    assert read == stored
    assert frame["patient"].tolist() == [patient for patient, _ in expected]
    assert {type(value) for value in frame["call_date"]} <= {dt.date, type(None)}


def _by_call(frame):
    return frame.sort_values(["patient", "timepoint"], kind="stable").reset_index(drop=True)


def _assert_same_rows(left, right):
    left, right = _by_call(left), _by_call(right)
    pd.testing.assert_frame_equal(left, right, check_exact=True)
    for column in left.columns:
        assert [type(v) for v in left[column]] == [type(v) for v in right[column]], column


@pytest.mark.parametrize("seed", [3, 5, 9])
def test_calls_read_without_joins_give_the_joined_rows(monkeypatch, seed):
    """The calls, patients and responses read apart and aligned: the joined query's rows."""
    as_of = dt.date(2017, 6, 1)  # an ongoing study: calls still due have no responses
    demo_load(generate(30, seed=seed, as_of=as_of))
    some = Patient.objects.filter(pk__in=list(Patient.objects.values_list("pk", flat=True)[:7]))
    for patients in (None, some):
        calls = FollowUpCall.objects.order_by()
        if patients is not None:
            calls = calls.filter(patient__in=patients)
        apart = dataset.call_rows(calls, patients)
        assert apart["nprs_mean"].isna().any()
        assert apart["nprs_item_reasons"].isna().any()
        _assert_same_rows(apart, dataset.read_rows(calls, dataset._CALL_FIELDS))
        with monkeypatch.context() as patch:  # the ORM's values, whatever the database
            _orm_read(patch)
            orm_apart = dataset.call_rows(calls, patients)
            _assert_same_rows(orm_apart, dataset.read_rows(calls, dataset._CALL_FIELDS))
