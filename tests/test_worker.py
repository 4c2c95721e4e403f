"""A real Celery worker, in its own process, takes tasks from the configured broker.

With REDIS_URL set (CI) the broker is Redis; without it, the embedded filesystem broker. Either
way nothing is mocked: the test starts ``celery worker`` and waits for the task's side effect.
"""

import os
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from analytics.tasks import HEARTBEAT_KEY, worker_heartbeat
from tests.processes import start_worker, stop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_queue():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    process = start_worker(queue, os.environ.copy())
    yield queue
    output = stop(process)
    if process.returncode not in (0, -15):
        print(output)


def test_a_real_worker_runs_the_heartbeat_task(worker_queue):
    token = uuid.uuid4().hex
    worker_heartbeat.apply_async(kwargs={"token": token}, queue=worker_queue)
    deadline = time.monotonic() + 90
    beat = None
    while time.monotonic() < deadline:
        beat = cache.get(HEARTBEAT_KEY)
        if beat and beat.get("token") == token:
            break
        time.sleep(0.5)
    assert beat is not None, f"no heartbeat at all (broker {settings.CELERY_BROKER_URL})"
    assert beat["token"] == token, (
        f"no heartbeat from the worker within 90 s (broker {settings.CELERY_BROKER_URL})"
    )
