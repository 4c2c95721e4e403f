"""Wherever a person reads, vocabulary codes are shown as labels (the analysis pages aside)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.urls import reverse

from cohort import vocabulary as voc
from cohort.services import administration_record
from followup.services import call_save
from quality import rules
from quality.services import rules_run
from tests.factories import enrol
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db

# The codes a reader would not understand: those that are not words themselves.
CODES = sorted(
    {
        code
        for vocabulary in (
            voc.ADVERSE_EFFECTS,
            voc.DRUG_CLASSES,
            voc.NON_DRUG_TREATMENTS,
            voc.ATTEMPT_OUTCOMES,
            voc.CALL_STATUSES,
            voc.MISSING_REASONS,
            voc.ETIOLOGIES,
            voc.REVIEW_REASONS,
        )
        for code in voc.codes(vocabulary)
        if "_" in code
    }
    | set(rules.RULE_LABELS)
    | {"call_date", "nprs_mean"}
)


def _visible(html: bytes) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    return soup.get_text(" ")


@time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
def test_pages_show_labels_not_codes(client, site_a, nurse_site_a, data_manager, clinician_site_a):
    patient = enrol(site_a, by=nurse_site_a)
    administration_record(
        patient=patient, date=dt.date(2026, 1, 5), route="iv", dose_unit="mg",
        dose_value=Decimal(40), by=nurse_site_a,
    )  # fmt: skip
    w1 = patient.calls.get(timepoint="W1")
    call_save(
        call=w1, data={**VALID, "hads_2": 3, "hads_4": 3, "hads_6": 3}, by=nurse_site_a,
        complete=True, call_date=dt.date(2026, 2, 20),  # outside its window: a finding
        adverse_events=[{"type": "dissociation_hallucination", "severity": "mild"}],
        treatments=[{"kind": "drug", "code": "paracetamol_or_nsaid", "name": "Doliprane"}],
    )  # fmt: skip
    from followup.services import call_record_attempt

    call_record_attempt(
        call=patient.calls.get(timepoint="M1"), outcome="no_answer", by=nurse_site_a
    )
    assert rules_run()["raised"] >= 1
    pages = {
        "nurse_site_a": [
            reverse("home"),
            reverse("followup:call_entry", args=[w1.pk]),
            reverse("followup:call_history", args=[w1.pk]),
            reverse("cohort:patient_detail", args=[patient.pk]),
            reverse("cohort:patient_history", args=[patient.pk]),
            reverse("cohort:patient_timeline", args=[patient.pk]),
            reverse("quality:query_list"),
        ],
        "clinician_site_a": [reverse("home")],
        "data_manager": [reverse("home"), reverse("quality:query_list")],
    }
    pages["data_manager"] += [
        reverse("quality:query_detail", args=[query.pk]) for query in w1.queries.all()
    ]
    shown = {}
    for persona, urls in pages.items():
        client.force_login({"nurse_site_a": nurse_site_a, "clinician_site_a": clinician_site_a,
                            "data_manager": data_manager}[persona])  # fmt: skip
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            text = _visible(response.content)
            found = [code for code in CODES if code in text]
            if found:
                shown[url] = found
    assert shown == {}
