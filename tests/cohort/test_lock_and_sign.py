"""Lock and electronic sign-off of a patient's follow-up: the services and the guard."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from accounts.roles import Role
from cohort import audit, services
from cohort.models import KetamineAdministration, Patient, PatientLock, Signature
from demo.loader import demo_purge
from followup import services as followup_services
from followup.models import FollowUpCall
from quality.models import Query, QueryMessage
from quality.services import queries_answer_on_correction, query_raise
from tests.factories import PASSWORD, SiteFactory, enrol, finish_follow_up, make_user
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # The messages and the default meaning are read in English, whatever ran before.
    with translation.override("en"):
        yield


@pytest.fixture
def locked(finished, manager):
    services.patient_lock(patient=finished, by=manager)
    return finished


def test_data_manager_locks_a_follow_up_that_is_over(finished, manager):
    lock = services.patient_lock(patient=finished, by=manager)
    assert lock.locked
    assert lock.locked_by == manager
    assert lock.locked_at is not None
    assert finished.current_lock() == lock


def test_follow_up_with_calls_still_open_cannot_be_locked(patient_a, manager):
    with pytest.raises(ValidationError, match="14 calls are still open"):
        services.patient_lock(patient=patient_a, by=manager)
    assert not PatientLock.objects.exists()


def test_active_patient_with_no_call_left_to_make_can_be_locked(patient_a, nurse_site_a, manager):
    for call in patient_a.calls.all():
        followup_services.call_record_attempt(call=call, outcome="refused", by=nurse_site_a)
    patient = Patient.objects.get(pk=patient_a.pk)
    assert patient.status == "active"
    assert patient.follow_up_is_over()
    assert services.patient_lock(patient=patient, by=manager).locked


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a", "statistician"])
def test_only_data_managers_lock(finished, persona, request):
    with pytest.raises(PermissionDenied):
        services.patient_lock(patient=finished, by=request.getfixturevalue(persona))


def test_a_locked_follow_up_cannot_be_locked_again(locked, manager):
    with pytest.raises(ValidationError, match="locked by Dana Moreau"):
        services.patient_lock(patient=locked, by=manager)


def test_unlocking_needs_a_reason(locked, manager):
    with pytest.raises(ValidationError) as caught:
        services.patient_unlock(patient=locked, by=manager, reason="  ")
    assert "reason" in caught.value.message_dict
    assert PatientLock.objects.get(patient=locked).locked


def test_only_data_managers_unlock(locked, nurse_site_a):
    with pytest.raises(PermissionDenied):
        services.patient_unlock(patient=locked, by=nurse_site_a, reason="Typo in M1")


def test_an_unlocked_follow_up_cannot_be_unlocked(finished, manager):
    with pytest.raises(ValidationError, match="not locked"):
        services.patient_unlock(patient=finished, by=manager, reason="Why not")


def test_the_history_keeps_every_lock_and_unlock(locked, manager):
    services.patient_unlock(patient=locked, by=manager, reason="W1 pain score queried")
    services.patient_lock(patient=locked, by=manager)
    rows = PatientLock.history.filter(patient_id=locked.pk).order_by("history_id")
    assert [row.locked for row in rows] == [True, False, True]
    assert [row.history_change_reason for row in rows] == [
        "Follow-up locked",
        "W1 pain score queried",
        "Follow-up locked",
    ]


def test_clinician_of_the_site_signs_a_locked_follow_up(locked, clinician):
    signature = services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    assert signature.signer == clinician
    assert signature.signer_name == "Claire Roux"
    assert signature.signed_at is not None
    assert signature.meaning == (
        "I confirm that the follow-up data of this patient are complete and accurate."
    )


def test_the_signer_name_stays_as_it_was_at_signing(locked, clinician):
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    clinician.last_name = "Roux-Martin"
    clinician.save()
    assert Signature.objects.get().signer_name == "Claire Roux"


def test_signing_with_a_wrong_password_stores_nothing(locked, clinician):
    with pytest.raises(ValidationError) as caught:
        services.patient_sign(patient=locked, by=clinician, password="not-my-password")
    assert caught.value.message_dict["password"] == ["Wrong password: nothing was signed."]
    assert not Signature.objects.exists()
    assert not Signature.history.exists()


def test_repeated_wrong_passwords_block_signing_for_a_while(locked, clinician, settings):
    from django.core.cache import cache

    cache.clear()
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        with pytest.raises(ValidationError, match="Wrong password"):
            services.patient_sign(patient=locked, by=clinician, password="guess")
    with pytest.raises(
        ValidationError, match="Too many wrong passwords: signing is blocked for 15"
    ):
        services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    assert not Signature.objects.exists()
    cache.clear()
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    assert Signature.objects.count() == 1


def test_an_unlocked_follow_up_cannot_be_signed(finished, clinician):
    with pytest.raises(ValidationError, match="Only a locked follow-up can be signed"):
        services.patient_sign(patient=finished, by=clinician, password=PASSWORD)


def test_a_signed_follow_up_is_not_signed_twice(locked, clinician):
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    with pytest.raises(ValidationError, match="already signed by Claire Roux"):
        services.patient_sign(patient=locked, by=clinician, password=PASSWORD)


@pytest.mark.parametrize("persona", ["nurse_site_a", "data_manager", "statistician"])
def test_other_roles_cannot_sign(locked, persona, request):
    with pytest.raises(PermissionDenied):
        services.patient_sign(
            patient=locked, by=request.getfixturevalue(persona), password=PASSWORD
        )


def test_clinician_of_another_site_cannot_sign(locked, site_b):
    other = make_user("clinician_b", Role.CLINICIAN, [site_b])
    with pytest.raises(PermissionDenied):
        services.patient_sign(patient=locked, by=other, password=PASSWORD)


def _w1(patient):
    return FollowUpCall.objects.get(patient=patient, timepoint="W1")


def _administration(patient):
    return KetamineAdministration.objects.get(patient=patient)


# Every service that writes a patient's clinical data, called as the site staff would.
WRITES = {
    "administration_record": lambda p, nurse, clin: services.administration_record(
        patient=p, date=dt.date(2026, 2, 1), route="sc", dose_unit="mg", dose_value=50, by=nurse
    ),
    "administration_update": lambda p, nurse, clin: services.administration_update(
        administration=_administration(p), by=nurse, reason="Two days, not one", days=2
    ),
    "administration_void": lambda p, nurse, clin: services.administration_void(
        administration=_administration(p), by=nurse, reason="Entered twice"
    ),
    "patient_set_status": lambda p, nurse, clin: services.patient_set_status(
        patient=p, status="deceased", date=dt.date(2026, 3, 1), reason="Died", by=nurse
    ),
    "call_record_attempt": lambda p, nurse, clin: followup_services.call_record_attempt(
        call=_w1(p), outcome="no_answer", by=nurse
    ),
    "questionnaires_save": lambda p, nurse, clin: followup_services.questionnaires_save(
        call=_w1(p), data={**VALID, "nprs_mean": 5}, by=nurse, reason="Misheard"
    ),
    "call_save": lambda p, nurse, clin: followup_services.call_save(
        call=_w1(p), data={**VALID, "nprs_mean": 5}, by=nurse, reason="Misheard"
    ),
    "call_mark_reviewed": lambda p, nurse, clin: followup_services.call_mark_reviewed(
        call=_w1(p), by=clin
    ),
    "queries_answer_on_correction": lambda p, nurse, clin: queries_answer_on_correction(
        patient=p, call=_w1(p), by=nurse, reason="Corrected"
    ),
}


def _history_rows(patient):
    return (
        Patient.history.filter(id=patient.pk).count()
        + FollowUpCall.history.filter(patient_id=patient.pk).count()
        + KetamineAdministration.history.filter(patient_id=patient.pk).count()
    )


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_service_refuses_while_locked(write, locked, nurse_site_a, clinician):
    before = _history_rows(locked)
    with pytest.raises(ValidationError) as caught:
        write(locked, nurse_site_a, clinician)
    (message,) = caught.value.messages
    assert message.startswith("This patient's follow-up is locked by Dana Moreau on ")
    assert message.endswith("; a data manager must unlock it first.")
    assert _history_rows(locked) == before


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_service_works_again_after_unlocking(
    write, locked, manager, nurse_site_a, clinician
):
    # An open query raised when the mean pain at W1 read 7: the correction service answers it.
    query = query_raise(
        target=_w1(locked), field="nprs_mean", kind="other", text="Mean 7?", by=manager
    )
    Query.objects.filter(pk=query.pk).update(value_at_raise="7")
    services.patient_unlock(patient=locked, by=manager, reason="Correction asked by the monitor")
    before = _history_rows(locked) + QueryMessage.objects.filter(query=query).count()
    write(Patient.objects.get(pk=locked.pk), nurse_site_a, clinician)
    # The write went through: it left its history (or its answer on the query).
    assert _history_rows(locked) + QueryMessage.objects.filter(query=query).count() > before


def test_an_edit_after_unlocking_voids_the_signature(locked, manager, clinician, nurse_site_a):
    signature = services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    services.patient_unlock(patient=locked, by=manager, reason="Mean pain at W1 queried")
    followup_services.questionnaires_save(
        call=_w1(locked), data={**VALID, "nprs_mean": 5}, by=nurse_site_a, reason="Said 5, not 6"
    )
    signature.refresh_from_db()
    assert signature.voided_at is not None
    assert signature.voided_by == nurse_site_a
    assert signature.voided_change == "call:W1"
    assert signature.void_reason == "Said 5, not 6"
    assert locked.live_signature() is None


def test_unlocking_alone_leaves_the_signature_standing(locked, manager, clinician):
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    services.patient_unlock(patient=locked, by=manager, reason="Checking a date")
    assert locked.live_signature() is not None


def test_a_refused_edit_voids_nothing(locked, manager, clinician, nurse_site_a):
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    services.patient_unlock(patient=locked, by=manager, reason="Checking a date")
    with pytest.raises(ValidationError):
        services.administration_update(
            administration=_administration(locked), by=nurse_site_a, reason=""
        )
    assert locked.live_signature() is not None


def test_a_follow_up_signed_then_changed_is_locked_and_signed_again(
    locked, manager, clinician, nurse_site_a
):
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    services.patient_unlock(patient=locked, by=manager, reason="Dose queried")
    services.administration_update(
        administration=_administration(locked), by=nurse_site_a, reason="Two days", days=2
    )
    services.patient_lock(patient=locked, by=manager)
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    signatures = Signature.objects.filter(patient=locked).order_by("signed_at")
    assert [s.voided_change for s in signatures] == ["administration:2026-01-05", ""]


def test_lock_unlock_sign_and_void_appear_in_the_patient_history(
    locked, manager, clinician, nurse_site_a
):
    services.patient_sign(patient=locked, by=clinician, password=PASSWORD)
    services.patient_unlock(patient=locked, by=manager, reason="Mean pain at W1 queried")
    followup_services.questionnaires_save(
        call=_w1(locked), data={**VALID, "nprs_mean": 5}, by=nurse_site_a, reason="Said 5"
    )
    entries = audit.patient_trail(locked, identifiers=False)
    actions = [(e.what, e.action, e.who) for e in entries if e.action in _SIGN_OFF_ACTIONS]
    assert actions == [
        ("Signature of Dr Claire Roux", "signature voided", "nurse_a"),
        ("Follow-up lock", "unlocked", "Dana Moreau"),
        ("Signature of Dr Claire Roux", "signed", "Claire Roux"),
        ("Follow-up lock", "locked", "Dana Moreau"),
    ]
    unlocked = next(e for e in entries if e.action == "unlocked")
    assert unlocked.reason == "(free text, hidden)"
    staff = audit.patient_trail(locked, identifiers=True)
    assert next(e for e in staff if e.action == "unlocked").reason == "Mean pain at W1 queried"


_SIGN_OFF_ACTIONS = {"locked", "unlocked", "signed", "signature voided"}


def test_purging_the_demo_removes_its_locked_and_signed_patients(manager):
    demo = SiteFactory(code="DM", name="Demo clinic", is_demo=True)
    nurse = make_user("nurse_demo", Role.NURSE, [demo])
    clinician = make_user("clinician_demo", Role.CLINICIAN, [demo])
    patient = finish_follow_up(enrol(demo, by=nurse), by=nurse, answers=VALID)
    services.patient_lock(patient=patient, by=manager)
    services.patient_sign(patient=patient, by=clinician, password=PASSWORD)
    demo_purge()
    assert not Patient.objects.filter(site=demo).exists()
    assert not PatientLock.objects.exists()
    assert not Signature.objects.exists()
    assert not Signature.history.exists()
