"""Admin base for clinical models: history view, change reason, no deletion, saves through the
services.

Each clinical admin writes through the service the pages and the API use (``service_save``):
the same checks, a history row with the author and the reason, the open queries answered and
the analysis run again. A model no service writes from a free edit is read only here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
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

    # What the service refused at the last try of this save (ClinicalAdmin.changeform_view).
    service_refusal: ValidationError | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", _("Give the reason for this change."))
        if self.service_refusal is not None:
            self._add_refusal(self.service_refusal)
        return cleaned

    def _add_refusal(self, refusal: ValidationError) -> None:
        """Show the service's errors on the fields they name, the others above the form."""
        if not hasattr(refusal, "error_dict"):
            self.add_error(None, refusal)
            return
        for field, errors in refusal.error_dict.items():
            name = "change_reason" if field == "reason" else field
            self.add_error(name if name in self.fields else None, errors)


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

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        """The model's form; on a second try, with what the service refused the first time."""
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"service_refusal": refusal})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        """Save through the service; a refusal (rolled back) shows again the form with it."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refusal:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = refusal  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Hand the save to the model's service (``service_save``) with the changed values."""
        reason = (form.cleaned_data.get("change_reason") or "").strip()
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name != "change_reason" and name in form.cleaned_data
        }
        if change and not changes:
            return
        self.service_save(request, obj, changes=changes, reason=reason, change=change)

    def service_save(
        self, request: HttpRequest, obj: Any, *, changes: dict[str, Any], reason: str, change: bool
    ) -> None:
        """Write the row through its service; an admin without one is read only."""
        raise PermissionDenied


class ReadOnlyClinicalAdmin(ClinicalAdmin):
    """Clinical rows that no service writes from a free edit: read here, written on the pages.

    Calls (their schedule and status), call attempts and treatments are written by the call
    services from the call page and the API; there is no correction of one row alone.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.site_header = "Ketamine follow-up – administration"
admin.site.site_title = "Ketamine follow-up"


def _delta_field(change: Any) -> str:
    if isinstance(change, dict):
        field = change.get("field")
        return str(getattr(field, "name", field) or "")
    return str(getattr(change, "field", ""))
