"""Start real processes for tests: a Celery worker, a Redis server, a Django command.

They open the test database themselves, so tests using them commit their data
(``transactional_db``) and pass ``test_database_url()`` in the environment.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server")


def test_database_url() -> str:
    """Return a DATABASE_URL for the database this test process is using."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]


def environment(**extra: str) -> dict[str, str]:
    """Return this process's environment with the test database and ``extra`` set."""
    return {**os.environ, "DATABASE_URL": test_database_url(), **extra}


def start_worker(queue: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``celery worker`` (solo pool) consuming ``queue``."""
    return subprocess.Popen(
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


def stop(process: subprocess.Popen[str], *, kill: bool = False) -> str:
    """Stop a process (SIGKILL when ``kill``) and return what it printed."""
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(port: int) -> subprocess.Popen[str]:
    """Start a throw-away Redis server on ``port`` (nothing kept on disk) and wait for it."""
    assert REDIS_SERVER, "redis-server is not installed"
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_until(lambda: _listening(port), timeout=20)
    return process


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def manage(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in ``manage.py shell`` in a new process with ``env``."""
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 120, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
