"""A save the database refuses: a clear message, status 503, the input kept, nothing saved.

The fault is real: a second connection holds the lock the save needs (a row lock on
PostgreSQL, the whole file on SQLite) and the request's connection waits only a moment for it.
Then the lock is released and the same input is saved.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from cohort.services import administration_record
from quality.services import query_raise
from tests.database import table_sizes, write_lock_held_elsewhere
from tests.factories import enrol
from tests.followup.test_questionnaire_validation import VALID

MESSAGE = "The database did not accept the save"
NAME, PHONE = "Quenouille", "+33 6 44 81 27 90"


@pytest.fixture
def ward(short_lock_wait, site_a, nurse_site_a, data_manager):
    """A patient of site A, reached on the day of the M1 call, with a query on that call."""
    with time_machine.travel(dt.datetime(2026, 2, 5, 10, 0, tzinfo=dt.UTC), tick=True):
        patient = enrol(site_a, by=nurse_site_a, last_name=NAME, phone=PHONE)
        administration = administration_record(
            patient=patient, date=patient.inclusion_date, route="iv", dose_unit="mg",
            dose_value=Decimal("50"), by=nurse_site_a,
        )  # fmt: skip
        call = patient.calls.get(timepoint="M1")
        query = query_raise(
            target=call, field="call_date", kind="missing", text="Date?", by=data_manager
        )
        yield {"patient": patient, "administration": administration, "call": call, "query": query}


@dataclass(frozen=True)
class Write:
    """One page that writes: its address, the row its save locks, what is posted, what shows."""

    page: str
    url: Callable[[dict[str, Any]], str]
    row: Callable[[dict[str, Any]], Any]
    data: Callable[[dict[str, Any]], dict[str, Any]]
    shown: tuple[str, ...]  # typed values the page must show again
    persona: str = "nurse_site_a"


def _call(ward: dict[str, Any]) -> dict[str, Any]:
    data = {k: str(v) for k, v in VALID.items()}
    return {
        **data,
        "version": ward["call"].version,
        "action": "save",
        "outcome": "reached",
        "call_date": "2026-02-05",
        "note": "Tired after the long drive",
    }


def _enrolment(ward: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient-site": ward["patient"].site_id,
        "patient-age": "45",
        "patient-pain_duration_months": "18",
        "patient-inclusion_date": "2026-02-05",
        "patient-consent_date": "2026-02-04",
        "patient-last_name": "Barbotine",
        "patient-first_name": "Alice",
        "patient-phone": "06 00 00 00 01",
        "patient-sex": "F",
        "patient-weight_kg": "64.5",
        "patient-etiology": "crps",
        "patient-ketamine_naive": "true",
        "patient-dn4": "6",
        "admin-date": "2026-02-05",
        "admin-route": "iv",
        "admin-dose_unit": "mg_per_kg",
        "admin-dose_value": "0.75",
        "admin-days": "3",
        "admin-infusion_minutes": "120",
    }


WRITES = [
    Write(
        "call entry",
        lambda w: reverse("followup:call_entry", args=[w["call"].pk]),
        lambda w: w["call"],
        _call,
        ("Tired after the long drive",),
    ),
    Write(
        "enrolment",
        lambda w: reverse("cohort:patient_new"),
        lambda w: w["patient"].site,
        _enrolment,
        ('value="Barbotine"', 'value="0.75"', 'value="2026-02-04"'),
    ),
    Write(
        "administration",
        lambda w: reverse("cohort:administration_add", args=[w["patient"].pk]),
        lambda w: w["patient"],
        lambda w: {
            "admin-date": "2026-02-03",
            "admin-route": "sc",
            "admin-dose_unit": "mg",
            "admin-dose_value": "37.5",
            "admin-days": "1",
        },
        ('value="37.5"', 'value="2026-02-03"'),
    ),
    Write(
        "administration correction",
        lambda w: reverse(
            "cohort:administration_edit", args=[w["patient"].pk, w["administration"].pk]
        ),
        lambda w: w["administration"],
        lambda w: {
            "date": "2026-01-05",
            "route": "iv",
            "dose_unit": "mg",
            "dose_value": "45",
            "days": "1",
            "reason": "Dose read from the wrong line",
        },
        ("Dose read from the wrong line", 'value="45"'),
    ),
    Write(
        "patient status",
        lambda w: reverse("cohort:patient_status", args=[w["patient"].pk]),
        lambda w: w["patient"],
        lambda w: {
            "status-status": "withdrawn",
            "status-date": "2026-02-05",
            "status-reason": "Moved to another region",
        },
        ("Moved to another region",),
    ),
    Write(
        "query answer",
        lambda w: reverse("quality:query_answer", args=[w["query"].pk]),
        lambda w: w["query"],
        lambda w: {"text": "The call was made on the fifth"},
        ("The call was made on the fifth",),
    ),
    Write(
        "query raised",
        lambda w: reverse("quality:query_raise", args=[w["call"].pk]),
        lambda w: w["call"],
        lambda w: {
            "target": f"call:{w['call'].pk}:nprs_mean",
            "kind": "out_of_range",
            "text": "Mean pain above the maximum?",
        },
        ('value="out_of_range" selected', "Mean pain above the maximum?"),
        persona="data_manager",
    ),
]


@pytest.mark.parametrize("write", WRITES, ids=[write.page for write in WRITES])
def test_a_refused_save_keeps_the_input_says_so_and_saves_when_tried_again(
    request, client, ward, write, caplog
):
    client.force_login(request.getfixturevalue(write.persona))
    url, data = write.url(ward), write.data(ward)
    before = table_sizes()
    caplog.set_level(logging.DEBUG)
    with write_lock_held_elsewhere(write.row(ward)):
        response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 503
    assert MESSAGE in page
    assert "your input is still here" in page
    for typed in write.shown:
        assert typed in page
    assert table_sizes() == before  # nothing saved, not even in part
    refusals = [r for r in caplog.records if r.name == "config.saves"]
    assert [r.levelname for r in refusals] == ["ERROR"]
    assert url in refusals[0].getMessage()
    for record in caplog.records:
        assert NAME not in record.getMessage()
        assert PHONE not in record.getMessage()

    again = client.post(url, data)
    assert again.status_code == 302, again.content.decode()[:2000]
    assert table_sizes() != before
