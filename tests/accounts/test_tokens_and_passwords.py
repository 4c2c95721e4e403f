"""API tokens end (lifetime, rotation); weak and published passwords are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.services import DEMO_PASSWORD, api_token_issue
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_older_than_its_lifetime_is_refused(nurse_site_a, settings):
    settings.API_TOKEN_DAYS = 30
    token = api_token_issue(user=nurse_site_a)
    assert _api(token.key).get("/api/v1/patients/").status_code == 200
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - dt.timedelta(days=31))
    refused = _api(token.key).get("/api/v1/patients/")
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]
    # Asking again for a token with the password gives a new one.
    fresh = APIClient().post(
        "/api/v1/auth/token/", {"username": nurse_site_a.username, "password": PASSWORD}
    )
    assert fresh.status_code == 200
    assert fresh.json()["token"] != token.key
    assert _api(fresh.json()["token"]).get("/api/v1/patients/").status_code == 200


def test_rotation_replaces_the_token_at_once(nurse_site_a):
    old = api_token_issue(user=nurse_site_a).key
    rotated = _api(old).post("/api/v1/auth/token/rotate/")
    assert rotated.status_code == 200
    new = rotated.json()["token"]
    assert new != old
    assert _api(old).get("/api/v1/patients/").status_code == 401
    assert _api(new).get("/api/v1/patients/").status_code == 200


def test_a_token_stops_working_after_a_password_change(nurse_site_a):
    key = api_token_issue(user=nurse_site_a).key
    nurse_site_a.set_password("a-brand-new-long-password")
    nurse_site_a.save()
    assert _api(key).get("/api/v1/patients/").status_code == 401


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "abababababab", "password1234", "123456789012"]
)
def test_weak_passwords_are_refused(nurse_site_a, password):
    with pytest.raises(ValidationError):
        validate_password(password, nurse_site_a)


def test_the_demo_password_is_refused_outside_debug(nurse_site_a, settings):
    settings.DEBUG = False
    with pytest.raises(ValidationError, match="demonstration"):
        validate_password(DEMO_PASSWORD, nurse_site_a)
    settings.DEBUG = True
    assert _refusals(DEMO_PASSWORD, nurse_site_a) == []  # the demo runs with DEBUG


def _refusals(password, user):
    """The messages of every validator that refuses the password (empty when it passes)."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


def test_a_good_password_passes(nurse_site_a):
    assert _refusals("correct-horse-battery-staple-7", nurse_site_a) == []
    assert _refusals("aaaaaaaaaaaa", nurse_site_a) != []  # the validators are in force
