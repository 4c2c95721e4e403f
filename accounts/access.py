"""Role checks for views: a user without one of the roles gets 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.roles import Role

# Who enters clinical data through the pages: the site staff, and data managers for corrections.
DATA_ENTRY_ROLES = (Role.NURSE, Role.CLINICIAN, Role.DATA_MANAGER)

View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Let signed-in users with one of ``roles`` through; refuse the others with 403."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if not (user.is_superuser or any(user.has_role(role) for role in roles)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
