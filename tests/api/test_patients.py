"""Patients through the API: identifiers for site staff only, enrolment, status, paging, filters."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cohort.models import Patient
from tests.factories import enrol

pytestmark = pytest.mark.django_db

SECRETS = ("Jeanne", "Martin", "+33 4 73 00 00 00")


def test_nurses_and_clinicians_see_the_contact_of_their_sites_patients(api, patient_a):
    for persona in ("nurse_site_a", "clinician_site_a"):
        body = api(persona).get(f"/api/v1/patients/{patient_a.pk}/").json()
        assert body["contact"]["last_name"] == "Martin"
        assert body["contact"]["phone"] == "+33 4 73 00 00 00"


@pytest.mark.parametrize("persona", ["statistician", "data_manager"])
def test_identifiers_are_never_shown_to_statisticians_or_data_managers(api, persona, patient_a):
    patient_a.status_reason = "Moved in with her daughter Jeanne Martin"
    patient_a.save()
    client = api(persona)
    for url in (
        "/api/v1/patients/",
        f"/api/v1/patients/{patient_a.pk}/",
        "/api/v1/calls/",
        f"/api/v1/calls/{patient_a.calls.get(timepoint='BL').pk}/",
    ):
        text = client.get(url).content.decode()
        for secret in SECRETS:
            assert secret not in text, (url, secret)
    body = client.get(f"/api/v1/patients/{patient_a.pk}/").json()
    assert "contact" not in body
    assert "status_reason" not in body


def test_patient_list_shows_the_cumulative_dose(api, patient_a):
    from cohort.services import administration_record

    for start, dose in ((0, 50), (2, 25)):
        administration_record(
            patient=patient_a, date=patient_a.inclusion_date + dt.timedelta(days=start),
            route="iv", dose_unit="mg", dose_value=dose, days=2, by=None,
        )  # fmt: skip
    body = api("statistician").get("/api/v1/patients/").json()
    assert body["results"][0]["cumulative_dose_mg"] == "150.00"


def test_patient_list_runs_the_same_queries_whatever_the_number_of_patients(
    api, site_a, nurse_site_a
):
    client = api("nurse_site_a")
    enrol(site_a, by=nurse_site_a)
    client.get("/api/v1/patients/")  # warm the session and the user's roles
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/patients/")
    for _ in range(3):
        enrol(site_a, by=nurse_site_a)
    with CaptureQueriesContext(connection) as four:
        body = client.get("/api/v1/patients/").json()
    assert body["count"] == 4
    assert len(four) == len(one)


def test_patients_are_paged_and_the_page_size_is_capped(api, site_a, nurse_site_a):
    for _ in range(3):
        enrol(site_a, by=nurse_site_a)
    client = api("statistician")
    first = client.get("/api/v1/patients/", {"page_size": 2}).json()
    assert (first["count"], len(first["results"])) == (3, 2)
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    huge = client.get("/api/v1/patients/", {"page_size": 100000})
    assert huge.status_code == 200


def test_patients_are_filtered_by_site_status_and_study_code(api, patient_a, patient_b):
    client = api("statistician")

    def codes(**params):
        return [p["study_code"] for p in client.get("/api/v1/patients/", params).json()["results"]]

    assert codes(site="SB") == [patient_b.study_code]
    assert codes(search=patient_a.study_code[-4:], site="SA") == [patient_a.study_code]
    assert codes(status="withdrawn") == []
    assert codes(status="active") == [patient_a.study_code, patient_b.study_code]
    bad = client.get("/api/v1/patients/", {"status": "asleep"})
    assert bad.status_code == 400
    assert "status" in bad.json()


ENROLMENT = {
    "sex": "F",
    "age": 45,
    "inclusion_date": "2026-03-02",
    "consent_date": "2026-03-01",
    "weight_kg": "64.5",
    "etiology": "crps",
    "pain_duration_months": 18,
    "first_name": "Alice",
    "last_name": "Durand",
    "phone": "06 00 00 00 01",
    "comorbidities": ["migraine"],
    "dn4": 6,
    "first_administration": {
        "date": "2026-03-02",
        "route": "iv",
        "dose_unit": "mg_per_kg",
        "dose_value": "1",
        "days": 3,
    },
}


def test_a_nurse_enrols_a_patient_of_her_site_with_the_first_administration(
    api, site_a, nurse_site_a
):
    response = api("nurse_site_a").post(
        "/api/v1/patients/", {**ENROLMENT, "site": site_a.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["study_code"] == "SA-0001"
    assert body["contact"]["first_name"] == "Alice"
    assert body["cumulative_dose_mg"] == "193.50"
    patient = Patient.objects.get(pk=body["id"])
    assert patient.calls.count() == 14
    assert patient.history.first().history_user == nurse_site_a


def test_enrolment_refuses_another_site_and_ineligible_patients_with_field_errors(
    api, site_a, site_b
):
    client = api("nurse_site_a")
    other_site = client.post("/api/v1/patients/", {**ENROLMENT, "site": site_b.pk}, format="json")
    assert other_site.status_code == 400
    assert "site" in other_site.json()
    ineligible = client.post(
        "/api/v1/patients/",
        {**ENROLMENT, "site": site_a.pk, "age": 17, "pain_duration_months": 3},
        format="json",
    )
    assert ineligible.status_code == 400
    assert {"age", "pain_duration_months"} <= set(ineligible.json())
    fibromyalgia = client.post(
        "/api/v1/patients/",
        {**ENROLMENT, "site": site_a.pk, "etiology": "fibromyalgia", "dn4": 4},
        format="json",
    )
    assert fibromyalgia.status_code == 400
    assert "dn4" in fibromyalgia.json()
    assert not Patient.objects.exists()


def test_a_data_manager_enrols_but_does_not_get_the_identifiers_back(api, site_a):
    response = api("data_manager").post(
        "/api/v1/patients/", {**ENROLMENT, "site": site_a.pk}, format="json"
    )
    assert response.status_code == 201
    assert "contact" not in response.json()
    assert "Alice" not in response.content.decode()


def test_leaving_the_follow_up_closes_the_open_calls(api, patient_a):
    client = api("nurse_site_a")
    url = f"/api/v1/patients/{patient_a.pk}/status/"
    missing_reason = client.post(url, {"status": "withdrawn", "date": "2026-03-01"})
    assert missing_reason.status_code == 400
    assert "status_reason" in missing_reason.json()
    response = client.post(url, {"status": "withdrawn", "date": "2026-03-01", "reason": "Tired"})
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert not patient_a.calls.filter(status="due").exists()


def test_the_page_size_setting_sets_the_default_page(api, site_a, nurse_site_a, settings):
    for _ in range(4):
        enrol(site_a, by=nurse_site_a)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 3}
    client = api("statistician")
    first = client.get("/api/v1/patients/").json()
    assert (first["count"], len(first["results"])) == (4, 3)
    assert len(client.get(first["next"]).json()["results"]) == 1
    # ?page_size= still asks for another size.
    assert len(client.get("/api/v1/patients/", {"page_size": 2}).json()["results"]) == 2
