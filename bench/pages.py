"""Server time of the nurse's pages (worklist, call entry) and of the statistician's monitoring
page and dashboard poll, on a large demo cohort.

Usage: DATABASE_URL=postgres://... python bench/pages.py [--patients 32900] [--requests 200]
                                                         [--reseed] [--pages nurse reading]

Seeds the ongoing demo cohort (``seed_demo --ongoing``: patients still in follow-up today) when
the database holds a different number of demo patients, or always with ``--reseed``; then signs
in the demo nurse (staff of every demo site: the largest worklist) with Django's test client in
this process, and times many requests of each page. Then computes the central monitoring as the
worker does after an analysis run (printing its time), and times the monitoring page, which reads
that stored result, the status poll an open dashboard sends, the dashboard and the patients'
timelines (these two read the newest analysis run: run ``manage.py run_analysis --sync`` first to
time them with a report of the cohort's size). Prints the median and 95th percentile in
milliseconds and the number of SQL queries per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=32900)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--pages",
        nargs="+",
        choices=("nurse", "reading"),
        default=["nurse", "reading"],
        help="nurse: worklist, call entry; reading: monitoring, status poll, dashboard, timeline",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import demo_users_create, user_set_role
    from cohort.models import Patient, Site

    call_command("migrate", verbosity=0)
    loaded = Patient.objects.filter(site__is_demo=True).count()
    if args.reseed or loaded != args.patients:
        call_command("seed_demo", patients=args.patients, ongoing=True, verbosity=1)
    demo_users_create()
    site = Site.objects.filter(is_demo=True).order_by("code").first()
    one_site, _ = User.objects.get_or_create(username="bench_nurse_one_site")
    user_set_role(user=one_site, role=Role.NURSE, sites=[site])
    print(f"{connection.vendor}: {Patient.objects.count():,} patients; {args.requests} requests")
    if "nurse" in args.pages:
        for user, who in (
            (User.objects.get(username="nurse"), "demo nurse, all 30 demo sites"),
            (one_site, f"nurse of one site ({site.code})"),
        ):
            _time_pages(user, who, args.requests)
    if "reading" in args.pages:
        _time_reading_pages(User.objects.get(username="statistician"), args.requests)


def _time_reading_pages(user: Any, requests: int) -> None:
    """Time the monitoring page (reading the stored result) and the dashboard's status poll."""
    from django.utils import timezone

    from analytics.models import AnalysisRun
    from analytics.services import latest_good_run
    from quality.services import monitoring_compute

    run = latest_good_run()
    if run is None:
        # The status poll reads only the newest successful run's id and time: a run row without
        # a report is enough to time it (the analysis itself is timed by bench/analysis.py).
        run = AnalysisRun.objects.create(
            status=AnalysisRun.Status.SUCCEEDED, trigger="manual", finished_at=timezone.now()
        )
    began = time.perf_counter()
    snapshot = monitoring_compute(as_of=timezone.localdate(), run=run)
    print(
        f"central monitoring computed (worker side) in {time.perf_counter() - began:.1f} s "
        f"on {snapshot.patients:,} patients; stored result {len(str(snapshot.result)):,} chars"
    )
    from cohort.models import Patient

    patients = list(
        Patient.objects.filter(site__is_demo=True).order_by("?").values_list("pk", flat=True)[:50]
    )
    pages = {
        "monitoring": lambda i: "/queries/monitoring/",
        "status poll": lambda i: f"/analysis/status/?shown={run.pk}",
        "dashboard": lambda i: "/analysis/",
        "timeline": lambda i: f"/patients/{patients[i % len(patients)]}/timeline/",
    }
    _time_urls(user, "statistician", pages, requests)


class _Recorder:
    """Record the SQL of each query run through the connection."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def __call__(self, execute: Any, sql: str, *rest: Any) -> Any:
        self.into.append(sql)
        return execute(sql, *rest)


def _time_pages(user: Any, who: str, requests: int) -> None:
    from django.test import Client
    from django.utils import timezone

    from followup.selectors import worklist_for_user

    worklist = worklist_for_user(user, today=timezone.localdate())
    calls = [c for section in worklist.sections() for c in section.rows]
    if not calls:
        raise SystemExit("The worklist is empty: seed with --reseed (seed_demo --ongoing).")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    site = worklist.due_today[0].patient.site.code if worklist.due_today else ""
    pages = {
        "worklist": lambda i: "/calls/",
        "worklist p.2": lambda i: "/calls/?page_due_today=2&page_upcoming=2",
        "worklist site": lambda i: f"/calls/?site={site}",
        "worklist code": lambda i: f"/calls/?q={calls[i % len(calls)].patient.study_code}",
        "call entry": lambda i: f"/calls/{calls[i % len(calls)].pk}/",
    }
    print(f"{who}: worklist counts {worklist.counts}")
    _time_urls(user, who, pages, requests, client=client)


def _time_urls(
    user: Any, who: str, pages: dict[str, Any], requests: int, client: Any = None
) -> None:
    from django.db import connection
    from django.test import Client

    if client is None:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        print(f"{who}:")
    for name, url in pages.items():
        for i in range(10):  # warm-up: templates, connection, caches
            client.get(url(i))
        times = []
        queries: list[str] = []
        with connection.execute_wrapper(_Recorder(queries)):
            client.get(url(0))
        for i in range(requests):
            started = time.perf_counter()
            response = client.get(url(i))
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        print(
            f"  {name:<14} median {statistics.median(times):6.1f} ms   "
            f"p95 {_percentile(times, 0.95):6.1f} ms   {len(queries)} queries"
        )


if __name__ == "__main__":
    main()
