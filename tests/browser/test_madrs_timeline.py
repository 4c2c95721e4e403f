"""A clinician opens a second-study patient's timeline: the MADRS chart draws with its lines."""

from __future__ import annotations

from django.urls import reverse

from accounts.roles import Role
from tests.cohort.test_madrs_timeline import course
from tests.factories import SiteFactory, make_user


def test_clinician_sees_the_madrs_course_drawn(
    transactional_db, lan_study, new_page, sign_in, live_server, shot
):
    site = SiteFactory(code="SL", name="Psychiatry L", study=lan_study)
    clinician = make_user("clin", Role.CLINICIAN, [site])
    # Rated at BL, D1 and D3 long ago: the later visits are missing today, none planned.
    patient = course(site, clinician, {"BL": 30, "D1": 20, "D3": 14}, today_day=4)
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "clin")
    page.goto(live_server.url + reverse("cohort:patient_timeline", args=[patient.pk]))
    page.wait_for_selector("#chart-madrs .main-svg")
    assert page.locator(".js-plotly-plot").count() == 1
    # The baseline, response and remission lines, and one line per infusion (days 0, 2, 4).
    assert page.locator("#chart-madrs .shapelayer path").count() == 6
    assert page.locator("#madrs-table tr.visit-missing").count() == 5
    assert errors == []
    shot(page, "madrs-timeline")
