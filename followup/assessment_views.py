"""Pages of the MADRS and the SF-MPQ rated at a patient's visits: the list, and the entry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import DATA_ENTRY_ROLES, role_required
from accounts.roles import Role
from cohort.models import Patient
from cohort.selectors import patients_for_user
from config.api import user_has_any_role
from config.saves import SaveRefused, database_save, form_add_errors
from followup import services, visits
from followup.assessment_forms import (
    FORMS,
    AssessmentForm,
    AssessmentVoidForm,
    assessment_initial,
)
from followup.models import MadrsAssessment, SfMpqAssessment, VisitAssessment
from followup.pages import error_summary

MODELS: dict[str, type[VisitAssessment]] = {
    visits.MADRS: MadrsAssessment,
    visits.SF_MPQ: SfMpqAssessment,
}
NAMES = {visits.MADRS: "MADRS", visits.SF_MPQ: "SF-MPQ"}


def _get_patient_for_user(user: Any, pk: int) -> Patient:
    """Return a patient of the user's sites, or 404 (other sites' patients do not exist)."""
    return get_object_or_404(patients_for_user(user), pk=pk)


def _live(model: type[VisitAssessment], patient: Patient, visit: str) -> Any:
    return model.objects.filter(patient=patient, visit_code=visit, voided_at__isnull=True).first()


@require_GET
@role_required(*DATA_ENTRY_ROLES, Role.STATISTICIAN)
def assessment_list(request: HttpRequest, pk: int) -> HttpResponse:
    """List the patient's visits with the MADRS and SF-MPQ recorded at each, and their scores."""
    patient = _get_patient_for_user(request.user, pk)
    baseline = _live(MadrsAssessment, patient, "BL")
    rows = []
    for instrument, model in MODELS.items():
        recorded = {
            row.visit_code: row
            for row in model.objects.filter(patient=patient, voided_at__isnull=True)
        }
        for code in visits.assessment_visits(patient, instrument):
            row = recorded.get(code)
            outcome = None
            if isinstance(row, MadrsAssessment) and code != "BL":
                base = baseline.total if baseline is not None else None
                outcome = {"response": row.response(base), "remission": row.remission()}
            rows.append(
                {
                    "instrument": instrument,
                    "name": NAMES[instrument],
                    "code": code,
                    "label": visits.visit_label(code),
                    "row": row,
                    "outcome": outcome,
                }
            )
    context = {
        "patient": patient,
        "rows": rows,
        "lock": patient.current_lock(),
        "can_enter": user_has_any_role(request.user, frozenset(DATA_ENTRY_ROLES)),
    }
    return render(request, "followup/assessment_list.html", context)


@role_required(*DATA_ENTRY_ROLES)
def assessment_entry(request: HttpRequest, pk: int, instrument: str, visit: str) -> HttpResponse:
    """Enter the MADRS or the SF-MPQ of a patient at a visit, or correct it with a reason."""
    patient = _get_patient_for_user(request.user, pk)
    allowed = visits.assessment_visits(patient, instrument) if instrument in MODELS else ()
    if visit not in allowed:
        raise Http404
    model = MODELS[instrument]
    assessment = _live(model, patient, visit)
    # A form posted without a version is a new assessment: if the visit has one meanwhile (a
    # second submission), the service refuses it and the input stays on the page.
    editing = assessment is not None and (request.method != "POST" or "version" in request.POST)
    if assessment is not None and editing:
        initial = assessment_initial(assessment)
    else:
        initial = {"assessed_on": timezone.localdate()}
    form_class = FORMS[instrument]
    language = get_language()
    form = form_class(request.POST or None, editing=editing, initial=initial, language=language)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                with database_save(request):
                    _save(request, form, model, patient, visit, allowed, assessment, editing)
            except ValidationError as exc:
                form_add_errors(form, exc)
            except services.StaleAssessmentError as exc:
                # The input stays, now over the version saved meanwhile, beside the saved values.
                assessment = _live(model, patient, visit)
                data = request.POST.copy()
                data["version"] = str(getattr(assessment, "version", ""))
                form = form_class(data, editing=True, initial=initial, language=language)
                form.is_valid()
                form.add_error(None, str(exc))
                status = 409
            except SaveRefused as refused:
                status = refused.status
            else:
                messages.success(
                    request,
                    _("%(name)s saved for %(visit)s.")
                    % {"name": NAMES[instrument], "visit": visits.visit_label(visit)},
                )
                return redirect("followup:assessment_list", pk=patient.pk)
    return _entry_page(request, patient, instrument, visit, assessment, form, status=status)


def _entry_page(
    request: HttpRequest,
    patient: Patient,
    instrument: str,
    visit: str,
    assessment: VisitAssessment | None,
    form: AssessmentForm,
    *,
    status: int = 200,
    void_form: AssessmentVoidForm | None = None,
) -> HttpResponse:
    """Render the entry page of an instrument at a visit, with the void form of a saved one."""
    context = {
        "patient": patient,
        "instrument": instrument,
        "name": NAMES[instrument],
        "visit": visit,
        "visit_label": visits.visit_label(visit),
        "assessment": assessment,
        "form": form,
        "void_form": void_form or AssessmentVoidForm(),
        "lock": patient.current_lock(),
        "error_summary": error_summary(form),
    }
    return render(request, "followup/assessment_entry.html", context, status=status)


@require_POST
@role_required(*DATA_ENTRY_ROLES)
def assessment_void(request: HttpRequest, pk: int, instrument: str, visit: str) -> HttpResponse:
    """Void the assessment of an instrument at a visit entered in error, with the reason."""
    patient = _get_patient_for_user(request.user, pk)
    allowed = visits.assessment_visits(patient, instrument) if instrument in MODELS else ()
    assessment = _live(MODELS[instrument], patient, visit) if visit in allowed else None
    if assessment is None:
        raise Http404
    void_form = AssessmentVoidForm(request.POST)
    status = 400
    if void_form.is_valid():
        try:
            with database_save(request):
                services.assessment_void(
                    assessment=assessment,
                    by=request.user,
                    reason=void_form.cleaned_data["void_reason"],
                )
        except ValidationError as exc:
            # The service names the reason ``reason``; this form, beside the entry form, cannot.
            void_form.add_error("void_reason" if hasattr(exc, "error_dict") else None, exc.messages)
        except SaveRefused as refused:
            status = refused.status
        else:
            messages.success(
                request,
                _("%(name)s of %(visit)s voided: the visit is due again.")
                % {"name": NAMES[instrument], "visit": visits.visit_label(visit)},
            )
            return redirect("followup:assessment_list", pk=patient.pk)
    form = FORMS[instrument](
        initial=assessment_initial(assessment), editing=True, language=get_language()
    )
    return _entry_page(
        request, patient, instrument, visit, assessment, form, status=status, void_form=void_form
    )


def _save(
    request: HttpRequest,
    form: AssessmentForm,
    model: type[VisitAssessment],
    patient: Patient,
    visit: str,
    allowed: tuple[str, ...],
    assessment: VisitAssessment | None,
    editing: bool,
) -> None:
    data = form.cleaned_data
    if editing and assessment is not None:
        services.assessment_update(
            assessment=assessment,
            assessed_on=data["assessed_on"],
            data=form.answers(),
            by=request.user,
            reason=data.get("reason") or "",
            expected_version=data["version"],
        )
    else:
        services.assessment_record(
            model=model,
            patient=patient,
            visit_code=visit,
            assessed_on=data["assessed_on"],
            data=form.answers(),
            allowed_visits=allowed,
            by=request.user,
        )
