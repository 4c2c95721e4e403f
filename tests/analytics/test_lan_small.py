"""An early second-study cohort: blocks the data cannot support yet say so; the run succeeds."""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from analytics import services
from analytics.models import AnalysisRun
from analytics.replication import lan2022 as rep
from analytics.report import lan2022 as lan_report
from trials.lan2022.synthetic import generate

AS_OF = dt.date(2026, 3, 2)


def _early(patients: int):
    """The first ``patients`` of a synthetic trial, rated at baseline only, no infusion yet."""
    trial = generate(3)
    keep = trial.patients["patient"].head(patients)
    visits = trial.visits.loc[trial.visits["patient"].isin(keep) & trial.visits["day"].eq(0)]
    infusions = trial.infusions.iloc[0:0]
    adverse = trial.adverse.iloc[0:0]
    return trial.patients.loc[trial.patients["patient"].isin(keep)], visits, infusions, adverse


def test_a_cohort_at_baseline_keeps_what_it_can_and_says_what_it_cannot():
    report = lan_report.build(*_early(5), as_of=AS_OF)
    results = report["results"]
    for name in ("moderation", "simple_slopes"):
        assert results[name]["available"] is False
        assert results[name]["reason"] == lan_report.NEEDS[name]
    # No infusion given yet: no rate per infusion.
    assert results["adverse_effects"]["reason"] == lan_report.NEEDS["adverse_effects"]
    assert report["run"]["patients"] == 5
    # The comparison with the paper reads only the blocks that were computed.
    assert all(row.section != "slopes" for row in rep.compare(report))


@pytest.mark.django_db
def test_an_empty_study_runs_and_its_dashboard_says_what_is_missing(
    lan_study, client, statistician
):
    queued = services.reanalysis_schedule(trigger="manual", study=lan_study, dispatch=False)
    run = services.run_execute(run_id=queued.pk, wait=False).run
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error_detail
    assert run.n_patients == 0
    client.force_login(statistician)
    response = client.get(reverse("analysis:dashboard"), {"study": lan_study.code})
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    notices = {p["data-unavailable"] for p in page.select("[data-unavailable]")}
    assert {"moderation", "simple_slopes"} <= notices
    assert page.select_one("#replication") is not None
