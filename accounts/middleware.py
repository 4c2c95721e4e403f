"""Per-user middleware: the interface language, and the second factor before any page."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_otp import user_has_device


class SessionRenewalMiddleware:
    """Push a signed-in session's expiry back at most once per ``SESSION_RENEW_SECONDS``.

    Saving the session on every request would cost a database write per request, and the
    call page sends one for each answer. The idle timeout counts from the last renewal: a
    session ends between ``SESSION_COOKIE_AGE - SESSION_RENEW_SECONDS`` and
    ``SESSION_COOKIE_AGE`` after its last request. Placed just after SessionMiddleware, whose
    response step then saves the renewed session and resends the cookie.
    """

    KEY = "renewed_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.get(SESSION_KEY):
            return response
        now = int(time.time())
        if now - int(session.get(self.KEY, 0)) >= settings.SESSION_RENEW_SECONDS:
            # A renewal alone may be skipped when the database refuses it (config.middleware).
            request.session_renewal_only = not session.modified  # type: ignore[attr-defined]
            session[self.KEY] = now
        return response


class UserLanguageMiddleware:
    """Activate the signed-in user's language; anonymous visitors keep the browser's choice.

    Placed after the authentication middleware, it overrides what LocaleMiddleware guessed from
    the request, so dates, numbers and texts follow the user's setting on every page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class SecondFactorMiddleware:
    """Hold back users who must give a one-time code until they have given one this session.

    A user whose role requires a second factor and who has no authenticator yet is sent to set
    one up; a user with an authenticator (required or chosen) is sent to enter a code. Only
    signing out, the two second-factor pages, static files, the health check and the language
    switch stay open. Installed after django-otp's OTPMiddleware, which says who is verified.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        if _is_open(request.path_info):
            return self.get_response(request)
        has_device = _has_device(request, user)
        if not (has_device or user.second_factor_required):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": _("A second factor is required.")}, status=403)
        target = "accounts:second_factor_verify" if has_device else "accounts:second_factor_setup"
        next_url = request.get_full_path() if request.method == "GET" else reverse("home")
        return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}")


# Session note that this user had no second factor at this sign-in (saves a query per page);
# it holds the sign-in time, so that the next sign-in looks again.
NO_SECOND_FACTOR = "second_factor_none_since"


def _has_device(request: HttpRequest, user: Any) -> bool:
    if user.second_factor_required:
        return user_has_device(user)
    signed_in = str(user.last_login)
    if request.session.get(NO_SECOND_FACTOR) == signed_in:
        return False
    has_device = user_has_device(user)
    if not has_device:
        request.session[NO_SECOND_FACTOR] = signed_in
    return has_device


def _is_open(path: str) -> bool:
    return path in _open_paths() or path.startswith(f"/{settings.STATIC_URL.lstrip('/')}")


@functools.cache
def _open_paths() -> frozenset[str]:
    names = (
        "logout",
        "health",
        "set_language",
        "accounts:second_factor_setup",
        "accounts:second_factor_verify",
    )
    return frozenset(reverse(name) for name in names)


class PasswordChangeRequiredMiddleware:
    """Send a user whose password a data manager asked to change to the password page first.

    After SecondFactorMiddleware: the code comes first, then the new password. The API answers
    403 until the password is changed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or not getattr(user, "password_change_required", False)
            or _is_open(request.path_info)
            or request.path_info in _password_paths()
        ):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": _("Choose a new password first.")}, status=403)
        return redirect("accounts:password_change")


@functools.cache
def _password_paths() -> frozenset[str]:
    return frozenset(
        reverse(name) for name in ("accounts:password_change", "accounts:password_change_done")
    )
