"""Backup and restore with the operations scripts: pg_dump, then pg_restore into a new database
gives the same rows (PostgreSQL only; the embedded SQLite file is copied with sqlite3 .backup).
"""

from __future__ import annotations

import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from demo.loader import demo_load
from demo.synthetic import generate
from tests.processes import ROOT, test_database_url

TABLES = (
    "cohort_patient",
    "cohort_patientcontact",
    "cohort_ketamineadministration",
    "followup_followupcall",
    "followup_hadsresponse",
    "followup_historicalfollowupcall",
)


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as db:
        return {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the scripts back up PostgreSQL")
def test_backup_then_restore_into_a_new_database_gives_the_same_rows(transactional_db, tmp_path):
    demo_load(generate(30, seed=9))
    source = test_database_url()
    dump = tmp_path / "study.dump"
    done = subprocess.run(
        [ROOT / "scripts/backup.sh", dump],
        env={"DATABASE_URL": source, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "study.dump.sha256").exists()

    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = source.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"create database {name}")
    target = source.rsplit("/", 1)[0] + "/" + name
    try:
        restored = subprocess.run(
            [ROOT / "scripts/restore.sh", dump],
            env={"DATABASE_URL": target, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert restored.returncode == 0, restored.stderr
        assert counts(target) == counts(source)
        assert counts(target)["cohort_patient"] == 30
        # A second restore into the now full database is refused rather than mixed in.
        again = subprocess.run(
            [ROOT / "scripts/restore.sh", dump],
            env={"DATABASE_URL": target, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert again.returncode == 3
        assert "not empty" in again.stderr
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f"drop database if exists {name} with (force)")


def test_backup_script_refuses_a_sqlite_url(tmp_path):
    done = subprocess.run(
        [ROOT / "scripts/backup.sh", tmp_path / "x.dump"],
        env={"DATABASE_URL": "sqlite:///var/db.sqlite3", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "sqlite3" in done.stderr
