"""A hospital visit of the second study is done when it is rated, and due again when voided.

A patient of Lan et al. 2022 enrolled on 2026-01-05: D1 is due 2026-01-06 (window to 01-07),
D3 on 01-08; the baseline rates the MADRS and the SF-MPQ, the mornings after the MADRS only.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.roles import Role
from followup import services, visits
from followup.models import MadrsAssessment, SfMpqAssessment
from followup.selectors import call_counts_for_user, worklist_for_user
from tests.api.conftest import SignedInAPIClient
from tests.factories import SiteFactory, enrol, make_user, set_up
from tests.followup.test_assessments import BASELINE, MADRS_VISITS, SF_MPQ, SF_MPQ_VISITS
from trials import definitions

pytestmark = pytest.mark.django_db

D1 = dt.date(2026, 1, 6)


@pytest.fixture(autouse=True)
def _on_the_day_of_d1():
    with time_machine.travel(dt.datetime(2026, 1, 6, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def lan_site(lan_study, nurse_site_a, clinician_site_a):
    site = SiteFactory(code="SL", name="Psychiatry L", study=lan_study)
    nurse_site_a.sites.add(site)
    clinician_site_a.sites.add(site)
    return site


@pytest.fixture
def rated_patient(lan_site, nurse_site_a):
    with set_up():
        return enrol(lan_site, by=nurse_site_a)


def madrs(patient, by, visit="D1", day=D1):
    return services.assessment_record(
        model=MadrsAssessment,
        patient=patient,
        visit_code=visit,
        assessed_on=day,
        data=BASELINE | {"rater": "JD"},
        allowed_visits=MADRS_VISITS,
        by=by,
    )


def listed(user):
    worklist = worklist_for_user(user, today=D1)
    return [(c.patient.study_code, c.timepoint) for s in worklist.sections() for c in s.rows]


def test_only_hospital_visits_naming_rated_instruments_are_completed_by_rating():
    lan = definitions.load("lan2022")
    voute = definitions.load("voute2023")
    assert visits.completing_instruments(lan, "BL") == ("madrs", "sf_mpq")
    assert visits.completing_instruments(lan, "D26") == ("madrs",)
    # The first study's baseline collects the NPRS, HADS...: completed on the call's page.
    assert [visits.completing_instruments(voute, code) for code in voute.codes] == [()] * len(
        voute.codes
    )


def test_a_rated_visit_on_the_worklist_leads_to_the_assessment_entry(
    client, nurse_site_a, rated_patient, patient_a
):
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:worklist")).content.decode()
    d1 = rated_patient.calls.get(timepoint="D1")
    entry = reverse("followup:assessment_entry", args=[rated_patient.pk, "madrs", "D1"])
    assert f'href="{entry}"' in page
    assert "Record the visit" in page
    assert reverse("followup:call_entry", args=[d1.pk]) not in page
    # The first study's call keeps its call page.
    w1 = patient_a.calls.get(timepoint="W1")
    assert reverse("followup:call_entry", args=[w1.pk]) in page
    assert "Start the call" in page
    # A hospital visit has no preferred call time and no call attempts; a phone call keeps them.
    soup = BeautifulSoup(page, "html.parser")
    hospital = soup.find("a", href=entry).find_parent("tr")
    assert hospital.select_one('td[data-mode="hospital"]').get_text(strip=True) == "In hospital"
    assert "/ " not in hospital.select("td.num")[-1].get_text()
    phone = soup.find("a", href=reverse("followup:call_entry", args=[w1.pk])).find_parent("tr")
    assert phone.select_one('td[data-mode="hospital"]') is None
    assert "0 / " in phone.get_text()
    assert "Visit or call" in soup.select_one("table.calls thead").get_text()


def test_rating_the_visit_makes_it_done_off_the_worklist_and_the_counts(
    client, nurse_site_a, rated_patient
):
    code = rated_patient.study_code
    assert (code, "D1") in listed(nurse_site_a)
    before = call_counts_for_user(nurse_site_a, today=D1)
    madrs(rated_patient, nurse_site_a)
    d1 = rated_patient.calls.get(timepoint="D1")
    assert (d1.status, d1.call_date, d1.completed_by) == ("reached", D1, nurse_site_a)
    assert (code, "D1") not in listed(nurse_site_a)
    after = call_counts_for_user(nurse_site_a, today=D1)
    assert after["due_now"] == before["due_now"] - 1
    client.force_login(nurse_site_a)
    page = client.get(reverse("cohort:patient_detail", args=[rated_patient.pk])).content.decode()
    rows = BeautifulSoup(page, "html.parser").select("#calls-title ~ div tbody tr")
    d1_row = next(r for r in rows if "infusion 1" in r.get_text())
    assert "Done" in d1_row.get_text()
    assert d1_row.find("a")["href"] == reverse("followup:assessment_list", args=[rated_patient.pk])
    assert reverse("followup:call_entry", args=[d1.pk]) not in page


def test_the_baseline_is_done_only_when_both_its_instruments_are_recorded(
    nurse_site_a, rated_patient
):
    madrs(rated_patient, nurse_site_a, visit="BL", day=dt.date(2026, 1, 5))
    assert rated_patient.calls.get(timepoint="BL").status == "due"
    services.assessment_record(
        model=SfMpqAssessment,
        patient=rated_patient,
        visit_code="BL",
        assessed_on=dt.date(2026, 1, 5),
        data=SF_MPQ,
        allowed_visits=SF_MPQ_VISITS,
        by=nurse_site_a,
    )
    baseline = rated_patient.calls.get(timepoint="BL")
    assert (baseline.status, baseline.call_date) == ("reached", dt.date(2026, 1, 5))


def test_voiding_the_rating_makes_the_visit_due_again_with_its_trail(nurse_site_a, rated_patient):
    row = madrs(rated_patient, nurse_site_a)
    services.assessment_void(assessment=row, by=nurse_site_a, reason="Wrong patient")
    row.refresh_from_db()
    assert (row.is_voided, row.void_reason) == (True, "Wrong patient")
    latest = row.history.order_by("-history_id").first()
    assert (latest.history_user, latest.history_change_reason) == (nurse_site_a, "Wrong patient")
    assert latest.voided_at is not None
    d1 = rated_patient.calls.get(timepoint="D1")
    assert (d1.status, d1.call_date, d1.completed_by) == ("due", None, None)
    assert (rated_patient.study_code, "D1") in listed(nurse_site_a)
    # Rated again, it is done again.
    madrs(rated_patient, nurse_site_a)
    assert rated_patient.calls.get(timepoint="D1").status == "reached"


def test_a_void_needs_a_reason(nurse_site_a, rated_patient):
    row = madrs(rated_patient, nurse_site_a)
    with pytest.raises(ValidationError) as refused:
        services.assessment_void(assessment=row, by=nurse_site_a, reason="  ")
    assert "reason" in refused.value.message_dict
    row.refresh_from_db()
    assert not row.is_voided
    assert rated_patient.calls.get(timepoint="D1").status == "reached"


def test_the_void_button_voids_with_the_reason_and_refuses_without(
    client, nurse_site_a, rated_patient
):
    madrs(rated_patient, nurse_site_a)
    client.force_login(nurse_site_a)
    entry = reverse("followup:assessment_entry", args=[rated_patient.pk, "madrs", "D1"])
    void = reverse("followup:assessment_void", args=[rated_patient.pk, "madrs", "D1"])
    assert f'action="{void}"' in client.get(entry).content.decode()
    refused = client.post(void, {"void_reason": ""})
    assert refused.status_code == 400
    assert MadrsAssessment.objects.filter(voided_at__isnull=True).count() == 1
    response = client.post(void, {"void_reason": "Wrong visit"})
    assert response.status_code == 302
    assert MadrsAssessment.objects.get().void_reason == "Wrong visit"
    assert rated_patient.calls.get(timepoint="D1").status == "due"


def test_the_api_voids_with_the_reason_and_refuses_without(nurse_site_a, rated_patient):
    row = madrs(rated_patient, nurse_site_a)
    api = SignedInAPIClient()
    api.force_login(nurse_site_a)
    url = f"/api/v1/madrs/{row.pk}/void/"
    assert api.post(url, {}, format="json").status_code == 400
    response = api.post(url, {"reason": "Wrong patient"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["voided_at"] is not None
    assert rated_patient.calls.get(timepoint="D1").status == "due"
    assert api.post(url, {"reason": "Again"}, format="json").status_code == 400


def test_only_data_entry_roles_of_the_patients_site_may_void(
    client, nurse_site_a, statistician, lan_study, rated_patient
):
    row = madrs(rated_patient, nurse_site_a)
    other_site = SiteFactory(code="SM", study=lan_study)
    stranger = make_user("nurse_m", Role.NURSE, [other_site])
    void = reverse("followup:assessment_void", args=[rated_patient.pk, "madrs", "D1"])
    for user, page, api_status in ((statistician, 403, 403), (stranger, 404, 404)):
        client.force_login(user)
        assert client.post(void, {"void_reason": "x"}).status_code == page
        api = SignedInAPIClient()
        api.force_login(user)
        answer = api.post(f"/api/v1/madrs/{row.pk}/void/", {"reason": "x"}, format="json")
        assert answer.status_code == api_status
    row.refresh_from_db()
    assert not row.is_voided


def test_enrolling_a_patient_of_the_second_study_leads_to_the_baseline_rating(
    client, nurse_site_a, lan_site
):
    from cohort.models import Patient
    from tests.cohort.test_patient_pages import _enrolment

    client.force_login(nurse_site_a)
    data = _enrolment(
        **{
            "patient-site": lan_site.pk,
            "patient-inclusion_date": "2026-01-06",
            "patient-consent_date": "2026-01-05",
            "admin-date": "2026-01-06",
            "admin-dose_value": "0.5",
            "admin-days": "1",
            "admin-infusion_minutes": "40",
        }
    )
    for name in ("etiology", "pain_duration_months", "dn4"):
        # The second study does not collect the pain history.
        data.pop(f"patient-{name}")
    response = client.post(reverse("cohort:patient_new"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    patient = Patient.objects.get()
    assert response.url == reverse("followup:assessment_entry", args=[patient.pk, "madrs", "BL"])


def test_a_corrected_rating_date_moves_the_date_of_the_visit(nurse_site_a, rated_patient):
    row = madrs(rated_patient, nurse_site_a)
    services.assessment_update(
        assessment=row,
        assessed_on=dt.date(2026, 1, 5),
        data=BASELINE | {"rater": "JD"},
        by=nurse_site_a,
        reason="Typed the wrong day",
    )
    d1 = rated_patient.calls.get(timepoint="D1")
    assert (d1.status, d1.call_date, d1.version) == ("reached", dt.date(2026, 1, 5), 3)


def test_a_study_seen_in_hospital_only_has_visits_not_calls_on_the_patient_page(
    client, nurse_site_a, rated_patient, patient_a
):
    assert not rated_patient.study.protocol.calls_by_phone
    assert patient_a.study.protocol.calls_by_phone
    client.force_login(nurse_site_a)
    rated = BeautifulSoup(
        client.get(reverse("cohort:patient_detail", args=[rated_patient.pk])).content,
        "html.parser",
    )
    assert rated.select_one("#calls-title").get_text(strip=True) == "Visits"
    assert rated.select_one("#call-times-title") is None
    assert "Preferred call time" not in rated.get_text()
    phoned = BeautifulSoup(
        client.get(reverse("cohort:patient_detail", args=[patient_a.pk])).content, "html.parser"
    )
    assert phoned.select_one("#calls-title").get_text(strip=True) == "Calls"
    assert phoned.select_one("#call-times-title") is not None
