"""The depression study's baseline and the enrolment of a patient without pain history."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from followup.models import DepressionBaseline
from followup.services import depression_baseline_save
from tests.factories import SiteFactory, enrol, set_up

pytestmark = pytest.mark.django_db

VALUES = {
    "pain_group": "severe",
    "suicidality": True,
    "antidepressants": 2,
    "mood_stabilisers": False,
    "benzodiazepines": True,
    "antipsychotics": False,
}


@pytest.fixture
def site_lan(lan_study):
    return SiteFactory(code="SL", name="Psychiatry L", study=lan_study)


def test_a_depression_study_patient_is_enrolled_without_any_pain_history(site_lan, nurse_site_a):
    patient = enrol(site_lan, by=nurse_site_a)
    patient.refresh_from_db()
    assert (patient.etiology, patient.pain_duration_months, patient.dn4) == ("", None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [("etiology", "fibromyalgia"), ("pain_duration_months", 24), ("dn4", 5)],
)
def test_pain_history_given_to_a_study_that_does_not_collect_it_is_refused(
    site_lan, nurse_site_a, field, value
):
    with pytest.raises(ValidationError) as refused:
        enrol(site_lan, by=nurse_site_a, **{field: value})
    assert "does not collect the pain history" in str(refused.value.message_dict[field])


def test_the_first_study_still_requires_the_pain_history(site_a, nurse_site_a):
    with pytest.raises(ValidationError) as refused:
        enrol(site_a, by=nurse_site_a, etiology="", pain_duration_months=None)
    assert set(refused.value.message_dict) >= {"etiology", "pain_duration_months"}


def test_the_baseline_is_recorded_then_corrected_with_a_reason_and_kept_in_history(
    site_lan, nurse_site_a
):
    with set_up():
        patient = enrol(site_lan, by=nurse_site_a)
    row = depression_baseline_save(patient=patient, by=nurse_site_a, **VALUES)
    assert (row.pain_group, row.version, row.two_or_more_antidepressants) == ("severe", 1, True)
    with pytest.raises(ValidationError, match="reason"):
        depression_baseline_save(
            patient=patient, by=nurse_site_a, **VALUES | {"antidepressants": 1}
        )
    row = depression_baseline_save(
        patient=patient, by=nurse_site_a, reason="Typo", **VALUES | {"antidepressants": 1}
    )
    assert (row.antidepressants, row.version) == (1, 2)
    assert DepressionBaseline.objects.count() == 1
    reasons = list(
        row.history.order_by("history_date").values_list("history_change_reason", flat=True)
    )
    assert reasons == ["Depression baseline recorded", "Typo"]


def test_every_problem_of_the_baseline_is_reported_at_once(site_lan, nurse_site_a):
    with set_up():
        patient = enrol(site_lan, by=nurse_site_a)
    bad = VALUES | {"pain_group": "moderate", "antidepressants": -1, "suicidality": None}
    with pytest.raises(ValidationError) as refused:
        depression_baseline_save(patient=patient, by=nurse_site_a, **bad)
    assert set(refused.value.message_dict) == {"pain_group", "antidepressants", "suicidality"}
    assert not DepressionBaseline.objects.exists()


def test_the_baseline_is_refused_for_a_patient_of_the_first_study(site_a, nurse_site_a):
    with set_up():
        patient = enrol(site_a, by=nurse_site_a)
    with pytest.raises(ValidationError, match="does not collect a depression baseline"):
        depression_baseline_save(patient=patient, by=nurse_site_a, **VALUES)


def test_the_database_refuses_an_unknown_pain_group(site_lan, nurse_site_a):
    with set_up():
        patient = enrol(site_lan, by=nurse_site_a)
    row = depression_baseline_save(patient=patient, by=nurse_site_a, **VALUES)
    table = DepressionBaseline._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET pain_group = 'medium' WHERE id = %s", [row.pk])


FORM = {
    "pain_group": "mild",
    "suicidality": "no",
    "antidepressants": "1",
    "mood_stabilisers": "yes",
    "benzodiazepines": "no",
    "antipsychotics": "no",
}


def _url(patient):
    from django.urls import reverse

    return reverse("followup:depression_baseline", args=[patient.pk])


def test_a_nurse_records_the_baseline_on_its_page_linked_from_the_patient_file(
    client, site_lan, nurse_site_a
):
    from django.urls import reverse

    nurse_site_a.sites.add(site_lan)
    with set_up():
        patient = enrol(site_lan, by=nurse_site_a)
    client.force_login(nurse_site_a)
    detail = client.get(reverse("cohort:patient_detail", args=[patient.pk])).content.decode()
    assert _url(patient) in detail
    response = client.post(_url(patient), FORM)
    assert response.status_code == 302
    row = DepressionBaseline.objects.get(patient=patient)
    assert (row.pain_group, row.suicidality, row.antidepressants, row.mood_stabilisers) == (
        "mild", False, 1, True
    )  # fmt: skip
    page = client.get(_url(patient)).content.decode()
    assert 'name="reason"' in page
    refused = client.post(_url(patient), FORM | {"antidepressants": "3", "version": "1"})
    assert refused.status_code == 400
    saved = client.post(
        _url(patient), FORM | {"antidepressants": "3", "version": "1", "reason": "Chart"}
    )
    assert saved.status_code == 302
    row.refresh_from_db()
    assert (row.antidepressants, row.version) == (3, 2)


def test_an_unanswered_question_is_refused_and_nothing_is_stored(client, site_lan, nurse_site_a):
    nurse_site_a.sites.add(site_lan)
    with set_up():
        patient = enrol(site_lan, by=nurse_site_a)
    client.force_login(nurse_site_a)
    response = client.post(_url(patient), {k: v for k, v in FORM.items() if k != "suicidality"})
    assert response.status_code == 400
    assert "suicidality" in response.context["form"].errors
    assert not DepressionBaseline.objects.exists()


def test_the_page_does_not_exist_for_the_first_study_or_another_site(
    client, site_a, site_lan, nurse_site_a, nurse_site_b
):
    from django.urls import reverse

    nurse_site_a.sites.add(site_lan)
    with set_up():
        first = enrol(site_a, by=nurse_site_a)
        lan = enrol(site_lan, by=nurse_site_a)
    client.force_login(nurse_site_a)
    assert client.get(_url(first)).status_code == 404
    detail = client.get(reverse("cohort:patient_detail", args=[first.pk])).content.decode()
    assert "depression-baseline" not in detail
    client.force_login(nurse_site_b)
    assert client.get(_url(lan)).status_code == 404


def test_the_baseline_and_its_correction_are_in_the_patient_s_audit_trail(
    client, site_lan, nurse_site_a
):
    from django.urls import reverse

    nurse_site_a.sites.add(site_lan)
    with set_up():
        patient = enrol(site_lan, by=nurse_site_a)
    depression_baseline_save(patient=patient, by=nurse_site_a, **VALUES)
    depression_baseline_save(
        patient=patient, by=nurse_site_a, reason="Chart reread", **VALUES | {"antidepressants": 1}
    )
    client.force_login(nurse_site_a)
    page = client.get(reverse("cohort:patient_history", args=[patient.pk])).content.decode()
    assert "Depression baseline" in page
    assert "Chart reread" in page
