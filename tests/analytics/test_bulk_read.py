"""The bulk reads of PostgreSQL: the Arrow driver's and COPY's give the ORM's frames.

The Arrow read takes a connection of its own: it is taken only when the analysis's connection
is not inside a transaction, so these tests commit their data (``transaction=True``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pandas as pd
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from analytics import bulk, dataset
from cohort.models import Patient
from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import FollowUpCall

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk reads"),
]
AS_OF = dt.date(2017, 6, 1)


def _orm_rows(queryset, fields):
    names = dict(fields)
    rows = queryset.values_list(*names)
    return pd.DataFrame.from_records(list(rows), columns=list(names.values()))


def _assert_same_study(left, right):
    for name in ("long", "patients", "treatments", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name), check_exact=True)
        # The same Python values in the object columns: dates, texts, None, lists.
        frame = getattr(left, name)
        for column in [name for name in frame.columns if frame[name].dtype == "object"]:
            values = frame[column].tolist()
            assert [type(value) for value in values] == [
                type(value) for value in getattr(right, name)[column].tolist()
            ]
    assert left.fingerprint() == right.fingerprint()


@pytest.mark.parametrize("seed", [5, 8])
def test_arrow_read_gives_the_frames_of_the_orm_read(monkeypatch, seed):
    demo_load(generate(30, seed=seed, as_of=AS_OF))
    ways = []
    monkeypatch.setattr(bulk, "_arrow_rows", _spy(bulk._arrow_rows, ways, "arrow"))
    monkeypatch.setattr(bulk, "_copy_rows", _spy(bulk._copy_rows, ways, "copy"))
    arrow = dataset.load(as_of=AS_OF)
    assert set(ways) == {"arrow"}
    with transaction.atomic():  # inside a transaction: the COPY on the same connection
        copied = dataset.load(as_of=AS_OF)
    assert set(ways) == {"arrow", "copy"}
    with monkeypatch.context() as patch:
        patch.setattr(dataset, "read_rows", _orm_rows)
        patch.setattr(dataset, "_treatment_rows", _orm_rows)  # in the model's order
        orm = dataset.load(as_of=AS_OF)
    assert bulk.KINDS["comorbidities"] == "json"
    assert arrow.patients["comorbidities"].map(lambda value: isinstance(value, list)).all()
    assert (~arrow.long["elapsed"]).any()
    per_call = arrow.treatments.groupby(["patient", "timepoint"])
    assert (per_call["kind"].nunique() > 1).any()  # whose order (kind, then code) is the model's
    _assert_same_study(arrow, orm)
    _assert_same_study(copied, orm)


def _spy(read, ways, name):
    def spied(rows, columns):
        ways.append(name)
        return read(rows, columns)

    return spied


def test_a_read_inside_a_transaction_sees_its_uncommitted_rows():
    demo_load(generate(4, seed=2, as_of=AS_OF))
    with transaction.atomic():
        Patient.objects.filter(pk=Patient.objects.order_by("pk").first().pk).update(age=99)
        data = dataset.load(as_of=AS_OF)
        assert 99 in data.patients["age"].tolist()
        transaction.set_rollback(True)
    assert 99 not in dataset.load(as_of=AS_OF).patients["age"].tolist()


def test_each_json_document_is_its_own_object_per_row():
    demo_load(generate(6, seed=4, as_of=AS_OF))
    comorbidities = dataset.load(as_of=AS_OF).patients["comorbidities"]
    assert len(comorbidities) == len({id(value) for value in comorbidities})


def test_the_arrow_read_is_logged_and_has_the_alias_settings():
    demo_load(generate(3, seed=1, as_of=AS_OF))
    with CaptureQueriesContext(connection) as queries:
        frame = dataset.read_rows(
            FollowUpCall.objects.order_by("pk"), {"patient_id": "patient", "timepoint": "timepoint"}
        )
    assert len(queries) == 1
    assert len(frame) == FollowUpCall.objects.count()
    settings = connection.settings_dict
    info = bulk.conninfo("default")
    assert f"dbname={settings['NAME']}" in info
    assert "lock_timeout" in info  # the OPTIONS of the alias


def test_the_load_reads_the_later_queries_ahead_and_reads_each_once(monkeypatch):
    demo_load(generate(12, seed=3, as_of=AS_OF))
    fetched, taken = [], []
    fetch, take = bulk._fetch, bulk._ReadAhead.take

    def spied_fetch(conninfo, statement):
        fetched.append(statement)
        return fetch(conninfo, statement)

    def spied_take(self, statement):
        table = take(self, statement)
        if table is not None:  # the read takes it rather than reading the rows itself
            taken.append(statement)
        return table

    monkeypatch.setattr(bulk, "_fetch", spied_fetch)
    monkeypatch.setattr(bulk._ReadAhead, "take", spied_take)
    data = dataset.load(as_of=AS_OF)
    # The responses, the administrations, the treatments and the events came ahead, each once.
    tables = ["nprsresponse", "hadsresponse", "sf12response", "ketamineadministration"]
    tables += ["concomitanttreatment", "adverseevent"]
    for table in tables:
        assert sum(f'_{table}"' in statement for statement in fetched) == 1, table
    assert len(fetched) == len(tables)
    assert sorted(taken) == sorted(fetched)
    assert len(data.treatments)
    assert data.treatments["kind"].notna().all()


def test_a_query_read_ahead_and_not_taken_is_dropped():
    demo_load(generate(3, seed=6, as_of=AS_OF))
    rows = FollowUpCall.objects.order_by("pk").values_list("patient_id", "timepoint")
    with bulk.arrow_reads():
        bulk.read_ahead(rows)
        bulk.read_ahead(rows)  # once only
    with bulk.arrow_reads():  # nothing left of the block before: read again, the same rows
        frame = bulk.read_rows(rows, ["patient", "timepoint"])
    assert len(frame) == FollowUpCall.objects.count()


def test_nothing_is_read_ahead_inside_a_transaction_or_outside_a_block(monkeypatch):
    demo_load(generate(3, seed=7, as_of=AS_OF))
    monkeypatch.setattr(bulk, "_fetch", lambda *args: pytest.fail("read ahead"))
    rows = FollowUpCall.objects.order_by("pk").values_list("patient_id", "timepoint")
    bulk.read_ahead(rows)
    with transaction.atomic(), bulk.arrow_reads():
        bulk.read_ahead(rows)
        assert len(bulk.read_rows(rows, ["patient", "timepoint"])) == FollowUpCall.objects.count()


def test_at_most_one_table_read_ahead_waits_untaken(monkeypatch):
    demo_load(generate(3, seed=8, as_of=AS_OF))
    fetched, fetch = [], bulk._fetch
    first_read = threading.Event()

    def spied_fetch(conninfo, statement):
        fetched.append(statement)
        table = fetch(conninfo, statement)
        first_read.set()
        return table

    monkeypatch.setattr(bulk, "_fetch", spied_fetch)
    calls = FollowUpCall.objects.order_by("pk").values_list("patient_id", "timepoint")
    people = Patient.objects.order_by("pk").values_list("id", "age")
    with bulk.arrow_reads():
        bulk.read_ahead(calls)
        bulk.read_ahead(people)
        assert first_read.wait(10)
        time.sleep(0.3)  # time enough for the second, were it read
        assert len(fetched) == 1
        # A read waiting for its table lets it through, the one before still untaken.
        assert len(bulk.read_rows(people, ["patient", "age"])) == Patient.objects.count()
        assert len(fetched) == 2
        assert len(bulk.read_rows(calls, ["patient", "timepoint"])) == FollowUpCall.objects.count()
    assert len(fetched) == 2
