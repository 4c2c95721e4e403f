"""Import a long layout with items (and its administrations), all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.exports.importer import ImportRefused, dataset_import


def _site_map(text: str) -> dict[str, str]:
    mapping = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CommandError(f"--site-map takes OLD=NEW pairs separated by commas, not {pair!r}")
        mapping[old.strip()] = new.strip()
    return mapping


class Command(BaseCommand):
    help = (
        "Import the file written by `export_dataset --layout long --items` (CSV, XLSX or "
        "Parquet). Every row is checked and every problem reported with its row and column; "
        "nothing is written unless the whole file is valid. The file is read in chunks, twice "
        "(check, then write), with the progress on stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--administrations",
            type=Path,
            help="file of the administrations layout (not needed for an XLSX with that sheet)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check, write nothing")
        parser.add_argument(
            "--site-map", default="", help="rename sites: OLD=NEW[,OLD=NEW...] (study codes too)"
        )
        parser.add_argument("--user", help="username recorded in the history as the author")

    def _progress(self, stage: str, done: int, total: int | None) -> None:
        """One line per chunk, on stderr (stdout keeps the result): rows checked, then records
        (patients, administrations, calls) written of the total."""
        if total is None:
            self.stderr.write(f"{stage} {done:,} rows")
        else:
            share = 100 * done // total if total else 100
            self.stderr.write(f"{stage} {done:,} of {total:,} records ({share}%)")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in (options["file"], options["administrations"]):
            if path is not None and not path.exists():
                raise CommandError(f"no such file: {path}")
        by = None
        if options["user"]:
            by = get_user_model().objects.filter(username=options["user"]).first()
            if by is None:
                raise CommandError(f"no such user: {options['user']}")
        try:
            report = dataset_import(
                path=options["file"],
                administrations=options["administrations"],
                by=by,
                dry_run=options["dry_run"],
                site_map=_site_map(options["site_map"]),
                progress=self._progress if options["verbosity"] > 0 else None,
            )
        except ImportRefused as refused:
            for problem in refused.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(refused.problems)} problem(s); nothing was imported"
            ) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "would import" if report.dry_run else "imported"
        created = (
            f"; sites created: {', '.join(report.sites_created)}" if report.sites_created else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{options['file'].name}: {verb} {report.patients} patients, {report.calls} calls, "
                f"{report.administrations} administrations{created}"
            )
        )
