"""The API accepts and returns the reason of every blank questionnaire item."""

import pytest

from followup.models import HadsResponse
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


def _put(client, call, **data):
    return client.put(f"/api/v1/calls/{call.pk}/questionnaires/", data, format="json")


def test_item_reasons_make_a_round_trip_through_the_api(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client = api("nurse_site_a")
    sent = {
        **VALID,
        "hads_3": None,
        "hads_3_missing_reason": "refused",
        "nprs_max": None,
        "nprs_max_missing_reason": "not_asked",
    }
    response = _put(client, call, **sent, version=call.version, complete=True)
    assert response.status_code == 200, response.content
    answers = client.get(f"/api/v1/calls/{call.pk}/").json()["questionnaires"]
    assert answers["hads_3"] is None
    assert answers["hads_3_missing_reason"] == "refused"
    assert answers["nprs_max_missing_reason"] == "not_asked"
    assert answers["hads_4_missing_reason"] == ""
    assert answers["hads_anxiety"] is not None, "the prorated score keeps its value"
    assert HadsResponse.objects.get(call=call).item_reasons == {"hads_3": "refused"}


def test_completing_a_blank_item_without_reason_is_a_400_naming_the_item(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    response = _put(
        api("nurse_site_a"), call, **{**VALID, "sf12_vt2": None}, version=1, complete=True
    )
    assert response.status_code == 400
    assert list(response.json()) == ["sf12_vt2"]


def test_an_unknown_reason_is_a_400(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    sent = {**VALID, "hads_3": None, "hads_3_missing_reason": "999"}
    response = _put(api("nurse_site_a"), call, **sent, version=1, complete=True)
    assert response.status_code == 400
    assert "hads_3_missing_reason" in response.json()
