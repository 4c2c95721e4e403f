"""The follow-up cockpit in a real browser: a nurse's failed attempts make a call missed, then a
data manager marks the patient proposed as lost to follow-up."""

import datetime as dt

import pytest

from followup import schedule
from followup.services import call_record_attempt
from tests.factories import enrol

pytestmark = pytest.mark.django_db(transaction=True)

NO_ANSWER, VOICEMAIL = "#id_outcome_1", "#id_outcome_2"


@pytest.fixture
def unreachable_patient(settings, site_a, nurse_site_a, today):
    """A patient whose W1 and M1 were missed and whose M2 window is open today."""
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 3
    settings.LOST_TO_FOLLOW_UP_AFTER_MISSED = 3
    start = schedule.add_months(today - dt.timedelta(days=5), -2)
    patient = enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)
    for timepoint in ("W1", "M1"):
        call = patient.calls.get(timepoint=timepoint)
        for _ in range(3):
            call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
    m2, m3 = patient.calls.get(timepoint="M2"), patient.calls.get(timepoint="M3")
    assert m2.window_start <= today <= m2.window_end
    assert m3.target_date <= today + dt.timedelta(days=30)
    return patient


def _log_attempt(page, live_server, call, outcome, message="attempt logged"):
    page.goto(f"{live_server.url}/calls/{call.pk}/")
    page.check(outcome)
    with page.expect_navigation():
        page.click("#save-button")
    assert message in page.inner_text(".messages")


def test_nurse_misses_a_third_call_and_the_data_manager_marks_the_patient_lost(
    live_server, new_page, sign_in, shot, today, unreachable_patient, nurse_site_a, data_manager
):
    patient = unreachable_patient
    m2, m3 = patient.calls.get(timepoint="M2"), patient.calls.get(timepoint="M3")
    nurse = new_page()
    sign_in(nurse, "nurse_a")

    nurse.goto(f"{live_server.url}/patients/{patient.pk}/")
    nurse.check(f"#id_calltimes-call_days input[value='{today.isoweekday()}']")
    nurse.fill("#id_calltimes-call_note", "After her physiotherapy session")
    shot(nurse, "cockpit-01-patient-preferred-call-time")
    with nurse.expect_navigation():
        nurse.click("text=Save the call time")
    assert "Preferred call time saved." in nurse.inner_text(".messages")

    nurse.goto(f"{live_server.url}/")
    row = nurse.locator("tr", has=nurse.locator(f"a.button[href='/calls/{m2.pk}/']"))
    assert "Call now" in row.inner_text()
    assert "0 / 3" in row.inner_text()
    shot(nurse, "cockpit-02-worklist-call-now")

    _log_attempt(nurse, live_server, m2, NO_ANSWER)
    _log_attempt(nurse, live_server, m2, VOICEMAIL)
    nurse.goto(f"{live_server.url}/calls/{m2.pk}/")
    attempts = nurse.locator("section.attempts")
    assert "2 earlier attempts" in attempts.inner_text()
    assert attempts.inner_text().count("nurse_a") == 2
    assert "2 / 3" in nurse.inner_text(".facts")
    shot(nurse, "cockpit-03-call-page-attempts")

    _log_attempt(nurse, live_server, m2, NO_ANSWER, message="M2: missed after 3 attempts")
    m2.refresh_from_db()
    assert m2.status == "unreachable"
    # Back on the worklist: M2 is gone, M3 is due.
    assert nurse.locator(f"a[href='/calls/{m2.pk}/']").count() == 0
    assert nurse.locator(f"a.button[href='/calls/{m3.pk}/']").count() == 1
    shot(nurse, "cockpit-04-worklist-next-call-due")

    manager = new_page()
    sign_in(manager, "datamanager")
    panel = manager.locator("section.lost-proposals")
    assert "1 patient has missed several calls in a row." in panel.inner_text()
    shot(manager, "cockpit-05-data-manager-home")
    with manager.expect_navigation():
        panel.locator("a", has_text="Review the proposals").click()
    proposal = manager.locator(f"#proposal-{patient.pk}")
    assert patient.study_code in proposal.inner_text()
    assert [
        manager.locator(f"#proposal-{patient.pk} tbody tr").nth(n).inner_text().split("\t")[0]
        for n in range(3)
    ] == ["Week 1", "Month 1", "Month 2"]
    reason = manager.input_value(f"#id_p{patient.pk}-lost-reason")
    assert reason == "Not reached at 3 consecutive calls (W1, M1, M2)"
    shot(manager, "cockpit-06-lost-to-follow-up-proposals")
    with manager.expect_navigation():
        proposal.locator("button", has_text="Mark lost to follow-up").click()
    assert "is lost to follow-up" in manager.inner_text(".messages")
    assert "No patient is proposed as lost to follow-up." in manager.inner_text("main")
    shot(manager, "cockpit-07-patient-marked-lost")
    patient.refresh_from_db()
    assert (patient.status, patient.status_date) == ("lost", today)
    assert not patient.calls.filter(status="due").exists()
