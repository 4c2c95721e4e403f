"""Celery tasks of the data-quality rules: run by beat, and after each successful analysis."""

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
