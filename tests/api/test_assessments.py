"""The MADRS and SF-MPQ endpoints: recorded, read and corrected through the services, scoped
by the user's sites like the calls, with field errors on bad input and 409 on a stale version."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cohort import services as cohort_services
from followup.models import MadrsAssessment, SfMpqAssessment
from tests.factories import SiteFactory, enrol, finish_follow_up_after_ketamine
from tests.followup.test_assessments import BASELINE, LATER, SF_MPQ
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_a(lan_study):
    """Site A takes part in the second study, which rates the MADRS and the SF-MPQ."""
    return SiteFactory(code="SA", name="Psychiatry A", study=lan_study)


@pytest.fixture
def site_b(lan_study):
    return SiteFactory(code="SB", name="Psychiatry B", study=lan_study)


MADRS_URL = "/api/v1/madrs/"
SF_MPQ_URL = "/api/v1/sf-mpq/"


def madrs_body(patient, visit="BL", ratings=BASELINE):
    return (
        {"patient": patient.pk, "visit_code": visit, "assessed_on": "2026-02-02"}
        | {"rater": "JD"}
        | ratings
    )


def test_a_nurse_records_a_madrs_and_reads_its_total_response_and_remission(api, patient_a):
    client = api("nurse_site_a")
    created = client.post(MADRS_URL, madrs_body(patient_a), format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["total"], created.json()["response"]) == (32, None)
    later = client.post(MADRS_URL, madrs_body(patient_a, "D26", LATER), format="json").json()
    assert (later["total"], later["response"], later["remission"]) == (12, True, False)
    assert later["madrs_10"] == 0
    listed = client.get(MADRS_URL, {"patient": patient_a.pk}).json()["results"]
    assert [row["visit_code"] for row in listed] == ["BL", "D26"]
    assert listed[1]["response"] is True


def test_a_nurse_records_an_sf_mpq(api, patient_a):
    body = {"patient": patient_a.pk, "visit_code": "BL", "assessed_on": "2026-02-02"} | SF_MPQ
    created = api("nurse_site_a").post(SF_MPQ_URL, body, format="json")
    assert created.status_code == 201, created.json()
    row = created.json()
    assert (row["sensory"], row["affective"], row["total"], row["sf_mpq_vas"]) == (13, 6, 19, 64)


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        (MADRS_URL, "madrs_4", 7),
        (MADRS_URL, "visit_code", "M3"),
        (SF_MPQ_URL, "sf_mpq_5", 4),
        (SF_MPQ_URL, "sf_mpq_vas", 101),
        (SF_MPQ_URL, "sf_mpq_ppi", 6),
        (SF_MPQ_URL, "visit_code", "D26"),
    ],
)
def test_bad_input_is_a_400_with_the_field_named(api, patient_a, url, field, value):
    body = madrs_body(patient_a) if url == MADRS_URL else {"patient": patient_a.pk} | SF_MPQ
    body |= {"visit_code": "BL", "assessed_on": "2026-02-02", field: value}
    response = api("nurse_site_a").post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not MadrsAssessment.objects.exists()
    assert not SfMpqAssessment.objects.exists()


def test_a_second_submission_is_a_400_and_records_nothing_more(api, patient_a):
    client = api("nurse_site_a")
    assert client.post(MADRS_URL, madrs_body(patient_a), format="json").status_code == 201
    again = client.post(MADRS_URL, madrs_body(patient_a), format="json")
    assert again.status_code == 400
    assert "visit_code" in again.json()
    assert MadrsAssessment.objects.count() == 1


def test_a_correction_needs_its_reason_and_the_version_read(api, patient_a):
    client = api("nurse_site_a")
    row = client.post(MADRS_URL, madrs_body(patient_a), format="json").json()
    url = f"{MADRS_URL}{row['id']}/"
    body = {"assessed_on": "2026-02-02", "rater": "JD"} | BASELINE | {"madrs_1": 6}
    assert "reason" in client.put(url, body | {"version": 1}, format="json").json()
    saved = client.put(url, body | {"version": 1, "reason": "Misread"}, format="json")
    assert saved.status_code == 200
    assert (saved.json()["total"], saved.json()["version"]) == (34, 2)
    stale = client.put(url, body | {"version": 1, "reason": "Again"}, format="json")
    assert stale.status_code == 409
    history = MadrsAssessment.objects.get().history.latest("history_date")
    assert history.history_change_reason == "Misread"


def test_a_locked_patient_is_a_400(api, patient_a, nurse_site_a, data_manager):
    finish_follow_up_after_ketamine(patient_a, by=nurse_site_a, answers=VALID)
    cohort_services.patient_lock(patient=patient_a, by=data_manager)
    response = api("nurse_site_a").post(MADRS_URL, madrs_body(patient_a), format="json")
    assert response.status_code == 400
    assert "locked" in response.json()["non_field_errors"][0]


def test_a_nurse_of_another_site_neither_sees_nor_writes(api, patient_a, patient_b):
    client_a = api("nurse_site_a")
    row = client_a.post(MADRS_URL, madrs_body(patient_a), format="json").json()
    client_b = api("nurse_site_b")
    assert client_b.get(MADRS_URL).json()["results"] == []
    assert client_b.get(f"{MADRS_URL}{row['id']}/").status_code == 404
    body = {"assessed_on": "2026-02-02", "rater": "X", "version": 1, "reason": "x"} | LATER
    assert client_b.put(f"{MADRS_URL}{row['id']}/", body, format="json").status_code == 404
    created = client_b.post(MADRS_URL, madrs_body(patient_a, "D1"), format="json")
    assert created.status_code == 400
    assert "patient" in created.json()
    assert MadrsAssessment.objects.count() == 1


def test_statisticians_read_every_site_and_cannot_write(api, patient_a, patient_b):
    api("nurse_site_a").post(MADRS_URL, madrs_body(patient_a), format="json")
    api("nurse_site_b").post(MADRS_URL, madrs_body(patient_b), format="json")
    client = api("statistician")
    assert len(client.get(MADRS_URL).json()["results"]) == 2
    refused = client.post(MADRS_URL, madrs_body(patient_a, "D1"), format="json")
    assert refused.status_code == 403


def test_assessments_cannot_be_deleted(api, patient_a):
    client = api("nurse_site_a")
    row = client.post(MADRS_URL, madrs_body(patient_a), format="json").json()
    assert client.delete(f"{MADRS_URL}{row['id']}/").status_code == 405
    assert MadrsAssessment.objects.count() == 1


def test_the_madrs_list_runs_the_same_queries_whatever_the_number_of_rows(
    api, site_a, nurse_site_a, patient_a
):
    client = api("nurse_site_a")
    client.post(MADRS_URL, madrs_body(patient_a), format="json")
    client.get(MADRS_URL)
    with CaptureQueriesContext(connection) as one:
        client.get(MADRS_URL)
    for _n in range(2):
        other = enrol(site_a, by=nurse_site_a)
        for visit in ("BL", "D1"):
            client.post(MADRS_URL, madrs_body(other, visit), format="json")
    with CaptureQueriesContext(connection) as five:
        body = client.get(MADRS_URL).json()
    assert body["count"] == 5
    assert [row["response"] for row in body["results"]].count(False) == 2
    assert len(five) == len(one)
