"""Exports of the second study's rated assessments, and each study's patients in its own layouts.

Worked example (``tests.followup.test_assessments``): a baseline MADRS of 32 and a D1 of 12, a
fall of 62.5%: a response, not a remission; an SF-MPQ of sensory 13, affective 6, total 19.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest
from django.urls import reverse

from accounts.roles import Role
from analytics.exports import dictionary, layouts
from analytics.exports.responses import export_patients
from analytics.models import ExportLog
from cohort.models import Study
from followup import services
from followup.models import MadrsAssessment, SfMpqAssessment
from tests.factories import SiteFactory, enrol, make_user, set_up
from tests.followup.test_assessments import (
    BASELINE,
    LATER,
    MADRS_VISITS,
    SF_MPQ,
    SF_MPQ_VISITS,
)

pytestmark = pytest.mark.django_db


def _madrs(patient, by, visit, ratings, day=dt.date(2026, 2, 2)):
    return services.assessment_record(
        model=MadrsAssessment,
        patient=patient,
        visit_code=visit,
        assessed_on=day,
        data=ratings | {"rater": "JD"},
        allowed_visits=MADRS_VISITS,
        by=by,
    )


@pytest.fixture
def world(lan_study, site_a, nurse_site_a):
    """A first-study patient (SA), two patients of the second study (LA), one of another study
    following the same definition (LB); each rated patient has a MADRS at BL and D1."""
    other = Study.objects.create(code="LANBIS", name="Lan replication", definition="lan2022")
    lan_a = SiteFactory(code="LA", study=lan_study)
    lan_b = SiteFactory(code="LB", study=other)
    nurse_site_a.sites.add(lan_a, lan_b)
    with set_up():
        first = enrol(site_a, by=nurse_site_a)
        rated = [enrol(lan_a, by=nurse_site_a), enrol(lan_a, by=nurse_site_a)]
        rated.append(enrol(lan_b, by=nurse_site_a))
        for patient in rated:
            _madrs(patient, nurse_site_a, "BL", BASELINE)
            _madrs(patient, nurse_site_a, "D1", LATER, day=dt.date(2026, 2, 3))
        services.assessment_record(
            model=SfMpqAssessment,
            patient=rated[0],
            visit_code="BL",
            assessed_on=dt.date(2026, 2, 2),
            data=SF_MPQ,
            allowed_visits=SF_MPQ_VISITS,
            by=nurse_site_a,
        )
        # Entered for the wrong patient, then voided: never exported.
        wrong = _madrs(rated[1], nurse_site_a, "D3", LATER, day=dt.date(2026, 2, 4))
        services.assessment_void(assessment=wrong, by=nurse_site_a, reason="Wrong patient")
    return {"first": first, "rated": rated, "lan_a": lan_a, "lan_b": lan_b, "other": other}


def test_madrs_has_a_row_per_patient_and_visit_with_items_total_and_outcomes(world):
    frame = layouts.frame("madrs")
    mine = frame[frame["study_id"] == world["rated"][0].study_code]
    assert mine["visit"].tolist() == ["BL", "D1"]
    baseline, d1 = mine.iloc[0], mine.iloc[1]
    assert [baseline[f"madrs_{n}"] for n in range(1, 11)] == list(BASELINE.values())
    assert (baseline["madrs_total"], d1["madrs_total"], d1["madrs_total_bl"]) == (32, 12, 32)
    assert d1["madrs_change_pct"] == pytest.approx(-62.5)
    assert (d1["madrs_response"], d1["madrs_remission"]) == (1, 0)
    assert baseline["madrs_response"] is pd.NA
    assert baseline["madrs_remission"] is pd.NA  # outcomes of the treatment: none at baseline
    assert d1["assessed_on"] == dt.datetime(2026, 2, 3)
    # The voided D3 is left out; every row is a second-study patient.
    assert "D3" not in frame["visit"].tolist()
    assert world["first"].study_code not in frame["study_id"].tolist()


def test_sf_mpq_has_its_descriptors_scores_vas_and_ppi(world):
    frame = layouts.frame("sf_mpq")
    assert len(frame) == 1
    row = frame.iloc[0]
    assert [row[f"sf_mpq_{n}"] for n in range(1, 16)] == [
        SF_MPQ[f"sf_mpq_{n}"] for n in range(1, 16)
    ]
    assert (row["sf_mpq_sensory"], row["sf_mpq_affective"], row["sf_mpq_total"]) == (13, 6, 19)
    assert (row["sf_mpq_vas"], row["sf_mpq_ppi"]) == (64, 3)


def test_the_first_studys_layouts_never_hold_a_second_study_patient(world):
    first = world["first"].study_code
    for layout in ("long", "wide", "baseline"):
        frame = layouts.frame(layout)
        assert set(frame["study_id"]) == {first}, layout


def test_a_study_given_narrows_the_download_to_its_patients(client, statistician, world):
    client.force_login(statistician)
    url = reverse("analytics:export_download", args=["madrs", "csv"])
    rows = _csv(client.get(url, {"study": "LAN2022"}))
    codes = {row["study_id"] for row in rows}
    assert codes == {p.study_code for p in world["rated"][:2]}
    everyone = {row["study_id"] for row in _csv(client.get(url))}
    assert everyone == {p.study_code for p in world["rated"]}
    # The first study has no MADRS, an unknown study does not exist.
    assert client.get(url, {"study": "VOUTE2023"}).status_code == 404
    assert client.get(url, {"study": "NOPE"}).status_code == 404
    wide = reverse("analytics:export_download", args=["wide", "csv"])
    assert client.get(wide, {"study": "LAN2022"}).status_code == 404


def test_a_site_scoped_user_exports_their_sites_only(world, lan_study):
    nurse = make_user("nurse_la", Role.NURSE, [world["lan_a"]])
    codes = set(layouts.frame("madrs", export_patients(nurse))["study_id"])
    assert codes == {p.study_code for p in world["rated"][:2]}


def test_a_rated_export_is_logged_with_the_study_in_its_file_name(client, data_manager, world):
    client.force_login(data_manager)
    url = reverse("analytics:export_download", args=["sf_mpq", "xlsx"])
    assert client.get(url, {"study": "LAN2022"}).status_code == 200
    log = ExportLog.objects.get()
    assert (log.layout, log.format, log.rows) == ("sf_mpq", "xlsx", 1)
    assert log.filename.startswith("lan2022_sf_mpq_")


def test_the_export_page_lists_each_studys_layouts(client, statistician, world):
    client.force_login(statistician)
    page = client.get(reverse("analytics:export_list")).content.decode()
    madrs = reverse("analytics:export_download", args=["madrs", "csv"])
    wide = reverse("analytics:export_download", args=["wide", "csv"])
    assert f"{madrs}?study=LAN2022" in page
    assert f"{wide}?study=VOUTE2023" in page
    assert f"{wide}?study=LAN2022" not in page
    assert f"{madrs}?study=VOUTE2023" not in page


def test_the_dictionary_describes_the_rated_layouts_in_english_and_french():
    frame = dictionary.dictionary_frame().set_index(["layout", "variable"])
    total = frame.loc[("madrs", "madrs_total_bl")]
    assert (total["type"], total["allowed_values"]) == ("integer", "0 to 60")
    assert total["label_fr"] == "Total MADRS à l'inclusion"
    ppi = frame.loc[("sf_mpq", "sf_mpq_ppi")]
    assert ppi["allowed_values"] == "0 to 5"
    assert frame.loc[("madrs", "madrs_response"), "label_fr"] != ""
    assert frame.loc[("sf_mpq", "sf_mpq_sensory"), "label_fr"] != ""


def _csv(response):
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_the_api_sends_a_studys_rated_layout_and_logs_it(statistician, world):
    from tests.api.conftest import SignedInAPIClient

    api = SignedInAPIClient()
    api.force_login(statistician)
    rows = _csv(api.get("/api/v1/exports/madrs.csv?study=LAN2022"))
    assert {row["study_id"] for row in rows} == {p.study_code for p in world["rated"][:2]}
    assert api.get("/api/v1/exports/madrs.csv?study=VOUTE2023").status_code == 404
    log = ExportLog.objects.get()
    assert (log.source, log.layout) == ("api", "madrs")
