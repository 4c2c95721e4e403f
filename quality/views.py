"""Pages of the queries: the list, one query with its thread, and the actions on it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.roles import Role
from cohort.selectors import sites_for_user
from config.saves import SaveRefused, database_save
from followup import selectors as followup_selectors
from followup.pages import call_page
from quality import monitoring_data, rules, selectors, services, targets
from quality.models import MonitoringSnapshot, Query

QUERY_ROLES = selectors.QUERY_ROLES


def _get_query_for_user(user: Any, pk: int) -> Query:
    """Return a query of the user's sites, or 404."""
    return get_object_or_404(selectors.queries_for_user(user), pk=pk)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(default)


@role_required(*QUERY_ROLES)
def query_list(request: HttpRequest) -> HttpResponse:
    """List the queries, filtered by site, state, type and rule."""
    filters = {name: request.GET.get(name, "") for name in ("site", "state", "kind", "rule")}
    queries = selectors.queries_filtered(request.user, **filters)
    page = Paginator(queries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "quality/query_list.html",
        {
            "page": page,
            "filters": filters,
            "sites": sites_for_user(request.user),
            "states": Query.State.choices,
            "kinds": Query.Kind.choices,
            "rules": rules.RULES,
            "counts": selectors.counts_by_site(request.user),
        },
    )


def _render_detail(
    request: HttpRequest, query: Query, *, typed: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """Render a query's page; ``typed`` puts back what the user wrote in one of its forms."""
    target = query.target
    return render(
        request,
        "quality/query_detail.html",
        {
            "query": query,
            "thread": query.messages.select_related("by"),
            "field_label": targets.field_label(query.target_type.model_class(), query.field)
            if query.target_type.model_class()
            else query.field,
            "value_now": targets.current_value(target, query.field) if target else "",
            "can_answer": query.is_open and services.can_answer(request.user, query),
            "can_manage": services.is_data_manager(request.user),
            "typed": typed or {},
        },
        status=status,
    )


@role_required(*QUERY_ROLES)
def query_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a query, its value now, its thread and the actions the user may take."""
    return _render_detail(request, _get_query_for_user(request.user, pk))


def _query_step(request: HttpRequest, pk: int, step: Any, action: str, done: str) -> HttpResponse:
    """Take one step on a query with the text posted; keep the text if the database refuses."""
    query = _get_query_for_user(request.user, pk)
    text = request.POST.get("text", "")
    try:
        with database_save(request):
            step(query=query, text=text, by=request.user)
        messages.success(request, done)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except SaveRefused as refused:
        query.refresh_from_db()
        return _render_detail(request, query, typed={action: text}, status=refused.status)
    return _back(request, reverse("quality:query_detail", args=[query.pk]))


@require_POST
@role_required(Role.DATA_MANAGER)
def query_raise(request: HttpRequest, call_pk: int) -> HttpResponse:
    """Raise a query on a value shown on a call page."""
    call = get_object_or_404(followup_selectors.calls_for_user(request.user), pk=call_pk)
    try:
        with database_save(request):
            model, pk, field = targets.parse_choice(request.POST.get("target", ""))
            allowed = {
                choice for _head, group in targets.targets_of_call(call) for choice, _l in group
            }
            if f"{targets.KIND_OF_MODEL[model]}:{pk}:{field}" not in allowed:
                raise ValidationError({"target": _("This value is not on this call's page.")})
            kind = request.POST.get("kind", "")
            if kind not in Query.Kind.values:
                raise ValidationError({"kind": _("Choose the type of the query.")})
            services.query_raise(
                target=model._default_manager.get(pk=pk),
                field=field,
                kind=kind,
                text=request.POST.get("text", ""),
                by=request.user,
            )
        messages.success(request, _("Query raised."))
    except (ValidationError, SaveRefused) as exc:
        # The page again, the query as typed, each problem beside its field.
        typed = {name: request.POST.get(name, "") for name in ("target", "kind", "text")}
        status, problems = 503, {}
        if isinstance(exc, ValidationError):
            status = 400
            problems = {
                name if name in typed else "text": " ".join(texts)
                for name, texts in exc.message_dict.items()
            }
        call = get_object_or_404(followup_selectors.calls_for_user(request.user), pk=call_pk)
        return call_page(request, call, status=status, raise_typed=typed, raise_errors=problems)
    return redirect("followup:call_entry", pk=call.pk)


@require_POST
@role_required(Role.NURSE, Role.CLINICIAN)
def query_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer an open query in words."""
    return _query_step(
        request, pk, services.query_answer, "answer", _("Answer sent to the data manager.")
    )


@require_POST
@role_required(Role.DATA_MANAGER)
def query_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a query."""
    return _query_step(request, pk, services.query_close, "close", _("Query closed."))


@require_POST
@role_required(Role.DATA_MANAGER)
def query_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Reopen a query with what is still wrong."""
    return _query_step(request, pk, services.query_reopen, "reopen", _("Query reopened."))


@role_required(Role.DATA_MANAGER, Role.STATISTICIAN)
def monitoring_page(request: HttpRequest) -> HttpResponse:
    """Compare the sites' completeness, timeliness and answers (central monitoring, read only).

    The worker computes the monitoring with each analysis run; the page reads the newest.
    """
    snapshot = MonitoringSnapshot.objects.order_by("-computed_at", "-pk").first()
    if snapshot is None:
        return render(request, "quality/monitoring.html", {"snapshot": None})
    context = monitoring_data.page_context(snapshot.result)
    context["snapshot"] = snapshot
    return render(request, "quality/monitoring.html", context)
