"""What every endpoint of the REST API shares: role checks, paging, errors, hidden fields.

Permissions follow the pages: each view names the roles that may read it (``read_roles``) and
those that may write through it (``write_roles``); the queryset is always built by a selector
scoped to the user, so another site's object is a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from accounts.identifiers import sees_identifiers
from accounts.roles import Role
from config.saves import StaleWriteError, log_refusal, refusal_message

ALL_ROLES = frozenset(Role)


def user_has_any_role(user: Any, roles: frozenset[Role]) -> bool:
    """Say whether a signed-in user has one of ``roles`` (superusers have them all)."""
    if not (user and user.is_authenticated):
        return False
    return bool(user.is_superuser or (user.roles & roles))


class StudyRolePermission(permissions.BasePermission):
    """Let a user read with one of the view's ``read_roles``, write with its ``write_roles``."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            roles = getattr(view, "read_roles", ALL_ROLES)
        else:
            roles = getattr(view, "write_roles", frozenset())
        return user_has_any_role(request.user, frozenset(roles))


# Ids are 64-bit integers: a larger number in a filter is refused, not sent to the database.
MAX_ID = 2**63 - 1
# Rows per API page: API_PAGE_SIZE (settings) by default, at most MAX_PAGE_SIZE on request.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class IdFilter(django_filters.NumberFilter):
    """Filter on the id of a related object: a whole number from 1 to ``MAX_ID``, else 400."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class Pagination(PageNumberPagination):
    """Pages of ``REST_FRAMEWORK["PAGE_SIZE"]`` rows (``API_PAGE_SIZE``, 50 by default);
    ``?page_size=`` asks for up to 1,000."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def __init__(self) -> None:
        # Read when the view builds its paginator, so that the setting in force is the one used.
        self.page_size = api_settings.PAGE_SIZE or DEFAULT_PAGE_SIZE


class StaleVersion(exceptions.APIException):
    """The object was saved by someone else since the client read it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale_version"
    default_detail = "This record was changed by someone else; read it again, then retry."


def _django_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(message) for message in error.messages]}


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn a service's ValidationError into a 400 with field errors, a stale version into 409."""
    try:
        yield
    except DjangoValidationError as error:
        raise serializers.ValidationError(_django_errors(error)) from error
    except StaleWriteError as error:
        raise StaleVersion(str(error)) from error


def handle_exception(error: Exception, context: dict[str, Any]) -> Response | None:
    """Answer validation errors, stale versions and refused saves raised outside serializers."""
    if isinstance(error, DjangoValidationError):
        return Response(_django_errors(error), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(error, StaleWriteError):
        error = StaleVersion(str(error))
    if isinstance(error, DatabaseError) and context.get("request") is not None:
        log_refusal(context["request"], error)
        return Response({"detail": refusal_message()}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    return exception_handler(error, context)


class ScopedFieldsMixin:
    """Drop the fields the requesting user may not see.

    ``identifier_fields`` (names, phones) and ``private_text_fields`` (free text typed by site
    staff: reasons, notes, "other" descriptions, drug names, which may hold identifiers and are
    never exported either) are shown only to users who see identifiers. The schema describes
    every field.
    """

    identifier_fields: tuple[str, ...] = ()
    private_text_fields: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        context = self.context  # type: ignore[attr-defined]
        if getattr(context.get("view"), "swagger_fake_view", False):
            return fields
        user = getattr(context.get("request"), "user", None)
        if user is None or not user.is_authenticated:
            return fields
        if not sees_identifiers(user):
            for name in (*self.identifier_fields, *self.private_text_fields):
                fields.pop(name, None)
        return fields
