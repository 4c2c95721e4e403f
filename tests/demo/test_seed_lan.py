"""seed_demo's second study: the synthetic Lan et al. 2022 trial, complete or ongoing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics import lan_dataset
from cohort.models import KetamineAdministration, Patient
from demo.loader import demo_load
from demo.loader.lan import lan_demo, split_total
from demo.synthetic import generate
from followup.models import (
    AdverseEvent,
    DepressionBaseline,
    FollowUpCall,
    MadrsAssessment,
    SfMpqAssessment,
)

pytestmark = pytest.mark.django_db


def lan_patients():
    return Patient.objects.filter(site__study__code="LAN2022")


def test_split_totals_add_up_within_the_item_range():
    rng = np.random.default_rng(1)
    totals = np.array([0, 1, 17, 32, 33])
    items = split_total(rng, totals, 11, 3)
    assert items.shape == (5, 11)
    assert (items.sum(axis=1) == totals).all()
    assert items.min() >= 0
    assert items.max() <= 3
    with pytest.raises(ValueError, match="out of the instrument's range"):
        split_total(rng, np.array([34]), 11, 3)


def test_seed_demo_loads_the_second_study_beside_the_first_and_replaces_it_on_rerun():
    call_command("seed_demo", "--patients", "5", stdout=None)
    first = lan_dataset.load(Patient.objects.all(), as_of=dt.date(2030, 1, 1)).fingerprint()
    call_command("seed_demo", "--patients", "5", stdout=None)
    assert lan_patients().count() == 104
    assert Patient.objects.exclude(site__study__code="LAN2022").count() == 5
    site = lan_patients().first().site
    assert (site.name, site.study.definition, site.is_demo) == (
        "Guangzhou Brain Hospital", "lan2022", True
    )  # fmt: skip
    assert DepressionBaseline.objects.count() == 104
    # Deterministic: the same seed gives the same data.
    again = lan_dataset.load(Patient.objects.all(), as_of=dt.date(2030, 1, 1)).fingerprint()
    assert again == first


def test_a_complete_second_study_has_every_visit_and_infusion_of_the_trial():
    demo = lan_demo(2)
    demo_load(generate(3, seed=1), lan=demo)
    trial = demo.trial
    assert lan_patients().filter(status="completed").count() == 104
    assert not FollowUpCall.objects.filter(patient__in=lan_patients(), status="due").exists()
    assert MadrsAssessment.objects.count() == trial.visits["madrs"].notna().sum()
    assert KetamineAdministration.objects.filter(patient__in=lan_patients()).count() == 104 * 6
    assert SfMpqAssessment.objects.filter(visit_code="BL").count() == 104
    calls = FollowUpCall.objects.filter(patient__in=lan_patients())
    assert AdverseEvent.objects.filter(call__in=calls).count() == len(trial.adverse)


def test_seeded_rows_pass_the_app_s_own_validation_and_scores():
    demo_load(generate(3, seed=1), lan=lan_demo(2))
    for row in MadrsAssessment.objects.all()[:50]:
        stored = row.total
        row.full_clean()
        row.compute_scores()
        assert row.total == stored == sum(row.answers().values())
    for row in SfMpqAssessment.objects.all()[:50]:
        stored = (row.sensory, row.affective, row.total)
        row.full_clean()
        row.compute_scores()
        assert (row.sensory, row.affective, row.total) == stored
    for model in (DepressionBaseline, KetamineAdministration):
        for row in model.objects.filter(patient__in=lan_patients())[:20]:
            row.full_clean()
    for patient in lan_patients()[:20]:
        patient.full_clean()
        assert (patient.etiology, patient.pain_duration_months) == ("", None)


def test_an_ongoing_second_study_has_part_of_its_patients_mid_course_and_nothing_after_today():
    call_command("seed_demo", "--patients", "5", "--ongoing", "--without-second-study", stdout=None)
    assert not lan_patients().exists()
    call_command("seed_demo", "--patients", "5", "--ongoing", stdout=None)
    today = timezone.localdate()
    patients = lan_patients()
    active = patients.filter(status="active")
    assert 3 <= active.count() <= 20
    assert patients.filter(status="completed").exists()
    assert FollowUpCall.objects.filter(patient__in=active, status="due").exists()
    assert not MadrsAssessment.objects.filter(assessed_on__gt=today).exists()
    assert not KetamineAdministration.objects.filter(patient__in=patients, date__gt=today)
    assert not FollowUpCall.objects.filter(patient__in=patients, call_date__gt=today).exists()


def test_the_quality_rules_leave_the_second_study_alone_and_a_reload_removes_the_queries():
    from quality.models import Query
    from quality.services import rules_run

    demo_load(generate(30, seed=1), lan=lan_demo(2))
    rules_run()
    assert Query.objects.exists()
    assert not Query.objects.filter(patient__in=lan_patients()).exists()
    demo_load(generate(30, seed=1), lan=lan_demo(2))
    assert not Query.objects.exists()
