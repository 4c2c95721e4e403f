"""Send the analysis's reads to the read replica (``DATABASE_REPLICA_URL``) when there is one.

Only the reads made inside ``analysis_reads()`` go to the replica (the dataset read of a
re-analysis); every other read and every write stays on ``default``, so a page never shows data
older than what its user just saved. Without the replica alias, the router leaves every query
to the default database.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.conf import settings

REPLICA = "replica"

_analysis = contextvars.ContextVar("analysis_reads", default=False)


@contextlib.contextmanager
def analysis_reads() -> Iterator[None]:
    """Within this block, the ORM's reads go to the replica when one is configured."""
    token = _analysis.set(True)
    try:
        yield
    finally:
        _analysis.reset(token)


def analysis_database() -> str:
    """Return the alias the analysis reads from: the replica if configured, else default."""
    return str(settings.ANALYSIS_DATABASE)


class AnalysisReplicaRouter:
    """Route the reads of the analysis to the replica; leave everything else to default."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if _analysis.get():
            return analysis_database()
        return None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is a copy of default: same rows, same relations

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"  # the replica follows default by streaming replication
