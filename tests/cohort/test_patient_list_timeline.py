"""The patient list and the patient timeline: scoping, identifiers, filters, series, queries."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from analytics import services
from analytics.memberships import Membership, trajectory_memberships
from analytics.models import AnalysisRun, TrajectoryMembership
from cohort.models import Patient, Site
from demo.loader import demo_load
from demo.synthetic import generate
from tests.factories import enrol, make_user


@pytest.fixture
def demo(db, settings):
    settings.ANALYSIS_PARAMETERS = {"n_boot": 20, "trajectory_groups": [1, 2, 3], "seed": 1}
    demo_load(generate(60, seed=5))
    return Site.objects.filter(is_demo=True).order_by("code")


def test_nurse_lists_only_the_patients_of_her_sites_with_their_names(
    client, nurse_site_a, patient_a, patient_b
):
    client.force_login(nurse_site_a)
    page = client.get(reverse("cohort:patient_list")).content.decode()
    assert patient_a.study_code in page
    assert "MARTIN" in page
    assert patient_b.study_code not in page


def test_statistician_lists_every_site_but_never_a_name(client, statistician, patient_a, patient_b):
    client.force_login(statistician)
    page = client.get(reverse("cohort:patient_list")).content.decode()
    assert patient_a.study_code in page
    assert patient_b.study_code in page
    assert "MARTIN" not in page
    assert "DURAND" not in page


def test_search_and_filters_narrow_the_list(client, statistician, site_a, patient_a, nurse_site_a):
    other = enrol(site_a, by=nurse_site_a, first_name="Anne", last_name="Petit")
    client.force_login(statistician)
    url = reverse("cohort:patient_list")
    page = client.get(url, {"q": other.study_code[-4:]}).content.decode()
    assert other.study_code in page
    assert patient_a.study_code not in page
    page = client.get(url, {"status": "withdrawn"}).content.decode()
    assert "No patient matches." in page
    page = client.get(url, {"flagged": "on"}).content.decode()
    assert "No patient matches." in page


def test_list_queries_do_not_grow_with_the_number_of_patients(client, statistician, demo):
    client.force_login(statistician)
    url = reverse("cohort:patient_list")
    client.get(url)  # the first request of a session checks the second factor once
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    demo_load(generate(150, seed=6))
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert Patient.objects.count() == 150
    assert len(large) == len(small)


def test_list_filters_by_trajectory_group_of_the_latest_analysis(client, statistician, demo):
    run = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    services.run_execute(run_id=run.pk)
    memberships = trajectory_memberships()
    assert memberships
    t1 = {pk for pk, m in memberships.items() if m.group == "T1_lesser_pain"}
    client.force_login(statistician)
    response = client.get(reverse("cohort:patient_list"), {"group": "T1_lesser_pain"})
    assert response.context["page"].paginator.count == len(t1)
    shown = {p.pk for p in response.context["page"].object_list}
    assert shown <= t1


def test_timeline_of_another_sites_patient_is_404(client, nurse_site_a, patient_b):
    client.force_login(nurse_site_a)
    url = reverse("cohort:patient_timeline", args=[patient_b.pk])
    assert client.get(url).status_code == 404


def test_timeline_carries_scores_doses_adverse_effects_and_missed_calls(client, statistician, demo):
    patient = (
        Patient.objects.filter(calls__status="unreachable")
        .filter(calls__adverse_events__isnull=False)
        .distinct()
        .first()
    )
    client.force_login(statistician)
    response = client.get(reverse("cohort:patient_timeline", args=[patient.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="timeline-data"' in page
    assert patient.contact.last_name.upper() not in page  # statisticians: no identifiers
    series = response.context["series"]
    reached = patient.calls.filter(status="reached").count()
    assert len(series["points"]) == reached
    assert series["points"][0]["timepoint"] == "BL"
    assert len(series["missed"]) >= 1
    assert series["events"]
    total = sum(d["total_mg"] for d in series["doses"])
    assert series["doses"][-1]["cumulative_mg"] == pytest.approx(total)
    assert float(patient.cumulative_dose_mg()) == pytest.approx(total)
    json.dumps(series, allow_nan=False, cls=DjangoJSONEncoder)  # as json_script writes it


def test_timeline_shows_the_trajectory_group_with_its_posterior(client, clinician_site_a, demo):
    run = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    services.run_execute(run_id=run.pk)
    pk, membership = next(iter(trajectory_memberships().items()))
    patient = Patient.objects.get(pk=pk)
    user = make_user("clin_demo", Role.CLINICIAN, [patient.site])
    client.force_login(user)
    page = client.get(reverse("cohort:patient_timeline", args=[pk])).content.decode()
    assert membership.group.replace("_", "") in page
    assert f"analysis run {run.pk}" in page
    assert str(membership.model_label) in page


def _analysed(demo) -> AnalysisRun:
    run = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    return services.run_execute(run_id=run.pk).run


def _report_table(run: AnalysisRun) -> dict[int, Membership]:
    table = run.report["results"]["trajectories"]["membership"]
    return {
        int(p): Membership(g, post, run.pk, table["model"])
        for p, g, post in zip(table["patient"], table["group"], table["posterior"], strict=True)
        if g
    }


def test_the_run_stores_each_patients_membership_as_a_row_equal_to_the_report(demo):
    run = _analysed(demo)
    expected = _report_table(run)
    assert len(expected) >= 50
    rows = TrajectoryMembership.objects.filter(run=run)
    stored = {m.patient_id: Membership(m.group, m.posterior, run.pk, m.model) for m in rows}
    assert stored == expected
    # The rows name the model the report says the memberships come from.
    named = run.report["results"]["trajectories"]["memberships_model"]["model"]
    assert {m.model for m in rows} == {named}
    assert trajectory_memberships() == expected
    some = sorted(expected)[:3]
    assert trajectory_memberships(some) == {pk: expected[pk] for pk in some}


def test_a_new_run_replaces_the_membership_rows_of_the_earlier_one(demo):
    first = _analysed(demo)
    again = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False, force=True)
    second = services.run_execute(run_id=again.pk).run
    assert second.status == "succeeded"
    assert set(TrajectoryMembership.objects.values_list("run_id", flat=True)) == {second.pk}
    assert TrajectoryMembership.objects.count() == len(_report_table(second))
    assert first.report["results"]["trajectories"]["membership"]  # the report keeps its table


def test_the_timeline_reads_one_membership_row_not_the_report(client, statistician, demo):
    run = _analysed(demo)
    pk, membership = sorted(_report_table(run).items())[7]
    client.force_login(statistician)
    url = reverse("cohort:patient_timeline", args=[pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.context["membership"] == membership
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not any('"report"' in sql for sql in reads)
    response = client.get(reverse("cohort:patient_list"), {"group": membership.group})
    shown = {p.pk: p.membership for p in response.context["page"].object_list}
    assert shown
    assert all(m is not None and m.group == membership.group for m in shown.values())


def test_a_run_stored_before_the_membership_rows_still_shows_its_groups(client, statistician, demo):
    run = _analysed(demo)
    expected = _report_table(run)
    AnalysisRun.objects.filter(pk=run.pk).update(summary=None)
    TrajectoryMembership.objects.all().delete()
    assert trajectory_memberships() == expected
    pk, membership = sorted(expected.items())[0]
    client.force_login(statistician)
    response = client.get(reverse("cohort:patient_timeline", args=[pk]))
    assert response.context["membership"] == membership
    response = client.get(reverse("cohort:patient_list"), {"group": membership.group})
    in_group = {p for p, m in expected.items() if m.group == membership.group}
    assert response.context["page"].paginator.count == len(in_group)
