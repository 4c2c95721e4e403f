"""API tokens with a lifetime: ``API_TOKEN_DAYS`` after they were issued, they are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_expired(token: Any) -> bool:
    """Say whether a token is older than ``API_TOKEN_DAYS``."""
    return timezone.now() - token.created > dt.timedelta(days=settings.API_TOKEN_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """Token authentication; a token older than ``API_TOKEN_DAYS`` is refused (401)."""

    def authenticate_credentials(self, key: str) -> Any:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                _("This API token has expired: ask for a new one.")
            )
        return user, token
