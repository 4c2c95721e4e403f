"""Run the study's analysis now, in this process or through the worker, and write its report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analytics import services
from analytics.models import AnalysisRun


class Command(BaseCommand):
    help = (
        "Re-analyse the live database and write the report as JSON (schema: "
        "docs/analysis-report.md). Without --sync the worker runs it and this command waits."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sync", action="store_true", help="run in this process")
        parser.add_argument("--output", help="write the report JSON to this file")
        parser.add_argument(
            "--force", action="store_true", help="recompute even if the data did not change"
        )
        parser.add_argument(
            "--timeout", type=float, default=1800, help="seconds to wait for the worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        trigger = AnalysisRun.Trigger.COMMAND
        if options["sync"]:
            run = services.reanalysis_schedule(
                trigger=trigger, force=options["force"], delay=0, dispatch=False
            )
            self.stdout.write(f"Analysis run {run.pk}: running in this process...")
            outcome = services.run_execute(run_id=run.pk, worker="command line", wait=False)
            run = outcome.run or run
            if run.status == AnalysisRun.Status.QUEUED:
                raise CommandError(
                    "Another analysis is running; try again when it ends, or without --sync."
                )
        else:
            run = services.reanalysis_schedule(trigger=trigger, force=options["force"], delay=0)
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
