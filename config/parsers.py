"""The API's JSON parser, with a bound on nesting (``JSON_MAX_DEPTH``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser; a body nested deeper than ``JSON_MAX_DEPTH`` is a 400, never a 500."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError(_too_deep()) from error
        if _depth(data) > settings.JSON_MAX_DEPTH:
            raise exceptions.ParseError(_too_deep())
        return data


def _too_deep() -> str:
    return gettext("JSON nested deeper than %(depth)d levels is refused.") % {
        "depth": settings.JSON_MAX_DEPTH
    }


def _depth(data: Any) -> int:
    """Return how deeply lists and objects nest in parsed JSON (iteratively: no recursion)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest
