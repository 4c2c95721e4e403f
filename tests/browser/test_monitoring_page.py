"""A statistician opens central monitoring in Chromium: the table and the three plots draw."""

from __future__ import annotations

import datetime as dt

from accounts.roles import Role
from demo.loader import demo_load
from demo.synthetic import generate
from quality.services import monitoring_compute
from tests.factories import make_user


def test_statistician_sees_the_monitoring_plots_drawn(
    transactional_db, new_page, sign_in, live_server, shot
):
    demo_load(generate(329, seed=0))
    monitoring_compute(as_of=dt.date(2019, 1, 1))  # what the worker stores after a run
    make_user("stat", Role.STATISTICIAN, [])
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "stat")
    page.goto(f"{live_server.url}/queries/monitoring/")
    page.wait_for_selector("#chart-means .main-svg")
    assert page.locator(".js-plotly-plot").count() == 3
    assert page.locator("table.monitoring tbody tr").count() >= 20
    page.select_option("#measure-choice", "change_m3")
    page.wait_for_selector("#chart-means .main-svg")
    assert errors == []
    shot(page, "monitoring-01-sites")
