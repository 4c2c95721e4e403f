"""Error pages in the site's layout and language, with a way back; links lead to open pages."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.test import RequestFactory
from django.urls import reverse

from config import views
from tests.test_page_access import TABLE, _client_for, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

PERSONAS = ("nurse_site_a", "clinician_site_a", "statistician", "data_manager")


def test_a_refused_page_is_in_the_layout_and_the_language_with_a_way_home(client, statistician):
    statistician.language = "fr"
    statistician.save(update_fields=["language"])
    client.force_login(statistician)
    response = client.get(reverse("followup:worklist"))
    page = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="fr">' in page
    assert "Pas pour votre rôle" in page
    assert 'class="topbar"' in page
    assert f'href="{reverse("home")}"' in page


def test_an_unknown_page_is_in_the_layout_with_a_way_back(client, nurse_site_a):
    client.force_login(nurse_site_a)
    response = client.get("/no/such/page/", HTTP_REFERER="http://testserver/patients/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page
    assert 'href="http://testserver/patients/"' in page
    assert "Back to the previous page" in page


def test_a_way_back_never_leaves_the_site(client, nurse_site_a):
    client.force_login(nurse_site_a)
    page = client.get("/no/such/page/", HTTP_REFERER="https://evil.example/").content.decode()
    assert "evil.example" not in page


def test_a_server_error_apologises_in_the_layout(nurse_site_a):
    request = RequestFactory().get("/patients/")
    request.user = nurse_site_a
    response = views.server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_the_api_keeps_answering_errors_in_json(client, statistician):
    client.force_login(statistician)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["detail"]


def _links(page: str) -> set[str]:
    soup = BeautifulSoup(page, "html.parser")
    found = set()
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("#", "tel:", "mailto:")):
            continue
        if parts.path.startswith(("/static/", "/admin/", "/api/")) or not parts.path:
            continue
        found.add(href.split("#")[0])
    return found


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_link_on_every_page_a_persona_opens_leads_to_a_page_they_can_open(request, persona):
    objects = request.getfixturevalue("world")
    client = _client_for(persona, request)
    pages = []
    for line in TABLE:
        if line.method != "GET" or line.expected(persona, "A") != 200:
            continue
        pages.append(reverse(line.name, kwargs=objects["A"][line.fill] if line.fill else {}))
    links: dict[str, str] = {}
    for url in pages:
        response = client.get(url)
        if "text/html" in response.get("Content-Type", ""):
            for link in _links(response.content.decode()):
                links.setdefault(link, url)
    assert len(links) > 5
    dead = []
    for link, source in sorted(links.items()):
        status = client.get(link).status_code
        if status in (403, 404, 500):
            dead.append(f"{link} (from {source}): {status}")
    assert dead == []
