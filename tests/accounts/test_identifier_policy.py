"""One rule decides who reads names and phone numbers, and every page and API module asks it."""

from __future__ import annotations

import pathlib
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from accounts.identifiers import sees_identifiers
from accounts.roles import Role
from tests.factories import make_user

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = ("accounts", "cohort", "followup", "safety", "quality", "analytics", "config")


def test_site_staff_read_the_identifiers_of_their_own_sites_only(
    nurse_site_a, clinician_site_a, patient_a, patient_b
):
    for user in (nurse_site_a, clinician_site_a):
        assert sees_identifiers(user) is True
        assert sees_identifiers(user, patient_a) is True
        assert sees_identifiers(user, patient_b) is False


@pytest.mark.django_db
def test_other_roles_never_read_identifiers(statistician, data_manager, patient_a, site_a):
    superuser = make_user("root", Role.NURSE, [site_a])
    superuser.groups.clear()
    superuser.is_superuser = True
    superuser.save()
    for user in (statistician, data_manager, AnonymousUser(), None, superuser):
        assert sees_identifiers(user) is False
        assert sees_identifiers(user, patient_a) is False


def test_a_deactivated_nurse_reads_nothing(nurse_site_a, patient_a):
    nurse_site_a.is_active = False
    assert sees_identifiers(nurse_site_a, patient_a) is False


def test_the_user_property_is_the_same_rule(nurse_site_a, statistician):
    assert nurse_site_a.sees_identifiers is True
    assert statistician.sees_identifiers is False


def test_the_worklist_asks_the_rule_for_each_patient(
    client, nurse_site_a, patient_a, patient_b, monkeypatch
):
    """A patient row whose patient the rule refuses shows no name or phone, even to a nurse."""
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:worklist") + "?scope=all").content
    assert b"MARTIN" in page
    monkeypatch.setattr(
        "accounts.identifiers._site_ids", lambda user: frozenset({patient_b.site_id})
    )
    page = client.get(reverse("followup:worklist") + "?scope=all").content
    assert b"MARTIN" not in page


def _sources(pattern: str) -> list[pathlib.Path]:
    found = [p for app in APPS for p in (ROOT / app).rglob(pattern)]
    return [p for p in found if "migrations" not in p.parts]


def test_no_template_decides_by_itself_who_reads_identifiers():
    """Every template that prints a name or a phone asks ``{% sees_identifiers %}``."""
    templates = list((ROOT / "templates").rglob("*.html"))
    assert templates
    for path in templates:
        text = path.read_text()
        assert "user.sees_identifiers" not in text, path
        if re.search(r"contact\.(last_name|first_name|phone)", text):
            assert "{% sees_identifiers" in text, path


def test_no_module_but_the_rule_reads_the_roles_that_see_identifiers():
    readers = [
        p.relative_to(ROOT).as_posix()
        for p in _sources("*.py")
        if "SEES_IDENTIFIERS" in p.read_text()
        or re.search(r"getattr\([^)]*[\"']sees_identifiers", p.read_text())
    ]
    assert sorted(readers) == ["accounts/identifiers.py", "accounts/roles.py"]
