"""The analysis pages: dashboard, runs, rerun, report downloads; who may see them."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from analytics import replication, services
from analytics.models import AnalysisRun
from demo.loader import demo_load
from demo.synthetic import generate
from tests.factories import give_authenticator, make_user

FAST = {"n_boot": 50, "trajectory_groups": [1, 2, 3], "seed": 1}
READ_PAGES = [
    ("analysis:dashboard", {}),
    ("analysis:run_list", {}),
    ("analysis:run_status", {}),
]


@pytest.fixture
def finished_run(db, settings):
    settings.ANALYSIS_PARAMETERS = FAST
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    demo_load(generate(60, seed=3))
    run = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    return services.run_execute(run_id=run.pk).run


@pytest.fixture
def data_manager_user(db):
    return give_authenticator(make_user("dm", Role.DATA_MANAGER, [])).user


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES)
def test_statisticians_clinicians_and_data_managers_see_the_analysis_pages(
    client, statistician, clinician_site_a, data_manager_user, name, kwargs
):
    for user in (statistician, clinician_site_a, data_manager_user):
        client.force_login(user)
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 200, user


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES)
def test_nurses_are_refused_and_visitors_sent_to_sign_in(client, nurse_site_a, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 302
    client.force_login(nurse_site_a)
    assert client.get(url).status_code == 403


def test_dashboard_says_when_nothing_has_been_computed(client, statistician):
    client.force_login(statistician)
    page = client.get(reverse("analysis:dashboard")).content.decode()
    assert "No analysis has finished yet" in page
    assert "Rerun now" in page


def test_dashboard_shows_the_latest_run_and_its_figures(client, clinician_site_a, finished_run):
    client.force_login(clinician_site_a)
    response = client.get(reverse("analysis:dashboard"))
    page = response.content.decode()
    assert f"Run {finished_run.pk}, finished" in page
    assert finished_run.fingerprint[:12] in page
    assert "Baseline characteristics (the paper" in page
    assert "Replication: the paper beside this run" in page
    assert "Rerun now" not in page  # clinicians read only
    assert set(response.context["charts"]) == {
        "evolution",
        "figure2",
        "trajectories",
        "adverse",
        "labels",
    }
    assert 'id="chart-data"' in page
    assert "vendor/plotly/plotly-basic.min.js" in page
    # every published figure has its row beside the live value
    assert len(response.context["replication"]) == len(replication.compare(finished_run.report))


def test_dashboard_shows_why_mean_pain_is_missing_per_timepoint(client, statistician, finished_run):
    client.force_login(statistician)
    response = client.get(reverse("analysis:dashboard"))
    assert "Missing mean pain by timepoint and reason" in response.content.decode()
    rows = response.context["missingness"]
    assert [row["timepoint"] for row in rows][:3] == ["BL", "W1", "M1"]
    assert sum(row["unreachable"] for row in rows) > 0
    assert sum(row["lost"] for row in rows) > 0
    assert all(len(row["counts"]) == 5 for row in rows)


def test_a_failed_run_is_announced_and_the_last_good_results_stay(
    client, statistician, finished_run, settings
):
    settings.ANALYSIS_PARAMETERS = {**FAST, "effect_size": "unknown"}
    failed = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    services.run_execute(run_id=failed.pk)
    client.force_login(statistician)
    page = client.get(reverse("analysis:dashboard")).content.decode()
    assert f"Run {failed.pk} failed" in page
    assert f"Run {finished_run.pk}, finished" in page
    detail = client.get(reverse("analysis:run_detail", args=[failed.pk])).content.decode()
    assert "unknown" in detail
    assert "Traceback" in detail


def test_statisticians_can_ask_for_a_rerun_and_clinicians_cannot(
    client, statistician, clinician_site_a, settings
):
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    client.force_login(clinician_site_a)
    assert client.post(reverse("analysis:rerun")).status_code == 403
    assert not AnalysisRun.objects.exists()
    client.force_login(statistician)
    response = client.post(reverse("analysis:rerun"))
    assert response.status_code == 302
    run = AnalysisRun.objects.get()
    assert (run.trigger, run.force, run.requested_by) == ("manual", True, statistician)
    status = client.get(reverse("analysis:run_status")).content.decode()
    assert "hx-trigger" in status  # the panel keeps polling while the run waits


def test_status_asks_the_page_to_reload_when_a_newer_run_has_finished(
    client, statistician, finished_run
):
    client.force_login(statistician)
    url = reverse("analysis:run_status")
    assert "HX-Refresh" not in client.get(url, {"shown": finished_run.pk}).headers
    # A page with no results yet, or one that was following a run, reloads.
    assert client.get(url, {"shown": ""}).headers["HX-Refresh"] == "true"
    assert client.get(url, {"shown": "0", "follow": "1"}).headers["HX-Refresh"] == "true"


def _newer_run(after: AnalysisRun) -> AnalysisRun:
    return AnalysisRun.objects.create(
        status=AnalysisRun.Status.SUCCEEDED,
        trigger="nightly",
        finished_at=after.finished_at + timedelta(minutes=5),
        n_patients=61,
        n_calls=700,
        report=after.report,
    )


def test_an_open_dashboard_keeps_asking_for_newer_results(client, statistician, finished_run):
    client.force_login(statistician)
    page = client.get(reverse("analysis:dashboard")).content.decode()
    panel = page.split('id="run-status"')[1].split(">")[0]
    assert f"shown={finished_run.pk}" in panel
    assert 'hx-trigger="every 30s"' in panel  # idle: a slow, cheap poll
    assert "follow=1" not in panel


def test_a_newer_run_is_offered_without_moving_the_reader(client, statistician, finished_run):
    client.force_login(statistician)
    url = reverse("analysis:run_status")
    newer = _newer_run(finished_run)
    response = client.get(url, {"shown": finished_run.pk})
    assert "HX-Refresh" not in response.headers
    page = response.content.decode()
    assert "Newer results are available." in page
    assert f"Run {newer.pk} finished" in page
    assert f"shown={finished_run.pk}" in page  # it keeps polling for the page it is on
    # Once the reader shows the new results, the panel is quiet again.
    quiet = client.get(url, {"shown": newer.pk}).content.decode()
    assert "Newer results are available." not in quiet


def test_the_status_poll_is_cheap(
    client, statistician, finished_run, django_assert_max_num_queries
):
    client.force_login(statistician)
    url = reverse("analysis:run_status")
    client.get(url, {"shown": finished_run.pk})
    # User and roles come from the cache; the active run and the newest success, then the
    # session renewal: no report is read.
    with django_assert_max_num_queries(6) as queries:
        client.get(url, {"shown": finished_run.pk})
    assert not any(
        '"report"' in q["sql"] and "SELECT" in q["sql"] for q in queries.captured_queries
    )


def test_report_downloads_as_json_and_as_one_html_file(client, statistician, finished_run):
    client.force_login(statistician)
    response = client.get(reverse("analysis:report_json"))
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content) == finished_run.report
    html = client.get(reverse("analysis:report_html"))
    text = html.content.decode()
    assert html["Content-Disposition"].endswith(f'analysis-run-{finished_run.pk}.html"')
    assert "Baseline to month 12" in text
    assert "<style>" in text
    assert "Plotly" in text  # the charting library travels inside the file
    assert "/static/" not in text  # nothing to fetch from the server


def test_report_of_an_unchanged_run_is_the_report_it_matched(client, statistician, finished_run):
    again = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    unchanged = services.run_execute(run_id=again.pk).run
    assert unchanged.status == "unchanged"
    client.force_login(statistician)
    response = client.get(reverse("analysis:run_report_json", args=[unchanged.pk]))
    assert json.loads(response.content)["run"]["fingerprint"] == finished_run.fingerprint


def test_report_download_is_404_before_any_success(client, statistician):
    client.force_login(statistician)
    assert client.get(reverse("analysis:report_json")).status_code == 404


def test_replication_puts_every_published_number_beside_the_live_one():
    published = replication.paper_figures()
    live = json.loads(json.dumps(published))  # a run that reproduced the paper exactly
    live["results"]["nprs_baseline_to_m12"]["effect_size"] = -0.4961
    rows = {row.path: row for row in replication.compare(live)}
    effect = rows["nprs_baseline_to_m12.effect_size"]
    assert (effect.paper, effect.live) == ("-0.52 [-0.62, -0.41]", "-0.50 [-0.62, -0.41]")
    assert effect.difference == pytest.approx(0.0239)
    assert "nprs_baseline_to_m12.effect_size_ci95" not in rows  # shown with its estimate
    assert "trajectories.population" not in rows  # words, not figures
    missing = replication.compare({"cohort": {}, "results": {}})
    assert all(row.live == "–" for row in missing)
    assert {row.status for row in missing} == {replication.NOT_COMPARABLE}


@pytest.fixture
def interim_run(db, settings):
    """A study cut on 1 March 2017 and analysed three days later: calls still ahead."""
    import datetime as dt

    import time_machine

    settings.ANALYSIS_PARAMETERS = FAST
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    with time_machine.travel(dt.datetime(2017, 3, 4, 12, tzinfo=dt.UTC), tick=False):
        demo_load(generate(60, seed=3, as_of=dt.date(2017, 3, 1)))
        run = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
        return services.run_execute(run_id=run.pk).run


def test_an_interim_dashboard_shows_the_data_cut_and_who_has_reached_month_12(
    client, statistician, interim_run
):
    report = interim_run.report
    assert report["run"]["as_of"] == "2017-03-04"
    cut = report["run"]["data_cut"]["reached"]
    assert cut["M12"] < cut["BL"]
    client.force_login(statistician)
    page = client.get(reverse("analysis:dashboard")).content.decode()
    assert "Data as of 4 Mar 2017" in page
    assert "Month 12 due" in page
    assert "Sensitivity: the same model on observed values only" in page
    assert "This run is an interim analysis" in page
    rows = {
        row["timepoint"]: row
        for row in client.get(reverse("analysis:dashboard")).context["missingness"]
    }
    assert rows["M12"]["not_yet_observed"] > 0
    assert rows["M12"]["reached"] == cut["M12"]


def test_the_dashboard_reads_the_report_summary_not_the_report(client, statistician, finished_run):
    without_memberships = copy.deepcopy(finished_run.report)
    del without_memberships["results"]["trajectories"]["membership"]
    assert finished_run.summary == without_memberships
    client.force_login(statistician)
    url = reverse("analysis:dashboard")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert "Replication: the paper beside this run" in response.content.decode()
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert any('"summary"' in sql for sql in reads)
    assert not any('"report"' in sql for sql in reads)


def test_a_run_stored_before_summaries_is_shown_from_its_report(client, statistician, finished_run):
    AnalysisRun.objects.filter(pk=finished_run.pk).update(summary=None)
    client.force_login(statistician)
    response = client.get(reverse("analysis:dashboard"))
    assert "Replication: the paper beside this run" in response.content.decode()
    assert response.context["cohort"] == finished_run.report["cohort"]


def test_the_memberships_model_and_why_are_shown_in_the_readers_language(
    client, statistician, finished_run
):
    # The reason is written from the run's figures, in English and in French.
    block = finished_run.report["results"]["trajectories"]
    chosen = block["memberships_model"]["model"]
    mixed_bic = block["models_compared"]["latent_class_mixed"]["bic"]
    texts = {}
    for language in ("en", "fr"):
        statistician.language = language
        statistician.save(update_fields=["language"])
        client.force_login(statistician)
        page = BeautifulSoup(client.get(reverse("analysis:dashboard")).content, "html.parser")
        shown = page.find(id="memberships-model")
        assert shown["data-model"] == chosen
        texts[language] = " ".join(shown.text.split())
    mixed = chosen == "latent_class_mixed"
    assert texts["en"].startswith(
        "Memberships come from the latent-class mixed model"
        if mixed
        else "Memberships come from the group-based model"
    )
    assert texts["fr"].startswith(
        "Les appartenances viennent du modèle mixte"
        if mixed
        else "Les appartenances viennent du modèle de trajectoire par groupes"
    )
    assert f"{mixed_bic:.1f}" in texts["en"]
    assert f"{mixed_bic:.1f}".replace(".", ",") in texts["fr"]


def test_a_mixed_model_stopped_short_of_its_maximum_is_flagged_in_the_readers_language(
    client, statistician, finished_run
):
    mixed = finished_run.summary["results"]["trajectories"]["models_compared"]["latent_class_mixed"]
    assert mixed["available"]
    assert mixed["converged"] is mixed["convergence"]["converged"] is True
    client.force_login(statistician)
    url = reverse("analysis:dashboard")
    page = BeautifulSoup(client.get(url).content, "html.parser")
    assert page.find(id="mixed-not-converged") is None
    summary = copy.deepcopy(finished_run.summary)
    summary["results"]["trajectories"]["models_compared"]["latent_class_mixed"]["converged"] = False
    AnalysisRun.objects.filter(pk=finished_run.pk).update(summary=summary)
    texts = {}
    for language in ("en", "fr"):
        statistician.language = language
        statistician.save(update_fields=["language"])
        client.force_login(statistician)
        page = BeautifulSoup(client.get(url).content, "html.parser")
        texts[language] = " ".join(page.find(id="mixed-not-converged").text.split())
    assert texts["en"].startswith("The latent-class mixed model's estimation stopped short")
    assert texts["fr"].startswith("L'estimation du modèle mixte à classes latentes")


def test_the_accuracy_claims_and_their_bound_are_shown_in_the_readers_language(
    client, statistician, finished_run
):
    block = finished_run.summary["results"]["trajectories"]["models_compared"]
    claims = block["accuracy_claims"]
    summary = copy.deepcopy(finished_run.summary)
    summary["results"]["trajectories"]["models_compared"]["accuracy_claims"][
        "claims_can_both_hold"
    ] = False
    AnalysisRun.objects.filter(pk=finished_run.pk).update(summary=summary)
    texts = {}
    for language in ("en", "fr"):
        statistician.language = language
        statistician.save(update_fields=["language"])
        client.force_login(statistician)
        page = BeautifulSoup(client.get(reverse("analysis:dashboard")).content, "html.parser")
        shown = page.find(id="accuracy-claims")
        assert shown["data-both-hold"] == "false"
        texts[language] = " ".join(shown.text.split())
    agreement = f"{claims['agreement']:.2f}"
    assert texts["en"].startswith("Claimed accuracy (mean posterior of the assigned group)")
    assert f"put {agreement} of the patients" in texts["en"]
    assert texts["en"].endswith("at least one model's posteriors overstate.")
    assert texts["fr"].startswith("Précision annoncée")
    assert f"placent {agreement.replace('.', ',')} des patients" in texts["fr"]
    assert texts["fr"].endswith("d'au moins un des modèles surestiment.")


def test_the_trajectory_groups_fibromyalgia_share_is_written_in_the_readers_language(
    client, statistician, finished_run
):
    groups = finished_run.summary["results"]["trajectories"]["groups"]
    stored = [g["fibromyalgia"] for g in groups.values()]  # "n/N (x.y%)", as the paper writes it
    cells = {}
    for language, header in (("en", "Fibromyalgia"), ("fr", "Fibromyalgie")):
        statistician.language = language
        statistician.save(update_fields=["language"])
        client.force_login(statistician)
        page = BeautifulSoup(client.get(reverse("analysis:dashboard")).content, "html.parser")
        table = page.find(id="chart-trajectories").find_next("table")
        column = [th.get_text() for th in table.thead.find_all("th")].index(header)
        rows = table.tbody.find_all("tr")
        cells[language] = [r.find_all(["th", "td"])[column].get_text() for r in rows]
    assert cells["en"] == stored
    assert [c.replace(",", ".") for c in cells["fr"]] == stored
    assert all("," in c and "." not in c for c in cells["fr"] if "(" in c)


@pytest.mark.parametrize(
    ("stored", "english", "french"),
    [
        ("3/13 (23.1%)", "3/13 (23.1%)", "3/13 (23,1%)"),
        ("1/8 (12.5%)", "1/8 (12.5%)", "1/8 (12,5%)"),  # a half, kept as the stored text has it
        ("0/0", "0/0", "0/0"),
        ("not a share", "not a share", "not a share"),
        (None, "", ""),
    ],
)
def test_the_share_filter_rewrites_only_counts_over_a_denominator(stored, english, french):
    from django.utils import translation

    from analytics.templatetags.analysis_tags import share

    with translation.override("en"):
        assert share(stored) == english
    with translation.override("fr"):
        assert share(stored) == french
