"""Pages of the lock and sign-off: who sees and does what, and what the patient page says."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from cohort import services
from cohort.models import PatientLock, Signature
from followup.services import questionnaires_save
from tests.factories import PASSWORD, make_user
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked(finished, manager):
    services.patient_lock(patient=finished, by=manager)
    return finished


def _page(client, user, patient):
    client.force_login(user)
    response = client.get(reverse("cohort:patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_data_manager_sees_lock_on_a_finished_follow_up_and_locks_it(client, manager, finished):
    assert 'id="lock-button"' in _page(client, manager, finished)
    response = client.post(reverse("cohort:patient_lock", args=[finished.pk]))
    assert response.status_code == 302
    assert PatientLock.objects.get(patient=finished).locked_by == manager
    page = _page(client, manager, finished)
    assert "Locked by Dana Moreau on " in page
    assert 'id="unlock-button"' in page


def test_data_manager_is_told_why_a_running_follow_up_cannot_be_locked(client, manager, patient_a):
    page = _page(client, manager, patient_a)
    assert 'id="lock-button"' not in page
    assert "it can be locked once it ends" in page
    response = client.post(reverse("cohort:patient_lock", args=[patient_a.pk]), follow=True)
    assert "14 calls are still open" in response.content.decode()
    assert not PatientLock.objects.exists()


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a", "statistician"])
@pytest.mark.parametrize("name", ["cohort:patient_lock", "cohort:patient_unlock"])
def test_only_data_managers_lock_and_unlock(client, persona, name, locked, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(reverse(name, args=[locked.pk]), {"unlock-reason": "Because"})
    assert response.status_code == 403
    assert PatientLock.objects.get(patient=locked).locked


def test_unlocking_without_a_reason_is_refused_on_the_page(client, manager, locked):
    client.force_login(manager)
    response = client.post(
        reverse("cohort:patient_unlock", args=[locked.pk]), {"unlock-reason": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert PatientLock.objects.get(patient=locked).locked


def test_unlocking_with_a_reason_unlocks(client, manager, locked):
    client.force_login(manager)
    response = client.post(
        reverse("cohort:patient_unlock", args=[locked.pk]), {"unlock-reason": "W1 pain queried"}
    )
    assert response.status_code == 302
    lock = PatientLock.objects.get(patient=locked)
    assert not lock.locked
    assert lock.unlock_reason == "W1 pain queried"


def test_nurse_sees_the_lock_and_no_edit_controls(client, nurse_site_a, locked):
    page = _page(client, nurse_site_a, locked)
    assert "Locked by Dana Moreau on " in page
    assert "no change until a data manager unlocks it" in page
    assert "Record an administration" not in page
    assert "Correct<span" not in page
    assert 'id="lock-button"' not in page
    assert 'id="unlock-button"' not in page
    assert 'id="sign-link"' not in page


def test_nurse_call_page_of_a_locked_patient_disables_saving_and_refuses_a_post(
    client, nurse_site_a, locked
):
    w1 = locked.calls.get(timepoint="W1")
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:call_entry", args=[w1.pk])).content.decode()
    assert 'id="call-locked"' in page
    assert 'id="save-button" disabled' in page
    data = {**VALID, "version": w1.version, "action": "draft", "reason": "Misheard"}
    response = client.post(reverse("followup:call_entry", args=[w1.pk]), data)
    assert response.status_code == 400
    assert "This patient&#x27;s follow-up is locked by Dana Moreau" in response.content.decode()


def test_clinician_of_the_site_signs_with_the_password(client, clinician, locked):
    page = _page(client, clinician, locked)
    assert 'id="sign-link"' in page
    response = client.get(reverse("cohort:patient_sign", args=[locked.pk]))
    text = response.content.decode()
    assert "I confirm that the follow-up data of this patient are complete and accurate." in text
    assert 'autocomplete="current-password"' in text
    response = client.post(reverse("cohort:patient_sign", args=[locked.pk]), {"password": PASSWORD})
    assert response.status_code == 302
    assert Signature.objects.get().signer == clinician
    assert "Signed by Dr Claire Roux on " in _page(client, clinician, locked)


def test_signing_with_a_wrong_password_says_so_and_signs_nothing(client, clinician, locked):
    client.force_login(clinician)
    response = client.post(reverse("cohort:patient_sign", args=[locked.pk]), {"password": "nope"})
    assert response.status_code == 400
    assert "Wrong password: nothing was signed." in response.content.decode()
    assert not Signature.objects.exists()


@pytest.mark.parametrize("persona", ["nurse_site_a", "data_manager", "statistician"])
def test_other_roles_cannot_open_the_signing_page(client, persona, locked, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("cohort:patient_sign", args=[locked.pk]))
    assert response.status_code == 403


def test_clinician_of_another_site_gets_404(client, locked, site_b):
    client.force_login(make_user("clinician_b", Role.CLINICIAN, [site_b]))
    for name in ("cohort:patient_sign", "cohort:patient_detail"):
        assert client.get(reverse(name, args=[locked.pk])).status_code == 404
    response = client.post(reverse("cohort:patient_sign", args=[locked.pk]), {"password": PASSWORD})
    assert response.status_code == 404
    assert not Signature.objects.exists()


def test_patient_page_says_which_change_voided_the_signature(
    client, locked, manager, clinician, nurse_site_a
):
    nurse_site_a.first_name, nurse_site_a.last_name = "Nina", "Petit"
    nurse_site_a.save()
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    services.patient_unlock(patient=locked, by=manager, reason="W1 pain queried")
    w1 = locked.calls.get(timepoint="W1")
    questionnaires_save(call=w1, data={**VALID, "nprs_mean": 5}, by=nurse_site_a, reason="Said 5")
    page = _page(client, nurse_site_a, locked)
    assert "Unlocked by Dana Moreau on " in page
    assert ": W1 pain queried" in page
    assert "Signature of Dr Claire Roux on " in page
    assert "was voided by the change of call W1 by Nina Petit (research nurse) on " in page


def test_data_manager_home_counts_the_follow_ups_ready_to_lock(client, manager, finished):
    client.force_login(manager)
    page = client.get(reverse("home")).content.decode()
    assert "Follow-ups ready to lock" in page
    assert "See the follow-up that is over and not locked" in page
    listed = client.get(reverse("cohort:patient_list") + "?lock=ready").content.decode()
    assert finished.study_code in listed


def test_clinician_home_lists_locked_follow_ups_awaiting_a_signature(client, clinician, locked):
    client.force_login(clinician)
    page = client.get(reverse("home")).content.decode()
    assert "Locked follow-ups awaiting your signature" in page
    assert reverse("cohort:patient_sign", args=[locked.pk]) in page
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    page = client.get(reverse("home")).content.decode()
    assert reverse("cohort:patient_sign", args=[locked.pk]) not in page


def test_patient_list_filters_on_the_lock_state(client, manager, locked, patient_b):
    client.force_login(manager)
    url = reverse("cohort:patient_list")
    for state, shown in (("locked", True), ("unsigned", True), ("signed", False), ("ready", False)):
        page = client.get(f"{url}?lock={state}").content.decode()
        assert (locked.study_code in page) is shown, state
        assert patient_b.study_code not in page


def test_history_page_shows_lock_sign_unlock_and_void(
    client, locked, manager, clinician, nurse_site_a
):
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    services.patient_unlock(patient=locked, by=manager, reason="W1 pain queried")
    w1 = locked.calls.get(timepoint="W1")
    questionnaires_save(call=w1, data={**VALID, "nprs_mean": 5}, by=nurse_site_a, reason="Said 5")
    client.force_login(manager)
    page = client.get(reverse("cohort:patient_history", args=[locked.pk])).content.decode()
    for action in ("<td>locked</td>", "<td>unlocked</td>", "<td>signed</td>"):
        assert action in page
    assert "<td>signature voided</td>" in page
    # A typed reason is free text: hidden from a data manager, read by the site's clinician.
    assert "W1 pain queried" not in page
    client.force_login(clinician)
    page = client.get(reverse("cohort:patient_history", args=[locked.pk])).content.decode()
    assert "W1 pain queried" in page


def test_administration_site_shows_a_locked_patient_read_only(client, manager, finished):
    client.force_login(manager)
    url = reverse("admin:cohort_patient_change", args=[finished.pk])
    assert b'name="_save"' in client.get(url).content
    services.patient_lock(patient=finished, by=manager)
    response = client.get(url)
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert client.post(url, {}).status_code == 403
