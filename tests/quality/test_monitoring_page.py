"""The central-monitoring page: who may open it, what it shows, and its queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import FollowUpCall
from quality.models import MonitoringSnapshot
from quality.services import monitoring_compute

pytestmark = pytest.mark.django_db

URL = reverse("quality:monitoring")
AS_OF = dt.date(2019, 1, 1)


@pytest.fixture
def cohort():
    demo_load(generate(60, seed=3))
    return monitoring_compute(as_of=AS_OF)


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
    monitoring_compute(as_of=AS_OF)
    client.force_login(statistician)
    # User, roles, the second-factor check (authenticator and recovery codes, once per
    # sign-in), the one query of the snapshot, then the session
    # renewed for the idle timeout (savepoint, update, release); the session is read from the
    # cache.
    with django_assert_num_queries(8):
        assert client.get(URL).status_code == 200


def test_page_says_when_the_worker_has_not_computed_the_monitoring_yet(client, statistician):
    demo_load(generate(20, seed=1))
    client.force_login(statistician)
    page = client.get(URL).content.decode()
    assert "none has been computed yet" in page
    assert 'id="monitoring-data"' not in page


def test_page_reads_the_stored_monitoring_and_computes_nothing(client, statistician, cohort):
    """The page shows the snapshot the worker stored, even after the data change."""
    client.force_login(statistician)
    before = client.get(URL).context["rows"]
    FollowUpCall.objects.filter(timepoint="M3").update(status="unreachable")
    after = client.get(URL)
    assert after.context["rows"] == before
    assert after.context["snapshot"] == cohort
    facts = after.content.decode().split('class="run-facts"')[1].split("</p>")[0]
    assert "2019" in facts
    assert monitoring_compute(as_of=AS_OF).result["rows"] != cohort.result["rows"]
    assert client.get(URL).context["rows"] != before  # the next run's snapshot is read


def test_flags_are_worded_in_the_readers_language(client, statistician):
    demo_load(generate(329, seed=0, plant={"nprs_digit_preference": 1}))
    monitoring_compute(as_of=AS_OF)
    client.force_login(statistician)
    english = client.get(URL).context["flags"]
    assert any("digit preference" in text for _site, text in english)
    statistician.language = "fr"
    statistician.save(update_fields=["language"])
    client.force_login(statistician)
    french = client.get(URL).context["flags"]
    assert any("préférence" in text for _site, text in french), french


def test_old_snapshots_are_pruned(monkeypatch):
    from quality import services

    monkeypatch.setattr(services, "MONITORING_KEPT", 2)
    demo_load(generate(20, seed=1))
    made = [monitoring_compute(as_of=AS_OF).pk for _ in range(3)]
    assert sorted(MonitoringSnapshot.objects.values_list("pk", flat=True)) == made[1:]
