"""Time and peak memory of importing a large long-layout file (``import_dataset``).

Run: nice .venv/bin/python bench/import.py [--mb 60] [--write-mb 2] [--chunk-rows 2000]
         [--database-url URL] [--flush] [--keep FOLDER]

A demo cohort (``--base`` patients) is loaded, exported in the importer's format (the long
layout with items, CSV, and the administrations layout beside it) and purged; its rows are then
copied, each copy's patients renumbered (``SITE-000001`` and on), until the data file reaches
``--mb`` megabytes. A fresh process checks that file (the first pass, ``dataset_check``: every
row read, parsed and checked, nothing written), another imports a ``--write-mb`` file (both
passes: the writes go through the services). Each prints its time, the CPU time of its process
(steadier than the time on a shared machine) and peak resident memory (VmHWM, the whole process:
Python, Django and the import), with the resident memory after start-up beside it.
Without --database-url a new SQLite file under var/bench/ is used; a PostgreSQL database must
hold no patients (``--flush`` empties it first). Figures only.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("ANALYSIS_ON_COMMIT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _copies(source: Path, target: Path, codes: dict[tuple[int, str], str], copies: int) -> None:
    """Write ``copies`` copies of the rows of ``source``, study codes renamed copy by copy."""
    with source.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader)
        rows = list(reader)
    at = header.index("study_id")
    with target.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        for copy in range(copies):
            for row in rows:
                row = list(row)
                row[at] = codes.setdefault((copy, row[at]), _code(row[at], len(codes) + 1))
                writer.writerow(row)


def _code(code: str, number: int) -> str:
    return f"{code.split('-')[0]}-{number:06d}"


def export_base(folder: Path, base: int) -> tuple[Path, Path]:
    """Load, export (data and administrations, CSV) and purge a demo cohort of ``base``."""
    from analytics.exports.services import export_write
    from demo.loader import demo_load, demo_purge
    from demo.synthetic import generate

    demo_load(generate(base, seed=7))
    small, small_admin = folder / "small.csv", folder / "small_admin.csv"
    export_write(layout="long", fmt="csv", path=small, by=None, source="command", items=True)
    export_write(layout="administrations", fmt="csv", path=small_admin, by=None, source="command")
    demo_purge()
    return small, small_admin


def make_files(
    small: tuple[Path, Path], folder: Path, name: str, base: int, megabytes: float
) -> tuple[Path, Path, int]:
    """The data and administrations files of about ``megabytes`` MB; return them and the
    number of patients."""
    copies = max(1, round(megabytes * 1e6 / small[0].stat().st_size))
    if copies * base > 999_999:
        raise SystemExit("too many patients for 6-digit study codes: raise --base")
    data, admin = folder / f"{name}.csv", folder / f"{name}_administrations.csv"
    codes: dict[tuple[int, str], str] = {}
    _copies(small[0], data, codes, copies)
    _copies(small[1], admin, codes, copies)
    return data, admin, copies * base


def run_import(url: str, data: Path, admin: Path, chunk_rows: int, write: bool) -> None:
    """In a fresh process: check (and import when ``write``), then print the figures as JSON."""
    _django(url)
    from analytics.exports.importer import dataset_check, dataset_import

    started_mb = _status_mb("VmRSS")
    began, cpu = time.perf_counter(), time.process_time()
    last = [0.0]

    def progress(stage: str, done: int, total: int | None) -> None:
        if time.perf_counter() - last[0] > 60:
            last[0] = time.perf_counter()
            of = f" of {total:,}" if total else ""
            print(f"  {time.perf_counter() - began:6.0f} s  {stage} {done:,}{of}", file=sys.stderr)

    files = {"path": data, "administrations": admin, "chunk_rows": chunk_rows}
    if write:
        report = dataset_import(**files, by=None, progress=progress)
        counts = (report.patients, report.calls, report.administrations)
    else:
        plan = dataset_check(**files, progress=progress).plan
        counts = (len(plan.patients), plan.rows, plan.given)
    figures = {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": time.process_time() - cpu,
        "started_mb": started_mb,
        "peak_mb": _status_mb("VmHWM"),
        "counts": counts,
    }
    print(json.dumps(figures))


def _child(url: str, data: Path, admin: Path, chunk_rows: int, write: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run", str(data), str(admin), "--database-url", url]
    command += ["--chunk-rows", str(chunk_rows)] + (["--write"] if write else [])
    child = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if child.returncode:
        raise SystemExit(f"the import failed ({child.returncode})")
    figures: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return figures


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=60, help="size of the file checked")
    parser.add_argument("--write-mb", type=float, default=2, help="size of the file imported")
    parser.add_argument("--base", type=int, default=300, help="patients of the demo cohort copied")
    parser.add_argument("--chunk-rows", type=int, default=2000)
    parser.add_argument("--database-url")
    parser.add_argument("--flush", action="store_true")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--run", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url
    if args.run:
        run_import(url, *args.run, args.chunk_rows, args.write)
        return
    if url is None:
        database = ROOT / "var" / "bench" / "import.sqlite3"
        database.parent.mkdir(parents=True, exist_ok=True)
        database.unlink(missing_ok=True)
        url = f"sqlite:///{database}"
    _django(url)
    from django.core.management import call_command
    from django.db import connection

    from cohort.models import Patient

    call_command("migrate", verbosity=0)
    if args.flush:
        call_command("flush", interactive=False, verbosity=0)
    if Patient.objects.exists():
        raise SystemExit("the database holds patients: give --flush to empty it first")
    print(f"{connection.vendor}, chunks of {args.chunk_rows:,} rows; load average {_load()}")
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        small = export_base(folder, args.base)
        connection.close()
        for name, megabytes, write in (
            ("checked", args.mb, False),
            ("imported", args.write_mb, True),
        ):
            data, admin, patients = make_files(small, folder, name, args.base, megabytes)
            figures = _child(url, data, admin, args.chunk_rows, write)
            patients, calls, given = figures["counts"]
            print(
                f"{name:<9} {data.stat().st_size / 1e6:5.1f} MB + "
                f"{admin.stat().st_size / 1e6:4.1f} MB: {patients:,} patients, {calls:,} rows, "
                f"{given:,} administrations in {figures['seconds']:.0f} s "
                f"({figures['cpu_seconds']:.0f} s of CPU); peak resident "
                f"{figures['peak_mb']:.0f} MB ({figures['started_mb']:.0f} MB after start-up); "
                f"load average {_load()}",
                flush=True,
            )


if __name__ == "__main__":
    main()
