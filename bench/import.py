"""Time and peak memory of importing a large long-layout file (``import_dataset``).

Run: nice .venv/bin/python bench/import.py [--mb 60] [--chunk-rows 5000] [--database-url URL]
         [--flush] [--keep FOLDER]

A demo cohort (``--base`` patients) is loaded, exported in the importer's format (the long
layout with items, CSV, and the administrations layout beside it) and purged; its rows are then
copied, each copy's patients renumbered (``SITE-000001`` and on), until the data file reaches
``--mb`` megabytes. A fresh process then imports the two files and prints its time and peak
resident memory (VmHWM, the whole process: Python, Django and the import), with the resident
memory after start-up beside it. Without --database-url a new SQLite file under var/bench/ is
used; a PostgreSQL database must hold no patients (``--flush`` empties it first). Figures only.
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


def make_files(folder: Path, base: int, megabytes: float) -> tuple[Path, Path, int]:
    """The data and administrations files of about ``megabytes`` MB; return them and the copies."""
    from analytics.exports.services import export_write
    from demo.loader import demo_load, demo_purge
    from demo.synthetic import generate

    demo_load(generate(base, seed=7))
    small, small_admin = folder / "small.csv", folder / "small_admin.csv"
    export_write(layout="long", fmt="csv", path=small, by=None, source="command", items=True)
    export_write(layout="administrations", fmt="csv", path=small_admin, by=None, source="command")
    demo_purge()
    copies = max(1, round(megabytes * 1e6 / small.stat().st_size))
    if copies * base > 999_999:
        raise SystemExit("too many patients for 6-digit study codes: raise --base")
    data, admin = folder / "data.csv", folder / "administrations.csv"
    codes: dict[tuple[int, str], str] = {}
    _copies(small, data, codes, copies)
    _copies(small_admin, admin, codes, copies)
    return data, admin, copies * base


def run_import(url: str, data: Path, admin: Path, chunk_rows: int) -> None:
    """In a fresh process: import, then print the figures as JSON."""
    _django(url)
    from analytics.exports.importer import dataset_import

    started_mb = _status_mb("VmRSS")
    began = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int | None) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            of = f" of {total:,}" if total else ""
            print(f"  {time.perf_counter() - began:6.0f} s  {stage} {done:,}{of}", file=sys.stderr)

    report = dataset_import(
        path=data, administrations=admin, by=None, chunk_rows=chunk_rows, progress=progress
    )
    figures = {
        "seconds": time.perf_counter() - began,
        "started_mb": started_mb,
        "peak_mb": _status_mb("VmHWM"),
        "patients": report.patients,
        "calls": report.calls,
        "administrations": report.administrations,
    }
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=60)
    parser.add_argument("--base", type=int, default=300, help="patients of the demo cohort copied")
    parser.add_argument("--chunk-rows", type=int, default=5000)
    parser.add_argument("--database-url")
    parser.add_argument("--flush", action="store_true")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--run", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        database = ROOT / "var" / "bench" / "import.sqlite3"
        database.parent.mkdir(parents=True, exist_ok=True)
        database.unlink(missing_ok=True)
        url = f"sqlite:///{database}"
    if args.run:
        run_import(url, *args.run, args.chunk_rows)
        return
    _django(url)
    from django.core.management import call_command
    from django.db import connection

    from cohort.models import Patient

    call_command("migrate", verbosity=0)
    if args.flush:
        call_command("flush", interactive=False, verbosity=0)
    if Patient.objects.exists():
        raise SystemExit("the database holds patients: give --flush to empty it first")
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        data, admin, patients = make_files(folder, args.base, args.mb)
        print(
            f"{connection.vendor}: {data.stat().st_size / 1e6:.1f} MB of data and "
            f"{admin.stat().st_size / 1e6:.1f} MB of administrations for {patients:,} patients, "
            f"written in {time.perf_counter() - began:.0f} s; load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        connection.close()
        command = [sys.executable, __file__, "--run", str(data), str(admin)]
        command += ["--chunk-rows", str(args.chunk_rows), "--database-url", url]
        child = subprocess.run(command, capture_output=False, stdout=subprocess.PIPE, text=True)
        if child.returncode:
            raise SystemExit(f"the import failed ({child.returncode})")
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"imported {figures['patients']:,} patients, {figures['calls']:,} calls, "
        f"{figures['administrations']:,} administrations in {figures['seconds']:.0f} s "
        f"(chunks of {args.chunk_rows:,} rows); peak resident memory {figures['peak_mb']:.0f} MB "
        f"({figures['started_mb']:.0f} MB after start-up); load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
