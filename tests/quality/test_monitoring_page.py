"""The central-monitoring page: who may open it, what it shows, and its queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cohort.demo import generate
from cohort.demo_loader import demo_load

pytestmark = pytest.mark.django_db

URL = reverse("quality:monitoring")


@pytest.fixture
def cohort():
    demo_load(generate(60, seed=3))


def test_data_manager_sees_one_row_per_site_and_the_plot_data(client, data_manager, cohort):
    client.force_login(data_manager)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Central monitoring" in page
    assert 'id="monitoring-data"' in page
    assert "monitoring-charts.js" in page
    assert len(response.context["rows"]) == len(response.context["charts"]["sites"]) > 5
    assert "<script>" not in page.split('id="monitoring-data"')[0][-2000:]


def test_statistician_may_read_the_page(client, statistician, cohort):
    client.force_login(statistician)
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a"])
def test_site_staff_get_403(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302


def test_data_manager_home_and_nav_link_to_the_page(client, data_manager):
    client.force_login(data_manager)
    page = client.get(reverse("home")).content.decode()
    assert page.count(f'href="{URL}"') == 2


@pytest.mark.parametrize("patients", [20, 80])
def test_page_runs_the_same_queries_whatever_the_cohort_size(
    client, statistician, django_assert_num_queries, patients
):
    demo_load(generate(patients, seed=1))
    client.force_login(statistician)
    # User, roles, the second-factor check, the one query of the calls, then the session
    # renewed for the idle timeout (savepoint, update, release); the session is read from the
    # cache.
    with django_assert_num_queries(7):
        assert client.get(URL).status_code == 200
