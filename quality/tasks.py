"""Celery tasks of data quality: the rules (by beat and after each successful analysis) and the
central monitoring (after each successful analysis)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="quality.tasks.run_rules", ignore_result=True)
def run_rules() -> dict[str, int]:
    """Run the data-quality rules and raise or close the automatic queries."""
    from quality import services

    return services.rules_run()


def rules_after_analysis() -> None:
    """Queue a run of the rules (never fails the caller when the broker is down)."""
    try:
        run_rules.apply_async(queue=settings.ANALYSIS_QUEUE, retry=False)
    except Exception as error:  # the broker's errors vary by transport
        logger.warning("Data-quality rules not queued: broker unavailable (%s)", error)


@shared_task(name="quality.tasks.compute_monitoring", ignore_result=True)
def compute_monitoring(as_of: str, run_id: int | None = None) -> int:
    """Compute and store the central monitoring as of the data cut of an analysis run."""
    import datetime as dt

    from analytics.models import AnalysisRun
    from quality import services

    runs = AnalysisRun.objects.defer("report", "summary")
    run = runs.filter(pk=run_id).first() if run_id else None
    return services.monitoring_compute(as_of=dt.date.fromisoformat(as_of), run=run).pk


def monitoring_after_analysis(run_id: int, as_of: str) -> None:
    """Queue the central monitoring of a successful run (never fails the caller)."""
    try:
        compute_monitoring.apply_async(
            args=[as_of, run_id], queue=settings.ANALYSIS_QUEUE, retry=False
        )
    except Exception as error:  # the broker's errors vary by transport
        logger.warning("Central monitoring not queued: broker unavailable (%s)", error)
