"""Analysis runs and the latest report through the API."""

import pytest

from analytics.models import AnalysisRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_worker(settings):
    # Requested runs are sent to a queue no test worker consumes.
    settings.ANALYSIS_QUEUE = "tests-not-consumed"


def test_latest_report_is_404_until_a_run_succeeds(api):
    response = api("statistician").get("/api/v1/analysis/latest/")
    assert response.status_code == 404


def test_latest_report_is_the_newest_successful_run(api, good_run):
    AnalysisRun.objects.create(
        status=AnalysisRun.Status.FAILED, trigger="manual", error="ValueError: boom"
    )
    response = api("clinician_site_a").get("/api/v1/analysis/latest/")
    assert response.status_code == 200
    assert response.json()["schema"] == "ketamine-followup/analysis-report"
    assert response["X-Analysis-Run"] == str(good_run.pk)


def test_runs_show_status_progress_timings_and_error(api, good_run):
    failed = AnalysisRun.objects.create(
        status=AnalysisRun.Status.FAILED,
        trigger="data_change",
        error="ValueError: boom",
        error_detail="Traceback...",
    )
    client = api("statistician")
    listed = client.get("/api/v1/analysis/runs/").json()
    assert [run["id"] for run in listed["results"]] == [failed.pk, good_run.pk]
    assert "report" not in listed["results"][1]
    done = listed["results"][1]
    assert done["progress"]["share"] == 1.0
    assert (done["duration_s"], done["timings"], done["results_run"]) == (
        42.0, {"total": 41.5}, good_run.pk,
    )  # fmt: skip
    detail = client.get(f"/api/v1/analysis/runs/{failed.pk}/").json()
    assert (detail["error"], detail["error_detail"], detail["results_run"]) == (
        "ValueError: boom", "Traceback...", None,
    )  # fmt: skip
    assert client.get(f"/api/v1/analysis/runs/{failed.pk}/report/").status_code == 404
    report = client.get(f"/api/v1/analysis/runs/{good_run.pk}/report/")
    assert report.json()["schema_version"] == 1


def test_an_unchanged_run_serves_the_report_of_the_run_it_matched(api, good_run):
    unchanged = AnalysisRun.objects.create(
        status=AnalysisRun.Status.UNCHANGED, trigger="nightly", same_as=good_run
    )
    response = api("statistician").get(f"/api/v1/analysis/runs/{unchanged.pk}/report/")
    assert response.status_code == 200
    assert response["X-Analysis-Run"] == str(good_run.pk)


def test_a_statistician_requests_a_rerun_which_joins_the_waiting_one(api, statistician):
    client = api("statistician")
    first = client.post("/api/v1/analysis/runs/", {"force": True}, format="json")
    assert first.status_code == 202
    body = first.json()
    assert (body["status"], body["trigger"], body["force"], body["requested_by"]) == (
        "queued", "manual", True, "statistician",
    )  # fmt: skip
    second = client.post("/api/v1/analysis/runs/", {}, format="json")
    assert second.json()["id"] == body["id"]
    assert AnalysisRun.objects.get().force


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a", "data_manager"])
def test_other_roles_cannot_request_a_rerun(api, persona):
    response = api(persona).post("/api/v1/analysis/runs/", {"force": True}, format="json")
    assert response.status_code == 403
    assert not AnalysisRun.objects.exists()
