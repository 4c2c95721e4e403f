"""API sign-in: a token for a password (refused to anyone with a second factor); rotation.

Tokens end after API_TOKEN_DAYS (accounts.tokens)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

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


class RotatedTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    days = serializers.IntegerField()


class TokenRotateView(APIView):
    """Replace the caller's API token with a new one (the old one stops working at once)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=RotatedTokenSerializer)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = api_token_issue(user=request.user, rotate=True)  # type: ignore[arg-type]
        return Response({"token": token.key, "days": settings.API_TOKEN_DAYS})
