"""Time and peak memory of every export (layout x format) on a large seeded cohort.

Usage: DATABASE_URL=postgres://... python bench/exports.py [--sizes 3290 32900]
           [--layouts long wide ...] [--formats csv xlsx ...] [--seed-if-empty 32900]

Uses the cohort already in the database (``seed_demo --patients 32900`` first, or
``--seed-if-empty N``); a smaller size exports the first N patients by study code. Each export
runs in a forked process whose peak resident memory is reset before the export, so that the
memory figure is what that export added on top of the loaded Django process. Figures only; no
timed assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _measure(layout: str, fmt: str, items: bool, n: int, out: Path, write_fd: int) -> None:
    """Run one export in this (forked) process and write its figures to ``write_fd``."""
    from analytics.exports.services import export_write
    from cohort.models import Patient

    ids = list(Patient.objects.order_by("study_code").values_list("id", flat=True)[:n])
    patients = Patient.objects.filter(id__in=ids)
    # Reset the peak resident set to the current one (Linux 4.0+), then measure from there.
    Path("/proc/self/clear_refs").write_text("5")
    base = _status_kb("VmRSS")
    started = time.perf_counter()
    log = export_write(
        layout=layout, fmt=fmt, path=out, by=None, source="command", items=items, patients=patients
    )
    seconds = time.perf_counter() - started
    peak = _status_kb("VmHWM")
    figures = {
        "seconds": seconds,
        "peak_mb": (peak - base) / 1024,
        "rows": log.rows,
        "size_mb": out.stat().st_size / 1e6,
    }
    os.write(write_fd, json.dumps(figures).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3290, 32900])
    parser.add_argument(
        "--layouts",
        nargs="+",
        default=["long", "long+items", "wide", "baseline", "adverse_events", "treatments"],
    )
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet", "xlsx", "dta", "sav"])
    parser.add_argument("--seed-if-empty", type=int, default=0)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from cohort.models import Patient

    if args.seed_if_empty and not Patient.objects.exists():
        call_command("seed_demo", "--patients", str(args.seed_if_empty))
    available = Patient.objects.count()
    print(f"{connection.vendor}, {available:,} patients in the database")
    print(f"{'layout':<16}{'format':<9}{'patients':>9}{'rows':>10}{'seconds':>9}"
          f"{'peak MB':>9}{'file MB':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for layout_name in args.layouts:
            layout, items = layout_name.removesuffix("+items"), layout_name.endswith("+items")
            for fmt in args.formats:
                for n in args.sizes:
                    if n > available:
                        continue
                    out = Path(folder) / f"{layout_name}.{fmt}"
                    connections.close_all()
                    read_fd, write_fd = os.pipe()
                    child = os.fork()
                    if child == 0:
                        code = 0
                        try:
                            _measure(layout, fmt, items, n, out, write_fd)
                        except BaseException as exc:
                            os.write(write_fd, json.dumps({"error": repr(exc)}).encode())
                            code = 1
                        finally:
                            os._exit(code)
                    os.close(write_fd)
                    with os.fdopen(read_fd) as pipe:
                        text = pipe.read()
                    os.waitpid(child, 0)
                    result = json.loads(text or '{"error": "no result"}')
                    if "error" in result:
                        print(f"{layout_name:<16}{fmt:<9}{n:>9,}  failed: {result['error']}")
                        continue
                    print(
                        f"{layout_name:<16}{fmt:<9}{n:>9,}{result['rows']:>10,}"
                        f"{result['seconds']:>9.1f}{result['peak_mb']:>9.0f}"
                        f"{result['size_mb']:>9.1f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
