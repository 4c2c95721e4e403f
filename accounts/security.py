"""Sign-in throttling hooks for django-axes: the lockout page and the client's address."""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """Show the sign-in page again, saying the account is locked for a while (status 429)."""
    username = (credentials or {}).get("username", "") or request.POST.get("username", "")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "locked_out": True,
        "cooloff_minutes": minutes,
        "username": username,
    }
    return render(request, "registration/login.html", context, status=429)


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's address; X-Forwarded-For counts only from a trusted proxy.

    When the connection comes from one of ``TRUSTED_PROXY_NETWORKS``, the client is the
    right-most address of X-Forwarded-For that is not itself a trusted proxy (each proxy appends
    the address it received the request from; entries further left may be forged). A connection
    from anywhere else is the client, whatever headers it sends.
    """
    remote = request.META.get("REMOTE_ADDR")
    if not _trusted(remote):
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    for address in reversed(forwarded):
        if not _valid(address):
            return remote  # a garbled header: fall back to the proxy, never to the text
        if not _trusted(address):
            return address
    return forwarded[0] if forwarded else remote


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _trusted(address: str | None) -> bool:
    if not address or not _valid(address):
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXY_NETWORKS)))


@functools.cache
def _networks(specs: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def address_locked(request: HttpRequest) -> bool:
    """Say whether the client's address failed ``LOGIN_ADDRESS_FAILURE_LIMIT`` sign-ins, across
    every username, within the cool-off (password spraying: one guess per account)."""
    from axes.models import AccessAttempt
    from django.db.models import Sum
    from django.utils import timezone

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(
        ip_address=client_ip(request), attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return (failures or 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


class AddressLimitBackend:
    """Refuse every sign-in from an address past its failure limit, like a django-axes lock.

    First of AUTHENTICATION_BACKENDS, so it covers the sign-in page, the administration site's
    and the API token; the lockout page (429) follows from ``axes_locked_out``.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is not None and address_locked(request):
            from axes.exceptions import AxesBackendPermissionDenied

            request.axes_locked_out = True  # type: ignore[attr-defined]
            raise AxesBackendPermissionDenied("Too many failed sign-ins from this address")
        return None
