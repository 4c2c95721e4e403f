import pytest
from django.urls import reverse

from followup.services import questionnaires_save
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db

DEPRESSED = {**VALID, **{f"hads_{n}": 2 for n in range(2, 15, 2)}}  # HADS-D 14


def _complete(call, data, by):
    return questionnaires_save(call=call, data=data, by=by, complete=True)


def test_definite_depression_marks_the_call_for_review(patient_a, nurse_site_a):
    call = _complete(patient_a.calls.get(timepoint="M1"), DEPRESSED, nurse_site_a)
    assert call.needs_review
    assert call.review_reasons == ["depression"]


def test_pain_two_points_above_baseline_marks_the_call(patient_a, nurse_site_a):
    _complete(patient_a.calls.get(timepoint="BL"), {**VALID, "nprs_mean": 5}, nurse_site_a)
    same = _complete(patient_a.calls.get(timepoint="W1"), {**VALID, "nprs_mean": 6}, nurse_site_a)
    assert not same.needs_review
    worse = _complete(patient_a.calls.get(timepoint="M1"), {**VALID, "nprs_mean": 7}, nurse_site_a)
    assert worse.review_reasons == ["pain_rise"]


def test_a_draft_is_not_flagged(patient_a, nurse_site_a):
    call = patient_a.calls.get(timepoint="M1")
    call = questionnaires_save(call=call, data=DEPRESSED, by=nurse_site_a)
    assert not call.needs_review


def test_clinician_sees_flagged_calls_of_her_sites_and_marks_them_reviewed(
    client, clinician_site_a, nurse_site_a, nurse_site_b, patient_a, patient_b
):
    flagged = _complete(patient_a.calls.get(timepoint="M1"), DEPRESSED, nurse_site_a)
    _complete(patient_b.calls.get(timepoint="M1"), DEPRESSED, nurse_site_b)
    client.force_login(clinician_site_a)
    response = client.get(reverse("home"))
    assert [c.pk for c in response.context["flagged_calls"].object_list] == [flagged.pk]
    assert b"HADS depression 11 or more" in response.content
    response = client.post(reverse("followup:call_reviewed", args=[flagged.pk]))
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert not flagged.needs_review
    assert flagged.review_reasons == ["depression"]
    assert list(client.get(reverse("home")).context["flagged_calls"].object_list) == []


def test_clinician_of_other_site_cannot_mark_a_call_reviewed(
    client, clinician_site_a, nurse_site_b, patient_b
):
    call = _complete(patient_b.calls.get(timepoint="M1"), DEPRESSED, nurse_site_b)
    client.force_login(clinician_site_a)
    assert client.post(reverse("followup:call_reviewed", args=[call.pk])).status_code == 404


def test_nurse_cannot_mark_a_call_reviewed(client, nurse_site_a, patient_a):
    call = _complete(patient_a.calls.get(timepoint="M1"), DEPRESSED, nurse_site_a)
    client.force_login(nurse_site_a)
    assert client.post(reverse("followup:call_reviewed", args=[call.pk])).status_code == 403
