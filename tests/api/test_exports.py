"""Exports and scripted access with a token: what a statistician's script does."""

import io

import pandas as pd
import pyreadstat
import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from analytics.exports import variables as var
from analytics.models import ExportLog

pytestmark = pytest.mark.django_db


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_statistician_gets_a_token_and_downloads_the_report_and_the_long_dta(
    statistician, patient_a, patient_b, good_run, tmp_path
):
    login = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "statistician", "password": "a-long-test-password"},
    )
    assert login.status_code == 200
    client = _token_client(login.json()["token"])

    report = client.get("/api/v1/analysis/latest/")
    assert report.status_code == 200
    assert report.json()["schema"] == "ketamine-followup/analysis-report"

    response = client.get("/api/v1/exports/long.dta", HTTP_ACCEPT="application/x-stata-dta")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-stata-dta"
    assert 'filename="ketamine_long_' in response["Content-Disposition"]
    path = tmp_path / "long.dta"
    path.write_bytes(b"".join(response.streaming_content))
    frame, _meta = pyreadstat.read_dta(str(path))
    assert len(frame) == 28
    assert list(frame.columns) == var.names(var.LONG)
    log = ExportLog.objects.get()
    assert log.source == ExportLog.Source.API
    assert (log.user, log.layout, log.format, log.rows) == (statistician, "long", "dta", 28)


def test_a_wrong_password_or_token_gets_nothing(statistician):
    login = APIClient().post(
        "/api/v1/auth/token/", {"username": "statistician", "password": "guess"}
    )
    assert login.status_code == 400
    assert "token" not in login.json()
    assert _token_client("0" * 40).get("/api/v1/analysis/latest/").status_code == 401


def test_the_command_prints_a_token_that_works_and_rotates_it(statistician, good_run):
    out = io.StringIO()
    call_command("create_api_token", "statistician", stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user=statistician).key == key
    assert _token_client(key).get("/api/v1/analysis/latest/").status_code == 200
    again = io.StringIO()
    call_command("create_api_token", "statistician", stdout=again)
    assert again.getvalue().strip() == key
    rotated = io.StringIO()
    call_command("create_api_token", "statistician", "--rotate", stdout=rotated)
    assert rotated.getvalue().strip() != key
    assert _token_client(key).get("/api/v1/analysis/latest/").status_code == 401


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a"])
def test_nurses_and_clinicians_are_refused_exports_even_with_a_token(request, persona):
    user = request.getfixturevalue(persona)
    client = _token_client(Token.objects.create(user=user).key)
    for url in ("/api/v1/exports/", "/api/v1/exports/long.csv", "/api/v1/exports/dictionary.csv"):
        assert client.get(url).status_code == 403, url
    assert not ExportLog.objects.exists()


def test_csv_is_streamed_without_identifiers_and_logged(api, data_manager, patient_a, patient_b):
    response = api("data_manager").get("/api/v1/exports/long.csv", {"items": "1"})
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns) == var.names(var.LONG_ITEMS)
    for secret in ("Jeanne", "Martin", "Paul", "Durand", "+33 4 73 00 00 00"):
        assert secret not in text
    log = ExportLog.objects.get()
    assert (log.user, log.items, log.rows) == (data_manager, True, 28)


def test_the_export_list_gives_a_link_per_layout_and_format(api):
    rows = api("statistician").get("/api/v1/exports/").json()
    layouts = [(row["layout"], row["items"]) for row in rows]
    assert layouts[:2] == [("long", False), ("long", True)]
    assert rows[1]["downloads"]["csv"].endswith("/api/v1/exports/long.csv?items=1")
    assert set(rows[0]["downloads"]) == {"csv", "xlsx", "dta", "sav", "parquet"}


def test_unknown_layouts_and_formats_are_404(api):
    client = api("statistician")
    assert client.get("/api/v1/exports/patients.csv").status_code == 404
    assert client.get("/api/v1/exports/long.txt").status_code == 404


def test_the_dictionary_is_downloaded_and_logged(api):
    response = api("statistician").get("/api/v1/exports/dictionary.csv")
    assert response.content.startswith(b"layout,variable,label,type")
    assert ExportLog.objects.get().layout == "dictionary"


def test_a_password_alone_gets_no_token_for_a_user_with_a_second_factor(data_manager, statistician):
    from tests.factories import PASSWORD, give_authenticator

    refused = APIClient().post(
        "/api/v1/auth/token/", {"username": "datamanager", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert "one-time code" in refused.json()["detail"]
    give_authenticator(statistician)  # a statistician who turned the second factor on
    refused = APIClient().post(
        "/api/v1/auth/token/", {"username": "statistician", "password": PASSWORD}
    )
    assert refused.status_code == 403
