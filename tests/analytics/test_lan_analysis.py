"""Analysis runs per study, and the second study's (Lan et al. 2022) stored report downstream:
its dashboard, its replication panel, its API, who may see them."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from analytics import lan_dataset, services
from analytics.models import AnalysisRun
from analytics.replication import lan2022 as rep
from analytics.report import lan2022 as lan_report
from analytics.stats import moderation
from analytics.tasks import nightly_reanalysis
from cohort.models import Patient, Study
from cohort.signals import clinical_data_changed
from cohort.studies import first_study
from demo.loader import demo_load
from demo.loader.lan import lan_demo
from demo.synthetic import generate as first_study_demo
from tests.api.conftest import SignedInAPIClient
from tests.factories import SiteFactory, enrol, make_user, set_up
from trials.lan2022.synthetic import generate

SEED = 11
Status = AnalysisRun.Status


@pytest.fixture(scope="module")
def trial():
    return generate(SEED)


@pytest.fixture(scope="module")
def lan_result(trial):
    """The report of the Lan plan on a synthetic trial: moderation.report under ``results``."""
    return lan_report.build(
        trial.patients, trial.visits, trial.infusions, trial.adverse, as_of=dt.date(2026, 3, 2)
    )


@pytest.fixture
def site_l(lan_study):
    return SiteFactory(code="SL", name="Psychiatry L", study=lan_study)


@pytest.fixture
def clinician_lan(site_l):
    return make_user("clinician_l", Role.CLINICIAN, [site_l])


def store(study, report, **fields):
    now = timezone.now()
    return AnalysisRun.objects.create(
        study=study,
        status=Status.SUCCEEDED,
        trigger=AnalysisRun.Trigger.NIGHTLY,
        started_at=now - dt.timedelta(seconds=3),
        finished_at=now,
        n_patients=report["run"]["patients"],
        n_calls=report["run"]["ratings"],
        fingerprint="f" * 64,
        report=report,
        summary=lan_report.summary(report),
        **fields,
    )


@pytest.fixture
def lan_run(lan_study, site_l, lan_result):
    return store(lan_study, lan_result)


def dashboard(client, user, code="LAN2022"):
    client.force_login(user)
    response = client.get(reverse("analysis:dashboard"), {"study": code})
    return response, BeautifulSoup(response.content, "html.parser")


# -- runs per study ------------------------------------------------------------------------------
def test_each_study_has_its_own_waiting_and_running_run(lan_study):
    first = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    lan = services.reanalysis_schedule(trigger="manual", study=lan_study, delay=0, dispatch=False)
    assert (first.study, lan.study) == (first_study(), lan_study)
    assert first.pk != lan.pk
    again = services.reanalysis_schedule(trigger="manual", study=lan_study, dispatch=False)
    assert again.pk == lan.pk  # joins its own study's waiting run
    AnalysisRun.objects.filter(pk__in=[first.pk, lan.pk]).update(status=Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisRun.objects.create(study=lan_study, trigger="manual", status=Status.RUNNING)


def test_a_change_of_a_second_study_patient_schedules_that_study_only(
    lan_study, site_l, nurse_site_a, django_capture_on_commit_callbacks
):
    nurse_site_a.sites.add(site_l)
    with set_up():
        patient = enrol(site_l, by=nurse_site_a)
    AnalysisRun.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        clinical_data_changed.send(
            sender=None, patient=patient, by=nurse_site_a, reason="test", call=None
        )
    assert list(AnalysisRun.objects.values_list("study__code", "status")) == [
        ("LAN2022", Status.QUEUED)
    ]


def test_a_change_of_no_known_study_schedules_every_active_study(
    lan_study, django_capture_on_commit_callbacks
):
    first_study()
    with django_capture_on_commit_callbacks(execute=True):
        services.reanalysis_on_commit()
        services.reanalysis_on_commit(study_id=lan_study.pk)  # joins the same scheduling
    codes = sorted(AnalysisRun.objects.values_list("study__code", flat=True))
    assert codes == ["LAN2022", "VOUTE2023"]


@pytest.fixture
def seeded(db):
    """The demo's second study in the database (finished) beside four first-study patients."""
    demo = lan_demo(SEED)
    demo_load(first_study_demo(4, seed=1), lan=demo)
    return demo


def test_the_lan_plan_reads_its_study_and_stores_its_report_then_sees_unchanged_data(seeded):
    lan_study = Study.objects.get(code="LAN2022")
    AnalysisRun.objects.all().delete()
    queued = services.reanalysis_schedule(trigger="manual", study=lan_study, dispatch=False)
    run = services.run_execute(run_id=queued.pk, wait=False).run
    assert run.status == Status.SUCCEEDED, run.error_detail
    # Only the study's own patients are read: the first study's four are not.
    data = lan_dataset.load(
        Patient.objects.filter(site__study=lan_study), as_of=timezone.localdate()
    )
    assert data.patients["patient"].nunique() == 104
    assert run.n_patients == 104
    assert run.report["schema"] == "lan2022-moderation/report"
    expected = moderation.report(data.patients, data.visits, data.infusions, data.adverse)
    assert json.loads(json.dumps(run.report["results"])) == json.loads(
        json.dumps(
            lan_report.build(
                data.patients, data.visits, data.infusions, data.adverse, as_of=data.as_of
            )["results"]
        )
    )
    assert run.report["results"]["moderation"]["vas"]["omnibus_wald"]["chi2"] == pytest.approx(
        expected["moderation"]["vas"]["omnibus_wald"]["chi2"], rel=1e-12
    )
    again = services.reanalysis_schedule(trigger="manual", study=lan_study, dispatch=False)
    second = services.run_execute(run_id=again.pk, wait=False).run
    assert (second.status, second.same_as_id) == (Status.UNCHANGED, run.pk)
    assert services.latest_good_run(lan_study) == run
    assert services.latest_good_run() is None  # the first study has no result


def test_the_command_runs_one_study_and_refuses_an_unknown_one(seeded, tmp_path, settings):
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    AnalysisRun.objects.all().delete()
    output = tmp_path / "lan.json"
    call_command("run_analysis", "--study", "LAN2022", "--sync", "--output", str(output))
    written = json.loads(output.read_text())
    assert written["schema"] == "lan2022-moderation/report"
    assert written["run"]["patients"] == 104
    assert list(AnalysisRun.objects.values_list("study__code", "trigger")) == [
        ("LAN2022", "command")
    ]
    with pytest.raises(CommandError, match="No study 'NOPE'"):
        call_command("run_analysis", "--study", "NOPE", "--sync")


def test_the_nightly_reanalysis_queues_every_active_study(lan_study, settings):
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    Study.objects.create(code="OLD", name="Closed", definition="lan2022", is_active=False)
    first_study()
    ids = nightly_reanalysis()
    runs = AnalysisRun.objects.filter(pk__in=ids).order_by("study__code")
    assert [(r.study.code, r.trigger) for r in runs] == [
        ("LAN2022", "nightly"),
        ("VOUTE2023", "nightly"),
    ]


# -- the dashboard -------------------------------------------------------------------------------
def test_the_lan_dashboard_renders_its_report(client, statistician, lan_run, lan_result):
    response, page = dashboard(client, statistician)
    assert response.status_code == 200
    results = lan_result["results"]
    vas = page.select_one('#lan-moderation tr[data-domain="vas"]').get_text(" ")
    assert f"{results['moderation']['vas']['mean_post']['estimate']:.2f}" in vas
    assert f"{results['moderation']['vas']['omnibus_wald']['chi2']:.1f}" in vas
    severe = page.select_one('#lan-slopes tr[data-group="severe"]').get_text(" ")
    assert f"{results['simple_slopes']['groups']['severe']['last']['estimate']:.1f}" in severe
    contrast = page.select_one('#lan-slopes tr[data-contrast="severe_vs_mild"]').get_text(" ")
    last = results["simple_slopes"]["contrasts"]["severe_vs_mild"]["last"]["estimate"]
    assert f"{last:.1f}" in contrast
    day26 = page.select_one("#lan-day26").get_text(" ")
    assert f"{results['day26']['overall']['response']['count']} (" in day26
    men = page.select_one('#lan-baseline tr[data-row="men"]').get_text(" ")
    assert "26 (52.0%)" in men  # 52.0% of the 50 with pain, as published
    adverse = page.select_one("#lan-adverse").get_text(" ")
    assert str(results["adverse_effects"]["symptoms"]["dissociation"]["events"]) in adverse
    statuses = [row["data-status"] for row in page.select("#replication-table tr[data-status]")]
    assert len(statuses) == len(rep.compare(lan_result))
    assert "Lan et al. (2022)" in page.get_text()
    # The first study's blocks are not drawn for the second study.
    assert "Baseline to month 12 (LOCF)" not in page.get_text()


def test_the_switcher_offers_the_studies_the_user_sees(
    client, statistician, clinician_site_a, lan_run
):
    _response, page = dashboard(client, statistician)
    assert [a.get_text() for a in page.select(".study-switcher a")] == ["VOUTE2023", "LAN2022"]
    assert page.select_one(".study-switcher a[aria-current]").get_text() == "LAN2022"
    client.force_login(clinician_site_a)
    first = client.get(reverse("analysis:dashboard")).content.decode()
    assert "study-switcher" not in first  # one study only: no switcher


def test_the_replication_verdicts_come_from_the_report(client, statistician, lan_run):
    rows = {(row.label, row.item): row.status for row in rep.compare(lan_run.report)}
    key = ("Severe pain improved more than mild pain (P < .05)", "")
    assert rows[key] == "agrees"
    broken = copy.deepcopy(lan_run.report)
    broken["results"]["simple_slopes"]["contrasts"]["severe_vs_mild"]["last"]["estimate"] = 2.0
    broken["results"]["simple_slopes"]["groups"]["none"]["last"]["p"] = 0.3
    verdicts = {(row.label, row.item): row.status for row in rep.compare(broken)}
    assert verdicts[key] == "differs"
    assert verdicts[("Every pain group improved (P < .05)", "")] == "differs"
    assert verdicts[("Change from baseline to day 26", "No pain")] == "differs"
    AnalysisRun.objects.filter(pk=lan_run.pk).update(summary=broken)
    _response, page = dashboard(client, statistician)
    differs = [r.th.get_text() for r in page.select('#replication-table tr[data-status="differs"]')]
    assert "Severe pain improved more than mild pain (P < .05)" in differs
    assert "Every pain group improved (P < .05)" in differs


def test_a_baseline_share_far_from_the_paper_differs(lan_result):
    broken = copy.deepcopy(lan_result)
    broken["results"]["baseline"]["rows"]["men"]["cells"]["with_pain"]["pct"] = 80.0
    rows = {(row.label, row.item): row.status for row in rep.compare(broken)}
    assert rows[("Men", "with pain")] == "differs"
    assert rows[("Men", "without pain")] == "agrees"


def test_the_lan_dashboard_speaks_french(client, statistician, lan_run, lan_result):
    statistician.language = "fr"
    statistician.save(update_fields=["language"])
    _response, page = dashboard(client, statistician)
    text = page.get_text(" ")
    assert "Réplication" in text
    assert "Douleur sévère" in text
    assert "Données au 02/03/2026" in text  # the data cut as French writes a date, not ISO
    vas = results_vas = lan_result["results"]["moderation"]["vas"]["mean_post"]["estimate"]
    assert f"{vas:.2f}".replace(".", ",") in page.select_one('tr[data-domain="vas"]').get_text()
    assert results_vas < 0


def test_a_user_of_first_study_sites_cannot_see_the_second_study_analysis(
    client, clinician_site_a, clinician_lan, lan_run
):
    client.force_login(clinician_site_a)
    for name in ("analysis:dashboard", "analysis:run_list", "analysis:report_json"):
        assert client.get(reverse(name), {"study": "LAN2022"}).status_code == 404, name
    for name in ("analysis:run_detail", "analysis:run_report_json"):
        assert client.get(reverse(name, args=[lan_run.pk])).status_code == 404, name
    # A clinician of the second study's sites sees it, and it is their default study.
    client.force_login(clinician_lan)
    assert "lan-moderation" in client.get(reverse("analysis:dashboard")).content.decode()


def test_statisticians_and_data_managers_see_every_study(client, statistician, lan_run):
    client.force_login(statistician)
    response = client.get(reverse("analysis:report_json"), {"study": "LAN2022"})
    assert response.json()["schema"] == "lan2022-moderation/report"
    html = client.get(reverse("analysis:report_html"), {"study": "LAN2022"}).content.decode()
    assert 'id="lan-moderation"' in html
    assert "Baseline to month 12 (LOCF)" not in html
    listed = client.get(reverse("analysis:run_list"), {"study": "LAN2022"}).content.decode()
    assert f"/analysis/runs/{lan_run.pk}/" in listed
    first = client.get(reverse("analysis:run_list"), {"study": "VOUTE2023"}).content.decode()
    assert f"/analysis/runs/{lan_run.pk}/" not in first


def test_rerun_queues_the_selected_study(client, statistician, lan_study, settings):
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    client.force_login(statistician)
    response = client.post(reverse("analysis:rerun") + "?study=LAN2022")
    assert response.status_code == 302
    assert response["Location"].endswith("?study=LAN2022")
    assert list(AnalysisRun.objects.values_list("study__code", "trigger")) == [
        ("LAN2022", "manual")
    ]


# -- the API -------------------------------------------------------------------------------------
def api_as(user):
    client = SignedInAPIClient()
    client.force_login(user)
    return client


def test_the_api_serves_a_study_chosen_by_code(statistician, lan_run):
    api = api_as(statistician)
    latest = api.get("/api/v1/analysis/latest/", {"study": "LAN2022"})
    assert latest.status_code == 200
    assert latest.json()["schema"] == "lan2022-moderation/report"
    assert latest["X-Analysis-Run"] == str(lan_run.pk)
    assert api.get("/api/v1/analysis/latest/").status_code == 404  # the first study: none yet
    runs = api.get("/api/v1/analysis/runs/", {"study": "LAN2022"}).json()["results"]
    assert [(r["id"], r["study"]) for r in runs] == [(lan_run.pk, "LAN2022")]
    assert api.get("/api/v1/analysis/runs/").json()["results"] == []
    missing = api.get("/api/v1/analysis/latest/", {"study": "NOPE"})
    assert missing.status_code == 404
    assert "NOPE" in missing.json()["detail"]


def test_the_api_hides_a_study_the_user_does_not_see(clinician_site_a, lan_run):
    api = api_as(clinician_site_a)
    hidden = api.get("/api/v1/analysis/latest/", {"study": "LAN2022"})
    assert hidden.status_code == 404
    assert "LAN2022" in hidden.json()["detail"]
    assert api.get(f"/api/v1/analysis/runs/{lan_run.pk}/").status_code == 404
    assert api.get(f"/api/v1/analysis/runs/{lan_run.pk}/report/").status_code == 404


def test_the_api_queues_a_run_of_the_study(statistician, lan_study, settings):
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    response = api_as(statistician).post("/api/v1/analysis/runs/?study=LAN2022", {})
    assert response.status_code == 202
    assert response.json()["study"] == "LAN2022"
