"""The follow-up in the administration site: answers and adverse effects are corrected through
the follow-up services; calls, attempts, treatments and the rated assessments (MADRS, SF-MPQ)
are read only (their pages and the API write them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from cohort.admin_base import ClinicalAdmin, FreeTextHidden, ReadOnlyClinicalAdmin
from followup import services
from followup.instruments import missing
from followup.models import (
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    DepressionBaseline,
    FollowUpCall,
    HadsResponse,
    ItemWording,
    MadrsAssessment,
    NprsResponse,
    Sf12Response,
    SfMpqAssessment,
)


class AttemptInline(FreeTextHidden, admin.TabularInline):
    model = CallAttempt
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FollowUpCall)
class FollowUpCallAdmin(ReadOnlyClinicalAdmin):
    list_display = ("patient", "timepoint", "target_date", "status", "call_date", "needs_review")
    list_filter = ("timepoint", "status", "needs_review", "patient__site")
    search_fields = ("patient__study_code",)
    raw_id_fields = ("patient", "completed_by")
    readonly_fields = ("version",)
    inlines = [AttemptInline]
    list_select_related = ("patient",)


@admin.register(CallAttempt)
class CallAttemptAdmin(ReadOnlyClinicalAdmin):
    list_display = ("call", "attempted_at", "outcome", "by")
    list_filter = ("outcome",)
    raw_id_fields = ("call", "by")


def call_answers(call: FollowUpCall, replacing: Any) -> dict[str, Any]:
    """Return a call's answers and reasons as the services take them, one instrument's row
    (``replacing``) as corrected instead of as saved."""
    data: dict[str, Any] = {}
    for name in missing.INSTRUMENT_FIELDS:
        row = replacing if name == replacing.INSTRUMENT else getattr(call, name, None)
        if row is None:
            continue
        data.update(row.item_values())
        data[f"{name}_missing_reason"] = row.missing_reason
        for field, reason in (row.item_reasons or {}).items():
            if reason != row.missing_reason:
                data[missing.reason_field(field)] = reason
    return data


class QuestionnaireAdmin(ClinicalAdmin):
    """A questionnaire's answers, corrected as on the call page (``questionnaires_save``)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # answers are entered at the call

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "call")

    def service_save(
        self, request: HttpRequest, obj: Any, *, changes: dict[str, Any], reason: str, change: bool
    ) -> None:
        call = FollowUpCall.objects.get(pk=obj.call_id)
        services.questionnaires_save(
            call=call,
            data=call_answers(call, obj),
            by=request.user,
            complete=call.status == "reached",
            reason=reason,
        )


@admin.register(NprsResponse)
class NprsResponseAdmin(QuestionnaireAdmin):
    list_display = ("call", "mean", "maximum", "missing_reason")
    raw_id_fields = ("call",)


@admin.register(HadsResponse)
class HadsResponseAdmin(QuestionnaireAdmin):
    list_display = ("call", "anxiety", "depression", "missing_reason")
    readonly_fields = ("anxiety", "depression")
    raw_id_fields = ("call",)


@admin.register(Sf12Response)
class Sf12ResponseAdmin(QuestionnaireAdmin):
    list_display = ("call", "pcs", "mcs", "missing_reason")
    readonly_fields = ("pcs", "mcs")
    raw_id_fields = ("call",)


@admin.register(AdverseEvent)
class AdverseEventAdmin(ClinicalAdmin):
    """An adverse effect's record, updated as by the API (``adverse_event_update``): its
    severity, seriousness, relation, action taken, dates and outcome."""

    list_display = ("call", "type", "severity", "serious", "relation", "outcome", "voided_at")
    list_filter = ("type", "severity", "serious", "relation", "expected", "outcome")
    raw_id_fields = ("call",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # effects are reported at the call

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = {*services.AE_UPDATABLE, *(f"criterion_{c}" for c in services.AE_CRITERIA)}
        return [
            field.name
            for field in AdverseEvent._meta.fields
            if field.editable and field.name not in editable
        ]

    def service_save(
        self, request: HttpRequest, obj: Any, *, changes: dict[str, Any], reason: str, change: bool
    ) -> None:
        flags = {f"criterion_{code}" for code in services.AE_CRITERIA}
        values = {name: value for name, value in changes.items() if name not in flags}
        if flags & set(changes):
            values["criteria"] = [c for c in services.AE_CRITERIA if getattr(obj, f"criterion_{c}")]
        services.adverse_event_update(
            adverse_event=obj, values=values, by=request.user, reason=reason
        )


@admin.register(ConcomitantTreatment)
class ConcomitantTreatmentAdmin(ReadOnlyClinicalAdmin):
    list_display = ("call", "kind", "code", "voided_at")
    list_filter = ("kind", "code")
    raw_id_fields = ("call",)


@admin.register(MadrsAssessment)
class MadrsAssessmentAdmin(ReadOnlyClinicalAdmin):
    """Read here; entered and corrected on the assessment page and by the API."""

    list_display = ("patient", "visit_code", "assessed_on", "rater", "total", "voided_at")
    list_filter = ("visit_code", "patient__site")
    search_fields = ("patient__study_code",)
    raw_id_fields = ("patient",)
    list_select_related = ("patient",)


@admin.register(SfMpqAssessment)
class SfMpqAssessmentAdmin(ReadOnlyClinicalAdmin):
    """Read here; entered and corrected on the assessment page and by the API."""

    list_display = ("patient", "visit_code", "assessed_on", "sensory", "affective", "total")
    list_filter = ("visit_code", "patient__site")
    search_fields = ("patient__study_code",)
    raw_id_fields = ("patient",)
    list_select_related = ("patient",)


@admin.register(DepressionBaseline)
class DepressionBaselineAdmin(ReadOnlyClinicalAdmin):
    """Read here; recorded and corrected on the baseline page and by the API."""

    list_display = ("patient", "pain_group", "suicidality", "antidepressants", "version")
    list_filter = ("pain_group", "patient__site")
    search_fields = ("patient__study_code",)
    raw_id_fields = ("patient",)
    list_select_related = ("patient",)


@admin.register(ItemWording)
class ItemWordingAdmin(SimpleHistoryAdmin):
    """Data managers load the licensed wording of the questionnaires here."""

    list_display = ("field", "language", "source")
    list_filter = ("language",)
    search_fields = ("field", "text")

    def save_model(self, request: HttpRequest, obj: ItemWording, form: Any, change: bool) -> None:
        obj.full_clean()
        super().save_model(request, obj, form, change)
