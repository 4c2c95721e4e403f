"""Time the analysis's database read: the Arrow driver, COPY and the ORM's values_list.

Run: .venv/bin/python bench/read.py --database-url postgres://.../name [--repeat 3]

The database must hold a cohort already (bench/analysis.py loads one per size). Each way of
reading runs in its own process, so that the peak resident memory printed is its own; the
median time of ``--repeat`` reads is printed with the memory of the process after them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(url: str, way: str, repeat: int) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import pandas as pd

    from analytics import bulk, dataset

    if way == "copy":  # the read taken inside a transaction
        bulk._adbc = lambda: None  # type: ignore[assignment]
    if way == "orm":  # every read, the sorted ones (analytics.by_call) too, through the ORM

        def orm_rows(rows, columns):  # type: ignore[no-untyped-def]
            return pd.DataFrame.from_records(list(rows), columns=columns)

        bulk.read_rows = orm_rows  # type: ignore[assignment]
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        data = dataset.load()
        times.append(time.perf_counter() - began)
    print(
        json.dumps(
            {
                "way": way,
                "rows": len(data.long),
                "patients": len(data.patients),
                "median_s": statistics.median(times),
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "long_mb": data.long.memory_usage(deep=True).sum() / 1024 / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["arrow", "copy", "orm"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.database_url, args.child, args.repeat)
        return
    print(
        f"{'read':>5} {'patients':>9} {'rows':>10} {'median s':>9} {'peak MB':>8} {'frame MB':>9}"
    )
    for way in ("arrow", "copy", "orm"):
        command = [sys.executable, __file__, "--child", way, "--database-url", args.database_url]
        command += ["--repeat", str(args.repeat)]
        out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{row['way']:>5} {row['patients']:>9,} {row['rows']:>10,} {row['median_s']:>9.2f} "
            f"{row['peak_mb']:>8.0f} {row['long_mb']:>9.0f}"
        )


if __name__ == "__main__":
    main()
