"""Data managers must give a code from an authenticator app; other roles may choose to."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from tests.factories import PASSWORD, give_authenticator, make_user

pytestmark = pytest.mark.django_db

SETUP = reverse("accounts:second_factor_setup")
VERIFY = reverse("accounts:second_factor_verify")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def code_of(device: TOTPDevice, shift: int = 0) -> str:
    """Return the code the authenticator app shows now (``shift`` time steps away)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + shift * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def new_data_manager(db):
    """A data manager who has not set up an authenticator yet."""
    return make_user("dm_new", Role.DATA_MANAGER, [])


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_in(client, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_a_data_manager_without_authenticator_is_sent_to_set_one_up(client, new_data_manager):
    sign_in(client, "dm_new")
    for url in (reverse("home"), reverse("analytics:export_list"), reverse("admin:index")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(SETUP)


def test_setup_shows_the_key_as_uri_and_inline_qr_code(client, new_data_manager):
    sign_in(client, "dm_new")
    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=new_data_manager, confirmed=False)
    assert device.config_url in page.replace("&amp;", "&")
    assert "otpauth://totp/Ketamine%20follow-up%3Adm_new?secret=" in page
    assert "<svg" in page
    assert "<path" in page
    # Reloading the page keeps the same key, so a half-done setup can go on.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=new_data_manager).count() == 1


def test_a_correct_code_confirms_the_authenticator_and_opens_the_pages(
    client, new_data_manager, clock
):
    sign_in(client, "dm_new")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=new_data_manager)
    response = client.post(SETUP, {"code": code_of(device), "next": "/exports/"})
    # The recovery codes are shown once, with the way on to the page asked for.
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert 'href="/exports/"' in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("analytics:export_list")).status_code == 200


def test_a_wrong_code_is_refused_at_setup(client, new_data_manager, clock):
    sign_in(client, "dm_new")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=new_data_manager)
    wrong = code_of(device, shift=10)
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(reverse("home")).url.startswith(SETUP)


def test_a_data_manager_with_authenticator_gives_a_code_after_the_password(
    client, new_data_manager, clock
):
    device = give_authenticator(new_data_manager)
    sign_in(client, "dm_new")
    response = client.get(reverse("home"))
    assert response.url == f"{VERIFY}?next=%2F"
    assert client.post(VERIFY, {"code": code_of(device, shift=10)}).status_code == 400
    clock.shift(dt.timedelta(seconds=5))  # the delay after a wrong code
    response = client.post(VERIFY, {"code": code_of(device), "next": "/"})
    assert response.status_code == 302
    assert response.url == "/"
    assert client.get(reverse("home")).status_code == 200


def test_a_code_is_refused_right_after_a_wrong_one(client, new_data_manager, clock):
    device = give_authenticator(new_data_manager)
    sign_in(client, "dm_new")
    client.post(VERIFY, {"code": "000000" if code_of(device) != "000000" else "111111"})
    assert client.post(VERIFY, {"code": code_of(device)}).status_code == 400


def test_a_code_is_used_once(client, new_data_manager, clock):
    device = give_authenticator(new_data_manager)
    sign_in(client, "dm_new")
    assert client.post(VERIFY, {"code": code_of(device)}).status_code == 302
    client.post(reverse("logout"))
    sign_in(client, "dm_new")
    assert client.post(VERIFY, {"code": code_of(device)}).status_code == 400


def test_verification_does_not_go_to_another_site(client, new_data_manager, clock):
    device = give_authenticator(new_data_manager)
    sign_in(client, "dm_new")
    response = client.post(VERIFY, {"code": code_of(device), "next": "https://evil.example/"})
    assert response.url == reverse("home")


def test_setup_cannot_replace_an_authenticator_before_the_code_is_given(client, new_data_manager):
    give_authenticator(new_data_manager)
    sign_in(client, "dm_new")
    response = client.get(SETUP)
    assert response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=new_data_manager).count() == 1


def test_signing_out_and_the_health_check_need_no_code(client, new_data_manager):
    sign_in(client, "dm_new")
    assert client.get(reverse("health")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).url.startswith(reverse("login"))


def test_the_api_answers_403_rather_than_redirecting(client, new_data_manager):
    sign_in(client, "dm_new")
    response = client.get("/api/patients/")
    assert response.status_code == 403
    assert response.json() == {"detail": "A second factor is required."}


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a", "statistician"])
def test_other_roles_are_not_forced(client, request, persona):
    user = request.getfixturevalue(persona)
    sign_in(client, user.username)
    assert client.get(reverse("home")).status_code == 200
    page = client.get(reverse("accounts:security")).content.decode()
    assert "Off: you sign in with your password only." in page


def test_a_nurse_who_opts_in_gives_a_code_at_the_next_sign_in(client, nurse_site_a, clock):
    sign_in(client, "nurse_a")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=nurse_site_a)
    assert client.post(SETUP, {"code": code_of(device)}).status_code == 200
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    sign_in(client, "nurse_a")
    assert client.get(reverse("home")).url.startswith(VERIFY)
    clock.shift(dt.timedelta(seconds=30))
    client.post(VERIFY, {"code": code_of(device)})
    assert client.get(reverse("home")).status_code == 200
    # She may turn it off again.
    client.post(reverse("accounts:second_factor_turn_off"))
    assert not TOTPDevice.objects.filter(user=nurse_site_a).exists()
    assert client.get(reverse("home")).status_code == 200


def test_a_data_manager_cannot_turn_the_second_factor_off(client, data_manager):
    client.force_login(data_manager)
    response = client.post(reverse("accounts:second_factor_turn_off"), follow=True)
    assert "requires a second factor" in response.content.decode()
    assert TOTPDevice.objects.filter(user=data_manager, confirmed=True).exists()


def test_resetting_a_lost_authenticator_sends_the_data_manager_to_setup(client, data_manager):
    client.force_login(data_manager)
    assert client.get(reverse("home")).status_code == 200
    call_command("reset_second_factor", "datamanager")
    assert not TOTPDevice.objects.filter(user=data_manager).exists()
    assert client.get(reverse("home")).url.startswith(SETUP)
