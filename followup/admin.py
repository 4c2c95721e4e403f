from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from cohort.admin_base import ClinicalAdmin, FreeTextHidden
from followup.models import (
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    FollowUpCall,
    HadsResponse,
    ItemWording,
    NprsResponse,
    Sf12Response,
)


class AttemptInline(FreeTextHidden, admin.TabularInline):
    model = CallAttempt
    extra = 0
    can_delete = False


@admin.register(FollowUpCall)
class FollowUpCallAdmin(ClinicalAdmin):
    list_display = ("patient", "timepoint", "target_date", "status", "call_date", "needs_review")
    list_filter = ("timepoint", "status", "needs_review", "patient__site")
    search_fields = ("patient__study_code",)
    raw_id_fields = ("patient", "completed_by")
    readonly_fields = ("version",)
    inlines = [AttemptInline]
    list_select_related = ("patient",)


@admin.register(CallAttempt)
class CallAttemptAdmin(ClinicalAdmin):
    list_display = ("call", "attempted_at", "outcome", "by")
    list_filter = ("outcome",)
    raw_id_fields = ("call", "by")


@admin.register(NprsResponse)
class NprsResponseAdmin(ClinicalAdmin):
    list_display = ("call", "mean", "maximum", "missing_reason")
    raw_id_fields = ("call",)


@admin.register(HadsResponse)
class HadsResponseAdmin(ClinicalAdmin):
    list_display = ("call", "anxiety", "depression", "missing_reason")
    readonly_fields = ("anxiety", "depression")
    raw_id_fields = ("call",)


@admin.register(Sf12Response)
class Sf12ResponseAdmin(ClinicalAdmin):
    list_display = ("call", "pcs", "mcs", "missing_reason")
    readonly_fields = ("pcs", "mcs")
    raw_id_fields = ("call",)


@admin.register(AdverseEvent)
class AdverseEventAdmin(ClinicalAdmin):
    list_display = ("call", "type", "severity", "serious", "relation", "outcome", "voided_at")
    list_filter = ("type", "severity", "serious", "relation", "expected", "outcome")
    raw_id_fields = ("call",)


@admin.register(ConcomitantTreatment)
class ConcomitantTreatmentAdmin(ClinicalAdmin):
    list_display = ("call", "kind", "code", "voided_at")
    list_filter = ("kind", "code")
    raw_id_fields = ("call",)


@admin.register(ItemWording)
class ItemWordingAdmin(SimpleHistoryAdmin):
    """Data managers load the licensed wording of the questionnaires here."""

    list_display = ("field", "language", "source")
    list_filter = ("language",)
    search_fields = ("field", "text")

    def save_model(self, request: HttpRequest, obj: ItemWording, form: Any, change: bool) -> None:
        obj.full_clean()
        super().save_model(request, obj, form, change)
