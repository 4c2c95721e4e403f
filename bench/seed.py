"""Time and peak memory of seeding the demo cohort, on SQLite and on PostgreSQL.

Usage: python bench/seed.py [--sizes 329 3290 32900] [--backends sqlite postgresql]
                            [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]

Each measurement runs in a fresh process on a fresh, migrated database (a temporary SQLite file,
or a scratch PostgreSQL database created and dropped by the script), so that peak memory (the
process's maximum resident set) belongs to that one run. The time is split into generating the
cohort (pure numpy/pandas) and loading it (``demo.loader.demo_load``); migrations are not
counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def _child(n: int) -> None:
    """Run one measurement in this process and print it as JSON."""
    import resource
    import time

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    from demo.loader import demo_load
    from demo.synthetic import generate

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    cohort = generate(n, seed=0)
    generated = time.perf_counter()
    report = demo_load(cohort)
    loaded = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "generate_s": generated - started,
                "load_s": loaded - generated,
                "peak_rss_mb": peak_mb,
                "rows": sum(report.counts.values()),
            }
        )
    )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _postgres(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def _measure(n: int, backend: str, postgres_url: str) -> dict[str, float]:
    env = {**os.environ, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    with tempfile.TemporaryDirectory(prefix="bench-seed-") as var_dir:
        env["VAR_DIR"] = var_dir
        scratch = f"bench_seed_{os.getpid()}"
        if backend == "postgresql":
            _postgres(postgres_url, f"DROP DATABASE IF EXISTS {scratch}")
            _postgres(postgres_url, f"CREATE DATABASE {scratch}")
            env["DATABASE_URL"] = _with_database(postgres_url, scratch)
        else:
            env.pop("DATABASE_URL", None)
        try:
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(n)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            if backend == "postgresql":
                _postgres(postgres_url, f"DROP DATABASE IF EXISTS {scratch}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[329, 3290, 32900])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    print(
        f"{'backend':<11} {'patients':>8} {'rows':>10} {'generate s':>10} {'load s':>8} "
        f"{'total s':>8} {'rows/s':>9} {'peak RSS MB':>11}"
    )
    for backend in args.backends:
        for n in args.sizes:
            r = _measure(n, backend, args.postgres_url)
            total = r["generate_s"] + r["load_s"]
            print(
                f"{backend:<11} {n:>8,} {int(r['rows']):>10,} {r['generate_s']:>10.2f} "
                f"{r['load_s']:>8.2f} {total:>8.2f} {r['rows'] / r['load_s']:>9,.0f} "
                f"{r['peak_rss_mb']:>11,.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
