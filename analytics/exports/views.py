"""Downloads of the study data for statisticians and data managers (no identifiers, ever)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.roles import Role
from analytics.exports import dictionary, snapshots, writers
from analytics.exports import variables as var
from analytics.exports.responses import download_response, export_study, study_downloads
from analytics.exports.services import export_log_record
from analytics.models import ExportLog
from cohort.selectors import studies_for_user
from cohort.studies import FIRST_STUDY_CODE

EXPORT_ROLES = frozenset({Role.STATISTICIAN, Role.DATA_MANAGER})


def may_export(user: Any) -> bool:
    """Say whether a user may download the study data."""
    return bool(user.is_superuser or (user.roles & EXPORT_ROLES))


def export_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let statisticians and data managers in; refuse everyone else signed in with 403."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_export(request.user):
            raise PermissionDenied("Exports are for statisticians and data managers.")
        return view(request, *args, **kwargs)

    return login_required(checked)


@require_GET
@export_staff_required
def export_list(request: HttpRequest) -> HttpResponse:
    """List the downloads: per study the user sees, each of its layouts in each format; the
    dictionary; the last exports."""
    # The first study first, as on the analysis dashboard; the others by code.
    seen = sorted(
        studies_for_user(request.user).order_by("code"),
        key=lambda study: study.code != FIRST_STUDY_CODE,
    )
    studies = [{"study": study, "downloads": study_downloads(study.protocol)} for study in seen]
    recent = ExportLog.objects.select_related("user")[:10]
    context = {
        "studies": studies,
        "formats": writers.FORMATS,
        "recent": recent,
        "snapshot_seconds": snapshots.max_age(),
    }
    return render(request, "analytics/export_list.html", context)


@require_GET
@export_staff_required
def export_download(request: HttpRequest, layout: str, fmt: str) -> HttpResponse:
    """Send one layout in one format; CSV is streamed chunk by chunk."""
    if layout not in var.LAYOUTS or fmt not in writers.FORMATS:
        raise Http404("No such export.")
    items = layout == "long" and request.GET.get("items") == "1"
    study = export_study(request.user, layout, request.GET.get("study"))
    return download_response(
        user=request.user,
        layout=layout,
        fmt=fmt,
        items=items,
        source=ExportLog.Source.WEB,
        study=study,
    )


@require_GET
@export_staff_required
def export_dictionary(request: HttpRequest, fmt: str) -> HttpResponse:
    """Send the data dictionary as CSV or HTML."""
    if fmt == "html":
        response = HttpResponse(dictionary.dictionary_html())
    elif fmt == "csv":
        response = HttpResponse(content_type=writers.CONTENT_TYPES["csv"])
        response["Content-Disposition"] = 'attachment; filename="ketamine_dictionary.csv"'
        dictionary.write_dictionary_csv(response)
    else:
        raise Http404("No such dictionary format.")
    export_log_record(
        by=request.user,
        source=ExportLog.Source.WEB,
        layout="dictionary",
        fmt=fmt,
        rows=len(dictionary.dictionary_frame()),
    )
    return response
