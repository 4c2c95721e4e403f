"""A locked follow-up through the API: its state is shown, every write is a 400 with the reason."""

import pytest

from cohort import services
from tests.factories import PASSWORD, finish_follow_up_after_ketamine
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db

LOCKED = "This patient's follow-up is locked by datamanager on "


@pytest.fixture
def locked(patient_a, nurse_site_a, data_manager):
    finish_follow_up_after_ketamine(patient_a, by=nurse_site_a, answers=VALID)
    services.patient_lock(patient=patient_a, by=data_manager)
    return patient_a


@pytest.mark.parametrize("persona", ["nurse_site_a", "statistician"])
def test_the_patient_shows_its_lock_and_signature(api, persona, locked, clinician_site_a):
    services.patient_sign(patient=locked, by=clinician_site_a, password=PASSWORD)
    body = api(persona).get(f"/api/v1/patients/{locked.pk}/").json()
    state = body["sign_off"]
    assert state["locked"] is True
    assert state["locked_by"] == "datamanager"
    assert state["signed"] is True
    assert state["signed_by"] == "clinician_a"
    assert state["meaning"].startswith("I confirm that the follow-up data")


def test_a_patient_never_locked_shows_neither(api, patient_a):
    rows = api("nurse_site_a").get("/api/v1/patients/").json()["results"]
    assert rows[0]["sign_off"] == {
        "locked": False,
        "locked_at": None,
        "locked_by": None,
        "signed": False,
        "signed_at": None,
        "signed_by": None,
        "meaning": None,
    }


def _w1(patient):
    return patient.calls.get(timepoint="W1")


def _administration(patient):
    return patient.administrations.get()


# Every write about the patient: method, address, body.
WRITES = {
    "status": lambda p: (
        "post",
        f"/api/v1/patients/{p.pk}/status/",
        {"status": "deceased", "date": "2026-03-01", "reason": "Died"},
    ),
    "administration": lambda p: (
        "post",
        "/api/v1/administrations/",
        {"patient": p.pk, "date": "2026-02-01", "route": "sc", "dose_unit": "mg", "dose_value": 5},
    ),
    "administration correction": lambda p: (
        "patch",
        f"/api/v1/administrations/{_administration(p).pk}/",
        {"days": 2, "reason": "Two days"},
    ),
    "administration void": lambda p: (
        "post",
        f"/api/v1/administrations/{_administration(p).pk}/void/",
        {"reason": "Entered twice"},
    ),
    "questionnaires": lambda p: (
        "put",
        f"/api/v1/calls/{_w1(p).pk}/questionnaires/",
        {**VALID, "version": _w1(p).version, "reason": "Misheard"},
    ),
    "attempt": lambda p: (
        "post",
        f"/api/v1/calls/{_w1(p).pk}/attempts/",
        {"outcome": "no_answer", "version": _w1(p).version},
    ),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_to_a_locked_patient_is_a_400_with_the_reason(api, write, locked):
    method, url, data = write(locked)
    response = getattr(api("nurse_site_a"), method)(url, data, format="json")
    assert response.status_code == 400, response.content
    (message,) = response.json()["non_field_errors"]
    assert message.startswith(LOCKED)
    assert message.endswith("a data manager must unlock it first.")


def test_a_clinician_review_of_a_locked_call_is_a_400(api, locked):
    response = api("clinician_site_a").post(f"/api/v1/calls/{_w1(locked).pk}/review/", {})
    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith(LOCKED)
