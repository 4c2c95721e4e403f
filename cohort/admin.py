"""The cohort in the administration site: every save goes through a cohort service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cohort import corrections, services
from cohort import vocabulary as voc
from cohort.admin_base import ClinicalAdmin, ClinicalAdminForm, FreeTextHidden
from cohort.models import KetamineAdministration, Patient, PatientContact, Site, Study

_PATIENT_FIELDS = tuple(
    field.name for field in Patient._meta.fields if field.editable and field.name != "id"
)
_ADMINISTRATION_FIELDS = (
    "date",
    "route",
    "dose_unit",
    "dose_value",
    "weight_kg",
    "days",
    "infusion_minutes",
)


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    """Studies, for data managers: which definition each follows, and its sites."""

    list_display = ("code", "name", "definition", "regimen", "visit_codes", "is_active")
    list_filter = ("is_active", "definition")
    search_fields = ("code", "name")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A study with patients keeps its definition: their visits, schedule and analysis.
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and Patient.objects.filter(site__study=obj).exists():
            fields += ("definition",)
        return fields

    @admin.display(description=_("dosing"))
    def regimen(self, study: Study) -> str:
        dosing = study.protocol.dosing
        if not dosing.is_fixed:
            return str(_("free administrations"))
        return str(
            _(
                "%(count)s x %(dose)s mg/kg %(route)s over %(minutes)s min, %(per_week)s per "
                "week for %(weeks)s weeks"
            )
            % {
                "count": dosing.administrations,
                "dose": dosing.dose_mg_per_kg,
                "route": dosing.route.upper(),
                "minutes": dosing.minutes,
                "per_week": dosing.per_week,
                "weeks": dosing.weeks,
            }
        )

    @admin.display(description=_("visits"))
    def visit_codes(self, study: Study) -> str:
        return ", ".join(study.protocol.codes)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "study", "is_active", "is_demo")
    list_filter = ("study", "is_active", "is_demo")
    search_fields = ("code", "name", "city")
    list_select_related = ("study",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A site with patients stays in its study: their calls follow that study's visits.
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.patients.exists():
            fields += ("study",)
        return fields


class AdministrationInline(FreeTextHidden, admin.TabularInline):
    model = KetamineAdministration
    extra = 0
    fields = (
        "date",
        "route",
        "dose_unit",
        "dose_value",
        "weight_kg",
        "days",
        "total_mg",
        "infusion_minutes",
        "voided_at",
        "void_reason",
    )
    readonly_fields = ("total_mg",)
    can_delete = False

    # Read here: an administration is recorded or corrected on its own page (services).
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PatientAdminForm(ClinicalAdminForm):
    """Medical history as ticked boxes rather than a JSON list."""

    comorbidities = forms.MultipleChoiceField(
        label=_("Medical history"),
        choices=list(voc.COMORBIDITIES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Tick none when the patient has no history."),
    )

    class Meta:
        model = Patient
        exclude: tuple[str, ...] = ()


@admin.register(Patient)
class PatientAdmin(ClinicalAdmin):
    form = PatientAdminForm
    list_display = ("study_code", "site", "sex", "age", "etiology", "inclusion_date", "status")
    list_filter = ("site", "status", "sex", "etiology")
    search_fields = ("study_code",)
    date_hierarchy = "inclusion_date"
    inlines = [AdministrationInline]
    list_select_related = ("site",)
    readonly_fields = tuple(
        name for name in _PATIENT_FIELDS if name not in corrections.PATIENT_CORRECTABLE
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # patients are enrolled on the pages, by the API or the importer

    def service_save(
        self, request: HttpRequest, obj: Any, *, changes: dict[str, Any], reason: str, change: bool
    ) -> None:
        corrections.patient_correct(patient=obj, by=request.user, reason=reason, **changes)


@admin.register(PatientContact)
class PatientContactAdmin(ClinicalAdmin):
    """Identifiers: visible in the administration site to superusers only."""

    list_display = ("patient",)
    search_fields = ("patient__study_code",)
    raw_id_fields = ("patient",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def service_save(
        self, request: HttpRequest, obj: Any, *, changes: dict[str, Any], reason: str, change: bool
    ) -> None:
        corrections.patient_contact_save(contact=obj, by=request.user, reason=reason)


@admin.register(KetamineAdministration)
class KetamineAdministrationAdmin(ClinicalAdmin):
    list_display = ("patient", "date", "route", "dose_value", "dose_unit", "days", "total_mg")
    list_filter = ("route", "dose_unit")
    search_fields = ("patient__study_code",)
    raw_id_fields = ("patient",)
    readonly_fields = ("dose_mg", "total_mg", "voided_at", "void_reason")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "patient") if obj is not None else fields

    def service_save(
        self, request: HttpRequest, obj: Any, *, changes: dict[str, Any], reason: str, change: bool
    ) -> None:
        """Record a new administration, or correct one (its open calls follow its date)."""
        values = {name: changes[name] for name in _ADMINISTRATION_FIELDS if name in changes}
        if change:
            services.administration_update(
                administration=obj, by=request.user, reason=reason, **values
            )
        else:
            values = {name: getattr(obj, name) for name in _ADMINISTRATION_FIELDS}
            services.administration_record(patient=obj.patient, by=request.user, **values)
