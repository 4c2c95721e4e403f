"""Writes to accounts: users, their role and their sites."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.roles import Role
from cohort.models import Site

DEMO_PASSWORD = "ketamine-demo"
DEMO_USERS: tuple[tuple[str, Role, str, str], ...] = (
    ("nurse", Role.NURSE, "Nora", "Nurse"),
    ("clinician", Role.CLINICIAN, "Claire", "Clinician"),
    ("statistician", Role.STATISTICIAN, "Stéphane", "Statistician"),
    ("datamanager", Role.DATA_MANAGER, "Dana", "Manager"),
)


@transaction.atomic
def user_set_role(*, user: User, role: Role, sites: Iterable[Site]) -> User:
    """Give a user exactly one role and a set of sites."""
    user.groups.set([Group.objects.get(name=role.value)])
    user.sites.set(list(sites))
    user.is_staff = role == Role.DATA_MANAGER
    user.save(update_fields=["is_staff"])
    user._roles_cache = None  # type: ignore[attr-defined]
    return user


@transaction.atomic
def demo_users_create() -> list[User]:
    """Create or reset the four demo users, staff of every demo site."""
    sites = list(Site.objects.filter(is_demo=True))
    users = []
    for username, role, first, last in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@demo.invalid"
        user.set_password(DEMO_PASSWORD)
        user.is_active = True
        user.save()
        users.append(user_set_role(user=user, role=role, sites=sites))
    return users


@transaction.atomic
def api_token_issue(*, user: User, rotate: bool = False) -> Token:
    """Return the user's API token, creating it (or replacing it when ``rotate``)."""
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return token
