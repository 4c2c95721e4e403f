"""Failed attempts mark a call missed; the next call stays due."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cohort.services import patient_set_call_times
from followup.selectors import worklist_for_user
from followup.services import call_record_attempt, questionnaires_save
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


def _fail(call, by, times, outcome="no_answer"):
    for _ in range(times):
        call_record_attempt(call=call, outcome=outcome, by=by)
    call.refresh_from_db()


def test_a_call_is_marked_missed_by_the_fifth_failed_attempt_by_default(patient_a, nurse_site_a):
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 4)
    assert w1.status == "due"
    _fail(w1, nurse_site_a, 1, outcome="wrong_number")
    assert w1.status == "unreachable"
    assert w1.status_reason == "Missed: 5 attempts without reaching the patient"


def test_marking_a_call_missed_is_in_its_history_with_the_nurse_and_the_reason(
    settings, patient_a, nurse_site_a
):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 2
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 2, outcome="voicemail")
    latest = w1.history.first()
    assert (latest.status, latest.history_user) == ("unreachable", nurse_site_a)
    assert latest.history_change_reason == "Missed: 2 attempts without reaching the patient"


def test_attempts_that_reached_or_closed_the_call_do_not_count_as_failed(
    settings, patient_a, nurse_site_a
):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 3
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 1)
    call_record_attempt(call=w1, outcome="reached", by=nurse_site_a)
    _fail(w1, nurse_site_a, 1, outcome="voicemail")
    assert w1.status == "due"
    _fail(w1, nurse_site_a, 1, outcome="wrong_number")
    assert w1.status == "unreachable"


def test_a_call_reached_before_the_last_attempt_is_not_marked_missed(
    settings, patient_a, nurse_site_a
):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 3
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 2)
    questionnaires_save(
        call=w1, data=VALID, by=nurse_site_a, complete=True, call_date=dt.date(2026, 1, 12)
    )
    w1.refresh_from_db()
    assert w1.status == "reached"
    assert w1.status_reason == ""


def test_only_the_failed_attempts_of_the_call_itself_count(settings, patient_a, nurse_site_a):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 3
    w1, m1 = patient_a.calls.get(timepoint="W1"), patient_a.calls.get(timepoint="M1")
    _fail(w1, nurse_site_a, 2)
    _fail(m1, nurse_site_a, 2)
    w1.refresh_from_db()
    assert (w1.status, m1.status) == ("due", "due")


def test_a_refusal_closes_the_call_as_refused_not_missed(settings, patient_a, nurse_site_a):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 2
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 1)
    _fail(w1, nurse_site_a, 1, outcome="refused")
    assert w1.status == "refused"


def test_the_next_call_stays_due_and_comes_onto_the_worklist(settings, patient_a, nurse_site_a):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 2
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 2)
    worklist = worklist_for_user(nurse_site_a, today=dt.date(2026, 1, 14))
    listed = [c.timepoint for section in worklist.sections() for c in section.rows]
    # W1's window is still open (to 01-15) but the call is missed: only M1 (02-05) is left.
    assert listed == ["M1"]
    assert patient_a.calls.get(timepoint="M1").status == "due"


def test_a_call_whose_window_closed_unreached_stays_overdue_until_marked_missed(
    patient_a, nurse_site_a
):
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 2)
    worklist = worklist_for_user(nurse_site_a, today=dt.date(2026, 1, 20))
    assert [(c.timepoint, c.failed_attempts) for c in worklist.overdue] == [("W1", 2)]


@time_machine.travel(dt.datetime(2026, 1, 12, 13, 30, tzinfo=dt.UTC))
def test_call_page_lists_the_attempts_and_the_preferred_time(client, patient_a, nurse_site_a):
    patient_set_call_times(
        patient=patient_a, call_from=dt.time(14), call_to=dt.time(16), days=[1], by=nurse_site_a
    )
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 2, outcome="voicemail")
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:call_entry", args=[w1.pk])).content.decode()
    assert "2 earlier attempts" in page
    assert page.count("<td>Voicemail</td>") == 2
    assert page.count("<td>nurse_a</td>") == 2
    assert page.count("12 Jan 2026, 14:30") == 2  # local time of the attempts
    assert "Mon · 14:00–16:00" in page
    assert "Call now" in page
    assert "2 / 5" in page


def test_the_nurse_is_told_when_her_attempt_marks_the_call_missed(
    client, settings, patient_a, nurse_site_a
):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 2
    w1 = patient_a.calls.get(timepoint="W1")
    _fail(w1, nurse_site_a, 1)
    client.force_login(nurse_site_a)
    data = {"version": w1.version, "action": "save", "outcome": "no_answer"}
    response = client.post(reverse("followup:call_entry", args=[w1.pk]), data, follow=True)
    assert "SA-0001 W1: missed after 2 attempts without reaching the patient." in (
        response.content.decode()
    )
    w1.refresh_from_db()
    assert w1.status == "unreachable"
