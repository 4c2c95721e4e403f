"""Project middleware: the session kept when the database refuses to renew it; no-store."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware; a renewal the database refuses does not spoil the page.

    A request renews the session now and then (``accounts.middleware.SessionRenewalMiddleware``,
    the idle timeout). When the database is locked, that write fails too: the page already says
    the save was refused and keeps the input, so it is sent as it is and the session simply is
    not renewed this time. A session that did change otherwise (a sign-in, a sign-out) still
    fails loudly.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        try:
            return super().process_response(request, response)
        except (DatabaseError, SessionInterrupted) as exc:
            session = getattr(request, "session", None)
            renewal_only = getattr(request, "session_renewal_only", False)
            if session is None or (session.modified and not renewal_only):
                raise
            logger.warning(
                "Session not renewed: the database refused the write (%s).", type(exc).__name__
            )
            return response


class NoStoreMiddleware:
    """Tell browsers and proxies not to keep any page of a signed-in user (``no-store``).

    Patient pages carry identifiers and clinical data; a shared computer's cache or the back
    button after signing out must not show them. Responses that set their own Cache-Control
    (downloads, the health check) keep it. After the authentication middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
