"""A query in a real browser: the data manager raises it, the nurse corrects, the manager closes."""

import datetime as dt

import pytest

from followup.services import call_save
from quality.models import Query
from tests.factories import enrol
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def made_call(site_a, nurse_site_a, today):
    """A W1 call completed three weeks ago."""
    start = today - dt.timedelta(days=28)
    patient = enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)
    call = patient.calls.get(timepoint="W1")
    return call_save(
        call=call, data=VALID, by=nurse_site_a, complete=True, call_date=call.target_date
    )


def test_data_manager_raises_nurse_corrects_data_manager_closes(
    live_server, new_page, sign_in, shot, made_call, nurse_site_a, data_manager
):
    manager = new_page()
    sign_in(manager, "datamanager")
    manager.goto(f"{live_server.url}/calls/{made_call.pk}/")
    manager.select_option("#query-target", f"call:{made_call.pk}:nprs_max")
    manager.select_option("#query-kind", "inconsistent")
    manager.fill("#query-text", "Maximal pain 8 with a mean of 6: please check with the patient.")
    shot(manager, "quality-01-data-manager-raises-a-query")
    manager.click("text=Raise the query")
    manager.wait_for_selector("#id_nprs_max_query")
    query = Query.objects.get()
    assert query.state == "open"

    nurse = new_page()
    sign_in(nurse, "nurse_a")
    panel = nurse.locator("#open-queries")
    assert "please check with the patient" in panel.inner_text()
    shot(nurse, "quality-02-nurse-home-with-an-open-query")
    panel.locator("a", has_text="please check").click()
    nurse.wait_for_url(f"**/calls/{made_call.pk}/#queries")
    field = nurse.locator(".field.queried")
    assert "please check with the patient" in field.inner_text()
    assert field.locator("#id_nprs_max").count() == 1
    shot(nurse, "quality-03-call-page-with-the-queried-field")
    nurse.check("#id_outcome_0")
    nurse.fill("#id_nprs_max", "9")
    nurse.fill("#id_reason", "The patient said 9 at the call; typed 8 by mistake.")
    with nurse.expect_navigation():
        nurse.click("#save-button")
    assert "error-summary" not in nurse.content(), nurse.inner_text("main")[:600]
    query.refresh_from_db()
    assert query.state == "answered"

    manager.goto(f"{live_server.url}/queries/?state=answered")
    manager.click(f"a[href='/queries/{query.pk}/'] >> nth=0")
    assert manager.inner_text("#query-state") == "Answered"
    assert "typed 8 by mistake" in manager.inner_text(".thread")
    shot(manager, "quality-04-data-manager-reads-the-answer")
    manager.click("#close-button")
    manager.wait_for_selector("#query-state:has-text('Closed')")
    shot(manager, "quality-05-query-closed")
    query.refresh_from_db()
    assert query.state == "closed"
    assert list(query.messages.values_list("action", flat=True)) == ["raise", "correct", "close"]
