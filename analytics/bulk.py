"""Read the rows of a ``values_list`` query in bulk, as typed columns equal to the ORM's values.

On PostgreSQL the rows come in one of two ways, both parsed without a Python object per row and
value for the transfer itself:

- through an Arrow driver (ADBC, binary ``COPY`` decoded in C into Arrow columns) on a
  connection of its own to the same database. A second connection does not see what the
  Django connection has not committed yet, so this way is taken only when that connection is
  not inside a transaction (``atomic``): a re-analysis run by the worker, a bench. Within
  ``arrow_reads``, a query may be read ahead (``read_ahead``): on a thread and a
  connection of their own, while the caller works on the rows read before it;
- otherwise by one ``COPY (query) TO STDOUT`` on the Django connection itself, parsed by
  pandas' CSV reader (the tests, which run inside a transaction, and any caller inside
  ``atomic``).

Elsewhere (SQLite) the rows come through the ORM's ``values_list``. Every way gives the same
frame (``tests/analytics/test_dataset.py``, ``tests/analytics/test_bulk_read.py``).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from django.db import connections
from django.db.models import QuerySet

# How each column read is parsed (the ORM gives the same Python values): "int" a non-null
# integer, "num" a nullable number (float, NaN when null), "str" text (None when null), "date" a
# date, "bool" a boolean (None when null), "json" a JSON document (one object per row: a row's
# may be changed on its own), "reasons" a JSON document only read (rows with the same text share
# one parsed object: the item reasons, which the long frame reads and then drops).
KINDS = {
    "patient": "int",
    "call": "int",
    "study_id": "str",
    "site": "str",
    "sex": "str",
    "age": "int",
    "etiology": "str",
    "status": "str",
    "timepoint": "str",
    "call_status": "str",
    "call_date": "date",
    "target_date": "date",
    "window_end": "date",
    "nprs_mean": "num",
    "nprs_max": "num",
    "hads_a": "num",
    "hads_d": "num",
    "sf12_pcs": "num",
    "sf12_mcs": "num",
    "nprs_item_reasons": "reasons",
    "nprs_reason": "str",
    "hads_item_reasons": "reasons",
    "hads_reason": "str",
    "sf12_item_reasons": "reasons",
    "sf12_reason": "str",
    "date": "date",
    "route": "str",
    "total_mg": "num",
    "days": "int",
    "comorbidities": "json",
    "dn4": "num",
    "paroxysms_per_day": "num",
    "ketamine_naive": "bool",
    "kind": "str",
    "code": "str",
    "type": "str",
    "severity": "str",
    "serious": "bool",
    "sequence": "int",
}
# The null marker of the COPY stream: never a value of the text columns read.
_NULL = "\\N"
# The memory each sort of an Arrow read may take on the server before it spills to disk.
_WORK_MEM = "256MB"
# The dtype pandas infers for a column of texts (its Arrow-backed strings, by default).
_TEXT = pd.Series(["text"], dtype=object).infer_objects().dtype
# The Arrow connections open for the current read, by database alias (see ``arrow_reads``).
_open: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "arrow_connections", default=None
)
# The queries being read ahead within the current ``arrow_reads`` block, by statement.
_ahead: contextvars.ContextVar[_ReadAhead | None] = contextvars.ContextVar(
    "arrow_reads_ahead", default=None
)


class _ReadAhead:
    """Queries read on one thread of their own, one after the other, each on a connection of
    its own; the Arrow tables wait here until their read takes them.

    At most one table waits untaken: the next query is read once it is taken, or at once when a
    read waits for a table (its own may come later in the queue). The tables of a study's read
    are of a hundred MB and more at 100,000 patients; held all at once they would add up.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
        self._tables: dict[str, Future[Any]] = {}
        self._turn = threading.Condition()
        self._untaken = 0  # tables read and not taken yet
        self._waiting = 0  # reads waiting for their table
        self._closed = False

    def start(self, alias: str, statement: str) -> None:
        if statement not in self._tables:
            conninfo = _arrow_conninfo(alias)
            self._tables[statement] = self._pool.submit(self._read, conninfo, statement)

    def _read(self, conninfo: str, statement: str) -> Any:
        with self._turn:
            self._turn.wait_for(lambda: not self._untaken or self._waiting or self._closed)
            if self._closed:
                return None
        table = _fetch(conninfo, statement)
        with self._turn:
            self._untaken += 1
        return table

    def take(self, statement: str) -> Any | None:
        """The table of ``statement`` if it was read ahead (waiting for it), else None."""
        future = self._tables.pop(statement, None)
        if future is None:
            return None
        with self._turn:
            self._waiting += 1
            self._turn.notify_all()
        table = None
        try:
            table = future.result()
        finally:
            with self._turn:
                self._waiting -= 1
                self._untaken -= table is not None
                self._turn.notify_all()
        return table

    def close(self) -> None:
        """Drop the tables not taken; a read not begun is not begun."""
        with self._turn:
            self._closed = True
            self._turn.notify_all()
        for future in self._tables.values():
            future.cancel()
        self._pool.shutdown(wait=True)
        self._tables.clear()


def _fetch(conninfo: str, statement: str) -> Any:
    """Read ``statement`` into an Arrow table on a connection opened for it."""
    connection = _adbc().connect(conninfo, autocommit=True)
    try:
        return _table(connection, statement)
    finally:
        connection.close()


def _table(connection: Any, statement: str) -> Any:
    """Read ``statement`` into an Arrow table on the Arrow ``connection``."""
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetch_arrow_table()


def read_rows(rows: QuerySet[Any], columns: list[str]) -> pd.DataFrame:
    """Return the rows of the values_list query ``rows`` as a frame with these column names."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return pd.DataFrame.from_records(list(rows), columns=columns)
    if not _arrow_way(connection):
        return _copy_rows(rows, columns)
    return _arrow_rows(rows, columns)


def _arrow_way(connection: Any) -> bool:
    """Whether a read on this PostgreSQL connection goes through the Arrow driver: it is
    installed, and the connection is not inside a transaction another connection cannot see."""
    return not connection.in_atomic_block and _adbc() is not None


@contextlib.contextmanager
def arrow_reads() -> Iterator[None]:
    """Within this block, the Arrow reads of one database share one connection of their own.

    At its end, the memory Arrow's allocator keeps from the buffers freed (the rows read, their
    conversions) goes back to the system: the analysis after the read allocates through numpy,
    which would not reuse it.
    """
    opened: dict[str, Any] = {}
    ahead = _ReadAhead()
    token, ahead_token = _open.set(opened), _ahead.set(ahead)
    try:
        yield
    finally:
        _open.reset(token)
        _ahead.reset(ahead_token)
        ahead.close()
        for connection in opened.values():
            connection.close()
        if opened:
            import pyarrow as pa

            pa.default_memory_pool().release_unused()


def read_ahead(rows: QuerySet[Any]) -> None:
    """Begin reading the values_list query ``rows`` now, for a later ``read_rows`` of it.

    Only within ``arrow_reads`` and where the read would take the Arrow way: the rows come on
    a connection of their own, as they would then. Elsewhere nothing is done.
    """
    ahead, connection = _ahead.get(), connections[rows.db]
    if ahead is not None and connection.vendor == "postgresql" and _arrow_way(connection):
        ahead.start(rows.db, _statement(rows))


def positions(keys: Any, values: Any) -> np.ndarray:
    """Return ``pd.Index(keys).get_indexer(values)``: where each value is among the keys (-1:
    nowhere). Keys are unique; ids (integers not far above their number) are looked up in an
    array rather than hashed."""
    keys, values = np.asarray(keys), np.asarray(values)
    if keys.dtype.kind in "iu" and values.dtype.kind in "iu" and len(keys):
        low, high = int(keys.min()), int(keys.max())
        if low >= 0 and high < 4 * len(keys) + 1024:
            lookup = np.full(high + 1, -1, dtype=np.intp)
            lookup[keys] = np.arange(len(keys))
            if np.count_nonzero(lookup >= 0) == len(keys):  # unique, as get_indexer needs
                inside = (values >= 0) & (values <= high)
                found = np.full(len(values), -1, dtype=np.intp)
                found[inside] = lookup[values[inside]]
                return found
    return pd.Index(keys).get_indexer(values)


def categories(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Return ``frame`` with these text columns as categories (their texts in code point order).

    The treatments and the patients' texts and missing reasons of the long frame are millions of
    rows of a few texts (a study code: 14 rows): a small integer a row rather than the text. The
    values and the fingerprint's hashes are those of the texts (a null is NaN, not None); however
    they were read, the same texts give the same categories.
    """
    columns = {}
    for name in names:
        codes, uniques = pd.factorize(frame[name])
        texts = pd.Index(sorted(uniques), dtype="str")
        at = np.append(texts.get_indexer(uniques), -1)  # the nulls (code -1) stay null
        columns[name] = pd.Categorical.from_codes(at[codes], dtype=pd.CategoricalDtype(texts))
    return frame.assign(**columns)


def server_order(alias: str, texts: Any) -> list[str]:
    """Return these texts in the order the database sorts them (its collation)."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT v FROM unnest(%s::text[]) AS t(v) ORDER BY v", [list(texts)])
        return [text for (text,) in cursor.fetchall()]


def _adbc() -> Any:
    """Return the ADBC PostgreSQL driver's DB-API module, or None when it is not installed."""
    try:
        import adbc_driver_postgresql.dbapi as driver
    except ImportError:  # pragma: no cover - a requirement; the COPY way reads without it
        return None
    return driver


def conninfo(alias: str) -> str:
    """Return the libpq connection string of a Django database alias (its settings' OPTIONS)."""
    from psycopg import conninfo as psycopg_conninfo
    from psycopg import pq

    keywords = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    params = connections[alias].get_connection_params()
    kept = {
        name: value
        for name, value in params.items()
        if name in keywords and isinstance(value, (str, int)) and value != ""
    }
    return psycopg_conninfo.make_conninfo("", **kept)


def _arrow_conninfo(alias: str) -> str:
    """Return the connection string of the Arrow reads: the alias's, sorting in memory.

    The reads sort up to a few million rows (the treatments, by patient and call): with the
    server's default ``work_mem`` they spill to disk and take several times longer.
    """
    from psycopg import conninfo as psycopg_conninfo

    params = psycopg_conninfo.conninfo_to_dict(conninfo(alias))
    params["options"] = f"{params.get('options', '')} -c work_mem={_WORK_MEM}".strip()
    return psycopg_conninfo.make_conninfo("", **params)


def _arrow_connection(alias: str) -> tuple[Any, bool]:
    """Return an Arrow connection to ``alias`` and whether the caller must close it."""
    opened = _open.get()
    if opened is not None and alias in opened:
        return opened[alias], False
    connection = _adbc().connect(_arrow_conninfo(alias), autocommit=True)
    if opened is None:
        return connection, True
    opened[alias] = connection
    return connection, False


def _statement(rows: QuerySet[Any]) -> str:
    connection = connections[rows.db]
    sql, params = rows.query.sql_with_params()
    return str(connection.ops.compose_sql(sql, params))


def _log(alias: str, sql: str, began: float) -> None:
    connection = connections[alias]
    if connection.queries_logged:  # as Django logs its own queries (DEBUG, tests)
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - began:.3f}"})


def _arrow_rows(rows: QuerySet[Any], columns: list[str]) -> pd.DataFrame:
    """Read the rows of a values_list query through the Arrow driver, into typed columns."""
    statement = _statement(rows)
    began = time.monotonic()
    ahead = _ahead.get()
    table = None if ahead is None else ahead.take(statement)
    if table is None:
        connection, close = _arrow_connection(rows.db)
        try:
            table = _table(connection, statement)
        finally:
            if close:
                connection.close()
    _log(rows.db, statement, began)
    data: dict[str, Any] = {}
    for name, column in zip(columns, table.columns, strict=True):
        data[name] = _arrow_column(column, KINDS[name])
    # Not copied into blocks of one dtype: each column stays the array made above.
    return pd.DataFrame(data, columns=columns, copy=False).infer_objects()


def _arrow_column(column: Any, kind: str) -> Any:
    """Return one Arrow column as the values the COPY reader gives for its kind."""
    import pyarrow as pa

    if isinstance(column.type, pa.BaseExtensionType):  # json, numeric: their text
        column = pa.chunked_array(
            [chunk.storage for chunk in column.chunks], column.type.storage_type
        )
    if kind == "int":
        return column.to_numpy().astype("int64", copy=False)
    if kind == "num":
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            return _numbers(pd.Series(_objects(column), dtype=object))
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if kind == "json":
        documents = np.empty(len(column), dtype=object)
        for row, text in enumerate(column.to_pylist()):
            documents[row] = None if text is None else json.loads(text)
        return documents
    if kind == "str" and isinstance(_TEXT, pd.StringDtype) and column.null_count < len(column):
        return pd.array(column.combine_chunks(), dtype=_TEXT)  # as ``infer_objects`` makes them
    return _objects(column, json.loads if kind == "reasons" else None)


def _objects(column: Any, parse: Callable[[Any], Any] | None = None) -> np.ndarray:
    """Return the Python values of an Arrow column (None for nulls), one per distinct value.

    Rows with the same value share one object, made (and parsed) once.
    """
    encoded = column.combine_chunks().dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    lookup = np.empty(len(distinct) + 1, dtype=object)  # the last one: None, for the nulls
    for position, value in enumerate(distinct):
        lookup[position] = value if parse is None else parse(value)
    codes = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
    return lookup[codes]


def _numbers(values: pd.Series) -> pd.Series:
    """Parse numbers given as text (None when null) into floats, NaN for the nulls."""
    return pd.to_numeric(values.where(values.notna(), np.nan)).astype(float)


class _CopyStream(io.RawIOBase):
    """A readable file over the rows of a COPY TO STDOUT, for pandas to parse as they come.

    PostgreSQL sends one message per row: they are joined a few thousand at a time.
    """

    _ROWS_PER_READ = 4096

    def __init__(self, blocks: Iterator[memoryview]) -> None:
        self._blocks = blocks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not len(self._pending):
            self._pending = memoryview(
                b"".join(itertools.islice(self._blocks, self._ROWS_PER_READ))
            )
            if not len(self._pending):
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _parsed(values: pd.Series, parse: Any) -> pd.Series:
    """Apply ``parse`` once per distinct text of ``values`` (most rows repeat a few texts)."""
    distinct = {text: parse(text) for text in values.dropna().unique()}
    return values.map(distinct, na_action="ignore")


def _copy_rows(rows: QuerySet[Any], columns: list[str]) -> pd.DataFrame:
    """Read the rows of a values_list query with one COPY, parsed into typed columns."""
    import datetime as dt

    connection = connections[rows.db]
    statement = _statement(rows)
    kinds = {name: KINDS[name] for name in columns}
    dtypes = {name: ("int64" if kind == "int" else object) for name, kind in kinds.items()}
    copy_sql = f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, NULL '{_NULL}')"
    began = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        stream = io.BufferedReader(_CopyStream(iter(copy)), buffer_size=1 << 20)
        frame = pd.read_csv(
            stream,
            names=columns,
            header=None,
            dtype=dtypes,
            na_values={name: [_NULL] for name in columns},
            keep_default_na=False,
        )
    _log(rows.db, copy_sql, began)
    for name, kind in kinds.items():
        values = frame[name]
        if kind == "num":
            frame[name] = _numbers(values)
        elif kind == "date":
            frame[name] = _parsed(values, dt.date.fromisoformat)
        elif kind == "bool":
            frame[name] = values.map({"t": True, "f": False}, na_action="ignore")
        elif kind == "reasons":
            frame[name] = _parsed(values, json.loads)
        elif kind == "json":
            frame[name] = values.map(json.loads, na_action="ignore")
        if kind != "int" and kind != "num":
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    # The column types pandas gives the same Python values read through the ORM.
    return frame.infer_objects()
