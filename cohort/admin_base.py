"""Admin base for clinical models: history view, change reason, no deletion."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin


class ClinicalAdmin(SimpleHistoryAdmin):
    """Clinical rows are never deleted from the admin; each change keeps its history."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and not getattr(obj, "_change_reason", None):
            obj._change_reason = "Edited in the administration site"
        full_clean = getattr(obj, "full_clean", None)
        if full_clean is not None:
            full_clean(validate_unique=False)
        super().save_model(request, obj, form, change)


admin.site.site_header = "Ketamine follow-up – administration"
admin.site.site_title = "Ketamine follow-up"
