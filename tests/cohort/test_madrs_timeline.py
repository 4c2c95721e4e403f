"""The timeline page of a patient of the second study (Lan et al. 2022).

Enrolled and first infused on 2026-01-05 (day 0): infusions on days 0, 2, 4, 7, 9, 11, the
MADRS at BL (day 0), D1, D3, D5, D8, D10, D12 and D26.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.urls import reverse

from accounts.roles import Role
from cohort.services import administration_record
from followup import services
from followup.models import MadrsAssessment, SfMpqAssessment
from tests.factories import SiteFactory, enrol, make_user, set_up
from tests.followup.test_assessments import MADRS_VISITS, SF_MPQ, SF_MPQ_VISITS

pytestmark = pytest.mark.django_db

DAY0 = dt.date(2026, 1, 5)
OFFSETS = {"BL": 0, "D1": 1, "D3": 3, "D5": 5, "D8": 8, "D10": 10, "D12": 12, "D26": 26}
INFUSION_DAYS = (0, 2, 4, 7, 9, 11)


def on(day):
    return DAY0 + dt.timedelta(days=day)


def travel(day):
    return time_machine.travel(dt.datetime.combine(on(day), dt.time(18, 0), tzinfo=dt.UTC))


def ratings(total):
    """Return ten item ratings adding up to ``total`` (each 0..6)."""
    items = [total // 10 + (1 if n < total % 10 else 0) for n in range(10)]
    return {f"madrs_{n}": value for n, value in enumerate(items, 1)}


@pytest.fixture
def lan_site(lan_study, clinician_site_a):
    site = SiteFactory(code="SL", name="Psychiatry L", study=lan_study)
    clinician_site_a.sites.add(site)
    return site


def course(site, by, totals, *, today_day, effect_day=None):
    """Enrol a patient on day 0 and rate and infuse everything up to ``today_day``."""
    with travel(0), set_up():
        patient = enrol(site, by=by, inclusion_date=DAY0, consent_date=DAY0)
    for day in INFUSION_DAYS:
        if day <= today_day:
            with travel(day), set_up():
                administration_record(
                    patient=patient,
                    date=on(day),
                    route="iv",
                    dose_unit="mg_per_kg",
                    dose_value=Decimal("0.5"),
                    infusion_minutes=40,
                    by=by,
                )
    with travel(0), set_up():
        services.assessment_record(
            model=SfMpqAssessment,
            patient=patient,
            visit_code="BL",
            assessed_on=DAY0,
            data=SF_MPQ,
            allowed_visits=SF_MPQ_VISITS,
            by=by,
        )
    for code, total in totals.items():
        with travel(OFFSETS[code]), set_up():
            services.assessment_record(
                model=MadrsAssessment,
                patient=patient,
                visit_code=code,
                assessed_on=on(OFFSETS[code]),
                data=ratings(total) | {"rater": "JD"},
                allowed_visits=MADRS_VISITS,
                by=by,
            )
    if effect_day is not None:
        call = patient.calls.get(timepoint="D3")
        with travel(effect_day), set_up():
            services.adverse_event_record(
                call=call,
                values={"type": "nausea", "severity": "mild", "start_date": on(2)},
                by=by,
            )
    return patient


def page(client, user, patient, day, max_queries=None, assert_max=None):
    client.force_login(user)
    with travel(day):
        if assert_max is None:
            return client.get(reverse("cohort:patient_timeline", args=[patient.pk]))
        with assert_max(max_queries):
            return client.get(reverse("cohort:patient_timeline", args=[patient.pk]))


def rows(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return {
        tr["class"][0].removeprefix("visit-") + ":" + tr.th.get_text(strip=True): [
            td.get_text(" ", strip=True) for td in tr.find_all("td")
        ]
        for tr in soup.select("#madrs-table tbody tr")
    }


def test_mid_course_patient_shows_planned_and_missing_visits_and_the_latest_response(
    client, clinician_site_a, lan_site, django_assert_max_num_queries
):
    # Day 6: BL 30, D1 20, D3 14 rated; D5 due yesterday, not rated; D8 onwards not yet due.
    patient = course(
        lan_site, clinician_site_a, {"BL": 30, "D1": 20, "D3": 14}, today_day=6, effect_day=3
    )
    response = page(client, clinician_site_a, patient, 6, 20, django_assert_max_num_queries)
    assert response.status_code == 200
    series = response.context["series"]
    assert series["kind"] == "madrs"
    states = [(v["code"], v["state"], v["total"]) for v in series["visits"]]
    assert states == [
        ("BL", "rated", 30),
        ("D1", "rated", 20),
        ("D3", "rated", 14),
        ("D5", "missing", None),
        ("D8", "planned", None),
        ("D10", "planned", None),
        ("D12", "planned", None),
        ("D26", "planned", None),
    ]
    assert [v["day"] for v in series["visits"]] == list(OFFSETS.values())
    assert [(m["number"], m["day"], m["total_mg"]) for m in series["infusions"]] == [
        (1, 0, 35.0),
        (2, 2, 35.0),
        (3, 4, 35.0),
    ]
    # The nausea begun on day 2 is the second infusion's, though reported at D3.
    assert [e["label"] for e in series["infusions"][1]["effects"]] == ["Nausea"]
    assert series["latest"]["code"] == "D3"
    assert (series["latest"]["response"], series["latest"]["remission"]) == (True, False)
    assert series["end"]["state"] == "planned"
    assert series["pain"]["vas_mm"] == 64
    assert (series["pain"]["sensory"], series["pain"]["affective"]) == (13, 6)
    table = rows(response)
    assert len(table) == 8
    assert any(key.startswith("missing:") for key in table)
    assert sum(key.startswith("planned:") for key in table) == 4
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("#chart-madrs") is not None
    assert "responder" in soup.select_one("#madrs-latest").get_text()
    assert soup.select_one("#chart-pain") is None


def test_full_course_patient_is_a_responder_in_remission_at_day_26(
    client, clinician_site_a, lan_site, django_assert_max_num_queries
):
    totals = {"BL": 32, "D1": 24, "D3": 20, "D5": 18, "D8": 15, "D10": 12, "D12": 11, "D26": 9}
    patient = course(lan_site, clinician_site_a, totals, today_day=30)
    response = page(client, clinician_site_a, patient, 30, 20, django_assert_max_num_queries)
    series = response.context["series"]
    assert [v["state"] for v in series["visits"]] == ["rated"] * 8
    assert [v["total"] for v in series["visits"]] == list(totals.values())
    assert len(series["infusions"]) == 6
    assert series["baseline_total"] == 32
    assert series["response_max"] == 16
    assert series["end"]["code"] == "D26"
    assert (series["end"]["response"], series["end"]["remission"]) == (True, True)
    # D12 (11): a response (11 <= 16) but no remission (11 > 10).
    d12 = next(v for v in series["visits"] if v["code"] == "D12")
    assert (d12["response"], d12["remission"]) == (True, False)
    end = BeautifulSoup(response.content, "html.parser").select_one("#madrs-end").get_text()
    assert "in remission" in end
    assert "not in remission" not in end
    assert "non-responder" not in end


def test_the_page_is_in_french_for_a_french_reader(client, clinician_site_a, lan_site):
    patient = course(lan_site, clinician_site_a, {"BL": 30, "D1": 12}, today_day=2)
    client.force_login(clinician_site_a)
    with travel(2):
        response = client.get(
            reverse("cohort:patient_timeline", args=[patient.pk]), HTTP_ACCEPT_LANGUAGE="fr"
        )
    assert response.context["series"]["labels"]["days"] == "Jours depuis la première perfusion"
    table = BeautifulSoup(response.content, "html.parser").select_one("#madrs-table").get_text()
    assert "prévue" in table
    assert "La MADRS à chaque visite" in table


def test_second_study_timeline_is_404_for_a_first_study_only_nurse(
    client, clinician_site_a, lan_site, site_a
):
    patient = course(lan_site, clinician_site_a, {"BL": 30}, today_day=1)
    nurse = make_user("nurse_first_only", Role.NURSE, [site_a])
    response = page(client, nurse, patient, 1)
    assert response.status_code == 404
