"""Authentication backend that keeps the signed-in user, with their roles, in the shared cache.

Every request of a signed-in user needs the user and their roles: two queries, and the call page
sends a request for each answer. The user is read once from the database, then from the cache
(Redis in production, shared by every web process) until it changes. Any save or deletion of
the user and any change of their groups or sites makes the copy stale (``accounts.signals``), so a
deactivated user, a changed password or a withdrawn role takes effect on the next request; a
copy also expires after ``USER_CACHE_SECONDS`` whatever happens. If the cache cannot be
reached, the database answers, as without it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

from accounts import identifiers

logger = logging.getLogger(__name__)


def _keys(user_id: Any) -> tuple[str, str]:
    return f"auth-user:{user_id}", f"auth-user-version:{user_id}"


def user_cache_forget(user_id: Any) -> None:
    """Make the cached copy of a user stale, so that the next request reads the database.

    A new version token rather than a deletion: a request that read the user from the database
    just before the change cannot then store its stale copy as current, since it would store it
    under the old token. The token changes now and again when the transaction commits: a
    request that read the database before the commit stored its copy under the first token.
    """
    _new_version(user_id)
    transaction.on_commit(lambda: _new_version(user_id))


def _new_version(user_id: Any) -> None:
    try:
        cache.set(_keys(user_id)[1], uuid.uuid4().hex, timeout=None)
    except Exception as error:  # the cache's errors vary by backend
        # A copy that outlives a change would be wrong for USER_CACHE_SECONDS: say so.
        logger.error("Could not mark the cached user %s stale: %s", user_id, error)


class CachedModelBackend(ModelBackend):
    """The model backend, reading the user of a session from the cache when it is current."""

    def get_user(self, user_id: Any) -> Any:
        entry_key, version_key = _keys(user_id)
        try:
            found = cache.get_many([entry_key, version_key])
            version = found.get(version_key)
            if version is None:
                version = uuid.uuid4().hex
                if not cache.add(version_key, version, timeout=None):
                    version = cache.get(version_key)
        except Exception as error:
            logger.warning("User cache unavailable, reading the database: %s", error)
            return super().get_user(user_id)
        entry = found.get(entry_key)
        if entry is not None and entry[0] == version:
            return entry[1]
        user = super().get_user(user_id)
        if user is None:
            return None
        user.roles  # noqa: B018  (fills the roles, so that the copy carries them)
        identifiers.site_ids_keep(user)  # and the sites the identifier rule reads
        try:
            cache.set(entry_key, (version, user), timeout=settings.USER_CACHE_SECONDS)
        except Exception as error:
            logger.warning("User cache unavailable, not keeping user %s: %s", user_id, error)
        return user
