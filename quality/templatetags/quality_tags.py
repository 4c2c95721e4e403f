"""Template tags of the queries: the queries of a call page."""

from __future__ import annotations

from typing import Any

from django import template

from followup.models import FollowUpCall
from quality import selectors, services, targets
from quality.models import Query

register = template.Library()


@register.simple_tag(takes_context=True)
def call_queries(context: dict[str, Any], call: FollowUpCall) -> dict[str, Any]:
    """Return the queries of a call page, the fields to highlight and what the user may do."""
    user = context["request"].user
    queries = selectors.queries_for_call(user, call)
    live = [query for query in queries if query.state != Query.State.CLOSED]
    fields: dict[str, str] = {}
    for query in live:
        if query.call_id == call.pk and query.target_type.model == "followupcall":
            fields.setdefault(query.field, query.text)
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
