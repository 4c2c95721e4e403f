"""Lock and sign-off in a real browser: lock, sign with the password, unlock, edit, voided."""

import datetime as dt

import pytest

from cohort.models import PatientLock, Signature
from tests.factories import enrol, finish_follow_up
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db(transaction=True)


def _name(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()


@pytest.fixture
def finished(site_a, nurse_site_a, clinician_site_a, data_manager, today):
    """A patient included three months ago, W1 completed, then lost to follow-up."""
    _name(nurse_site_a, "Nina", "Petit")
    _name(clinician_site_a, "Claire", "Roux")
    _name(data_manager, "Dana", "Moreau")
    start = today - dt.timedelta(days=90)
    patient = enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)
    return finish_follow_up(patient, by=nurse_site_a, answers=VALID)


def test_lock_sign_unlock_edit_and_the_signature_is_voided(
    live_server, new_page, sign_in, shot, finished
):
    patient_url = f"{live_server.url}/patients/{finished.pk}/"

    manager = new_page()
    sign_in(manager, "datamanager")
    assert "Follow-ups ready to lock" in manager.inner_text("#ready-to-lock")
    manager.goto(patient_url)
    shot(manager, "lock-01-data-manager-sees-a-finished-follow-up")
    with manager.expect_navigation():
        manager.click("#lock-button")
    assert "Locked by Dana Moreau on" in manager.inner_text("#lock-state")
    shot(manager, "lock-02-follow-up-locked")

    clinician = new_page()
    sign_in(clinician, "clinician_a")
    panel = clinician.locator("#awaiting-signature")
    assert finished.study_code in panel.inner_text()
    shot(clinician, "lock-03-clinician-home-awaiting-signature")
    with clinician.expect_navigation():
        panel.locator("a.button").click()
    assert "complete and accurate" in clinician.inner_text("#signature-meaning")
    clinician.fill("#id_password", "not-my-password")
    with clinician.expect_navigation():
        clinician.click("#sign-button")
    assert "Wrong password: nothing was signed." in clinician.inner_text("main")
    assert not Signature.objects.exists()
    shot(clinician, "lock-04-sign-page-wrong-password")
    clinician.fill("#id_password", "a-long-test-password")
    with clinician.expect_navigation():
        clinician.click("#sign-button")
    assert "Signed by Dr Claire Roux on" in clinician.inner_text("#signature-state")
    shot(clinician, "lock-05-signed")

    nurse = new_page()
    sign_in(nurse, "nurse_a")
    nurse.goto(patient_url)
    assert "no change until a data manager unlocks it" in nurse.inner_text("#lock-state")
    assert nurse.locator("text=Record an administration").count() == 0
    shot(nurse, "lock-06-nurse-sees-the-locked-follow-up")

    manager.goto(patient_url)
    manager.fill("#id_unlock-reason", "Mean pain at W1 queried by the monitor")
    shot(manager, "lock-07-data-manager-unlocks-with-a-reason")
    with manager.expect_navigation():
        manager.click("#unlock-button")
    assert not PatientLock.objects.get().locked

    w1 = finished.calls.get(timepoint="W1")
    nurse.goto(f"{live_server.url}/calls/{w1.pk}/")
    nurse.check("#id_outcome_0")
    nurse.fill("#id_nprs_mean", "5")
    nurse.fill("#id_reason", "The patient said 5; 6 was typed by mistake.")
    with nurse.expect_navigation():
        nurse.click("#save-button")
    assert "error-summary" not in nurse.content(), nurse.inner_text("main")[:600]
    nurse.goto(patient_url)
    voided = nurse.inner_text("#signature-voided")
    assert "Signature of Dr Claire Roux on" in voided
    assert "was voided by the change of call W1 by Nina Petit (research nurse) on" in voided
    shot(nurse, "lock-08-signature-voided-by-the-change")
