"""Typed readers of environment variables that fail loudly on bad values."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return a string variable; ``NAME_FILE`` (a path to a secret file) is read when set."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return a boolean variable (1/0, true/false, yes/no, on/off)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    """Return an integer variable."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_date(name: str, default: dt.date | None) -> dt.date | None:
    """Return a date variable (YYYY-MM-DD); empty means the default."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return a comma-separated list variable, without empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def postgres_setting(options: dict[str, object], name: str, value: object) -> dict[str, object]:
    """Return PostgreSQL database OPTIONS that set ``name`` for every connection (libpq's
    ``options``), replacing an earlier value of the same setting."""
    options = dict(options)
    others = [
        part
        for part in str(options.get("options", "")).split("-c ")
        if part.strip() and not part.strip().startswith(f"{name}=")
    ]
    options["options"] = " ".join(f"-c {part.strip()}" for part in [*others, f"{name}={value}"])
    return options


def database_lock_options(
    engine: str, seconds: float, options: dict[str, object]
) -> dict[str, object]:
    """Return database OPTIONS that make a write give up after waiting ``seconds`` for a lock.

    SQLite waits on the whole file (``timeout``); PostgreSQL on rows (``lock_timeout``, set for
    every connection through libpq's ``options``).
    """
    options = dict(options)
    if engine.endswith("sqlite3"):
        options["timeout"] = seconds
    elif engine.endswith("postgresql"):
        options = postgres_setting(options, "lock_timeout", int(seconds * 1000))
    return options
