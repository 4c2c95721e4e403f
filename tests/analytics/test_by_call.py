"""The rows recorded at the calls, sorted after the read, are in their model's order.

On PostgreSQL ``analytics.by_call`` reads the treatments and adverse events in no order (placed
on the calls already read, or through the join) and sorts them: the ORM's rows, in the order of
the model's ``ordering``. The Arrow read takes a connection of its own, so the data is committed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from analytics import bulk, by_call, dataset
from analytics.hashing import column_hashes
from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import AdverseEvent, ConcomitantTreatment, FollowUpCall

AS_OF = dt.date(2017, 6, 1)
OF_CALL = {"call__patient_id": "patient", "call__timepoint": "timepoint"}
READS = [
    (ConcomitantTreatment, {**OF_CALL, "kind": "kind", "code": "code"}),
    (AdverseEvent, {**OF_CALL, "type": "type", "severity": "severity", "serious": "serious"}),
]


def _orm_rows(queryset, fields):
    rows = queryset.values_list(*fields)
    return pd.DataFrame.from_records(list(rows), columns=list(fields.values()))


def _calls():
    fields = {"id": "call", "patient_id": "patient", "timepoint": "timepoint"}
    return dataset.read_rows(FollowUpCall.objects.order_by(), {**fields, "sequence": "sequence"})


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk reads")
def test_rows_read_in_no_order_and_sorted_are_the_orms_in_order():
    demo_load(generate(25, seed=7, as_of=AS_OF))
    calls = _calls()
    for model, fields in READS:
        rows = model.objects.filter(voided_at__isnull=True)
        expected = _orm_rows(rows, fields)
        assert len(expected) > 20
        joined = by_call.rows_by_call(rows, fields)  # through the join
        with by_call.placed_on(calls):  # placed on the calls read
            placed = by_call.rows_by_call(rows, fields)
        with by_call.placed_on(calls.iloc[1:]):  # a row's call not among them: the join
            missed = by_call.rows_by_call(rows, fields)
        for frame in (joined, placed, missed):
            pd.testing.assert_frame_equal(frame, expected, check_dtype=False, check_exact=True)
            assert frame.dtypes.to_dict() == dataset.read_rows(rows, fields).dtypes.to_dict()
        none = rows.filter(call__timepoint="none")  # no row: the columns read without one
        with by_call.placed_on(calls):
            pd.testing.assert_frame_equal(
                by_call.rows_by_call(none, fields), dataset.read_rows(none, fields)
            )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_packed_order_is_the_stable_order_by_every_key(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    narrow = [rng.integers(0, 40, n), rng.integers(0, 14, n), rng.integers(0, 3, n)]
    wide = [rng.integers(0, 2**40, n), rng.integers(0, 2**30, n)]
    negative = [rng.integers(-1, 5, n), rng.integers(0, 3, n)]
    for keys in (narrow, wide, negative, [np.zeros(n, dtype=np.int64)]):
        expected = np.lexsort(keys[::-1])
        assert np.array_equal(by_call._order(list(keys)), expected)


def test_treatment_texts_as_categories_keep_their_values_and_hashes():
    texts = np.array(["drug", "non_drug", "opioid", "é", "", None], dtype=object)
    picked = texts[np.random.default_rng(3).integers(0, len(texts), 300)]
    objects = pd.DataFrame({"patient": np.arange(300), "code": pd.Series(picked, dtype=object)})
    arrow = objects.assign(code=objects["code"].astype("str"))
    compact = [bulk.categories(frame, ["code"]) for frame in (objects, arrow)]
    pd.testing.assert_frame_equal(compact[0], compact[1], check_exact=True)
    code = compact[0]["code"]
    assert isinstance(code.dtype, pd.CategoricalDtype)
    shuffled = bulk.categories(objects.sample(frac=1.0, random_state=0), ["code"])
    # The same texts, the same categories in the same order (unordered dtypes compare as sets).
    assert shuffled["code"].cat.categories.tolist() == code.cat.categories.tolist()
    assert code.isna().tolist() == objects["code"].isna().tolist()
    assert code.astype(object).where(code.notna(), None).tolist() == picked.tolist()
    assert np.array_equal(column_hashes(code), column_hashes(arrow["code"]))
    assert np.array_equal(column_hashes(code), column_hashes(objects["code"]))


def test_positions_are_those_of_the_index():
    rng = np.random.default_rng(4)
    cases = [
        (rng.permutation(1000) + 5, rng.integers(-3, 1100, 5000)),  # ids: looked up
        (np.array([10**12, 5]), np.array([5, 10**12, 7])),  # far apart: hashed
        (np.array([], dtype=np.int64), np.array([1, 2])),
        (np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object)),
    ]
    for keys, values in cases:
        expected = pd.Index(keys).get_indexer(values)
        assert np.array_equal(bulk.positions(keys, values), expected)
    with pytest.raises(pd.errors.InvalidIndexError):  # repeated keys, as the index says
        bulk.positions(np.array([3, 3, 4]), np.array([3]))
