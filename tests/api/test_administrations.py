"""Ketamine administrations through the API: recorded, corrected with a reason, voided."""

import pytest

from cohort.models import KetamineAdministration

pytestmark = pytest.mark.django_db


def _record(client, patient, **overrides):
    data = {
        "patient": patient.pk,
        "date": "2026-01-05",
        "route": "iv",
        "dose_unit": "mg_per_kg",
        "dose_value": "0.5",
        "days": 2,
        "infusion_minutes": 60,
        **overrides,
    }
    return client.post("/api/v1/administrations/", data, format="json")


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a", "data_manager"])
def test_site_staff_and_data_managers_record_an_administration_in_mg(api, persona, patient_a):
    response = _record(api(persona), patient_a)
    assert response.status_code == 201, response.content
    body = response.json()
    # 0.5 mg/kg x 70 kg = 35 mg a day, on 2 days.
    assert (body["dose_mg"], body["total_mg"], body["study_code"]) == (
        "35.00", "70.00", patient_a.study_code,
    )  # fmt: skip


def test_an_administration_of_another_sites_patient_is_refused(api, patient_b):
    response = _record(api("nurse_site_a"), patient_b)
    assert response.status_code == 400
    assert "patient" in response.json()
    assert not KetamineAdministration.objects.exists()


def test_out_of_range_doses_come_back_as_field_errors(api, patient_a):
    response = _record(api("nurse_site_a"), patient_a, dose_value="0", days=90, route="iv-push")
    assert response.status_code == 400
    assert {"dose_value", "days", "route"} <= set(response.json())
    # The service's own checks (5,000 mg a day at most) come back the same way.
    huge = _record(api("nurse_site_a"), patient_a, dose_unit="mg", dose_value="6000")
    assert huge.status_code == 400
    assert "dose_mg" in huge.json() or "non_field_errors" in huge.json()


def test_a_correction_needs_a_reason_and_is_kept_in_the_history(api, patient_a, nurse_site_a):
    client = api("nurse_site_a")
    created = _record(client, patient_a).json()
    url = f"/api/v1/administrations/{created['id']}/"
    no_reason = client.patch(url, {"days": 3}, format="json")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()
    response = client.patch(url, {"days": 3, "reason": "Third day missed"}, format="json")
    assert response.status_code == 200
    assert response.json()["total_mg"] == "105.00"
    administration = KetamineAdministration.objects.get(pk=created["id"])
    latest = administration.history.first()
    assert (latest.history_change_reason, latest.history_user) == ("Third day missed", nurse_site_a)


def test_voiding_keeps_the_row_and_removes_it_from_the_dose(api, patient_a):
    client = api("nurse_site_a")
    created = _record(client, patient_a).json()
    url = f"/api/v1/administrations/{created['id']}/void/"
    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"reason": "Entered twice"})
    assert response.status_code == 200
    assert response.json()["voided_at"] is not None
    assert patient_a.cumulative_dose_mg() == 0
    assert client.post(url, {"reason": "Again"}).status_code == 400
    changed = client.patch(
        f"/api/v1/administrations/{created['id']}/", {"days": 1, "reason": "x"}, format="json"
    )
    assert changed.status_code == 400
    listed = client.get("/api/v1/administrations/", {"voided": "true"}).json()
    assert [row["id"] for row in listed["results"]] == [created["id"]]
    assert client.get("/api/v1/administrations/", {"voided": "false"}).json()["count"] == 0


def test_statisticians_read_administrations_without_void_reasons(api, patient_a):
    created = _record(api("nurse_site_a"), patient_a).json()
    api("nurse_site_a").post(
        f"/api/v1/administrations/{created['id']}/void/", {"reason": "Wrong patient Jeanne"}
    )
    client = api("statistician")
    assert _record(client, patient_a).status_code == 403
    row = client.get(f"/api/v1/administrations/{created['id']}/").json()
    assert row["voided_at"] is not None
    assert "void_reason" not in row


def test_a_correction_over_a_newer_save_is_refused_with_409(api, patient_a):
    client = api("nurse_site_a")
    created = _record(client, patient_a).json()
    url = f"/api/v1/administrations/{created['id']}/"
    read = created["updated_at"]
    first = client.patch(
        url, {"days": 3, "reason": "Third day", "expected_updated_at": read}, format="json"
    )
    assert first.status_code == 200, first.content
    # A second client still holding the first version does not overwrite the change.
    late = client.patch(
        url, {"days": 1, "reason": "One day", "expected_updated_at": read}, format="json"
    )
    assert late.status_code == 409
    assert "someone else" in late.json()["detail"]
    assert KetamineAdministration.objects.get(pk=created["id"]).days == 3
    # Holding the current version, the change goes through.
    current = first.json()["updated_at"]
    again = client.patch(
        url, {"days": 1, "reason": "One day", "expected_updated_at": current}, format="json"
    )
    assert again.status_code == 200, again.content


def test_a_missing_reason_gets_the_services_message(api, patient_a):
    client = api("nurse_site_a")
    created = _record(client, patient_a).json()
    blank = client.patch(f"/api/v1/administrations/{created['id']}/", {"days": 3}, format="json")
    assert blank.status_code == 400
    assert blank.json()["reason"] == ["Give a reason for changing a recorded value."]
