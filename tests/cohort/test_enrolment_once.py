"""A repeated enrolment (the form sent twice, the API request sent again) enrols one patient."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from cohort.models import Patient
from tests.api.conftest import SignedInAPIClient
from tests.cohort.test_patient_pages import _enrolment

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "sex": "F", "age": 50, "inclusion_date": "2026-03-02", "consent_date": "2026-03-01",
    "weight_kg": "70.0", "etiology": "crps", "pain_duration_months": 24,
    "first_name": "Ana", "last_name": "Roux", "phone": "06 00 00 00 02",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def nurse_api(nurse_site_a):
    client = SignedInAPIClient()
    client.force_login(nurse_site_a)
    return client


def _token(page: str) -> str:
    marker = 'name="patient-submission" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_the_enrolment_form_sent_twice_enrols_one_patient(client, nurse_site_a, site_a):
    client.force_login(nurse_site_a)
    token = _token(client.get(reverse("cohort:patient_new")).content.decode())
    data = _enrolment(**{"patient-site": site_a.pk, "patient-submission": token})
    first = client.post(reverse("cohort:patient_new"), data)
    second = client.post(reverse("cohort:patient_new"), data, follow=True)
    patient = Patient.objects.get()
    baseline = patient.calls.get(timepoint="BL")
    assert first.url == reverse("followup:call_entry", args=[baseline.pk])
    assert second.redirect_chain[0][0] == first.url
    assert "already sent" in second.content.decode()
    assert patient.administrations.count() == 1


def test_each_form_shown_carries_its_own_token(client, nurse_site_a, site_a):
    client.force_login(nurse_site_a)
    tokens = {_token(client.get(reverse("cohort:patient_new")).content.decode()) for _ in range(2)}
    assert len(tokens) == 2
    for token in tokens:
        data = _enrolment(**{"patient-site": site_a.pk, "patient-submission": token})
        client.post(reverse("cohort:patient_new"), data)
    assert Patient.objects.count() == 2


def test_a_refused_form_keeps_its_token_and_enrols_once_corrected(client, nurse_site_a, site_a):
    client.force_login(nurse_site_a)
    data = _enrolment(
        **{"patient-site": site_a.pk, "patient-submission": "abc123", "patient-age": "17"}
    )
    refused = client.post(reverse("cohort:patient_new"), data)
    assert refused.status_code == 400
    assert _token(refused.content.decode()) == "abc123"
    data["patient-age"] = "45"
    for _ in range(2):
        client.post(reverse("cohort:patient_new"), data)
    assert Patient.objects.count() == 1


def test_the_api_with_an_idempotency_key_returns_the_patient_already_created(nurse_api, site_a):
    payload = {**PAYLOAD, "site": site_a.pk}
    first = nurse_api.post("/api/v1/patients/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = nurse_api.post("/api/v1/patients/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Patient.objects.count() == 1


def test_the_same_key_with_another_enrolment_is_a_conflict(nurse_api, site_a):
    payload = {**PAYLOAD, "site": site_a.pk}
    nurse_api.post("/api/v1/patients/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = {**payload, "age": 61}
    response = nurse_api.post("/api/v1/patients/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 409
    assert Patient.objects.count() == 1


def test_keys_belong_to_their_user(nurse_api, site_a, request):
    from accounts.roles import Role
    from tests.factories import make_user

    other = SignedInAPIClient()
    other.force_login(make_user("nurse_a2", Role.NURSE, [site_a]))
    payload = {**PAYLOAD, "site": site_a.pk}
    nurse_api.post("/api/v1/patients/", payload, format="json", HTTP_IDEMPOTENCY_KEY="same")
    response = other.post("/api/v1/patients/", payload, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201
    assert Patient.objects.count() == 2


def test_without_a_key_each_request_enrols(nurse_api, site_a):
    payload = {**PAYLOAD, "site": site_a.pk}
    for _ in range(2):
        assert nurse_api.post("/api/v1/patients/", payload, format="json").status_code == 201
    assert Patient.objects.count() == 2


def test_a_too_long_key_is_refused(nurse_api, site_a):
    response = nurse_api.post(
        "/api/v1/patients/", {**PAYLOAD, "site": site_a.pk}, format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 65,
    )  # fmt: skip
    assert response.status_code == 400
    assert not Patient.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_enrol_one_patient(site_a, nurse_site_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one at a time: there is no race to lose")
    payload = {**PAYLOAD, "site": site_a.pk}
    answers: list[int] = []
    barrier = threading.Barrier(2)

    def send() -> None:
        client = SignedInAPIClient()
        client.force_login(nurse_site_a)
        barrier.wait()
        response = client.post(
            "/api/v1/patients/", payload, format="json", HTTP_IDEMPOTENCY_KEY="race"
        )
        answers.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 201]
    assert Patient.objects.count() == 1
