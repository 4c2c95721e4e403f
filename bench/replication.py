"""Over seeds of the demo cohort, how often each published test lands on the paper's side of .05.

Usage: python bench/replication.py [--seeds 0-9] [--patients 329] [--database-url URL]
                                   [--save FILE] [--load FILE ...]

For each seed a paper-dated demo cohort (finished, as the paper analysed it) is loaded into a
scratch database (SQLite under var/bench/ unless --database-url is given), read back by
``analytics.dataset.load`` and analysed by ``analytics.report.build_report`` with the production
parameters, exactly as the worker does. ``analytics.replication.compare`` then gives each
published test (a P value, or an estimate with its 95% CI) and whether this run is significant.

Prints one row per published test: the paper's figure, how many seeds put the run on the same
side of .05 as the paper, and the median and range of the run's figure. ``--save`` writes the
per-seed figures (JSON lines); ``--load`` prints the table from saved files without recomputing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        low, _sep, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("ANALYSIS_ON_COMMIT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def analyse(seed: int, patients: int) -> dict[str, Any]:
    """Load one seed's cohort, analyse it, and return each published test of the run."""
    from analytics import dataset, replication, report
    from cohort.models import Site
    from demo.loader import demo_load, demo_purge
    from demo.synthetic import generate

    demo_purge()
    Site.objects.filter(is_demo=True).delete()
    began = time.perf_counter()
    demo_load(generate(patients, seed=seed))
    loaded = time.perf_counter()
    data = dataset.load()
    result = report.build_report(data, report.Parameters())
    rows = replication.compare(result)
    tests = {
        row.path: {
            "paper": row.paper,
            "live": row.live,
            "paper_significant": row.paper_significant,
            "live_significant": row.live_significant,
            "status": row.status,
        }
        for row in replication.published_tests(rows)
    }
    return {
        "seed": seed,
        "patients": patients,
        "summary": replication.summary(rows),
        "tests": tests,
        "seconds": {"load": loaded - began, "analysis": time.perf_counter() - loaded},
    }


def _live_number(text: str) -> float | None:
    """Read a run's figure back from its text (``<.001`` as .0005, ``>.99`` as .995)."""
    head = text.split(" ")[0]
    bound = {"<": 0.5, ">": 1.005}.get(head[:1])
    head = head.lstrip("<>")
    try:
        value = float("0" + head if head.startswith(".") else head)
    except ValueError:
        return None
    return value * bound if bound else value


def _spread(values: list[float], p_values: bool) -> str:
    if not values:
        return "–"
    if p_values:
        from analytics.stats.pvalues import format_p

        low, mid, high = (
            format_p(v) for v in (min(values), statistics.median(values), max(values))
        )
        return f"{mid} [{low}, {high}]"
    return f"{statistics.median(values):.3g} [{min(values):.3g}, {max(values):.3g}]"


def table(results: list[dict[str, Any]]) -> str:
    """Return the sweep's table: one row per published test."""
    paths = list(results[0]["tests"])
    lines = [
        f"Seeds {', '.join(str(r['seed']) for r in results)} at N = {results[0]['patients']}",
        f"{'published test':<62} {'paper':>22}  {'same side':>9}  {'run: median [min, max]':>26}",
    ]
    for path in paths:
        rows = [r["tests"][path] for r in results if path in r["tests"]]
        same = sum(
            row["live_significant"] is not None
            and row["live_significant"] == row["paper_significant"]
            for row in rows
        )
        values = [v for v in (_live_number(row["live"]) for row in rows) if v is not None]
        spread = _spread(values, path.endswith("p"))
        sign = "sig." if rows[0]["paper_significant"] else "n.s."
        paper = f"{rows[0]['paper']} ({sign})"
        lines.append(f"{path:<62} {paper:>22}  {same:>4}/{len(rows):<4}  {spread:>26}")
    agree = [r["summary"]["agrees"] for r in results]
    differ = [r["summary"]["differs"] for r in results]
    lines.append(
        f"All figures: agree {min(agree)}-{max(agree)}, differ {min(differ)}-{max(differ)} "
        "per seed (replication panel rule)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=_seeds, default=list(range(10)))
    parser.add_argument("--patients", type=int, default=329)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--load", type=Path, nargs="*")
    args = parser.parse_args()
    if args.load:
        sys.path.insert(0, str(ROOT))
        results = [json.loads(line) for path in args.load for line in path.read_text().splitlines()]
        print(table(results))
        return
    url = args.database_url
    if not url:
        (ROOT / "var/bench").mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{ROOT / 'var/bench/replication.sqlite3'}"
    _django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = []
    for seed in args.seeds:
        result = analyse(seed, args.patients)
        results.append(result)
        print(
            f"seed {seed}: load {result['seconds']['load']:.0f} s, analysis "
            f"{result['seconds']['analysis']:.0f} s, {result['summary']}",
            flush=True,
        )
        if args.save:
            with args.save.open("a") as out:
                out.write(json.dumps(result) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
