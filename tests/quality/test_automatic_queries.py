"""Automatic queries: raised once per finding, closed when the data are fixed, on a demo cohort
with planted faults the rules find exactly what was planted (and the demo's own findings)."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command

from demo.loader import demo_load
from demo.synthetic import generate
from followup.models import NprsResponse
from followup.services import call_save
from quality import loader, rules, services
from quality.models import Query
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db

PLANT = {
    "call_outside_window": 4,
    "nprs_max_below_mean": 3,
    "hads_jump": 3,
    "missing_baseline_instrument": 3,
    "administration_after_withdrawal": 2,
}


def _break_nprs_max(call, value):
    # The forms refuse a maximum below the mean; older or imported rows may hold one.
    NprsResponse.objects.filter(call=call).update(maximum=value)


@pytest.fixture
def m1_with_max_below_mean(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    with time_machine.travel(dt.datetime(2026, 2, 5, 10, 0, tzinfo=dt.UTC)):
        call = call_save(call=call, data=VALID, by=nurse_site_a, complete=True)
    _break_nprs_max(call, 5)
    return call


def _thread(query):
    return list(query.messages.values_list("action", "state", "by"))


def test_a_finding_raises_one_automatic_query_and_reruns_add_nothing(m1_with_max_below_mean):
    first = services.rules_run()
    second = services.rules_run()
    query = Query.objects.get(rule="nprs_max_below_mean")
    assert (first["raised"], second["raised"], second["unchanged"]) == (1, 0, 1)
    assert query.automatic
    assert query.raised_by is None
    assert (query.call, query.field, query.kind) == (
        m1_with_max_below_mean,
        "nprs_max",
        "inconsistent",
    )
    assert query.text == "Maximal pain 5 is below mean pain 6."
    assert query.key == f"nprs_max_below_mean:{query.patient.study_code}:M1:nprs_max"
    assert _thread(query) == [("raise", "open", None)]


def test_the_query_closes_itself_when_the_data_are_fixed_and_comes_back_if_broken_again(
    m1_with_max_below_mean, nurse_site_a
):
    call = m1_with_max_below_mean
    with time_machine.travel(dt.datetime(2026, 2, 6, 9, 0, tzinfo=dt.UTC)):
        services.rules_run()
    with time_machine.travel(dt.datetime(2026, 2, 6, 10, 0, tzinfo=dt.UTC)):
        # The correction answers the query; the next run of the rules closes it.
        call = call_save(call=call, data=VALID, by=nurse_site_a, reason="Max is 8")
    counts = services.rules_run()
    query = Query.objects.get()
    assert counts["resolved"] == 1
    assert query.state == "closed"
    assert [a for a, _s, _b in _thread(query)] == ["raise", "correct", "resolve"]
    assert query.messages.last().text == services.RESOLVED_TEXT
    _break_nprs_max(call, 4)
    assert services.rules_run()["reopened"] == 1
    query.refresh_from_db()
    assert query.state == "open"
    assert Query.objects.count() == 1


def test_a_query_closed_by_a_data_manager_stays_closed_while_the_finding_remains(
    m1_with_max_below_mean, data_manager
):
    services.rules_run()
    query = Query.objects.get()
    services.query_close(query=query, by=data_manager, text="Confirmed with the source form.")
    counts = services.rules_run()
    query.refresh_from_db()
    assert query.state == "closed"
    assert (counts["raised"], counts["reopened"]) == (0, 0)


def _found(findings):
    return {(f.rule, f.study_code, f.timepoint or f.value, f.field) for f in findings}


def _expected(truth):
    fields = {"call_outside_window": "call_date", "administration_after_withdrawal": "date"}
    expected = {
        (rule, row["study_code"], row.get("timepoint") or row["date"], fields[rule])
        for rule, rows in truth["natural"].items()
        for row in rows
    }
    for rule, rows in truth["planted"].items():
        for row in rows:
            where = row.get("timepoint") or row["date"]
            expected.add((rule, row["study_code"], where, row["column"]))
    return expected


def _rules_on_database():
    data = loader.load()
    return rules.run_rules(data.calls, data.administrations)


def test_on_the_demo_cohort_the_rules_find_exactly_its_natural_findings():
    cohort = generate(150, seed=2)
    demo_load(cohort)
    findings = _rules_on_database()
    assert _found(findings) == _expected(cohort.truth)
    assert len(findings) == sum(len(rows) for rows in cohort.truth["natural"].values())
    assert cohort.truth["natural"]["call_outside_window"]


def test_on_a_demo_cohort_with_planted_faults_the_rules_find_exactly_them():
    cohort = generate(150, seed=2, plant=PLANT)
    assert {kind: len(rows) for kind, rows in cohort.truth["planted"].items()} == PLANT
    demo_load(cohort)
    findings = _rules_on_database()
    planted = _expected({"natural": {}, "planted": cohort.truth["planted"]})
    assert len(planted) == sum(PLANT.values())
    assert _found(findings) == _expected(cohort.truth)
    counts = services.rules_run()
    assert counts["raised"] == len(findings)
    assert Query.objects.filter(automatic=True, state="open").count() == len(findings)


def test_seed_demo_plants_faults_and_writes_them_in_the_truth(tmp_path):
    truth = tmp_path / "truth.json"
    call_command(
        "seed_demo",
        "--patients",
        "40",
        "--seed",
        "3",
        "--plant",
        "nprs_max_below_mean=2",
        "--plant",
        "missing_baseline_instrument=1",
        "--truth",
        str(truth),
        stdout=io.StringIO(),
    )
    planted = json.loads(truth.read_text())["planted"]
    assert {kind: len(rows) for kind, rows in planted.items()} == {
        "nprs_max_below_mean": 2,
        "missing_baseline_instrument": 1,
    }
    found = {f.rule for f in _rules_on_database()}
    assert {"nprs_max_below_mean", "missing_baseline_instrument"} <= found


def test_seed_demo_refuses_unknown_faults_and_impossible_counts():
    with pytest.raises(CommandError, match="KIND=N"):
        call_command("seed_demo", "--patients", "5", "--plant", "swapped_dates=2")
    with pytest.raises(CommandError, match="only"):
        call_command(
            "seed_demo", "--patients", "5", "--plant", "administration_after_withdrawal=50"
        )
