"""Show each signed-in user the interface in the language they chose (User.language)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


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
