"""Password rules beyond Django's: no published password, no password of one or two letters."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class PublishedPasswordValidator:
    """Refuse the demo users' password (it is in the README) outside DEBUG."""

    def validate(self, password: str, user: Any = None) -> None:
        from accounts.services import DEMO_PASSWORD

        if not settings.DEBUG and password.strip().lower() == DEMO_PASSWORD:
            raise ValidationError(
                _("This password is published with the demonstration: choose another."),
                code="password_published",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot be the demonstration's password.")


class RepetitivePasswordValidator:
    """Refuse a password made of a handful of distinct characters (aaaaaaaaaaaa, abababab...)."""

    def __init__(self, min_distinct: int = 5) -> None:
        self.min_distinct = min_distinct

    def validate(self, password: str, user: Any = None) -> None:
        if len(set(password.lower())) < self.min_distinct:
            raise ValidationError(
                _("Too few different characters: use %(count)d different ones at least.")
                % {"count": self.min_distinct},
                code="password_repetitive",
            )

    def get_help_text(self) -> str:
        return _("Your password must use at least %(count)d different characters.") % {
            "count": self.min_distinct
        }
