"""The shared cache (Redis), which pages do without when it cannot be reached.

Everything kept in the cache can be read again from the database: the signed-in user
(``accounts.backends``), the session (``cached_db``), wordings, snapshots, the worker's heartbeat.
When Redis is down, a read here answers "not cached" and a write is dropped, so pages keep
working from the database, slower. The outage is logged once when it starts and once when it
ends, not on every request; ``/health/`` names it (``cache_reachable``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_outage = {"down": False}
_outage_lock = threading.Lock()


def _went_down(error: Exception) -> None:
    with _outage_lock:
        if _outage["down"]:
            return
        _outage["down"] = True
    logger.error(
        "Cache unreachable, pages read the database until it answers again: %s",
        type(error).__name__,
    )


def _answered() -> None:
    if not _outage["down"]:
        return
    with _outage_lock:
        if not _outage["down"]:
            return
        _outage["down"] = False
    logger.warning("Cache reachable again.")


class TolerantRedisCache(RedisCache):
    """Django's Redis cache; an unreachable server reads as a miss and drops writes."""

    def _guard(self, call: Any, fallback: Any) -> Any:
        try:
            result = call()
        except Exception as error:  # redis-py's connection and timeout errors, and others
            _went_down(error)
            return fallback
        _answered()
        return result

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(
            lambda: super(TolerantRedisCache, self).add(key, value, timeout, version), False
        )

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guard(
            lambda: super(TolerantRedisCache, self).get(key, default, version), default
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._guard(lambda: super(TolerantRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(
            lambda: super(TolerantRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._guard(lambda: super(TolerantRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._guard(lambda: super(TolerantRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._guard(lambda: super(TolerantRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        # A missing key raises ValueError as usual; only the server's absence is swallowed.
        try:
            return super().incr(key, delta, version)
        except ValueError:
            raise
        except Exception as error:
            _went_down(error)
            raise ValueError(f"Key '{key}' not found: the cache is unreachable") from error

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(
            lambda: super(TolerantRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._guard(lambda: super(TolerantRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> Any:
        return self._guard(lambda: super(TolerantRedisCache, self).clear(), False)


def cache_reachable(alias: str = "default") -> bool:
    """Say whether the shared cache answers a ping now (a local cache always does)."""
    from django.core.cache import caches

    backend = caches[alias]
    if not isinstance(backend, RedisCache):
        return True
    try:
        return bool(backend._cache.get_client(write=True).ping())
    except Exception as error:
        _went_down(error)
        return False
