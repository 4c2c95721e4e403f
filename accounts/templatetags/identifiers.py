"""Template side of the identifier rule (``accounts.identifiers``).

``{% sees_identifiers as show %}`` says whether the signed-in user may read identifiers at all
(for a name column); ``{% sees_identifiers patient as show %}`` says it for one patient.
"""

from __future__ import annotations

from typing import Any

from django import template

from accounts import identifiers

register = template.Library()


@register.simple_tag(takes_context=True, name="sees_identifiers")
def sees_identifiers_tag(context: template.Context, patient: Any = None) -> bool:
    """Apply the identifier rule to the request's user (and ``patient`` when given)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return identifiers.sees_identifiers(user, patient)
