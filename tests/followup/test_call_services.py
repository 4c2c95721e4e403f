import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.models import HadsResponse, NprsResponse, Sf12Response
from followup.services import StaleCallError, call_record_attempt, questionnaires_save
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


def test_completing_a_call_stores_items_and_derives_scores(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    questionnaires_save(
        call=call,
        data=VALID,
        by=nurse_site_a,
        expected_version=call.version,
        complete=True,
        call_date=dt.date(2026, 2, 5),
    )
    call.refresh_from_db()
    assert call.status == "reached"
    assert call.completed_by == nurse_site_a
    hads = HadsResponse.objects.get(call=call)
    # Seven items answered 1 per subscale.
    assert (hads.anxiety, hads.depression) == (7, 7)
    assert Sf12Response.objects.get(call=call).pcs is not None


def test_one_missing_hads_item_is_prorated(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M2")
    data = {**VALID, "hads_1": None, "hads_3": 3}
    questionnaires_save(call=call, data=data, by=nurse_site_a)
    hads = HadsResponse.objects.get(call=call)
    # Anxiety items 3,5,7,9,11,13 = 3+1+1+1+1+1 = 8; 8 x 7/6 = 9.33 -> 9.
    assert hads.anxiety == 9


def test_a_saved_draft_is_updated_in_place_its_answers_read_in_one_statement(
    patient_a, nurse_site_a
):
    call = patient_a.calls.get(timepoint="M2")
    questionnaires_save(call=call, data=VALID, by=nurse_site_a)
    first = {model: model.objects.get(call=call).pk for model in (NprsResponse, HadsResponse)}
    with CaptureQueriesContext(connection) as asked:
        questionnaires_save(call=call, data={**VALID, "nprs_mean": 2}, by=nurse_site_a)
    reads = [
        q["sql"]
        for q in asked.captured_queries
        if q["sql"].startswith("SELECT") and "_nprsresponse" in q["sql"]
    ]
    (read,) = reads
    assert "_hadsresponse" in read
    assert "_sf12response" in read
    assert {model: model.objects.get(call=call).pk for model in first} == first
    assert NprsResponse.objects.get(call=call).mean == 2
    assert HadsResponse.objects.get(call=call).history.count() == 2


def test_a_second_save_on_a_stale_version_is_refused(patient_a, nurse_site_a, clinician_site_a):
    call = patient_a.calls.get(timepoint="M3")
    loaded_version = call.version
    questionnaires_save(call=call, data=VALID, by=nurse_site_a, expected_version=loaded_version)
    with pytest.raises(StaleCallError, match="changed by someone else"):
        questionnaires_save(
            call=call,
            data={**VALID, "nprs_mean": 2, "nprs_max": 3},
            by=clinician_site_a,
            expected_version=loaded_version,
        )


def test_invalid_answers_write_nothing(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M4")
    with pytest.raises(ValidationError) as caught:
        questionnaires_save(call=call, data={**VALID, "hads_4": 5, "sf12_sf2": 6}, by=None)
    assert {"hads_4", "sf12_sf2"} <= set(caught.value.message_dict)
    assert not HadsResponse.objects.filter(call=call).exists()
    call.refresh_from_db()
    assert call.version == 1


def test_editing_a_completed_call_needs_a_reason(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M5")
    questionnaires_save(call=call, data=VALID, by=nurse_site_a, complete=True)
    call.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        questionnaires_save(call=call, data=VALID, by=nurse_site_a)
    assert "reason" in caught.value.message_dict


def test_unreached_attempt_leaves_the_call_due(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="W1")
    call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
    call.refresh_from_db()
    assert call.status == "due"
    assert call.attempts.count() == 1


def test_refusal_closes_the_call(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="W1")
    call_record_attempt(call=call, outcome="refused", by=nurse_site_a, note="Too tired")
    call.refresh_from_db()
    assert call.status == "refused"
