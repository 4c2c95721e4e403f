"""The page of the depression study's baseline: recorded, then corrected with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.access import DATA_ENTRY_ROLES, role_required
from cohort.models import Patient
from cohort.selectors import patients_for_user
from config.saves import SaveRefused, database_save, form_add_errors
from followup import services
from followup.baseline_forms import DepressionBaselineForm, baseline_initial
from followup.models import DepressionBaseline
from followup.pages import error_summary


def _get_patient_for_user(user: object, pk: int) -> Patient:
    """Return a patient of the user's sites, or 404 (other sites' patients do not exist)."""
    return get_object_or_404(patients_for_user(user), pk=pk)


@role_required(*DATA_ENTRY_ROLES)
def depression_baseline_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter the patient's depression baseline, or correct it with a reason."""
    patient = _get_patient_for_user(request.user, pk)
    if not patient.study.protocol.collects_depression_baseline:
        raise Http404
    row = DepressionBaseline.objects.filter(patient=patient).first()
    # A form posted without a version is a new baseline: if the patient has one meanwhile (a
    # second submission), the service refuses it and the input stays on the page.
    editing = row is not None and (request.method != "POST" or "version" in request.POST)
    initial = baseline_initial(row) if row is not None and editing else {}
    form = DepressionBaselineForm(request.POST or None, editing=editing, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                with database_save(request):
                    services.depression_baseline_save(
                        patient=patient,
                        by=request.user,
                        reason=form.cleaned_data.get("reason") or "",
                        expected_version=form.cleaned_data.get("version"),
                        **form.answers(),
                    )
            except ValidationError as exc:
                form_add_errors(form, exc)
            except services.StaleAssessmentError as exc:
                form.add_error(None, str(exc))
                status = 409
            except SaveRefused as refused:
                status = refused.status
            else:
                messages.success(request, _("Depression baseline saved."))
                return redirect("cohort:patient_detail", pk=patient.pk)
    context = {
        "patient": patient,
        "baseline": row,
        "form": form,
        "lock": patient.current_lock(),
        "error_summary": error_summary(form),
    }
    return render(request, "followup/depressionbaseline_entry.html", context, status=status)
