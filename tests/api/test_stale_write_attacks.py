"""Attacks on the guard of a correction against a newer save (``expected_updated_at``, the
assessments' ``version``) and on the filters of the API with ids and codes that are not ids."""

from __future__ import annotations

import datetime as dt

import pytest

from cohort.models import KetamineAdministration, Patient
from tests.api.test_administrations import _record
from tests.cohort.test_enrolment_once import PAYLOAD
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def _read(client, patient):
    created = _record(client, patient)
    assert created.status_code == 201, created.content
    return created.json()


def test_another_sites_administration_is_a_404_even_with_the_right_timestamp(
    api, patient_a, nurse_site_b
):
    created = _read(api("nurse_site_a"), patient_a)
    url = f"/api/v1/administrations/{created['id']}/"
    body = {"days": 1, "reason": "x", "expected_updated_at": created["updated_at"]}
    assert api("nurse_site_b").patch(url, body, format="json").status_code == 404
    assert KetamineAdministration.objects.get(pk=created["id"]).days == 2


def test_the_same_instant_written_in_another_offset_is_the_version_read(api, patient_a):
    client = api("nurse_site_a")
    created = _read(client, patient_a)
    read = dt.datetime.fromisoformat(created["updated_at"].replace("Z", "+00:00"))
    elsewhere = read.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).isoformat()
    url = f"/api/v1/administrations/{created['id']}/"
    body = {"days": 3, "reason": "Third day", "expected_updated_at": elsewhere}
    saved = client.patch(url, body, format="json")
    assert saved.status_code == 200, saved.content
    assert KetamineAdministration.objects.get(pk=created["id"]).days == 3


@pytest.mark.parametrize(
    "stamp", ["yesterday", "", "2026-02-30T10:00:00Z", "1900-01-01T00:00:00Z", 12]
)
def test_a_timestamp_that_is_not_one_or_not_the_one_read_writes_nothing(api, patient_a, stamp):
    client = api("nurse_site_a")
    created = _read(client, patient_a)
    url = f"/api/v1/administrations/{created['id']}/"
    body = {"days": 3, "reason": "Third day", "expected_updated_at": stamp}
    refused = client.patch(url, body, format="json")
    assert refused.status_code in {400, 409}, refused.content
    assert KetamineAdministration.objects.get(pk=created["id"]).days == 2


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/v1/madrs/", {"patient": "1 OR 1=1"}),
        ("/api/v1/madrs/", {"patient": str(2**63)}),
        ("/api/v1/madrs/", {"patient": "-1"}),
        ("/api/v1/sf-mpq/", {"patient": "<b>"}),
        ("/api/v1/calls/", {"patient": "1;DROP TABLE"}),
    ],
)
def test_a_filter_id_that_is_not_an_id_is_a_400(api, url, query, patient_a):
    assert api("statistician").get(url, query).status_code == 400


@pytest.mark.parametrize("study", ["' OR 1=1--", "<script>", "x" * 500, "LAN2022%"])
def test_a_study_filter_that_is_no_study_lists_nothing(api, patient_a, study):
    for url in ("/api/v1/patients/", "/api/v1/calls/"):
        response = api("statistician").get(url, {"study": study})
        assert response.status_code == 200
        assert response.json()["results"] == []


def test_a_nurse_cannot_enrol_into_a_site_of_another_study(api, nurse_site_a, lan_study):
    other = SiteFactory(code="SL", name="Psychiatry L", study=lan_study)
    response = api("nurse_site_a").post(
        "/api/v1/patients/", {**PAYLOAD, "site": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "site" in response.json()
    assert not Patient.objects.filter(site=other).exists()
