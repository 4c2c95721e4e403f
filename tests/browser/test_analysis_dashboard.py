"""A statistician opens the live analysis in Chromium: the charts draw, the page has no errors."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from analytics import services
from demo.loader import demo_load
from demo.synthetic import generate
from tests.factories import make_user


@pytest.fixture
def analysed_cohort(transactional_db, settings):
    settings.ANALYSIS_PARAMETERS = {"n_boot": 100, "trajectory_groups": [1, 2, 3], "seed": 1}
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    demo_load(generate(80, seed=2))
    run = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    return services.run_execute(run_id=run.pk).run


def test_statistician_sees_the_dashboard_charts_drawn(
    analysed_cohort, new_page, sign_in, live_server, shot
):
    make_user("stat", Role.STATISTICIAN, [])
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "stat")
    page.goto(f"{live_server.url}/analysis/")
    page.wait_for_selector("#chart-trajectories .main-svg")
    # six outcome charts, Figure 2, the trajectories and the adverse effects
    assert page.locator(".js-plotly-plot").count() == 9
    assert page.locator("#chart-figure2 .scatterlayer .trace").count() == 3
    assert page.locator("#chart-trajectories .scatterlayer .trace").count() == 6
    assert page.get_by_role("button", name="Rerun now").is_visible()
    assert page.locator("table.replication tbody tr").count() > 100
    assert errors == []
    shot(page, "analysis-dashboard")
