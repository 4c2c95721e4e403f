"""The other pages in a real browser, on a laptop and a tablet; screenshots for the docs."""

import datetime as dt

import pytest

from followup.services import questionnaires_save
from tests.browser.conftest import TABLET
from tests.factories import enrol
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def followed_patient(site_a, nurse_site_a, today):
    start = today - dt.timedelta(days=40)
    return enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)


def test_enrolment_lists_eligibility_problems_and_keeps_the_input(
    live_server, new_page, sign_in, shot, nurse_site_a
):
    page = new_page()
    sign_in(page, "nurse_a")
    page.click("text=Enrol a patient")
    shot(page, "06-enrolment")
    page.fill("#id_patient-age", "17")
    page.fill("#id_patient-pain_duration_months", "3")
    page.fill("#id_patient-last_name", "Bernard")
    page.select_option("#id_patient-etiology", "fibromyalgia")
    assert page.is_disabled("#id_patient-dn4")
    page.click("button.primary")
    summary = page.locator("#error-summary").inner_text()
    assert "18 or older" in summary
    assert "more than 6 months" in summary
    assert "non-opposition" in summary
    assert page.input_value("#id_patient-last_name") == "Bernard"
    shot(page, "07-enrolment-errors")


def test_patient_file_and_tablet_call_page(
    live_server, new_page, sign_in, shot, nurse_site_a, followed_patient
):
    page = new_page(TABLET)
    sign_in(page, "nurse_a")
    page.goto(f"{live_server.url}/patients/{followed_patient.pk}/")
    assert "MARTIN Jeanne" in page.inner_text("header.call-header")
    shot(page, "08-patient-file-tablet")
    call = followed_patient.calls.get(timepoint="M1")
    page.goto(f"{live_server.url}/calls/{call.pk}/")
    page.check("#id_outcome_0", force=True)
    page.check("#id_hads_2_3", force=True)
    page.locator("#scores").get_by_text("HADS 1/14").wait_for()
    # On a tablet the scores sit above the interview, not beside it.
    scores_box = page.locator(".call-side").bounding_box()
    interview_box = page.locator("#interview").bounding_box()
    assert scores_box["y"] < interview_box["y"]
    shot(page, "09-call-entry-tablet")


def test_clinician_sees_the_flagged_call_and_marks_it_reviewed(
    live_server, new_page, sign_in, shot, clinician_site_a, nurse_site_a, followed_patient
):
    depressed = {**VALID, **{f"hads_{n}": 3 for n in range(2, 15, 2)}}
    call = followed_patient.calls.get(timepoint="W1")
    questionnaires_save(call=call, data=depressed, by=nurse_site_a, complete=True)
    page = new_page()
    sign_in(page, "clinician_a")
    assert "HADS depression 11 or more" in page.inner_text("body")
    shot(page, "10-clinician-home-flagged")
    page.click("text=Mark reviewed")
    page.get_by_text("No call waiting for review.").wait_for()


def test_french_nurse_sees_the_worklist_in_french(
    live_server, new_page, sign_in, shot, nurse_site_a, followed_patient
):
    nurse_site_a.language = "fr"
    nurse_site_a.save(update_fields=["language"])
    page = new_page()
    sign_in(page, "nurse_a")
    assert "Appels à passer" in page.inner_text("body")
    shot(page, "11-worklist-french")
