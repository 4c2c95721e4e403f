"""Time the whole re-analysis (read the database, fingerprint, every model of the report).

Run: .venv/bin/python bench/analysis.py [--sizes 329 3290 32900] [--database-url URL]

For each size a demo cohort is loaded (once; reused if the database already holds that many
patients), then a fresh process reads it and builds the report with the production parameters
(trajectory sweep over 1-5 groups x orders 1-3, 1000 bootstrap resamples per mediation), so
that the peak resident memory printed is the analysis's own. Without --database-url each size
gets its own SQLite file under var/bench/; give a PostgreSQL URL to measure on PostgreSQL (the
sizes then share that database, reloaded for each size).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("ANALYSIS_ON_COMMIT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(n: int, url: str) -> None:
    """Migrate and load a demo cohort of n patients unless it is there already."""
    _django(url)
    from django.core.management import call_command

    from cohort.demo import generate
    from cohort.demo_loader import demo_load
    from cohort.models import Patient

    call_command("migrate", verbosity=0)
    if Patient.objects.count() != n:
        began = time.perf_counter()
        demo_load(generate(n, seed=0))
        print(f"  loaded {n:,} patients in {time.perf_counter() - began:.1f} s", flush=True)


def measure(n: int, url: str) -> None:
    """Read the study and build the report; print one JSON line of figures."""
    _django(url)
    from analytics import dataset, report, services

    began = time.perf_counter()
    data = dataset.load()
    loaded = time.perf_counter()
    params = report.Parameters()
    fingerprint = services.fingerprint(data, params)
    hashed = time.perf_counter()
    result = report.build_report(data, params, fingerprint=fingerprint)
    done = time.perf_counter()
    timings = dict(result["run"]["timings_s"])
    timings.pop("total", None)
    timings = {"read database": loaded - began, "fingerprint": hashed - loaded, **timings}
    trajectories = result["results"]["trajectories"]
    print(
        json.dumps(
            {
                "n": n,
                "rows": len(data.long),
                "total_s": done - began,
                "steps_s": timings,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "trajectory_fits": len(trajectories["selection"]["table"]),
                "n_boot": params.n_boot,
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[329, 3290, 32900])
    parser.add_argument("--database-url", help="default: one SQLite file per size in var/bench/")
    parser.add_argument("--child", choices=["prepare", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        (prepare if args.child == "prepare" else measure)(args.sizes[0], args.database_url)
        return

    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        url = args.database_url or f"sqlite:///{bench_dir / f'analysis-{n}.sqlite3'}"
        print(f"N = {n:,} on {url.split(':')[0]}", flush=True)
        for child in ("prepare", "measure"):
            command = [sys.executable, __file__, "--child", child, "--sizes", str(n)]
            command += ["--database-url", url]
            out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
            for line in out.stdout.splitlines():
                if line.startswith("{"):
                    rows.append(json.loads(line))
                else:
                    print(line)

    print()
    print(f"{'patients':>9} {'rows':>8} {'total s':>8} {'peak MB':>8}  share of time by step")
    for row in rows:
        total = sum(row["steps_s"].values())
        shares = ", ".join(
            f"{name} {100 * seconds / total:.0f}%" for name, seconds in row["steps_s"].items()
        )
        print(
            f"{row['n']:>9,} {row['rows']:>8,} {row['total_s']:>8.1f} {row['peak_mb']:>8.0f}  "
            f"{shares}"
        )
    print(
        f"(trajectory sweep: {rows[0]['trajectory_fits'] if rows else 0} models; "
        f"bootstrap: {rows[0]['n_boot'] if rows else 0} resamples x 3 mediations)"
    )


if __name__ == "__main__":
    main()
