"""Sessions end after a quiet spell; passwords are long, uncommon and unlike the user's name."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

IDLE = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)


def test_the_idle_timeout_defaults_to_thirty_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_RENEW_SECONDS == 60


def test_a_session_ends_after_the_idle_timeout_and_each_request_renews_it(
    client, nurse_site_a, settings
):
    # The sessions' cache copy expires by its key's timeout, counted by the cache server's own
    # clock, which time travel does not move: the expiry written with the session (the same
    # age, renewed by the same saves) is checked here, on the database copy.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        client.post(reverse("login"), {"username": "nurse_a", "password": PASSWORD})
        for _ in range(3):
            clock.shift(IDLE - dt.timedelta(minutes=1))
            assert client.get(reverse("home")).status_code == 200
        clock.shift(IDLE + dt.timedelta(minutes=1))
        response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def _expiry(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(
        session_key=client.cookies[settings.SESSION_COOKIE_NAME].value
    ).expire_date


def test_requests_within_a_minute_do_not_write_the_session_again(client, nurse_site_a):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        client.post(reverse("login"), {"username": "nurse_a", "password": PASSWORD})
        client.get(reverse("home"))
        renewed = _expiry(client)
        clock.shift(dt.timedelta(seconds=30))
        client.get(reverse("home"))
        assert _expiry(client) == renewed
        clock.shift(dt.timedelta(seconds=31))
        client.get(reverse("home"))
        assert _expiry(client) == renewed + dt.timedelta(seconds=61)


def test_signing_out_is_not_undone_by_the_renewal(client, nurse_site_a):
    client.post(reverse("login"), {"username": "nurse_a", "password": PASSWORD})
    client.post(reverse("logout"))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short-pw-11", "at least 12 characters"),
        ("password1234", "too common"),
        ("nurse_a_2026", "too similar to the username"),
        ("483920571638", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(nurse_site_a, password, problem):
    with pytest.raises(ValidationError, match=problem):
        validate_password(password, user=nurse_site_a)


def test_a_long_unusual_password_is_accepted(nurse_site_a):
    new = "harbour-violin-cobalt"
    form = SetPasswordForm(nurse_site_a, {"new_password1": new, "new_password2": new})
    assert form.is_valid(), form.errors
    form.save()
    nurse_site_a.refresh_from_db()
    assert nurse_site_a.check_password(new)


def test_password_change_page_needs_a_signed_in_user(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_user_changes_their_password_and_signs_in_with_the_new_one(client, nurse_site_a):
    client.force_login(nurse_site_a)
    page = client.get(reverse("accounts:password_change"))
    assert page.status_code == 200
    assert b'<label for="id_old_password">' in page.content
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "harbour-violin-cobalt",
            "new_password2": "harbour-violin-cobalt",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    # The current session stays signed in.
    assert client.get(reverse("home")).status_code == 200
    client.logout()
    new = {"username": "nurse_a", "password": "harbour-violin-cobalt"}
    assert client.post(reverse("login"), new).status_code == 302


def test_a_short_new_password_is_refused_on_the_page(client, nurse_site_a):
    client.force_login(nurse_site_a)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Sh0rt-pass", "new_password2": "Sh0rt-pass"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    nurse_site_a.refresh_from_db()
    assert nurse_site_a.check_password(PASSWORD)
