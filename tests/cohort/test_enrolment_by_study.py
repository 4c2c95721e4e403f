"""The enrolment page and the patients API follow the chosen site's study: the chronic pain
history is asked of the first study's sites and refused for the depression study's."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.roles import Role
from cohort.models import Patient
from tests.api.conftest import SignedInAPIClient
from tests.api.test_patients import ENROLMENT
from tests.cohort.test_patient_pages import _enrolment
from tests.factories import SiteFactory, make_user

pytestmark = pytest.mark.django_db

PAIN = ("etiology", "pain_duration_months", "dn4")
URL = reverse("cohort:patient_new")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture
def site_lan(lan_study):
    return SiteFactory(code="SL", name="Psychiatry L", study=lan_study)


@pytest.fixture
def nurse_lan(site_lan):
    return make_user("nurse_lan", Role.NURSE, [site_lan])


@pytest.fixture
def nurse_both(site_a, site_lan):
    return make_user("nurse_both", Role.NURSE, [site_a, site_lan])


def _without_pain(**overrides):
    data = _enrolment(**overrides)
    for name in PAIN:
        data.pop(f"patient-{name}")
    return data


def test_a_depression_study_nurse_is_not_asked_the_pain_history(client, nurse_lan, site_lan):
    client.force_login(nurse_lan)
    page = client.get(URL)
    assert page.status_code == 200
    assert b"patient-etiology" not in page.content
    assert b"patient-pain_duration_months" not in page.content
    response = client.post(URL, _without_pain(**{"patient-site": site_lan.pk}))
    assert response.status_code == 302, response.context["form"].errors
    patient = Patient.objects.get()
    assert (patient.site, patient.etiology, patient.pain_duration_months) == (site_lan, "", None)
    assert patient.dn4_missing_reason == ""


def test_with_sites_of_both_studies_the_site_decides_what_is_asked(client, nurse_both, site_lan):
    client.force_login(nurse_both)
    page = client.get(URL)
    # Every field is on the page; the site's select names the sites asking the pain history.
    assert b"patient-etiology" in page.content
    assert page.context["form"].pain_history_mixed
    assert page.context["form"].fields["site"].widget.attrs["data-pain-history-sites"] == str(
        nurse_both.sites.get(code="SA").pk
    )
    response = client.post(URL, _without_pain(**{"patient-site": site_lan.pk}))
    assert response.status_code == 302, response.context["form"].errors
    assert Patient.objects.get().site == site_lan


def test_pain_history_given_for_a_depression_site_is_refused_and_what_was_typed_is_kept(
    client, nurse_both, site_lan
):
    client.force_login(nurse_both)
    response = client.post(URL, _enrolment(**{"patient-site": site_lan.pk}))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(PAIN) <= set(errors)
    assert "does not collect the pain history" in errors["etiology"][0]
    for typed in (b'value="Durand"', b'value="18"', b'value="6"', b'value="crps" selected'):
        assert typed in response.content
    assert not Patient.objects.exists()


def test_a_pain_site_chosen_among_both_studies_still_requires_the_pain_history(
    client, nurse_both, site_a
):
    client.force_login(nurse_both)
    response = client.post(URL, _without_pain(**{"patient-site": site_a.pk}))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"etiology", "pain_duration_months"} <= set(errors)
    assert b'value="Durand"' in response.content
    response = client.post(URL, _enrolment(**{"patient-site": site_a.pk}))
    assert response.status_code == 302
    assert Patient.objects.get().etiology == "crps"


def _api(user):
    client = SignedInAPIClient()
    client.force_login(user)
    return client


def _lan_body(site):
    body = {**ENROLMENT, "site": site.pk}
    for name in PAIN:
        body.pop(name)
    body["first_administration"] = {**body["first_administration"], "dose_value": "0.5"}
    return body


def test_the_api_enrols_a_depression_study_patient_without_pain_history(nurse_both, site_lan):
    response = _api(nurse_both).post("/api/v1/patients/", _lan_body(site_lan), format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["study"], response.json()["etiology"]) == ("LAN2022", "")


@pytest.mark.parametrize("field", PAIN)
def test_the_api_refuses_pain_history_for_a_depression_site_with_the_field_named(
    nurse_both, site_lan, field
):
    body = _lan_body(site_lan) | {field: ENROLMENT[field]}
    response = _api(nurse_both).post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert "does not collect the pain history" in response.json()[field][0]
    assert not Patient.objects.exists()


def test_the_api_requires_the_pain_history_for_the_first_study(nurse_both, site_a):
    body = _lan_body(site_a)
    response = _api(nurse_both).post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert {"etiology", "pain_duration_months"} <= set(response.json())
    assert not Patient.objects.exists()


@pytest.fixture
def lan_aged_21_to_65(monkeypatch):
    """The second study's definition, asking for patients aged 21 to 65."""
    import dataclasses

    from cohort import studies
    from trials import definitions

    lan = definitions.load("lan2022")
    narrowed = dataclasses.replace(lan, eligibility=definitions.Eligibility(21, 65))
    monkeypatch.setattr(
        studies, "load", lambda key: narrowed if key == "lan2022" else definitions.load(key)
    )


@pytest.mark.parametrize(("age", "message"), [(19, "21 or older"), (70, "65 or younger")])
def test_the_study_definition_s_ages_decide_eligibility(
    nurse_both, site_lan, lan_aged_21_to_65, age, message
):
    body = _lan_body(site_lan) | {"age": age}
    response = _api(nurse_both).post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["age"][0]
    assert (
        _api(nurse_both).post("/api/v1/patients/", body | {"age": 40}, format="json").status_code
        == 201
    )


def test_the_first_study_keeps_its_age_rule(client, nurse_both, site_a, lan_aged_21_to_65):
    client.force_login(nurse_both)
    response = client.post(URL, _enrolment(**{"patient-site": site_a.pk, "patient-age": "19"}))
    assert response.status_code == 302
    response = client.post(URL, _enrolment(**{"patient-site": site_a.pk, "patient-age": "17"}))
    assert response.context["form"].errors["age"] == ["Patients must be 18 or older."]
