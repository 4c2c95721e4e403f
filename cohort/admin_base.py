"""Admin base for clinical models: history view, change reason, no deletion."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin


def patient_id_of(obj: Any) -> int | None:
    """Return the id of the patient a clinical row belongs to (None for other rows)."""
    if obj is None:
        return None
    if obj._meta.model_name == "patient":
        return int(obj.pk) if obj.pk else None
    if getattr(obj, "patient_id", None):
        return int(obj.patient_id)
    if getattr(obj, "call_id", None):
        return int(obj.call.patient_id)
    return None


class ClinicalAdmin(SimpleHistoryAdmin):
    """Clinical rows are never deleted from the admin; each change keeps its history.

    A row of a locked follow-up is read only; a change to a signed one voids the signature.
    """

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        from cohort.models import PatientLock

        patient_id = patient_id_of(obj)
        if patient_id and PatientLock.objects.filter(patient_id=patient_id, locked=True).exists():
            return False
        return bool(super().has_change_permission(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and not getattr(obj, "_change_reason", None):
            obj._change_reason = "Edited in the administration site"
        patient_id = patient_id_of(obj)
        if change and patient_id:
            from cohort.services import patient_guard_edit

            patient_guard_edit(patient=patient_id, by=request.user, change="patient")
        full_clean = getattr(obj, "full_clean", None)
        if full_clean is not None:
            full_clean(validate_unique=False)
        super().save_model(request, obj, form, change)


admin.site.site_header = "Ketamine follow-up – administration"
admin.site.site_title = "Ketamine follow-up"
