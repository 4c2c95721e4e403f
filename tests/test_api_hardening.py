"""Hardening of every response: no-store for signed-in pages, bounded JSON nesting."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_of_signed_in_users_are_not_stored(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    for url in (
        reverse("home"),
        reverse("cohort:patient_detail", args=[patient_a.pk]),
        reverse("cohort:patient_history", args=[patient_a.pk]),
        f"/api/v1/patients/{patient_a.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_a_deeply_nested_json_body_is_a_400(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    for depth in (50_000, 100):
        body = "[" * depth + "]" * depth
        response = client.post(
            f"/api/v1/patients/{patient_a.pk}/status/", body, content_type="application/json"
        )
        assert response.status_code == 400, depth
        assert "deeper" in response.json()["detail"]
