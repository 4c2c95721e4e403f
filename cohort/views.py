"""Pages of the cohort: enrolment, the patient's file, administrations, leaving the follow-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import DATA_ENTRY_ROLES, role_required
from accounts.identifiers import sees_identifiers
from accounts.roles import Role
from cohort import audit, patient_pages, services, timeline
from cohort import vocabulary as voc
from cohort.forms import (
    AdministrationEditForm,
    AdministrationForm,
    CallTimesForm,
    PatientEnrolForm,
    PatientFilterForm,
    PatientStatusForm,
    PatientUnlockForm,
    SignatureForm,
)
from cohort.models import DEFAULT_SIGNATURE_MEANING, KetamineAdministration, Patient, Signature
from cohort.selectors import patients_for_user, patients_in_lock_state, sites_for_user
from config.saves import SaveRefused, database_save, form_add_errors


def _get_patient_for_user(user: Any, pk: int) -> Patient:
    """Return a patient of the user's sites, or 404."""
    return get_object_or_404(patients_for_user(user), pk=pk)


@role_required(*DATA_ENTRY_ROLES)
def patient_new(request: HttpRequest) -> HttpResponse:
    """Enrol a patient: eligibility, identifiers, history, first administration; then baseline."""
    sites = sites_for_user(request.user)
    form = PatientEnrolForm(request.POST or None, sites=sites, prefix="patient")
    administration = AdministrationForm(request.POST or None, prefix="admin")
    call_times = CallTimesForm(request.POST or None, prefix="calltimes")
    status = 200
    if request.method == "POST":
        status = 400
        valid = [f.is_valid() for f in (form, administration, call_times)]
        if all(valid):

            def enrol() -> Patient:
                return services.patient_enrol_with_administration(
                    by=request.user,
                    administration=administration.values(),
                    **form.values(),
                    **call_times.enrolment_values(),
                )

            key = form.cleaned_data.get("submission") or ""
            try:
                with database_save(request):
                    if key:
                        patient, created = services.patient_enrol_once(
                            key=f"form:{key}", by=request.user, enrol=enrol
                        )
                    else:
                        patient, created = enrol(), True
            except ValidationError as exc:
                form_add_errors(form, exc)
            except SaveRefused as refused:
                status = refused.status
            else:
                if created:
                    text = _(
                        "%(code)s enrolled; the calls are scheduled. Now the baseline assessment."
                    )
                else:
                    text = _("This form was already sent: %(code)s is enrolled once, here.")
                messages.success(request, text % {"code": patient.study_code})
                baseline = patient.calls.get(timepoint="BL")
                rated = baseline.rated_instruments
                if rated:
                    # A baseline done by rating (the second study's) is entered on its own page.
                    return redirect(
                        "followup:assessment_entry", pk=patient.pk, instrument=rated[0], visit="BL"
                    )
                return redirect("followup:call_entry", pk=baseline.pk)
    context = {"form": form, "administration": administration, "call_times_form": call_times}
    return render(request, "cohort/patient_new.html", context, status=status)


def _day(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def _role_label(user: Any) -> str:
    roles = sorted(role.value for role in user.roles)
    return _(dict(voc.ROLES)[roles[0]]) if roles else _("no role")


def void_text(signature: Signature) -> str:
    """Say whose signature was voided, by which change, by whom and when."""
    voider = signature.voided_by
    return _(
        "Signature of Dr %(signer)s on %(signed)s was voided by the change of %(change)s "
        "by %(name)s (%(role)s) on %(date)s."
    ) % {
        "signer": signature.signer_name,
        "signed": _day(signature.signed_at),
        "change": signature.voided_change_label(),
        "name": (voider.get_full_name() or voider.username) if voider else _("system"),
        "role": _role_label(voider).lower() if voider else "",
        "date": _day(signature.voided_at),
    }


def sign_off_context(user: Any, patient: Patient) -> dict[str, Any]:
    """Return the lock and signature state of a patient and what the user may do about it."""
    lock = patient.current_lock()
    row = getattr(patient, "lock", None)
    signature = patient.live_signature()
    voided = None
    if signature is None:
        voided = (
            patient.signatures.filter(voided_at__isnull=False)
            .select_related("voided_by")
            .order_by("-voided_at")
            .first()
        )
    is_manager = user.is_superuser or user.has_role(Role.DATA_MANAGER)
    over = lock is None and patient.follow_up_is_over()
    return {
        "lock": lock,
        "unlocked": row if row is not None and not row.locked else None,
        "signature": signature,
        "void_text": void_text(voided) if voided else "",
        "can_lock": is_manager and over,
        "lock_waits": is_manager and lock is None and not over,
        "can_unlock": is_manager and lock is not None,
        "can_sign": lock is not None and signature is None and services.can_sign(user, patient),
    }


def _detail_context(request: HttpRequest, patient: Patient, **forms: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        **sign_off_context(request.user, patient),
        "unlock_form": forms.get("unlock_form") or PatientUnlockForm(prefix="unlock"),
        "patient": patient,
        "calls": list(patient.calls.order_by("sequence")),
        "effect_spans": patient_pages.effect_spans(patient),
        "administrations": list(patient.administrations.order_by("date")),
        "cumulative_mg": patient.cumulative_dose_mg(),
        "administration_form": forms.get("administration_form")
        or AdministrationForm(
            prefix="admin", initial={"date": today, "dose_unit": "mg_per_kg", "days": 1}
        ),
        "status_form": forms.get("status_form")
        or PatientStatusForm(prefix="status", initial={"date": today}),
        "call_times_form": forms.get("call_times_form")
        or CallTimesForm(prefix="calltimes", initial=CallTimesForm.initial_for(patient)),
        "today": today,
        "can_edit_call_times": _is_site_staff(request.user),
    }


def _is_site_staff(user: Any) -> bool:
    return user.has_role(Role.NURSE) or user.has_role(Role.CLINICIAN)


@role_required(*DATA_ENTRY_ROLES)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a patient's file: identity (site staff only), calls, administrations, status."""
    patient = _get_patient_for_user(request.user, pk)
    return render(request, "cohort/patient_detail.html", _detail_context(request, patient))


def _patient_page_post(
    request: HttpRequest,
    pk: int,
    form: Form,
    *,
    save: Callable[[Patient], object],
    done: str,
    form_key: str,
    error_prefix: str = "",
) -> HttpResponse:
    """Save a form posted from the patient page through ``save(patient)``.

    On success: ``done`` (which may name ``%(code)s``, the study code) and back to the page. On
    an error: the page again with the form as typed, under ``form_key``, and its errors; if the
    database refused the save, the patient as saved.
    """
    patient = _get_patient_for_user(request.user, pk)
    status = 400
    if form.is_valid():
        try:
            with database_save(request):
                save(patient)
        except ValidationError as exc:
            form_add_errors(form, exc, prefix=error_prefix)
        except SaveRefused as refused:
            status = refused.status
            patient = _get_patient_for_user(request.user, pk)  # as saved, not as half-changed
        else:
            messages.success(request, done % {"code": patient.study_code})
            return redirect("cohort:patient_detail", pk=patient.pk)
    context = _detail_context(request, patient, **{form_key: form})
    return render(request, "cohort/patient_detail.html", context, status=status)


@require_POST
@role_required(*DATA_ENTRY_ROLES)
def administration_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a ketamine administration; an earlier first one moves the open calls."""
    form = AdministrationForm(request.POST, prefix="admin")
    return _patient_page_post(
        request,
        pk,
        form,
        save=lambda patient: services.administration_record(
            patient=patient, by=request.user, **form.values()
        ),
        done=_("Administration recorded."),
        form_key="administration_form",
    )


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
            except ValidationError as exc:
                form_add_errors(form, exc)
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
    context = {
        "patient": patient,
        "administration": administration,
        "form": form,
        "lock": patient.current_lock(),
    }
    return render(request, "cohort/ketamineadministration_edit.html", context, status=status)


@require_POST
@role_required(Role.NURSE, Role.CLINICIAN)
def patient_call_times(request: HttpRequest, pk: int) -> HttpResponse:
    """Record when the patient prefers to be called (site staff)."""
    form = CallTimesForm(request.POST, prefix="calltimes")
    return _patient_page_post(
        request,
        pk,
        form,
        save=lambda patient: services.patient_set_call_times(
            patient=patient, by=request.user, **form.values()
        ),
        done=_("Preferred call time saved."),
        form_key="call_times_form",
    )


@require_POST
@role_required(*DATA_ENTRY_ROLES)
def patient_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that a patient withdrew, was lost, died or completed; open calls are closed."""
    form = PatientStatusForm(request.POST, prefix="status")
    return _patient_page_post(
        request,
        pk,
        form,
        save=lambda patient: services.patient_set_status(
            patient=patient,
            status=form.cleaned_data["status"],
            date=form.cleaned_data["date"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        ),
        done=_("Status changed; the remaining calls are closed."),
        form_key="status_form",
        error_prefix="status_",
    )


LIST_ROLES = (*DATA_ENTRY_ROLES, Role.STATISTICIAN)
PAGE_SIZE = 50


@require_GET
@role_required(*LIST_ROLES)
def patient_list(request: HttpRequest) -> HttpResponse:
    """List the user's patients: search by study code, filter by site, status, group, flags."""
    sites = sites_for_user(request.user)
    filters = PatientFilterForm(request.GET or None, sites=sites)
    patients = patients_for_user(request.user)
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
        if data["lock"]:
            patients = patients_in_lock_state(patients, data["lock"])
        if data["group"]:
            patients = patient_pages.in_trajectory_group(patients, data["group"])
    if sees_identifiers(request.user):
        patients = patients.select_related("contact")
    rows = timeline.patient_rows(patients.order_by("site__code", "study_code"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    memberships = patient_pages.memberships(p.pk for p in page.object_list)
    for patient in page.object_list:
        patient.membership = memberships.get(patient.pk)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
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
        "series": patient_pages.timeline(patient),
        "membership": patient_pages.membership_of(patient.pk),
        "cumulative_mg": patient.cumulative_dose_mg(),
        "can_edit": any(request.user.has_role(role) for role in DATA_ENTRY_ROLES),
    }
    return render(request, "cohort/patient_timeline.html", context)


@require_GET
@role_required(*LIST_ROLES)
def patient_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the audit trail of a patient: who changed what, when and why (read only)."""
    patient = _get_patient_for_user(request.user, pk)
    entries = audit.patient_trail(patient, identifiers=sees_identifiers(request.user, patient))
    context = {"patient": patient, "entries": entries, "title": _("History of the patient")}
    return render(request, "cohort/audit_trail.html", context)


@require_POST
@role_required(Role.DATA_MANAGER)
def patient_lock(request: HttpRequest, pk: int) -> HttpResponse:
    """Lock a finished follow-up: no change until a data manager unlocks it."""
    patient = _get_patient_for_user(request.user, pk)
    try:
        with database_save(request):
            services.patient_lock(patient=patient, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except SaveRefused:
        pass  # database_save has told the user; the page shows the follow-up unchanged
    else:
        messages.success(request, _("Follow-up of %(code)s locked.") % {"code": patient.study_code})
    return redirect("cohort:patient_detail", pk=patient.pk)


@require_POST
@role_required(Role.DATA_MANAGER)
def patient_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Unlock a follow-up with a reason; the next change voids the signature."""
    form = PatientUnlockForm(request.POST, prefix="unlock")
    return _patient_page_post(
        request,
        pk,
        form,
        save=lambda patient: services.patient_unlock(
            patient=patient, by=request.user, reason=form.cleaned_data["reason"]
        ),
        done=_("Follow-up of %(code)s unlocked."),
        form_key="unlock_form",
    )


@role_required(Role.CLINICIAN)
def patient_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign a locked follow-up: state what the signature means, then ask for the password."""
    patient = _get_patient_for_user(request.user, pk)
    if not services.can_sign(request.user, patient):
        raise PermissionDenied
    form = SignatureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                with database_save(request):
                    services.patient_sign(
                        patient=patient,
                        by=request.user,
                        password=form.cleaned_data["password"],
                        meaning=str(DEFAULT_SIGNATURE_MEANING),
                    )
            except ValidationError as exc:
                form_add_errors(form, exc)
            except SaveRefused as refused:
                status = refused.status
            else:
                messages.success(
                    request,
                    _("Follow-up of %(code)s signed.") % {"code": patient.study_code},
                )
                return redirect("cohort:patient_detail", pk=patient.pk)
    context = {
        **sign_off_context(request.user, patient),
        "patient": patient,
        "form": form,
        "meaning": DEFAULT_SIGNATURE_MEANING,
        "signer_name": request.user.get_full_name() or request.user.get_username(),
    }
    return render(request, "cohort/signature_sign.html", context, status=status)
