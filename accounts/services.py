"""Writes to accounts: users, their role and their sites."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import User, site_model
from accounts.roles import Role

DEMO_PASSWORD = "ketamine-demo"
DEMO_USERS: tuple[tuple[str, Role, str, str], ...] = (
    ("nurse", Role.NURSE, "Nora", "Nurse"),
    ("clinician", Role.CLINICIAN, "Claire", "Clinician"),
    ("statistician", Role.STATISTICIAN, "Stéphane", "Statistician"),
    ("datamanager", Role.DATA_MANAGER, "Dana", "Manager"),
)


@transaction.atomic
def user_set_role(*, user: User, role: Role, sites: Iterable[Model]) -> User:
    """Give a user exactly one role and a set of sites; a new role ends their API tokens."""
    if user.pk and user.roles != frozenset({role}):
        Token.objects.filter(user=user).delete()
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
    sites = list(site_model().objects.filter(is_demo=True))
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
    """Return the user's API token, creating it (or replacing it when ``rotate`` or expired)."""
    from accounts.tokens import token_expired

    current = Token.objects.filter(user=user).first()
    if current is not None and (rotate or token_expired(current)):
        current.delete()
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


RECOVERY_CODES = 10


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """Give the user new one-time recovery codes (the old ones end); return them, to show once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    for code in codes:
        device.token_set.create(token=code)
    return codes


def second_factor_verify(*, user: User, code: str) -> Any:
    """Return the device that accepts ``code`` now (authenticator or recovery code), else None.

    A six-digit code is checked against the authenticator, anything else against the recovery
    codes, each usable once. Failures are counted on the device, which refuses codes for a
    growing delay after each one.
    """
    cleaned = _clean_code(code)
    if cleaned.isdigit() and len(cleaned) == 6:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None or not device.verify_token(cleaned):
            return None
        return device
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is None or not recovery.verify_token(cleaned.lower()):
        return None
    return recovery


def second_factor_code_reused(*, user: User, code: str) -> bool:
    """Say whether ``code`` is a right code of the authenticator already used once."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    cleaned = _clean_code(code)
    if device is None or not cleaned.isdigit():
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return bool(totp.verify(int(cleaned), device.tolerance, 0)) and totp.t() <= device.last_t


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


# User administration by data managers (the pages in accounts.views call these; nothing else
# changes a user's role, sites, activity or second factor outside the command line).


def _check_administers(by: User, user: User | None = None) -> None:
    """Refuse unless ``by`` may administer users, and ``user`` (if given) is not a superuser.

    A superuser may administer anyone; a data manager may administer the users who are neither
    superusers nor staff outside the data-manager role. Nobody else may.
    """
    if not by.is_active:
        raise PermissionDenied
    if by.is_superuser:
        return
    if not by.has_role(Role.DATA_MANAGER):
        raise PermissionDenied
    if user is not None and (user.is_superuser or user.user_permissions.exists()):
        raise PermissionDenied


def users_administered_by(by: User) -> Any:
    """Return the users ``by`` may administer, by username."""
    _check_administers(by)
    users = User.objects.prefetch_related("groups", "sites").order_by("username")
    if not by.is_superuser:
        users = users.filter(is_superuser=False)
    return users


def password_set_link(user: User) -> str:
    """Return the path where a new user chooses their password (once, for a few days)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:password_set", args=[uid, token])


@transaction.atomic
def user_create(
    *,
    by: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    sites: Iterable[Model],
) -> tuple[User, str]:
    """Create a user with one role and sites, without a password; return it and its link.

    The user chooses a password at the returned link (Django's reset token: valid once, for
    PASSWORD_RESET_TIMEOUT); nobody else ever knows it.
    """
    _check_administers(by)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    user.save()
    user_set_role(user=user, role=role, sites=sites)
    return user, password_set_link(user)


@transaction.atomic
def user_update(
    *,
    by: User,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    sites: Iterable[Model],
    is_active: bool,
) -> User:
    """Change a user's names, role, sites and activity (deactivation ends tokens and sessions)."""
    _check_administers(by, user)
    if user.pk == by.pk and not is_active:
        raise ValidationError({"is_active": _("You cannot deactivate yourself.")})
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.is_active = is_active
    user.save(update_fields=["first_name", "last_name", "email", "is_active"])
    return user_set_role(user=user, role=role, sites=sites)


@transaction.atomic
def user_require_password_change(*, by: User, user: User) -> User:
    """Make the user choose a new password at the next page they open."""
    _check_administers(by, user)
    user.password_change_required = True
    user.save(update_fields=["password_change_required"])
    return user


def password_changed(*, user: User) -> None:
    """Note that a user chose a new password (their own, on the password page)."""
    if user.password_change_required:
        user.password_change_required = False
        user.save(update_fields=["password_change_required"])


@transaction.atomic
def user_second_factor_reset(*, by: User, user: User) -> int:
    """Remove a user's second factor (a lost phone); they set up a new one at the next sign-in."""
    _check_administers(by, user)
    return second_factor_reset(user=user)
