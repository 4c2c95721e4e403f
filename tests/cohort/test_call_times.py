"""Preferred call times: the rule, the service that records them, and the patient page."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from cohort.call_times import days_code, is_preferred_time
from cohort.models import Patient
from cohort.services import patient_set_call_times
from tests.cohort.test_patient_pages import _enrolment
from tests.factories import enrol

MONDAY_10 = dt.datetime(2026, 1, 12, 10, 0)
TUESDAY_10 = dt.datetime(2026, 1, 13, 10, 0)


def test_a_time_window_includes_its_start_and_excludes_its_end():
    window = {"call_from": dt.time(10), "call_to": dt.time(12), "days": []}
    assert is_preferred_time(MONDAY_10, **window)
    assert is_preferred_time(MONDAY_10.replace(hour=11, minute=59), **window)
    assert not is_preferred_time(MONDAY_10.replace(hour=12), **window)
    assert not is_preferred_time(MONDAY_10.replace(hour=9, minute=59), **window)


def test_weekdays_restrict_the_window_and_alone_match_the_whole_day():
    assert not is_preferred_time(TUESDAY_10, call_from=dt.time(9), call_to=dt.time(11), days=[1])
    assert is_preferred_time(MONDAY_10, call_from=dt.time(9), call_to=dt.time(11), days=[1, 3])
    assert is_preferred_time(MONDAY_10.replace(hour=20), call_from=None, call_to=None, days=[1])


def test_no_preference_is_never_call_now():
    assert not is_preferred_time(MONDAY_10, call_from=None, call_to=None, days=[])


def test_weekdays_are_stored_as_sorted_digits():
    assert days_code([5, 1, 3, 1]) == "135"
    with pytest.raises(ValueError, match="weekdays are 1 to 7"):
        days_code([0])


@pytest.mark.django_db
def test_the_service_records_the_call_time_in_the_history(patient_a, nurse_site_a):
    patient_set_call_times(
        patient=patient_a,
        call_from=dt.time(14),
        call_to=dt.time(17, 30),
        days=[4, 2],
        note="  After physiotherapy ",
        by=nurse_site_a,
    )
    patient = Patient.objects.get(pk=patient_a.pk)
    assert (patient.call_from, patient.call_to, patient.call_days) == (
        dt.time(14),
        dt.time(17, 30),
        "24",
    )
    assert patient.call_note == "After physiotherapy"
    latest = patient.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        nurse_site_a,
        "Preferred call time changed",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("call_from", "call_to", "days", "field"),
    [
        (dt.time(15), dt.time(14), [], "call_to"),
        (dt.time(15), dt.time(15), [], "call_to"),
        (dt.time(15), None, [], "call_to"),
        (None, dt.time(15), [], "call_from"),
        (None, None, [8], "call_days"),
    ],
)
def test_the_service_refuses_an_impossible_call_time(
    patient_a, nurse_site_a, call_from, call_to, days, field
):
    with pytest.raises(ValidationError) as caught:
        patient_set_call_times(
            patient=patient_a, call_from=call_from, call_to=call_to, days=days, by=nurse_site_a
        )
    assert field in caught.value.message_dict
    patient_a.refresh_from_db()
    assert patient_a.call_from is None


@pytest.mark.django_db
def test_the_database_refuses_a_window_ending_before_it_starts(patient_a):
    with pytest.raises(IntegrityError):
        Patient.objects.filter(pk=patient_a.pk).update(call_from=dt.time(15), call_to=dt.time(9))


def _post(client, patient, **values):
    data = {f"calltimes-{name}": value for name, value in values.items()}
    return client.post(reverse("cohort:patient_call_times", args=[patient.pk]), data)


@pytest.mark.django_db
def test_nurse_sets_the_call_time_from_the_patient_page(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    response = _post(
        client, patient_a, call_from="09:00", call_to="11:30", call_days=["1", "5"], call_note="x"
    )
    assert response.status_code == 302
    page = client.get(reverse("cohort:patient_detail", args=[patient_a.pk])).content.decode()
    assert "Mon, Fri · 09:00–11:30" in page


@pytest.mark.django_db
def test_the_page_shows_every_problem_of_the_call_time_and_saves_nothing(
    client, nurse_site_a, patient_a
):
    client.force_login(nurse_site_a)
    response = _post(client, patient_a, call_from="16:00", call_to="08:00")
    assert response.status_code == 400
    assert "The preferred call time must end after it starts." in response.content.decode()
    patient_a.refresh_from_db()
    assert patient_a.call_from is None


@pytest.mark.django_db
def test_nurse_of_other_site_gets_404_on_the_call_time(client, nurse_site_b, patient_a):
    client.force_login(nurse_site_b)
    assert _post(client, patient_a, call_from="09:00", call_to="10:00").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["statistician", "data_manager"])
def test_only_site_staff_change_the_call_time(client, request, persona, patient_a):
    client.force_login(request.getfixturevalue(persona))
    assert _post(client, patient_a, call_from="09:00", call_to="10:00").status_code == 403


@pytest.mark.django_db
def test_enrolment_captures_the_preferred_call_time(client, nurse_site_a, site_a):
    data = _enrolment(**{"patient-site": site_a.pk})
    data |= {
        "calltimes-call_from": "17:00",
        "calltimes-call_to": "19:00",
        "calltimes-call_days": ["2", "4"],
        "calltimes-call_note": "Works mornings",
    }
    client.force_login(nurse_site_a)
    assert client.post(reverse("cohort:patient_new"), data).status_code == 302
    patient = Patient.objects.get()
    assert (patient.call_from, patient.call_to, patient.call_days, patient.call_note) == (
        dt.time(17),
        dt.time(19),
        "24",
        "Works mornings",
    )


@pytest.mark.django_db
def test_enrolment_with_an_impossible_call_time_enrols_nobody(client, nurse_site_a, site_a):
    data = _enrolment(**{"patient-site": site_a.pk})
    data |= {"calltimes-call_from": "19:00", "calltimes-call_to": "17:00"}
    client.force_login(nurse_site_a)
    response = client.post(reverse("cohort:patient_new"), data)
    assert response.status_code == 400
    assert "The preferred call time must end after it starts." in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_the_enrolment_service_refuses_an_impossible_call_time_with_the_other_problems(site_a):
    with pytest.raises(ValidationError) as caught:
        enrol(site_a, age=16, call_from=dt.time(12), call_to=None)
    assert {"age", "call_to"} <= set(caught.value.message_dict)
    assert not Patient.objects.exists()
