import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sign_in_page_renders_with_labels(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'<label for="id_username">' in response.content


def test_wrong_password_shows_an_error_and_keeps_the_username(client, nurse_site_a):
    response = client.post(reverse("login"), {"username": "nurse_a", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert b'value="nurse_a"' in response.content


@pytest.mark.parametrize(
    "persona", ["nurse_site_a", "clinician_site_a", "statistician", "data_manager"]
)
def test_home_page_renders_for_each_role(client, request, persona, patient_a, patient_b):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    site_scoped = persona in {"nurse_site_a", "clinician_site_a"}
    expected_patients = 1 if site_scoped else 2
    assert response.context["patient_count"] == expected_patients


def test_nurse_home_counts_only_calls_of_her_sites(client, nurse_site_a, patient_a, patient_b):
    client.force_login(nurse_site_a)
    response = client.get(reverse("home"))
    counts = response.context["call_counts"]
    # One patient, 13 follow-up calls, all open; baseline is assessed in hospital, not called,
    # and is left out as on the worklist.
    assert sum(counts.values()) == 13


def test_health_check_reports_the_database(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert "worker" in body["checks"]


def test_home_counts_calls_by_status_with_their_labels(client, nurse_site_a, patient_a):
    from followup.services import call_record_attempt

    call_record_attempt(
        call=patient_a.calls.get(timepoint="W1"), outcome="refused", by=nurse_site_a
    )
    client.force_login(nurse_site_a)
    response = client.get(reverse("home"))
    assert ("Refused", 1) in response.context["status_counts"]
    assert ("Due", 12) in response.context["status_counts"]
    assert b"Refused" in response.content


def test_health_check_reports_the_broker_and_the_analysis_state(client, settings):
    from analytics.models import AnalysisRun

    body = client.get(reverse("health")).json()
    assert body["checks"]["broker"] == "ok"
    assert body["checks"]["analysis"] == "no results yet"
    AnalysisRun.objects.create(trigger="manual", status="failed", error="boom")
    body = client.get(reverse("health")).json()
    assert body["checks"]["analysis"].startswith("last run")
    assert "failed" in body["checks"]["analysis"]
    settings.ANALYSIS_MAX_WAIT_SECONDS = 0
    settings.ANALYSIS_REDISPATCH_SECONDS = 0
    AnalysisRun.objects.create(trigger="manual", status="queued")
    body = client.get(reverse("health")).json()
    assert body["checks"]["analysis"].startswith("stalled")
    assert client.get(reverse("health")).status_code == 200  # the web still serves


def test_health_says_degraded_while_a_run_waits_without_a_live_worker(client):
    from django.core.cache import cache

    from analytics.models import AnalysisRun
    from analytics.tasks import HEARTBEAT_KEY

    cache.delete(HEARTBEAT_KEY)
    assert client.get(reverse("health")).json()["status"] == "ok"
    AnalysisRun.objects.create(trigger="manual", status="queued")
    response = client.get(reverse("health"))
    assert response.status_code == 200  # data are safe; analyses are late
    assert response.json()["status"] == "degraded"
    assert response.json()["down"] == ["worker"]
