import pytest

from cohort.clinical import HardDeleteRefused
from cohort.models import Patient
from cohort.services import patient_set_status
from followup.models import FollowUpCall, HadsResponse
from followup.services import questionnaires_save
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


def test_every_change_keeps_who_when_what_and_why(patient_a, nurse_site_a, clinician_site_a):
    call = patient_a.calls.get(timepoint="M1")
    questionnaires_save(call=call, data=VALID, by=nurse_site_a, complete=True)
    call.refresh_from_db()
    questionnaires_save(
        call=call,
        data={**VALID, "hads_2": 3},
        by=clinician_site_a,
        reason="Patient corrected item 2 on callback",
    )
    records = list(HadsResponse.objects.get(call=call).history.order_by("history_date"))
    assert len(records) == 2
    first, second = records
    assert first.history_user == nurse_site_a
    assert second.history_user == clinician_site_a
    assert second.history_change_reason == "Patient corrected item 2 on callback"
    delta = second.diff_against(first)
    assert [change.field for change in delta.changes] == ["item_2"]
    # The derived subscore moves with its item: six items at 1 and item 2 at 3 give 9.
    assert (first.depression, second.depression) == (7, 9)


def test_enrolment_is_recorded_in_history(patient_a, nurse_site_a):
    record = patient_a.history.get()
    assert record.history_type == "+"
    assert record.history_user == nurse_site_a
    assert record.history_change_reason == "Enrolment"


def test_status_change_is_recorded(patient_a, nurse_site_a):
    import datetime as dt

    patient_set_status(
        patient=patient_a, status="lost", date=dt.date(2026, 6, 1), reason="No answer", by=None
    )
    latest = patient_a.history.latest()
    assert latest.status == "lost"
    assert latest.history_change_reason == "No answer"


def test_clinical_rows_cannot_be_hard_deleted(patient_a):
    with pytest.raises(HardDeleteRefused):
        patient_a.delete()
    with pytest.raises(HardDeleteRefused):
        FollowUpCall.objects.filter(patient=patient_a).delete()
    assert Patient.objects.filter(pk=patient_a.pk).exists()
