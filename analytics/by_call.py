"""Read the rows recorded at the calls (treatments, adverse events) in their model's order.

The models order them by call (the patient's study code, then the call's sequence), then by
texts of their own (a treatment's kind and code, an event's type). On PostgreSQL the server
sorted millions of rows by text, after joining them to their calls, several times slower than it
sends them; so they are read in no order and sorted here. When the calls were read already
(``placed_on``: the long frame's read), the rows are read without the join, as their call's id,
and placed on those calls; otherwise (or when a row's call is not among them: a call added
between the two reads) through the join. The order of the study codes and of the texts is still
the server's (two small queries). Rows equal in that order keep the order they were read in, as
the server's sort leaves them in an order of its own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from django.db import connections
from django.db.models import QuerySet

from analytics import bulk
from cohort.models import Patient

# The calls read by the current load (call id, patient, timepoint, sequence), see ``placed_on``.
_calls: contextvars.ContextVar[pd.DataFrame | None] = contextvars.ContextVar(
    "calls_read", default=None
)
# The columns every row takes from its call, and the lookups that read them through the join.
_OF_CALL = {"call__patient_id": "patient", "call__timepoint": "timepoint"}


@contextlib.contextmanager
def placed_on(calls: pd.DataFrame) -> Iterator[None]:
    """Within this block, rows are placed on these calls (columns call, patient, timepoint,
    sequence) rather than read with theirs."""
    token = _calls.set(calls)
    try:
        yield
    finally:
        _calls.reset(token)


def rows_by_call(rows: QuerySet[Any], fields: dict[str, str]) -> pd.DataFrame:
    """Return ``read_rows(rows, fields)`` in the model's order: by call, then its own texts.

    ``fields`` maps lookups to names: the call's patient and timepoint (``_OF_CALL``), then
    fields of the row's own, among them the texts the model orders by after the call.
    """
    own = _own(fields)
    if connections[rows.db].vendor != "postgresql":
        return _read(rows, fields)
    ordering = list(rows.model._meta.ordering)
    assert ordering[0] == "call", "rows ordered by their call first"
    texts = [own[field] for field in ordering[1:]]
    calls = _calls.get()
    if calls is not None:
        read = _read(rows.order_by(), {"call_id": "call", **own})
        at = bulk.positions(calls["call"], read.pop("call"))
        if (at >= 0).all():
            placed = {"patient": calls["patient"], "sequence": calls["sequence"]}
            ordered = _sorted(rows.db, read, at, placed, calls["timepoint"], texts)
            return ordered[list(fields.values())]
    read = _read(rows.order_by(), {**fields, "call__sequence": "sequence"})
    at = np.arange(len(read))
    placed = {"patient": read.pop("patient"), "sequence": read.pop("sequence")}
    ordered = _sorted(rows.db, read, at, placed, read.pop("timepoint"), texts)
    return ordered[list(fields.values())]


def read_ahead(rows: QuerySet[Any], fields: dict[str, str]) -> None:
    """Begin the read ``rows_by_call(rows, fields)`` makes when its rows are placed on calls
    read before them (``bulk.read_ahead``): those reads can then run side by side."""
    bulk.read_ahead(rows.order_by().values_list("call_id", *_own(fields)))


def _own(fields: dict[str, str]) -> dict[str, str]:
    """The lookups of the rows' own fields (not their call's)."""
    return {lookup: name for lookup, name in fields.items() if lookup not in _OF_CALL}


def _read(rows: QuerySet[Any], fields: dict[str, str]) -> pd.DataFrame:
    return bulk.read_rows(rows.values_list(*fields), list(fields.values()))


def _sorted(
    alias: str,
    read: pd.DataFrame,
    at: np.ndarray,
    placed: dict[str, pd.Series],
    timepoints: pd.Series,
    texts: list[str],
) -> pd.DataFrame:
    """Return the rows read, of the calls at ``at``, sorted by call and then by ``texts``.

    ``placed`` holds the patient and sequence of the calls, ``timepoints`` their timepoints.
    """
    order = _read(Patient.objects.order_by("study_code"), {"id": "patient"})["patient"]
    by_patient = bulk.positions(order, placed["patient"]).astype(np.int32)
    factorized = {name: pd.factorize(read.pop(name)) for name in list(read.columns)}
    distinct = {text for name in texts for text in factorized[name][1]}
    rank = {text: rank for rank, text in enumerate(bulk.server_order(alias, distinct))}
    # Most significant first: the patient, the call's sequence, then each text.
    keys = [by_patient[at], placed["sequence"].to_numpy().astype(np.int32)[at]]
    keys += [_ranked(factorized[name], rank) for name in texts]
    position = _order(keys)
    del keys, by_patient
    of_row = at[position]
    columns: dict[str, Any] = {
        "patient": pd.Series(placed["patient"].to_numpy()[of_row]),
        "timepoint": _values(pd.factorize(timepoints), of_row),
    }
    del of_row
    for name in list(factorized):
        columns[name] = _values(factorized.pop(name), position)
    return pd.DataFrame(columns, copy=False)


def _order(keys: list[np.ndarray]) -> np.ndarray:
    """Return the stable order of the rows by these keys (most significant first).

    The keys are packed into one 64-bit integer when they fit, none negative (one sort instead
    of one per key); the list is emptied as they are packed, each key freed once packed.
    """
    widths = [max(int(key.max(initial=0)).bit_length(), 1) for key in keys]
    if sum(widths) > 63 or any(key.min(initial=0) < 0 for key in keys):
        return np.lexsort(keys[::-1])
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for width in widths:
        packed <<= width
        packed |= keys.pop(0)
    return np.argsort(packed, kind="stable")


def _ranked(factorized: tuple[np.ndarray, Any], rank: dict[str, int]) -> np.ndarray:
    """Return the rank of each value factorized by ``pd.factorize`` (nulls last, as sorted)."""
    codes, uniques = factorized
    ranks = np.array([rank[text] for text in uniques] + [len(rank)], dtype=np.int32)
    return ranks[codes]


def _values(factorized: tuple[np.ndarray, Any], at: np.ndarray) -> pd.Series:
    """Return the values factorized by ``pd.factorize``, taken at ``at``, in the dtype read.

    A column all null was read as objects (None): it stays so; a column of booleans with
    nulls too (its nulls None).
    """
    codes, uniques = factorized
    if not len(uniques) or not len(at):  # as the read gives a column without a value
        return pd.Series(np.full(len(at), None, dtype=object))
    taken = codes[at]
    if uniques.dtype == object and (taken < 0).any():
        values = np.asarray(uniques, dtype=object)[taken]
        values[taken < 0] = None
        return pd.Series(values, dtype=object)
    return pd.Series(uniques.array.take(taken, allow_fill=True))
