"""Export the study data (no identifiers) in one layout and format, or the data dictionary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.exports import dictionary, variables, writers
from analytics.exports.services import export_log_record, export_write
from analytics.models import ExportLog


class Command(BaseCommand):
    help = (
        "Write the study data in one layout and format (no names or phone numbers, ever), or "
        "the data dictionary with --dictionary. Every export is logged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--layout", choices=list(variables.LAYOUTS), default="long")
        parser.add_argument("--format", choices=writers.FORMATS, default="csv", dest="fmt")
        parser.add_argument("--output", type=Path, required=True, help="file to write")
        parser.add_argument(
            "--items",
            action="store_true",
            help="long layout: add the item answers and enrolment data (importable)",
        )
        parser.add_argument(
            "--dictionary", choices=["csv", "html"], help="write the data dictionary instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        started = time.perf_counter()
        if options["dictionary"]:
            if options["dictionary"] == "csv":
                with open(output, "w", encoding="utf-8", newline="") as out:
                    rows = dictionary.write_dictionary_csv(out)
            else:
                output.write_text(dictionary.dictionary_html(), encoding="utf-8")
                rows = len(dictionary.dictionary_frame())
            export_log_record(
                by=None,
                source=ExportLog.Source.COMMAND,
                layout="dictionary",
                fmt=options["dictionary"],
                rows=rows,
                filename=output.name,
            )
            self.stdout.write(f"Dictionary of {rows} variables written to {output}")
            return
        if options["items"] and options["layout"] != "long":
            raise CommandError("--items goes with --layout long")
        log = export_write(
            layout=options["layout"],
            fmt=options["fmt"],
            path=output,
            by=None,
            source=ExportLog.Source.COMMAND,
            items=options["items"],
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"{log.rows:,} rows written to {output} in {elapsed:.1f} s")
        )
