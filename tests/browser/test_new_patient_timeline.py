"""The timeline of a new patient: no visit, one visit, two visits all draw a readable year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.roles import Role
from cohort.services import administration_record
from followup.services import call_save
from tests.factories import enrol, make_user
from tests.followup.test_questionnaire_validation import VALID

# (reached calls, screenshot name)
VISITS = [(0, "timeline-01-no-visit"), (1, "timeline-02-one-visit"), (2, "timeline-03-two-visits")]


@pytest.mark.parametrize(("visits", "name"), VISITS)
def test_a_new_patients_charts_span_the_planned_year_with_sane_ketamine_bars(
    transactional_db, new_page, sign_in, live_server, shot, site_a, visits, name
):
    nurse = make_user("clin", Role.CLINICIAN, [site_a])
    patient = enrol(site_a, by=nurse, inclusion_date=dt.date(2026, 1, 5))
    administration_record(
        patient=patient, date=dt.date(2026, 1, 5), route="iv", dose_unit="mg",
        dose_value=Decimal(80), days=2, by=nurse,
    )  # fmt: skip
    for call in patient.calls.order_by("sequence")[:visits]:
        call_save(call=call, data=VALID, by=nurse, complete=True, call_date=call.target_date)
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "clin")
    page.goto(f"{live_server.url}/patients/{patient.pk}/timeline/")
    page.wait_for_selector("#chart-dose .main-svg")
    for chart in ("chart-pain", "chart-hads", "chart-sf12", "chart-dose"):
        ticks = page.locator(f"#{chart} .xtick text").all_text_contents()
        assert ticks, chart
        assert not any(":" in tick for tick in ticks), (chart, ticks)  # no time of day
        start, end = page.evaluate(f"() => document.getElementById('{chart}').layout.xaxis.range")
        span = dt.date.fromisoformat(end[:10]) - dt.date.fromisoformat(start[:10])
        assert span.days > 300, (chart, start, end)
    # The ketamine bar of the pain chart stays well below the top of the plot.
    plot = page.locator("#chart-pain .nsewdrag").first.bounding_box()
    bar = page.locator("#chart-pain .bars path").first.bounding_box()
    assert bar["height"] < 0.5 * plot["height"]
    assert bar["width"] < 0.05 * plot["width"]
    notes = page.locator("#chart-pain .annotation-text").all_text_contents()
    assert (notes == ["No answers yet"]) == (visits == 0)
    assert errors == []
    shot(page, name)
