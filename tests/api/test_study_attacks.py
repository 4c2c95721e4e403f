"""Attacks on the studies and the rated assessments, as a user of each role would try them.

Two studies side by side: site A in the first study (no rated visit), site L in the second
(Lan et al. 2022, the MADRS and the SF-MPQ at its visits), site M a second site of the second
study. Each test tries to read or write across a site or a study, to raise a right, to store an
implausible value or to submit twice, and checks that nothing crossed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from accounts.roles import Role
from cohort.models import Site, Study
from followup.models import MadrsAssessment, SfMpqAssessment
from tests.conftest import SignedInClient
from tests.factories import SiteFactory, enrol, make_user
from tests.followup.test_assessments import BASELINE, LATER, SF_MPQ

pytestmark = pytest.mark.django_db

MADRS_URL = "/api/v1/madrs/"
SF_MPQ_URL = "/api/v1/sf-mpq/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site_l(lan_study):
    return SiteFactory(code="SL", name="Psychiatry L", study=lan_study)


@pytest.fixture
def site_m(lan_study):
    return SiteFactory(code="SM", name="Psychiatry M", study=lan_study)


@pytest.fixture
def nurse_lan(site_l):
    return make_user("nurse_lan", Role.NURSE, [site_l])


@pytest.fixture
def nurse_lan_m(site_m):
    return make_user("nurse_lan_m", Role.NURSE, [site_m])


@pytest.fixture
def clinician_lan_m(site_m):
    return make_user("clinician_lan_m", Role.CLINICIAN, [site_m])


@pytest.fixture
def patient_l(site_l, nurse_lan):
    return enrol(site_l, by=nurse_lan, first_name="Louise", last_name="Lambert")


@pytest.fixture
def madrs_l(api, patient_l):
    """patient_l's baseline MADRS, recorded by their nurse through the API."""
    created = api("nurse_lan").post(MADRS_URL, madrs_body(patient_l), format="json")
    assert created.status_code == 201, created.json()
    return created.json()


@pytest.fixture
def sf_mpq_l(api, patient_l):
    body = {"patient": patient_l.pk, "visit_code": "BL", "assessed_on": "2026-02-02"} | SF_MPQ
    created = api("nurse_lan").post(SF_MPQ_URL, body, format="json")
    assert created.status_code == 201, created.json()
    return created.json()


def madrs_body(patient, visit="BL", ratings=BASELINE, **extra):
    body = {"patient": patient.pk, "visit_code": visit, "assessed_on": "2026-02-02", "rater": "JD"}
    return body | ratings | extra


def correction(**extra):
    return {"assessed_on": "2026-02-02", "rater": "JD", "version": 1, "reason": "x"} | LATER | extra


# Another site's or another study's rows, through the API's filters and ids.

FOREIGN_READERS = ("nurse_site_a", "clinician_site_a", "nurse_lan_m", "clinician_lan_m")


@pytest.mark.parametrize("persona", FOREIGN_READERS)
def test_another_sites_assessments_are_not_listed_whatever_the_filter(
    api, persona, patient_l, madrs_l, sf_mpq_l
):
    client = api(persona)
    for url in (MADRS_URL, SF_MPQ_URL):
        for query in (
            {},
            {"patient": patient_l.pk},
            {"site": "SL"},
            {"visit_code": "BL"},
            {"study": "LAN2022"},
        ):
            response = client.get(url, query)
            assert response.status_code == 200, (url, query)
            assert response.json()["results"] == [], (url, query)


@pytest.mark.parametrize("persona", FOREIGN_READERS)
def test_another_sites_assessment_is_a_404_to_read_and_to_correct(api, persona, madrs_l, sf_mpq_l):
    client = api(persona)
    assert client.get(f"{MADRS_URL}{madrs_l['id']}/").status_code == 404
    assert client.get(f"{SF_MPQ_URL}{sf_mpq_l['id']}/").status_code == 404
    put = client.put(f"{MADRS_URL}{madrs_l['id']}/", correction(), format="json")
    assert put.status_code == 404
    patched = client.patch(f"{MADRS_URL}{madrs_l['id']}/", {"madrs_1": 0}, format="json")
    assert patched.status_code in {404, 405}
    body = {"assessed_on": "2026-02-02", "version": 1, "reason": "x"} | SF_MPQ
    assert client.put(f"{SF_MPQ_URL}{sf_mpq_l['id']}/", body, format="json").status_code == 404
    assert MadrsAssessment.objects.get().version == 1
    assert SfMpqAssessment.objects.get().version == 1


@pytest.mark.parametrize("persona", FOREIGN_READERS)
def test_a_patient_of_another_site_in_the_body_records_nothing(api, persona, patient_l):
    client = api(persona)
    response = client.post(MADRS_URL, madrs_body(patient_l), format="json")
    assert response.status_code == 400
    assert "patient" in response.json()
    body = {"patient": patient_l.pk, "visit_code": "BL", "assessed_on": "2026-02-02"} | SF_MPQ
    assert client.post(SF_MPQ_URL, body, format="json").status_code == 400
    assert not MadrsAssessment.objects.exists()
    assert not SfMpqAssessment.objects.exists()


def test_a_patients_id_cannot_be_moved_by_a_correction(api, patient_l, madrs_l, nurse_lan):
    other = enrol(patient_l.site, by=nurse_lan, first_name="Marc", last_name="Martin")
    url = f"{MADRS_URL}{madrs_l['id']}/"
    body = correction(patient=other.pk, visit_code="D26")
    saved = api("nurse_lan").put(url, body, format="json")
    assert saved.status_code == 200
    row = MadrsAssessment.objects.get()
    assert (row.patient_id, row.visit_code) == (patient_l.pk, "BL")


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a"])
def test_another_studys_patients_and_calls_are_not_listed_by_study(api, persona, patient_l):
    client = api(persona)
    for url in ("/api/v1/patients/", "/api/v1/calls/"):
        for query in ({"study": "LAN2022"}, {"site": "SL"}, {"patient": patient_l.pk}):
            response = client.get(url, query)
            assert response.status_code in {200, 400}, (url, query)
            if response.status_code == 200:
                assert response.json()["results"] == [], (url, query)
    assert client.get(f"/api/v1/patients/{patient_l.pk}/").status_code == 404


def test_the_study_filter_narrows_what_all_site_roles_see(api, patient_a, patient_l):
    for persona in ("statistician", "data_manager"):
        client = api(persona)
        listed = client.get("/api/v1/patients/", {"study": "LAN2022"}).json()["results"]
        assert [row["id"] for row in listed] == [patient_l.pk]
        calls = client.get("/api/v1/calls/", {"study": "LAN2022"}).json()["results"]
        assert calls
        assert {row["patient"] for row in calls} == {patient_l.pk}


# Roles that may not write.


def test_a_statistician_reads_but_neither_records_nor_corrects(api, patient_l, madrs_l):
    client = api("statistician")
    assert client.get(f"{MADRS_URL}{madrs_l['id']}/").status_code == 200
    assert client.post(MADRS_URL, madrs_body(patient_l, "D1"), format="json").status_code == 403
    url = f"{MADRS_URL}{madrs_l['id']}/"
    assert client.put(url, correction(), format="json").status_code == 403
    assert MadrsAssessment.objects.get().version == 1


# Implausible values, through the API (create and correction).

IMPLAUSIBLE = [
    (MADRS_URL, "assessed_on", "1900-01-01"),
    (MADRS_URL, "assessed_on", "2150-01-01"),
    (MADRS_URL, "madrs_1", 7),
    (MADRS_URL, "madrs_10", -1),
    (MADRS_URL, "madrs_3", "3.5"),
    (MADRS_URL, "rater", ""),
    (MADRS_URL, "rater", "x" * 61),
    (MADRS_URL, "visit_code", "M1"),
    (MADRS_URL, "visit_code", "W1"),
    (MADRS_URL, "visit_code", "BL' OR 1=1--"),
    (MADRS_URL, "visit_code", "<b>BL</b>"),
    (MADRS_URL, "visit_code", "bl"),
    (MADRS_URL, "visit_code", "BL'--"),
    (MADRS_URL, "visit_code", "<i>BL"),
    (MADRS_URL, "visit_code", "BL\x00"),
    (SF_MPQ_URL, "sf_mpq_vas", 101),
    (SF_MPQ_URL, "sf_mpq_vas", -1),
    (SF_MPQ_URL, "sf_mpq_1", 4),
    (SF_MPQ_URL, "assessed_on", "2150-01-01"),
]


@pytest.mark.parametrize(("url", "field", "value"), IMPLAUSIBLE)
def test_an_implausible_value_is_refused_on_record(api, patient_l, url, field, value):
    body = madrs_body(patient_l) if url == MADRS_URL else {"patient": patient_l.pk} | SF_MPQ
    body |= {"visit_code": "BL", "assessed_on": "2026-02-02", field: value}
    response = api("nurse_lan").post(url, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not MadrsAssessment.objects.exists()
    assert not SfMpqAssessment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("assessed_on", "1900-01-01"),
        ("assessed_on", "2150-01-01"),
        ("madrs_2", 7),
        ("madrs_2", -1),
        ("rater", ""),
        ("rater", "Lambert"),
    ],
)
def test_an_implausible_value_is_refused_on_correction(api, madrs_l, field, value):
    url = f"{MADRS_URL}{madrs_l['id']}/"
    response = api("nurse_lan").put(url, correction(**{field: value}), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    row = MadrsAssessment.objects.get()
    assert (row.version, row.total) == (1, 32)


def test_a_visit_code_with_spaces_around_is_stored_trimmed(api, patient_l):
    body = madrs_body(patient_l, visit=" BL ")
    assert api("nurse_lan").post(MADRS_URL, body, format="json").status_code == 201
    assert MadrsAssessment.objects.get().visit_code == "BL"


def test_a_foreign_visit_code_is_not_echoed_as_html(api, patient_l):
    body = madrs_body(patient_l, visit="<i>x</i>")
    response = api("nurse_lan").post(MADRS_URL, body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_a_patient_of_the_first_study_has_no_rated_visit(api, patient_a):
    for code in ("BL", "D1", "D26", "M1"):
        response = api("nurse_site_a").post(MADRS_URL, madrs_body(patient_a, code), format="json")
        assert response.status_code == 400
        assert "visit_code" in response.json()
    assert not MadrsAssessment.objects.exists()


# Twice.


def test_the_same_madrs_twice_records_one(api, patient_l, madrs_l):
    client = api("nurse_lan")
    again = client.post(MADRS_URL, madrs_body(patient_l), format="json")
    assert again.status_code == 400
    other_nurse = client.post(MADRS_URL, madrs_body(patient_l, ratings=LATER), format="json")
    assert other_nurse.status_code == 400
    assert MadrsAssessment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_madrs_racing_from_two_pages_records_one(patient_l, nurse_lan):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one at a time: there is no race to lose")
    url = reverse("followup:assessment_entry", args=[patient_l.pk, "madrs", "BL"])
    form = {"assessed_on": "2026-02-02", "rater": "JD"} | BASELINE
    answers: list[int] = []
    barrier = threading.Barrier(2)

    def send() -> None:
        client = SignedInClient()
        client.force_login(nurse_lan)
        barrier.wait()
        answers.append(client.post(url, form).status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [302, 400]
    assert MadrsAssessment.objects.count() == 1


def test_two_corrections_from_the_same_version_save_one(api, madrs_l):
    client = api("nurse_lan")
    url = f"{MADRS_URL}{madrs_l['id']}/"
    assert client.put(url, correction(reason="first"), format="json").status_code == 200
    second = client.put(url, correction(reason="second", madrs_1=6), format="json")
    assert second.status_code == 409
    row = MadrsAssessment.objects.get()
    assert (row.version, row.item_1) == (2, LATER["madrs_1"])


# The pages.


def test_the_pages_of_another_sites_patient_are_404(client, patient_l, madrs_l, nurse_lan_m):
    client.force_login(nurse_lan_m)
    assert client.get(reverse("followup:assessment_list", args=[patient_l.pk])).status_code == 404
    url = reverse("followup:assessment_entry", args=[patient_l.pk, "madrs", "D26"])
    assert client.get(url).status_code == 404
    posted = client.post(url, {"assessed_on": "2026-02-02", "rater": "X"} | LATER)
    assert posted.status_code == 404
    assert MadrsAssessment.objects.count() == 1


def test_the_entry_page_refuses_a_visit_or_instrument_not_of_the_study(
    client, patient_l, patient_a, nurse_lan, nurse_site_a
):
    client.force_login(nurse_lan)
    for instrument, visit in (
        ("madrs", "M1"),
        ("madrs", "BL'--"),
        ("madrs", "<b>"),
        ("hads", "BL"),
        ("sf_mpq", "D1"),
    ):
        url = reverse("followup:assessment_entry", args=[patient_l.pk, instrument, visit])
        assert client.get(url).status_code == 404, (instrument, visit)
        assert client.post(url, {"assessed_on": "2026-02-02"}).status_code == 404
    client.force_login(nurse_site_a)
    url = reverse("followup:assessment_entry", args=[patient_a.pk, "madrs", "BL"])
    assert client.get(url).status_code == 404


def test_the_page_refuses_a_date_of_2150_and_a_rater_naming_the_patient(
    client, patient_l, nurse_lan
):
    client.force_login(nurse_lan)
    url = reverse("followup:assessment_entry", args=[patient_l.pk, "madrs", "BL"])
    response = client.post(url, {"assessed_on": "2150-01-01", "rater": "Lambert"} | BASELINE)
    assert response.status_code == 400
    form = response.context["form"]
    assert {"assessed_on", "rater"} <= set(form.errors)
    assert not MadrsAssessment.objects.exists()


def test_a_statistician_cannot_open_the_entry_page(client, patient_l, statistician):
    client.force_login(statistician)
    url = reverse("followup:assessment_entry", args=[patient_l.pk, "madrs", "BL"])
    assert client.get(url).status_code == 403
    posted = client.post(url, {"assessed_on": "2026-02-02", "rater": "X"} | BASELINE)
    assert posted.status_code == 403
    assert not MadrsAssessment.objects.exists()


def test_the_worklist_study_filter_with_a_foreign_study_shows_only_own_patients(
    client, patient_a, patient_l, nurse_lan
):
    client.force_login(nurse_lan)
    page = client.get(reverse("followup:worklist"), {"study": "VOUTE2023"})
    assert page.status_code == 200
    assert patient_a.study_code not in page.content.decode()


def test_the_worklist_study_filter_narrows_a_nurse_of_two_studies(
    client, patient_a, patient_l, nurse_lan, site_a
):
    nurse_lan.sites.add(site_a)
    client.force_login(nurse_lan)
    both = client.get(reverse("followup:worklist")).content.decode()
    assert patient_a.study_code in both
    assert patient_l.study_code in both
    page = client.get(reverse("followup:worklist"), {"study": "LAN2022"}).content.decode()
    assert patient_l.study_code in page
    assert patient_a.study_code not in page


# Rights: the studies and the sites in the administration site.


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a", "statistician"])
def test_a_site_role_cannot_change_a_study_or_a_sites_study(
    client, request, persona, lan_study, site_a
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    study = Study.objects.get(code="LAN2022")
    change = reverse("admin:cohort_study_change", args=[study.pk])
    assert client.get(change).status_code in {302, 403}
    client.post(change, {"code": "LAN2022", "name": "Renamed", "definition": "voute2023"})
    assert Study.objects.get(pk=study.pk).name == "Lan et al. 2022"
    site_change = reverse("admin:cohort_site_change", args=[site_a.pk])
    client.post(site_change, {"code": "SA", "name": site_a.name, "study": study.pk})
    assert Site.objects.get(pk=site_a.pk).study.code != "LAN2022"
    add = reverse("admin:cohort_study_add")
    client.post(add, {"code": "EVIL", "name": "Evil", "definition": "lan2022"})
    assert not Study.objects.filter(code="EVIL").exists()


def test_a_data_manager_cannot_move_a_site_with_patients_to_another_study(
    client, data_manager, site_a, patient_a, lan_study
):
    client.force_login(data_manager)
    first = site_a.study
    url = reverse("admin:cohort_site_change", args=[site_a.pk])
    form = {"code": "SA", "name": site_a.name, "city": "", "study": lan_study.pk}
    client.post(url, form | {"is_active": "on"})
    assert Site.objects.get(pk=site_a.pk).study == first
    assert patient_a.calls.filter(timepoint="M1").exists()


def test_a_data_manager_moves_a_site_without_patients(client, data_manager, site_m, site_a):
    client.force_login(data_manager)
    url = reverse("admin:cohort_site_change", args=[site_m.pk])
    form = {"code": "SM", "name": site_m.name, "city": "", "study": site_a.study.pk}
    assert client.post(url, form | {"is_active": "on"}).status_code == 302
    assert Site.objects.get(pk=site_m.pk).study == site_a.study


def test_a_data_manager_cannot_change_the_definition_of_a_study_with_patients(
    client, data_manager, site_a, patient_a
):
    client.force_login(data_manager)
    study = site_a.study
    url = reverse("admin:cohort_study_change", args=[study.pk])
    client.post(url, {"code": study.code, "name": study.name, "definition": "lan2022"})
    assert Study.objects.get(pk=study.pk).definition == study.definition


def test_the_worklist_site_filter_with_a_foreign_site_shows_only_own_patients(
    client, patient_a, patient_l, nurse_lan
):
    client.force_login(nurse_lan)
    page = client.get(reverse("followup:worklist"), {"site": "SA"}).content.decode()
    assert patient_l.study_code in page
    assert patient_a.study_code not in page


def test_a_data_manager_cannot_change_an_assessment_in_the_administration_site(
    client, data_manager, madrs_l
):
    client.force_login(data_manager)
    url = reverse("admin:followup_madrsassessment_change", args=[madrs_l["id"]])
    assert client.get(url).status_code == 200
    client.post(url, {"visit_code": "D26", "assessed_on": "2026-02-03", "rater": "X", "item_1": 0})
    row = MadrsAssessment.objects.get()
    assert (row.visit_code, row.item_1, row.version) == ("BL", BASELINE["madrs_1"], 1)
