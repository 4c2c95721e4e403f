"""Celery tasks of the analytics app."""

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


@worker_ready.connect
def _heartbeat_on_start(**kwargs: Any) -> None:
    """Report the worker alive as soon as it starts, not only at the first beat."""
    worker_heartbeat()
