"""Clients of the REST API signed in as the named personas."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import AnalysisRun
from tests.conftest import SecondFactorLogin

PERSONAS = ("nurse_site_a", "clinician_site_a", "statistician", "data_manager")


class SignedInAPIClient(SecondFactorLogin, APIClient):
    """The API client, signed in past the second factor by ``force_login``."""


@pytest.fixture(autouse=True)
def _frozen():
    # The factories enrol on 2026-01-05: a day in the follow-up, so calls can be completed.
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture
def api(request):
    """Return a client signed in (by session) as the persona named."""

    def client_for(persona: str) -> APIClient:
        client = SignedInAPIClient()
        client.force_login(request.getfixturevalue(persona))
        return client

    return client_for


@pytest.fixture
def good_run(db):
    """A finished analysis run with a small report."""
    now = timezone.now()
    return AnalysisRun.objects.create(
        status=AnalysisRun.Status.SUCCEEDED,
        trigger=AnalysisRun.Trigger.NIGHTLY,
        started_at=now - dt.timedelta(seconds=42),
        finished_at=now,
        n_patients=2,
        timings={"total": 41.5},
        report={"schema": "ketamine-followup/analysis-report", "schema_version": 1, "run": {}},
    )
