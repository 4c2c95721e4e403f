"""A real Celery worker re-analyses after saves: a burst gives one run, a change during a run
exactly one more.

The worker runs in its own process on the configured broker (Redis in CI, the embedded
filesystem broker otherwise) and opens the test database itself, so the test commits its data
(``transactional_db``) and tells the worker where the test database is.
"""

from __future__ import annotations

import uuid

import pytest

from analytics.models import AnalysisRun
from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import FollowUpCall
from followup.services import call_record_attempt
from quality.models import MonitoringSnapshot
from tests.processes import environment, start_worker, stop, wait_until

Status = AnalysisRun.Status


@pytest.fixture
def analysis_worker(transactional_db, settings):
    queue = f"analysis-{uuid.uuid4().hex[:8]}"
    settings.ANALYSIS_QUEUE = queue
    settings.ANALYSIS_DEBOUNCE_SECONDS = 2
    settings.ANALYSIS_PARAMETERS = {"n_boot": 200, "trajectory_groups": [1, 2, 3], "seed": 1}
    process = start_worker(
        queue, environment(ANALYSIS_QUEUE=queue, ANALYSIS_BOOTSTRAP_RESAMPLES="200")
    )
    yield process
    print(stop(process))


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

    def has_read() -> bool:
        run = AnalysisRun.objects.get(pk=first.pk)
        return run.status == Status.RUNNING and bool(run.fingerprint)

    # Once the run has read the study (its fingerprint is stored), later saves are not in it.
    assert wait_until(has_read), "the worker never started the run"
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
    # The worker computed and stored the central monitoring with each successful run. The solo
    # worker handles its tasks one at a time in the order they were sent: once the monitoring of
    # the second run is stored, the rules that run sent before it are done too.
    assert wait_until(lambda: MonitoringSnapshot.objects.filter(run=runs[1]).exists())
    # Nothing the worker did after the two runs (rules, monitoring) queued a third one.
    assert not AnalysisRun.objects.filter(status__in=[Status.QUEUED, Status.RUNNING]).exists()
    assert AnalysisRun.objects.count() == 2
    snapshot = MonitoringSnapshot.objects.get(run=runs[1])
    assert snapshot.as_of.isoformat() == runs[1].report["run"]["as_of"]
    assert snapshot.patients == 80
