"""The depression baseline endpoint: recorded and corrected through the service, scoped by the
user's sites, filtered by study, 409 on a stale version, read only for statisticians."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.models import DepressionBaseline
from followup.services import depression_baseline_save
from tests.factories import SiteFactory, enrol, set_up

pytestmark = pytest.mark.django_db

URL = "/api/v1/depression-baselines/"
VALUES = {
    "pain_group": "mild",
    "suicidality": True,
    "antidepressants": 2,
    "mood_stabilisers": False,
    "benzodiazepines": True,
    "antipsychotics": False,
}


@pytest.fixture
def site_a(lan_study):
    """Site A takes part in the second study, which collects the depression baseline."""
    return SiteFactory(code="SA", name="Psychiatry A", study=lan_study)


@pytest.fixture
def site_b(lan_study):
    return SiteFactory(code="SB", name="Psychiatry B", study=lan_study)


def _recorded(patient, by, **overrides):
    return depression_baseline_save(patient=patient, by=by, **(VALUES | overrides))


def test_a_nurse_records_a_baseline_and_reads_it_back(api, patient_a, nurse_site_a):
    client = api("nurse_site_a")
    created = client.post(URL, {"patient": patient_a.pk} | VALUES, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["study"], body["site_code"], body["version"]) == ("LAN2022", "SA", 1)
    assert body["two_or_more_antidepressants"] is True
    assert client.get(f"{URL}{body['id']}/").json()["pain_group"] == "mild"
    row = DepressionBaseline.objects.get()
    assert row.history.first().history_user == nurse_site_a


def test_a_second_record_of_the_same_patient_is_refused(api, patient_a, nurse_site_a):
    _recorded(patient_a, nurse_site_a)
    again = api("nurse_site_a").post(URL, {"patient": patient_a.pk} | VALUES, format="json")
    assert again.status_code == 400
    assert "patient" in again.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [("antidepressants", 11), ("pain_group", "moderate"), ("suicidality", None)],
)
def test_bad_values_are_a_400_with_the_field_named(api, patient_a, field, value):
    body = {"patient": patient_a.pk} | VALUES | {field: value}
    response = api("nurse_site_a").post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not DepressionBaseline.objects.exists()


def test_a_first_study_patient_has_no_depression_baseline(api, nurse_site_a):
    site = SiteFactory(code="SV", name="Pain clinic V")
    nurse_site_a.sites.add(site)
    with set_up():
        patient = enrol(site, by=nurse_site_a)
    response = api("nurse_site_a").post(URL, {"patient": patient.pk} | VALUES, format="json")
    assert response.status_code == 400
    assert "does not collect a depression baseline" in str(response.json())


def test_the_list_holds_the_user_sites_and_the_study_asked(
    api, patient_a, patient_b, nurse_site_a, nurse_site_b
):
    mine = _recorded(patient_a, nurse_site_a)
    _recorded(patient_b, nurse_site_b)
    nurse = api("nurse_site_a")
    assert [row["id"] for row in nurse.get(URL).json()["results"]] == [mine.pk]
    assert nurse.get(URL, {"study": "LAN2022"}).json()["count"] == 1
    assert nurse.get(URL, {"study": "VOUTE2023"}).json()["count"] == 0
    everyone = api("statistician").get(URL).json()
    assert everyone["count"] == 2


def test_another_site_baseline_is_a_404_and_its_patient_unknown(
    api, patient_a, patient_b, nurse_site_b
):
    theirs = _recorded(patient_b, nurse_site_b)
    client = api("nurse_site_a")
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    body = VALUES | {"version": 1, "reason": "Typo"}
    assert client.put(f"{URL}{theirs.pk}/", body, format="json").status_code == 404
    created = client.post(URL, {"patient": patient_b.pk} | VALUES, format="json")
    assert created.status_code == 400
    assert "patient" in created.json()
    assert DepressionBaseline.objects.get().pain_group == "mild"


def test_a_correction_needs_a_reason_and_a_stale_version_is_a_409(api, patient_a, nurse_site_a):
    row = _recorded(patient_a, nurse_site_a)
    client = api("clinician_site_a")
    no_reason = client.put(f"{URL}{row.pk}/", VALUES | {"version": 1}, format="json")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()
    body = VALUES | {"pain_group": "severe", "version": 1, "reason": "Reclassified"}
    corrected = client.put(f"{URL}{row.pk}/", body, format="json")
    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["pain_group"], corrected.json()["version"]) == ("severe", 2)
    stale = client.put(f"{URL}{row.pk}/", body | {"pain_group": "none"}, format="json")
    assert stale.status_code == 409
    row.refresh_from_db()
    assert (row.pain_group, row.version) == ("severe", 2)


def test_a_statistician_reads_but_does_not_write(api, patient_a, nurse_site_a):
    row = _recorded(patient_a, nurse_site_a)
    client = api("statistician")
    assert client.get(f"{URL}{row.pk}/").status_code == 200
    assert client.post(URL, {"patient": patient_a.pk} | VALUES, format="json").status_code == 403
    body = VALUES | {"pain_group": "none", "version": 1, "reason": "x"}
    assert client.put(f"{URL}{row.pk}/", body, format="json").status_code == 403
    row.refresh_from_db()
    assert row.pain_group == "mild"


def test_the_list_does_not_query_per_row(api, site_a, patient_a, nurse_site_a):
    _recorded(patient_a, nurse_site_a)
    client = api("nurse_site_a")
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for _n in range(2):
        with set_up():
            other = enrol(site_a, by=nurse_site_a)
        _recorded(other, nurse_site_a)
    with CaptureQueriesContext(connection) as three:
        assert client.get(URL).json()["count"] == 3
    assert len(three) == len(one)


def test_a_data_manager_reads_a_baseline_in_the_administration_site_but_cannot_change_it(
    client, data_manager, patient_a, nurse_site_a
):
    from django.urls import reverse

    row = _recorded(patient_a, nurse_site_a)
    client.force_login(data_manager)
    assert client.get(reverse("admin:followup_depressionbaseline_changelist")).status_code == 200
    url = reverse("admin:followup_depressionbaseline_change", args=[row.pk])
    assert client.get(url).status_code == 200
    client.post(url, VALUES | {"pain_group": "none", "patient": patient_a.pk})
    row.refresh_from_db()
    assert (row.pain_group, row.version) == ("mild", 1)
