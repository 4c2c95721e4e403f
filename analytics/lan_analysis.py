"""The executor of the ``lan2022-moderation`` analysis plan (Lan et al. 2022).

The worker reads the study's patients as four frames (``analytics.lan_dataset``), runs the pure
moderation analysis on them (``analytics.report.lan2022``) and stores its report on the run.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from analytics import lan_dataset
from analytics.models import AnalysisRun
from analytics.report import lan2022 as lan_report
from analytics.report import library_versions
from analytics.services import analysis_threads, patients_of_study, unchanged_record

PLAN = "lan2022-moderation"


def parameters() -> dict[str, Any]:
    """Return the parameters a new run of the plan records."""
    return {"scale": "sd"}


def fingerprint(data_fingerprint: str, params: dict[str, Any]) -> str:
    """Return the hash of the data, the parameters and the report schema version."""
    digest = hashlib.sha256()
    digest.update(data_fingerprint.encode())
    digest.update(repr(sorted(params.items())).encode())
    digest.update(f"{lan_report.SCHEMA}:{lan_report.SCHEMA_VERSION}".encode())
    return digest.hexdigest()


def execute(run: AnalysisRun) -> None:
    """Read the run's study, analyse it and store the report (or mark the run unchanged)."""
    scale = str(run.parameters.get("scale", "sd"))
    data = lan_dataset.load(patients_of_study(run.study), as_of=timezone.localdate())
    run.fingerprint = fingerprint(data.fingerprint(), {"scale": scale})
    size = lan_report.sizes(data.patients, data.visits)
    run.n_patients = size["patients"]
    run.n_calls = size["ratings"]
    run.versions = library_versions()
    run.heartbeat_at = timezone.now()
    run.steps_total = 1
    run.step = "moderation analysis"
    run.save(
        update_fields=[
            "fingerprint", "n_patients", "n_calls", "versions", "heartbeat_at", "steps_total",
            "step",
        ]
    )  # fmt: skip
    if unchanged_record(run):
        return
    with analysis_threads():
        result = lan_report.build(
            data.patients,
            data.visits,
            data.infusions,
            data.adverse,
            as_of=data.as_of,
            fingerprint=run.fingerprint,
            scale=scale,
        )
    run.report = result
    run.summary = lan_report.summary(result)
    run.timings = result["run"]["timings_s"]
    run.status = AnalysisRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.step = ""
    run.steps_done = 1
    with transaction.atomic():
        run.save(
            update_fields=[
                "report", "summary", "timings", "status", "finished_at", "step", "steps_done",
            ]
        )  # fmt: skip
