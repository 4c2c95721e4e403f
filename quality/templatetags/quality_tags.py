"""Template tags of the queries: the queries of a call page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from followup.models import FollowUpCall
from quality import rules, selectors, services, targets
from quality.models import Query, QueryMessage

register = template.Library()

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _shown(value: str) -> str:
    """Return a stored value (ISO date, number) as the reader's language writes it."""
    if _ISO_DAY.match(value):
        return date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
    if _NUMBER.match(value):
        return number_format(Decimal(value), use_l10n=True)
    return value


@register.filter
def query_text(query: Query) -> str:
    """Return the question of a query in the reader's language (an automatic one's words)."""
    words = rules.MESSAGES.get(query.template)
    if not (query.automatic and words and query.params):
        return query.text
    try:
        return gettext(words) % {key: _shown(str(v)) for key, v in query.params.items()}
    except (KeyError, TypeError, ValueError):
        return query.text


@register.filter
def message_text(message: QueryMessage) -> str:
    """Return a step of a thread; the system's own words in the reader's language."""
    if message.by_id is None and message.text == services.RESOLVED_TEXT:
        return gettext(services.RESOLVED_TEXT)
    if message.by_id is None and message.text == message.query.text:
        return query_text(message.query)
    return message.text


@register.filter
def query_field(query: Query) -> str:
    """Return the label of the value a query points at."""
    model = query.target_type.model_class()
    return targets.field_label(model, query.field) if model else query.field


@register.filter
def rule_label(code: str) -> str:
    """Return the name of a data-quality rule in the reader's language."""
    return gettext(rules.RULE_LABELS[code]) if code in rules.RULE_LABELS else code


@register.simple_tag(takes_context=True)
def call_queries(context: dict[str, Any], call: FollowUpCall) -> dict[str, Any]:
    """Return the queries of a call page, the fields to highlight and what the user may do."""
    user = context["request"].user
    queries = selectors.queries_for_call(user, call)
    live = [query for query in queries if query.state != Query.State.CLOSED]
    fields: dict[str, str] = {}
    for query in live:
        if query.call_id == call.pk and query.target_type.model == "followupcall":
            fields.setdefault(query.field, query_text(query))
    for query in queries:
        model = query.target_type.model_class()
        query.field_label = targets.field_label(model, query.field) if model else query.field
        query.can_answer = query.is_open and services.can_answer(user, query)
        thread = list(query.messages.all())
        query.last_message = thread[-1] if thread else None
    manager = services.is_data_manager(user)
    return {
        "queries": queries,
        "open_count": sum(query.is_open for query in queries),
        "fields": fields,
        # Whole instruments and HADS subscales outline their section; items outline themselves.
        "instruments": {
            name.split("_")[0]
            for name in fields
            if name in ("nprs", "hads", "sf12", "hads_anxiety", "hads_depression")
        },
        "can_raise": manager,
        "targets": targets.targets_of_call(call) if manager else [],
        "kinds": Query.Kind.choices,
    }
