"""API sign-in: a token for a password, refused to anyone who signs in with a second factor."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services import api_token_issue


class PasswordTokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token.

    A password alone must not open what the pages guard with a one-time code: users whose role
    requires a second factor, or who turned one on, get 403 here and receive a token from an
    administrator (``manage.py create_api_token``) instead.
    """

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        if user.second_factor_required or has_device:
            return Response(
                {
                    "detail": _(
                        "You sign in with a one-time code: a password alone cannot get an API "
                        "token. Ask an administrator for one (manage.py create_api_token)."
                    )
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        return Response({"token": api_token_issue(user=user).key})
