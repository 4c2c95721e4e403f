"""Export snapshots: a download built once is sent to everyone who asks in the next seconds.

Every export holds the whole cohort without identifiers, so it is the same file for every
statistician and data manager. Building one costs seconds of database and CPU time; when several
people download at once (or one clicks twice) they get the file built a moment ago instead of
each building their own. A snapshot is reused for at most ``EXPORT_SNAPSHOT_SECONDS`` (0 turns
snapshots off); its name and a response header say when it was built.

One process builds a given snapshot at a time (a cache lock); the others send the previous
snapshot if there is one, or build their own copy, which is not kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from analytics.exports import variables as var

LOCK_SECONDS = 900


@dataclass(frozen=True)
class Snapshot:
    """A built export file: where it is, how many data rows it holds, when it was built."""

    path: Path
    rows: int
    built_at: datetime
    kept: bool

    def age_seconds(self, now: datetime | None = None) -> float:
        """Return how old the snapshot is, in seconds."""
        return ((now or timezone.now()) - self.built_at).total_seconds()


def max_age() -> int:
    """Return how long a snapshot may be reused, in seconds (0: never)."""
    return max(0, int(getattr(settings, "EXPORT_SNAPSHOT_SECONDS", 0)))


def directory() -> Path:
    """Return the folder of the snapshots (created on first use)."""
    folder = Path(settings.VAR_DIR) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key(layout: str, fmt: str, items: bool, scope: str = "") -> str:
    # The variable names are part of the key, so that a new release never sends a file built
    # with the columns of the previous one; ``scope`` (a study's code) keeps apart the files of
    # one study and of every study.
    columns = ",".join(var.names(var.variables_of(layout, items=items)))
    digest = hashlib.sha256(columns.encode()).hexdigest()[:12]
    prefix = f"{scope.lower()}_" if scope else ""
    return f"{prefix}{layout}{'_items' if items else ''}_{digest}.{fmt}"


def _read(path: Path) -> Snapshot | None:
    meta = path.with_name(path.name + ".json")
    try:
        info = json.loads(meta.read_text())
        built_at = datetime.fromisoformat(info["built_at"])
        rows = int(info["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not path.exists():
        return None
    return Snapshot(path=path, rows=rows, built_at=built_at, kept=True)


def _build(
    folder: Path | None, suffix: str, build: Callable[[Path], int]
) -> tuple[Path, int, datetime]:
    """Build into a new file in ``folder`` (the system's temporary folder if None); return its
    path, rows and build time. A failed build leaves no file behind."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".building-", suffix=suffix)
    os.close(handle)
    path = Path(name)
    built_at = timezone.now()
    try:
        rows = build(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, rows, built_at


def _keep(path: Path, target: Path, rows: int, built_at: datetime) -> None:
    """Put a built file in place, then its description (readers check both)."""
    os.replace(path, target)
    meta = target.with_name(target.name + ".json")
    temporary = meta.with_name(f".{meta.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"rows": rows, "built_at": built_at.isoformat()}))
    os.replace(temporary, meta)


def snapshot(
    *,
    layout: str,
    fmt: str,
    items: bool,
    build: Callable[[Path], int],
    scope: str = "",
    shared: bool = True,
) -> Snapshot:
    """Return a fresh enough snapshot of one download, building it with ``build`` if needed.

    ``build(path)`` writes the file and returns its number of data rows. A snapshot that is not
    kept (snapshots off, another process is building, or ``shared`` is off: a download of some
    sites only) is the caller's to delete once sent. ``scope`` names the study, if one.
    """
    limit = max_age() if shared else 0
    if limit == 0:
        path, rows, built_at = _build(None, f".{fmt}", build)
        return Snapshot(path=path, rows=rows, built_at=built_at, kept=False)

    target = directory() / _key(layout, fmt, items, scope)
    current = _read(target)
    if current is not None and current.age_seconds() < limit:
        return current
    lock = f"export-snapshot-lock:{target.name}"
    if not cache.add(lock, os.getpid(), timeout=LOCK_SECONDS):
        if current is not None:
            return current
        path, rows, built_at = _build(target.parent, target.suffix, build)
        return Snapshot(path=path, rows=rows, built_at=built_at, kept=False)
    try:
        path, rows, built_at = _build(target.parent, target.suffix, build)
        _keep(path, target, rows, built_at)
    finally:
        cache.delete(lock)
    return Snapshot(path=target, rows=rows, built_at=built_at, kept=True)
