"""Analysis runs: queueing and coalescing, execution, idempotence, failures, stale workers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics import services
from analytics.models import AnalysisRun
from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import FollowUpCall
from followup.services import call_record_attempt

Status = AnalysisRun.Status
Trigger = AnalysisRun.Trigger
FAST = {"ANALYSIS_PARAMETERS": {"n_boot": 50, "trajectory_groups": [1, 2, 3], "seed": 1}}


@pytest.fixture
def small_study(db, settings):
    for name, value in FAST.items():
        setattr(settings, name, value)
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    demo_load(generate(60, seed=3))


def queued() -> AnalysisRun:
    return services.reanalysis_schedule(trigger=Trigger.MANUAL, delay=0, dispatch=False)


def test_a_burst_of_saves_queues_one_run(
    small_study, nurse_site_a, django_capture_on_commit_callbacks
):
    calls = list(FollowUpCall.objects.filter(status="unreachable")[:5])
    with django_capture_on_commit_callbacks(execute=True):
        for call in calls:
            with transaction.atomic():
                call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
    assert AnalysisRun.objects.count() == 1
    run = AnalysisRun.objects.get()
    assert run.status == Status.QUEUED
    assert run.trigger == Trigger.DATA_CHANGE


def test_many_saves_in_one_transaction_leave_one_callback_until_the_commit(
    small_study, nurse_site_a, django_capture_on_commit_callbacks, settings
):
    settings.ANALYSIS_ON_COMMIT = True
    calls = list(FollowUpCall.objects.filter(status="unreachable")[:5])
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for call in calls:
            call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
        with transaction.atomic():
            services.reanalysis_on_commit(trigger=Trigger.MANUAL)  # another trigger: its own
    assert len(callbacks) == 2
    assert AnalysisRun.objects.count() == 1


def test_saves_push_the_waiting_run_back_but_not_past_the_maximum_wait(small_study, settings):
    settings.ANALYSIS_DEBOUNCE_SECONDS = 30
    settings.ANALYSIS_MAX_WAIT_SECONDS = 40
    first = services.reanalysis_schedule(trigger=Trigger.DATA_CHANGE, dispatch=False)
    start = first.not_before
    again = services.reanalysis_schedule(trigger=Trigger.DATA_CHANGE, dispatch=False)
    assert again.pk == first.pk
    assert again.not_before >= start
    assert again.not_before <= first.requested_at + timedelta(seconds=40)


def test_a_failed_save_schedules_nothing(
    small_study, nurse_site_a, django_capture_on_commit_callbacks
):
    call = FollowUpCall.objects.filter(status="unreachable").first()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017, PT011
        call_record_attempt(call=call, outcome="not an outcome", by=nurse_site_a)
    assert not AnalysisRun.objects.exists()


def test_the_database_allows_one_waiting_and_one_running_run(small_study):
    queued()
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisRun.objects.create(trigger=Trigger.MANUAL, status=Status.QUEUED)
    AnalysisRun.objects.create(trigger=Trigger.MANUAL, status=Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisRun.objects.create(trigger=Trigger.MANUAL, status=Status.RUNNING)


def test_a_run_stores_its_report_then_the_same_data_is_recognised(small_study):
    first = services.run_execute(run_id=queued().pk, worker="w1").run
    assert first.status == Status.SUCCEEDED
    assert first.report["run"]["patients"] == 60
    assert first.report["run"]["fingerprint"] == first.fingerprint
    assert first.n_patients == 60
    assert first.timings["total"] > 0
    assert first.versions["numpy"]
    assert services.latest_good_run() == first

    second = services.run_execute(run_id=queued().pk, worker="w1").run
    assert second.status == Status.UNCHANGED
    assert second.same_as == first
    assert second.results_run() == first
    assert second.report is None


def test_forced_run_recomputes_unchanged_data(small_study):
    first = services.run_execute(run_id=queued().pk).run
    forced = services.reanalysis_schedule(
        trigger=Trigger.MANUAL, delay=0, force=True, dispatch=False
    )
    again = services.run_execute(run_id=forced.pk).run
    assert again.status == Status.SUCCEEDED
    assert again.fingerprint == first.fingerprint
    assert again.report["results"] == first.report["results"]


def test_changed_data_changes_the_fingerprint(small_study, nurse_site_a):
    first = services.run_execute(run_id=queued().pk).run
    call = FollowUpCall.objects.filter(status="unreachable").first()
    call_record_attempt(call=call, outcome="refused", by=nurse_site_a)
    second = services.run_execute(run_id=queued().pk).run
    assert second.status == Status.SUCCEEDED
    assert second.fingerprint != first.fingerprint


def test_a_failing_run_records_its_error_and_keeps_the_last_good_results(small_study, settings):
    good = services.run_execute(run_id=queued().pk).run
    settings.ANALYSIS_PARAMETERS = {**FAST["ANALYSIS_PARAMETERS"], "effect_size": "not_a_kind"}
    bad = services.run_execute(run_id=queued().pk).run
    assert bad.status == Status.FAILED
    assert "not_a_kind" in bad.error
    assert "Traceback" in bad.error_detail
    assert bad.finished_at is not None
    assert services.latest_good_run() == good


def test_a_change_during_a_run_queues_exactly_one_more(small_study):
    running = queued()
    AnalysisRun.objects.filter(pk=running.pk).update(
        status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    for _ in range(4):
        services.reanalysis_schedule(trigger=Trigger.DATA_CHANGE, dispatch=False)
    assert AnalysisRun.objects.filter(status=Status.QUEUED).count() == 1
    assert AnalysisRun.objects.count() == 2


def test_a_run_waits_while_another_is_under_way(small_study):
    busy = AnalysisRun.objects.create(
        trigger=Trigger.MANUAL, status=Status.RUNNING, heartbeat_at=timezone.now()
    )
    waiting = queued()
    outcome = services.run_execute(run_id=waiting.pk)
    assert outcome.retry_in is not None
    waiting.refresh_from_db()
    assert waiting.status == Status.QUEUED
    busy.refresh_from_db()
    assert busy.status == Status.RUNNING


def test_a_silent_run_is_failed_and_the_next_one_succeeds(small_study, settings):
    settings.ANALYSIS_STALE_SECONDS = 60
    AnalysisRun.objects.create(
        trigger=Trigger.MANUAL,
        status=Status.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    run = queued()
    first_try = services.run_execute(run_id=run.pk)
    assert first_try.retry_in is not None  # it found the silent run and failed it
    assert AnalysisRun.objects.filter(status=Status.FAILED).count() == 1
    assert services.run_execute(run_id=run.pk).run.status == Status.SUCCEEDED


def test_a_restarted_worker_fails_the_runs_it_had_under_way(small_study):
    mine = AnalysisRun.objects.create(trigger=Trigger.MANUAL, status=Status.RUNNING, worker="w@a")
    assert services.runs_fail_for_worker(worker="w@b") == 0
    assert services.runs_fail_for_worker(worker="w@a") == 1
    mine.refresh_from_db()
    assert mine.status == Status.FAILED
    assert "stopped" in mine.error


def test_a_duplicate_delivery_does_nothing(small_study):
    run = services.run_execute(run_id=queued().pk).run
    finished = run.finished_at
    again = services.run_execute(run_id=run.pk).run
    assert again.finished_at == finished
    assert AnalysisRun.objects.count() == 1


def test_a_queued_run_the_broker_never_got_is_sent_by_the_sweep(small_study):
    run = queued()
    assert run.dispatched_at is None
    assert services.runs_sweep()["sent"] == 1
    run.refresh_from_db()
    assert run.dispatched_at is not None


def test_progress_reports_the_step_and_share():
    run = AnalysisRun(status=Status.RUNNING, step="mixed models", steps_done=2, steps_total=6)
    assert run.progress == {
        "status": "running",
        "step": "mixed models",
        "done": 2,
        "total": 6,
        "share": 0.333,
    }


def test_run_analysis_command_runs_in_process_and_writes_the_report(small_study, tmp_path):
    output = tmp_path / "report.json"
    call_command("run_analysis", "--sync", "--output", str(output))
    report = json.loads(output.read_text())
    assert report["run"]["patients"] == 60
    assert "nprs_baseline_to_m12" in report["results"]
    run = AnalysisRun.objects.get()
    assert run.trigger == Trigger.COMMAND
    assert run.status == Status.SUCCEEDED


def test_the_report_reads_the_first_study_s_patients_only(small_study):
    from cohort.models import Study
    from tests.factories import SiteFactory, enrol

    lan = Study.objects.create(code="LAN2022", name="Lan et al. 2022", definition="lan2022")
    enrol(SiteFactory(code="SL", study=lan))
    run = services.run_execute(run_id=queued().pk, worker="w1").run
    assert run.status == Status.SUCCEEDED
    assert run.n_patients == 60
    assert run.report["run"]["patients"] == 60
