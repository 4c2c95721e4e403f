"""Implausible dates are refused by the pages, the API, the importer and the database.

The probes of the daily-use review: an administration dated 1900-01-01 or in 2100, a call
completed "on" 1900-01-01, attempts in years 1 and 2999, overlapping administrations, a
correction that would move the open calls out of the study period.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.exports import importer
from cohort.models import KetamineAdministration, Patient
from cohort.services import administration_record
from followup.models import CallAttempt, FollowUpCall
from tests.conftest import SecondFactorLogin
from tests.import_files import demo_import_files

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
IMPLAUSIBLE = ["1900-01-01", "2100-01-01", "2026-03-03"]  # before the study, far, tomorrow


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


class _API(SecondFactorLogin, APIClient):
    pass


@pytest.fixture
def nurse_api(nurse_site_a):
    client = _API()
    client.force_login(nurse_site_a)
    return client


@pytest.fixture
def treated(patient_a, nurse_site_a):
    administration_record(
        patient=patient_a, date=dt.date(2026, 1, 5), route="iv", dose_unit="mg",
        dose_value=Decimal(40), by=nurse_site_a,
    )  # fmt: skip
    return patient_a


def _open_targets(patient: Patient) -> list[dt.date]:
    return list(
        patient.calls.filter(status="due")
        .order_by("sequence")
        .values_list("target_date", flat=True)
    )


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_an_administration_form_dated_out_of_the_plausible_refuses_it_beside_the_date(
    client, nurse_site_a, treated, day
):
    targets = _open_targets(treated)
    client.force_login(nurse_site_a)
    response = client.post(
        reverse("cohort:administration_add", args=[treated.pk]),
        {"admin-date": day, "admin-route": "iv", "admin-dose_unit": "mg",
         "admin-dose_value": "50", "admin-days": "1"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["administration_form"].errors["date"]
    assert KetamineAdministration.objects.filter(patient=treated).count() == 1
    assert _open_targets(treated) == targets


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_the_api_refuses_an_administration_out_of_the_plausible(nurse_api, treated, day):
    response = nurse_api.post(
        "/api/v1/administrations/",
        {"patient": treated.pk, "date": day, "route": "iv", "dose_unit": "mg", "dose_value": "50"},
        format="json",
    )
    assert response.status_code == 400
    assert "date" in response.json()
    assert KetamineAdministration.objects.filter(patient=treated).count() == 1


def test_a_correction_to_1900_is_refused_and_leaves_the_calls_where_they_were(
    client, nurse_site_a, treated
):
    targets = _open_targets(treated)
    given = treated.administrations.get()
    client.force_login(nurse_site_a)
    response = client.post(
        reverse("cohort:administration_edit", args=[treated.pk, given.pk]),
        {"date": "1900-01-01", "route": "iv", "dose_unit": "mg", "dose_value": "40",
         "days": "1", "reason": "Typo"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["date"]
    given.refresh_from_db()
    assert given.date == dt.date(2026, 1, 5)
    assert _open_targets(treated) == targets
    assert min(targets) >= dt.date(2026, 1, 5)


def test_an_administration_before_the_consent_is_refused(nurse_api, treated):
    response = nurse_api.post(
        "/api/v1/administrations/",
        {"patient": treated.pk, "date": "2026-01-01", "route": "iv", "dose_unit": "mg",
         "dose_value": "50"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "consent" in response.json()["date"][0]


def test_overlapping_administrations_are_refused_and_adjacent_ones_accepted(nurse_api, treated):
    def give(day: str, days: int) -> int:
        payload = {"patient": treated.pk, "date": day, "route": "iv", "dose_unit": "mg",
                   "dose_value": "50", "days": days}  # fmt: skip
        return nurse_api.post("/api/v1/administrations/", payload, format="json").status_code

    assert give("2026-02-01", 5) == 201  # 1 to 5 February
    assert give("2026-02-05", 2) == 400  # the 5th is taken
    assert give("2026-01-30", 3) == 400  # runs into the 1st
    assert give("2026-02-06", 2) == 201  # the day after
    assert treated.administrations.count() == 3


def test_a_call_completed_on_1900_01_01_is_refused_on_the_page_and_by_the_api(
    client, nurse_site_a, nurse_api, treated
):
    from tests.followup.test_questionnaire_validation import VALID

    call = treated.calls.get(timepoint="W1")
    client.force_login(nurse_site_a)
    data = {**{k: "" if v is None else v for k, v in VALID.items()}, "version": call.version,
            "outcome": "reached", "action": "save", "call_date": "1900-01-01"}  # fmt: skip
    response = client.post(reverse("followup:call_entry", args=[call.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors["call_date"]
    answer = nurse_api.put(
        f"/api/v1/calls/{call.pk}/questionnaires/",
        {**VALID, "version": call.version, "complete": True, "call_date": "1900-01-01"},
        format="json",
    )
    assert answer.status_code == 400
    assert "call_date" in answer.json()
    call.refresh_from_db()
    assert call.status == "due"
    assert call.call_date is None


@pytest.mark.parametrize("at", ["0001-01-01T10:00:00Z", "2999-01-01T10:00:00Z"])
def test_attempts_in_year_1_or_2999_are_refused_and_the_api_dates_stay_valid(
    nurse_api, treated, at
):
    call = treated.calls.get(timepoint="W1")
    url = f"/api/v1/calls/{call.pk}/attempts/"
    response = nurse_api.post(url, {"outcome": "no_answer", "version": call.version, "at": at})
    assert response.status_code == 400
    assert "at" in response.json()
    assert not CallAttempt.objects.filter(call=call).exists()
    logged = nurse_api.post(url, {"outcome": "no_answer", "version": call.version})
    assert logged.status_code == 201
    for attempt in nurse_api.get(url).json():
        assert dt.datetime.fromisoformat(attempt["attempted_at"]).year == 2026


def test_the_database_refuses_dates_out_of_its_bounds(treated):
    call = treated.calls.get(timepoint="W1")
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUpCall.objects.filter(pk=call.pk).update(call_date=dt.date(1900, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        KetamineAdministration.objects.filter(patient=treated).update(date=dt.date(2100, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        CallAttempt.objects.create(
            call=call, outcome="no_answer", attempted_at=dt.datetime(1, 1, 1, tzinfo=dt.UTC)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=treated.pk).update(status_date=dt.date(2025, 12, 1))


def test_a_reschedule_never_plans_calls_after_the_end_of_the_study(settings, nurse_api, patient_a):
    settings.STUDY_END = dt.date(2026, 6, 30)
    targets = _open_targets(patient_a)
    response = nurse_api.post(
        "/api/v1/administrations/",
        {"patient": patient_a.pk, "date": "2026-01-10", "route": "iv", "dose_unit": "mg",
         "dose_value": "50"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "end of the study" in response.json()["date"][0]
    assert _open_targets(patient_a) == targets


@pytest.mark.parametrize(
    ("inclusion", "consent", "field"),
    [
        ("2026-03-03", "2026-03-01", "inclusion_date"),  # included tomorrow
        ("2015-06-01", "2015-06-01", "inclusion_date"),  # before the study started
    ],
)
def test_enrolment_refuses_dates_in_the_future_or_before_the_study(
    nurse_api, site_a, inclusion, consent, field
):
    payload = {
        "site": site_a.pk, "sex": "F", "age": 50, "inclusion_date": inclusion,
        "consent_date": consent, "weight_kg": "70.0", "etiology": "crps",
        "pain_duration_months": 24, "first_name": "Ana", "last_name": "Roux", "phone": "0600",
    }  # fmt: skip
    response = nurse_api.post("/api/v1/patients/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Patient.objects.exists()


def test_a_status_date_in_the_future_is_refused(nurse_api, patient_a):
    response = nurse_api.post(
        f"/api/v1/patients/{patient_a.pk}/status/",
        {"status": "withdrawn", "date": "2027-01-01", "reason": "Moved"},
        format="json",
    )
    assert response.status_code == 400
    patient_a.refresh_from_db()
    assert patient_a.status == "active"


def test_the_importer_reports_implausible_dates_with_their_rows(tmp_path):
    data, administrations = demo_import_files(tmp_path, 4, seed=21, names=("data.csv", "admin.csv"))
    rows = pd.read_csv(data, dtype=str, keep_default_na=False)
    given = pd.read_csv(administrations, dtype=str, keep_default_na=False)
    reached = rows.index[rows["call_status"].eq("reached")][0]
    rows.loc[reached, "call_date"] = "1900-01-01"
    given.loc[0, "admin_date"] = "2100-01-01"
    given = pd.concat([given, given.iloc[[1]]])  # the same administration twice: overlapping
    rows.to_csv(data, index=False)
    given.to_csv(administrations, index=False)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.dataset_import(path=data, administrations=administrations, by=None)
    found = {(p.row, p.column) for p in refused.value.problems}
    assert (reached + 2, "call_date") in found
    assert (2, "admin_date") in found
    assert (len(given) + 1, "admin_date") in found
    assert not Patient.objects.exists()
