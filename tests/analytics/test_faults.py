"""Faults around re-analysis, with real processes: a broker that goes down and comes back, and a
worker killed in the middle of a run.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from analytics import services
from analytics.models import AnalysisRun
from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import FollowUpCall
from followup.services import call_record_attempt
from tests.processes import (
    REDIS_SERVER,
    environment,
    free_port,
    manage,
    start_redis,
    start_worker,
    stop,
    wait_until,
)

Status = AnalysisRun.Status
FAST = {"n_boot": 100, "trajectory_groups": [1, 2, 3], "seed": 1}

SAVE_AN_ATTEMPT = textwrap.dedent(
    """
    from accounts.models import User
    from followup.models import FollowUpCall
    from followup.services import call_record_attempt
    call = FollowUpCall.objects.filter(status="unreachable").order_by("pk").first()
    call_record_attempt(call=call, outcome="no_answer", by=User.objects.get(username="nurse_a"))
    print("saved", call.pk)
    """
)
SWEEP = "from analytics.services import runs_sweep; print(runs_sweep())"


@pytest.fixture
def study(transactional_db, settings, nurse_site_a):
    settings.ANALYSIS_PARAMETERS = FAST
    demo_load(generate(60, seed=8))
    return nurse_site_a


@pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server program")
def test_saves_succeed_while_the_broker_is_down_and_the_run_starts_when_it_is_back(study):
    port = free_port()
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = environment(
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
        ANALYSIS_QUEUE=queue,
        ANALYSIS_DEBOUNCE_SECONDS="0",
        ANALYSIS_BOOTSTRAP_RESAMPLES="100",
    )
    # The broker is down: nothing listens on the port. The save still succeeds.
    saved = manage(SAVE_AN_ATTEMPT, env)
    assert saved.returncode == 0, saved.stderr
    assert "saved" in saved.stdout
    run = AnalysisRun.objects.get()
    assert run.status == Status.QUEUED
    assert run.dispatched_at is None  # kept, to be sent later

    redis = start_redis(port)
    worker = start_worker(queue, env)
    try:
        swept = manage(SWEEP, env)  # what beat runs every minute
        assert swept.returncode == 0, swept.stderr
        assert "'sent': 1" in swept.stdout
        assert wait_until(
            lambda: AnalysisRun.objects.get(pk=run.pk).status == Status.SUCCEEDED, timeout=120
        ), AnalysisRun.objects.get(pk=run.pk).error
    finally:
        print(stop(worker))
        stop(redis)


def test_a_worker_killed_mid_run_leaves_the_last_good_results_and_the_next_run_succeeds(
    study, settings
):
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    settings.ANALYSIS_QUEUE = queue
    settings.ANALYSIS_DEBOUNCE_SECONDS = 0
    good = services.run_execute(
        run_id=services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False).pk
    ).run
    assert good.status == Status.SUCCEEDED

    # A slow run (many resamples), so that it can be caught while running.
    env = environment(ANALYSIS_QUEUE=queue, ANALYSIS_BOOTSTRAP_RESAMPLES="20000")
    settings.ANALYSIS_PARAMETERS = {**FAST, "n_boot": 20000}
    worker = start_worker(queue, env)
    calls = list(FollowUpCall.objects.filter(status="unreachable").order_by("pk")[:2])
    try:
        call_record_attempt(call=calls[0], outcome="refused", by=study)
        doomed = AnalysisRun.objects.get(status__in=[Status.QUEUED, Status.RUNNING])
        assert wait_until(
            lambda: AnalysisRun.objects.get(pk=doomed.pk).status == Status.RUNNING, timeout=120
        )
    finally:
        stop(worker, kill=True)  # SIGKILL: no chance to record anything
    doomed.refresh_from_db()
    assert doomed.status == Status.RUNNING
    assert services.latest_good_run() == good  # pages still show the last good results

    settings.ANALYSIS_PARAMETERS = FAST
    env["ANALYSIS_BOOTSTRAP_RESAMPLES"] = "100"
    worker = start_worker(queue, env)
    try:
        # The restarted worker fails the run its predecessor had under way ...
        assert wait_until(
            lambda: AnalysisRun.objects.get(pk=doomed.pk).status == Status.FAILED, timeout=60
        )
        assert "stopped" in AnalysisRun.objects.get(pk=doomed.pk).error
        # ... and the next change is analysed normally.
        call_record_attempt(call=calls[1], outcome="refused", by=study)
        following = AnalysisRun.objects.get(status__in=[Status.QUEUED, Status.RUNNING])
        assert wait_until(
            lambda: AnalysisRun.objects.get(pk=following.pk).status == Status.SUCCEEDED,
            timeout=120,
        ), AnalysisRun.objects.get(pk=following.pk).error
    finally:
        print(stop(worker))
    assert services.latest_good_run().pk == following.pk
