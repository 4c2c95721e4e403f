"""The MADRS and the SF-MPQ rated at a patient's visits: services, model, database, form, page.

Scores are the pure scorers' (``followup.instruments``): these tests feed worked examples and
check that what is stored and shown is theirs. Ranges are refused three times: by the form,
by the model's validators, and by the database (a raw write that bypasses both).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from cohort.services import patient_lock
from followup import services, visits
from followup.assessment_forms import MadrsForm, SfMpqForm
from followup.audit import assessments_trail
from followup.instruments import madrs
from followup.models import MadrsAssessment, SfMpqAssessment
from tests.factories import SiteFactory, enrol, finish_follow_up_after_ketamine
from tests.followup.test_questionnaire_validation import VALID
from trials import definitions

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_a(lan_study):
    """Site A takes part in the second study, which rates the MADRS and the SF-MPQ."""
    return SiteFactory(code="SA", name="Psychiatry A", study=lan_study)


@pytest.fixture
def site_b(lan_study):
    return SiteFactory(code="SB", name="Psychiatry B", study=lan_study)


DAY = dt.date(2026, 2, 2)
MADRS_VISITS = visits.visits_rating(definitions.load("lan2022"), visits.MADRS)
SF_MPQ_VISITS = visits.visits_rating(definitions.load("lan2022"), visits.SF_MPQ)

# Worked example: 4+4+3+4+2+3+3+4+3+2 = 32 (moderate); later 2+1+1+2+1+1+1+2+1+0 = 12, a fall
# of 20/32 = 62.5%: a response (>= 50%), not a remission (> 10).
BASELINE = dict(
    zip((f"madrs_{n}" for n in range(1, 11)), (4, 4, 3, 4, 2, 3, 3, 4, 3, 2), strict=True)
)
LATER = dict(zip((f"madrs_{n}" for n in range(1, 11)), (2, 1, 1, 2, 1, 1, 1, 2, 1, 0), strict=True))
# Sensory 1..11: 2,1,0,3,1,0,2,1,0,1,2 = 13; affective 12..15: 1,2,0,3 = 6; total 19.
SF_MPQ = {f"sf_mpq_{n}": v for n, v in enumerate((2, 1, 0, 3, 1, 0, 2, 1, 0, 1, 2, 1, 2, 0, 3), 1)}
SF_MPQ |= {"sf_mpq_vas": 64, "sf_mpq_ppi": 3}


def lock(patient, *, nurse, data_manager):
    """End the patient's follow-up, then lock it."""
    finish_follow_up_after_ketamine(patient, by=nurse, answers=VALID)
    patient_lock(patient=patient, by=data_manager)


@pytest.fixture(autouse=True)
def _on_a_day_of_the_study():
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)):
        yield


def record_madrs(patient, by, visit="BL", ratings=None, **overrides):
    values = {
        "model": MadrsAssessment,
        "patient": patient,
        "visit_code": visit,
        "assessed_on": DAY,
        "data": (ratings or BASELINE) | {"rater": "JD"},
        "allowed_visits": MADRS_VISITS,
        "by": by,
    }
    return services.assessment_record(**(values | overrides))


def record_sf_mpq(patient, by, data=None):
    return services.assessment_record(
        model=SfMpqAssessment,
        patient=patient,
        visit_code="BL",
        assessed_on=DAY,
        data=data or SF_MPQ,
        allowed_visits=SF_MPQ_VISITS,
        by=by,
    )


# Worked examples: the stored scores are the pure scorers'.


def test_a_recorded_madrs_stores_the_total_of_its_ten_ratings(patient_a, nurse_site_a):
    assessment = record_madrs(patient_a, nurse_site_a)
    assessment.refresh_from_db()
    assert assessment.total == 32 == madrs.total({n: BASELINE[f"madrs_{n}"] for n in range(1, 11)})
    assert (assessment.rater, assessment.version) == ("JD", 1)


def test_response_and_remission_come_from_the_scale_rules(patient_a, nurse_site_a):
    record_madrs(patient_a, nurse_site_a)
    later = record_madrs(patient_a, nurse_site_a, visit="D12", ratings=LATER)
    assert later.total == 12
    assert later.response(32) is True
    assert later.remission() is False
    assert later.response(32) == madrs.response(32, 12)
    # 25 -> 12 is a fall of 52%: still a response; 23 -> 12 (48%) is not.
    assert (later.response(25), later.response(23)) == (True, False)


def test_a_madrs_with_a_blank_item_has_no_total(patient_a, nurse_site_a):
    ratings = BASELINE | {"madrs_7": None}
    assert record_madrs(patient_a, nurse_site_a, ratings=ratings).total is None


def test_a_recorded_sf_mpq_stores_its_sensory_affective_and_total_scores(patient_a, nurse_site_a):
    assessment = record_sf_mpq(patient_a, nurse_site_a)
    assessment.refresh_from_db()
    assert (assessment.sensory, assessment.affective, assessment.total) == (13, 6, 19)
    assert (assessment.vas_mm, assessment.ppi) == (64, 3)


# The visit code is the caller's to allow.


def test_a_visit_that_is_not_allowed_is_refused_with_the_allowed_ones(patient_a, nurse_site_a):
    with pytest.raises(ValidationError) as refused:
        record_madrs(patient_a, nurse_site_a, visit="M3")
    message = refused.value.message_dict["visit_code"][0]
    assert "M3" in message
    assert "BL, D1" in message
    with pytest.raises(ValidationError):
        record_madrs(patient_a, nurse_site_a, visit="BL", allowed_visits=("D26",))
    assert not MadrsAssessment.objects.exists()


def test_the_sf_mpq_is_refused_at_a_visit_where_it_is_not_collected(patient_a, nurse_site_a):
    with pytest.raises(ValidationError) as refused:
        services.assessment_record(
            model=SfMpqAssessment,
            patient=patient_a,
            visit_code="D26",
            assessed_on=DAY,
            data=SF_MPQ,
            allowed_visits=SF_MPQ_VISITS,
            by=nurse_site_a,
        )
    assert "visit_code" in refused.value.message_dict


# Ranges: the service (shared validators), the model's validators, the database.


@pytest.mark.parametrize(("field", "value"), [("madrs_3", 7), ("madrs_10", -1), ("madrs_1", "4.5")])
def test_the_service_refuses_a_madrs_rating_out_of_range(patient_a, nurse_site_a, field, value):
    with pytest.raises(ValidationError) as refused:
        record_madrs(patient_a, nurse_site_a, ratings=BASELINE | {field: value})
    assert field in refused.value.message_dict
    assert not MadrsAssessment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("sf_mpq_4", 4), ("sf_mpq_vas", 101), ("sf_mpq_ppi", 6)]
)
def test_the_service_refuses_an_sf_mpq_answer_out_of_range(patient_a, nurse_site_a, field, value):
    with pytest.raises(ValidationError) as refused:
        record_sf_mpq(patient_a, nurse_site_a, data=SF_MPQ | {field: value})
    assert field in refused.value.message_dict


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (MadrsAssessment, "item_3", 7),
        (SfMpqAssessment, "descriptor_15", 4),
        (SfMpqAssessment, "vas_mm", 101),
        (SfMpqAssessment, "ppi", 6),
    ],
)
def test_the_model_validators_refuse_a_value_out_of_range(patient_a, model, field, value):
    row = model(patient=patient_a, visit_code="BL", assessed_on=DAY)
    for name, given in (("rater", "JD"), (field, value)):
        setattr(row, name, given)
    with pytest.raises(ValidationError) as refused:
        row.full_clean(validate_constraints=False)
    assert field in refused.value.message_dict


def _raw_update(table: str, column: str, value: object, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])


@pytest.mark.parametrize(
    ("column", "value"), [("item_3", 7), ("total", 61), ("assessed_on", dt.date(1999, 12, 31))]
)
def test_the_database_refuses_a_madrs_value_out_of_range(patient_a, nurse_site_a, column, value):
    row = record_madrs(patient_a, nurse_site_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_update(MadrsAssessment._meta.db_table, column, value, row.pk)


@pytest.mark.parametrize(
    ("column", "value"), [("descriptor_1", 4), ("vas_mm", 101), ("ppi", 6), ("affective", 13)]
)
def test_the_database_refuses_an_sf_mpq_value_out_of_range(patient_a, nurse_site_a, column, value):
    row = record_sf_mpq(patient_a, nurse_site_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_update(SfMpqAssessment._meta.db_table, column, value, row.pk)


def test_the_database_refuses_a_second_live_assessment_of_a_visit(patient_a, nurse_site_a):
    record_madrs(patient_a, nurse_site_a)
    duplicate = MadrsAssessment(
        patient=patient_a, visit_code="BL", assessed_on=DAY, rater="JD", item_1=1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_future_date_or_one_before_consent_is_refused(patient_a, nurse_site_a):
    for day in (dt.date(2026, 3, 3), dt.date(2026, 1, 4)):
        with pytest.raises(ValidationError) as refused:
            record_madrs(patient_a, nurse_site_a, assessed_on=day)
        assert "assessed_on" in refused.value.message_dict


def test_a_madrs_without_a_rater_or_any_rating_is_refused(patient_a, nurse_site_a):
    with pytest.raises(ValidationError) as refused:
        record_madrs(patient_a, nurse_site_a, data={"rater": " "} | dict.fromkeys(BASELINE))
    assert {"rater", "madrs_1"} <= set(refused.value.message_dict)


# Double submission, stale writes, corrections, locks, history.


def test_a_second_submission_for_the_same_visit_is_refused(patient_a, nurse_site_a):
    record_madrs(patient_a, nurse_site_a)
    with pytest.raises(ValidationError) as refused:
        record_madrs(patient_a, nurse_site_a, ratings=LATER)
    assert "edit it instead" in refused.value.message_dict["visit_code"][0]
    assert MadrsAssessment.objects.get().total == 32


def test_a_correction_needs_a_reason_and_writes_a_history_row(patient_a, nurse_site_a):
    row = record_madrs(patient_a, nurse_site_a)
    with pytest.raises(ValidationError) as refused:
        services.assessment_update(
            assessment=row, assessed_on=DAY, data=LATER | {"rater": "JD"}, by=nurse_site_a,
            reason="  ", expected_version=1,
        )  # fmt: skip
    assert "reason" in refused.value.message_dict
    services.assessment_update(
        assessment=row, assessed_on=DAY, data=BASELINE | {"madrs_1": 5, "rater": "JD"},
        by=nurse_site_a, reason="Item 1 misread", expected_version=1,
    )  # fmt: skip
    row.refresh_from_db()
    assert (row.item_1, row.total, row.version) == (5, 33, 2)
    latest = row.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (nurse_site_a, "Item 1 misread")
    trail = assessments_trail(patient_a, identifiers=True)
    change = next(e for e in trail if e.reason == "Item 1 misread")
    assert change.what == "MADRS · visit BL"
    assert any(c.old == "4" and c.new == "5" for c in change.changes)


def test_a_correction_over_a_newer_version_is_refused(patient_a, nurse_site_a):
    row = record_madrs(patient_a, nurse_site_a)
    data = BASELINE | {"rater": "JD", "madrs_2": 5}
    services.assessment_update(
        assessment=row, assessed_on=DAY, data=data, by=nurse_site_a, reason="First",
        expected_version=1,
    )  # fmt: skip
    with pytest.raises(services.StaleAssessmentError):
        services.assessment_update(
            assessment=row, assessed_on=DAY, data=BASELINE | {"rater": "JD"},
            by=nurse_site_a, reason="Second", expected_version=1,
        )  # fmt: skip
    row.refresh_from_db()
    assert (row.item_2, row.version) == (5, 2)


def test_a_locked_patient_refuses_recording_and_correcting(patient_a, nurse_site_a, data_manager):
    row = record_madrs(patient_a, nurse_site_a)
    lock(patient_a, nurse=nurse_site_a, data_manager=data_manager)
    with pytest.raises(ValidationError, match="locked"):
        record_sf_mpq(patient_a, nurse_site_a)
    with pytest.raises(ValidationError, match="locked"):
        services.assessment_update(
            assessment=row, assessed_on=DAY, data=LATER | {"rater": "JD"}, by=nurse_site_a,
            reason="Late change", expected_version=1,
        )  # fmt: skip
    assert not SfMpqAssessment.objects.exists()
    assert MadrsAssessment.objects.get().total == 32


def test_the_lock_is_checked_before_the_input(patient_a, nurse_site_a, data_manager):
    """A locked follow-up is refused as such, whatever was typed: nothing else to fix."""
    row = record_madrs(patient_a, nurse_site_a)
    lock(patient_a, nurse=nurse_site_a, data_manager=data_manager)
    with pytest.raises(ValidationError) as refused:
        record_madrs(patient_a, nurse_site_a, visit="M3")
    assert list(refused.value.message_dict) == ["__all__"]
    with pytest.raises(ValidationError) as refused:
        services.assessment_update(
            assessment=row, assessed_on=None, data={}, by=nurse_site_a, reason="",
            expected_version=1,
        )  # fmt: skip
    assert list(refused.value.message_dict) == ["__all__"]


# The form.


def test_the_madrs_form_refuses_a_rating_out_of_range_and_uses_radio_buttons():
    form = MadrsForm({"assessed_on": "2026-02-02", "rater": "JD"} | BASELINE | {"madrs_3": 7})
    assert not form.is_valid()
    assert "madrs_3" in form.errors
    assert form.fields["madrs_1"].widget.input_type == "radio"
    assert form.fields["madrs_1"].label == "MADRS 1 - apparent sadness"


def test_the_sf_mpq_form_refuses_each_range():
    data = SF_MPQ
    for field, value in (("sf_mpq_2", 4), ("sf_mpq_vas", 101), ("sf_mpq_ppi", 6)):
        form = SfMpqForm({"assessed_on": "2026-02-02"} | data | {field: value})
        assert not form.is_valid()
        assert field in form.errors
    assert SfMpqForm({"assessed_on": "2026-02-02"} | data).is_valid()


# The page.


def _entry(patient, instrument="madrs", visit="BL"):
    return reverse("followup:assessment_entry", args=[patient.pk, instrument, visit])


def _post(data):
    return {"assessed_on": "2026-02-02", "rater": "JD"} | {k: str(v) for k, v in data.items()}


def test_the_page_records_a_madrs_and_lists_its_total(client, patient_a, nurse_site_a):
    client.force_login(nurse_site_a)
    response = client.post(_entry(patient_a), _post(BASELINE))
    assert response.status_code == 302
    assert MadrsAssessment.objects.get(patient=patient_a, visit_code="BL").total == 32
    record_madrs(patient_a, nurse_site_a, visit="D26", ratings=LATER)
    detail = client.get(reverse("cohort:patient_detail", args=[patient_a.pk]))
    link = BeautifulSoup(detail.content, "html.parser").find(id="rated-assessments")
    page = client.get(link["href"])
    row = BeautifulSoup(page.content, "html.parser").find(id="madrs-D26")
    assert row.find(class_="total").text == "12"
    assert (row.find(class_="response").text, row.find(class_="remission").text) == ("yes", "no")


def test_the_page_keeps_what_was_typed_when_it_refuses(client, patient_a, nurse_site_a):
    client.force_login(nurse_site_a)
    response = client.post(_entry(patient_a), _post(BASELINE | {"madrs_3": 9}) | {"rater": "AB"})
    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    assert page.find("input", {"name": "madrs_1", "value": "4"}).has_attr("checked")
    assert page.find("input", {"name": "rater"})["value"] == "AB"
    assert page.find(id="error-summary") is not None
    assert not MadrsAssessment.objects.exists()


def test_a_double_submission_of_the_page_records_one_assessment(client, patient_a, nurse_site_a):
    client.force_login(nurse_site_a)
    assert client.post(_entry(patient_a), _post(BASELINE)).status_code == 302
    again = client.post(_entry(patient_a), _post(LATER) | {"rater": "AB"})
    assert again.status_code == 400
    assert "edit it instead" in again.content.decode()
    # What was typed the second time is still on the page.
    page = BeautifulSoup(again.content, "html.parser")
    assert page.find("input", {"name": "rater"})["value"] == "AB"
    assert page.find("input", {"name": "madrs_10", "value": "0"}).has_attr("checked")
    assert MadrsAssessment.objects.count() == 1


def test_the_page_corrects_with_a_reason_and_refuses_a_stale_version(
    client, patient_a, nurse_site_a
):
    row = record_madrs(patient_a, nurse_site_a)
    client.force_login(nurse_site_a)
    stale = _post(BASELINE | {"madrs_1": 6}) | {"version": "1", "reason": "Misread"}
    services.assessment_update(
        assessment=row, assessed_on=DAY, data=BASELINE | {"rater": "JD", "madrs_2": 0},
        by=nurse_site_a, reason="Other tab", expected_version=1,
    )  # fmt: skip
    response = client.post(_entry(patient_a), stale)
    assert response.status_code == 409
    page = BeautifulSoup(response.content, "html.parser")
    assert page.find("input", {"name": "madrs_1", "value": "6"}).has_attr("checked")
    assert page.find("input", {"name": "version"})["value"] == "2"
    response = client.post(_entry(patient_a), stale | {"version": "2"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.item_1, row.version) == (6, 3)


def test_the_page_of_a_locked_patient_refuses_the_save(
    client, patient_a, nurse_site_a, data_manager
):
    lock(patient_a, nurse=nurse_site_a, data_manager=data_manager)
    client.force_login(nurse_site_a)
    response = client.post(_entry(patient_a, "sf_mpq"), _post(SF_MPQ))
    assert response.status_code == 400
    assert "locked" in response.content.decode()
    assert not SfMpqAssessment.objects.exists()


def test_a_nurse_of_another_site_gets_404(client, patient_a, nurse_site_a, nurse_site_b):
    record_madrs(patient_a, nurse_site_a)
    client.force_login(nurse_site_b)
    assert client.get(_entry(patient_a)).status_code == 404
    assert client.post(_entry(patient_a), _post(LATER)).status_code == 404
    assert client.get(reverse("followup:assessment_list", args=[patient_a.pk])).status_code == 404
    assert MadrsAssessment.objects.get().total == 32


def test_a_visit_the_patient_does_not_have_is_404(client, patient_a, nurse_site_a):
    client.force_login(nurse_site_a)
    assert client.get(_entry(patient_a, "sf_mpq", "D26")).status_code == 404
    assert client.get(_entry(patient_a, "hads", "BL")).status_code == 404


def test_a_patient_of_the_first_study_is_offered_no_rated_visit(client, nurse_site_a):
    # The first study's definition rates neither instrument: no link, no page, no record.
    site = SiteFactory(code="SV", name="Pain clinic V")
    nurse_site_a.sites.add(site)
    patient = enrol(site, by=nurse_site_a, first_name="Vera")
    assert patient.study.definition == "voute2023"
    assert visits.assessment_visits(patient, visits.MADRS) == ()
    assert not visits.rates_any(patient)
    client.force_login(nurse_site_a)
    detail = client.get(reverse("cohort:patient_detail", args=[patient.pk]))
    assert detail.status_code == 200
    assert BeautifulSoup(detail.content, "html.parser").find(id="rated-assessments") is None
    assert client.post(_entry(patient), _post(BASELINE)).status_code == 404
    with pytest.raises(ValidationError):
        record_madrs(
            patient, nurse_site_a, allowed_visits=visits.assessment_visits(patient, "madrs")
        )
    assert not MadrsAssessment.objects.exists()
