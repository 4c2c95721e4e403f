"""Daily use in a real browser: the worklist at scale, the language switch, a call in French."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.services import user_set_role
from tests.factories import enrol

pytestmark = pytest.mark.django_db(transaction=True)

PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def _english_messages() -> set[str]:
    """Return the English messages whose French differs (what must not show in French)."""
    found = set()
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        match = re.search(r'^msgid "(.+)"\nmsgstr "(.+)"$', block, re.M)
        if match and match.group(1) != match.group(2) and "%" not in match.group(1):
            found.add(match.group(1).replace('\\"', '"'))
    return found


def _due_today(site, nurse, today, count):
    start = today - dt.timedelta(days=7)
    return [
        enrol(site, by=nurse, inclusion_date=start, consent_date=start, last_name=f"Patient{n}")
        for n in range(count)
    ]


def test_the_worklist_pages_through_its_sections_and_filters_by_site_and_code(
    live_server, new_page, sign_in, shot, site_a, site_b, nurse_site_a, today
):
    user_set_role(user=nurse_site_a, role=Role.NURSE, sites=[site_a, site_b])
    _due_today(site_a, nurse_site_a, today, 27)
    _due_today(site_b, nurse_site_a, today, 2)
    page = new_page()
    sign_in(page, "nurse_a")
    page.goto(f"{live_server.url}/calls/")
    section = page.locator("#section-due_today")
    expect(section.locator(".badge")).to_have_text("29")
    assert section.locator("tbody tr").count() == 25
    assert "1–25 of 29" in section.locator(".pager").inner_text()
    shot(page, "worklist-01-first-page")
    section.get_by_role("link", name="Next").click()
    page.wait_for_url("**page_due_today=2**")
    section = page.locator("#section-due_today")
    assert section.locator("tbody tr").count() == 4
    assert "26–29 of 29" in section.locator(".pager").inner_text()
    shot(page, "worklist-02-second-page")

    page.select_option("#id_site", "SB")
    page.click(".worklist-filters button[type=submit]")
    page.wait_for_url("**site=SB**")
    section = page.locator("#section-due_today")
    expect(section.locator(".badge")).to_have_text("2")
    assert "Due today 2" in " ".join(page.locator(".section-counts").inner_text().split())
    shot(page, "worklist-03-one-site")

    page.select_option("#id_site", "")
    page.fill("#id_q", "SA-0013")
    page.click(".worklist-filters button[type=submit]")
    section = page.locator("#section-due_today")
    expect(section.locator(".badge")).to_have_text("1")
    assert section.locator("tbody tr").count() == 1
    assert "SA-0013" in section.inner_text()
    shot(page, "worklist-04-study-code")


def test_the_language_switch_works_for_everyone_and_the_account_choice_sticks(
    live_server, new_page, sign_in, shot, nurse_site_a
):
    page = new_page()  # an English browser
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("h1").inner_text() == "Sign in"
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Connexion")
    assert page.get_attribute("html", "lang") == "fr"
    shot(page, "language-01-anonymous-switch")

    sign_in(page, "nurse_a")
    assert "Appels à passer" in page.inner_text("main")
    nurse_site_a.refresh_from_db()
    assert nurse_site_a.language == ""  # not chosen yet: the switch of this browser applies

    page.goto(f"{live_server.url}/accounts/security/")
    page.select_option("#id_language", "en")
    page.get_by_role("button", name="Enregistrer la langue").click()
    expect(page.locator("h1")).to_have_text("Security")
    shot(page, "language-02-account-choice")
    nurse_site_a.refresh_from_db()
    assert nurse_site_a.language == "en"

    french_browser = new_page()  # the same user from a French browser: the choice wins
    french_browser.context.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    sign_in(french_browser, "nurse_a")
    assert "Calls to make" in french_browser.inner_text("main")
    french_browser.get_by_role("button", name="Français").click()  # signed in: stored
    expect(french_browser.locator("main")).to_contain_text("Appels à passer")
    nurse_site_a.refresh_from_db()
    assert nurse_site_a.language == "fr"


def test_a_browser_in_french_gets_french_until_the_user_chooses(
    live_server, browser, sign_in, nurse_site_a
):
    context = browser.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr"})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("h1").inner_text() == "Connexion"
    sign_in(page, "nurse_a")
    assert "Appels à passer" in page.inner_text("main")
    context.close()


def test_a_call_entered_in_french_shows_every_label_in_french(
    live_server, new_page, sign_in, shot, site_a, nurse_site_a, today
):
    nurse_site_a.language = "fr"
    nurse_site_a.save(update_fields=["language"])
    call = _due_today(site_a, nurse_site_a, today, 1)[0].calls.get(timepoint="W1")
    page = new_page()
    sign_in(page, "nurse_a")
    page.goto(f"{live_server.url}/calls/{call.pk}/")
    english = _english_messages()
    shown = page.locator("main :is(label, legend, th, h1, h2, h3, button, option, .hint)")
    shown = shown.all_inner_texts()
    untranslated = sorted({" ".join(text.split()) for text in shown} & english)
    assert untranslated == []
    assert "HADS 1 - tension (A)" in page.inner_text("#hads")  # neutral labels, in French too
    assert "EN - intensité moyenne" not in page.inner_text("main")  # licensed label absent
    assert "Douleur moyenne (0-10)" in page.inner_text("main")
    page.check("#id_outcome_0", force=True)
    page.fill("#id_nprs_mean", "6")
    page.fill("#id_nprs_max", "8")
    page.check("#id_drug_antidepressant")
    page.fill("#id_drug_step3_opioid_name", "Morphine")  # its class not ticked
    page.click("#draft-button")
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "Cochez la classe ou effacez le nom." in page.inner_text("#treatments")
    assert page.input_value("#id_drug_step3_opioid_name") == "Morphine"
    shot(page, "call-fr-01-refused-beside-the-name")
    page.check("#id_drug_step3_opioid")
    page.click("#draft-button")
    expect(page.locator(".messages")).to_contain_text("Brouillon enregistré")
    assert page.input_value("#id_drug_step3_opioid_name") == "Morphine"
    shot(page, "call-fr-02-draft-saved")
