"""Pages, sign-in and /health/ without Redis: a real server, started and stopped by the test."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.processes import REDIS_SERVER, start_redis, stop

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REDIS_SERVER, reason="redis-server is not installed"),
]

# Port 6400 + issue number: a server of this test alone, never the shared one.
PORT = 6416


@pytest.fixture
def own_redis(settings):
    process = start_redis(PORT)
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "config.cache.TolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{PORT}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        },
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    state = {"process": process}

    def stop_server() -> None:
        stop(state["process"])

    def start_server() -> None:
        state["process"] = start_redis(PORT)

    yield stop_server, start_server
    stop(state["process"])


def _sign_in(user) -> Client:
    browser = Client()
    response = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return browser


def test_pages_sign_in_and_health_survive_a_redis_outage(
    own_redis, nurse_site_a, clinician_site_a, patient_a, caplog
):
    stop_server, start_server = own_redis
    nurse = _sign_in(nurse_site_a)
    assert nurse.get(reverse("home")).status_code == 200
    healthy = Client().get(reverse("health"))
    assert healthy.status_code == 200
    assert healthy.json()["checks"]["cache"] == "ok"

    stop_server()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        # The session and the user were in Redis: both come back from the database.
        for name in ("home", "cohort:patient_list"):
            assert nurse.get(reverse(name)).status_code == 200, name
        assert nurse.get(reverse("cohort:patient_detail", args=[patient_a.pk])).status_code == 200
        assert Client().get(reverse("login")).status_code == 200
        clinician = _sign_in(clinician_site_a)
        assert clinician.get(reverse("home")).status_code == 200
        down = Client().get(reverse("health"))
        assert down.status_code == 503
        assert down.json()["status"] == "error"
        assert "cache" in down.json()["down"]
        assert down.json()["checks"]["database"] == "ok"
        # Signing out clears the session in the database even if the cache cannot be told.
        assert nurse.post(reverse("logout")).status_code == 302
        assert nurse.get(reverse("home")).status_code == 302
    outage_lines = [r for r in caplog.records if "Cache unreachable" in r.getMessage()]
    assert len(outage_lines) == 1  # logged once, not per request

    start_server()
    assert clinician.get(reverse("home")).status_code == 200
    back = Client().get(reverse("health"))
    assert back.status_code == 200, back.json()
    assert back.json()["down"] == []
