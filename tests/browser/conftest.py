"""Browser fixtures: Debian's Chromium, headless, driven by Playwright against the live server."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))

LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}
PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _allow_sync_orm_beside_playwright(monkeypatch):
    # Playwright's synchronous API runs an event loop in the test thread; the test itself still
    # talks to the database synchronously, which Django refuses unless told this is intended.
    # Set per test only, so that no other test (nor its subprocesses) inherits it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_allow_sync_orm_beside_playwright, live_server, transactional_db):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make test` (it installs it).")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (separate cookies), closed after the test."""
    contexts = []

    def open_page(viewport: dict[str, int] = LAPTOP):
        context = browser.new_context(viewport=viewport, locale="en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    """Save a screenshot under $SCREENSHOT_DIR (docs/screenshots when refreshing them)."""
    folder = os.environ.get("SCREENSHOT_DIR")

    def take(page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def sign_in(live_server):
    """Sign in through the page; a user with an authenticator also gives its current code."""

    def do(page, username: str) -> None:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests.browser.second_factor import code_of, sign_in_with_code

        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is not None:
            sign_in_with_code(page, live_server, username, code_of(device))
            return
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/")

    return do


@pytest.fixture
def today():
    return dt.date.today()
