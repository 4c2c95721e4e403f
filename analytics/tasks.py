"""Celery tasks of the analytics app: they fetch by id and call a service."""

from __future__ import annotations

import socket
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "worker:heartbeat"


@shared_task(name="analytics.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat(token: str = "") -> dict[str, str]:
    """Record that a worker is alive (run every minute by beat; read by the health check)."""
    beat = {"host": socket.gethostname(), "at": timezone.now().isoformat(), "token": token}
    cache.set(HEARTBEAT_KEY, beat, timeout=24 * 3600)
    return beat


@shared_task(bind=True, name="analytics.tasks.run_analysis", ignore_result=True, max_retries=None)
def run_analysis(self: Any, run_id: int) -> str:
    """Execute one queued analysis run; wait and retry while it must (debounce, another run)."""
    from analytics import services

    outcome = services.run_execute(run_id=run_id, worker=self.request.hostname or "")
    if outcome.retry_in is not None:
        # The retry goes back to the queue the task came from.
        raise self.retry(countdown=max(outcome.retry_in, 0.5))
    return outcome.run.status if outcome.run else "missing"


@shared_task(name="analytics.tasks.sweep_runs", ignore_result=True)
def sweep_runs() -> dict[str, int]:
    """Fail silent runs and send the queued run the broker never got (every minute, by beat)."""
    from analytics import services

    return services.runs_sweep()


@shared_task(name="analytics.tasks.nightly_reanalysis", ignore_result=True)
def nightly_reanalysis() -> list[int]:
    """Queue the nightly re-analysis of every active study (recorded as unchanged when its data
    did not change); return the runs' ids."""
    from analytics import services
    from analytics.models import AnalysisRun

    runs = services.reanalysis_schedule_active(trigger=AnalysisRun.Trigger.NIGHTLY, delay=0)
    return [run.pk for run in runs]


@worker_ready.connect
def _on_worker_start(sender: Any = None, **kwargs: Any) -> None:
    """Report the worker alive, and fail the runs this worker had under way before it stopped."""
    worker_heartbeat()
    hostname = getattr(sender, "hostname", "")
    if hostname:
        from analytics import services

        services.runs_fail_for_worker(worker=hostname)
