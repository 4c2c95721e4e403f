"""Safety in a real browser: a nurse records a serious effect, the clinician of the site sees
it on top of the home page and acknowledges it, the next call asks whether it is still present.
Screenshots in English and French (SCREENSHOT_DIR)."""

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from followup.models import AdverseEvent
from safety.models import SafetyAlert
from tests.browser.test_call_flows import SF12_ANSWERS, _tab_to
from tests.factories import enrol, make_user

pytestmark = pytest.mark.django_db(transaction=True)

EFFECT = "dissociation_hallucination"


@pytest.fixture
def due_call(site_a, nurse_site_a, today):
    start = today - dt.timedelta(days=7)
    patient = enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)
    return patient.calls.get(timepoint="W1")


@pytest.fixture
def clinician(site_a):
    user = make_user("clinician_a", Role.CLINICIAN, [site_a])
    user.email = "clinician_a@hospital.test"
    user.save(update_fields=["email"])
    return user


def _shot_of(page, selector: str, name: str) -> None:
    """Save a screenshot of one part of the page under $SCREENSHOT_DIR, when set."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.locator(selector).screenshot(path=str(Path(folder) / f"{name}.png"))


def _in_french(page) -> None:
    page.click("button[name=language][value=fr]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"


def test_a_serious_effect_goes_from_the_nurse_to_the_clinician_and_back_to_the_next_call(
    live_server, new_page, sign_in, shot, nurse_site_a, clinician, due_call, today, mailoutbox
):
    # The nurse records a severe, serious dissociation while completing the call.
    nurse = new_page()
    sign_in(nurse, "nurse_a")
    nurse.goto(f"{live_server.url}/calls/{due_call.pk}/")
    _tab_to(nurse, "el.name === 'outcome'")
    nurse.keyboard.press("1")  # Reached
    _tab_to(nurse, "el.name === 'nprs_mean'")
    nurse.keyboard.type("6")
    nurse.keyboard.press("Enter")
    nurse.keyboard.type("8")
    _tab_to(nurse, "el.name === 'hads_1'")
    for _ in range(14):
        nurse.keyboard.press("2")
    _tab_to(nurse, "el.name === 'sf12_gh1'")
    for digit in SF12_ANSWERS:
        nurse.keyboard.press(digit)
    expect(nurse.locator("#scores")).to_contain_text("SF-12 12/12")
    nurse.check(f"#id_ae_{EFFECT}", force=True)
    nurse.check(f"#id_ae_{EFFECT}_severity_2", force=True)  # severe
    nurse.check(f"#id_ae_{EFFECT}_serious", force=True)
    nurse.check(f"#id_ae_{EFFECT}_criteria_2", force=True)  # hospitalisation
    nurse.fill(f"#id_ae_{EFFECT}_start_date", (today - dt.timedelta(days=1)).isoformat())
    nurse.select_option(f"#id_ae_{EFFECT}_outcome", "not_recovered")
    nurse.locator("#adverse-effects").scroll_into_view_if_needed()
    shot(nurse, "safety-01-nurse-records-serious-effect")
    _shot_of(nurse, "#adverse-effects", "safety-01b-adverse-effects-checklist")
    nurse.click("#save-button")
    nurse.wait_for_url(f"{live_server.url}/calls/")
    effect = AdverseEvent.objects.get()
    assert (effect.serious, effect.criteria, effect.outcome) == (
        True,
        ["hospitalisation"],
        "not_recovered",
    )
    alert = SafetyAlert.objects.get()
    assert [m.to for m in mailoutbox] == [["clinician_a@hospital.test"]]

    # The clinician of the site sees it first on the home page and in the badge.
    doctor = new_page()
    sign_in(doctor, "clinician_a")
    first_card = doctor.locator("main section.card").first
    assert first_card.get_attribute("id") == "safety-alerts"
    assert "Dissociation or hallucinations" in first_card.inner_text()
    assert doctor.inner_text("#nav-safety .badge").startswith("1")
    shot(doctor, "safety-02-clinician-home-alert")
    # The same in French (the choice is the user's: back to English afterwards).
    _in_french(doctor)
    expect(doctor.locator("#safety-alerts")).to_contain_text("Effet indésirable grave")
    shot(doctor, "safety-03-clinician-home-alert-fr")
    doctor.goto(f"{live_server.url}/safety/alerts/{alert.pk}/")
    expect(doctor.locator("#acknowledge")).to_contain_text("Prendre en compte")
    shot(doctor, "safety-04-alert-page-fr")
    doctor.click("button[name=language][value=en]")
    doctor.wait_for_load_state()
    doctor.goto(f"{live_server.url}/")
    doctor.click("#safety-alerts a.button")
    doctor.wait_for_url(f"**/safety/alerts/{alert.pk}/")
    doctor.click("#acknowledge button[type=submit]")  # nothing chosen: refused, nothing lost
    expect(doctor.locator("#acknowledge .error").first).to_be_visible()
    doctor.check("input[name=relation][value=probable]", force=True)
    doctor.select_option("#id_action_taken", "interrupted")
    doctor.fill("#id_assessment", "Dissociation after the infusion; next course postponed.")
    shot(doctor, "safety-05-clinician-acknowledges")
    doctor.click("#acknowledge button[type=submit]")
    doctor.wait_for_url(f"{live_server.url}/")
    assert doctor.locator("#safety-alerts").count() == 0
    assert doctor.locator("#nav-safety .badge").count() == 0
    alert.refresh_from_db()
    effect.refresh_from_db()
    assert alert.acknowledged_by == clinician
    assert (effect.relation, effect.action_taken) == ("probable", "interrupted")

    # At the next call the nurse is asked whether it is still present, and records the outcome.
    next_call = due_call.patient.calls.get(timepoint="M1")
    nurse.goto(f"{live_server.url}/calls/{next_call.pk}/")
    section = nurse.locator("#open-effects")
    expect(section).to_contain_text("Dissociation or hallucinations")
    shot(nurse, "safety-06-next-call-asks")
    _in_french(nurse)
    expect(section).to_contain_text("toujours présent")
    shot(nurse, "safety-07-next-call-asks-fr")
    row = section.locator(f"#effect-{effect.pk}")
    row.locator("select[name=outcome]").select_option("recovered")
    row.locator("input[name=resolution_date]").fill(today.isoformat())
    row.locator("button[type=submit]").click()
    nurse.wait_for_url(f"**/calls/{next_call.pk}/")
    assert nurse.locator("#open-effects").count() == 0
    effect.refresh_from_db()
    assert (effect.outcome, effect.resolution_date) == ("recovered", today)
