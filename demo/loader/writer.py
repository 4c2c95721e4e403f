"""Insert frames of plain rows with explicit ids: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

import datetime as dt
import io
import queue
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Model

# Rows per COPY chunk: the CSV text of one chunk is held in memory at a time.
COPY_CHUNK_ROWS = 200_000
COPY_NULL = r"\N"
# Chunks waiting for the COPY worker: bounds the memory held by formatted text.
COPY_QUEUE_CHUNKS = 4
_END_OF_TABLE = object()
_ABORT = object()


class RowWriter:
    """Insert frames of plain rows with explicit ids, as fast as the backend allows.

    On PostgreSQL a worker thread runs the COPY statements one after the other, so that the server
    ingests (and checks the foreign keys of) one table while this thread builds the next.
    """

    def __init__(self, models: Iterable[type[Model]]) -> None:
        self.vendor = connection.vendor
        self.ops = connection.ops
        self.tables = [model._meta.db_table for model in models]
        # Taken before any insert: once the worker runs, only it may use the connection.
        self.bases = {}
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                self.bases[table] = int(cursor.fetchone()[0]) + 1
        self.deferred: list[str] = []
        self.jobs: queue.Queue[Any] = queue.Queue(maxsize=COPY_QUEUE_CHUNKS)
        self.worker: threading.Thread | None = None
        self.error: BaseException | None = None

    def next_id(self, model: type[Model]) -> int:
        """Return the first id free in the model's table when the load began."""
        return self.bases[model._meta.db_table]

    def stamp(self, moment: dt.datetime) -> str:
        """Return an aware datetime as the text the backend stores."""
        if self.vendor == "postgresql":
            return moment.isoformat()
        return self.ops.adapt_datetimefield_value(moment)

    def stamps(self, moments: pd.Series) -> np.ndarray:
        """Return aware datetimes (whole seconds) as the text the backend stores, None for NaT."""
        if self.vendor == "postgresql":
            zone, suffix = dt.UTC, "+00:00"
        else:
            # Django's SQLite backend stores naive datetimes in the connection's zone.
            zone, suffix = connection.timezone, ""
        wall = moments.dt.tz_convert(zone).dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
        text = np.strings.replace(np.datetime_as_string(wall, unit="s"), "T", " ")
        text = np.strings.add(text, suffix).astype(object)
        text[np.isnat(wall)] = None
        return text

    def insert(self, model: type[Model], frame: pd.DataFrame) -> int:
        """Write (on PostgreSQL: queue) every row of ``frame``, whose columns are the table's."""
        table = model._meta.db_table
        quoted = ", ".join(self.ops.quote_name(c) for c in frame.columns)
        if self.vendor == "postgresql":
            if self.worker is None:
                self._start()
            # CSV keeps '' (many NOT NULL text columns) apart from NULL, written as \N.
            self._put(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '{COPY_NULL}')")
            for start in range(0, len(frame), COPY_CHUNK_ROWS):
                buffer = io.StringIO()
                frame.iloc[start : start + COPY_CHUNK_ROWS].to_csv(
                    buffer, header=False, index=False, na_rep=COPY_NULL
                )
                self._put(buffer.getvalue())
            self._put(_END_OF_TABLE)
        else:
            placeholders = ", ".join(["%s"] * len(frame.columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"
            with connection.cursor() as cursor:
                # The driver cursor skips Django's per-batch query logging under DEBUG.
                cursor.cursor.executemany(sql, frame.itertuples(index=False, name=None))
        return len(frame)

    def _start(self) -> None:
        with connection.cursor() as cursor:
            # Check the foreign keys at the end of each COPY, in the worker's time, rather than
            # all at commit; they are set back to deferred (their initial mode) in finish().
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable"
                " AND condeferred AND conrelid = ANY(%s::regclass[])",
                [self.tables],
            )
            self.deferred = [self.ops.quote_name(name) for (name,) in cursor.fetchall()]
            if self.deferred:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self.deferred)} IMMEDIATE")
        raw = connection.connection.cursor()
        self.worker = threading.Thread(target=self._copy_all, args=(raw,), daemon=True)
        self.worker.start()

    def _copy_all(self, raw: Any) -> None:
        """Run the queued COPY statements: a statement, its chunks, the end marker, and so on."""
        try:
            with raw:
                while (statement := self.jobs.get()) is not None:
                    with raw.copy(statement) as copy:
                        while (chunk := self.jobs.get()) is not _END_OF_TABLE:
                            if chunk is _ABORT:
                                raise RuntimeError("demo load aborted")
                            copy.write(chunk)
        except BaseException as exc:
            self.error = exc

    def _put(self, job: Any) -> None:
        assert self.worker is not None
        while True:
            if self.error is not None:
                raise RuntimeError("demo load failed while copying rows") from self.error
            try:
                self.jobs.put(job, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self, failed: bool = False) -> None:
        """Wait for the queued rows; on failure, make the worker give up its COPY first."""
        if self.worker is None:
            return
        worker, self.worker = self.worker, None
        while worker.is_alive():
            try:
                self.jobs.put(_ABORT if failed else None, timeout=0.2)
                break
            except queue.Full:
                continue
        worker.join()
        if failed:
            return
        if self.error is not None:
            raise RuntimeError("demo load failed while copying rows") from self.error
        if self.deferred:
            with connection.cursor() as cursor:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self.deferred)} DEFERRED")

    def reset_sequences(self, models: Iterable[type[Model]]) -> None:
        """Move PostgreSQL's id sequences past the ids written explicitly."""
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )
