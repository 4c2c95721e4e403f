"""The schedule's writes (followup.scheduling), asked for by the cohort's services by signal."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from cohort import services as cohort_services
from cohort import signals
from cohort.models import KetamineAdministration, Patient
from cohort.services import administration_record, patient_set_status
from followup.models import FollowUpCall
from followup.scheduling import _on_enrolled
from followup.services import schedule_create
from tests.factories import enrol

pytestmark = pytest.mark.django_db


def _targets(patient):
    return dict(patient.calls.values_list("timepoint", "target_date"))


def test_enrolment_creates_the_baseline_and_the_schedule_in_its_transaction(site_a, nurse_site_a):
    patient = enrol(site_a, by=nurse_site_a, first_administration_date=dt.date(2026, 1, 8))
    targets = _targets(patient)
    assert targets["BL"] == dt.date(2026, 1, 5)  # the inclusion date
    assert targets["W1"] == dt.date(2026, 1, 15)
    assert targets["M12"] == dt.date(2027, 1, 8)
    assert len(targets) == 14
    reasons = set(FollowUpCall.history.values_list("history_change_reason", flat=True))
    assert reasons == {"Schedule created at enrolment"}


@pytest.fixture
def enrolled_without_calls(site_a, nurse_site_a):
    """A patient enrolled while the follow-up's receiver was replaced by one doing nothing."""
    signals.patient_enrolled.disconnect(sender=Patient, dispatch_uid="followup_schedule_create")
    signals.patient_enrolled.connect(_nothing, sender=Patient, dispatch_uid="nothing")
    try:
        return enrol(site_a, by=nurse_site_a)
    finally:
        signals.patient_enrolled.disconnect(sender=Patient, dispatch_uid="nothing")
        signals.patient_enrolled.connect(
            _on_enrolled, sender=Patient, dispatch_uid="followup_schedule_create"
        )


def _nothing(sender, **kwargs):
    return 0


def test_the_service_creates_what_the_enrolment_creates(
    enrolled_without_calls, site_a, nurse_site_a
):
    patient = enrolled_without_calls
    assert not patient.calls.exists()
    created = schedule_create(patient, dt.date(2026, 1, 8), by=nurse_site_a, reason="Imported")
    assert [call.timepoint for call in created][:3] == ["BL", "W1", "M1"]
    other = enrol(site_a, by=nurse_site_a, first_administration_date=dt.date(2026, 1, 8))
    assert _targets(patient) == _targets(other)
    reasons = set(
        patient.calls.model.history.filter(patient_id=patient.pk).values_list(
            "history_change_reason", flat=True
        )
    )
    assert reasons == {"Imported"}


def test_without_the_follow_up_listening_an_enrolment_is_refused(site_a, nurse_site_a):
    signals.patient_enrolled.disconnect(sender=Patient, dispatch_uid="followup_schedule_create")
    try:
        with pytest.raises(ImproperlyConfigured, match="schedule"):
            enrol(site_a, by=nurse_site_a)
    finally:
        signals.patient_enrolled.connect(
            _on_enrolled, sender=Patient, dispatch_uid="followup_schedule_create"
        )
    assert not Patient.objects.exists()


def test_a_refused_move_refuses_the_administration_that_caused_it(
    settings, patient_a, nurse_site_a
):
    settings.STUDY_END = dt.date(2026, 6, 30)
    targets = _targets(patient_a)
    with pytest.raises(ValidationError) as refused:
        administration_record(
            patient=patient_a,
            date=dt.date(2026, 1, 10),
            route="iv",
            dose_unit="mg",
            dose_value=Decimal("50"),
            by=nurse_site_a,
        )
    assert "end of the study" in refused.value.message_dict["date"][0]
    assert not KetamineAdministration.objects.filter(patient=patient_a).exists()
    assert _targets(patient_a) == targets


def test_the_importers_names_move_the_calls_and_count_them(patient_a, nurse_site_a):
    KetamineAdministration.objects.create(
        patient=patient_a, date=dt.date(2026, 1, 9), route="iv", dose_unit="mg",
        dose_value=Decimal("30"), weight_kg=Decimal("70"), dose_mg=Decimal("30"),
        total_mg=Decimal("30"),
    )  # fmt: skip
    assert cohort_services.reschedule_open_calls(patient=patient_a, by=nurse_site_a) == 13
    assert _targets(patient_a)["W1"] == dt.date(2026, 1, 16)
    assert cohort_services.reschedule_open_calls(patient=patient_a, by=nurse_site_a) == 0


def test_leaving_the_follow_up_closes_the_calls_not_yet_made(patient_a, nurse_site_a):
    patient_set_status(
        patient=patient_a,
        status="withdrawn",
        date=dt.date(2026, 2, 1),
        reason="Moved away",
        by=nurse_site_a,
    )
    statuses = set(patient_a.calls.values_list("status", flat=True))
    assert statuses == {"closed"}
    reason = patient_a.calls.get(timepoint="M1").status_reason
    assert reason.endswith("on 2026-02-01: Moved away")
