"""Second-factor helpers for browser tests: the code an authenticator app would show."""

from __future__ import annotations

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD


def code_of(device: TOTPDevice, shift: int = 0) -> str:
    """Return the code the authenticator app shows now (``shift`` time steps away)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + shift * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in_with_code(page, live_server, username: str, code: str) -> None:
    """Sign in with the password, then give the authenticator's code."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/security/verify/**")
    page.fill("#id_code", code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
