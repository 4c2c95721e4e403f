"""Every blank questionnaire item of a completed call carries why, stored apart from the value."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from followup.forms import QuestionnaireForm
from followup.instruments import missing
from followup.models import HadsResponse, NprsResponse, Sf12Response
from followup.services import questionnaires_save
from followup.validators import missing_reason_errors, questionnaire_errors
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db

WITHOUT_HADS_3 = {**VALID, "hads_3": None}


@pytest.fixture(autouse=True)
def _on_the_day_of_m1():
    with time_machine.travel(dt.datetime(2026, 2, 5, 10, 0, tzinfo=dt.UTC)):
        yield


# -- the rule, written once --------------------------------------------------------------------
def test_completing_with_a_blank_item_and_no_reason_is_refused_beside_the_item():
    errors = questionnaire_errors(WITHOUT_HADS_3, complete=True)
    assert set(errors) == {"hads_3"}
    assert "why it is missing" in errors["hads_3"]


def test_a_draft_may_leave_an_item_blank_without_a_reason():
    assert questionnaire_errors(WITHOUT_HADS_3, complete=False) == {}


def test_an_item_reason_explains_its_blank_item():
    data = {**WITHOUT_HADS_3, "hads_3_missing_reason": "refused"}
    assert questionnaire_errors(data, complete=True) == {}


def test_the_instrument_reason_explains_every_blank_item():
    data = {**VALID, "sf12_gh1": None, "sf12_mh4": None, "sf12_missing_reason": "not_asked"}
    assert missing_reason_errors(data, complete=True) == {}


def test_a_reason_for_an_answered_item_is_refused():
    errors = missing_reason_errors({**VALID, "hads_4_missing_reason": "refused"})
    assert set(errors) == {"hads_4_missing_reason"}


def test_an_instrument_reason_with_nothing_blank_is_refused():
    errors = missing_reason_errors({**VALID, "nprs_missing_reason": "refused"})
    assert set(errors) == {"nprs_missing_reason"}


def test_an_unknown_reason_code_is_refused():
    errors = missing_reason_errors({**WITHOUT_HADS_3, "hads_3_missing_reason": "-99"})
    assert set(errors) == {"hads_3_missing_reason"}


def test_blank_pain_needs_a_reason_rather_than_a_value():
    data = {**VALID, "nprs_mean": None, "nprs_max": None}
    assert set(questionnaire_errors(data, complete=True)) == {"nprs_mean", "nprs_max"}
    assert questionnaire_errors({**data, "nprs_missing_reason": "refused"}, complete=True) == {}


# -- pure derivations ---------------------------------------------------------------------------
def test_a_missing_score_takes_the_reason_most_of_its_blank_items_share():
    reasons = {"hads_1": "refused", "hads_3": "not_asked", "hads_5": "refused"}
    assert missing.score_reason("hads_a", reasons, "") == "refused"
    assert missing.score_reason("hads_d", reasons, "lost") == "lost"


def test_ties_between_reasons_follow_the_vocabulary_order():
    assert missing.summary_reason(["refused", "not_asked"]) == "not_asked"


@pytest.mark.parametrize(
    ("call_status", "patient_status", "reason"),
    [
        ("unreachable", "active", "unreachable"),
        ("refused", "active", "refused"),
        ("withdrawn", "withdrawn", "refused"),
        ("closed", "lost", "lost"),
        ("closed", "withdrawn", "refused"),
        ("closed", "deceased", "not_applicable"),
        ("reached", "active", None),
        ("due", "active", None),
    ],
)
def test_calls_not_made_get_their_reason_from_the_call_and_the_patient(
    call_status, patient_status, reason
):
    assert missing.call_reason(call_status, patient_status) == reason


# -- the service --------------------------------------------------------------------------------
def test_the_service_stores_each_blank_items_reason_apart_from_the_value(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    data = {
        **VALID,
        "hads_3": None,
        "hads_3_missing_reason": "refused",
        "sf12_gh1": None,
        "sf12_mh4": None,
        "sf12_missing_reason": "not_asked",
        "sf12_mh4_missing_reason": "not_applicable",
    }
    questionnaires_save(call=call, data=data, by=nurse_site_a, complete=True)
    hads_row = HadsResponse.objects.get(call=call)
    assert hads_row.item_3 is None
    assert hads_row.item_reasons == {"hads_3": "refused"}
    assert hads_row.anxiety is not None, "one blank item per subscale is prorated"
    sf12_row = Sf12Response.objects.get(call=call)
    assert sf12_row.item_reasons == {"sf12_gh1": "not_asked", "sf12_mh4": "not_applicable"}
    assert sf12_row.missing_reason == ""
    assert NprsResponse.objects.get(call=call).item_reasons == {}


def test_a_wholly_absent_instrument_keeps_its_reason_for_each_item(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    data = {k: v for k, v in VALID.items() if not k.startswith("hads")}
    questionnaires_save(
        call=call,
        data={**data, "hads_missing_reason": "refused"},
        by=nurse_site_a,
        complete=True,
    )
    row = HadsResponse.objects.get(call=call)
    assert row.missing_reason == "refused"
    assert set(row.item_reasons) == set(missing.HADS_FIELDS)


def test_the_service_refuses_a_blank_item_without_a_reason(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    with pytest.raises(ValidationError) as caught:
        questionnaires_save(call=call, data=WITHOUT_HADS_3, by=nurse_site_a, complete=True)
    assert "hads_3" in caught.value.message_dict
    call.refresh_from_db()
    assert call.status == "due"


def test_the_history_keeps_who_changed_a_reason_and_why(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    first = {**WITHOUT_HADS_3, "hads_3_missing_reason": "not_asked"}
    questionnaires_save(call=call, data=first, by=nurse_site_a, complete=True)
    second = {**WITHOUT_HADS_3, "hads_3_missing_reason": "refused"}
    questionnaires_save(call=call, data=second, by=nurse_site_a, reason="Patient said so on recall")
    history = HadsResponse.objects.get(call=call).history.order_by("history_date")
    assert [h.item_reasons for h in history] == [{"hads_3": "not_asked"}, {"hads_3": "refused"}]
    assert history.last().history_change_reason == "Patient said so on recall"
    assert history.last().history_user == nurse_site_a


def test_the_model_refuses_a_reason_for_an_answered_item(patient_a):
    row = HadsResponse(call=patient_a.calls.get(timepoint="BL"), item_3=2)
    row.item_reasons = {"hads_3": "refused"}
    with pytest.raises(ValidationError):
        row.full_clean()


# -- the form and the page ----------------------------------------------------------------------
def test_the_form_puts_the_problem_beside_the_blank_item():
    form = QuestionnaireForm(
        data={k: v for k, v in WITHOUT_HADS_3.items() if v is not None}, complete=True
    )
    assert not form.is_valid()
    assert list(form.errors) == ["hads_3"]


def _post(call, **extra):
    data = {"version": call.version, "action": "save", "outcome": "reached"}
    data.update({k: "" if v is None else str(v) for k, v in VALID.items()})
    data["call_date"] = "2026-02-05"
    data.update(extra)
    return data


def test_the_call_page_shows_the_error_beside_the_item_and_keeps_the_input(
    client, nurse_site_a, patient_a
):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_a)
    url = reverse("followup:call_entry", args=[call.pk])
    response = client.post(
        url, _post(call, hads_3="", sf12_gh1="", sf12_gh1_missing_reason="refused")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_hads_3_error"' in page
    assert 'href="#id_hads_3_0"' in page
    kept = page.split('name="sf12_gh1_missing_reason"')[1].split("</select>")[0]
    assert '<option value="refused" selected>' in kept, "the reason given is kept"
    assert 'name="sf12_pf02" value="2"' in page
    call.refresh_from_db()
    assert call.status == "due"


def test_the_call_page_completes_with_a_reason_and_shows_it_again(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_a)
    url = reverse("followup:call_entry", args=[call.pk])
    response = client.post(url, _post(call, hads_3="", hads_3_missing_reason="not_asked"))
    assert response.status_code == 302
    assert HadsResponse.objects.get(call=call).item_reasons == {"hads_3": "not_asked"}
    page = client.get(url).content.decode()
    select = page.split('name="hads_3_missing_reason"')[1].split("</select>")[0]
    assert '<option value="not_asked" selected>' in select
