"""Background work of the safety workflow: the periodic escalation of unacknowledged alerts."""

from __future__ import annotations

from celery import shared_task

from safety import services


@shared_task(name="safety.tasks.escalate_alerts", ignore_result=True)
def escalate_alerts() -> int:
    """Escalate the alerts left unacknowledged too long (run by Celery beat)."""
    return services.alerts_escalate_overdue()
