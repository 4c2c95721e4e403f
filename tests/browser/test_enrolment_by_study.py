"""On the enrolment page, the site chosen shows or hides the chronic pain fields."""

from __future__ import annotations

from accounts.roles import Role
from cohort.models import Patient, Study
from tests.factories import SiteFactory, make_user


def test_the_site_chosen_with_the_keyboard_shows_or_hides_the_pain_history(
    transactional_db, new_page, sign_in, live_server, site_a
):
    lan = Study.objects.get_or_create(
        code="LAN2022", defaults={"name": "Lan et al. 2022", "definition": "lan2022"}
    )[0]
    site_lan = SiteFactory(code="SL", name="Psychiatry L", study=lan)
    make_user("both", Role.NURSE, [site_a, site_lan])
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "both")
    page.goto(f"{live_server.url}/patients/new/")
    etiology = page.locator("#id_patient-etiology")
    page.locator("#id_patient-site").focus()
    page.locator("#id_patient-site").select_option(str(site_lan.pk))
    assert not etiology.is_visible()
    assert etiology.is_disabled()
    assert not page.locator("#id_patient-pain_duration_months").is_visible()
    page.locator("#id_patient-site").select_option(str(site_a.pk))
    assert etiology.is_visible()
    assert etiology.is_enabled()
    # A depression-study patient is enrolled without the pain history typed before the switch.
    page.fill("#id_patient-pain_duration_months", "18")
    page.locator("#id_patient-site").select_option(str(site_lan.pk))
    for field, value in {
        "age": "40",
        "inclusion_date": "2026-03-02",
        "consent_date": "2026-03-01",
        "last_name": "Durand",
        "first_name": "Alice",
        "phone": "06 00 00 00 01",
        "weight_kg": "64.5",
    }.items():
        page.fill(f"#id_patient-{field}", value)
    page.check("#id_patient-sex_0")
    page.fill("#id_admin-date", "2026-03-02")
    page.select_option("#id_admin-route", "iv")
    page.select_option("#id_admin-dose_unit", "mg_per_kg")
    page.fill("#id_admin-dose_value", "0.5")
    page.fill("#id_admin-days", "1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/assessments/madrs/BL/**")
    patient = Patient.objects.get()
    assert (patient.site, patient.pain_duration_months, patient.etiology) == (site_lan, None, "")
    assert errors == []
