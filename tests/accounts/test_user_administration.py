"""Every path that changes a user, against every role: nobody climbs above their role.

Each path is a function ``(client, actor, victim, root) -> bool`` that tries one change through
the pages, the administration site or the API, and says whether the change happened (read back
from the database). The table says which roles may make it; every other role must fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.roles import Role
from accounts.services import api_token_issue
from tests.factories import PASSWORD, give_authenticator, make_user

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "nurse", "clinician", "statistician", "data_manager", "superuser")
MANAGERS = {"data_manager", "superuser"}
SUPERUSER = {"superuser"}
NOBODY: set[str] = set()


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _edit_data(victim: User, **changes: Any) -> dict[str, Any]:
    data = {
        "first_name": victim.first_name,
        "last_name": victim.last_name,
        "email": victim.email,
        "role": "nurse",
        "sites": [site.pk for site in victim.sites.all()],
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def page_create_user(client, actor, victim, root) -> bool:
    client.post(
        reverse("accounts:user_new"),
        {"username": "newcomer", "role": "statistician", "is_active": "on"},
    )
    return User.objects.filter(username="newcomer").exists()


def page_change_role(client, actor, victim, root) -> bool:
    client.post(
        reverse("accounts:user_edit", args=[victim.pk]), _edit_data(victim, role="clinician")
    )
    return _fresh(victim).roles == {Role.CLINICIAN}


def page_deactivate(client, actor, victim, root) -> bool:
    client.post(reverse("accounts:user_edit", args=[victim.pk]), _edit_data(victim, is_active=None))
    return not _fresh(victim).is_active


def page_require_password_change(client, actor, victim, root) -> bool:
    client.post(reverse("accounts:user_require_password_change", args=[victim.pk]))
    return _fresh(victim).password_change_required


def page_reset_second_factor(client, actor, victim, root) -> bool:
    client.post(reverse("accounts:user_second_factor_reset", args=[victim.pk]))
    return not TOTPDevice.objects.filter(user=victim).exists()


def page_grant_rights_with_extra_fields(client, actor, victim, root) -> bool:
    """Fields the form does not offer, posted anyway: superuser, staff, groups, permissions."""
    extra = {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [Group.objects.get(name="data_manager").pk],
        "user_permissions": [Permission.objects.get(codename="change_user").pk],
        "password": "chosen-by-someone-else",
    }
    client.post(reverse("accounts:user_edit", args=[victim.pk]), _edit_data(victim, **extra))
    fresh = _fresh(victim)
    return (
        fresh.is_superuser
        or fresh.is_staff
        or fresh.user_permissions.exists()
        or fresh.roles != {Role.NURSE}
        or fresh.check_password("chosen-by-someone-else")
    )


def page_change_a_superuser(client, actor, victim, root) -> bool:
    client.post(
        reverse("accounts:user_edit", args=[root.pk]),
        {"role": "data_manager", "first_name": "Changed", "is_active": "on"},
    )
    return _fresh(root).first_name == "Changed"


def _admin_change_data(client, user: User) -> dict[str, Any] | None:
    page = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    if page.status_code != 200:
        return None
    form = page.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if name == "password" or value is None:
            continue
        if name in ("date_joined", "last_login"):
            continue
        if isinstance(value, list):
            data[name] = [getattr(item, "pk", item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    data["date_joined_0"] = user.date_joined.strftime("%Y-%m-%d")
    data["date_joined_1"] = user.date_joined.strftime("%H:%M:%S")
    return data


def admin_make_superuser(client, actor, victim, root) -> bool:
    data = _admin_change_data(client, victim) or {"username": victim.username}
    data |= {"is_superuser": "on", "is_staff": "on"}
    client.post(reverse("admin:accounts_user_change", args=[victim.pk]), data)
    return _fresh(victim).is_superuser


def admin_make_self_superuser(client, actor, victim, root) -> bool:
    if actor is None:
        return False
    if actor.is_superuser:
        return admin_make_superuser(client, actor, victim, root)
    data = _admin_change_data(client, actor) or {"username": actor.username}
    data |= {"is_superuser": "on", "is_staff": "on"}
    client.post(reverse("admin:accounts_user_change", args=[actor.pk]), data)
    return _fresh(actor).is_superuser


def admin_set_password(client, actor, victim, root) -> bool:
    new = "set-by-someone-else-1"
    client.post(
        reverse("admin:auth_user_password_change", args=[victim.pk]),
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    return _fresh(victim).check_password(new)


def admin_read_token(client, actor, victim, root) -> bool:
    key = api_token_issue(user=victim).key
    page = client.get(reverse("admin:authtoken_tokenproxy_changelist"))
    return page.status_code == 200 and key in page.content.decode()


def admin_add_to_group(client, actor, victim, root) -> bool:
    group = Group.objects.get(name="data_manager")
    page = client.get(reverse("admin:auth_group_change", args=[group.pk]))
    if page.status_code != 200:
        return False
    # A group's members are set on the user; the group page itself grants permissions.
    client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": [Permission.objects.get(codename="add_user").pk]},
    )
    return group.permissions.filter(codename="add_user").exists()


def admin_reset_second_factor(client, actor, victim, root) -> bool:
    device = TOTPDevice.objects.get(user=victim)
    client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    return not TOTPDevice.objects.filter(user=victim).exists()


def api_token_of_another_user(client, actor, victim, root) -> bool:
    """The API gives a token for a password only: nobody else's password is known."""
    response = client.post(
        "/api/v1/auth/token/", {"username": victim.username, "password": "not-theirs-at-all"}
    )
    return response.status_code == 200


def api_user_endpoints(client, actor, victim, root) -> bool:
    """No API endpoint lists or changes users."""
    for url in ("/api/v1/users/", f"/api/v1/users/{victim.pk}/"):
        if (
            client.patch(url, {"is_superuser": True}, content_type="application/json").status_code
            < 400
        ):
            return True
    return _fresh(victim).is_superuser


PATHS: list[tuple[Callable[..., bool], set[str]]] = [
    (page_create_user, MANAGERS),
    (page_change_role, MANAGERS),
    (page_deactivate, MANAGERS),
    (page_require_password_change, MANAGERS),
    (page_reset_second_factor, MANAGERS),
    (page_grant_rights_with_extra_fields, NOBODY),
    (page_change_a_superuser, SUPERUSER),
    (admin_make_superuser, SUPERUSER),
    (admin_make_self_superuser, SUPERUSER),
    (admin_set_password, SUPERUSER),
    (admin_read_token, SUPERUSER),
    (admin_add_to_group, SUPERUSER),
    (admin_reset_second_factor, SUPERUSER),
    (api_token_of_another_user, NOBODY),
    (api_user_endpoints, NOBODY),
]


@pytest.fixture
def cast(site_a):
    victim = make_user("victim", Role.NURSE, [site_a])
    give_authenticator(victim)
    root = make_user("root", Role.DATA_MANAGER, [])
    root.is_superuser = True
    root.save()
    give_authenticator(root)
    actors = {
        "anonymous": None,
        "nurse": make_user("nurse1", Role.NURSE, [site_a]),
        "clinician": make_user("clinician1", Role.CLINICIAN, [site_a]),
        "statistician": make_user("statistician1", Role.STATISTICIAN, []),
        "data_manager": give_authenticator(make_user("dm1", Role.DATA_MANAGER, [])).user,
        "superuser": root,
    }
    return victim, root, actors


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "allowed"), PATHS, ids=[path.__name__ for path, _ in PATHS])
def test_every_user_changing_path_against_every_role(client, cast, path, allowed, role):
    victim, root, actors = cast
    actor = actors[role]
    if actor is not None:
        client.force_login(actor)
    happened = path(client, actor, victim, root)
    assert happened == (role in allowed), f"{path.__name__} as {role}"


def test_a_new_user_chooses_their_password_at_the_link_shown_once(client, cast):
    victim, _root, actors = cast
    client.force_login(actors["data_manager"])
    page = client.post(
        reverse("accounts:user_new"),
        {
            "username": "newnurse",
            "role": "nurse",
            "sites": [victim.sites.first().pk],
            "is_active": "on",
        },
    )
    assert page.status_code == 200
    link = page.context["link"]
    assert "no-store" in page["Cache-Control"]
    new = User.objects.get(username="newnurse")
    assert not new.has_usable_password()
    assert new.roles == {Role.NURSE}
    assert not new.is_staff
    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-fresh-long-password", "new_password2": "a-fresh-long-password"},
    )
    assert done.status_code == 302
    assert _fresh(new).check_password("a-fresh-long-password")
    # Once used, the link is spent.
    assert client.get(link, follow=True).context["validlink"] is False


def test_a_required_password_change_comes_before_any_page(client, cast):
    _victim, _root, actors = cast
    client.force_login(actors["data_manager"])
    nurse = actors["nurse"]
    client.post(reverse("accounts:user_require_password_change", args=[nurse.pk]))
    client.logout()
    client.force_login(_fresh(nurse))
    response = client.get(reverse("cohort:patient_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")
    assert client.get("/api/v1/patients/").status_code == 403
    client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-password-9",
            "new_password2": "another-long-password-9",
        },
    )
    assert not _fresh(nurse).password_change_required
    assert client.get(reverse("cohort:patient_list")).status_code == 200


def test_tokens_end_with_a_password_change_a_deactivation_and_a_role_change(cast):
    _victim, _root, actors = cast
    from accounts.services import user_set_role

    for change in (
        lambda user: (user.set_password("another-long-password-9"), user.save()),
        lambda user: (setattr(user, "is_active", False), user.save()),
        lambda user: user_set_role(user=user, role=Role.STATISTICIAN, sites=[]),
    ):
        user = _fresh(actors["clinician"])
        user.is_active = True
        user.save()
        user_set_role(user=user, role=Role.CLINICIAN, sites=list(user.sites.all()))
        api_token_issue(user=user)
        change(user)
        assert not Token.objects.filter(user=user).exists()
    # Re-hashing the same password at sign-in is not a change: the token stays.
    user = _fresh(actors["nurse"])
    key = api_token_issue(user=user).key
    assert user.check_password(PASSWORD)
    assert Token.objects.filter(key=key).exists()


def test_reset_second_factor_command_still_works_for_the_operator(cast):
    victim, _root, _actors = cast
    call_command("reset_second_factor", victim.username)
    assert not TOTPDevice.objects.filter(user=victim).exists()


@pytest.mark.parametrize("role", ["nurse", "clinician", "statistician"])
def test_the_services_refuse_roles_other_than_data_managers(cast, role):
    from django.core.exceptions import PermissionDenied

    from accounts import services

    victim, _root, actors = cast
    actor = actors[role]
    calls = (
        lambda: services.user_require_password_change(by=actor, user=victim),
        lambda: services.user_second_factor_reset(by=actor, user=victim),
        lambda: services.users_administered_by(actor),
        lambda: services.user_create(
            by=actor,
            username="x",
            first_name="",
            last_name="",
            email="",
            role=Role.NURSE,
            sites=[],
        ),
    )
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert not _fresh(victim).password_change_required


def test_a_data_manager_cannot_touch_a_superuser_through_the_services(cast):
    from django.core.exceptions import PermissionDenied

    from accounts import services

    _victim, root, actors = cast
    with pytest.raises(PermissionDenied):
        services.user_update(
            by=actors["data_manager"],
            user=root,
            first_name="x",
            last_name="",
            email="",
            role=Role.NURSE,
            sites=[],
            is_active=False,
        )
    assert _fresh(root).is_active
    assert _fresh(root).is_superuser
