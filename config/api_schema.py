"""The OpenAPI description of the answers every endpoint may give besides its successes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ErrorSerializer(serializers.Serializer):
    """An error without field details: who may not, what does not exist."""

    detail = serializers.CharField()


INVALID = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input: the messages, keyed by field (`non_field_errors` for the whole).",
)
UNAUTHENTICATED = OpenApiResponse(ErrorSerializer, description="Not signed in, or a bad token.")
FORBIDDEN = OpenApiResponse(
    ErrorSerializer,
    description="The role does not allow this, or the second factor was not given.",
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such object among yours, or no such page."
)


class StudyAutoSchema(AutoSchema):
    """Document 400, 401, 403 and 404 where an endpoint can answer them.

    Fields that ``config.api.ScopedFieldsMixin`` hides from users who do not see identifiers
    are described, but not required.
    """

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        hidden = {
            *getattr(serializer, "identifier_fields", ()),
            *getattr(serializer, "private_text_fields", ()),
        }
        if hidden and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in hidden]
            if not schema["required"]:
                del schema["required"]
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors: dict[str, OpenApiResponse] = {}
        if self.method in BODY_METHODS or getattr(self.view, "filterset_class", None):
            errors["400"] = INVALID
        if getattr(self.view, "permission_classes", None):
            errors["401"] = UNAUTHENTICATED
            errors["403"] = FORBIDDEN
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            errors["404"] = NOT_FOUND
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        return responses
