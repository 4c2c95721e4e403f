"""A real Celery worker re-analyses after saves: a burst gives one run, a change during a run
exactly one more.

The worker runs in its own process on the configured broker (Redis in CI, the embedded
filesystem broker otherwise) and opens the test database itself, so the test commits its data
(``transactional_db``) and tells the worker where the test database is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from analytics.models import AnalysisRun
from cohort.demo import generate
from cohort.demo_loader import demo_load
from followup.models import FollowUpCall
from followup.services import call_record_attempt

ROOT = Path(__file__).resolve().parents[2]
Status = AnalysisRun.Status


def test_database_url() -> str:
    """Return a DATABASE_URL for the database this test process is using."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def analysis_worker(transactional_db, settings):
    queue = f"analysis-{uuid.uuid4().hex[:8]}"
    settings.ANALYSIS_QUEUE = queue
    settings.ANALYSIS_DEBOUNCE_SECONDS = 2
    settings.ANALYSIS_PARAMETERS = {"n_boot": 200, "trajectory_groups": [1, 2, 3], "seed": 1}
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "ANALYSIS_QUEUE": queue,
        "ANALYSIS_BOOTSTRAP_RESAMPLES": "200",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--queues",
            queue,
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)


def wait_until(condition, timeout: float = 120, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def finished_runs() -> list[AnalysisRun]:
    return list(
        AnalysisRun.objects.filter(
            status__in=[Status.SUCCEEDED, Status.UNCHANGED, Status.FAILED]
        ).order_by("pk")
    )


def test_a_burst_gives_one_run_and_a_change_during_it_exactly_one_more(
    analysis_worker, nurse_site_a
):
    demo_load(generate(80, seed=6))
    calls = list(FollowUpCall.objects.filter(status="unreachable")[:8])

    # A burst of five saves, each in its own committed transaction.
    for call in calls[:5]:
        call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
    assert AnalysisRun.objects.count() == 1
    first = AnalysisRun.objects.get()

    assert wait_until(lambda: AnalysisRun.objects.get(pk=first.pk).status == Status.RUNNING), (
        "the worker never started the run"
    )
    # Saves while the run is under way: they queue exactly one more run.
    for call in calls[5:]:
        call_record_attempt(call=call, outcome="refused", by=nurse_site_a)
    assert AnalysisRun.objects.count() == 2

    assert wait_until(lambda: len(finished_runs()) == 2), [
        (r.pk, r.status, r.step, r.error) for r in AnalysisRun.objects.all()
    ]
    runs = finished_runs()
    assert [r.status for r in runs] == [Status.SUCCEEDED, Status.SUCCEEDED], [r.error for r in runs]
    assert runs[0].fingerprint != runs[1].fingerprint  # the second saw the refusals
    assert runs[1].report["run"]["patients"] == 80
    time.sleep(3)  # nothing else was queued behind them
    assert AnalysisRun.objects.count() == 2
