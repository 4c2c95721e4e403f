"""Load test: 50 nurses entering calls and 5 statisticians downloading while the worker reruns.

Run: .venv/bin/python bench/load.py [--patients 3290] [--duration 120] [--ramp-up 30]
         [--nurses 50] [--statisticians 5]
         [--database-url postgres://postgres@127.0.0.1:5432/loadtest]
         [--redis-url redis://127.0.0.1:6379/7] [--web-workers N] [--web-threads N]
         [--web-worker-class sync|gthread] [--reuse-database]

Everything stays on loopback: a PostgreSQL database for the test (created, migrated and seeded
with an ongoing demo cohort), gunicorn, a Celery worker re-running the analysis throughout
(under the idle CPU scheduling policy, as deployed), and locust (headless, bounded in time) as
the client. The users arrive over the ramp-up (30 s), then the figures are taken over the
measured duration. A nurse opens the worklist, then a due call, answers its items (the page
asks for the live scores after each answer, as in the browser) and completes it; a
statistician opens the analysis dashboard or downloads the long CSV. Prints the throughput,
p50/p95/p99 latency, the error count, the analysis runs finished meanwhile, and checks that
every call a nurse completed is stored exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password-2026"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def django_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": "load-test-only-" + "x" * 40,
        "IDENTIFIER_KEYS": "Y2hhbmdlLW1lLWxvYWQtdGVzdC1rZXktMzItYnl0ZXM=",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "ANALYSIS_DEBOUNCE_SECONDS": "5",
        # Nurses save all the time, so each save would push the next run back: a short maximum
        # wait keeps the worker re-running the analysis throughout the test.
        "ANALYSIS_MAX_WAIT_SECONDS": "15",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Create and seed the database, and the nurse and statistician accounts."""
    name = args.database_url.rsplit("/", 1)[1]
    admin = args.database_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(
        ["psql", admin, "-qc", f"drop database if exists {name} with (force)"], check=True
    )
    subprocess.run(["psql", admin, "-qc", f"create database {name}"], check=True)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "seed_demo", "--patients", str(args.patients), "--ongoing", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    code = f"""
from accounts.models import User
from accounts.roles import Role
from accounts.services import user_set_role
from cohort.models import Site
sites = list(Site.objects.order_by("code"))
for k in range({args.nurses}):
    u = User.objects.create_user(f"loadnurse{{k}}", password="{PASSWORD}")
    user_set_role(user=u, role=Role.NURSE, sites=[sites[k % len(sites)]])
for k in range({args.statisticians}):
    u = User.objects.create_user(f"loadstat{{k}}", password="{PASSWORD}")
    user_set_role(user=u, role=Role.STATISTICIAN, sites=[])
"""
    subprocess.run([*manage, "shell", "-c", code], cwd=ROOT, env=env, check=True)


def shell_json(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``code`` in ``manage.py shell`` and return the JSON object it printed last."""
    return dict(json.loads(shell_last_line(code, env)))


def sessions(env: dict[str, str]) -> dict[str, str]:
    """Open a session per load-test user, as a sign-in would (signing in is not what we time)."""
    code = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import User
out = {}
for user in User.objects.filter(username__startswith="load"):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.CachedModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    out[user.username] = session.session_key
print(json.dumps(out))
"""
    return {str(k): str(v) for k, v in shell_json(code, env).items()}


def due_calls(env: dict[str, str], nurses: int) -> dict[int, list[int]]:
    """Give each nurse her own due follow-up calls (of her site), so nurses never collide."""
    code = f"""
import json
from accounts.models import User
from followup.models import FollowUpCall
out = {{}}
for k in range({nurses}):
    site = User.objects.get(username=f"loadnurse{{k}}").sites.get()
    calls = FollowUpCall.objects.filter(patient__site=site, status="due", patient__status="active")
    calls = calls.exclude(timepoint="BL").order_by("target_date", "pk")
    ids = list(calls.values_list("pk", flat=True))
    share = {nurses} // 30 + 1
    out[k] = ids[(k // 30)::share][:400]
print(json.dumps(out))
"""
    return {int(k): list(v) for k, v in shell_json(code, env).items()}


def answers() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from followup.validators import HADS_FIELDS, NPRS_FIELDS, SF12_FIELDS

    data = dict.fromkeys(HADS_FIELDS + SF12_FIELDS, "1")
    data.update(dict(zip(NPRS_FIELDS, ("5", "7"), strict=True)))
    return data


def run_load(
    args: argparse.Namespace, base: str, pools: dict[int, list[int]], keys: dict[str, str]
) -> dict:
    import gevent
    from locust import between, events, task
    from locust.contrib.fasthttp import FastHttpUser
    from locust.env import Environment
    from requests.cookies import create_cookie

    form = answers()
    completed: list[int] = []
    conflicts: list[int] = []
    counter = {"nurse": 0, "stat": 0}

    host = base.split("//", 1)[1].split(":")[0]

    def sign_in(user: FastHttpUser, username: str) -> None:
        cookie = create_cookie("sessionid", keys[username], domain=host, path="/")
        user.client.cookiejar.set_cookie(cookie)

    # The light client of locust: it shares the two cores with the server, so the less it takes
    # the more the figures measure the server.
    class Nurse(FastHttpUser):
        weight = args.nurses
        wait_time = between(0.5, 1.5)

        def on_start(self) -> None:
            self.number = counter["nurse"]
            counter["nurse"] += 1
            self.calls = list(pools.get(self.number, []))
            sign_in(self, f"loadnurse{self.number}")

        @task
        def enter_a_call(self) -> None:
            self.client.get("/calls/", name="worklist")
            if not self.calls:
                return
            call = self.calls.pop(0)
            page = self.client.get(f"/calls/{call}/", name="call page")
            text = page.text or ""
            token, version = TOKEN.search(text), VERSION.search(text)
            if not token or not version:
                return
            # The page asks for the scores each time an answer changes (htmx, one request per
            # item answered): a nurse fast on the keyboard answers an item every few tenths
            # of a second.
            answered = {"csrfmiddlewaretoken": token.group(1)}
            for name, value in form.items():
                answered[name] = value
                self.client.post(f"/calls/{call}/scores/", answered, name="live scores")
                gevent.sleep(random.uniform(0.1, 0.4))
            data = {
                **form,
                "csrfmiddlewaretoken": token.group(1),
                "version": version.group(1),
                "outcome": "reached",
                "action": "save",
                "call_date": time.strftime("%Y-%m-%d"),
            }
            with self.client.post(
                f"/calls/{call}/",
                data,
                name="complete call",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code == 302:
                    completed.append(call)
                    response.success()
                elif response.status_code == 409:
                    conflicts.append(call)
                    response.success()
                else:
                    response.failure(f"status {response.status_code}")

    class Statistician(FastHttpUser):
        weight = args.statisticians
        wait_time = between(2, 5)

        def on_start(self) -> None:
            self.number = counter["stat"]
            counter["stat"] += 1
            sign_in(self, f"loadstat{self.number}")

        @task(3)
        def dashboard(self) -> None:
            self.client.get("/analysis/", name="analysis dashboard")

        @task(1)
        def download(self) -> None:
            response = self.client.get("/exports/long.csv", name="long CSV", stream=True)
            while response.stream.read(65536):
                pass

    environment = Environment(user_classes=[Nurse, Statistician], host=base, events=events)
    runner = environment.create_local_runner()
    users = args.nurses + args.statisticians
    # Users arrive over the ramp-up, as a team's day starts, not all in the same second (which
    # would keep their rounds in step for minutes); the figures count from the end of it.
    runner.start(users, spawn_rate=users / args.ramp_up)
    gevent.spawn_later(args.ramp_up, environment.stats.reset_all)
    gevent.spawn_later(args.ramp_up + args.duration, runner.quit)
    runner.greenlet.join()
    return {"stats": environment.stats, "completed": completed, "conflicts": conflicts}


def analysis_runs(env: dict[str, str], since: float) -> str:
    """Say how many analysis runs the worker started and finished during the test."""
    code = f"""
from datetime import datetime, timezone
from analytics.models import AnalysisRun
since = datetime.fromtimestamp({since!r}, tz=timezone.utc)
runs = AnalysisRun.objects.filter(finished_at__gte=since, status="succeeded")
seconds = [(r.finished_at - r.started_at).total_seconds() for r in runs]
mean = sum(seconds) / len(seconds) if seconds else 0
print(f"analysis runs finished during the test: {{len(seconds)}} (mean {{mean:.0f}} s each)")
"""
    return shell_last_line(code, env)


def shell_last_line(code: str, env: dict[str, str]) -> str:
    """Run ``code`` in ``manage.py shell`` and return the last line it printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def check_integrity(env: dict[str, str], completed: list[int]) -> str:
    code = f"""
from django.db.models import Count
from followup.models import CallAttempt, FollowUpCall
ids = {completed!r}
reached = FollowUpCall.objects.filter(pk__in=ids, status="reached").count()
doubles = (CallAttempt.objects.filter(call_id__in=ids, outcome="reached").values("call_id")
    .annotate(n=Count("id")).filter(n__gt=1).count())
print(f"{{len(ids)}} completed by the nurses, {{reached}} stored as reached, "
      f"{{doubles}} with more than one reached attempt")
"""
    return shell_last_line(code, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=3290)
    parser.add_argument("--duration", type=int, default=120, help="measured seconds")
    parser.add_argument(
        "--ramp-up", type=int, default=30, help="seconds over which the users arrive (not measured)"
    )
    parser.add_argument("--nurses", type=int, default=50)
    parser.add_argument("--statisticians", type=int, default=5)
    # The web process's settings default to config/gunicorn_conf.py's.
    parser.add_argument("--web-workers", type=int)
    parser.add_argument("--web-threads", type=int)
    parser.add_argument("--web-worker-class")
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/loadtest")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the database of an earlier run (its calls completed then stay completed)",
    )
    args = parser.parse_args()
    env = django_env(args.database_url, args.redis_url)

    if args.reuse_database:
        print("Reusing the database of an earlier run", flush=True)
    else:
        print(f"Preparing {args.patients:,} patients on PostgreSQL...", flush=True)
        prepare(args, env)
    pools = due_calls(env, args.nurses)
    keys = sessions(env)
    print(f"{sum(len(v) for v in pools.values()):,} due calls shared among the nurses", flush=True)

    bin_dir = Path(sys.executable).parent
    # The web process as deployed (config/gunicorn_conf.py), on loopback, without access log.
    web_env = {
        **env,
        "WEB_BIND": f"127.0.0.1:{args.port}",
        "WEB_ACCESS_LOG": "",
        "WEB_LOG_LEVEL": "warning",
        "WEB_GRACEFUL_TIMEOUT_SECONDS": "5",
    }
    for name, value in (
        ("WEB_WORKERS", args.web_workers),
        ("WEB_THREADS", args.web_threads),
        ("WEB_WORKER_CLASS", args.web_worker_class),
    ):
        if value is not None:
            web_env[name] = str(value)
    web = subprocess.Popen(
        [bin_dir / "gunicorn", "-c", "config/gunicorn_conf.py", "config.wsgi"],
        cwd=ROOT,
        env=web_env,
    )
    # The worker runs under the idle scheduling policy, as in docker-compose.yml:
    # the analysis can wait a moment, a nurse on the phone cannot.
    worker = subprocess.Popen(
        [
            "chrt",
            "--idle",
            "0",
            bin_dir / "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--schedule",
            "/tmp/load-beat-schedule",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(4)
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from analytics.services import reanalysis_schedule as s; "
                "s(trigger='manual', force=True, delay=0)",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print(
            f"Load: {args.nurses} nurses + {args.statisticians} statisticians arriving over "
            f"{args.ramp_up} s, then measured for {args.duration} s (the worker re-runs the "
            "analysis meanwhile)",
            flush=True,
        )
        started = time.time()
        result = run_load(args, f"http://127.0.0.1:{args.port}", pools, keys)
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    stats = result["stats"]
    total = stats.total
    print()
    print(f"{'request':<22} {'count':>7} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        print(
            f"{entry.name:<22} {entry.num_requests:>7} {entry.num_failures:>5} "
            f"{entry.get_response_time_percentile(0.5):>7.0f} "
            f"{entry.get_response_time_percentile(0.95):>7.0f} "
            f"{entry.get_response_time_percentile(0.99):>7.0f}"
        )
    print(
        f"{'all':<22} {total.num_requests:>7} {total.num_failures:>5} "
        f"{total.get_response_time_percentile(0.5):>7.0f} "
        f"{total.get_response_time_percentile(0.95):>7.0f} "
        f"{total.get_response_time_percentile(0.99):>7.0f}"
    )
    print(
        f"throughput {total.num_requests / args.duration:.1f} requests/s, "
        f"errors {total.num_failures}, conflicts (409, expected none) {len(result['conflicts'])}"
    )
    for error in stats.errors.values():
        print(f"error: {error.method} {error.name}: {error.error} ({error.occurrences} times)")
    print(check_integrity(env, result["completed"]))
    print(analysis_runs(env, started))


if __name__ == "__main__":
    main()
