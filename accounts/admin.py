from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "role_names", "is_active")
    list_filter = ("groups", "sites", "is_active", "is_staff")
    filter_horizontal = ("groups", "user_permissions", "sites")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Study"), {"fields": ("sites", "language")}),
    )

    @admin.display(description=_("roles"))
    def role_names(self, obj: User) -> str:
        return ", ".join(sorted(role.value for role in obj.roles))
