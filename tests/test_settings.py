"""The settings module reads every choice from the environment and refuses unsafe ones."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, postgres_setting

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-real-production-secret-key-with-enough-length-and-entropy-0123456789",
    "ALLOWED_HOSTS": "followup.example.org",
    "IDENTIFIER_KEYS": Fernet.generate_key().decode(),
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_env_bool_rejects_garbage(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG")


def test_env_bool_reads_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "Yes")
    assert env_bool("SOME_FLAG") is True
    monkeypatch.setenv("SOME_FLAG", "0")
    assert env_bool("SOME_FLAG") is False


def test_env_int_rejects_a_word(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "twelve")
    with pytest.raises(ImproperlyConfigured):
        env_int("SOME_NUMBER", 1)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("SOME_HOSTS", "a.example, b.example,,")
    assert env_list("SOME_HOSTS") == ["a.example", "b.example"]


def test_env_str_reads_a_secret_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env_str("SOME_SECRET") == "from-a-file"


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_identifier_keys():
    env = {k: v for k, v in PRODUCTION.items() if k != "IDENTIFIER_KEYS"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "IDENTIFIER_KEYS" in result.stderr


def test_deployment_check_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


def test_sign_in_hardening_is_read_from_the_environment():
    env = {
        **PRODUCTION,
        "LOGIN_FAILURE_LIMIT": "3",
        "LOGIN_COOLOFF_MINUTES": "60",
        "SESSION_IDLE_MINUTES": "10",
        "PASSWORD_MIN_LENGTH": "14",
        "SECOND_FACTOR_REQUIRED_ROLES": "data_manager,statistician",
    }
    code = (
        "from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()), "
        "s.SESSION_COOKIE_AGE, s.AUTH_PASSWORD_VALIDATORS[1]['OPTIONS']['min_length'], "
        "','.join(s.SECOND_FACTOR_REQUIRED_ROLES), s.SESSION_COOKIE_SECURE, "
        "'unsafe-eval' in str(s.CONTENT_SECURITY_POLICY))"
    )
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    # The last line: Django 5.2 shell first says how many objects it imported.
    assert result.stdout.strip().splitlines()[-1].split() == [
        "3",
        "3600",
        "600",
        "14",
        "data_manager,statistician",
        "True",
        "False",
    ]


def test_an_unknown_role_for_the_second_factor_refuses_to_start():
    result = _manage("check", env={**PRODUCTION, "SECOND_FACTOR_REQUIRED_ROLES": "datamanager"})
    assert result.returncode != 0
    assert "SECOND_FACTOR_REQUIRED_ROLES" in result.stderr


def test_follow_up_cockpit_limits_are_read_from_the_environment():
    env = {**PRODUCTION, "CALL_FAILED_ATTEMPTS_TO_MISS": "4", "LOST_TO_FOLLOW_UP_AFTER_MISSED": "2"}
    code = (
        "from django.conf import settings as s; "
        "print(s.CALL_FAILED_ATTEMPTS_TO_MISS, s.LOST_TO_FOLLOW_UP_AFTER_MISSED)"
    )
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["4", "2"]


@pytest.mark.parametrize("name", ["CALL_FAILED_ATTEMPTS_TO_MISS", "LOST_TO_FOLLOW_UP_AFTER_MISSED"])
def test_a_follow_up_cockpit_limit_below_one_refuses_to_start(name):
    result = _manage("check", env={**PRODUCTION, name: "0"})
    assert result.returncode != 0
    assert name in result.stderr


def test_the_web_process_settings_load_and_follow_the_environment():
    """config/gunicorn_conf.py, the image's command, is read by gunicorn itself."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, **PRODUCTION, "WEB_WORKERS": "3", "WEB_THREADS": "2", "WEB_ACCESS_LOG": ""}
    done = subprocess.run(
        [gunicorn, "--print-config", "-c", "config/gunicorn_conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    printed = {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in done.stdout.splitlines())
    }
    assert printed["workers"] == "3"
    assert printed["threads"] == "2"
    assert printed["worker_class"] == "gthread"
    assert printed["accesslog"] == "None"


def test_api_page_size_reaches_the_paginator():
    code = "from config.api import Pagination; print(Pagination().page_size)"
    result = _manage("shell", "-c", code, env={"DEBUG": "1", "API_PAGE_SIZE": "7"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "7"


@pytest.mark.parametrize("size", ["0", "1001"])
def test_api_page_size_out_of_bounds_is_refused(size):
    result = _manage("check", env={"DEBUG": "1", "API_PAGE_SIZE": size})
    assert result.returncode != 0
    assert f"API_PAGE_SIZE={size} must be from 1 to 1000" in result.stderr


def test_a_postgres_setting_replaces_its_earlier_value_and_keeps_the_others():
    options = postgres_setting(
        {"options": "-c lock_timeout=20000"}, "max_parallel_workers_per_gather", 0
    )
    options = postgres_setting(options, "max_parallel_workers_per_gather", 2)
    assert options["options"] == "-c lock_timeout=20000 -c max_parallel_workers_per_gather=2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "-c max_parallel_workers_per_gather=0"),
        ("3", "-c max_parallel_workers_per_gather=3"),
        ("", ""),
    ],
)
def test_the_web_connections_parallel_query_follows_the_environment(value, expected):
    env = {"DEBUG": "1", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    if value is not None:
        env["DB_PARALLEL_WORKERS"] = value
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip().splitlines()[-1]
    assert "lock_timeout=" in printed
    if expected:
        assert expected in printed
    else:
        assert "max_parallel_workers_per_gather" not in printed


def test_a_parallel_worker_count_that_is_not_a_number_refuses_to_start():
    env = {"DEBUG": "1", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    result = _manage("check", env={**env, "DB_PARALLEL_WORKERS": "many"})
    assert result.returncode != 0
    assert "DB_PARALLEL_WORKERS=many must be a whole number or empty" in result.stderr


@pytest.mark.django_db
def test_the_web_connection_to_postgresql_asks_for_no_parallel_workers():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
