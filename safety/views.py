"""Pages of the safety workflow: an alert and its acknowledgement, the safety page, the listing."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from accounts.access import role_required
from accounts.identifiers import sees_identifiers
from accounts.roles import Role
from cohort import vocabulary as voc
from config.saves import SaveRefused, database_save, form_add_errors
from safety import selectors, services
from safety.forms import AcknowledgeForm
from safety.models import SafetyAlert


def _get_alert_for_user(user: Any, pk: int) -> SafetyAlert:
    """Return an alert the user sees, or 404 (other sites' alerts do not exist for them)."""
    return get_object_or_404(selectors.alerts_for_user(user), pk=pk)


@role_required(Role.CLINICIAN, Role.DATA_MANAGER)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an alert; a clinician of the site acknowledges it here with an assessment."""
    alert = _get_alert_for_user(request.user, pk)
    may_acknowledge = alert.is_open and services.user_may_acknowledge(request.user, alert)
    effect = alert.adverse_event
    form = AcknowledgeForm(
        initial={"relation": effect.relation, "action_taken": effect.action_taken}
    )
    status = 200
    if request.method == "POST":
        if not may_acknowledge:
            raise PermissionDenied
        form = AcknowledgeForm(request.POST)
        if form.is_valid():
            try:
                with database_save(request):
                    services.alert_acknowledge(alert=alert, by=request.user, **form.cleaned_data)
                messages.success(
                    request,
                    _("Alert on %(code)s acknowledged.") % {"code": effect.call.patient.study_code},
                )
                return redirect("home")
            except SaveRefused as refused:
                status = refused.status
            except ValidationError as exc:
                form_add_errors(form, exc)
                status = 400
        else:
            status = 400
    context = {
        "alert": alert,
        "effect": effect,
        "patient": effect.call.patient,
        "form": form,
        "may_acknowledge": may_acknowledge,
        "ack_hours": settings.SAFETY_ACK_HOURS,
    }
    return render(request, "safety/safetyalert_detail.html", context, status=status)


@role_required(*selectors.SAFETY_ROLES)
def safety_page(request: HttpRequest) -> HttpResponse:
    """Show open alerts, the serious effects by criterion, relation and expectedness."""
    user: Any = request.user
    context = {
        "alerts": list(
            selectors.alerts_for_user(user)
            .filter(acknowledged_at__isnull=True)
            .order_by("raised_at")
        ),
        "sees_alerts": selectors.sees_alerts(user),
        "summary": selectors.safety_summary(user),
        "ack_hours": settings.SAFETY_ACK_HOURS,
        "now": timezone.now(),
    }
    return render(request, "safety/safety_page.html", context)


def _listing_rows(user: Any) -> tuple[list[str], list[list[Any]]]:
    """Return the labelled header and rows of the line listing of serious effects.

    Only the roles that see identifiers get the free text (a description or an assessment may
    name someone; cohort.free_text).
    """
    free_text = sees_identifiers(user)
    header = [
        _("Study code"),
        _("Site"),
        _("Call"),
        _("Date of the call"),
        _("Effect"),
        _("Severity"),
        _("Seriousness criteria"),
        _("Onset date"),
        _("Relation to ketamine"),
        _("Expected"),
        _("Action taken"),
        _("Outcome"),
        _("Resolution date"),
        _("Alert raised"),
        _("Acknowledged"),
    ]
    if free_text:
        header += [_("Description (other)"), _("Assessment")]
    rows = []
    yes_no = {True: _("Yes"), False: _("No"), None: ""}
    for ae in selectors.serious_effects_for_user(user):
        call = ae.call
        alert = getattr(ae, "safety_alert", None)
        row: list[Any] = [
            call.patient.study_code,
            call.patient.site.code,
            _(voc.label(voc.TIMEPOINTS, call.timepoint)),
            call.call_date,
            _(voc.label(voc.ADVERSE_EFFECTS, ae.type)),
            _(voc.label(voc.SEVERITIES, ae.severity)),
            "; ".join(ae.criteria_labels()),
            ae.start_date,
            _(voc.label(voc.AE_RELATIONS, ae.relation)) if ae.relation else "",
            yes_no[ae.expected],
            _(voc.label(voc.AE_ACTIONS, ae.action_taken)) if ae.action_taken else "",
            _(voc.label(voc.AE_OUTCOMES, ae.outcome)),
            ae.resolution_date,
            timezone.localtime(alert.raised_at).replace(tzinfo=None) if alert else None,
            timezone.localtime(alert.acknowledged_at).replace(tzinfo=None)
            if alert and alert.acknowledged_at
            else None,
        ]
        if free_text:
            row += [ae.other_text, alert.assessment if alert else ""]
        rows.append(row)
    return header, rows


@role_required(*selectors.SAFETY_ROLES)
def line_listing(request: HttpRequest, fmt: str) -> HttpResponse:
    """Download the line listing of serious effects, labelled, as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    header, rows = _listing_rows(request.user)
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = _("Serious adverse effects")[:31]
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        response = HttpResponse(
            data.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = (
        f'attachment; filename="serious-adverse-effects-{stamp}.{fmt}"'
    )
    return response
