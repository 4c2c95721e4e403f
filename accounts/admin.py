"""The administration site for accounts: superusers only.

Data managers administer users in the application (accounts.views, accounts.services), where a
user gets exactly one of the four roles and sites, and nobody but a superuser can grant
superuser, staff, permissions or groups, or set or read another user's password or token.
Here, the user, group, token and second-factor tables are closed to everyone else, whatever
permissions a group carries.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class SuperuserOnly:
    """An admin whose pages only superusers can open (403 or absent for everyone else)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(User)
class UserAdmin(SuperuserOnly, BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "role_names", "is_active")
    list_filter = ("groups", "sites", "is_active", "is_staff")
    filter_horizontal = ("groups", "user_permissions", "sites")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Study"), {"fields": ("sites", "language", "password_change_required")}),
    )

    @admin.display(description=_("roles"))
    def role_names(self, obj: User) -> str:
        return ", ".join(sorted(role.value for role in obj.roles))


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(SuperuserOnly, BaseGroupAdmin):
    pass


def _close_to_all_but_superusers(model: Any) -> None:
    """Re-register an admin registered by a library with the superuser-only checks."""
    current = admin.site._registry.get(model)
    if current is None:
        return
    admin.site.unregister(model)
    closed = type(f"SuperuserOnly{type(current).__name__}", (SuperuserOnly, type(current)), {})
    admin.site.register(model, closed)


def close_library_admins() -> None:
    """Close the token and second-factor tables (registered by their libraries)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from rest_framework.authtoken.models import TokenProxy

    for model in (TokenProxy, TOTPDevice, StaticDevice):
        _close_to_all_but_superusers(model)
