from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import ExportLog


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    """Who downloaded the study data, when and what: read only, for data managers."""

    list_display = ("exported_at", "user", "source", "layout", "format", "items", "rows")
    list_filter = ("source", "layout", "format")
    search_fields = ("user__username", "filename")
    date_hierarchy = "exported_at"
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
