"""Who may read a patient's identifiers: the one rule, for pages, templates, the API and exports.

Identifiers are the names and phone numbers (``PatientContact``) and the free text that may carry
them (``cohort.free_text``). Only the site staff who phone the patients read them: nurses and
clinicians, and only for patients of their own sites. Everyone else (statisticians, data
managers, superusers without a site role, anonymous requests) reads the study code only.
"""

from __future__ import annotations

from typing import Any

from accounts.roles import SEES_IDENTIFIERS


def _site_ids(user: Any) -> frozenset[int]:
    """Return the ids of the user's sites, read once per user instance."""
    cached = getattr(user, "_identifier_site_ids", None)
    if cached is None:
        cached = frozenset(user.sites.values_list("pk", flat=True))
        user._identifier_site_ids = cached
    return cached


def site_ids_keep(user: Any) -> None:
    """Read the site ids of a user who may see identifiers onto the instance, so that a copy of
    the user (the authentication cache's) carries them and the rule asks nothing per request."""
    if getattr(user, "roles", frozenset()) & SEES_IDENTIFIERS:
        _site_ids(user)


def sees_identifiers(user: Any, patient: Any = None) -> bool:
    """Say whether ``user`` may read identifiers, of ``patient`` when one is given.

    Without a patient the answer is the role's (may this user read identifiers at all, e.g. to
    show a name column); with one, the patient must also belong to one of the user's sites.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", True):
        return False
    if not (getattr(user, "roles", frozenset()) & SEES_IDENTIFIERS):
        return False
    if patient is None:
        return True
    return getattr(patient, "site_id", None) in _site_ids(user)
