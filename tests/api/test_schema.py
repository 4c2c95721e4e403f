"""The OpenAPI schema validates and its documentation pages are served from our static files."""

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings(tmp_path):
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    text = path.read_text()
    for endpoint in (
        "/api/v1/patients/",
        "/api/v1/calls/{id}/questionnaires/",
        "/api/v1/depression-baselines/{id}/",
        "/api/v1/analysis/latest/",
        "/api/v1/exports/{layout}.{fmt}",
        "/api/v1/auth/token/",
    ):
        assert f"{endpoint}:" in text


def test_the_schema_is_served_whole_whoever_asks(statistician):
    client = APIClient()
    client.force_login(statistician)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Ketamine follow-up API"
    # Fields hidden from a statistician's data are still described for the staff who get them.
    assert "contact" in schema["components"]["schemas"]["Patient"]["properties"]


def test_the_schema_and_its_page_are_for_signed_in_users(statistician):
    anonymous = APIClient()
    assert anonymous.get("/api/schema/").status_code in (401, 403)
    assert anonymous.get("/api/docs/").status_code in (401, 403)


def test_the_documentation_page_runs_no_inline_script(statistician):
    client = APIClient()
    client.force_login(statistician)
    html = client.get("/api/docs/").content.decode()
    # The page's own script is a file (?script), allowed by the CSP's script-src 'self'.
    assert "<script>" not in html.replace(" ", "")
    assert "?script" in html
    script = client.get("/api/docs/?script")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_documentation_page_loads_its_assets_from_our_static_files(statistician):
    client = APIClient()
    client.force_login(statistician)
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    for outside in ("cdn.", "unpkg", "jsdelivr", "https://"):
        assert outside not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
