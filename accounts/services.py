"""Writes to accounts: users, their role and their sites."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice
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


def user_set_language(*, user: User, language: str) -> User:
    """Record the language a user chose ("" hands the choice back to the browser)."""
    known = {code for code, _name in settings.LANGUAGES}
    if language not in known | {""}:
        raise ValidationError({"language": _("Choose English or French.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
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


def _clean_code(code: str) -> str:
    return "".join(code.split())


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """Return the user's authenticator being set up, with a new secret key if there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, code: str) -> bool:
    """Confirm a new authenticator with a code it shows; it replaces the user's other devices."""
    if device.confirmed or not device.verify_token(_clean_code(code)):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    for other in devices_for_user(device.user, confirmed=None):
        if other.persistent_id != device.persistent_id:
            other.delete()
    return True


def second_factor_verify(*, user: User, code: str) -> TOTPDevice | None:
    """Return the user's confirmed authenticator if ``code`` is valid now, else None.

    Failures are counted on the device, which refuses codes for a growing delay after each one.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not device.verify_token(_clean_code(code)):
        return None
    return device


@transaction.atomic
def second_factor_reset(*, user: User) -> int:
    """Remove every second-factor device of a user (a lost phone); return how many were removed."""
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    return removed


@transaction.atomic
def second_factor_turn_off(*, user: User) -> int:
    """Remove a user's own second factor, unless their role requires one."""
    if user.second_factor_required:
        raise ValidationError(_("Your role requires a second factor; it cannot be turned off."))
    return second_factor_reset(user=user)
