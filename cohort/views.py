"""Pages of the cohort: enrolment, the patient's file, administrations, leaving the follow-up."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import DATA_ENTRY_ROLES, role_required
from accounts.roles import Role
from cohort import audit, services, timeline
from cohort.forms import (
    AdministrationEditForm,
    AdministrationForm,
    PatientEnrolForm,
    PatientFilterForm,
    PatientStatusForm,
)
from cohort.models import KetamineAdministration, Patient
from cohort.selectors import patients_for_user, sites_for_user
from config.saves import SaveRefused, database_save
from quality.services import queries_answer_on_correction


def _get_patient_for_user(user: Any, pk: int) -> Patient:
    """Return a patient of the user's sites, or 404."""
    return get_object_or_404(patients_for_user(user), pk=pk)


def _add_errors(form: Form, exc: ValidationError, prefix: str = "") -> None:
    for field, problems in exc.message_dict.items():
        name = field.removeprefix(prefix)
        form.add_error(name if name in form.fields else None, problems)


@role_required(*DATA_ENTRY_ROLES)
def patient_new(request: HttpRequest) -> HttpResponse:
    """Enrol a patient: eligibility, identifiers, history, first administration; then baseline."""
    sites = sites_for_user(request.user)
    form = PatientEnrolForm(request.POST or None, sites=sites, prefix="patient")
    administration = AdministrationForm(request.POST or None, prefix="admin")
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and administration.is_valid():
            try:
                with database_save(request):
                    patient = services.patient_enrol_with_administration(
                        by=request.user, administration=administration.values(), **form.values()
                    )
            except ValidationError as exc:
                _add_errors(form, exc)
            except SaveRefused as refused:
                status = refused.status
            else:
                messages.success(
                    request,
                    _("%(code)s enrolled; the calls are scheduled. Now the baseline assessment.")
                    % {"code": patient.study_code},
                )
                baseline = patient.calls.get(timepoint="BL")
                return redirect("followup:call_entry", pk=baseline.pk)
    context = {"form": form, "administration": administration}
    return render(request, "cohort/patient_new.html", context, status=status)


def _detail_context(request: HttpRequest, patient: Patient, **forms: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "patient": patient,
        "calls": list(patient.calls.order_by("sequence")),
        "administrations": list(patient.administrations.order_by("date")),
        "cumulative_mg": patient.cumulative_dose_mg(),
        "administration_form": forms.get("administration_form")
        or AdministrationForm(
            prefix="admin", initial={"date": today, "dose_unit": "mg_per_kg", "days": 1}
        ),
        "status_form": forms.get("status_form")
        or PatientStatusForm(prefix="status", initial={"date": today}),
        "today": today,
    }


@role_required(*DATA_ENTRY_ROLES)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a patient's file: identity (site staff only), calls, administrations, status."""
    patient = _get_patient_for_user(request.user, pk)
    return render(request, "cohort/patient_detail.html", _detail_context(request, patient))


@require_POST
@role_required(*DATA_ENTRY_ROLES)
def administration_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a ketamine administration; an earlier first one moves the open calls."""
    patient = _get_patient_for_user(request.user, pk)
    form = AdministrationForm(request.POST, prefix="admin")
    status = 400
    if form.is_valid():
        try:
            with database_save(request):
                services.administration_record(patient=patient, by=request.user, **form.values())
        except ValidationError as exc:
            _add_errors(form, exc)
        except SaveRefused as refused:
            status = refused.status
            patient = _get_patient_for_user(request.user, pk)  # as saved, not as half-changed
        else:
            messages.success(request, _("Administration recorded."))
            return redirect("cohort:patient_detail", pk=patient.pk)
    context = _detail_context(request, patient, administration_form=form)
    return render(request, "cohort/patient_detail.html", context, status=status)


@role_required(*DATA_ENTRY_ROLES)
def administration_edit(request: HttpRequest, pk: int, administration_pk: int) -> HttpResponse:
    """Correct a recorded administration (with a reason); the open calls follow its date."""
    patient = _get_patient_for_user(request.user, pk)
    administration = get_object_or_404(
        KetamineAdministration, pk=administration_pk, patient=patient, voided_at__isnull=True
    )
    initial = {
        name: getattr(administration, name)
        for name in ("date", "route", "dose_unit", "dose_value", "days", "infusion_minutes")
    }
    initial["seen"] = administration.updated_at.isoformat()
    form = AdministrationEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            changes = form.values()
            reason = changes.pop("reason", form.cleaned_data["reason"])
            try:
                with database_save(request):
                    services.administration_update(
                        administration=administration,
                        by=request.user,
                        reason=reason,
                        expected_updated_at=form.seen_at(),
                        **changes,
                    )
                    queries_answer_on_correction(patient=patient, by=request.user, reason=reason)
            except ValidationError as exc:
                _add_errors(form, exc)
            except services.StaleEditError as exc:
                # Show the values saved now; the input stays, with the new version to save over.
                administration.refresh_from_db()
                data = request.POST.copy()
                data["seen"] = administration.updated_at.isoformat()
                form = AdministrationEditForm(data, initial=initial)
                form.is_valid()
                form.add_error(None, str(exc))
                status = 409
            except SaveRefused as refused:
                status = refused.status
                administration.refresh_from_db()  # as saved, not as half-changed
            else:
                messages.success(request, _("Administration changed; open calls rescheduled."))
                return redirect("cohort:patient_detail", pk=patient.pk)
    context = {"patient": patient, "administration": administration, "form": form}
    return render(request, "cohort/ketamineadministration_edit.html", context, status=status)


@require_POST
@role_required(*DATA_ENTRY_ROLES)
def patient_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that a patient withdrew, was lost, died or completed; open calls are closed."""
    patient = _get_patient_for_user(request.user, pk)
    form = PatientStatusForm(request.POST, prefix="status")
    status = 400
    if form.is_valid():
        try:
            with database_save(request):
                services.patient_set_status(
                    patient=patient,
                    status=form.cleaned_data["status"],
                    date=form.cleaned_data["date"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
        except ValidationError as exc:
            _add_errors(form, exc, prefix="status_")
        except SaveRefused as refused:
            status = refused.status
            patient = _get_patient_for_user(request.user, pk)  # as saved, not as half-changed
        else:
            messages.success(request, _("Status changed; the remaining calls are closed."))
            return redirect("cohort:patient_detail", pk=patient.pk)
    context = _detail_context(request, patient, status_form=form)
    return render(request, "cohort/patient_detail.html", context, status=status)


LIST_ROLES = (*DATA_ENTRY_ROLES, Role.STATISTICIAN)
PAGE_SIZE = 50


@require_GET
@role_required(*LIST_ROLES)
def patient_list(request: HttpRequest) -> HttpResponse:
    """List the user's patients: search by study code, filter by site, status, group, flags."""
    sites = sites_for_user(request.user)
    filters = PatientFilterForm(request.GET or None, sites=sites)
    patients = patients_for_user(request.user)
    memberships = timeline.trajectory_memberships()
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            patients = patients.filter(study_code__icontains=data["q"].strip())
        if data["site"]:
            patients = patients.filter(site=data["site"])
        if data["status"]:
            patients = patients.filter(status=data["status"])
        if data["flagged"]:
            patients = patients.filter(calls__needs_review=True).distinct()
        if data["group"]:
            chosen = [pk for pk, m in memberships.items() if m.group == data["group"]]
            patients = patients.filter(pk__in=chosen)
    if request.user.sees_identifiers:
        patients = patients.select_related("contact")
    rows = timeline.patient_rows(patients.order_by("site__code", "study_code"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for patient in page.object_list:
        patient.membership = memberships.get(patient.pk)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "groups": sorted({m.group for m in memberships.values()}),
        "can_enrol": request.user.has_role(Role.NURSE) or request.user.has_role(Role.DATA_MANAGER),
    }
    return render(request, "cohort/patient_list.html", context)


@require_GET
@role_required(*LIST_ROLES)
def patient_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one patient's year: scores, doses, adverse effects and missed calls on one time axis."""
    patient = _get_patient_for_user(request.user, pk)
    context = {
        "patient": patient,
        "series": timeline.timeline(patient),
        "membership": timeline.trajectory_memberships().get(patient.pk),
        "cumulative_mg": patient.cumulative_dose_mg(),
        "can_edit": any(request.user.has_role(role) for role in DATA_ENTRY_ROLES),
    }
    return render(request, "cohort/patient_timeline.html", context)


@require_GET
@role_required(*LIST_ROLES)
def patient_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the audit trail of a patient: who changed what, when and why (read only)."""
    patient = _get_patient_for_user(request.user, pk)
    entries = audit.patient_trail(patient, identifiers=request.user.sees_identifiers)
    context = {"patient": patient, "entries": entries, "title": _("History of the patient")}
    return render(request, "cohort/audit_trail.html", context)
