"""What a walk through both studies' pages, in English and French, found wrong, once fixed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accounts.roles import Role
from cohort.models import PatientContact
from followup import services
from followup.models import DepressionBaseline, MadrsAssessment
from followup.validators import visit_code_errors
from tests.api.conftest import SignedInAPIClient
from tests.factories import SiteFactory, enrol, make_user, set_up

pytestmark = pytest.mark.django_db

MADRS = {f"madrs_{n}": 3 for n in range(1, 11)}


@pytest.fixture
def site_lan(lan_study):
    return SiteFactory(code="SL", name="Psychiatry L", study=lan_study)


@pytest.fixture
def nurse_lan(site_lan):
    return make_user("nurse_lan", Role.NURSE, [site_lan])


@pytest.fixture
def patient_lan(site_lan, nurse_lan):
    with set_up():
        return enrol(
            site_lan,
            by=nurse_lan,
            first_name="Lin",
            inclusion_date=dt.date(2026, 3, 2),
            consent_date=dt.date(2026, 3, 2),
        )


def _french(client):
    client.post(reverse("set_language"), {"language": "fr"})


def test_a_madrs_for_a_patient_of_a_study_that_rates_none_says_so(patient_a, nurse_site_a):
    client = SignedInAPIClient()
    client.force_login(nurse_site_a)
    body = {"patient": patient_a.pk, "visit_code": "BL", "assessed_on": "2026-01-05"}
    response = client.post("/api/v1/madrs/", body | {"rater": "AB"} | MADRS, format="json")
    assert response.status_code == 400
    assert response.json()["visit_code"] == [
        "This patient's study does not rate this questionnaire at any visit."
    ]
    # A study that rates it still names its visits.
    assert "its visits: BL, D26" in visit_code_errors("M3", ("BL", "D26"))["visit_code"]


@time_machine.travel(dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC))
def test_the_worklist_s_title_names_the_visits_when_it_spans_two_studies(
    client, site_a, site_lan, patient_a, patient_lan, nurse_site_a
):
    client.force_login(make_user("nurse_both", Role.NURSE, [site_a, site_lan]))
    title = BeautifulSoup(client.get(reverse("followup:worklist")).content, "html.parser").title
    assert title.text.startswith("Visits and calls due ·")
    client.force_login(nurse_site_a)
    title = BeautifulSoup(client.get(reverse("followup:worklist")).content, "html.parser").title
    assert title.text.startswith("Calls to make ·")


def test_the_export_page_puts_the_first_study_first_with_french_layout_names(
    client, statistician, site_a, site_lan
):
    client.force_login(statistician)
    _french(client)
    page = BeautifulSoup(client.get(reverse("analytics:export_list")).content, "html.parser")
    assert page.title.text == "Exports de données · Suivi kétamine"
    studies = [h2["id"] for h2 in page.find_all("h2", id=True)]
    assert studies == ["study-VOUTE2023", "study-LAN2022"]
    rows = [th.text for th in page.find_all("th", scope="row")]
    assert "Long : une ligne par patient et temps de suivi" in rows
    assert "Long avec les réponses aux items (réimportable)" in rows
    assert "MADRS : une ligne par patient et visite évaluée" in rows
    assert not [row for row in rows if "one row" in row]


def test_the_study_switcher_reads_as_french_in_french(client, statistician, site_a, site_lan):
    client.force_login(statistician)
    _french(client)
    page = client.get(reverse("analysis:dashboard")).content.decode()
    assert "<span>Étude :</span>" in page


def test_a_patient_without_contact_details_shows_no_empty_identity_line(
    client, patient_lan, nurse_lan
):
    # The second study's demo patients have no contact row (no identifiers at all).
    with connection.cursor() as cursor:
        table = PatientContact._meta.db_table
        cursor.execute(f"DELETE FROM {table} WHERE patient_id = %s", [patient_lan.pk])
    client.force_login(nurse_lan)
    response = client.get(reverse("cohort:patient_detail", args=[patient_lan.pk]))
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    assert page.find(class_="identity") is None


@time_machine.travel(dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC))
def test_a_second_submission_of_a_madrs_links_to_the_saved_one(client, patient_lan, nurse_lan):
    client.force_login(nurse_lan)
    url = reverse("followup:assessment_entry", args=[patient_lan.pk, "madrs", "BL"])
    data = {"assessed_on": "2026-03-02", "rater": "AB"} | MADRS
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 400
    page = BeautifulSoup(again.content, "html.parser")
    assert page.find(id="saved-meanwhile").a["href"] == url
    assert page.title.text.startswith(f"{patient_lan.study_code} · MADRS · Baseline")
    # The page of the saved one, opened from there, is the correction.
    assert "Reason for the change" in client.get(url).content.decode()


@time_machine.travel(dt.datetime(2026, 3, 30, 9, 0, tzinfo=dt.UTC))
def test_a_later_visit_is_not_rated_before_the_inclusion(site_lan, nurse_lan):
    with set_up():
        patient = enrol(
            site_lan,
            by=nurse_lan,
            inclusion_date=dt.date(2026, 3, 2),
            consent_date=dt.date(2026, 2, 20),
        )
    record = {
        "model": MadrsAssessment,
        "patient": patient,
        "data": MADRS | {"rater": "AB"},
        "allowed_visits": ("BL", "D1", "D26"),
        "by": nurse_lan,
    }
    # The baseline may be rated once the patient consented, before the first infusion...
    services.assessment_record(visit_code="BL", assessed_on=dt.date(2026, 2, 25), **record)
    # ... a day-26 rating dated before the inclusion cannot be the day-26 visit.
    with pytest.raises(ValidationError) as refused:
        services.assessment_record(visit_code="D26", assessed_on=dt.date(2026, 2, 25), **record)
    assert refused.value.message_dict["assessed_on"] == [
        "This date is before the patient's inclusion (2 Mar 2026)."
    ]
    d1 = services.assessment_record(visit_code="D1", assessed_on=dt.date(2026, 3, 3), **record)
    with pytest.raises(ValidationError):
        services.assessment_update(
            assessment=d1,
            assessed_on=dt.date(2026, 3, 1),
            data=MADRS | {"rater": "AB"},
            by=nurse_lan,
            reason="typo",
        )


def test_a_second_submission_of_a_new_depression_baseline_says_it_is_recorded(
    client, patient_lan, nurse_lan
):
    client.force_login(nurse_lan)
    url = reverse("followup:depression_baseline", args=[patient_lan.pk])
    form = {
        "pain_group": "mild",
        "suicidality": "no",
        "antidepressants": "1",
        "mood_stabilisers": "yes",
        "benzodiazepines": "no",
        "antipsychotics": "no",
    }
    assert client.post(url, form).status_code == 302
    again = client.post(url, form | {"antidepressants": "2"})
    assert again.status_code == 400
    assert "already has a depression baseline" in again.content.decode()
    assert DepressionBaseline.objects.get(patient=patient_lan).antidepressants == 1
    # Opened again, the page is the correction, with its reason.
    assert 'name="reason"' in client.get(url).content.decode()
