"""A clinician finds a patient in the list and opens the timeline: the four charts draw."""

from __future__ import annotations

from accounts.roles import Role
from cohort.models import Patient
from demo.loader import demo_load
from demo.synthetic import generate
from tests.factories import make_user


def test_clinician_opens_a_timeline_from_the_patient_list(
    transactional_db, new_page, sign_in, live_server, shot
):
    demo_load(generate(40, seed=4))
    patient = Patient.objects.filter(calls__adverse_events__isnull=False).distinct().first()
    make_user("clin", Role.CLINICIAN, [patient.site])
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "clin")
    page.get_by_role("link", name="Patients").click()
    page.fill("#id_q", patient.study_code)
    page.keyboard.press("Enter")
    shot(page, "patient-list")
    page.get_by_role("link", name=patient.study_code).click()
    page.wait_for_selector("#chart-dose .main-svg")
    assert page.locator(".js-plotly-plot").count() == 4
    # mean pain, maximal pain, doses, adverse effects, missed calls
    assert page.locator("#chart-pain .trace").count() >= 4
    assert page.locator("#chart-hads .shapelayer path").count() == 3  # the HADS bands
    assert errors == []
    shot(page, "patient-timeline")
