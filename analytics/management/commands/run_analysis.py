"""Run a study's analysis now, in this process or through the worker, and write its report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analytics import services
from analytics.models import AnalysisRun
from cohort.models import Study


class Command(BaseCommand):
    help = (
        "Re-analyse the live database, one study (--study CODE) or every active study in turn, "
        "and write the report as JSON. Without --sync the worker runs it and this command waits."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--study", help="the study's code (default: every active study)")
        parser.add_argument("--sync", action="store_true", help="run in this process")
        parser.add_argument(
            "--output", help="write the report JSON to this file (one study: give --study)"
        )
        parser.add_argument(
            "--force", action="store_true", help="recompute even if the data did not change"
        )
        parser.add_argument(
            "--timeout", type=float, default=1800, help="seconds to wait for the worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        studies = self._studies(options.get("study"))
        if options.get("output") and len(studies) > 1:
            raise CommandError("--output writes one report: name its study with --study.")
        for study in studies:
            self._analyse(study, options)

    def _studies(self, code: str | None) -> list[Study]:
        if code is None:
            return list(Study.objects.filter(is_active=True).order_by("code"))
        study = Study.objects.filter(code=code).first()
        if study is None:
            known = ", ".join(Study.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"No study {code!r} (studies: {known}).")
        return [study]

    def _analyse(self, study: Study, options: dict[str, Any]) -> None:
        trigger = AnalysisRun.Trigger.COMMAND
        self.stdout.write(f"{study.code}:")
        if options["sync"]:
            run = services.reanalysis_schedule(
                trigger=trigger, study=study, force=options["force"], delay=0, dispatch=False
            )
            self.stdout.write(f"Analysis run {run.pk}: running in this process...")
            outcome = services.run_execute(run_id=run.pk, worker="command line", wait=False)
            run = outcome.run or run
            if run.status == AnalysisRun.Status.QUEUED:
                raise CommandError(
                    "Another analysis is running; try again when it ends, or without --sync."
                )
        else:
            run = services.reanalysis_schedule(
                trigger=trigger, study=study, force=options["force"], delay=0
            )
            self.stdout.write(f"Analysis run {run.pk} sent to the worker; waiting...")
            run = self._wait(run, options["timeout"])
        self._finish(run, options.get("output"))

    def _wait(self, run: AnalysisRun, timeout: float) -> AnalysisRun:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.is_finished:
                return run
            shown = f"{run.get_status_display()} {run.step}".strip()
            if shown != last and self.verbosity > 0:
                self.stdout.write(f"  {shown}")
                last = shown
            time.sleep(1)
        raise CommandError(
            f"The worker did not finish run {run.pk} within {timeout:.0f} s "
            "(is it running? `make worker`, or use --sync)."
        )

    def _finish(self, run: AnalysisRun, output: str | None) -> None:
        if run.status == AnalysisRun.Status.FAILED:
            raise CommandError(f"Analysis run {run.pk} failed: {run.error}")
        source = run.results_run()
        if source is None:
            raise CommandError(f"Analysis run {run.pk} ended as {run.status}")
        if source.pk != run.pk:
            self.stdout.write(f"Data unchanged since run {source.pk}; its report stands.")
        report = AnalysisRun.objects.only("report").get(pk=source.pk).report
        if output:
            Path(output).write_text(json.dumps(report, indent=1, allow_nan=False))
            self.stdout.write(f"Report written to {output}")
        seconds = (report or {}).get("run", {}).get("timings_s", {}).get("total")
        self.stdout.write(
            self.style.SUCCESS(
                f"Analysis run {run.pk} {run.get_status_display().lower()}: "
                f"{run.n_patients} patients, {run.n_calls} calls"
                + (f", {seconds:.1f} s" if seconds is not None else "")
            )
        )
