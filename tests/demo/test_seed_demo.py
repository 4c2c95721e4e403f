import datetime as dt
import json

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from cohort.models import KetamineAdministration, Patient, PatientContact, Site, dose_in_mg
from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import (
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    FollowUpCall,
    HadsResponse,
    NprsResponse,
    Sf12Response,
)
from tests.factories import enrol

pytestmark = pytest.mark.django_db

N = 40


@pytest.fixture
def cohort():
    return generate(N, seed=3)


def test_demo_cohort_loads_every_row(cohort):
    report = demo_load(cohort)
    assert Patient.objects.count() == N == report.counts["patients"]
    assert PatientContact.objects.count() == N
    assert FollowUpCall.objects.count() == len(cohort.calls)
    assert CallAttempt.objects.count() == len(cohort.attempts)
    assert KetamineAdministration.objects.count() == len(cohort.administrations)
    assert AdverseEvent.objects.count() == len(cohort.adverse_events)
    assert ConcomitantTreatment.objects.count() == len(cohort.treatments)
    assert set(Site.objects.values_list("is_demo", flat=True)) == {True}


def test_rerun_replaces_the_demo_study_and_spares_real_patients(cohort, nurse_site_a, site_a):
    real = enrol(site_a, by=nurse_site_a)
    demo_load(cohort)
    demo_load(generate(N // 2, seed=4))
    assert Patient.objects.filter(site__is_demo=True).count() == N // 2
    assert Patient.objects.filter(pk=real.pk).exists()
    assert FollowUpCall.objects.filter(patient=real).count() == 14
    demo_calls = FollowUpCall.objects.filter(patient__site__is_demo=True).count()
    assert demo_calls == len(generate(N // 2, seed=4).calls)


def _spread(rows, size):
    """About ``size`` rows spread evenly over the table in primary-key order (a fixed sample)."""
    pks = list(rows.order_by("pk").values_list("pk", flat=True))
    step = max(1, len(pks) // size)
    return list(rows.filter(pk__in=pks[::step][:size]).order_by("pk"))


def test_loaded_rows_pass_the_model_validation(cohort):
    demo_load(cohort)
    for model in (
        Patient,
        PatientContact,
        KetamineAdministration,
        FollowUpCall,
        CallAttempt,
        NprsResponse,
        HadsResponse,
        Sf12Response,
        AdverseEvent,
        ConcomitantTreatment,
    ):
        sample = _spread(model.objects.all(), 25)
        assert sample, model.__name__
        problems = {}
        for row in sample:
            try:
                row.full_clean()
            except ValidationError as error:
                problems[f"{model.__name__} {row.pk}"] = error.message_dict
        assert problems == {}


def test_loaded_items_keep_their_order_and_scores(cohort):
    demo_load(cohort)
    calls = cohort.calls.set_index(["study_code", "timepoint"])
    for response in HadsResponse.objects.select_related("call__patient")[:60]:
        expected = calls.loc[(response.call.patient.study_code, response.call.timepoint)]
        for n in range(1, 15):
            value = expected[f"hads_{n}"]
            assert getattr(response, f"item_{n}") == (None if pd.isna(value) else int(value))
        stored = (response.anxiety, response.depression)
        response.compute_scores()
        assert stored == (response.anxiety, response.depression)
    for response in Sf12Response.objects.exclude(pcs=None)[:60]:
        stored = (response.pcs, response.mcs)
        response.compute_scores()
        assert stored == pytest.approx((response.pcs, response.mcs))


def test_cumulative_dose_follows_the_generated_doses(cohort):
    demo_load(cohort)
    code = cohort.administrations.study_code.iloc[0]
    rows = cohort.administrations[cohort.administrations.study_code == code]
    generated = float((rows.dose_mg * rows.days).sum())
    stored = float(Patient.objects.get(study_code=code).cumulative_dose_mg())
    # The loader converts mg/kg with the app's rule (2 decimals); the generator rounds to 0.1 mg.
    assert stored == pytest.approx(generated, abs=0.06 * rows.days.sum())


def test_identifiers_of_demo_patients_are_encrypted(cohort):
    demo_load(cohort)
    first = cohort.patients.iloc[0]
    contact = PatientContact.objects.get(patient__study_code=first.study_code)
    assert contact.last_name == first.last_name


def test_demo_codes_used_by_a_real_site_are_refused(cohort):
    Site.objects.create(code="S01", name="A real clinic")
    with pytest.raises(ValueError, match="real sites"):
        demo_load(cohort)
    assert not Patient.objects.exists()


def test_seed_demo_command_writes_the_truth_and_skips_when_loaded(tmp_path):
    truth = tmp_path / "truth.json"
    call_command("seed_demo", "--patients", "12", "--seed", "1", "--truth", str(truth), stdout=None)
    assert json.loads(truth.read_text())["n_patients"] == 12
    call_command("seed_demo", "--patients", "30", "--if-empty", stdout=None)
    assert Patient.objects.exclude(site__study__code="LAN2022").count() == 12


def test_seed_demo_as_of_leaves_calls_due(tmp_path):
    call_command("seed_demo", "--patients", "30", "--as-of", "2017-03-01", stdout=None)
    assert FollowUpCall.objects.filter(status="due").exists()
    assert not FollowUpCall.objects.filter(status="reached", call_date__gt=dt.date(2017, 3, 1))


def test_seed_demo_refuses_zero_patients():
    with pytest.raises(CommandError):
        call_command("seed_demo", "--patients", "0")


def test_loaded_doses_follow_the_app_conversion(cohort):
    demo_load(cohort)
    for unit in ("mg", "mg_per_kg"):
        rows = KetamineAdministration.objects.filter(dose_unit=unit).select_related("patient")
        sample = _spread(rows, 40)
        assert sample
        for row in sample:
            daily = dose_in_mg(unit=row.dose_unit, value=row.dose_value, weight_kg=row.weight_kg)
            assert row.dose_mg == daily
            assert row.total_mg == daily * row.days
            assert row.weight_kg == row.patient.weight_kg


def test_a_load_that_fails_midway_leaves_no_rows(cohort):
    attempts = cohort.attempts.copy()
    attempts.loc[attempts.index[-1], "study_code"] = "S99-9999"
    broken = type(cohort)(**{**vars(cohort), "attempts": attempts})
    with pytest.raises(ValueError, match="missing from the cohort"):
        demo_load(broken)
    assert not Patient.objects.exists()
    assert not FollowUpCall.objects.exists()
    demo_load(cohort)
    assert CallAttempt.objects.count() == len(cohort.attempts)


def test_ongoing_demo_leaves_patients_in_follow_up_with_calls_to_make_today():
    import datetime as dt

    from django.utils import timezone

    call_command("seed_demo", patients=60, ongoing=True, verbosity=0)
    today = timezone.localdate()
    assert Patient.objects.filter(inclusion_date__gt=today - dt.timedelta(days=365)).exists()
    open_calls = FollowUpCall.objects.filter(status="due", patient__status="active")
    assert open_calls.filter(target_date__gt=today).exists()
    assert open_calls.filter(target_date__lte=today + dt.timedelta(days=30)).exists()
    assert not FollowUpCall.objects.filter(call_date__gt=today).exists()


@pytest.mark.django_db(transaction=True)
def test_after_loading_postgresql_knows_the_new_row_counts():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    demo_load(generate(20, seed=5))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'followup_followupcall'")
        (estimate,) = cursor.fetchone()
    assert estimate == FollowUpCall.objects.count()
