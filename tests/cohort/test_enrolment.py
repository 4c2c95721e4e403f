import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cohort import vocabulary as voc
from cohort.services import eligibility_errors, patient_set_status
from followup.models import FollowUpCall
from tests.factories import enrol

pytestmark = pytest.mark.django_db


def test_enrolment_creates_baseline_and_thirteen_follow_up_calls(site_a, nurse_site_a):
    patient = enrol(site_a, by=nurse_site_a, inclusion_date=dt.date(2026, 1, 31))
    calls = list(patient.calls.order_by("sequence"))
    assert [c.timepoint for c in calls] == list(voc.codes(voc.TIMEPOINTS))
    assert calls[0].target_date == dt.date(2026, 1, 31)
    assert calls[1].target_date == dt.date(2026, 2, 7)  # W1: 7 days later
    # M1 on 31 January falls on the last day of February; M12 a year later.
    assert calls[2].target_date == dt.date(2026, 2, 28)
    assert calls[-1].target_date == dt.date(2027, 1, 31)
    assert all(c.status == "due" for c in calls)


def test_study_codes_are_numbered_per_site(site_a, site_b, nurse_site_a):
    first = enrol(site_a, by=nurse_site_a)
    second = enrol(site_a, by=nurse_site_a)
    other = enrol(site_b, by=nurse_site_a)
    assert (first.study_code, second.study_code, other.study_code) == (
        "SA-0001",
        "SA-0002",
        "SB-0001",
    )


def test_ineligible_patient_gets_every_reason_at_once(site_a, nurse_site_a):
    with pytest.raises(ValidationError) as caught:
        enrol(
            site_a,
            by=nurse_site_a,
            age=17,
            pain_duration_months=6,
            consent_date=dt.date(2026, 2, 1),
            inclusion_date=dt.date(2026, 1, 5),
        )
    assert set(caught.value.message_dict) == {"age", "pain_duration_months", "consent_date"}


def test_eligibility_accepts_an_adult_with_pain_over_six_months():
    assert (
        eligibility_errors(
            age=18,
            pain_duration_months=7,
            consent_date=dt.date(2026, 1, 1),
            inclusion_date=dt.date(2026, 1, 1),
        )
        == {}
    )


def test_dn4_is_refused_for_fibromyalgia(site_a, nurse_site_a):
    with pytest.raises(ValidationError) as caught:
        enrol(site_a, by=nurse_site_a, etiology="fibromyalgia", dn4=5)
    assert "dn4" in caught.value.message_dict


def test_unknown_comorbidity_code_is_refused(site_a, nurse_site_a):
    with pytest.raises(ValidationError) as caught:
        enrol(site_a, by=nurse_site_a, comorbidities=["migraine", "gout"])
    assert "gout" in str(caught.value.message_dict["comorbidities"])


def test_withdrawal_closes_the_remaining_calls_with_the_reason(patient_a, nurse_site_a):
    reached = patient_a.calls.get(timepoint="BL")
    FollowUpCall.objects.filter(pk=reached.pk).update(status="reached", call_date=dt.date.today())
    patient_set_status(
        patient=patient_a,
        status="withdrawn",
        date=dt.date(2026, 4, 1),
        reason="Moved abroad",
        by=nurse_site_a,
    )
    statuses = dict(patient_a.calls.values_list("timepoint", "status"))
    assert statuses["BL"] == "reached"
    assert {s for tp, s in statuses.items() if tp != "BL"} == {"closed"}
    closed = patient_a.calls.get(timepoint="M3")
    assert "Moved abroad" in closed.status_reason


def test_withdrawal_needs_a_reason(patient_a, nurse_site_a):
    with pytest.raises(ValidationError):
        patient_set_status(
            patient=patient_a, status="lost", date=dt.date(2026, 4, 1), reason=" ", by=None
        )


def test_weight_is_stored_as_decimal(patient_a):
    patient_a.refresh_from_db()
    assert patient_a.weight_kg == Decimal("70.0")


def test_study_code_numbering_goes_past_9999(site_a, nurse_site_a):
    enrol(site_a, by=nurse_site_a, study_code="SA-9999")
    assert enrol(site_a, by=nurse_site_a).study_code == "SA-10000"
    assert enrol(site_a, by=nurse_site_a).study_code == "SA-10001"


def test_data_manager_edits_medical_history_as_boxes_in_admin(client, data_manager, patient_a):
    client.force_login(data_manager)
    response = client.get(f"/admin/cohort/patient/{patient_a.pk}/change/")
    assert response.status_code == 200
    assert b'type="checkbox" name="comorbidities" value="migraine"' in response.content
    assert b'value="migraine"' in response.content
    assert b"checked" in response.content
    # Identifiers stay out of the data manager's administration site.
    assert client.get("/admin/cohort/patientcontact/").status_code == 403
