"""Writes of the analytics app: schedule a re-analysis, run it, record the outcome."""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from threadpoolctl import threadpool_limits

from analytics import dataset, report
from analytics.models import AnalysisRun, TrajectoryMembership
from analytics.signals import analysis_finished
from analytics.stats import parallel
from cohort.models import Patient, Study
from cohort.studies import FIRST_STUDY_CODE, first_study

logger = logging.getLogger(__name__)

Status = AnalysisRun.Status
Trigger = AnalysisRun.Trigger


def _seconds(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _parameters() -> report.Parameters:
    return report.Parameters.from_dict(getattr(settings, "ANALYSIS_PARAMETERS", {}))


def _parameters_for(study: Study) -> dict[str, Any]:
    """Return the parameters a new run of the study records (its plan's)."""
    if study.protocol.analysis_plan == report.SCHEMA:
        return _parameters().to_dict()
    from analytics import lan_analysis

    return lan_analysis.parameters()


# -- scheduling ----------------------------------------------------------------------------------
def _of_study(study: Study | None) -> Q:
    """Return the filter of a study's runs (the first study's when none is named)."""
    return Q(study__code=FIRST_STUDY_CODE) if study is None else Q(study=study)


def reanalysis_schedule(
    *,
    trigger: str,
    study: Study | None = None,
    by: Any = None,
    force: bool = False,
    delay: float | None = None,
    dispatch: bool = True,
) -> AnalysisRun:
    """Queue a re-analysis of a study (default: the first), or join its waiting one, and send it.

    Saves within the debounce delay join one run (each pushes its start back, up to a maximum
    wait); a save made while a run of the study is under way queues exactly one more. If the
    broker cannot be reached the run stays queued and the minute sweep sends it when the broker
    is back.
    """
    study = first_study() if study is None else study
    wait = _seconds("ANALYSIS_DEBOUNCE_SECONDS", 10) if delay is None else delay
    now = timezone.now()
    for _ in range(3):
        waiting = AnalysisRun.objects.filter(study=study, status=Status.QUEUED).first()
        if waiting is not None:
            latest = waiting.requested_at + timedelta(
                seconds=_seconds("ANALYSIS_MAX_WAIT_SECONDS", 120)
            )
            waiting.not_before = min(max(waiting.not_before, now + timedelta(seconds=wait)), latest)
            waiting.force = waiting.force or force
            waiting.save(update_fields=["not_before", "force"])
            return waiting
        try:
            with transaction.atomic():
                run = AnalysisRun.objects.create(
                    study=study,
                    trigger=trigger,
                    requested_by=by if getattr(by, "pk", None) else None,
                    force=force,
                    requested_at=now,
                    not_before=now + timedelta(seconds=wait),
                    parameters=_parameters_for(study),
                )
        except IntegrityError:
            continue  # another process queued one just now: join it
        if dispatch:
            run_dispatch(run=run)
        return run
    raise RuntimeError("could not queue an analysis run")


def reanalysis_schedule_active(*, trigger: str, **options: Any) -> list[AnalysisRun]:
    """Queue (or join) a re-analysis of every active study, in the order of their codes."""
    return [
        reanalysis_schedule(trigger=trigger, study=study, **options)
        for study in Study.objects.filter(is_active=True).order_by("code")
    ]


def run_dispatch(*, run: AnalysisRun) -> bool:
    """Send the run to the worker; return False (and keep it queued) if the broker is down."""
    from analytics.tasks import run_analysis

    countdown = max(0.0, (run.not_before - timezone.now()).total_seconds())
    try:
        run_analysis.apply_async(
            args=[run.pk],
            countdown=countdown,
            queue=settings.ANALYSIS_QUEUE,
            retry=False,
        )
    except Exception as error:  # the broker's errors vary by transport
        logger.warning("Analysis run %s stays queued: broker unavailable (%s)", run.pk, error)
        return False
    AnalysisRun.objects.filter(pk=run.pk).update(dispatched_at=timezone.now())
    return True


def reanalysis_on_commit(
    *, trigger: str = Trigger.DATA_CHANGE, study_id: int | None = None
) -> None:
    """After the current transaction commits, schedule the re-analysis of the study whose data
    changed (``study_id``; None: every active study, where the caller cannot tell which).

    Once per transaction and trigger: the writes of a large one (an import makes a change per
    patient, call and administration) share one scheduling, which collects the studies they
    touched, instead of holding a callback each until the commit. Never fails the save.
    """
    if not getattr(settings, "ANALYSIS_ON_COMMIT", True):
        return
    pending = transaction.get_connection().run_on_commit
    for _, func, _ in pending:
        if getattr(func, "reanalysis_trigger", None) == trigger:
            func.reanalysis_studies.add(study_id)
            return
    studies: set[int | None] = {study_id}

    def schedule() -> None:
        try:
            if None in studies:
                reanalysis_schedule_active(trigger=trigger)
                return
            for study in Study.objects.filter(pk__in=studies).order_by("code"):
                reanalysis_schedule(trigger=trigger, study=study)
        except Exception:
            logger.exception("Could not schedule the re-analysis after a data change")

    schedule.reanalysis_trigger = trigger  # type: ignore[attr-defined]
    schedule.reanalysis_studies = studies  # type: ignore[attr-defined]
    transaction.on_commit(schedule)


def runs_sweep() -> dict[str, int]:
    """Fail runs whose worker went silent and send queued runs the broker never got."""
    now = timezone.now()
    stale = now - timedelta(seconds=_seconds("ANALYSIS_STALE_SECONDS", 900))
    failed = AnalysisRun.objects.filter(status=Status.RUNNING, heartbeat_at__lt=stale).update(
        status=Status.FAILED,
        finished_at=now,
        error="The worker stopped giving signs of life during this run.",
    )
    sent = 0
    lost = now - timedelta(seconds=_seconds("ANALYSIS_REDISPATCH_SECONDS", 300))
    for run in AnalysisRun.objects.filter(status=Status.QUEUED):
        never_sent = run.dispatched_at is None
        overdue = run.dispatched_at is not None and max(run.dispatched_at, run.not_before) < lost
        if (never_sent or overdue) and run_dispatch(run=run):
            sent += 1
    return {"failed": failed, "sent": sent}


def runs_fail_for_worker(*, worker: str) -> int:
    """Fail the runs a restarted worker had under way: the process that ran them is gone."""
    return AnalysisRun.objects.filter(status=Status.RUNNING, worker=worker).update(
        status=Status.FAILED,
        finished_at=timezone.now(),
        error="The worker was stopped during this run.",
    )


# -- execution -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What became of one attempt to execute a run."""

    run: AnalysisRun | None
    retry_in: float | None = None  # seconds; set when the run must wait


def _claim(run_id: int, worker: str, *, wait: bool) -> Outcome:
    """Move the run from queued to running, unless it must wait or is already taken."""
    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is None or run.status != Status.QUEUED:
        return Outcome(run)  # gone, or a duplicate delivery: nothing to do
    now = timezone.now()
    if wait and run.not_before > now:
        return Outcome(run, retry_in=(run.not_before - now).total_seconds())
    try:
        with transaction.atomic():
            claimed = AnalysisRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
                status=Status.RUNNING,
                started_at=now,
                heartbeat_at=now,
                worker=worker,
                step="loading data",
            )
    except IntegrityError:
        # Another run is under way; fail it first if its worker went silent.
        runs_sweep()
        return Outcome(run, retry_in=_seconds("ANALYSIS_BUSY_RETRY_SECONDS", 5))
    if not claimed:
        return Outcome(AnalysisRun.objects.get(pk=run_id))
    run.refresh_from_db()
    return Outcome(run)


def fingerprint(data: dataset.StudyData, params: report.Parameters) -> str:
    """Return the hash of the data, the parameters and the report schema version."""
    digest = hashlib.sha256()
    digest.update(data.fingerprint().encode())
    digest.update(json.dumps(params.to_dict(), sort_keys=True).encode())
    digest.update(f"{report.SCHEMA}:{report.SCHEMA_VERSION}".encode())
    return digest.hexdigest()


def latest_good_run(study: Study | None = None) -> AnalysisRun | None:
    """Return a study's newest run with results (default: the first study's).

    Pages, exports and the API show this one.
    """
    return (
        AnalysisRun.objects.filter(_of_study(study), status=Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .defer("report", "summary")
        .first()
    )


def latest_good_run_summary(study: Study | None = None) -> dict[str, Any] | None:
    """Return the pk, finish time and size of a study's newest successful run (one query)."""
    return (
        AnalysisRun.objects.filter(_of_study(study), status=Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .values("pk", "finished_at", "n_patients", "n_calls")
        .first()
    )


def run_execute(*, run_id: int, worker: str = "", wait: bool = True) -> Outcome:
    """Run the analysis of one queued run and store its report or its error."""
    outcome = _claim(run_id, worker, wait=wait)
    run = outcome.run
    if run is None or outcome.retry_in is not None or run.status != Status.RUNNING:
        return outcome
    try:
        _execute(run)
    except Exception as error:
        logger.exception("Analysis run %s failed", run.pk)
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:2000],
            error_detail=traceback.format_exc()[-20000:],
        )
    finally:
        _send_next(run.study_id)
    run.refresh_from_db()
    return Outcome(run)


@contextmanager
def analysis_threads() -> Iterator[None]:
    """Limit the linear algebra library to ``ANALYSIS_BLAS_THREADS`` threads for the block, and
    let its independent pieces (model fits, blocks of resamples) run on ``ANALYSIS_THREADS``."""
    with (
        threadpool_limits(limits=settings.ANALYSIS_BLAS_THREADS),
        parallel.workers(settings.ANALYSIS_THREADS),
    ):
        yield


def _execute(run: AnalysisRun) -> None:
    """Run the analysis plan the run's study definition names."""
    plan = run.study.protocol.analysis_plan
    executor = _executors().get(plan)
    if executor is None:
        raise LookupError(f"No analysis is written for the plan {plan!r} of {run.study.code}.")
    executor(run)


def _executors() -> dict[str, Callable[[AnalysisRun], None]]:
    """Return the executor of each analysis plan, by the key a definition names."""
    from analytics import lan_analysis

    return {report.SCHEMA: _execute_followup, lan_analysis.PLAN: lan_analysis.execute}


def patients_of_study(study: Study) -> QuerySet[Patient]:
    """Return the patients a run of the study analyses: those of its sites."""
    return Patient.objects.filter(site__study=study)


def unchanged_record(run: AnalysisRun) -> bool:
    """Mark the run unchanged if the study's newest results come from the same data.

    Return whether it did (a forced run is always recomputed).
    """
    previous = latest_good_run(run.study)
    if run.force or previous is None or previous.fingerprint != run.fingerprint:
        return False
    run.status = Status.UNCHANGED
    run.same_as = previous
    run.finished_at = timezone.now()
    run.step = ""
    run.save(update_fields=["status", "same_as", "finished_at", "step"])
    return True


def _execute_followup(run: AnalysisRun) -> None:
    params = report.Parameters.from_dict(run.parameters)
    # The data cut: the day the study is read. The pure report receives it with the data. The
    # report is the first study's analysis plan: it reads the run's study's patients only.
    data = dataset.load(patients_of_study(run.study), as_of=timezone.localdate())
    run.fingerprint = fingerprint(data, params)
    run.n_patients = int(data.long["patient"].nunique())
    run.n_calls = int(data.long["call_status"].eq("reached").sum())
    run.versions = report.library_versions()
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["fingerprint", "n_patients", "n_calls", "versions", "heartbeat_at"])
    if unchanged_record(run):
        return

    def progress(step: str, done: int, total: int) -> None:
        AnalysisRun.objects.filter(pk=run.pk).update(
            step=step.replace("_", " "),
            steps_done=done,
            steps_total=total,
            heartbeat_at=timezone.now(),
        )

    with analysis_threads():
        result = report.build_report(data, params, progress=progress, fingerprint=run.fingerprint)
    run.report = result
    run.summary = report_summary(result)
    run.timings = result["run"]["timings_s"]
    run.status = Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.step = ""
    # The memberships and the status together: no page sees a succeeded run without its rows.
    with transaction.atomic():
        memberships_store(run, result)
        run.save(update_fields=["report", "summary", "timings", "status", "finished_at", "step"])
    # Announced once committed: quality checks its rules and computes the central monitoring
    # on the data just analysed, as of the same data cut (quality.receivers).
    transaction.on_commit(
        lambda: analysis_finished.send(sender=AnalysisRun, run=run, as_of=data.as_of)
    )


MEMBERSHIP_PATH = ("results", "trajectories", "membership")


def report_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Return the report without its per-patient membership table (what the dashboard reads).

    Only the dictionaries on the way to the table are copied; every other block is shared.
    """
    summary = dict(result)
    results = summary.get("results")
    if isinstance(results, dict) and isinstance(results.get("trajectories"), dict):
        trajectories = dict(results["trajectories"])
        trajectories.pop("membership", None)
        summary["results"] = {**results, "trajectories": trajectories}
    return summary


def memberships_store(run: AnalysisRun, result: dict[str, Any], batch: int = 5000) -> int:
    """Write the report's trajectory memberships as rows of the run; return how many.

    Patients without a group (not analysed by the trajectory model) get no row. Pages read the
    newest successful run's rows only, and every report keeps its own table: the rows of earlier
    runs are removed, so that the table holds one run's patients, not one per run.
    """
    table = result.get("results", {}).get("trajectories", {}).get("membership") or {}
    model = str(table.get("model", ""))
    rows = [
        TrajectoryMembership(
            run=run, patient_id=int(patient), group=group, posterior=posterior, model=model
        )
        for patient, group, posterior in zip(
            table.get("patient", []), table.get("group", []), table.get("posterior", []),
            strict=True,
        )
        if group
    ]  # fmt: skip
    TrajectoryMembership.objects.filter(run__study=run.study_id).delete()
    TrajectoryMembership.objects.bulk_create(rows, batch_size=batch)
    return len(rows)


def _send_next(study_id: int) -> None:
    """Hand the study's waiting run, if any, to the worker now that this one is done."""
    waiting = AnalysisRun.objects.filter(study_id=study_id, status=Status.QUEUED).first()
    if waiting is not None and waiting.dispatched_at is None:
        run_dispatch(run=waiting)
