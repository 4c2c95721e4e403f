"""The signed-in user is read from the cache until it changes (accounts.backends)."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import CachedModelBackend
from accounts.roles import Role
from accounts.services import user_set_role
from tests.factories import enrol

pytestmark = pytest.mark.django_db


def _user_queries(queries) -> list[str]:
    """The queries that read the signed-in user or their roles."""
    marks = ('FROM "accounts_user" WHERE', 'INNER JOIN "accounts_user_groups"')
    return [q["sql"] for q in queries if any(mark in q["sql"] for mark in marks)]


@pytest.fixture
def patient_page(site_a, nurse_site_a):
    return reverse("cohort:patient_detail", args=[enrol(site_a, by=nurse_site_a).pk])


def test_the_second_request_reads_neither_the_user_nor_the_roles(
    client, nurse_site_a, patient_page
):
    client.force_login(nurse_site_a)
    with CaptureQueriesContext(connection) as first:
        assert client.get(patient_page).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(patient_page).status_code == 200
    assert len(_user_queries(first.captured_queries)) == 2  # the user, then the roles
    assert _user_queries(second.captured_queries) == []


def test_a_new_site_takes_effect_on_the_next_request(client, nurse_site_a, site_b, patient_page):
    client.force_login(nurse_site_a)
    assert client.get(patient_page).status_code == 200
    user_set_role(user=nurse_site_a, role=Role.NURSE, sites=[site_b])
    assert client.get(patient_page).status_code == 404


def test_a_site_removed_from_the_site_side_takes_effect(client, nurse_site_a, site_a, patient_page):
    client.force_login(nurse_site_a)
    assert client.get(patient_page).status_code == 200
    site_a.staff.remove(nurse_site_a)
    assert client.get(patient_page).status_code == 404


def test_a_role_withdrawn_from_the_group_side_takes_effect(client, nurse_site_a, patient_page):
    client.force_login(nurse_site_a)
    assert client.get(patient_page).status_code == 200
    Group.objects.get(name=Role.NURSE.value).user_set.clear()
    assert client.get(patient_page).status_code == 403


def test_a_deactivated_user_is_signed_out_on_the_next_request(client, nurse_site_a, patient_page):
    client.force_login(nurse_site_a)
    assert client.get(patient_page).status_code == 200
    nurse_site_a.is_active = False
    nurse_site_a.save()
    response = client.get(patient_page)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_changed_password_ends_the_other_sessions(client, nurse_site_a, patient_page):
    client.force_login(nurse_site_a)
    assert client.get(patient_page).status_code == 200
    nurse_site_a.set_password("another-long-password-2026")
    nurse_site_a.save()
    response = client.get(patient_page)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_change_made_while_the_user_was_being_read_is_not_hidden(
    nurse_site_a, site_b, monkeypatch
):
    """A request reads the user, the role changes, then the request stores what it read."""
    backend = CachedModelBackend()
    read_from_database = ModelBackend.get_user

    def read_then_changed(self, user_id):
        user = read_from_database(self, user_id)
        assert user.roles == {Role.NURSE}
        monkeypatch.setattr(ModelBackend, "get_user", read_from_database)
        user_set_role(user=nurse_site_a, role=Role.STATISTICIAN, sites=[])
        return user

    monkeypatch.setattr(ModelBackend, "get_user", read_then_changed)
    stale = backend.get_user(nurse_site_a.pk)
    assert stale.roles == {Role.NURSE}  # what that request read, before the change
    assert backend.get_user(nurse_site_a.pk).roles == {Role.STATISTICIAN}


def test_without_the_cache_the_database_answers(nurse_site_a, settings):
    # Nothing listens on port 1: every cache operation fails.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    user = CachedModelBackend().get_user(nurse_site_a.pk)
    assert user == nurse_site_a
    assert user.roles == {Role.NURSE}


def _identifier_site_queries(queries) -> list[str]:
    """The identifier rule's own read of the user's site ids (accounts.identifiers)."""
    return [
        q["sql"] for q in queries if q["sql"].startswith('SELECT "cohort_site"."id" AS "pk" FROM')
    ]


def test_the_cached_user_carries_the_sites_the_identifier_rule_reads(
    client, nurse_site_a, patient_page
):
    client.force_login(nurse_site_a)
    with CaptureQueriesContext(connection) as first:
        assert b"MARTIN" in client.get(patient_page).content
    with CaptureQueriesContext(connection) as second:
        assert b"MARTIN" in client.get(patient_page).content
    assert len(_identifier_site_queries(first.captured_queries)) == 1
    assert _identifier_site_queries(second.captured_queries) == []
