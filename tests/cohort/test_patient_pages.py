import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cohort.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)):
        yield


def _enrolment(**overrides):
    data = {
        "patient-age": "45",
        "patient-pain_duration_months": "18",
        "patient-inclusion_date": "2026-03-02",
        "patient-consent_date": "2026-03-01",
        "patient-last_name": "Durand",
        "patient-first_name": "Alice",
        "patient-phone": "06 00 00 00 01",
        "patient-sex": "F",
        "patient-weight_kg": "64.5",
        "patient-etiology": "crps",
        "patient-pain_duration_months_": "",
        "patient-ketamine_naive": "true",
        "patient-dn4": "6",
        "patient-comorbidities": ["migraine", "thyroid"],
        "admin-date": "2026-03-02",
        "admin-route": "iv",
        "admin-dose_unit": "mg_per_kg",
        "admin-dose_value": "1",
        "admin-days": "3",
        "admin-infusion_minutes": "120",
    }
    data.update(overrides)
    return data


def test_enrolment_creates_the_patient_schedule_and_opens_the_baseline(
    client, nurse_site_a, site_a
):
    client.force_login(nurse_site_a)
    response = client.post(reverse("cohort:patient_new"), _enrolment(**{"patient-site": site_a.pk}))
    patient = Patient.objects.get()
    baseline = patient.calls.get(timepoint="BL")
    assert response.status_code == 302
    assert response.url == reverse("followup:call_entry", args=[baseline.pk])
    assert patient.site == site_a
    assert patient.study_code == "SA-0001"
    assert patient.comorbidities == ["migraine", "thyroid"]
    assert patient.contact.last_name == "Durand"
    assert patient.calls.count() == 14
    assert patient.calls.get(timepoint="W1").target_date == dt.date(2026, 3, 9)
    assert patient.cumulative_dose_mg() == 3 * 64.5


def test_ineligible_patient_gets_every_reason_at_once_and_keeps_the_input(client, nurse_site_a):
    client.force_login(nurse_site_a)
    data = _enrolment(
        **{
            "patient-age": "17",
            "patient-pain_duration_months": "4",
            "patient-consent_date": "",
            "patient-etiology": "fibromyalgia",
        }
    )
    response = client.post(reverse("cohort:patient_new"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"age", "pain_duration_months", "consent_date", "dn4"} <= set(errors)
    assert b'value="Durand"' in response.content
    assert not Patient.objects.exists()


def test_moving_the_first_administration_moves_the_open_calls(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    from cohort.services import administration_record

    first = administration_record(
        patient=patient_a,
        date=dt.date(2026, 1, 5),
        route="iv",
        dose_unit="mg",
        dose_value=50,
        by=nurse_site_a,
    )
    url = reverse("cohort:administration_edit", args=[patient_a.pk, first.pk])
    data = {
        "date": "2026-01-08",
        "route": "iv",
        "dose_unit": "mg",
        "dose_value": "50",
        "days": "1",
        "reason": "Date typed wrong",
    }
    assert client.post(url, {**data, "reason": ""}).status_code == 400
    assert client.post(url, data).status_code == 302
    assert patient_a.calls.get(timepoint="W1").target_date == dt.date(2026, 1, 15)


def test_withdrawal_closes_the_remaining_calls_with_the_reason(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    url = reverse("cohort:patient_status", args=[patient_a.pk])
    data = {"status-status": "withdrawn", "status-date": "2026-03-01", "status-reason": ""}
    assert client.post(url, data).status_code == 400
    data["status-reason"] = "Moved abroad"
    assert client.post(url, data).status_code == 302
    statuses = set(patient_a.calls.values_list("status", flat=True))
    assert statuses == {"closed"}
    assert "Moved abroad" in patient_a.calls.get(timepoint="M6").status_reason


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("cohort:patient_detail", "get"),
        ("cohort:administration_add", "post"),
        ("cohort:patient_status", "post"),
    ],
)
def test_nurse_of_other_site_gets_404(client, nurse_site_b, patient_a, name, method):
    client.force_login(nurse_site_b)
    response = getattr(client, method)(reverse(name, args=[patient_a.pk]))
    assert response.status_code == 404


def test_patient_file_shows_identifiers_to_site_staff_only(
    client, nurse_site_a, data_manager, patient_a
):
    client.force_login(nurse_site_a)
    assert (
        b"MARTIN Jeanne"
        in client.get(reverse("cohort:patient_detail", args=[patient_a.pk])).content
    )
    client.force_login(data_manager)
    page = client.get(reverse("cohort:patient_detail", args=[patient_a.pk])).content
    assert b"SA-0001" in page
    assert b"MARTIN" not in page
