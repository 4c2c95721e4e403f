"""Calls through the API: questionnaires saved with optimistic locking, attempts, filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.models import CallAttempt, HadsResponse
from tests.factories import enrol
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


def _put(client, call, **data):
    return client.put(f"/api/v1/calls/{call.pk}/questionnaires/", data, format="json")


def test_a_nurse_completes_a_call_and_reads_back_items_and_scores(api, patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    response = _put(
        api("nurse_site_a"),
        call,
        **VALID,
        version=call.version,
        complete=True,
        call_date="2026-02-05",
        adverse_events=[{"type": "nausea", "severity": "mild"}],
        treatments=[{"kind": "drug", "code": "antidepressant", "name": "Amitriptyline"}],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["call_date"], body["version"]) == ("reached", "2026-02-05", 2)
    assert body["completed_by"] == "nurse_a"
    answers = body["questionnaires"]
    assert (answers["nprs_mean"], answers["hads_3"], answers["sf12_gh1"]) == (6, 1, 3)
    assert (answers["hads_anxiety"], answers["hads_depression"]) == (7, 7)
    assert answers["sf12_pcs"] is not None
    assert [ae["type"] for ae in body["adverse_events"]] == ["nausea"]
    assert body["treatments"][0]["name"] == "Amitriptyline"
    assert [a["outcome"] for a in body["attempts"]] == ["reached"]


def test_a_stale_version_is_a_409_and_writes_nothing(api, patient_a):
    call = patient_a.calls.get(timepoint="M2")
    nurse, clinician = api("nurse_site_a"), api("clinician_site_a")
    assert _put(nurse, call, **VALID, version=1).status_code == 200
    response = _put(clinician, call, **{**VALID, "nprs_mean": 2, "nprs_max": 3}, version=1)
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["detail"]
    call.refresh_from_db()
    assert call.version == 2
    assert call.nprs.mean == 6


def test_a_version_is_required_to_write(api, patient_a):
    call = patient_a.calls.get(timepoint="M2")
    response = _put(api("nurse_site_a"), call, **VALID)
    assert response.status_code == 400
    assert "version" in response.json()


def test_invalid_answers_are_400_with_every_field_named(api, patient_a):
    call = patient_a.calls.get(timepoint="M3")
    response = _put(
        api("nurse_site_a"),
        call,
        **{**VALID, "hads_4": 5, "sf12_sf2": 6},
        version=call.version,
    )
    assert response.status_code == 400
    assert {"hads_4", "sf12_sf2"} <= set(response.json())
    # The rules across fields are the shared validators of the form.
    crossed = _put(api("nurse_site_a"), call, **{**VALID, "nprs_mean": 7, "nprs_max": 5}, version=1)
    assert crossed.status_code == 400
    assert "nprs_max" in crossed.json()
    assert not HadsResponse.objects.filter(call=call).exists()


def test_errors_found_by_the_service_come_back_as_field_errors(api, patient_a):
    call = patient_a.calls.get(timepoint="M3")
    response = _put(
        api("nurse_site_a"),
        call,
        **VALID,
        version=call.version,
        complete=True,
        call_date="2027-01-01",
        adverse_events=[{"type": "other", "severity": "mild"}],
    )
    assert response.status_code == 400
    assert {"call_date", "ae_other_text"} <= set(response.json())


def test_changing_a_completed_call_needs_a_reason(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client = api("nurse_site_a")
    _put(client, call, **VALID, version=1, complete=True, call_date="2026-02-05")
    again = _put(client, call, **{**VALID, "nprs_mean": 5}, version=2)
    assert again.status_code == 400
    assert "reason" in again.json()
    fixed = _put(client, call, **{**VALID, "nprs_mean": 5}, version=2, reason="Misheard")
    assert fixed.status_code == 200
    assert fixed.json()["questionnaires"]["nprs_mean"] == 5


def test_an_unreached_attempt_is_logged_with_the_version(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client = api("nurse_site_a")
    url = f"/api/v1/calls/{call.pk}/attempts/"
    response = client.post(url, {"outcome": "no_answer", "note": "Rang 10 times", "version": 1})
    assert response.status_code == 201
    assert response.json()["by"] == "nurse_a"
    stale = client.post(url, {"outcome": "voicemail", "version": 1})
    assert stale.status_code == 409
    reached = client.post(url, {"outcome": "reached", "version": 2})
    assert reached.status_code == 400
    assert "outcome" in reached.json()
    listed = client.get(url).json()
    assert [a["outcome"] for a in listed] == ["no_answer"]
    assert listed[0]["note"] == "Rang 10 times"
    assert "note" not in api("statistician").get(url).json()[0]


def test_a_refusal_closes_the_call(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    url = f"/api/v1/calls/{call.pk}/attempts/"
    api("nurse_site_a").post(url, {"outcome": "refused", "version": 1})
    assert CallAttempt.objects.get(call=call).outcome == "refused"
    body = api("statistician").get(f"/api/v1/calls/{call.pk}/").json()
    assert (body["status"], body["version"]) == ("refused", 2)


def test_only_clinicians_mark_a_call_reviewed(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    call.needs_review = True
    call.save()
    url = f"/api/v1/calls/{call.pk}/review/"
    assert api("nurse_site_a").post(url, {}).status_code == 403
    response = api("clinician_site_a").post(url, {"note": "Called back"})
    assert response.status_code == 200
    assert response.json()["needs_review"] is False


def test_calls_are_filtered_by_status_timepoint_due_dates_and_site(api, patient_a, patient_b):
    client = api("statistician")

    def rows(**params):
        params.setdefault("page_size", 100)
        return client.get("/api/v1/calls/", params).json()["results"]

    m1 = patient_a.calls.get(timepoint="M1")
    assert {c["timepoint"] for c in rows(timepoint=["M1", "M2"])} == {"M1", "M2"}
    assert {c["site_code"] for c in rows(site="SB")} == {"SB"}
    due = rows(site="SA", due_from=m1.target_date.isoformat(), due_to=m1.target_date.isoformat())
    assert [c["id"] for c in due] == [m1.pk]
    api("nurse_site_a").post(
        f"/api/v1/calls/{m1.pk}/attempts/", {"outcome": "refused", "version": 1}
    )
    assert [c["id"] for c in rows(status="refused")] == [m1.pk]
    assert client.get("/api/v1/calls/", {"due_from": "yesterday"}).status_code == 400


def test_call_list_runs_the_same_queries_whatever_the_number_of_patients(api, site_a, nurse_site_a):
    client = api("nurse_site_a")
    enrol(site_a, by=nurse_site_a)
    client.get("/api/v1/calls/")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/calls/", {"page_size": 100})
    enrol(site_a, by=nurse_site_a)
    enrol(site_a, by=nurse_site_a)
    with CaptureQueriesContext(connection) as three:
        body = client.get("/api/v1/calls/", {"page_size": 100}).json()
    assert body["count"] == 42
    assert len(three) == len(one)


def test_adverse_events_and_treatments_are_listed_per_site_without_free_text(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    _put(
        api("nurse_site_a"),
        call,
        **VALID,
        version=1,
        adverse_events=[{"type": "other", "severity": "moderate", "other_text": "Hiccups"}],
        treatments=[{"kind": "drug", "code": "antidepressant", "name": "Amitriptyline"}],
    )
    nurse_rows = api("nurse_site_a").get("/api/v1/adverse-events/").json()["results"]
    assert nurse_rows[0]["other_text"] == "Hiccups"
    statistician = api("statistician")
    events = statistician.get("/api/v1/adverse-events/", {"site": "SA"}).json()["results"]
    assert [(e["type"], e["timepoint"]) for e in events] == [("other", "M1")]
    assert "other_text" not in events[0]
    treatments = statistician.get("/api/v1/treatments/", {"patient": patient_a.pk}).json()
    assert treatments["results"][0]["code"] == "antidepressant"
    assert "name" not in treatments["results"][0]
    assert api("nurse_site_b").get("/api/v1/adverse-events/").json()["count"] == 0
