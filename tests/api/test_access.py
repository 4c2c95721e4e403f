"""Every endpoint for every role: who reads, who writes, and that other sites do not exist."""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import PERSONAS

pytestmark = pytest.mark.django_db

READ_ENDPOINTS = [
    "/api/v1/sites/",
    "/api/v1/patients/",
    "/api/v1/administrations/",
    "/api/v1/calls/",
    "/api/v1/adverse-events/",
    "/api/v1/treatments/",
    "/api/v1/madrs/",
    "/api/v1/sf-mpq/",
    "/api/v1/analysis/runs/",
    "/api/v1/analysis/latest/",
    "/api/v1/exports/",
]

# What each role may read (True) or is refused with 403 (False).
READS = {
    "nurse_site_a": {"analysis": False, "exports": False},
    "clinician_site_a": {"analysis": True, "exports": False},
    "statistician": {"analysis": True, "exports": True},
    "data_manager": {"analysis": True, "exports": True},
}


def _area(url: str) -> str:
    return url.split("/")[3]


@pytest.mark.parametrize("url", READ_ENDPOINTS)
def test_anonymous_requests_are_refused(url):
    assert APIClient().get(url).status_code in (401, 403)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url", READ_ENDPOINTS)
def test_each_role_reads_what_its_pages_show(api, persona, url, patient_a, good_run):
    response = api(persona).get(url)
    allowed = READS[persona].get(_area(url), True)
    assert response.status_code == (200 if allowed else 403), response.content


def test_a_user_without_a_role_is_refused(db, site_a, patient_a):
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody")
    nobody.save()
    client = APIClient()
    client.force_login(nobody)
    assert client.get("/api/v1/patients/").status_code == 403


def _objects_of(patient):
    call = patient.calls.get(timepoint="M1")
    administration = patient.administrations.first()
    return {
        "patient": f"/api/v1/patients/{patient.pk}/",
        "call": f"/api/v1/calls/{call.pk}/",
        "attempts": f"/api/v1/calls/{call.pk}/attempts/",
        "site": f"/api/v1/sites/{patient.site_id}/",
        **(
            {"administration": f"/api/v1/administrations/{administration.pk}/"}
            if administration
            else {}
        ),
    }


def test_nurse_of_other_site_gets_404_for_every_object(api, patient_a, patient_b):
    from cohort.services import administration_record

    administration_record(
        patient=patient_b, date=patient_b.inclusion_date, route="iv", dose_unit="mg",
        dose_value=50, by=None,
    )  # fmt: skip
    client = api("nurse_site_a")
    for name, url in _objects_of(patient_b).items():
        assert client.get(url).status_code == 404, name
    # Every object of their own site answers.
    own = {name: client.get(url).status_code for name, url in _objects_of(patient_a).items()}
    assert own == dict.fromkeys(["patient", "call", "attempts", "site"], 200)


def test_nurse_of_other_site_gets_404_when_writing(api, patient_b):
    client = api("nurse_site_a")
    call = patient_b.calls.get(timepoint="M1")
    put = client.put(f"/api/v1/calls/{call.pk}/questionnaires/", {"version": 1}, format="json")
    assert put.status_code == 404
    attempt = client.post(
        f"/api/v1/calls/{call.pk}/attempts/", {"outcome": "no_answer", "version": 1}
    )
    assert attempt.status_code == 404
    status = client.post(
        f"/api/v1/patients/{patient_b.pk}/status/",
        {"status": "lost", "date": "2026-03-01", "reason": "No answer"},
    )
    assert status.status_code == 404


def test_lists_never_hold_another_sites_rows(api, patient_a, patient_b):
    client = api("nurse_site_a")
    patients = client.get("/api/v1/patients/").json()["results"]
    assert [p["study_code"] for p in patients] == [patient_a.study_code]
    calls = client.get("/api/v1/calls/", {"page_size": 100}).json()
    assert calls["count"] == patient_a.calls.count()
    assert {c["site_code"] for c in calls["results"]} == {"SA"}
    sites = client.get("/api/v1/sites/").json()["results"]
    assert [s["code"] for s in sites] == ["SA"]


def test_statisticians_and_data_managers_see_every_site(api, patient_a, patient_b):
    for persona in ("statistician", "data_manager"):
        patients = api(persona).get("/api/v1/patients/").json()
        assert patients["count"] == 2


@pytest.mark.parametrize("persona", ["statistician"])
def test_statisticians_cannot_write_clinical_data(api, persona, patient_a):
    client = api(persona)
    call = patient_a.calls.get(timepoint="M1")
    writes = [
        client.post("/api/v1/patients/", {}, format="json"),
        client.post(
            f"/api/v1/patients/{patient_a.pk}/status/",
            {"status": "lost", "date": "2026-03-01", "reason": "x"},
        ),
        client.post("/api/v1/administrations/", {"patient": patient_a.pk}, format="json"),
        client.put(f"/api/v1/calls/{call.pk}/questionnaires/", {"version": 1}, format="json"),
        client.post(f"/api/v1/calls/{call.pk}/attempts/", {"outcome": "no_answer", "version": 1}),
        client.post(f"/api/v1/calls/{call.pk}/review/", {}),
    ]
    assert [response.status_code for response in writes] == [403] * len(writes)
    call.refresh_from_db()
    assert call.version == 1


@pytest.mark.parametrize("method", ["delete", "put"])
def test_clinical_rows_cannot_be_deleted_or_replaced_whole(api, patient_a, method):
    client = api("nurse_site_a")
    response = getattr(client, method)(f"/api/v1/patients/{patient_a.pk}/")
    assert response.status_code == 405
