"""CSRF on every view and the security headers on every response."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.views import APIView

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
]


def _views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_no_view_is_exempt_from_csrf():
    exempt = []
    for route, view in _views(get_resolver().url_patterns):
        view_class = getattr(view, "cls", None)
        # DRF marks its views exempt and checks CSRF itself for session-authenticated requests.
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            continue
        if getattr(view, "csrf_exempt", False):
            exempt.append(route)
    assert exempt == []


def test_a_sign_in_without_csrf_token_is_refused(nurse_site_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "nurse_a", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["login", "health"])
def test_responses_carry_the_policy_and_security_headers(client, url):
    response = client.get(reverse(url))
    policy = response.headers["Content-Security-Policy"]
    for directive in POLICY:
        assert directive in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_signed_in_pages_carry_the_policy(client, nurse_site_a):
    client.force_login(nurse_site_a)
    response = client.get(reverse("home"))
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.cookies["sessionid"]["httponly"]
