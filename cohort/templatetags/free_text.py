"""``{{ value|free_text:request.user }}``: free text that may hold identifiers."""

from __future__ import annotations

from typing import Any

from django import template

from cohort.free_text import shown

register = template.Library()


@register.filter
def free_text(value: Any, user: Any) -> Any:
    """Show the text to a user who sees identifiers; say it is hidden to the others."""
    return shown(value, user)
