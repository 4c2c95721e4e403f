"""Recovery codes for a lost phone; a right code used twice is told apart from a wrong one."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import recovery_codes_issue
from tests.accounts.test_second_factor import VERIFY, clock, code_of, new_data_manager, sign_in

pytestmark = pytest.mark.django_db
__all__ = ["clock", "new_data_manager"]


@pytest.fixture
def equipped(new_data_manager):
    TOTPDevice.objects.create(user=new_data_manager, name="phone", confirmed=True)
    return new_data_manager, recovery_codes_issue(user=new_data_manager)


def test_a_recovery_code_signs_in_once(equipped, clock):
    user, codes = equipped
    browser = Client()
    sign_in(browser, user.username)
    response = browser.post(VERIFY, {"code": codes[0].upper()})
    assert response.status_code == 302
    assert browser.get(reverse("home")).status_code == 200
    again = Client()
    sign_in(again, user.username)
    refused = again.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 400
    assert StaticDevice.objects.get(user=user).token_set.count() == len(codes) - 1


def test_a_code_used_twice_is_refused_with_its_own_message(equipped, clock):
    user, _codes = equipped
    device = TOTPDevice.objects.get(user=user)
    first = Client()
    sign_in(first, user.username)
    code = code_of(device)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = Client()
    sign_in(second, user.username)
    refused = second.post(VERIFY, {"code": code})
    assert refused.status_code == 400
    assert "already used" in refused.content.decode()
    wrong = second.post(VERIFY, {"code": code_of(device, shift=10)})
    assert "already used" not in wrong.content.decode()


def test_recovery_codes_are_not_in_the_administration_site_for_a_data_manager(client, data_manager):
    recovery_codes_issue(user=data_manager)
    client.force_login(data_manager)
    assert client.get("/admin/otp_static/staticdevice/").status_code == 403
