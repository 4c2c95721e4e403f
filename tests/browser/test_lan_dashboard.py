"""A statistician opens the second study's (Lan et al. 2022) analysis in Chromium."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import Role
from analytics.models import AnalysisRun
from analytics.report import lan2022 as lan_report
from cohort.models import Study
from cohort.studies import first_study
from tests.factories import SiteFactory, make_user
from trials.lan2022.synthetic import generate


@pytest.fixture
def lan_run(transactional_db):
    first_study()  # a deployment always has the first study (a flushed test database may not)
    study = Study.objects.create(code="LAN2022", name="Lan et al. 2022", definition="lan2022")
    SiteFactory(code="SL", name="Psychiatry L", study=study)
    trial = generate(11)
    report = lan_report.build(
        trial.patients, trial.visits, trial.infusions, trial.adverse, as_of=dt.date(2026, 3, 2)
    )
    return AnalysisRun.objects.create(
        study=study,
        status=AnalysisRun.Status.SUCCEEDED,
        trigger=AnalysisRun.Trigger.NIGHTLY,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        n_patients=report["run"]["patients"],
        n_calls=report["run"]["ratings"],
        report=report,
        summary=lan_report.summary(report),
    )


def test_statistician_reads_the_lan_dashboard(lan_run, new_page, sign_in, live_server, shot):
    make_user("stat", Role.STATISTICIAN, [])
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "stat")
    page.goto(f"{live_server.url}/analysis/")
    page.get_by_role("link", name="LAN2022").click()
    page.wait_for_selector("#lan-moderation")
    assert page.locator("#lan-moderation tbody tr").count() == 5
    assert page.locator("#lan-slopes tbody tr").count() == 5  # three groups, two contrasts
    assert page.locator("table.replication tr[data-status]").count() > 20
    assert page.get_by_role("button", name="Rerun now").is_visible()
    shot(page, "analysis-lan2022")
    assert errors == []
