"""A data manager sets up an authenticator app at the first sign-in, then gives codes."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from tests.browser.second_factor import code_of
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _password_step(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "dm_phone")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")


def test_data_manager_sets_up_then_verifies_the_second_factor(live_server, new_page, shot):
    user = make_user("dm_phone", Role.DATA_MANAGER, [])
    page = new_page()
    _password_step(page, live_server)
    page.wait_for_url("**/accounts/security/setup/**")
    qr = page.locator("figure.qr svg")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] >= 150
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert page.inner_text("#totp-secret").replace(" ", "") in device.config_url
    shot(page, "12-second-factor-setup")

    page.fill("#id_code", code_of(device, shift=10))
    page.press("#id_code", "Enter")
    assert "That code is not right" in page.inner_text("#code-error")
    page.wait_for_timeout(1100)  # the device waits a second after a wrong code
    page.fill("#id_code", code_of(device))
    page.press("#id_code", "Enter")
    # The recovery codes are shown once, right after the set-up.
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    shot(page, "12b-recovery-codes")
    page.click("text=I have kept them")
    page.wait_for_url(f"{live_server.url}/")
    assert "Welcome" in page.inner_text("h1")

    page.click("text=Sign out")
    page.wait_for_url("**/accounts/login/")
    _password_step(page, live_server)
    page.wait_for_url("**/accounts/security/verify/**")
    shot(page, "13-second-factor-verify")
    # The code just used is spent: the app's next code is accepted (one step of tolerance).
    # The device may have learnt a drift of one step at the set-up (a code given across a 30 s
    # boundary), so the app's clock is read as the server now knows it.
    device.refresh_from_db()
    page.fill("#id_code", code_of(device, shift=1))
    page.press("#id_code", "Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/accounts/security/")
    assert "On: after your password" in page.inner_text("#factor-state")
    assert page.locator("text=Turn off").count() == 0
    shot(page, "14-security-page")
