"""Database helpers of the tests: row counts of every table, and a lock held by someone else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.db import connections
from django.db.models import Model

STUDY_APPS = {"accounts", "cohort", "followup", "analytics", "quality"}


def table_sizes() -> dict[str, int]:
    """Count the rows of every table of the study's apps (history tables included)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in STUDY_APPS
    }


@contextmanager
def write_lock_held_elsewhere(row: Model) -> Iterator[None]:
    """Hold, from a second connection, the lock a save of ``row`` needs, until the block ends.

    PostgreSQL: the row locked ``FOR UPDATE`` (updates wait for it, and inserts pointing at it
    wait at commit). SQLite: the whole file, with ``BEGIN IMMEDIATE``, as another process
    writing would.
    """
    default = connections["default"]
    other = type(default)(dict(default.settings_dict), alias="lock_holder")
    cursor = other.cursor()
    try:
        if other.vendor == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("BEGIN")
            table = other.ops.quote_name(row._meta.db_table)
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [row.pk])
        yield
    finally:
        cursor.execute("ROLLBACK")
        cursor.close()
        other.close()
