"""Row-level tags of long tables (the worklist): the same result as Django's, computed once.

A worklist page shows a hundred rows, each with several dates and links. Django's ``date``
filter looks up the locale's format and formats the day anew, and ``{% url %}`` resolves the
pattern, for every row; these tags do that work once per day and language, and once per URL
name, then reuse it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import formats, translation

register = template.Library()

# A primary key no row has: reversed once, then replaced by each row's key.
_SENTINEL = 987654321987


@lru_cache(maxsize=4096)
def _short_date(day: dt.date, language: str | None) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


@register.filter(expects_localtime=True)
def short_date(value: dt.date | dt.datetime | None) -> str:
    """Write a date as ``|date:"SHORT_DATE_FORMAT"`` does (a template gives datetimes in
    local time).

    Days are formatted once per language: a page of rows repeats few distinct days.
    """
    if not value:
        return ""
    if type(value) is dt.date:
        return _short_date(value, translation.get_language())
    return formats.date_format(value, "SHORT_DATE_FORMAT")


@lru_cache(maxsize=256)
def _url_pattern(name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    url = reverse(name, args=[_SENTINEL], urlconf=urlconf)
    head, sentinel, tail = url.partition(str(_SENTINEL))
    if not sentinel:
        raise template.TemplateSyntaxError(f"{name!r} does not take one integer key.")
    return head, tail


@register.simple_tag
def pk_url(name: str, pk: int) -> str:
    """Return the URL of a view taking one integer ``pk`` (as ``{% url name pk %}``)."""
    head, tail = _url_pattern(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"
