"""Failed sign-ins lock one username from one address for a while (django-axes)."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def _sign_in(client, username, password, address="10.0.0.1", url=None):
    return client.post(
        url or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def _fail(client, username, times, address="10.0.0.1", url=None):
    for _ in range(times):
        response = _sign_in(client, username, "not-the-password", address, url)
        assert response.status_code in {200, 429}
    return response


def test_failures_up_to_the_limit_lock_the_account_even_with_the_right_password(
    client, nurse_site_a
):
    assert _fail(client, "nurse_a", LIMIT - 1).status_code == 200
    assert _fail(client, "nurse_a", 1).status_code == 429
    response = _sign_in(client, "nurse_a", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    assert f"blocked for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in page
    assert 'value="nurse_a"' in page
    assert client.get(reverse("home")).status_code == 302


def test_a_lock_holds_one_username_from_one_address(client, nurse_site_a, clinician_site_a):
    _fail(client, "nurse_a", LIMIT)
    assert _sign_in(client, "clinician_a", PASSWORD).status_code == 302
    client.logout()
    assert _sign_in(client, "nurse_a", PASSWORD, address="10.0.0.2").status_code == 302


def test_a_successful_sign_in_resets_the_count(client, nurse_site_a):
    _fail(client, "nurse_a", LIMIT - 1)
    assert _sign_in(client, "nurse_a", PASSWORD).status_code == 302
    client.logout()
    _fail(client, "nurse_a", LIMIT - 1)
    assert _sign_in(client, "nurse_a", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, nurse_site_a):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        _fail(client, "nurse_a", LIMIT)
        clock.shift(settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1))
        assert _sign_in(client, "nurse_a", PASSWORD).status_code == 429
        clock.shift(dt.timedelta(minutes=2))
        assert _sign_in(client, "nurse_a", PASSWORD).status_code == 302


def test_the_administration_sign_in_is_throttled_too(client, data_manager):
    admin_login = reverse("admin:login")
    _fail(client, "datamanager", LIMIT, url=admin_login)
    response = _sign_in(client, "datamanager", PASSWORD, url=admin_login)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    # The lock is on the person, whichever sign-in page they use.
    assert _sign_in(client, "datamanager", PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_the_address_comes_from_x_forwarded_for(
    client, nurse_site_a, settings
):
    settings.TRUSTED_PROXY_NETWORKS = ["172.18.0.0/16"]
    for _ in range(LIMIT):
        client.post(
            reverse("login"),
            {"username": "nurse_a", "password": "wrong"},
            REMOTE_ADDR="172.18.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.7",
        )
    # The lock is on 10.0.0.7 (what the proxy saw), not the forged 203.0.113.9 nor the proxy.
    other_client = {"REMOTE_ADDR": "172.18.0.2", "HTTP_X_FORWARDED_FOR": "10.0.0.8"}
    response = client.post(
        reverse("login"), {"username": "nurse_a", "password": PASSWORD}, **other_client
    )
    assert response.status_code == 302
    client.logout()
    locked = {"REMOTE_ADDR": "172.18.0.2", "HTTP_X_FORWARDED_FOR": "10.0.0.7"}
    response = client.post(
        reverse("login"), {"username": "nurse_a", "password": PASSWORD}, **locked
    )
    assert response.status_code == 429


def test_rotating_x_forwarded_for_from_outside_the_proxy_network_does_not_escape_the_lock(
    client, nurse_site_a, settings
):
    settings.TRUSTED_PROXY_NETWORKS = ["172.18.0.0/16"]
    for number in range(LIMIT):
        client.post(
            reverse("login"),
            {"username": "nurse_a", "password": "wrong"},
            REMOTE_ADDR="198.51.100.4",  # straight to the web port, not through the proxy
            HTTP_X_FORWARDED_FOR=f"10.9.0.{number}",
        )
    response = client.post(
        reverse("login"),
        {"username": "nurse_a", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.4",
        HTTP_X_FORWARDED_FOR="10.9.0.200",
    )
    assert response.status_code == 429


def test_one_address_spraying_many_usernames_is_refused_after_the_address_limit(
    client, nurse_site_a, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for number in range(12):
        response = _sign_in(client, f"someone{number}", "Summer2026!", address="198.51.100.7")
        assert response.status_code == 200
    # Every username is new, so no (username, address) pair is near its own limit.
    assert _sign_in(client, "nurse_a", PASSWORD, address="198.51.100.7").status_code == 429
    api = client.post(
        "/api/v1/auth/token/",
        {"username": "nurse_a", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert api.status_code in (400, 403, 429)
    assert _sign_in(client, "nurse_a", PASSWORD, address="198.51.100.8").status_code == 302


def test_compose_publishes_the_web_port_on_the_loopback_only():
    import yaml

    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port
