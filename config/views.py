"""Project-wide views: the home page by role and the health check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults, i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.identifiers import sees_identifiers
from accounts.roles import Role
from analytics.tasks import HEARTBEAT_KEY
from cohort import vocabulary as voc
from cohort.selectors import (
    followups_awaiting_signature,
    followups_ready_to_lock,
    patients_for_user,
    sites_for_user,
)
from config.cache import cache_reachable
from followup.pages import worklist_context
from followup.selectors import (
    call_counts_for_user,
    flagged_calls_for_user,
    lost_proposals_for_user,
    status_counts_for_user,
)
from quality.selectors import counts_by_site, open_queries_for_user
from safety.selectors import open_alerts_for_user, sees_alerts

# Locked follow-ups listed on a clinician's home page (the patient list has them all).
SIGN_ROWS = 20
# Flagged calls per page of a clinician's home page.
FLAGGED_ROWS = 25


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the user's work: nurses their calls to make, clinicians the calls to review."""
    user: Any = request.user
    today = timezone.localdate()
    patients = patients_for_user(user)
    context = {
        "roles": sorted(role.value for role in user.roles),
        "role_labels": [_(dict(voc.ROLES)[role.value]) for role in sorted(user.roles)],
        "sites": sites_for_user(user),
        "patient_count": patients.count(),
        "active_count": patients.filter(status="active").count(),
        "call_counts": call_counts_for_user(user, today=today),
        "status_counts": status_counts_for_user(user),
        "today": today,
        "is_data_manager": user.has_role(Role.DATA_MANAGER) or user.is_superuser,
        "worklist": None,
        "can_enrol": sees_identifiers(user) or user.has_role(Role.DATA_MANAGER),
        "flagged_calls": None,
    }
    if sees_alerts(user):
        # Above everything else: the alerts of the user's sites (escalated ones for data managers).
        context["safety_alerts"] = list(open_alerts_for_user(user))
        context["can_acknowledge"] = user.has_role(Role.CLINICIAN)
        context["ack_hours"] = settings.SAFETY_ACK_HOURS
    if user.has_role(Role.NURSE):
        context.update(worklist_context(request))
    if user.has_role(Role.CLINICIAN):
        flagged = Paginator(flagged_calls_for_user(user), FLAGGED_ROWS)
        context["flagged_calls"] = flagged.get_page(request.GET.get("page_flagged"))
    # Queries: the site staff see those to answer, data managers the counts per site and state.
    if user.has_role(Role.NURSE) or user.has_role(Role.CLINICIAN):
        context["open_queries"] = open_queries_for_user(user)
    if context["is_data_manager"]:
        context["query_counts"] = counts_by_site(user)
        context["ready_to_lock"] = followups_ready_to_lock(user).count()
        context["lost_proposal_count"] = len(lost_proposals_for_user(user))
    if user.has_role(Role.CLINICIAN):
        context["awaiting_signature"] = list(followups_awaiting_signature(user)[:SIGN_ROWS])
    return render(request, "home.html", context)


def _worker_state() -> str:
    beat = cache.get(HEARTBEAT_KEY)
    if not beat:
        return "unknown: no heartbeat yet"
    age = (timezone.now() - dt.datetime.fromisoformat(beat["at"])).total_seconds()
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return f"stale: last heartbeat {int(age)} s ago"
    return "ok"


def _broker_state() -> str:
    """Say whether the Celery broker accepts a connection (2 s at most)."""
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _analysis_state() -> str:
    """Describe the newest analysis and any run waiting longer than the maximum wait."""
    from analytics.models import AnalysisRun

    runs = AnalysisRun.objects.defer("report", "summary")
    waiting = runs.filter(status=AnalysisRun.Status.QUEUED).first()
    limit = settings.ANALYSIS_MAX_WAIT_SECONDS + settings.ANALYSIS_REDISPATCH_SECONDS
    if waiting and (timezone.now() - waiting.requested_at).total_seconds() > limit:
        return f"stalled: run {waiting.pk} waiting since {waiting.requested_at.isoformat()}"
    good = runs.filter(status=AnalysisRun.Status.SUCCEEDED).order_by("-finished_at").first()
    last = runs.exclude(status=AnalysisRun.Status.QUEUED).order_by("-pk").first()
    if last is not None and last.status == AnalysisRun.Status.FAILED:
        return f"last run {last.pk} failed; results of run {good.pk if good else 'none'} shown"
    if good is None:
        return "no results yet"
    return f"ok: run {good.pk} finished {good.finished_at.isoformat()}"


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Report the database, cache, broker, worker and analysis state as JSON.

    503 names what is down when the database, the shared cache or the broker does not answer
    (``down``); pages keep working without the cache, but the site is not healthy. A worker
    without a recent heartbeat while a run waits makes the status "degraded" (200): data are
    safe, analyses are late.
    """
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["cache"] = "ok" if cache_reachable() else "error: unreachable"
    checks["worker"] = _worker_state() if checks["cache"] == "ok" else "unknown: cache unreachable"
    checks["broker"] = _broker_state()
    if checks["database"] == "ok":
        checks["analysis"] = _analysis_state()
    down = [name for name in ("database", "cache", "broker") if checks[name] != "ok"]
    status = "error" if down else "ok"
    if not down and checks["worker"] != "ok" and _run_waiting():
        status = "degraded"
        down = ["worker"]
    return JsonResponse(
        {"status": status, "down": down, "checks": checks},
        status=503 if status == "error" else 200,
    )


def _run_waiting() -> bool:
    from analytics.models import AnalysisRun

    waiting = (AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING)
    return AnalysisRun.objects.filter(status__in=waiting).exists()


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _error_page(request: HttpRequest, status: int, title: str, explanation: str) -> HttpResponse:
    """Render an error in the site's layout and language, with a way back."""
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else ""
    context = {"title": title, "explanation": explanation, "status": status, "back": back}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Refuse a malformed or oversized request: JSON under /api/, a page elsewhere."""
    if isinstance(exception, RequestDataTooBig):
        detail = _("The request is larger than this server accepts.")
        if _is_api(request):
            return JsonResponse({"detail": detail}, status=413)
        return _error_page(request, 413, _("Too large"), detail)
    if _is_api(request):
        return JsonResponse({"detail": _("Bad request.")}, status=400)
    return _error_page(
        request,
        400,
        _("Bad request"),
        _("The page could not understand what your browser sent. Go back and try again."),
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Say that the user's role does not open this page, in the site's layout."""
    if _is_api(request):
        return JsonResponse({"detail": _("You do not have permission.")}, status=403)
    return _error_page(
        request,
        403,
        _("Not for your role"),
        _(
            "Your role does not open this page. The home page lists what you can do; "
            "ask a data manager if you need more."
        ),
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer an unknown address: JSON under /api/, as the API's own 404s are; a page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return _error_page(
        request,
        404,
        _("Page not found"),
        _("There is no such page, or it belongs to a site you do not work for."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Apologise for an error of the server, without touching the database."""
    if _is_api(request):
        return JsonResponse({"detail": _("Server error.")}, status=500)
    try:
        return render(
            request,
            "error.html",
            {
                "title": _("Something went wrong"),
                "explanation": _(
                    "The server could not finish this page. Nothing was saved by it; the team "
                    "has the details. Try again in a moment."
                ),
                "status": 500,
            },
            status=500,
        )
    except Exception:  # the page itself failed (the database is down): plain words then
        return defaults.server_error(request)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language from the header: for the session, and as a signed-in user's choice."""
    from accounts.services import user_set_language

    response = i18n.set_language(request)
    chosen = request.POST.get("language", "")
    user: Any = request.user
    if user.is_authenticated and chosen in {code for code, _name in settings.LANGUAGES}:
        user_set_language(user=user, language=chosen)
    return response
