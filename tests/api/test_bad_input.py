"""Malformed, oversized and out-of-range requests are refused cleanly: a 4xx that says why."""

import json

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

LIMIT = 4096


def _oversized_enrolment(site) -> str:
    return json.dumps({"site": site.pk, "sex": "F", "padding": "x" * (LIMIT * 2)})


def test_malformed_json_is_a_400_with_a_message(api, site_a):
    response = api("nurse_site_a").post(
        "/api/v1/patients/", '{"site": 1, "sex": "F",', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_body_that_is_not_json_at_all_is_a_400(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    response = api("nurse_site_a").put(
        f"/api/v1/calls/{call.pk}/questionnaires/",
        b"\xff\xfe\x00 binary",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_body_of_an_unsupported_type_is_a_415(api, site_a):
    response = api("nurse_site_a").post(
        "/api/v1/patients/", "<patient/>", content_type="application/xml"
    )
    assert response.status_code == 415
    assert "application/xml" in response.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
def test_an_oversized_api_body_is_a_413_in_json(api, site_a):
    response = api("nurse_site_a").post(
        "/api/v1/patients/", _oversized_enrolment(site_a), content_type="application/json"
    )
    assert response.status_code == 413
    assert "larger than this server accepts" in response.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
def test_an_oversized_form_is_a_413(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    response = client.post("/patients/new/", {"first_name": "x" * (LIMIT * 2), "sex": "F"})
    assert response.status_code == 413
    assert b"larger than this server accepts" in response.content


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
def test_an_oversized_sign_in_is_a_413(client):
    response = client.post("/accounts/login/", {"username": "x" * (LIMIT * 2), "password": "x"})
    assert response.status_code == 413


def test_the_request_limit_is_set_from_the_environment():
    from django.conf import settings

    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2560 * 1024


@pytest.mark.parametrize(
    "value", ["-1.236539533945832e+247", "1e30", "99999999999999999999", "1.5"]
)
@pytest.mark.parametrize(
    "url", ["/api/v1/calls/", "/api/v1/administrations/", "/api/v1/treatments/"]
)
def test_an_id_filter_out_of_range_is_a_400_not_a_server_error(api, patient_a, url, value):
    response = api("statistician").get(url, {"patient": value})
    assert response.status_code == 400
    assert "patient" in response.json()


def test_an_id_filter_in_range_still_filters(api, patient_a, patient_b):
    rows = api("statistician").get("/api/v1/calls/", {"patient": patient_a.pk}).json()["results"]
    assert rows
    assert {row["patient"] for row in rows} == {patient_a.pk}


def test_an_unknown_api_address_is_a_json_404(api):
    response = api("statistician").get("/api/v1/patients/1.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_address_is_still_the_html_404(client, statistician):
    client.force_login(statistician)
    response = client.get("/patients/not-a-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
