"""Two studies in one database: sites and patients belong to one study, each patient's calls are
its own study's visits, and users see the studies of their sites, through pages and API alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.roles import Role
from cohort.models import Site, Study
from cohort.selectors import studies_for_user
from cohort.services import administration_record
from cohort.studies import FIRST_STUDY_CODE
from followup import scheduling
from tests.api.conftest import SignedInAPIClient
from tests.factories import SiteFactory, enrol, give_authenticator, make_user
from trials import definitions

pytestmark = pytest.mark.django_db

LAN_CODES = ["BL", "D1", "D3", "D5", "D8", "D10", "D12", "D26"]


@pytest.fixture
def lan_study(db):
    return Study.objects.create(code="LAN2022", name="Lan et al. 2022", definition="lan2022")


@pytest.fixture
def site_lan(lan_study):
    return SiteFactory(code="SL", name="Psychiatry L", study=lan_study)


@pytest.fixture
def nurse_lan(site_lan):
    return make_user("nurse_lan", Role.NURSE, [site_lan])


@pytest.fixture
def nurse_both(site_a, site_lan):
    return make_user("nurse_both", Role.NURSE, [site_a, site_lan])


@pytest.fixture
def patient_lan(site_lan, nurse_lan):
    return enrol(
        site_lan,
        by=nurse_lan,
        first_name="Lin",
        inclusion_date=dt.date(2026, 3, 2),
        consent_date=dt.date(2026, 3, 2),
    )


def signed_in(user):
    client = SignedInAPIClient()
    client.force_login(user)
    return client


# The studies and the sites.


def test_existing_and_new_sites_belong_to_the_first_study(site_a):
    first = Study.objects.get(code=FIRST_STUDY_CODE)
    assert first.definition == definitions.FIRST_STUDY
    assert site_a.study == first
    assert Site.objects.create(code="S99", name="New").study == first


def test_a_study_must_name_a_known_definition(lan_study):
    unknown = Study(code="OTHER", name="Other", definition="smith2030")
    with pytest.raises(ValidationError) as refused:
        unknown.full_clean()
    assert refused.value.message_dict["definition"] == ["Value 'smith2030' is not a valid choice."]
    with transaction.atomic(), pytest.raises(IntegrityError):
        Study.objects.create(code="OTHER", name="Other", definition="smith2030")
    assert lan_study.protocol.dosing.is_fixed


def test_a_patient_belongs_to_its_site_s_study(patient_a, patient_lan, lan_study):
    assert patient_a.study.code == FIRST_STUDY_CODE
    assert patient_lan.study == lan_study


# Each patient's calls are its own study's visits.


def test_enrolment_plans_the_patient_s_own_study(patient_a, patient_lan):
    first = [c.timepoint for c in patient_a.calls.order_by("sequence")]
    assert first == list(definitions.load("voute2023").codes)
    lan = list(patient_lan.calls.order_by("sequence"))
    assert [c.timepoint for c in lan] == LAN_CODES
    by_code = {c.timepoint: c for c in lan}
    # First infusion on the inclusion day, Monday 2 March 2026: day 26 is 28 March, -2/+3.
    assert by_code["D26"].target_date == dt.date(2026, 3, 28)
    assert (by_code["D26"].window_start, by_code["D26"].window_end) == (
        dt.date(2026, 3, 26),
        dt.date(2026, 3, 31),
    )
    assert by_code["D1"].target_date == dt.date(2026, 3, 3)


def test_another_study_s_code_is_refused(patient_a, patient_lan):
    with pytest.raises(ValidationError) as refused:
        scheduling.timepoint_check(patient_lan, "M3")
    message = refused.value.message_dict["timepoint"][0]
    assert message.startswith("M3 is not a visit of the study LAN2022")
    with pytest.raises(ValidationError, match="D26 is not a visit of the study VOUTE2023"):
        scheduling.timepoint_check(patient_a, "D26")
    scheduling.timepoint_check(patient_lan, "D26")
    scheduling.timepoint_check(patient_a, "M3")


def test_the_first_infusion_on_another_day_moves_the_study_s_visits(patient_lan, nurse_lan):
    administration_record(
        patient=patient_lan,
        date=dt.date(2026, 3, 4),
        route="iv",
        dose_unit="mg_per_kg",
        dose_value=Decimal("0.5"),
        by=nurse_lan,
    )
    calls = {c.timepoint: c for c in patient_lan.calls.all()}
    assert set(calls) == set(LAN_CODES)
    assert calls["BL"].target_date == dt.date(2026, 3, 2)
    assert calls["D1"].target_date == dt.date(2026, 3, 5)
    assert calls["D26"].target_date == dt.date(2026, 3, 30)


# Access on the study axis.


def test_users_see_the_studies_of_their_sites(nurse_site_a, nurse_lan, nurse_both, lan_study):
    first = Study.objects.get(code=FIRST_STUDY_CODE)
    assert list(studies_for_user(nurse_site_a)) == [first]
    assert list(studies_for_user(nurse_lan)) == [lan_study]
    assert set(studies_for_user(nurse_both)) == {first, lan_study}
    statistician = make_user("stat", Role.STATISTICIAN, [])
    assert set(studies_for_user(statistician)) == {first, lan_study}


def test_a_user_of_study_a_sees_nothing_of_study_b(client, nurse_site_a, patient_a, patient_lan):
    client.force_login(nurse_site_a)
    call = patient_lan.calls.get(timepoint="D1")
    assert client.get(reverse("cohort:patient_detail", args=[patient_lan.pk])).status_code == 404
    assert client.get(reverse("followup:call_entry", args=[call.pk])).status_code == 404
    listing = client.get(reverse("cohort:patient_list")).content.decode()
    assert patient_a.study_code in listing
    assert patient_lan.study_code not in listing
    api = signed_in(nurse_site_a)
    assert api.get(f"/api/v1/patients/{patient_lan.pk}/").status_code == 404
    assert api.get(f"/api/v1/calls/{call.pk}/").status_code == 404
    codes = [p["study_code"] for p in api.get("/api/v1/patients/").json()["results"]]
    assert codes == [patient_a.study_code]
    calls = api.get("/api/v1/calls/", {"page_size": 100}).json()["results"]
    assert {c["patient"] for c in calls} == {patient_a.pk}


def test_a_data_manager_sees_both_studies_filtered(site_a, site_lan, patient_a, patient_lan):
    manager = give_authenticator(make_user("dm_both", Role.DATA_MANAGER, [site_a, site_lan])).user
    api = signed_in(manager)
    every = api.get("/api/v1/patients/").json()["results"]
    assert {p["study"] for p in every} == {FIRST_STUDY_CODE, "LAN2022"}
    lan = api.get("/api/v1/patients/", {"study": "LAN2022"}).json()["results"]
    assert [p["study_code"] for p in lan] == [patient_lan.study_code]
    first = api.get("/api/v1/patients/", {"study": FIRST_STUDY_CODE}).json()["results"]
    assert [p["study_code"] for p in first] == [patient_a.study_code]
    calls = api.get("/api/v1/calls/", {"study": "LAN2022", "page_size": 100}).json()
    assert calls["count"] == len(LAN_CODES)
    assert {c["timepoint"] for c in calls["results"]} == set(LAN_CODES)


def _worklist(client, **params):
    return client.get(reverse("followup:worklist"), params).content.decode()


@time_machine.travel(dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC))
def test_worklist_spans_the_user_s_studies_with_a_study_filter(
    client, nurse_both, nurse_site_a, patient_a, patient_lan
):
    client.force_login(nurse_both)
    page = _worklist(client)
    assert "Visits and calls due" in page
    assert patient_a.study_code in page
    assert patient_lan.study_code in page
    assert '<td class="study">LAN2022</td>' in page
    only_lan = _worklist(client, study="LAN2022")
    assert patient_lan.study_code in only_lan
    assert patient_a.study_code not in only_lan
    # One study: no study column, no study filter.
    client.force_login(nurse_site_a)
    single = _worklist(client)
    assert patient_a.study_code in single
    assert patient_lan.study_code not in single
    assert '<td class="study">' not in single
    assert 'name="study"' not in single
    # Another study's code in the filter is not one of the user's: every study is shown.
    assert patient_lan.study_code not in _worklist(client, study="LAN2022")


def test_data_managers_administer_studies(client, data_manager, nurse_site_a, lan_study):
    client.force_login(data_manager)
    listing = client.get(reverse("admin:cohort_study_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "6 x 0.5 mg/kg IV over 40 min, 3 per week for 2 weeks" in page
    assert "free administrations" in page
    assert "BL, D1, D3, D5, D8, D10, D12, D26" in page
    added = client.post(
        reverse("admin:cohort_study_add"),
        {"code": "LAN2024", "name": "Second cohort", "definition": "lan2022", "is_active": "on"},
    )
    assert added.status_code == 302
    assert Study.objects.get(code="LAN2024").protocol.key == "lan2022"
    refused = client.post(
        reverse("admin:cohort_study_add"),
        {"code": "X2", "name": "Unknown", "definition": "smith2030", "is_active": "on"},
    )
    assert refused.status_code == 200
    assert not Study.objects.filter(code="X2").exists()
    delete = client.get(reverse("admin:cohort_study_delete", args=[lan_study.pk]))
    assert delete.status_code == 403
    client.force_login(nurse_site_a)
    assert client.get(reverse("admin:cohort_study_changelist")).status_code != 200


def test_the_second_study_s_visits_read_in_french(patient_lan):
    from django.utils import translation

    d1 = patient_lan.calls.get(timepoint="D1")
    with translation.override("fr"):
        assert d1.timepoint_label == "Lendemain matin de la perfusion 1 (jour 1)"
        assert d1.get_timepoint_display() == "Lendemain matin de la perfusion 1 (jour 1)"


@time_machine.travel(dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC))
def test_the_second_study_s_pages_open_for_its_staff(client, nurse_lan, patient_lan):
    client.force_login(nurse_lan)
    d1 = patient_lan.calls.get(timepoint="D1")
    for url in (
        reverse("cohort:patient_detail", args=[patient_lan.pk]),
        reverse("cohort:patient_timeline", args=[patient_lan.pk]),
        reverse("followup:call_entry", args=[d1.pk]),
        reverse("cohort:patient_list"),
    ):
        assert client.get(url).status_code == 200, url
    page = _worklist(client)
    assert patient_lan.study_code in page
    assert "Morning after infusion 1 (day 1)" in page


def test_each_call_knows_its_study_s_instruments(patient_a, patient_lan):
    assert patient_lan.calls.get(timepoint="BL").instruments == ("MADRS", "SFMPQ")
    assert patient_lan.calls.get(timepoint="D26").instruments == ("MADRS",)
    assert patient_a.calls.get(timepoint="BL").instruments == ("NPRS", "HADS", "SF12", "DN4")
    assert patient_a.calls.get(timepoint="M3").instruments == ("NPRS", "HADS", "SF12")
