"""A nurse's calls, driven in a real browser: keyboard entry, errors, two editors at once."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from followup.models import FollowUpCall
from followup.validators import SF12_FIELDS
from tests.factories import enrol

pytestmark = pytest.mark.django_db(transaction=True)

SF12_ANSWERS = "322122243434"  # GH1..SF2, one digit each


@pytest.fixture
def due_call(site_a, nurse_site_a, today):
    """A W1 call whose target date is today."""
    start = today - dt.timedelta(days=7)
    patient = enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)
    return patient.calls.get(timepoint="W1")


def _tab_to(page, predicate: str, limit: int = 200) -> None:
    """Press Tab until the focused element satisfies a JavaScript predicate on `el`."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"never reached an element with {predicate}")


def test_nurse_completes_a_call_by_keyboard_and_it_leaves_the_worklist(
    live_server, new_page, sign_in, shot, nurse_site_a, due_call
):
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    shot(page, "01-sign-in")
    sign_in(page, "nurse_a")
    worklist = page.locator("#section-due_today")
    assert "MARTIN Jeanne" in worklist.inner_text()
    shot(page, "02-nurse-worklist")

    _tab_to(page, "el.classList.contains('button') && el.href.includes('/calls/')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/calls/{due_call.pk}/")

    _tab_to(page, "el.name === 'outcome'")
    page.keyboard.press("1")  # Reached
    assert page.is_checked("#id_outcome_0")
    _tab_to(page, "el.name === 'nprs_mean'")
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    page.keyboard.type("8")
    _tab_to(page, "el.name === 'hads_1'")
    for _ in range(14):
        page.keyboard.press("2")
    _tab_to(page, "el.name === 'sf12_gh1'")
    for digit in SF12_ANSWERS:
        page.keyboard.press(digit)
    scores = page.locator("#scores")
    # Each answer asks the server for the scores; wait for the answer to the last one.
    expect(scores).to_contain_text("SF-12 12/12")
    assert "HADS 14/14" in scores.inner_text()
    shot(page, "03-call-entry-completed-by-keyboard")

    _tab_to(page, "el.id === 'save-button'")
    assert page.inner_text("#save-button") == "Complete the call"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/calls/")
    assert "call completed" in page.inner_text(".messages")
    assert f"/calls/{due_call.pk}/" not in page.content()
    due_call.refresh_from_db()
    assert due_call.status == "reached"
    assert due_call.hads.anxiety == 14
    assert due_call.sf12.pcs is not None
    assert due_call.nprs.mean == 6
    assert due_call.nprs.maximum == 8


def test_a_validation_error_keeps_what_was_typed(
    live_server, new_page, sign_in, shot, nurse_site_a, due_call
):
    page = new_page()
    sign_in(page, "nurse_a")
    page.goto(f"{live_server.url}/calls/{due_call.pk}/")
    page.check("#id_outcome_0", force=True)
    page.fill("#id_nprs_mean", "8")
    page.fill("#id_nprs_max", "5")
    page.check("#id_hads_3_2", force=True)
    page.check("#id_ae_nausea")
    page.click("#save-button")
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "Maximal pain" in summary.inner_text()
    assert "Nausea" in page.inner_text("#adverse-effects")
    assert page.input_value("#id_nprs_mean") == "8"
    assert page.is_checked("#id_hads_3_2")
    assert page.is_checked("#id_ae_nausea")
    shot(page, "04-call-entry-errors")
    assert FollowUpCall.objects.get(pk=due_call.pk).status == "due"


def test_second_editor_is_told_of_the_conflict_and_keeps_their_input(
    live_server, new_page, sign_in, shot, nurse_site_a, due_call
):
    first, second = new_page(), new_page()
    sign_in(first, "nurse_a")
    sign_in(second, "nurse_a")
    url = f"{live_server.url}/calls/{due_call.pk}/"
    first.goto(url)
    second.goto(url)
    first.fill("#id_nprs_mean", "4")
    first.click("#draft-button")
    first.wait_for_url(url)
    second.fill("#id_nprs_mean", "7")
    second.check("#id_hads_1_3", force=True)
    second.click("#draft-button")
    second.locator("#error-summary").wait_for()
    assert "changed by someone else" in second.inner_text("#error-summary")
    assert second.input_value("#id_nprs_mean") == "7"
    assert second.is_checked("#id_hads_1_3")
    shot(second, "05-call-entry-conflict")
    due_call.refresh_from_db()
    assert due_call.nprs.mean == 4


def test_a_blank_item_is_refused_beside_it_until_its_reason_is_picked(
    live_server, new_page, sign_in, shot, nurse_site_a, due_call
):
    page = new_page()
    sign_in(page, "nurse_a")
    page.goto(f"{live_server.url}/calls/{due_call.pk}/")
    page.check("#id_outcome_0", force=True)
    page.fill("#id_nprs_mean", "5")
    page.fill("#id_nprs_max", "7")
    for n in range(1, 15):
        if n != 6:
            page.check(f"#id_hads_{n}_1", force=True)
    for field, digit in zip(SF12_FIELDS, SF12_ANSWERS, strict=True):
        page.check(f"#id_{field}_{int(digit) - 1}", force=True)
    page.click("#save-button")
    error = page.locator("#id_hads_6_error")
    error.wait_for()
    assert "why it is missing" in error.inner_text()
    assert page.is_checked("#id_hads_5_1"), "the answers given are kept"
    shot(page, "05-call-entry-blank-item")

    page.select_option("#id_hads_6_missing_reason", "refused")
    page.click("#save-button")
    page.wait_for_url(f"{live_server.url}/calls/")
    hads = FollowUpCall.objects.get(pk=due_call.pk).hads
    assert hads.item_6 is None
    assert hads.item_reasons == {"hads_6": "refused"}
    assert hads.depression is not None, "one blank item is prorated"
