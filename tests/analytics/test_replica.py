"""The analysis reads from the read replica when there is one; its tasks have their own queue."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext

from analytics import dataset, routers
from cohort.models import Patient
from config.celery import app
from demo.loader import demo_load
from demo.synthetic import generate

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2017, 6, 1)


@pytest.fixture
def replica(transactional_db, settings):
    """A second database alias, ``replica``, on the test database (as a streaming replica is).

    Its own connection: it sees only what the default connection committed.
    """
    config = dict(connections["default"].settings_dict)
    wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, routers.REPLICA)
    setattr(connections._connections, routers.REPLICA, wrapper)
    settings.ANALYSIS_DATABASE = routers.REPLICA
    try:
        yield wrapper
    finally:
        wrapper.close()
        delattr(connections._connections, routers.REPLICA)


def test_the_analysis_reads_the_replica_and_nothing_else_does(replica):
    demo_load(generate(12, seed=3, as_of=AS_OF))
    default = connections["default"]
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(default) as on_default:
        data = dataset.load(as_of=AS_OF)
    # The five reads of the study (calls, doses, patients, treatments, events) and the dose
    # read of the long frame, all on the replica; none on the default database.
    assert len(on_replica) >= 6
    assert len(on_default) == 0
    assert len(data.long) == 14 * Patient.objects.count()

    # Outside the analysis, reads and writes stay on default.
    with CaptureQueriesContext(replica) as on_replica:
        Patient.objects.count()
        Patient.objects.update(age=50)
    assert len(on_replica) == 0
    router = routers.AnalysisReplicaRouter()
    assert router.db_for_read(Patient) is None
    with routers.analysis_reads():
        assert router.db_for_read(Patient) == routers.REPLICA
        assert router.db_for_write(Patient) == "default"
    assert router.allow_migrate(routers.REPLICA, "cohort") is False
    assert router.allow_migrate("default", "cohort") is True


def test_the_replica_read_gives_the_frames_of_the_default_read(replica, settings):
    demo_load(generate(12, seed=4, as_of=AS_OF))
    from_replica = dataset.load(as_of=AS_OF)
    settings.ANALYSIS_DATABASE = "default"  # no replica
    from_default = dataset.load(as_of=AS_OF)
    for name in ("long", "patients", "treatments", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(from_replica, name), getattr(from_default, name))


def test_without_a_replica_the_analysis_reads_default(db, settings):
    assert settings.ANALYSIS_DATABASE == "default"
    assert routers.REPLICA not in connections.settings
    with routers.analysis_reads():
        assert routers.AnalysisReplicaRouter().db_for_read(Patient) == "default"


def test_the_replica_url_adds_a_replica_alias_mirrored_in_tests():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DEBUG="1", DATABASE_REPLICA_URL="postgres://reader@replica.example:5432/followup")
    code = (
        "import json; from django.conf import settings as s; r = s.DATABASES['replica']; "
        "print(json.dumps([r['HOST'], r['USER'], r['NAME'], r['TEST'], s.DATABASE_ROUTERS, "
        "s.ANALYSIS_DATABASE]))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    host, user, name, test, routers_setting, alias = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert (host, user, name) == ("replica.example", "reader", "followup")
    assert test["MIRROR"] == "default"
    assert routers_setting == ["analytics.routers.AnalysisReplicaRouter"]
    assert alias == "replica"


def test_analysis_tasks_have_their_own_queue(settings):
    """A re-analysis waits on the "analysis" queue; the web-facing tasks go to "celery"."""
    assert settings.ANALYSIS_QUEUE == "analysis"
    router = app.amqp.router

    def queue_of(task: str) -> str:
        return router.route({}, task)["queue"].name

    assert queue_of("analytics.tasks.run_analysis") == "analysis"
    assert queue_of("quality.tasks.compute_monitoring") == "analysis"
    assert queue_of("quality.tasks.run_rules") == "analysis"
    assert queue_of("analytics.tasks.worker_heartbeat") == "celery"
    assert queue_of("safety.tasks.escalate_alerts") == "celery"
    # The embedded worker consumes both queues; compose runs one worker per queue.
    makefile = (ROOT / "Makefile").read_text()
    assert makefile.count("--queues celery,analysis") == 2
    compose = (ROOT / "docker-compose.yml").read_text()
    assert '"--queues", "celery"' in compose
    assert '"--queues", "analysis"' in compose
