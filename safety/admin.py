from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from cohort.admin_base import ClinicalAdmin
from safety.models import ExpectedEffect, SafetyAlert


@admin.register(ExpectedEffect)
class ExpectedEffectAdmin(SimpleHistoryAdmin):
    """Data managers keep the study's list of expected effects of ketamine here."""

    list_display = ("type", "source")


@admin.register(SafetyAlert)
class SafetyAlertAdmin(ClinicalAdmin):
    """Alerts are read here; they are raised, acknowledged and escalated by the services."""

    list_display = (
        "adverse_event",
        "site",
        "reason",
        "raised_at",
        "acknowledged_at",
        "escalated_at",
    )
    list_filter = ("reason", "site")
    raw_id_fields = ("adverse_event",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
