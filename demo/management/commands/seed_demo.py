"""Load the synthetic demo cohort (replacing the previous demo study, never real data)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from analytics.services import reanalysis_on_commit
from cohort.models import Patient
from demo.loader import demo_load
from demo.loader.lan import lan_demo
from demo.staging import demo_work_stage
from demo.synthetic import generate
from demo.synthetic.generator import FAULT_KINDS

# The paper's enrolment period (generate()'s default), and how long before today an ongoing
# demo study stops knowing what happened: calls resolved after that day are still to make.
PAPER_ENROLMENT = (dt.date(2016, 7, 7), dt.date(2017, 9, 21))
ONGOING_CUT_DAYS = 3


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _fault(text: str) -> tuple[str, int]:
    kind, _sep, count = text.partition("=")
    if kind not in FAULT_KINDS or not count.isdigit():
        known = ", ".join(sorted(FAULT_KINDS))
        raise CommandError(f"--plant takes KIND=N with KIND one of {known}: {text!r}")
    return kind, int(count)


class Command(BaseCommand):
    help = (
        "Generate the synthetic demo cohort and load it into the demo sites, with the synthetic "
        "Lan et al. 2022 trial in the second study's demo site. Rerunning replaces the demo "
        "studies; patients of real sites are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=329, help="number of patients")
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed (same seed, same data)"
        )
        parser.add_argument("--truth", type=Path, help="write the known truth to this JSON file")
        parser.add_argument(
            "--as-of", type=_date, help="cut the cohort at this date (calls after it are due)"
        )
        parser.add_argument(
            "--plant",
            action="append",
            type=_fault,
            default=[],
            metavar="KIND=N",
            help=(
                "plant N known data-quality faults of KIND (repeatable): "
                + ", ".join(sorted(FAULT_KINDS))
            ),
        )
        parser.add_argument(
            "--without-second-study",
            action="store_true",
            help="load the first study only (not the synthetic Lan et al. 2022 trial)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when demo patients already exist"
        )
        parser.add_argument(
            "--ongoing",
            action="store_true",
            help=(
                "move the enrolment period to end a few days before today and cut the cohort "
                "there, so that patients are still in follow-up with calls to make"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 1:
            raise CommandError("--patients must be at least 1")
        if options["if_empty"] and Patient.objects.filter(site__is_demo=True).exists():
            self.stdout.write("Demo cohort already loaded; nothing to do.")
            return
        started = time.perf_counter()
        self.stdout.write(f"Generating {options['patients']} patients (seed {options['seed']})...")
        dates: dict[str, dt.date] = {}
        as_of = options["as_of"]
        if options["ongoing"]:
            start, end = PAPER_ENROLMENT
            dates["enrolment_end"] = timezone.localdate() - dt.timedelta(days=ONGOING_CUT_DAYS)
            dates["enrolment_start"] = dates["enrolment_end"] - (end - start)
            as_of = as_of or dates["enrolment_end"]
        plant = dict(options["plant"])
        if options["ongoing"] and not plant:
            # A study in progress shows the central monitoring a site to look at.
            plant = {"nprs_digit_preference": 1}
        try:
            cohort = generate(
                options["patients"], seed=options["seed"], as_of=as_of, plant=plant, **dates
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for kind, rows in cohort.truth["planted"].items():
            self.stdout.write(f"Planted {len(rows)} {kind}")
        if options["truth"]:
            cohort.to_truth_json(options["truth"])
            self.stdout.write(f"Truth written to {options['truth']}")
        lan = None
        if not options["without_second_study"]:
            # The second study's visits and infusions after today (or --as-of) have not happened.
            until = timezone.localdate() if options["ongoing"] else options["as_of"]
            lan = lan_demo(options["seed"], ongoing_until=until)
        stages = 10 + (lan is not None)
        show = options["verbosity"] > 0 and options["patients"] >= 2000
        with tqdm(total=stages, desc="Loading", unit="step", disable=not show) as bar:

            def progress(label: str, count: int) -> None:
                bar.set_postfix_str(f"{label} {count:,}")
                bar.update(1)

            try:
                report = demo_load(cohort, progress=progress, lan=lan)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{n:,} {label}" for label, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo cohort loaded in {elapsed:.1f} s: {summary}"))
        if options["ongoing"]:
            staged = demo_work_stage()
            self.stdout.write(
                "Work in progress: " + ", ".join(f"{n} {k}" for k, n in staged.items())
            )
        # The loader writes in bulk, not through the services: ask for the analysis here.
        reanalysis_on_commit()
