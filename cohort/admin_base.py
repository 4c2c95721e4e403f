"""Admin base for clinical models: history view, change reason, no deletion."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.identifiers import sees_identifiers
from cohort.clinical import REASON_MAX_LENGTH
from cohort.free_text import free_text_fields


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


class ClinicalAdminForm(forms.ModelForm):
    """A clinical row's form in the administration site: a change needs its reason."""

    change_reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=_("Kept in the history of the row with who changed it and when."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", _("Give the reason for this change."))
        return cleaned


class FreeTextHidden:
    """An admin or inline that leaves free text (cohort.free_text) out for readers who may not
    see identifiers; a field left out of a form is kept as it is on save."""

    model: Any

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        """Leave free text that may hold identifiers out of the form for those who may not
        see identifiers (cohort.free_text); left out, it is kept as it is on save."""
        excluded = list(super().get_exclude(request, obj) or ())  # type: ignore[misc]
        if not sees_identifiers(request.user):
            excluded += [name for name in free_text_fields(self.model) if name not in excluded]
        return excluded

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        if sees_identifiers(request.user):
            return fields
        return [name for name in fields if name not in free_text_fields(self.model)]

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)  # type: ignore[misc]
        if sees_identifiers(request.user):
            return shown
        return [name for name in shown if name not in free_text_fields(self.model)]


class ClinicalAdmin(FreeTextHidden, SimpleHistoryAdmin):
    """Clinical rows are never deleted from the admin; each change keeps its history.

    A row of a locked follow-up is read only; a change to a signed one voids the signature.
    The history pages are read only: a past version can be looked at, not restored (a revert
    would write around the services), and history rows are never edited.
    """

    form = ClinicalAdminForm

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        from cohort.models import PatientLock

        patient_id = patient_id_of(obj)
        if patient_id and PatientLock.objects.filter(patient_id=patient_id, locked=True).exists():
            return False
        return bool(super().has_change_permission(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def render_history_view(
        self, request: HttpRequest, template: Any, context: Any, **kwargs: Any
    ) -> Any:
        """The history list, with typed reasons and free-text changes hidden from those who
        may not see identifiers."""
        if not sees_identifiers(request.user):
            from cohort.audit import _reason

            names = free_text_fields(self.model)
            hidden = set(names) | {
                str(capfirst(self.model._meta.get_field(name).verbose_name)) for name in names
            }
            page = context.get("page_obj")
            for record in page.object_list if page is not None else []:
                record.history_change_reason = _reason(record.history_change_reason or "", False)
                delta = getattr(record, "history_delta_changes", None)
                if delta:
                    record.history_delta_changes = [
                        change for change in delta if _delta_field(change) not in hidden
                    ]
        return super().render_history_view(request, template, context, **kwargs)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        reason = (form.cleaned_data.get("change_reason") or "").strip()
        if change:
            obj._change_reason = reason or "Edited in the administration site"
        patient_id = patient_id_of(obj)
        if change and patient_id:
            from cohort.services import patient_guard_edit

            patient_guard_edit(patient=patient_id, by=request.user, change="patient", reason=reason)
        full_clean = getattr(obj, "full_clean", None)
        if full_clean is not None:
            full_clean(validate_unique=False)
        super().save_model(request, obj, form, change)


admin.site.site_header = "Ketamine follow-up – administration"
admin.site.site_title = "Ketamine follow-up"


def _delta_field(change: Any) -> str:
    if isinstance(change, dict):
        field = change.get("field")
        return str(getattr(field, "name", field) or "")
    return str(getattr(change, "field", ""))
