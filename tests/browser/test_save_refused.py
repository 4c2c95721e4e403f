"""A nurse's save that the database refuses, in a real browser: the message, her answers kept."""

import datetime as dt

import pytest

from followup.models import FollowUpCall
from tests.database import write_lock_held_elsewhere
from tests.factories import enrol

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def due_call(site_a, nurse_site_a, today):
    """A W1 call whose target date is today."""
    start = today - dt.timedelta(days=7)
    patient = enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)
    return patient.calls.get(timepoint="W1")


def test_nurse_whose_save_is_refused_keeps_her_answers_and_saves_again(
    live_server, new_page, sign_in, shot, nurse_site_a, due_call, short_lock_wait
):
    page = new_page()
    sign_in(page, "nurse_a")
    url = f"{live_server.url}/calls/{due_call.pk}/"
    page.goto(url)
    page.check("#id_outcome_0", force=True)
    page.fill("#id_nprs_mean", "6")
    page.fill("#id_nprs_max", "8")
    page.check("#id_hads_3_2", force=True)
    page.fill("#id_note", "Tired after the long drive")

    with write_lock_held_elsewhere(due_call):
        page.click("#draft-button")
        alert = page.locator(".messages [role=alert]")
        alert.wait_for()
    assert "The database did not accept the save" in alert.inner_text()
    assert "your input is still here" in alert.inner_text()
    assert page.input_value("#id_nprs_mean") == "6"
    assert page.input_value("#id_nprs_max") == "8"
    assert page.is_checked("#id_hads_3_2")
    assert page.input_value("#id_note") == "Tired after the long drive"
    shot(page, "call-entry-save-refused")
    assert not FollowUpCall.objects.get(pk=due_call.pk).attempts.exists()
    assert FollowUpCall.objects.get(pk=due_call.pk).version == due_call.version

    page.click("#draft-button")
    page.wait_for_url(url)
    assert "Draft saved" in page.inner_text(".messages")
    assert page.locator(".messages [role=alert]").count() == 0
    saved = FollowUpCall.objects.get(pk=due_call.pk)
    assert saved.nprs.mean == 6
    assert saved.nprs.maximum == 8
    assert saved.hads.item_3 is not None
