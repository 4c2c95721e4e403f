"""One limit on a typed reason, from the history to the forms and serializers; history keeps the
author's name as it was at the change."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cohort.audit import patient_trail
from cohort.clinical import REASON_MAX_LENGTH
from cohort.models import Patient
from followup.services import call_mark_reviewed

pytestmark = pytest.mark.django_db

LONG = "x" * (REASON_MAX_LENGTH + 1)
LONGEST = "y" * REASON_MAX_LENGTH


def _status_url(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}/status/"


def test_the_api_refuses_a_reason_over_the_limit_with_a_field_error(
    client, clinician_site_a, patient_a
):
    client.force_login(clinician_site_a)
    today = timezone.localdate().isoformat()
    refused = client.post(
        _status_url(patient_a),
        {"status": "withdrawn", "date": today, "reason": LONG},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "reason" in refused.json()
    assert Patient.objects.get(pk=patient_a.pk).status == "active"


def test_the_longest_reason_is_kept_whole_in_the_history(client, clinician_site_a, patient_a):
    client.force_login(clinician_site_a)
    today = timezone.localdate().isoformat()
    saved = client.post(
        _status_url(patient_a),
        {"status": "withdrawn", "date": today, "reason": LONGEST},
        content_type="application/json",
    )
    assert saved.status_code == 200, saved.content[:300]
    row = Patient.objects.get(pk=patient_a.pk).history.latest("history_date")
    assert row.history_change_reason == LONGEST


def test_the_page_refuses_a_reason_over_the_limit_and_keeps_the_input(
    client, clinician_site_a, patient_a
):
    client.force_login(clinician_site_a)
    response = client.post(
        reverse("cohort:patient_status", args=[patient_a.pk]),
        {
            "status-status": "withdrawn",
            "status-date": timezone.localdate().isoformat(),
            "status-reason": LONG,
        },
    )
    assert response.status_code == 400
    assert LONG in response.content.decode()  # the input is kept
    assert Patient.objects.get(pk=patient_a.pk).status == "active"


def test_a_review_note_near_the_limit_is_saved_with_the_words_the_service_adds(
    clinician_site_a, patient_a
):
    call = patient_a.calls.get(timepoint="W1")
    note = "n" * (REASON_MAX_LENGTH - 5)
    call_mark_reviewed(call=call, by=clinician_site_a, note=note)
    row = call.history.latest("history_date")
    assert row.history_change_reason.endswith(note)
    assert len(row.history_change_reason) > REASON_MAX_LENGTH
    with pytest.raises(ValidationError) as refused:
        call_mark_reviewed(call=call, by=clinician_site_a, note=LONG)
    assert "note" in refused.value.message_dict


def test_history_keeps_the_name_of_the_author_as_it_was(nurse_site_a, patient_a):
    nurse_site_a.first_name, nurse_site_a.last_name = "Nora", "Before"
    nurse_site_a.save()
    patient_a.weight_kg = 83
    patient_a._change_reason = "weighed"
    patient_a._history_user = nurse_site_a
    patient_a.save()
    nurse_site_a.first_name, nurse_site_a.last_name = "Nora", "After"
    nurse_site_a.save()
    patient_a.weight_kg = 84
    patient_a._change_reason = "weighed again"
    patient_a._history_user = nurse_site_a
    patient_a.save()
    authors = {entry.reason: entry.who for entry in patient_trail(patient_a, identifiers=True)}
    assert authors["weighed"] == "Nora Before"
    assert authors["weighed again"] == "Nora After"


def test_a_row_from_before_the_name_was_kept_shows_the_username(nurse_site_a, patient_a):
    patient_a.history.update(history_user_name="")
    nurse_site_a.first_name = "Renamed"
    nurse_site_a.save()
    whos = {entry.who for entry in patient_trail(patient_a, identifiers=True)}
    assert nurse_site_a.username in whos
    assert not any("Renamed" in who for who in whos)
